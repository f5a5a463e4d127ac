/**
 * `init-direct`: the guide's production procedure (direct-lvm) as one plan. Pure: state in, plan out.
 *
 * Converges rather than replays: each step is planned only when the probed state lacks what it
 * makes, so a re-run on a provisioned host plans nothing and a run that stopped half-way resumes.
 */
import { initDirectDefaults } from '../defaults.js';
import { formatBytes } from '../units.js';
import {
  autoextendProfileContent,
  lvchangeActivateArgv,
  lvchangeMonitorArgv,
  lvchangeProfileArgv,
  lvconvertThinPoolArgv,
  lvcreatePercentArgv,
  lvFieldArgv,
  lvmDmName,
  parseAutoextendProfile,
  segMonitorArgv,
  vgcreateArgv,
  type LogicalVolume,
  type VolumeGroup,
} from '../system/lvm.js';
import { lvmMaxMetadataBytes } from '../model/limits.js';
import { metadataLvName, poolRecordPath, profileName, profilePath } from '../model/names.js';
import { formatPoolRecord, lvmPoolRecordFor, type LvmPoolRecord } from '../system/pool-record.js';
import type { InitDirectOptions } from '../model/options.js';
import type { InitDirectState } from '../model/state.js';
import { missingToolProblem } from '../model/tools.js';
import { checkDisks, prepareDiskSteps, type DiskVerdict } from './disks.js';
import { consumerNotes, consumerSteps, decideConsumer, startsDocker, type ConsumerOptions, type HandOver } from './consumer.js';
import { checkStep, execStep, refuseIfAny, writeFileStep } from './steps.js';
import { makePlan, type Note, type Plan, type Step } from './types.js';

/** What the host already has of the pool asked for. */
interface Target {
  vg: string;
  pool: string;
  metaLv: string;
  dmName: string;
  disks: DiskVerdict;
  existingVg: VolumeGroup | undefined;
  /** The VG's LVs other than the pool's own. */
  strangers: LogicalVolume[];
  poolLv: LogicalVolume | undefined;
  metaLvExists: boolean;
  /** The pool LV is a thin pool already (lvconvert ran). */
  isConverted: boolean;
  /** Why the pool is not fresh for a consumer that does not use it yet. */
  poolInUse: string | undefined;
}

export function planInitDirect(state: InitDirectState, options: InitDirectOptions): Plan {
  const target = lookAtTarget(state, options);
  const consumer = decideConsumer(state.consumer, consumerOptions(options, target));
  refuseIfAny([...initDirectRefusals(state, options, target), ...consumer.problems]);
  const steps = [
    ...(options.dockerManaged ? [] : lvmSteps(target, options)),
    ...(!options.dockerManaged || target.isConverted ? autoextendSteps(state, target, options) : []),
    ...(options.dockerManaged ? [] : recordSteps(state, target)),
    ...consumerSteps(consumer.handOver),
    ...dockerManagedFollowUps(target, options, consumer.handOver),
  ];
  const notes = [
    ...consumerNotes(consumer.handOver),
    ...dockerManagedNotes(target, options, consumer.handOver),
    ...sizingNotes(state, target, options),
    ...targetNotes(target, options, steps),
  ];
  return makePlan('init-direct', `${target.vg}/${target.pool} on ${options.devices.join(', ')}`, state, steps, notes);
}

function lookAtTarget(state: InitDirectState, options: InitDirectOptions): Target {
  const { vg, pool } = options;
  const metaLv = metadataLvName(pool);
  const lvsOfVg = state.lvm.lvs.filter((l) => l.vgName === vg);
  const poolLv = lvsOfVg.find((l) => l.name === pool);
  const isConverted = poolLv?.attr.isThinPool === true;
  const dmName = lvmDmName(vg, pool);
  const status = state.poolStatus;
  const used = isConverted && status && !('failed' in status) && (status.transactionId !== 0 || status.usedDataBlocks !== 0) ? status : undefined;
  return {
    vg,
    pool,
    metaLv,
    dmName,
    disks: checkDisks(state.disks, state.lvm, vg, options.force),
    existingVg: state.lvm.vgs.find((g) => g.name === vg),
    strangers: lvsOfVg.filter((l) => l.name !== pool && l.name !== metaLv && l.poolLv !== pool),
    poolLv,
    metaLvExists: lvsOfVg.some((l) => l.name === metaLv),
    isConverted,
    poolInUse: used && `pool ${dmName} is not fresh (transaction id ${used.transactionId}, ${used.usedDataBlocks} used data blocks)`,
  };
}

