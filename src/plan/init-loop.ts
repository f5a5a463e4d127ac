/**
 * `init-loop`: a thin pool on two sparse files attached to loop devices — the guide's loop-lvm test
 * setup, made explicit (the exact `dmsetup create` table) so it serves Docker and containerd alike.
 * For testing only: loop pools are slow and do not survive a reboot without `dmctl reactivate`.
 */
import { formatBytes } from '../units.js';
import { mkdirArgv, truncateArgv, zeroHeaderArgv } from '../system/coreutils.js';
import { dmsetupCreateArgv, dmsetupStatusArgv, formatThinPoolTable, sectorBytes, type ThinPoolTable } from '../system/dmsetup.js';
import { freeLoopDevices, losetupAttachToArgv, losetupDetachArgv } from '../system/losetup.js';
import { formatPoolRecord, parsePoolRecord, type PoolRecord } from '../system/pool-record.js';
import { loopFor } from '../model/loop.js';
import { loopFiles, poolRecordPath } from '../model/names.js';
import type { InitLoopOptions } from '../model/options.js';
import type { DmThinPoolState, InitLoopState } from '../model/state.js';
import { missingToolProblem } from '../model/tools.js';
import { consumerNotes, consumerSteps, decideConsumer, type DockerManaged } from './consumer.js';
import { rebuildProblem, rebuildSteps } from './loop-rebuild.js';
import { checkStep, execStep, loadDmThinStep, refuseIfAny, withRecovery, writeFileStep } from './steps.js';
import { makePlan, type Note, type Plan, type Step } from './types.js';

const testingOnly: Note = {
  level: 'warning',
  text: 'loop pools are for testing only: slower than a real disk, their sparse files can outgrow the host filesystem, and they do not survive a reboot without `dmctl reactivate`',
};

/** What the host has of the pool asked for: the pool itself, its record, or nothing yet. */
type Target = { files: { data: string; metadata: string }; record: PoolRecord | undefined; recordInvalid: boolean } & (
  | { kind: 'existing'; pool: DmThinPoolState; dataFile: string | undefined; onOurFiles: boolean; poolInUse: string | undefined }
  /** The dm name is taken by a device that is not a thin pool. */
  | { kind: 'name-taken' }
  /** Built here before and now down: rebuilt from its record and files. */
  | { kind: 'rebuild'; record: PoolRecord }
  | { kind: 'fresh' }
);

export function planInitLoop(state: InitLoopState, options: InitLoopOptions): Plan {
  if (options.dockerManaged) return planDockerManagedLoop(state, options);
  const target = lookAtTarget(state, options);
  const consumer = decideConsumer(state.consumer, {
    poolDmName: options.pool,
    storageOpts: options.storageOpts,
    minFreeSpace: options.minFreeSpace,
    baseImageSize: options.baseImageSize,
    containerdRootPath: options.containerdRootPath,
    poolInUse: target.kind === 'existing' ? target.poolInUse : undefined,
  });
  refuseIfAny([...state.missingTools.map(missingToolProblem), ...targetProblems(state, options, target), ...consumer.problems]);
  const steps = [...poolSteps(state, options, target), ...consumerSteps(consumer.handOver)];
  const notes = [testingOnly, ...poolNotes(state, options, target), ...consumerNotes(consumer.handOver)];
  return makePlan('init-loop', `loop pool ${options.pool} in ${options.dir}`, state, steps, notes);
}

function lookAtTarget(state: InitLoopState, options: InitLoopOptions): Target {
  const files = loopFiles(options.dir);
  let record: PoolRecord | undefined;
  let recordInvalid = false;
  try {
    record = state.record === undefined ? undefined : parsePoolRecord(state.record);
  } catch {
    recordInvalid = true;
  }
  const common = { files, record, recordInvalid };
  const existing = state.thinPools.find((p) => p.name === options.pool);
  if (existing) {
    const data = loopFor(existing.table.dataDevice, state.loops);
    const meta = loopFor(existing.table.metadataDevice, state.loops);
    const s = existing.status && !('failed' in existing.status) ? existing.status : undefined;
    const poolInUse = s && (s.transactionId !== 0 || s.usedDataBlocks !== 0) ? `pool ${options.pool} is not fresh (transaction id ${s.transactionId}, ${s.usedDataBlocks} used data blocks)` : undefined;
    return { ...common, kind: 'existing', pool: existing, dataFile: data?.backingFile, onOurFiles: data?.backingFile === files.data && meta?.backingFile === files.metadata, poolInUse };
  }
  if (state.dmNames.includes(options.pool)) return { ...common, kind: 'name-taken' };
  const filesExist = state.dataFileBytes !== undefined && state.metadataFileBytes !== undefined;
  if (record?.dataFile === files.data && record.metadataFile === files.metadata && filesExist) return { ...common, kind: 'rebuild', record };
  return { ...common, kind: 'fresh' };
}

