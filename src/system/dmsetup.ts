/**
 * dmsetup wrappers. dmsetup has no JSON output, so the thin-pool table and status lines are parsed
 * here, following the kernel's thin-provisioning documentation (dm-thin.c).
 *
 * NOTE(dmsetup 1.02.185): lines end in a space; listing several devices prefixes each line with
 * `NAME: `; with no devices at all it prints `No devices found`.
 */
import * as z from 'zod/mini';
import '../zod-locale.js';
import type { Argv, Query } from './exec.js';

export const sectorBytes = 512;
/** Thin-pool metadata blocks are always 4 KiB. */
export const metadataBlockBytes = 4096;

/** `0 <len> thin-pool <meta dev> <data dev> <block sectors> <low water blocks> [<n> <feature>…]` */
export interface ThinPoolTable {
  lengthSectors: number;
  metadataDevice: string;
  dataDevice: string;
  blockSectors: number;
  lowWaterMarkBlocks: number;
  features: string[];
}

export interface ThinPoolStatus {
  transactionId: number;
  usedMetadataBlocks: number;
  totalMetadataBlocks: number;
  usedDataBlocks: number;
  totalDataBlocks: number;
  /** `rw`, `ro` (metadata read-only) or `out_of_data_space`. */
  mode: 'rw' | 'ro' | 'out_of_data_space';
  /** `queue_if_no_space` or `error_if_no_space`. */
  whenFull: 'queue' | 'error';
  needsCheck: boolean;
}

/** A pool the kernel reports as failed (`Fail`) or unreadable (`Error`). */
export interface ThinPoolFailedStatus {
  failed: true;
  text: string;
}

const int = (s: string | undefined, what: string): number => {
  if (s === undefined || !/^\d+$/.test(s)) throw new Error(`expected ${what}, got ${JSON.stringify(s)}`);
  return Number(s);
};

/** Parses a thin-pool table line (with or without its `NAME: ` prefix already removed). */
export function parseThinPoolTable(line: string): ThinPoolTable {
  const f = line.trim().split(/\s+/);
  if (f[2] !== 'thin-pool') throw new Error(`not a thin-pool table: ${line.trim()}`);
  const featureCount = f[7] === undefined ? 0 : int(f[7], 'feature count');
  return {
    lengthSectors: int(f[1], 'length'),
    metadataDevice: f[3] ?? '',
    dataDevice: f[4] ?? '',
    blockSectors: int(f[5], 'block size'),
    lowWaterMarkBlocks: int(f[6], 'low water mark'),
    features: f.slice(8, 8 + featureCount),
  };
}

export function formatThinPoolTable(t: ThinPoolTable): string {
  const features = t.features.length > 0 ? ` ${t.features.length} ${t.features.join(' ')}` : '';
  return `0 ${t.lengthSectors} thin-pool ${t.metadataDevice} ${t.dataDevice} ${t.blockSectors} ${t.lowWaterMarkBlocks}${features}`;
}

export function parseThinPoolStatus(line: string): ThinPoolStatus | ThinPoolFailedStatus {
  const f = line.trim().split(/\s+/);
  if (f[2] !== 'thin-pool') throw new Error(`not a thin-pool status: ${line.trim()}`);
  if (f[3] === 'Fail' || f[3] === 'Error') return { failed: true, text: f[3] };
  const pair = (s: string | undefined, what: string) => {
    const m = /^(\d+)\/(\d+)$/.exec(s ?? '');
    if (!m) throw new Error(`expected ${what} used/total, got ${JSON.stringify(s)}`);
    return [Number(m[1]), Number(m[2])] as const;
  };
  const [usedMeta, totalMeta] = pair(f[4], 'metadata');
  const [usedData, totalData] = pair(f[5], 'data');
  const mode = z.enum(['rw', 'ro', 'out_of_data_space']).parse(f[7]);
  const rest = f.slice(8);
  return {
    transactionId: int(f[3], 'transaction id'),
    usedMetadataBlocks: usedMeta,
    totalMetadataBlocks: totalMeta,
    usedDataBlocks: usedData,
    totalDataBlocks: totalData,
    mode,
    whenFull: rest.includes('error_if_no_space') ? 'error' : 'queue',
    needsCheck: rest.includes('needs_check'),
  };
}