/** Every reason to refuse, in the order an operator fixes them; the consumer's follow. */
function initDirectRefusals(state: InitDirectState, options: InitDirectOptions, t: Target): string[] {
  return [
    ...state.missingTools.map(missingToolProblem),
    ...dockerManagedProblems(options),
    ...t.disks.problems,
    ...vgProblems(state, t),
    ...poolProblems(state, options, t),
  ];
}

function dockerManagedProblems(options: InitDirectOptions): string[] {
  if (!options.dockerManaged) return [];
  return [
    ...(options.consumer !== 'docker' ? ['--docker-managed lets Docker build the pool: it needs --consumer docker'] : []),
    ...(options.devices.length !== 1 ? ['--docker-managed takes exactly one device (Docker\'s dm.directlvm_device)'] : []),
    ...(options.vg !== initDirectDefaults.vg || options.pool !== initDirectDefaults.pool ? ['--docker-managed always makes docker/thinpool: drop --vg/--pool'] : []),
    ...(options.chunkSizeBytes !== initDirectDefaults.chunkSizeBytes ? ['--docker-managed always uses 512K chunks: drop --chunk-size'] : []),
  ];
}

function vgProblems(state: InitDirectState, t: Target): string[] {
  if (!t.existingVg) return hiddenVgProblems(state, t);
  const problems: string[] = [];
  const vgPvs = state.lvm.pvs.filter((p) => p.vgName === t.vg).map((p) => p.name).sort();
  const wanted = [...t.disks.paths].sort();
  if (t.disks.problems.length === 0 && vgPvs.join(' ') !== wanted.join(' ')) {
    problems.push(`volume group ${t.vg} already exists on ${vgPvs.join(', ')}, not on ${wanted.join(', ')}: choose another --vg, or add disks with \`dmctl extend\``);
  }
  if (t.strangers.length > 0) {
    problems.push(`volume group ${t.vg} holds other logical volumes (${t.strangers.map((l) => l.name).join(', ')}): dmctl only builds a pool in a VG of its own; choose another --vg`);
  }
  return problems;
}

/**
 * PVs of a VG of that name that vgs does not show: a devices file or a filter hides them (dmctl lists
 * PVs past the devices file). vgcreate would make a second VG of the same name, and LVM refuses to
 * work on either once both are seen.
 */
function hiddenVgProblems(state: InitDirectState, t: Target): string[] {
  const hidden = state.lvm.pvs.filter((p) => p.vgName === t.vg).map((p) => p.name);
  if (hidden.length === 0) return [];
  return [
    `volume group ${t.vg} already exists on ${hidden.join(', ')}, which LVM's devices file or filter hides from vgs: another VG named ${t.vg} would make two, and LVM refuses to work on either once both are seen: choose another --vg, or let LVM see ${hidden.length > 1 ? 'them' : 'it'} (\`lvmdevices --adddev ${hidden[0]}\`) if that VG is meant to be used`,
  ];
}

function poolProblems(state: InitDirectState, options: InitDirectOptions, t: Target): string[] {
  const { poolLv, vg, pool } = t;
  const problems: string[] = [];
  // A linear POOL LV in dmctl's own VG is a run that stopped after lvcreate: finish it.
  if (poolLv && !t.isConverted && poolLv.segtype !== 'linear') {
    problems.push(`${vg}/${pool} exists but is a ${poolLv.segtype} volume, not a thin pool: choose another --pool`);
  }
  if (poolLv && t.isConverted && poolLv.chunkSizeBytes !== options.chunkSizeBytes) {
    problems.push(`${vg}/${pool} already exists with chunk size ${poolLv.chunkSizeBytes / 1024}K, not ${options.chunkSizeBytes / 1024}K: the chunk size of a pool cannot change; drop --chunk-size or choose another --pool`);
  }
  if (t.isConverted && state.poolStatus && 'failed' in state.poolStatus) {
    problems.push(`pool ${t.dmName} reports ${state.poolStatus.text}: repair it (lvconvert --repair ${vg}/${pool}) before handing it to a consumer`);
  }
  return problems;
}