function targetProblems(state: InitLoopState, options: InitLoopOptions, t: Target): string[] {
  const problems = t.recordInvalid ? [`${poolRecordPath(options.pool)} is not a dmctl pool record: move it away, then run again`] : [];
  if (t.kind === 'existing' && !t.onOurFiles) {
    problems.push(`a thin pool named ${options.pool} already exists on ${t.dataFile ?? t.pool.table.dataDevice}: choose another --pool (or --dir ${dirOf(t.dataFile)})`);
  }
  if (t.kind === 'name-taken') problems.push(`the device-mapper name ${options.pool} is taken by a device that is not a thin pool: choose another --pool`);
  if (t.kind === 'rebuild') problems.push(...[rebuildProblem(t.record, fileSizes(state, t))].filter((p): p is string => p !== undefined));
  if (t.kind === 'fresh') {
    for (const [what, bytes, file] of [['data', state.dataFileBytes, t.files.data], ['metadata', state.metadataFileBytes, t.files.metadata]] as const) {
      if (bytes !== undefined) problems.push(`${file} already exists (${what} file of an earlier pool?): \`dmctl reactivate\` brings back a pool dmctl built; otherwise remove the file or choose another --dir`);
    }
    if (options.metadataSizeBytes > state.freeBytes) {
      problems.push(`the filesystem of ${options.dir} has ${formatBytes(state.freeBytes)} free, less than the ${formatBytes(options.metadataSizeBytes)} metadata file: free space or choose another --dir`);
    }
  }
  return problems;
}

function poolSteps(state: InitLoopState, options: InitLoopOptions, t: Target): Step[] {
  if (t.kind === 'existing') return t.record ? [] : [recordStep(options, t.pool.table)];
  const load = state.deviceMapperLoaded ? [] : [loadDmThinStep()];
  if (t.kind === 'rebuild') return [...load, ...rebuildSteps(t.record, state.loops, fileSizes(state, t), freeLoopDevices(state.devEntries, state.loops, 2))];
  if (t.kind === 'fresh') return [...load, ...freshPoolSteps(state, options, t.files)];
  return [];
}

function fileSizes(state: InitLoopState, t: Target): Record<string, number | undefined> {
  return { [t.files.data]: state.dataFileBytes, [t.files.metadata]: state.metadataFileBytes };
}

/** Sparse files, the record, loop devices, the exact table, and a check that the pool is empty. */
function freshPoolSteps(state: InitLoopState, options: InitLoopOptions, files: { data: string; metadata: string }): Step[] {
  const [dataLoop, metaLoop] = freeLoopDevices(state.devEntries, state.loops, 2) as [string, string];
  const table: ThinPoolTable = {
    lengthSectors: Math.floor(options.dataSizeBytes / sectorBytes),
    metadataDevice: metaLoop,
    dataDevice: dataLoop,
    blockSectors: options.blockSectors,
    lowWaterMarkBlocks: options.lowWaterMarkBlocks,
    features: ['skip_block_zeroing'],
  };
  return [
    execStep('mkdir', `Create ${options.dir}`, mkdirArgv(options.dir), 'Home of the sparse data and metadata files.'),
    execStep('truncate-data', `Create the sparse data file ${files.data} (${formatBytes(options.dataSizeBytes)})`, truncateArgv(files.data, options.dataSizeBytes), 'Sparse: it takes disk space only as the pool fills.'),
    execStep('truncate-metadata', `Create the sparse metadata file ${files.metadata} (${formatBytes(options.metadataSizeBytes)})`, truncateArgv(files.metadata, options.metadataSizeBytes), 'Thin-pool metadata.'),
    execStep('zero-metadata', 'Zero the metadata header', zeroHeaderArgv(files.metadata), 'The kernel formats metadata whose first 4 KiB are zero; anything else is read as an existing pool.'),
    // Recorded before anything is attached: whatever fails later, `dmctl reactivate` (or this command
    // again) finds the pool's files through the record.
    recordStep(options, table),
    execStep('attach-data', `Attach the data file to ${dataLoop}`, losetupAttachToArgv(dataLoop, files.data), 'dm-thin needs block devices.'),
    withRecovery(execStep('attach-metadata', `Attach the metadata file to ${metaLoop}`, losetupAttachToArgv(metaLoop, files.metadata), 'dm-thin needs block devices.'), [losetupDetachArgv([dataLoop])]),
    withRecovery(
      execStep('dmsetup-create', `Create the thin pool ${options.pool}`, dmsetupCreateArgv(options.pool, formatThinPoolTable(table)),
        `${options.blockSectors * sectorBytes / 1024} KiB blocks, low-water mark ${options.lowWaterMarkBlocks} blocks, skip_block_zeroing: the table Docker and containerd use.`),
      [losetupDetachArgv([dataLoop, metaLoop])],
    ),
    checkStep('verify-pool', `Verify ${options.pool} is an active, empty thin pool`, dmsetupStatusArgv(options.pool), { includes: ' thin-pool 0 ' }, 'The kernel must report the pool with transaction id 0.'),
  ];
}

