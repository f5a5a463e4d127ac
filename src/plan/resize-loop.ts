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
  type ThinPoolTable,
} from '../system/dmsetup.js';
import { losetupSetCapacityArgv, type LoopDevice } from '../system/losetup.js';
import { kernelMaxMetadataBytes } from '../model/limits.js';
import { loopPools, type LoopPool } from '../model/loop.js';
import type { ResizeLoopOptions } from '../model/options.js';
import type { LoopPoolState, ResizeLoopState } from '../model/state.js';
import { missingToolProblem } from '../model/tools.js';
import { checkStep, execStep, refuseIfAny, withRecovery } from './steps.js';
import { makePlan, type Note, type Plan, type Step } from './types.js';

export function selectLoopPool(state: LoopPoolState, requested: string | undefined): LoopPool {
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

/** The file to grow and the sizes that decide the plan. */
interface Growth {
  what: 'data' | 'metadata';
  loop: LoopDevice;
  file: string;
  /** The file's size now. */
  currentBytes: number;
  /** What the kernel uses now: the table's length for data, the status line's block count for metadata. */
  inUseBytes: number;
  wantedBytes: number;
  /** The kernel already uses the wanted size (only the file may lag, or nothing). */
  kernelUpToDate: boolean;
  newTable: ThinPoolTable;
}

export function planResizeLoop(state: ResizeLoopState, options: ResizeLoopOptions): Plan {
  refuseIfAny(state.missingTools.map(missingToolProblem));
  const pool = selectLoopPool(state, options.pool);
  const growth = lookAtGrowth(state, options, pool);
  refuseIfAny(growthProblems(pool, growth, options));
  const target = `${growth.what} of loop pool ${pool.name}`;
  if (growth.currentBytes >= growth.wantedBytes && growth.kernelUpToDate) {
    return makePlan('resize-loop', target, state, [], [{ level: 'info', text: `${pool.name}'s ${growth.what} is already ${formatBytes(growth.wantedBytes)}` }]);
  }
  return makePlan('resize-loop', target, state, resizeSteps(pool, growth, options), growthNotes(state, growth));
}

function lookAtGrowth(state: ResizeLoopState, options: ResizeLoopOptions, pool: LoopPool): Growth {
  const what = options.metadata ? 'metadata' : 'data';
  const loop = options.metadata ? pool.metadata : pool.data;
  const file = loop.backingFile;
  if (!file) throw new RefusedError(`the ${what} loop device ${loop.name} of ${pool.name} has no backing file (deleted?): resize it by hand`);
  const currentBytes = state.fileBytes[file];
  if (currentBytes === undefined) throw new RefusedError(`${file} (the ${what} file of ${pool.name}) does not exist: the pool runs on a deleted file; copy the data off before anything else`);
  const tableBytes = pool.table.lengthSectors * sectorBytes;
  const kernelMetadataBytes = pool.status && !('failed' in pool.status) ? pool.status.totalMetadataBlocks * metadataBlockBytes : currentBytes;
  const inUseBytes = options.metadata ? kernelMetadataBytes : tableBytes;
  // Data: whole pool blocks (the kernel ignores a partial block); metadata: whole 4 KiB blocks.
  // `+SIZE` counts from what the kernel uses, so re-running after an interrupted resize (file already
  // grown, table not yet) does not grow the file twice.
  const unit = options.metadata ? metadataBlockBytes : pool.table.blockSectors * sectorBytes;
  const wantedBytes = Math.floor((options.size.relative ? inUseBytes + options.size.bytes : options.size.bytes) / unit) * unit;
  return {
    what, loop, file, currentBytes, inUseBytes, wantedBytes,
    kernelUpToDate: options.metadata ? kernelMetadataBytes >= wantedBytes : tableBytes === wantedBytes,
    newTable: options.metadata ? pool.table : { ...pool.table, lengthSectors: wantedBytes / sectorBytes },
  };
}

function growthProblems(pool: LoopPool, g: Growth, options: ResizeLoopOptions): string[] {
  if (g.wantedBytes < g.inUseBytes) {
    return [`${pool.name}'s ${g.what} is ${formatBytes(g.inUseBytes)}; ${formatBytes(g.wantedBytes)} would shrink it, and a thin pool cannot shrink: give a larger size (e.g. +10G)`];
  }
  if (options.metadata && g.wantedBytes > kernelMaxMetadataBytes) {
    return [`the kernel uses at most ${formatBytes(kernelMaxMetadataBytes)} of thin-pool metadata (${kernelMaxMetadataBytes} bytes): give a smaller size`];
  }
  return [];
}

/** truncate (when the file lags), set-capacity, reload, one resume (with its recovery), verify. */
function resizeSteps(pool: LoopPool, g: Growth, options: ResizeLoopOptions): Step[] {
  const oldTable = formatThinPoolTable(pool.table);
  const newTable = formatThinPoolTable(g.newTable);
  const lengthSectors = g.newTable.lengthSectors;
  return [
    ...(g.wantedBytes > g.currentBytes ? [execStep('truncate', `Grow ${g.file} to ${formatBytes(g.wantedBytes)}`, truncateArgv(g.file, g.wantedBytes), `Sparse: takes space only as the pool fills (was ${formatBytes(g.currentBytes)}).`)] : []),
    execStep('set-capacity', `Tell ${g.loop.name} its file grew`, losetupSetCapacityArgv(g.loop.name), 'The loop device keeps the old size until asked to re-read it (LOOP_SET_CAPACITY).'),
    execStep('reload', `Load the new table of ${pool.name} (inactive)`, dmsetupReloadArgv(pool.name, newTable),
      options.metadata ? 'The same table: the kernel grows the metadata device when the pool resumes.' : `Only the length changes (${pool.table.lengthSectors} → ${lengthSectors} sectors); I/O continues meanwhile.`),
    withRecovery(
      execStep('resume', `Swap in the new table of ${pool.name}`, dmsetupResumeArgv(pool.name), 'One ioctl suspends, swaps and resumes: the shortest I/O freeze, with no process start inside it.'),
      // A failed resume can leave the pool suspended with the new table refused: put the old one back.
      [dmsetupReloadArgv(pool.name, oldTable), dmsetupResumeArgv(pool.name)],
      'reload',
    ),
    options.metadata
      ? checkStep('verify', `Verify ${pool.name}'s metadata grew`, dmsetupStatusArgv(pool.name), { includes: `/${g.wantedBytes / metadataBlockBytes} ` }, 'The status line must show the new metadata block count.')
      : checkStep('verify', `Verify ${pool.name} is ${formatBytes(g.wantedBytes)}`, dmsetupTableArgv(pool.name), { includes: `0 ${lengthSectors} thin-pool ` }, 'The live table must carry the new length.'),
  ];
}

function growthNotes(state: ResizeLoopState, g: Growth): Note[] {
  const grows = Math.max(0, g.wantedBytes - g.currentBytes);
  const free = state.freeBytes[g.file] ?? 0;
  return grows > free
    ? [{ level: 'warning', text: `${g.file} grows by ${formatBytes(grows)} but its filesystem has ${formatBytes(free)} free: sparse files overcommit, and writes fail once the filesystem fills` }]
    : [];
}