/** The disks as PVs, the VG, the data and metadata LVs, and lvconvert: each only when missing. */
function lvmSteps(t: Target, options: InitDirectOptions): Step[] {
  const { vg, pool, metaLv, poolLv } = t;
  return [
    ...prepareDiskSteps(t.disks),
    ...(t.existingVg ? [] : [execStep('vgcreate', `Create volume group ${vg}`, vgcreateArgv(vg, t.disks.paths), `A VG of its own for the pool on ${t.disks.paths.join(', ')}.`)]),
    ...(poolLv ? [] : [execStep('lvcreate-data', `Create the pool's data volume ${vg}/${pool} (${options.thinpPercent}% of the VG)`,
      lvcreatePercentArgv(vg, pool, options.thinpPercent), 'The rest of the VG stays free for autoextend and for LVM\'s spare metadata volume.')]),
    ...(!poolLv || (!t.isConverted && !t.metaLvExists) ? [execStep('lvcreate-metadata', `Create the pool's metadata volume ${vg}/${metaLv} (${options.thinpMetaPercent}% of the VG)`,
      lvcreatePercentArgv(vg, metaLv, options.thinpMetaPercent), 'Thin-pool metadata: out of metadata space is the hard failure, so it is sized apart from data.')] : []),
    ...(t.isConverted ? [] : [execStep('lvconvert', `Convert them into the thin pool ${vg}/${pool} (chunk ${options.chunkSizeBytes / 1024}K)`,
      lvconvertThinPoolArgv(vg, pool, metaLv, options.chunkSizeBytes), '`--zero n`: consumers zero what they use, so the pool need not zero new blocks.')]),
  ];
}

/** The profile written and attached, the pool active, dmeventd monitoring it (and proven to). */
function autoextendSteps(state: InitDirectState, t: Target, options: InitDirectOptions): Step[] {
  const { vg, pool, poolLv } = t;
  const profile = profileName(vg, pool);
  const path = profilePath(state.profileDir, vg, pool);
  const current = state.profile === undefined ? undefined : parseAutoextendProfile(state.profile);
  const fresh = !t.isConverted;
  const profileDiffers = current?.threshold !== options.autoextendThreshold || current?.percent !== options.autoextendPercent;
  return [
    ...(profileDiffers ? [writeFileStep('write-profile', `Write the autoextend profile ${path}`,
      { path, content: autoextendProfileContent(options.autoextendThreshold, options.autoextendPercent) },
      `Grow the pool by ${options.autoextendPercent}% when data passes ${options.autoextendThreshold}% (LVM's default threshold, 100, means never).`)] : []),
    ...(poolLv && t.isConverted && !poolLv.attr.active ? [execStep('activate', `Activate ${vg}/${pool}`, lvchangeActivateArgv(vg, pool, poolLv.attr.skipActivation),
      'The pool exists but is inactive (e.g. after a reboot).')] : []),
    ...(fresh || poolLv?.profile !== profile ? [execStep('attach-profile', `Attach profile ${profile} to ${vg}/${pool}`, lvchangeProfileArgv(vg, pool, profile),
      'dmeventd reads the autoextend settings from the pool\'s metadata profile.')] : []),
    ...(fresh || poolLv?.monitor !== 'monitored' ? monitorSteps(vg, pool, 'Without dmeventd monitoring, autoextend silently never happens.',
      'Fail now rather than find out when the pool fills: dmeventd must be running and watching the pool.') : []),
  ];
}

/**
 * The pool's record, so that `reactivate` (at boot) knows to expect it and waits for its disks
 * instead of reporting every pool active while they have not appeared yet.
 */
function recordSteps(state: InitDirectState, t: Target): Step[] {
  const path = poolRecordPath(t.dmName);
  if (lvmPoolRecordFor(state.poolRecord, t.vg, t.pool)) return [];
  const record: LvmPoolRecord = { formatVersion: 1, kind: 'lvm', name: t.dmName, vg: t.vg, lv: t.pool, pvs: [...t.disks.paths] };
  return [writeFileStep('write-record', `Record the pool in ${path}`, { path, content: formatPoolRecord(record) },
    'dmctl reactivate (and its boot unit) then expects this pool and waits for its disks, instead of finding no pool and reporting all is well.')];
}

function monitorSteps(vg: string, pool: string, why: string, verifyWhy: string): Step[] {
  return [
    execStep('monitor', `Enable monitoring of ${vg}/${pool}`, lvchangeMonitorArgv(vg, pool), why),
    checkStep('verify-monitor', `Verify ${vg}/${pool} is monitored`, segMonitorArgv(vg, pool), { equals: 'monitored' }, verifyWhy),
  ];
}

