/**
 * LVM wrappers: argv builders for the commands that change things, and queries whose parsers
 * validate `--reportformat json` output.
 *
 * NOTE(lvm 2.03.16): every JSON value is a string, even with `--units b --nosuffix`; sizes can carry
 * a trailing space (`"0 "`), and percentages of an inactive pool are empty strings.
 */
import * as z from 'zod/mini';
import '../zod-locale.js';
import type { Argv, Query } from './exec.js';

const reportOptions = ['--reportformat', 'json', '--units', 'b', '--nosuffix'] as const;

/** `"2122317824"`, `"0 "` → bytes. */
const trimmed = () => z.pipe(z.string(), z.transform((s: string) => s.trim()));
const bytes = z.pipe(z.pipe(trimmed(), z.string().check(z.regex(/^\d+$/, 'expected a byte count'))), z.transform((s: string) => Number(s)));
const count = bytes;
/** `""` (after trimming) → undefined, else the text must match `re` and becomes a number. */
const emptyOrNumber = (re: RegExp) =>
  z.union([z.pipe(z.literal(''), z.transform(() => undefined)), z.pipe(z.string().check(z.regex(re)), z.transform((s: string) => Number(s)))]);
/** `"10.40"` → 10.4; `""` (inactive LV) → undefined. */
const percent = z.pipe(trimmed(), emptyOrNumber(/^\d+(\.\d+)?$/));
const optionalText = z.pipe(z.string(), z.transform((s: string) => (s.trim() === '' ? undefined : s.trim())));
const optionalCount = z.pipe(trimmed(), emptyOrNumber(/^\d+$/));

function report<T extends z.ZodMiniType>(key: 'pv' | 'vg' | 'lv' | 'seg', row: T) {
  const json = z.pipe(
    z.string(),
    z.transform((text: string, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.issues.push({ code: 'custom', message: 'not JSON', input: text });
        return z.NEVER;
      }
    }),
  );
  return z.pipe(
    z.pipe(json, z.object({ report: z.array(z.object({ [key]: z.array(row) })).check(z.minLength(1)) })),
    z.transform((r: { report: Array<Record<string, z.output<T>[]>> }) => r.report.flatMap((part) => part[key] ?? [])),
  );
}

// ---------------------------------------------------------------- physical volumes

export interface PhysicalVolume {
  /** Device path as LVM names it, e.g. `/dev/xvdf`. */
  name: string;
  /** The VG it belongs to; undefined for an orphan PV. */
  vgName: string | undefined;
  sizeBytes: number;
  freeBytes: number;
}

const pvFields = ['pv_name', 'vg_name', 'pv_size', 'pv_free', 'pv_attr'] as const;
const PvRow = z.object({ pv_name: z.string().check(z.minLength(1)), vg_name: z.string(), pv_size: bytes, pv_free: bytes, pv_attr: z.string() });

/**
 * Every PV. With `allDevices` (lvm ≥ 2.03.12, see `supportsDevicesFile`), `--devicesfile ""` lifts
 * the devices-file filter: where `devices/use_devicesfile = 1` (RHEL 9's default) a plain `pvs`
 * hides every PV not listed in /etc/lvm/devices/system.devices — a PV of another VG among them.
 */
export function pvsQuery(options: { allDevices?: boolean } = {}): Query<PhysicalVolume[]> {
  return {
    argv: ['pvs', ...(options.allDevices ? ['--devicesfile', ''] : []), ...reportOptions, '-o', pvFields.join(',')],
    parse: (stdout) =>
      report('pv', PvRow)
        .parse(stdout)
        .map((r) => ({ name: r.pv_name, vgName: r.vg_name.trim() || undefined, sizeBytes: r.pv_size, freeBytes: r.pv_free })),
  };
}

// ---------------------------------------------------------------- version

export interface LvmVersion {
  major: number;
  minor: number;
  patch: number;
  /** The version as lvm printed it, e.g. `2.03.16(2) (2022-05-18)`. */
  text: string;
}

/** `lvm version`'s first line, `  LVM version:     2.03.16(2) (2022-05-18)`; anything else fails the probe. */
export function lvmVersionQuery(): Query<LvmVersion> {
  return {
    argv: ['lvm', 'version'],
    parse: (stdout) => {
      const m = /^\s*LVM version:\s*((\d+)\.(\d+)\.(\d+)\S*(?: .*)?)$/m.exec(stdout);
      if (!m) throw new Error('no "LVM version: X.Y.Z" line');
      return { major: Number(m[2]), minor: Number(m[3]), patch: Number(m[4]), text: m[1]!.trim() };
    },
  };
}