/** Splits `NAME: params` lines; tolerates "No devices found" and blank lines. */
function namedLines(stdout: string): Array<{ name: string; params: string }> {
  const out: Array<{ name: string; params: string }> = [];
  for (const raw of stdout.split('\n')) {
    const line = raw.trimEnd();
    if (line.trim() === '' || line.trim() === 'No devices found') continue;
    const m = /^(\S+): (.*)$/.exec(line);
    if (!m) throw new Error(`unexpected dmsetup line: ${line}`);
    out.push({ name: m[1]!, params: m[2]! });
  }
  return out;
}

/** Every `thin-pool` target's table line. */
export function thinPoolTablesQuery(): Query<Array<{ name: string; table: ThinPoolTable }>> {
  return {
    argv: ['dmsetup', 'table', '--target', 'thin-pool'],
    parse: (stdout) => namedLines(stdout).map(({ name, params }) => ({ name, table: parseThinPoolTable(params) })),
  };
}

/** Every `thin-pool` target's status line. */
export function thinPoolStatusesQuery(): Query<Array<{ name: string; status: ThinPoolStatus | ThinPoolFailedStatus }>> {
  return {
    argv: ['dmsetup', 'status', '--target', 'thin-pool'],
    parse: (stdout) => namedLines(stdout).map(({ name, params }) => ({ name, status: parseThinPoolStatus(params) })),
  };
}

export function dmsetupCreateArgv(name: string, table: string): Argv {
  return ['dmsetup', 'create', name, '--table', table];
}

/** Loads an inactive table; I/O continues until the next resume. */
export function dmsetupReloadArgv(name: string, table: string): Argv {
  return ['dmsetup', 'reload', name, '--table', table];
}

/** Suspends, swaps in the inactive table and resumes, all inside one ioctl. */
export function dmsetupResumeArgv(name: string): Argv {
  return ['dmsetup', 'resume', name];
}

/** Names of every dm device (`dmsetup ls`), to tell whether a name is taken. */
export function dmNamesQuery(): Query<string[]> {
  return {
    argv: ['dmsetup', 'ls'],
    parse: (stdout) =>
      stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && l !== 'No devices found')
        .map((l) => {
          const m = /^(\S+)\s+\((\d+)[:, ]\s*(\d+)\)$/.exec(l);
          if (!m) throw new Error(`unexpected dmsetup ls line: ${l}`);
          return m[1]!;
        }),
  };
}

/** The live table of one device, for verifying a reload took effect. */
export function dmsetupTableArgv(name: string): Argv {
  return ['dmsetup', 'table', name];
}

export function dmsetupStatusArgv(name: string): Argv {
  return ['dmsetup', 'status', name];
}

/**
 * The held metadata root of a thin-pool status line (the field after data used/total): the metadata
 * block of a snapshot reserved with `reserve_metadata_snap`, or undefined when none is held (`-`).
 */
export function parseHeldMetadataRoot(line: string): number | undefined {
  const f = line.trim().split(/\s+/);
  if (f[2] !== 'thin-pool') throw new Error(`not a thin-pool status: ${line.trim()}`);
  if (f[3] === 'Fail' || f[3] === 'Error') throw new Error(`the pool reports ${f[3]}`);
  if (f[6] === '-') return undefined;
  return int(f[6], 'held metadata root');
}

/** One pool's held metadata root (`dmsetup status POOL`). */
export function heldMetadataRootQuery(pool: string): Query<number | undefined> {
  return { argv: dmsetupStatusArgv(pool), parse: parseHeldMetadataRoot };
}