function poolNotes(state: InitLoopState, options: InitLoopOptions, t: Target): Note[] {
  if (t.kind === 'existing') {
    const bytes = t.pool.table.lengthSectors * sectorBytes;
    // Grown since: fine, init-loop does not shrink or grow.
    return bytes !== options.dataSizeBytes && t.record ? [{ level: 'info', text: `${options.pool} is ${formatBytes(bytes)} now; resize it with \`dmctl resize-loop\`` }] : [];
  }
  if (t.kind === 'rebuild') return [{ level: 'info', text: `${options.pool} was built here before and is down: its files and record are reused (its data is kept)` }];
  if (t.kind !== 'fresh') return [];
  const overcommit = options.dataSizeBytes + options.metadataSizeBytes > state.freeBytes;
  return [
    ...(overcommit ? [{ level: 'warning' as const, text: `the data file (${formatBytes(options.dataSizeBytes)}, sparse) is larger than the ${formatBytes(state.freeBytes)} free on its filesystem: writes fail once that fills, whatever the pool says` }] : []),
    { level: 'info', text: `the pool's device is /dev/mapper/${options.pool}; \`dmctl resize-loop SIZE\` grows it, \`dmctl reactivate\` brings it back after a reboot` },
  ];
}

function recordStep(options: InitLoopOptions, table: ThinPoolTable): Step {
  const files = loopFiles(options.dir);
  const record: PoolRecord = {
    formatVersion: 1,
    kind: 'loop',
    name: options.pool,
    dataFile: files.data,
    metadataFile: files.metadata,
    blockSectors: table.blockSectors,
    lowWaterMarkBlocks: table.lowWaterMarkBlocks,
    features: table.features,
  };
  return writeFileStep('write-record', `Record the pool in ${poolRecordPath(options.pool)}`, { path: poolRecordPath(options.pool), content: formatPoolRecord(record) },
    'Loop devices and dm tables vanish at reboot: `dmctl reactivate` rebuilds the pool from this record.');
}

function dirOf(file: string | undefined): string {
  return file ? file.replace(/\/[^/]*$/, '') : 'DIR';
}

/** The guide's loop-lvm steps: Docker (< 25) makes its own sparse files and pool. */
function planDockerManagedLoop(state: InitLoopState, options: InitLoopOptions): Plan {
  const dockerManaged: DockerManaged = {
    kind: 'loop',
    startIsDestructive: false,
    opts: [
      'dm.use_deferred_removal=true',
      'dm.use_deferred_deletion=true',
      ...(options.sizesGiven.data ? [`dm.loopdatasize=${options.dataSizeBytes}`] : []),
      ...(options.sizesGiven.metadata ? [`dm.loopmetadatasize=${options.metadataSizeBytes}`] : []),
      ...(options.minFreeSpace ? [`dm.min_free_space=${options.minFreeSpace}`] : []),
      ...options.storageOpts,
    ],
  };
  const consumer = decideConsumer(state.consumer, {
    poolDmName: options.pool, storageOpts: [], minFreeSpace: undefined, baseImageSize: options.baseImageSize,
    containerdRootPath: options.containerdRootPath, poolInUse: undefined, dockerManaged,
  });
  refuseIfAny([
    ...state.missingTools.map(missingToolProblem),
    ...(options.consumer !== 'docker' ? ['--docker-managed lets Docker build the pool: it needs --consumer docker'] : []),
    ...consumer.problems,
  ]);
  const notes = [testingOnly, ...consumerNotes(consumer.handOver),
    { level: 'info' as const, text: 'Docker names its pool docker-MAJ:MIN-INODE-pool and keeps its files in /var/lib/docker/devicemapper/devicemapper/; `dmctl resize-loop` and `dmctl status` find it there' }];
  return makePlan('init-loop', "Docker's own loop-lvm pool", state, consumerSteps(consumer.handOver), notes);
}