/** LVM's devices file (and `--devicesfile`) arrived in lvm2 2.03.12; older lvm rejects the option. */
export function supportsDevicesFile(v: LvmVersion): boolean {
  return v.major > 2 || (v.major === 2 && (v.minor > 3 || (v.minor === 3 && v.patch >= 12)));
}

// ---------------------------------------------------------------- volume groups

export interface VolumeGroup {
  name: string;
  sizeBytes: number;
  freeBytes: number;
  extentSizeBytes: number;
  extentCount: number;
  freeExtentCount: number;
  pvCount: number;
  lvCount: number;
}

const vgFields = ['vg_name', 'vg_attr', 'vg_size', 'vg_free', 'vg_extent_size', 'vg_extent_count', 'vg_free_count', 'pv_count', 'lv_count'] as const;
const VgRow = z.object({
  vg_name: z.string().check(z.minLength(1)),
  vg_attr: z.string(),
  vg_size: bytes,
  vg_free: bytes,
  vg_extent_size: bytes,
  vg_extent_count: count,
  vg_free_count: count,
  pv_count: count,
  lv_count: count,
});

export function vgsQuery(): Query<VolumeGroup[]> {
  return {
    argv: ['vgs', ...reportOptions, '-o', vgFields.join(',')],
    parse: (stdout) =>
      report('vg', VgRow)
        .parse(stdout)
        .map((r) => ({
          name: r.vg_name,
          sizeBytes: r.vg_size,
          freeBytes: r.vg_free,
          extentSizeBytes: r.vg_extent_size,
          extentCount: r.vg_extent_count,
          freeExtentCount: r.vg_free_count,
          pvCount: r.pv_count,
          lvCount: r.lv_count,
        })),
  };
}

// ---------------------------------------------------------------- logical volumes

/** `lv_attr` decoded (lvs(8)): only the characters dmctl acts on. */
export interface LvAttributes {
  raw: string;
  /** Char 1 `t`: a thin pool. */
  isThinPool: boolean;
  /** Char 1 `V`: a thin volume. */
  isThinVolume: boolean;
  /** Char 5 `a` (or `c`/`C`, check needed while active). */
  active: boolean;
  /** Char 5 `s`/`C`: suspended. */
  suspended: boolean;
  /** Char 5 `c`/`C`: thin-pool check needed. */
  checkNeeded: boolean;
  /** Char 6 `o`: open. */
  open: boolean;
  /** Char 9: `F` failed, `D` out of data space, `M` metadata read-only. */
  health: 'ok' | 'failed' | 'out-of-data-space' | 'metadata-read-only' | 'partial' | 'unknown';
  /** Char 10 `k`: skip activation (activate with `-K`). */
  skipActivation: boolean;
}

export function decodeLvAttr(attr: string): LvAttributes {
  const at = (i: number) => attr.charAt(i);
  const healthChar = at(8);
  const health: LvAttributes['health'] =
    healthChar === 'F' ? 'failed'
    : healthChar === 'D' ? 'out-of-data-space'
    : healthChar === 'M' ? 'metadata-read-only'
    : healthChar === 'p' ? 'partial'
    : healthChar === 'X' ? 'unknown'
    : 'ok';
  return {
    raw: attr,
    isThinPool: at(0) === 't',
    isThinVolume: at(0) === 'V',
    active: ['a', 'c', 'C', 's'].includes(at(4)),
    suspended: at(4) === 's' || at(4) === 'C',
    checkNeeded: at(4) === 'c' || at(4) === 'C',
    open: at(5) === 'o',
    health,
    skipActivation: at(9) === 'k',
  };
}