function consumerOptions(options: InitDirectOptions, t: Target): ConsumerOptions {
  return {
    poolDmName: t.dmName,
    storageOpts: options.storageOpts,
    minFreeSpace: options.minFreeSpace,
    baseImageSize: options.baseImageSize,
    containerdRootPath: options.containerdRootPath,
    poolInUse: t.poolInUse,
    ...(options.dockerManaged ? { dockerManaged: { kind: 'direct' as const, startIsDestructive: !t.isConverted, opts: dockerDirectLvmOpts(options, t) } } : {}),
  };
}

/** Docker's own direct-lvm options (`--docker-managed`), from dmctl's. */
function dockerDirectLvmOpts(options: InitDirectOptions, t: Target): string[] {
  return [
    `dm.directlvm_device=${t.disks.paths[0] ?? options.devices[0]}`,
    `dm.thinp_percent=${options.thinpPercent}`,
    `dm.thinp_metapercent=${options.thinpMetaPercent}`,
    `dm.thinp_autoextend_threshold=${options.autoextendThreshold}`,
    `dm.thinp_autoextend_percent=${options.autoextendPercent}`,
    `dm.directlvm_device_force=${options.force}`,
    'dm.use_deferred_removal=true',
    'dm.use_deferred_deletion=true',
    ...(options.minFreeSpace ? [`dm.min_free_space=${options.minFreeSpace}`] : []),
    ...options.storageOpts,
  ];
}

/** Docker builds the pool when dmctl starts it: wait for the pool, then monitor it (Docker never does). */
function dockerManagedFollowUps(t: Target, options: InitDirectOptions, handOver: HandOver): Step[] {
  if (!options.dockerManaged || t.isConverted || !startsDocker(handOver)) return [];
  return [
    checkStep('wait-pool', `Wait for Docker to create ${t.vg}/${t.pool}`, lvFieldArgv(t.vg, t.pool, 'segtype'), { equals: 'thin-pool' }, 'Docker builds the pool when it starts.', 120),
    ...monitorSteps(t.vg, t.pool, 'Docker\'s own setup never enables monitoring, so its autoextend profile would never act.', 'dmeventd must be watching the pool.'),
  ];
}

function dockerManagedNotes(t: Target, options: InitDirectOptions, handOver: HandOver): Note[] {
  if (!options.dockerManaged || t.isConverted || startsDocker(handOver)) return [];
  return [{ level: 'info', text: `Docker builds ${t.vg}/${t.pool} when it starts; then run this command again to enable monitoring (Docker never does)` }];
}

/** Warnings about the sizes asked for a pool about to be made. */
function sizingNotes(state: InitDirectState, t: Target, options: InitDirectOptions): Note[] {
  if (t.isConverted || options.dockerManaged) return [];
  const notes: Note[] = [];
  const diskBytes = state.disks.reduce((sum, d) => sum + (d.block?.sizeBytes ?? 0), 0);
  if ((diskBytes * options.thinpMetaPercent) / 100 > lvmMaxMetadataBytes) {
    notes.push({ level: 'warning', text: `${options.thinpMetaPercent}% of the VG is more metadata than a pool can use (${formatBytes(lvmMaxMetadataBytes)}): lower --thinp-metapercent` });
  }
  // LVM keeps a spare metadata LV as large as the metadata LV: it is not free for autoextend.
  const roomPercent = 100 - options.thinpPercent - 2 * options.thinpMetaPercent;
  const stepPercent = (options.thinpPercent * options.autoextendPercent) / 100;
  if (roomPercent < stepPercent) {
    notes.push({
      level: 'warning',
      text: `with ${options.thinpPercent}% of the VG for data, autoextend has about ${Math.max(roomPercent, 0)}% of the VG to grow into, less than one ${options.autoextendPercent}% step: add a disk later (dmctl extend) or lower --thinp-percent`,
    });
  }
  return notes;
}

function targetNotes(t: Target, options: InitDirectOptions, steps: readonly Step[]): Note[] {
  const { wipe } = t.disks;
  return [
    ...(wipe.length > 0 ? [{ level: 'warning' as const, text: `--force: ${wipe.map((w) => w.path).join(', ')} will be wiped; everything on ${wipe.length > 1 ? 'them' : 'it'} is lost` }] : []),
    ...(steps.length > 0 && !options.dockerManaged ? [{ level: 'info' as const, text: `the pool's device is /dev/mapper/${t.dmName}` }] : []),
  ];
}
