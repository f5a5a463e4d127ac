/**
 * `init-loop`: a thin pool on two sparse files attached to loop devices — the guide's loop-lvm test
 * setup, made explicit (the exact `dmsetup create` table) so it serves Docker and containerd alike.
 * For testing only: loop pools are slow and do not survive a reboot without `dmctl reactivate`.
 */
import { RefusedError } from '../errors.js';
import { formatBytes } from '../units.js';
import { mkdirArgv, truncateArgv, zeroHeaderArgv } from '../system/coreutils.js';
import {
  dmsetupCreateArgv,
  dmsetupStatusArgv,
  formatThinPoolTable,
  sectorBytes,
  type ThinPoolFailedStatus,
  type ThinPoolStatus,
  type ThinPoolTable,
} from '../system/dmsetup.js';
import { freeLoopDevices, losetupAttachToArgv, type LoopDevice } from '../system/losetup.js';
import { formatPoolRecord, parsePoolRecord, poolRecordPath, type PoolRecord } from '../system/pool-record.js';
import type { ConsumerState } from '../probe/state.js';
import { planConsumer, type ConsumerSettings } from './consumer.js';
import { rebuildLoopPool } from './reactivate.js';
import { checkStep, execStep, loadDmThinStep, withRecovery, writeFileStep } from './steps.js';
import { makePlan, type Note, type Plan, type Step } from './types.js';

export interface LoopPoolState {
  missingTools: string[];
  /** False when the kernel's device-mapper is not loaded: then no dm device exists yet. */
  deviceMapperLoaded: boolean;
  /** Every dm device name on the host. */
  dmNames: string[];
  /** Every thin-pool target: table and status. */
  thinPools: Array<{ name: string; table: ThinPoolTable; status: ThinPoolStatus | ThinPoolFailedStatus | undefined }>;
  loops: LoopDevice[];
  /** Entries of /dev, to pick free loop device nodes. */
  devEntries: string[];
}

export interface InitLoopState extends LoopPoolState {
  /** Sizes of the data and metadata files, undefined when absent. */
  dataFileBytes: number | undefined;
  metadataFileBytes: number | undefined;
  /** Free bytes on the filesystem that holds the files. */
  freeBytes: number;
  /** The pool's record, raw; undefined when absent. */
  record: string | undefined;
  consumer: ConsumerState;
}

export interface InitLoopOptions extends ConsumerSettings {
  pool: string;
  dir: string;
  dataSizeBytes: number;
  metadataSizeBytes: number;
  /** Set by the operator (--data-size/--metadata-size), for --docker-managed's dm.loop* options. */
  sizesGiven: { data: boolean; metadata: boolean };
  blockSectors: number;
  lowWaterMarkBlocks: number;
}

export { initLoopDefaults } from '../defaults.js';

export const loopTools = ['losetup', 'dmsetup', 'truncate', 'dd'] as const;

export function loopFiles(dir: string): { data: string; metadata: string } {
  return { data: `${dir}/data`, metadata: `${dir}/metadata` };
}

/** Which loop device backs a table's device field (`7:0` or `/dev/loop0`). */
export function loopFor(device: string, loops: readonly LoopDevice[]): LoopDevice | undefined {
  return loops.find((l) => l.majorMinor === device || l.name === device);
}

const testingOnly: Note = {
  level: 'warning',
  text: 'loop pools are for testing only: slower than a real disk, their sparse files can outgrow the host filesystem, and they do not survive a reboot without `dmctl reactivate`',
};