export interface LogicalVolume {
  vgName: string;
  name: string;
  attr: LvAttributes;
  sizeBytes: number;
  /** `thin-pool`, `thin`, `linear`, … */
  segtype: string;
  /** For thin volumes: their pool. */
  poolLv: string | undefined;
  /** Data use in percent; undefined when the LV is inactive. */
  dataPercent: number | undefined;
  metadataPercent: number | undefined;
  /** Thin pools: size of the metadata LV. */
  metadataSizeBytes: number | undefined;
  chunkSizeBytes: number;
  transactionId: number | undefined;
  /** `monitored`, `not monitored`, or undefined (not applicable / inactive). */
  monitor: string | undefined;
  profile: string | undefined;
  /** Thin pools: `queue` or `error`. */
  whenFull: string | undefined;
  healthStatus: string | undefined;
  /** `/dev/mapper/VG-LV`: the dm name consumers need. */
  dmPath: string;
  vgFreeBytes: number;
  vgExtentSizeBytes: number;
}

const lvFields = [
  'vg_name', 'lv_name', 'lv_attr', 'lv_size', 'segtype', 'pool_lv', 'data_percent', 'metadata_percent',
  'lv_metadata_size', 'chunk_size', 'transaction_id', 'seg_monitor', 'lv_profile', 'lv_when_full',
  'lv_health_status', 'lv_dm_path', 'vg_free', 'vg_extent_size',
] as const;
const LvRow = z.object({
  vg_name: z.string().check(z.minLength(1)),
  lv_name: z.string().check(z.minLength(1)),
  lv_attr: z.string().check(z.minLength(10)),
  lv_size: bytes,
  segtype: z.string(),
  pool_lv: optionalText,
  data_percent: percent,
  metadata_percent: percent,
  lv_metadata_size: optionalCount,
  chunk_size: bytes,
  transaction_id: optionalCount,
  seg_monitor: optionalText,
  lv_profile: optionalText,
  lv_when_full: optionalText,
  lv_health_status: optionalText,
  lv_dm_path: z.string(),
  vg_free: bytes,
  vg_extent_size: bytes,
});

/** All LVs (optionally of one VG), with the thin-pool fields `status` and the planners need. */
export function lvsQuery(vg?: string): Query<LogicalVolume[]> {
  return {
    argv: ['lvs', ...reportOptions, '-o', lvFields.join(','), ...(vg ? [vg] : [])],
    parse: (stdout) =>
      report('lv', LvRow)
        .parse(stdout)
        .map((r) => ({
          vgName: r.vg_name,
          name: r.lv_name,
          attr: decodeLvAttr(r.lv_attr),
          sizeBytes: r.lv_size,
          segtype: r.segtype,
          poolLv: r.pool_lv,
          dataPercent: r.data_percent,
          metadataPercent: r.metadata_percent,
          metadataSizeBytes: r.lv_metadata_size,
          chunkSizeBytes: r.chunk_size,
          transactionId: r.transaction_id,
          monitor: r.seg_monitor,
          profile: r.lv_profile,
          whenFull: r.lv_when_full,
          healthStatus: r.lv_health_status,
          dmPath: r.lv_dm_path,
          vgFreeBytes: r.vg_free,
          vgExtentSizeBytes: r.vg_extent_size,
        })),
  };
}

/** `seg_monitor` of one LV, for the verify step after `lvchange --monitor y`. */
export function segMonitorArgv(vg: string, lv: string): Argv {
  return lvFieldArgv(vg, lv, 'seg_monitor');
}

/** One report field of one LV, bare (no heading; sizes in bytes without suffix): for verify steps. */
export function lvFieldArgv(vg: string, lv: string, field: 'seg_monitor' | 'segtype' | 'lv_size' | 'lv_metadata_size'): Argv {
  const bytes = field === 'lv_size' || field === 'lv_metadata_size' ? ['--units', 'b', '--nosuffix'] : [];
  return ['lvs', '--noheadings', ...bytes, '-o', field, `${vg}/${lv}`];
}

export interface LvmThinConfig {
  /** `config/profile_dir` (default /etc/lvm/profile). */
  profileDir: string;
  /** lvm.conf's own `activation/thin_pool_autoextend_threshold`: applies to pools without a profile. */
  threshold: number;
  percent: number;
}

/** The profile directory and lvm.conf's global autoextend settings, in one call. */
export function lvmThinConfigQuery(): Query<LvmThinConfig> {
  return {
    argv: ['lvmconfig', '--typeconfig', 'full', 'config/profile_dir', 'activation/thin_pool_autoextend_threshold', 'activation/thin_pool_autoextend_percent'],
    parse: (stdout) => {
      const value = (key: string) => new RegExp(`^\\s*${key}\\s*=\\s*"?([^"\\n]*)"?\\s*$`, 'm').exec(stdout)?.[1];
      return z
        .object({ profileDir: z.string().check(z.startsWith('/')), threshold: z.coerce.number().check(z.int()), percent: z.coerce.number().check(z.int()) })
        .parse({ profileDir: value('profile_dir'), threshold: value('thin_pool_autoextend_threshold'), percent: value('thin_pool_autoextend_percent') });
    },
  };
}

