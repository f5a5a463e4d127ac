/**
 * Per-thin-device usage of a live pool: `thin_ls` (thin-provisioning-tools) on the pool's metadata
 * device, reading the metadata snapshot the kernel holds (`reserve_metadata_snap`). Without
 * `--metadata-snap` thin_ls opens the device exclusively and a live pool refuses it ("you cannot run
 * this tool with these options on live metadata"); with it, thin_ls reads the snapshot's root and
 * never the metadata the kernel is changing.
 *
 * NOTE(thin-provisioning-tools 0.9.0): `--no-headers` rows are the fields in `--format` order,
 * separated by spaces; `DEV` is the thin device id (the id in a `thin` table line and in Docker's
 * `device_id`).
 */
import type { Argv, Query } from './exec.js';

export interface ThinDeviceUsage {
  /** The thin device id in the pool. */
  deviceId: number;
  /** Bytes the device maps (its own and those it shares with snapshots of it, or its origin). */
  mappedBytes: number;
  /** Bytes only this device maps: what deleting it gives back to the pool. */
  exclusiveBytes: number;
  /** Bytes it shares with other devices (mapped − exclusive). */
  sharedBytes: number;
}

export const thinLsFields = ['DEV', 'MAPPED_BYTES', 'EXCLUSIVE_BYTES', 'SHARED_BYTES'] as const;

/** Parses `thin_ls --no-headers --format DEV,MAPPED_BYTES,EXCLUSIVE_BYTES,SHARED_BYTES` rows. */
export function parseThinLs(stdout: string): ThinDeviceUsage[] {
  const rows: ThinDeviceUsage[] = [];
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const f = line.split(/\s+/);
    if (f.length !== thinLsFields.length || !f.every((x) => /^\d+$/.test(x))) throw new Error(`unexpected thin_ls row: ${line}`);
    const [deviceId, mappedBytes, exclusiveBytes, sharedBytes] = f.map(Number) as [number, number, number, number];
    rows.push({ deviceId, mappedBytes, exclusiveBytes, sharedBytes });
  }
  return rows;
}

/** The devices of the pool whose metadata device is `metadataDevice`, read from the held metadata snapshot. */
export function thinLsQuery(metadataDevice: string): Query<ThinDeviceUsage[]> {
  return {
    argv: ['thin_ls', '--metadata-snap', '--no-headers', '--format', thinLsFields.join(','), metadataDevice],
    parse: parseThinLs,
  };
}

/**
 * Asks the kernel to keep a consistent copy of the pool's metadata root for readers (the pool's
 * status line then shows its block in the held-root field). One at a time: a second reserve fails
 * with "Device or resource busy". Must always be released again: while held, the pool keeps the
 * copy's metadata blocks allocated.
 */
export function reserveMetadataSnapArgv(pool: string): Argv {
  return ['dmsetup', 'message', pool, '0', 'reserve_metadata_snap'];
}

/** Drops the held metadata snapshot (fails with "Invalid argument" when none is held). */
export function releaseMetadataSnapArgv(pool: string): Argv {
  return ['dmsetup', 'message', pool, '0', 'release_metadata_snap'];
}