export function planInitLoop(state: InitLoopState, options: InitLoopOptions): Plan {
  const problems: string[] = [];
  const notes: Note[] = [testingOnly];
  const steps: Step[] = [];
  const files = loopFiles(options.dir);

  for (const tool of state.missingTools) problems.push(`${tool} is not installed: install ${tool === 'dmsetup' ? 'dmsetup' : tool === 'losetup' ? 'util-linux' : 'coreutils'} first`);

  if (options.dockerManaged) {
    return planDockerManagedLoop(state, options, problems, notes);
  }

  const existing = state.thinPools.find((p) => p.name === options.pool);
  let record: PoolRecord | undefined;
  if (state.record !== undefined) {
    try {
      record = parsePoolRecord(state.record);
    } catch {
      problems.push(`${poolRecordPath(options.pool)} is not a dmctl pool record: move it away, then run again`);
    }
  }
  let poolInUse: string | undefined;

  if (existing) {
    const data = loopFor(existing.table.dataDevice, state.loops);
    const meta = loopFor(existing.table.metadataDevice, state.loops);
    if (data?.backingFile !== files.data || meta?.backingFile !== files.metadata) {
      problems.push(`a thin pool named ${options.pool} already exists on ${data?.backingFile ?? existing.table.dataDevice}: choose another --pool (or --dir ${dirOf(data?.backingFile)})`);
    } else if (existing.table.lengthSectors * sectorBytes !== options.dataSizeBytes && record) {
      // Grown since: fine, init-loop does not shrink or grow.
      notes.push({ level: 'info', text: `${options.pool} is ${formatBytes(existing.table.lengthSectors * sectorBytes)} now; resize it with \`dmctl resize-loop\`` });
    }
    if (existing.status && !('failed' in existing.status) && (existing.status.transactionId !== 0 || existing.status.usedDataBlocks !== 0)) {
      poolInUse = `pool ${options.pool} is not fresh (transaction id ${existing.status.transactionId}, ${existing.status.usedDataBlocks} used data blocks)`;
    }
    if (problems.length === 0 && !record) {
      steps.push(recordStep(options, existing.table));
    }
  } else if (state.dmNames.includes(options.pool)) {
    problems.push(`the device-mapper name ${options.pool} is taken by a device that is not a thin pool: choose another --pool`);
  } else if (
    record?.dataFile === files.data &&
    record.metadataFile === files.metadata &&
    state.dataFileBytes !== undefined &&
    state.metadataFileBytes !== undefined
  ) {
    // Built here before and now down (a reboot, or a run that stopped after its record): bring it
    // back exactly as `dmctl reactivate` would.
    if (!state.deviceMapperLoaded) {
      steps.push(loadDmThinStep());
    }
    const rebuilt = rebuildLoopPool(record, state, { [files.data]: state.dataFileBytes, [files.metadata]: state.metadataFileBytes }, freeLoopDevices(state.devEntries, state.loops, 2));
    if ('problem' in rebuilt) problems.push(rebuilt.problem);
    else steps.push(...rebuilt.steps);
    notes.push({ level: 'info', text: `${options.pool} was built here before and is down: its files and record are reused (its data is kept)` });
  } else {
    for (const [what, bytes, file] of [['data', state.dataFileBytes, files.data], ['metadata', state.metadataFileBytes, files.metadata]] as const) {
      if (bytes !== undefined) {
        problems.push(`${file} already exists (${what} file of an earlier pool?): \`dmctl reactivate\` brings back a pool dmctl built; otherwise remove the file or choose another --dir`);
      }
    }
    if (options.metadataSizeBytes > state.freeBytes) {
      problems.push(`the filesystem of ${options.dir} has ${formatBytes(state.freeBytes)} free, less than the ${formatBytes(options.metadataSizeBytes)} metadata file: free space or choose another --dir`);
    } else if (options.dataSizeBytes + options.metadataSizeBytes > state.freeBytes) {
      notes.push({ level: 'warning', text: `the data file (${formatBytes(options.dataSizeBytes)}, sparse) is larger than the ${formatBytes(state.freeBytes)} free on its filesystem: writes fail once that fills, whatever the pool says` });
    }
    const [dataLoop, metaLoop] = freeLoopDevices(state.devEntries, state.loops, 2) as [string, string];
    const table: ThinPoolTable = {
      lengthSectors: Math.floor(options.dataSizeBytes / sectorBytes),
      metadataDevice: metaLoop,
      dataDevice: dataLoop,
      blockSectors: options.blockSectors,
      lowWaterMarkBlocks: options.lowWaterMarkBlocks,
      features: ['skip_block_zeroing'],
    };
    if (!state.deviceMapperLoaded) {
      steps.push(loadDmThinStep());
    }
    steps.push(
      execStep('mkdir', `Create ${options.dir}`, mkdirArgv(options.dir), 'Home of the sparse data and metadata files.'),
      execStep('truncate-data', `Create the sparse data file ${files.data} (${formatBytes(options.dataSizeBytes)})`, truncateArgv(files.data, options.dataSizeBytes), 'Sparse: it takes disk space only as the pool fills.'),
      execStep('truncate-metadata', `Create the sparse metadata file ${files.metadata} (${formatBytes(options.metadataSizeBytes)})`, truncateArgv(files.metadata, options.metadataSizeBytes), 'Thin-pool metadata.'),
      execStep('zero-metadata', 'Zero the metadata header', zeroHeaderArgv(files.metadata), 'The kernel formats metadata whose first 4 KiB are zero; anything else is read as an existing pool.'),
      // Recorded before anything is attached: whatever fails later, `dmctl reactivate` (or this command
      // again) finds the pool's files through the record.
      recordStep(options, table),
      execStep('attach-data', `Attach the data file to ${dataLoop}`, losetupAttachToArgv(dataLoop, files.data), 'dm-thin needs block devices.'),
      withRecovery(
        execStep('attach-metadata', `Attach the metadata file to ${metaLoop}`, losetupAttachToArgv(metaLoop, files.metadata), 'dm-thin needs block devices.'),
        [['losetup', '-d', dataLoop]],
      ),
      withRecovery(
        execStep('dmsetup-create', `Create the thin pool ${options.pool}`, dmsetupCreateArgv(options.pool, formatThinPoolTable(table)),
          `${options.blockSectors * sectorBytes / 1024} KiB blocks, low-water mark ${options.lowWaterMarkBlocks} blocks, skip_block_zeroing: the table Docker and containerd use.`),
        [['losetup', '-d', dataLoop, metaLoop]],
      ),
      checkStep('verify-pool', `Verify ${options.pool} is an active, empty thin pool`, dmsetupStatusArgv(options.pool), { includes: ' thin-pool 0 ' }, 'The kernel must report the pool with transaction id 0.'),
    );
    notes.push({ level: 'info', text: `the pool's device is /dev/mapper/${options.pool}; \`dmctl resize-loop SIZE\` grows it, \`dmctl reactivate\` brings it back after a reboot` });
  }

  const consumer = planConsumer(state.consumer, {
    poolDmName: options.pool,
    storageOpts: options.storageOpts,
    minFreeSpace: options.minFreeSpace,
    baseImageSize: options.baseImageSize,
    containerdRootPath: options.containerdRootPath,
    poolInUse,
  });
  problems.push(...consumer.problems);
  notes.push(...consumer.notes);
  steps.push(...consumer.steps);

  if (problems.length > 0) throw new RefusedError(problems.join('\n'));
  return makePlan('init-loop', `loop pool ${options.pool} in ${options.dir}`, state, steps, notes);
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
function planDockerManagedLoop(state: InitLoopState, options: InitLoopOptions, problems: string[], notes: Note[]): Plan {
  if (options.consumer !== 'docker') problems.push('--docker-managed lets Docker build the pool: it needs --consumer docker');
  const opts = [
    'dm.use_deferred_removal=true',
    'dm.use_deferred_deletion=true',
    ...(options.sizesGiven.data ? [`dm.loopdatasize=${options.dataSizeBytes}`] : []),
    ...(options.sizesGiven.metadata ? [`dm.loopmetadatasize=${options.metadataSizeBytes}`] : []),
    ...(options.minFreeSpace ? [`dm.min_free_space=${options.minFreeSpace}`] : []),
    ...options.storageOpts,
  ];
  const consumer = planConsumer(state.consumer, {
    poolDmName: options.pool,
    storageOpts: [],
    minFreeSpace: undefined,
    baseImageSize: options.baseImageSize,
    containerdRootPath: options.containerdRootPath,
    poolInUse: undefined,
    dockerManaged: { kind: 'loop', opts, startIsDestructive: false },
  });
  problems.push(...consumer.problems);
  notes.push(...consumer.notes);
  if (problems.length > 0) throw new RefusedError(problems.join('\n'));
  notes.push({ level: 'info', text: 'Docker names its pool docker-MAJ:MIN-INODE-pool and keeps its files in /var/lib/docker/devicemapper/devicemapper/; `dmctl resize-loop` and `dmctl status` find it there' });
  return makePlan('init-loop', "Docker's own loop-lvm pool", state, consumer.steps, notes);
}