// ---------------------------------------------------------------- where a new PV's first extent goes

/**
 * The lvm.conf settings that decide where `pvcreate` puts a PV's first extent (lib/metadata/metadata.c
 * `set_pe_align`, `set_pe_align_offset`; lib/format_text/format-text.c `_text_pv_initialise`,
 * `_text_pv_add_metadata_area`). Sizes as lvm.conf has them: `data_alignment` in KiB,
 * `default_data_alignment` in MiB, `pvmetadatasize` in sectors (undefined: lvm's default).
 */
export interface PvLayoutConfig {
  dataAlignmentKiB: number;
  defaultDataAlignmentMiB: number;
  dataAlignmentDetection: boolean;
  dataAlignmentOffsetDetection: boolean;
  mdChunkAlignment: boolean;
  pvMetadataCopies: number;
  pvMetadataSizeSectors?: number;
}

const layoutKeys = {
  dataAlignmentKiB: 'devices/data_alignment',
  defaultDataAlignmentMiB: 'devices/default_data_alignment',
  dataAlignmentDetection: 'devices/data_alignment_detection',
  dataAlignmentOffsetDetection: 'devices/data_alignment_offset_detection',
  mdChunkAlignment: 'devices/md_chunk_alignment',
  pvMetadataCopies: 'metadata/pvmetadatacopies',
  pvMetadataSizeSectors: 'metadata/pvmetadatasize',
} as const;

/** The PV layout settings in one call (`pvmetadatasize` is printed only when lvm.conf sets it). */
export function pvLayoutConfigQuery(): Query<PvLayoutConfig> {
  return {
    argv: ['lvmconfig', '--typeconfig', 'full', ...Object.values(layoutKeys)],
    parse: (stdout) => {
      const value = (key: string) => new RegExp(`^\\s*${key.split('/')[1]}\\s*=\\s*(-?\\d+)\\s*$`, 'm').exec(stdout)?.[1];
      const int = z.coerce.number().check(z.int(), z.nonnegative());
      const flag = z.pipe(z.enum(['0', '1']), z.transform((v: '0' | '1') => v === '1'));
      const raw = z
        .object({
          dataAlignmentKiB: int, defaultDataAlignmentMiB: int, dataAlignmentDetection: flag, dataAlignmentOffsetDetection: flag,
          mdChunkAlignment: flag, pvMetadataCopies: int, pvMetadataSizeSectors: z.optional(int),
        })
        .parse(Object.fromEntries(Object.entries(layoutKeys).map(([field, key]) => [field, value(key)])));
      return raw;
    },
  };
}

// ---------------------------------------------------------------- where a pool's metadata starts

/** Block 0 of a pool's metadata LV: on PV `pv`, at physical extent `extent`. */
export interface MetadataStart {
  pv: string;
  extent: number;
  extentSizeBytes: number;
}

const MetadataSegmentRow = z.object({ lv_name: z.string(), seg_start: count, segtype: z.string(), seg_pe_ranges: z.string(), vg_extent_size: bytes });

/**
 * Where an (inactive) pool's metadata LV, `POOL_tmeta`, begins: its first segment's PV and extent
 * (`/dev/ubda:242-243`). Undefined when that segment is not linear on a PV (mirrored, RAID, or on
 * another LV): then dmctl cannot read the superblock directly, and does not guess.
 */
export function metadataStartQuery(vg: string, pool: string): Query<MetadataStart | undefined> {
  return {
    argv: ['lvs', '-a', '--segments', ...reportOptions, '-o', 'lv_name,seg_start,segtype,seg_pe_ranges,vg_extent_size', `${vg}/${pool}_tmeta`],
    parse: (stdout) => {
      const first = report('seg', MetadataSegmentRow).parse(stdout).find((r) => r.seg_start === 0);
      const range = first?.segtype === 'linear' ? /^(\/dev\/\S+):(\d+)-\d+$/.exec(first.seg_pe_ranges.trim()) : null;
      return range ? { pv: range[1]!, extent: Number(range[2]), extentSizeBytes: first!.vg_extent_size } : undefined;
    },
  };
}

