/** losetup wrappers: list attached loop devices (`--json`), attach a file, re-read a file's size. */
import * as z from 'zod/mini';
import '../zod-locale.js';
import type { Argv, Query } from './exec.js';

export interface LoopDevice {
  /** `/dev/loop0` */
  name: string;
  /** Backing file; undefined when the file was deleted or is unknown. */
  backingFile: string | undefined;
  /** `7:0` */
  majorMinor: string;
  offset: number;
  sizeLimit: number;
  readOnly: boolean;
}

// NOTE(util-linux < 2.33, e.g. RHEL 8's 2.32.1): every value is a JSON string ("sizelimit": "0",
// "ro": "0"); 2.33+ prints numbers and booleans. Both forms are accepted, nothing looser: a string must
// be all digits, a flag "0" or "1".
const count = z.union([
  z.number().check(z.int(), z.nonnegative()),
  z.pipe(z.string().check(z.regex(/^\d+$/)), z.transform((v: string) => Number(v))),
]);
const flag = z.union([z.boolean(), z.pipe(z.enum(['0', '1']), z.transform((v: '0' | '1') => v === '1'))]);

const LosetupSchema = z.object({
  loopdevices: z.array(
    z.object({
      name: z.string(),
      'back-file': z.nullable(z.string()),
      // NOTE(util-linux 2.32-2.39): padded, e.g. "  7:0  ".
      'maj:min': z.pipe(z.string().check(z.regex(/^\s*\d+:\d+\s*$/)), z.transform((s: string) => s.trim())),
      sizelimit: count,
      offset: count,
      ro: flag,
    }),
  ),
});

export function losetupListQuery(): Query<LoopDevice[]> {
  return {
    argv: ['losetup', '--json', '--list', '-O', 'NAME,BACK-FILE,MAJ:MIN,SIZELIMIT,OFFSET,RO'],
    // No loop devices attached: losetup prints nothing at all.
    parse: (stdout) =>
      stdout.trim() === ''
        ? []
        : LosetupSchema.parse(JSON.parse(stdout)).loopdevices.map((l) => ({
            name: l.name,
            backingFile: l['back-file'] ?? undefined,
            majorMinor: l['maj:min'],
            offset: l.offset,
            sizeLimit: l.sizelimit,
            readOnly: l.ro,
          })),
  };
}

/** Detaches loop devices (a recovery when a later step of an attach fails). */
export function losetupDetachArgv(devices: readonly string[]): Argv {
  return ['losetup', '-d', ...devices];
}

/** Re-reads the backing file's size after it grew (LOOP_SET_CAPACITY). */
export function losetupSetCapacityArgv(device: string): Argv {
  return ['losetup', '-c', device];
}

/**
 * Attaches FILE to a named loop device. Naming it (instead of `--find`) keeps the plan exact: the
 * dmsetup table that follows can say which devices it uses. losetup creates the node if needed.
 */
export function losetupAttachToArgv(device: string, file: string): Argv {
  return ['losetup', device, file];
}

/** Loop devices not attached to a file: existing `/dev/loopN` nodes first, then new numbers. */
export function freeLoopDevices(devNodes: readonly string[], attached: readonly LoopDevice[], count: number): string[] {
  const used = new Set(attached.map((l) => l.name));
  const numbers = devNodes
    .map((n) => /^loop(\d+)$/.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const free = numbers.map((n) => `/dev/loop${n}`).filter((d) => !used.has(d));
  let next = Math.max(-1, ...numbers, ...attached.map((l) => Number(/(\d+)$/.exec(l.name)?.[1] ?? -1))) + 1;
  while (free.length < count) free.push(`/dev/loop${next++}`);
  return free.slice(0, count);
}
