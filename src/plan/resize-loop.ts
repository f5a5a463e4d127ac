/**
 * `resize-loop SIZE`: grow a loop pool online, as the guide does by hand — with the I/O freeze made as
 * short as possible: `dmsetup reload` loads the new table while I/O continues, then one
 * `dmsetup resume` suspends, swaps and resumes inside a single ioctl.
 */
import { RefusedError } from '../errors.js';
import { formatBytes } from '../units.js';
import { truncateArgv } from '../system/coreutils.js';
import {
  dmsetupReloadArgv,
  dmsetupResumeArgv,
  dmsetupStatusArgv,
  dmsetupTableArgv,
  formatThinPoolTable,
  metadataBlockBytes,
  sectorBytes,
} from '../system/dmsetup.js';
import { losetupSetCapacityArgv } from '../system/losetup.js';
import { loopFor, type LoopPoolState } from './init-loop.js';
import { checkStep, execStep, withRecovery } from './steps.js';
import { makePlan, type Note, type Plan, type Step } from './types.js';

export interface ResizeLoopState extends LoopPoolState {
  /** Sizes of the loop pools' backing files. */
  fileBytes: Record<string, number | undefined>;
  /** Free bytes on the filesystem of each backing file. */
  freeBytes: Record<string, number>;
}

export interface ResizeLoopOptions {
  pool: string | undefined;
  /** `200G` → absolute; `+50G` → relative to the file's current size. */
  size: { bytes: number; relative: boolean };
  /** Grow the metadata file instead of the data file. */
  metadata: boolean;
}

/** The kernel uses at most this much thin-pool metadata: THIN_METADATA_MAX_SECTORS, 255 × 2¹⁴ 4 KiB blocks (15.94 GiB). */
export const maxMetadataBytes = 255 * 2 ** 14 * 4096;

/** The loop-backed thin pools: their data and metadata devices are loop devices with files. */
export function loopPools(state: LoopPoolState) {
  return state.thinPools.flatMap((p) => {
    const data = loopFor(p.table.dataDevice, state.loops);
    const metadata = loopFor(p.table.metadataDevice, state.loops);
    return data && metadata ? [{ ...p, data, metadata }] : [];
  });
}

export function selectLoopPool(state: LoopPoolState, requested: string | undefined) {
  const pools = loopPools(state);
  if (requested !== undefined) {
    const pool = pools.find((p) => p.name === requested);
    if (pool) return pool;
    if (state.thinPools.some((p) => p.name === requested)) {
      throw new RefusedError(`${requested} is not a loop pool: grow an LVM thin pool with \`dmctl extend\` or lvextend`);
    }
    throw new RefusedError(`there is no thin pool named ${requested}: \`dmctl status\` lists the pools`);
  }
  if (pools.length === 1) return pools[0]!;
  if (pools.length === 0) throw new RefusedError('there is no loop-backed thin pool on this host: `dmctl status` lists the pools (grow LVM pools with `dmctl extend`)');
  throw new RefusedError(`there are ${pools.length} loop pools (${pools.map((p) => p.name).join(', ')}): choose one with --pool`);
}