/** Where a PV's first extent starts (`pe_start`, bytes). */
export function peStartQuery(pv: string, options: { allDevices?: boolean } = {}): Query<number | undefined> {
  return {
    argv: ['pvs', ...(options.allDevices ? ['--devicesfile', ''] : []), ...reportOptions, '-o', 'pv_name,pe_start', pv],
    parse: (stdout) => report('pv', z.object({ pv_name: z.string(), pe_start: bytes })).parse(stdout).find((r) => r.pv_name === pv)?.pe_start,
  };
}

// ---------------------------------------------------------------- changes

export function pvcreateArgv(devices: readonly string[]): Argv {
  return ['pvcreate', ...devices];
}

export function vgcreateArgv(vg: string, devices: readonly string[]): Argv {
  return ['vgcreate', vg, ...devices];
}

export function vgextendArgv(vg: string, devices: readonly string[]): Argv {
  return ['vgextend', vg, ...devices];
}

/** A plain LV sized in percent of the VG, its start wiped (the guide's `lvcreate --wipesignatures y`). */
export function lvcreatePercentArgv(vg: string, lv: string, percentOfVg: number): Argv {
  return ['lvcreate', '--wipesignatures', 'y', '-n', lv, vg, '-l', `${percentOfVg}%VG`];
}

/** Turns data + metadata LVs into a thin pool; `--zero n`: Docker and containerd zero what they use. */
export function lvconvertThinPoolArgv(vg: string, dataLv: string, metadataLv: string, chunkSizeBytes: number): Argv {
  return ['lvconvert', '-y', '--zero', 'n', '-c', `${chunkSizeBytes / 1024}K`, '--thinpool', `${vg}/${dataLv}`, '--poolmetadata', `${vg}/${metadataLv}`];
}

export function lvchangeProfileArgv(vg: string, lv: string, profile: string): Argv {
  return ['lvchange', '--metadataprofile', profile, `${vg}/${lv}`];
}

export function lvchangeMonitorArgv(vg: string, lv: string): Argv {
  return ['lvchange', '--monitor', 'y', `${vg}/${lv}`];
}

export function lvchangeActivateArgv(vg: string, lv: string, ignoreSkipFlag: boolean): Argv {
  return ['lvchange', '-ay', ...(ignoreSkipFlag ? ['-K'] : []), `${vg}/${lv}`];
}

/** Extend by a number of extents, by percent of the VG's free space, or by bytes. */
export function lvextendArgv(vg: string, lv: string, by: { extents: number } | { percentFree: number } | { bytes: number }): Argv {
  const size = 'extents' in by ? ['-l', `+${by.extents}`] : 'percentFree' in by ? ['-l', `+${by.percentFree}%FREE`] : ['-L', `+${by.bytes}b`];
  return ['lvextend', ...size, `${vg}/${lv}`];
}

export function lvextendMetadataArgv(vg: string, lv: string, addBytes: number): Argv {
  return ['lvextend', '--poolmetadatasize', `+${addBytes}b`, `${vg}/${lv}`];
}

/** The autoextend profile dmeventd reads (`lvmthin(7)`). */
export function autoextendProfileContent(threshold: number, percent: number): string {
  return `# Written by dmctl: autoextend for a thin pool (lvmthin(7)). dmeventd must monitor the pool.\nactivation {\n\tthin_pool_autoextend_threshold = ${threshold}\n\tthin_pool_autoextend_percent = ${percent}\n}\n`;
}

/** Reads threshold/percent back out of a profile (ours or Docker's). */
export function parseAutoextendProfile(content: string): { threshold?: number; percent?: number } {
  const get = (key: string) => {
    const m = new RegExp(`^\\s*${key}\\s*=\\s*(\\d+)\\s*$`, 'm').exec(content);
    return m ? Number(m[1]) : undefined;
  };
  return { threshold: get('thin_pool_autoextend_threshold'), percent: get('thin_pool_autoextend_percent') };
}

/** The device-mapper name LVM gives VG/LV: hyphens doubled, joined by one hyphen. */
export function lvmDmName(vg: string, lv: string): string {
  return `${vg.replace(/-/g, '--')}-${lv.replace(/-/g, '--')}`;
}
