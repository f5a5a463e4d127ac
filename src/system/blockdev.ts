/**
 * Block-device facts: `lsblk --json` (type, size, mountpoints, children) and on-disk signatures from
 * `wipefs` (which reads the disk itself, so it works without a udev database, unlike lsblk's FSTYPE).
 */
import * as z from 'zod/mini';
import '../zod-locale.js';
import type { Argv, Query } from './exec.js';

export interface BlockDevice {
  path: string;
  /** `disk`, `part`, `loop`, `lvm`, `raid1`, `crypt`, … */
  type: string;
  sizeBytes: number;
  mountpoints: string[];
  /** Partitions and holders (LVs, RAID, crypt) stacked on this device. */
  children: BlockDevice[];
}

interface RawNode {
  name: string;
  type: string;
  size: number | string;
  mountpoint?: string | null;
  children?: RawNode[];
}
// NOTE(util-linux): MOUNTPOINT (not 2.37's MOUNTPOINTS) works on every version still in use, and
// util-linux before 2.33 prints numbers as JSON strings.
const RawNodeSchema: z.ZodMiniType<RawNode> = z.lazy(() =>
  z.object({
    name: z.string(),
    type: z.string(),
    size: z.union([z.number().check(z.int(), z.nonnegative()), z.string().check(z.regex(/^\d+$/))]),
    mountpoint: z.optional(z.nullable(z.string())),
    children: z.optional(z.array(RawNodeSchema)),
  }),
);

function toDevice(n: RawNode): BlockDevice {
  return {
    path: n.name,
    type: n.type,
    sizeBytes: Number(n.size),
    mountpoints: n.mountpoint ? [n.mountpoint] : [],
    children: (n.children ?? []).map(toDevice),
  };
}

/** Facts about the named devices. lsblk exits 32 when a device does not exist: the caller checks first. */
export function lsblkQuery(devices: readonly string[]): Query<BlockDevice[]> {
  return {
    argv: ['lsblk', '--json', '--bytes', '--paths', '-o', 'NAME,TYPE,SIZE,MOUNTPOINT', ...devices],
    parse: (stdout) =>
      z.object({ blockdevices: z.array(RawNodeSchema) }).parse(JSON.parse(stdout)).blockdevices.map(toDevice),
  };
}

/** A device's I/O hints (sysfs queue/minimum_io_size, queue/optimal_io_size, alignment_offset), bytes. */
export interface IoHints {
  path: string;
  minIoBytes: number;
  optIoBytes: number;
  /** The kernel's alignment_offset; -1 when it says the device is misaligned. */
  alignmentOffsetBytes: number;
}

const ioNumber = z.union([z.number().check(z.int()), z.pipe(z.string().check(z.regex(/^-?\d+$/)), z.transform((v: string) => Number(v)))]);
const IoRow = z.object({ name: z.string(), 'min-io': ioNumber, 'opt-io': ioNumber, alignment: ioNumber });

/** The I/O hints LVM's data alignment follows (lsblk reads the same sysfs files LVM does). */
export function ioHintsQuery(devices: readonly string[]): Query<IoHints[]> {
  return {
    argv: ['lsblk', '--json', '--bytes', '--paths', '--nodeps', '-o', 'NAME,MIN-IO,OPT-IO,ALIGNMENT', ...devices],
    parse: (stdout) =>
      z.object({ blockdevices: z.array(IoRow) }).parse(JSON.parse(stdout)).blockdevices.map((r) => ({
        path: r.name,
        minIoBytes: r['min-io'],
        optIoBytes: r['opt-io'],
        alignmentOffsetBytes: r.alignment,
      })),
  };
}

export interface Signature {
  /** Device name as wipefs prints it (`loop0`, `xvdf`). */
  device: string;
  /** `ext4`, `xfs`, `LVM2_member`, `linux_raid_member`, `dos`, `gpt`, … */
  type: string;
  offset: string;
}

const WipefsSchema = z.object({
  signatures: z.array(z.object({ device: z.string(), offset: z.string(), type: z.string() })),
});

/** Lists signatures without erasing anything (`--no-act`). */
export function wipefsListQuery(device: string): Query<Signature[]> {
  return {
    argv: ['wipefs', '--no-act', '--json', device],
    // NOTE(util-linux 2.38): a device without signatures prints an empty list, older versions print nothing.
    parse: (stdout) => (stdout.trim() === '' ? [] : WipefsSchema.parse(JSON.parse(stdout)).signatures),
  };
}

/** Erases every signature on the device: destructive. */
export function wipefsAllArgv(device: string): Argv {
  return ['wipefs', '-a', device];
}