export function planResizeLoop(state: ResizeLoopState, options: ResizeLoopOptions): Plan {
  for (const tool of state.missingTools) throw new RefusedError(`${tool} is not installed: install it first`);
  const pool = selectLoopPool(state, options.pool);
  const what = options.metadata ? 'metadata' : 'data';
  const loop = options.metadata ? pool.metadata : pool.data;
  const file = loop.backingFile;
  if (!file) throw new RefusedError(`the ${what} loop device ${loop.name} of ${pool.name} has no backing file (deleted?): resize it by hand`);
  const current = state.fileBytes[file];
  if (current === undefined) throw new RefusedError(`${file} (the ${what} file of ${pool.name}) does not exist: the pool runs on a deleted file; copy the data off before anything else`);

  // What the kernel uses now: the table's length for data, the status line's block count for metadata.
  const tableBytes = pool.table.lengthSectors * sectorBytes;
  const kernelMetadataBytes = pool.status && !('failed' in pool.status) ? pool.status.totalMetadataBlocks * metadataBlockBytes : current;
  const inUse = options.metadata ? kernelMetadataBytes : tableBytes;
  // Data: whole pool blocks (the kernel ignores a partial block); metadata: whole 4 KiB blocks.
  // `+SIZE` counts from what the kernel uses, so re-running after an interrupted resize (file already
  // grown, table not yet) does not grow the file twice.
  const unit = options.metadata ? metadataBlockBytes : pool.table.blockSectors * sectorBytes;
  const wanted = Math.floor((options.size.relative ? inUse + options.size.bytes : options.size.bytes) / unit) * unit;
  if (wanted < inUse) {
    throw new RefusedError(`${pool.name}'s ${what} is ${formatBytes(inUse)}; ${formatBytes(wanted)} would shrink it, and a thin pool cannot shrink: give a larger size (e.g. +10G)`);
  }
  if (options.metadata && wanted > maxMetadataBytes) {
    throw new RefusedError(`the kernel uses at most ${formatBytes(maxMetadataBytes)} of thin-pool metadata (${maxMetadataBytes} bytes): give a smaller size`);
  }

  const notes: Note[] = [];
  const newTable = options.metadata ? pool.table : { ...pool.table, lengthSectors: wanted / sectorBytes };
  const kernelUpToDate = options.metadata ? kernelMetadataBytes >= wanted : tableBytes === wanted;
  const steps: Step[] = [];
  if (current >= wanted && kernelUpToDate) {
    return plan(state, pool.name, what, [], [{ level: 'info', text: `${pool.name}'s ${what} is already ${formatBytes(wanted)}` }]);
  }
  const growth = Math.max(0, wanted - current);
  const free = state.freeBytes[file] ?? 0;
  if (growth > free) {
    notes.push({ level: 'warning', text: `${file} grows by ${formatBytes(growth)} but its filesystem has ${formatBytes(free)} free: sparse files overcommit, and writes fail once the filesystem fills` });
  }
  if (growth > 0) {
    steps.push(execStep('truncate', `Grow ${file} to ${formatBytes(wanted)}`, truncateArgv(file, wanted), `Sparse: takes space only as the pool fills (was ${formatBytes(current)}).`));
  }
  const oldTable = formatThinPoolTable(pool.table);
  const table = formatThinPoolTable(newTable);
  steps.push(
    execStep('set-capacity', `Tell ${loop.name} its file grew`, losetupSetCapacityArgv(loop.name), 'The loop device keeps the old size until asked to re-read it (LOOP_SET_CAPACITY).'),
    execStep('reload', `Load the new table of ${pool.name} (inactive)`, dmsetupReloadArgv(pool.name, table),
      options.metadata ? 'The same table: the kernel grows the metadata device when the pool resumes.' : `Only the length changes (${pool.table.lengthSectors} → ${newTable.lengthSectors} sectors); I/O continues meanwhile.`),
    withRecovery(
      execStep('resume', `Swap in the new table of ${pool.name}`, dmsetupResumeArgv(pool.name),
        'One ioctl suspends, swaps and resumes: the shortest I/O freeze, with no process start inside it.'),
      // A failed resume can leave the pool suspended with the new table refused: put the old one back.
      [dmsetupReloadArgv(pool.name, oldTable), dmsetupResumeArgv(pool.name)],
      'reload',
    ),
    options.metadata
      ? checkStep('verify', `Verify ${pool.name}'s metadata grew`, dmsetupStatusArgv(pool.name), { includes: `/${wanted / metadataBlockBytes} ` }, 'The status line must show the new metadata block count.')
      : checkStep('verify', `Verify ${pool.name} is ${formatBytes(wanted)}`, dmsetupTableArgv(pool.name), { includes: `0 ${newTable.lengthSectors} thin-pool ` }, 'The live table must carry the new length.'),
  );
  return plan(state, pool.name, what, steps, notes);
}

function plan(state: ResizeLoopState, name: string, what: string, steps: Step[], notes: Note[]): Plan {
  return makePlan('resize-loop', `${what} of loop pool ${name}`, state, steps, notes);
}
