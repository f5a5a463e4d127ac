/**
 * `init-direct`: the guide's production procedure (direct-lvm) as one plan. Pure: state in, plan out.
 *
 * Converges rather than replays: each step is planned only when the probed state lacks what it
 * makes, so a re-run on a provisioned host plans nothing and a run that stopped half-way resumes.
 */
import { RefusedError } from '../errors.js';
import { initDirectDefaults } from '../defaults.js';
import {
  autoextendProfileContent,
  lvchangeActivateArgv,
  lvchangeMonitorArgv,
  lvchangeProfileArgv,
  lvconvertThinPoolArgv,
  lvcreatePercentArgv,
  lvmDmName,
  parseAutoextendProfile,
  segMonitorArgv,
  vgcreateArgv,
} from '../system/lvm.js';
import type { InitDirectState } from '../probe/state.js';
import { checkDisks, prepareDiskSteps } from './disks.js';
import { planConsumer, type ConsumerSettings } from './consumer.js';
import { checkStep, execStep, writeFileStep } from './steps.js';
import { makePlan, type Note, type Plan, type Step } from './types.js';

export type { ConsumerKind } from './consumer.js';

/** `dockerManaged`: let Docker (< 25) set up direct-lvm itself from daemon.json. */
export interface InitDirectOptions extends ConsumerSettings {
  devices: string[];
  vg: string;
  pool: string;
  /** Data LV size in percent of the VG (Docker's dm.thinp_percent). */
  thinpPercent: number;
  /** Metadata LV size in percent of the VG (dm.thinp_metapercent). */
  thinpMetaPercent: number;
  autoextendThreshold: number;
  autoextendPercent: number;
  chunkSizeBytes: number;
  /** Erase existing signatures (wipefs -a). */
  force: boolean;
}

export { initDirectDefaults } from '../defaults.js';

/** Tools init-direct cannot do without (checked on PATH before anything runs). */
export const initDirectTools = ['lvm', 'thin_check', 'wipefs', 'lsblk'] as const;

/** LVM's largest useful thin-pool metadata (lvmthin(7)): anything above is wasted. */
const maxMetadataBytes = 15.81 * 1024 ** 3;

export function metadataLvName(pool: string): string {
  return `${pool}meta`;
}

export function profileName(vg: string, pool: string): string {
  return `${vg}-${pool}`;
}

export function planInitDirect(state: InitDirectState, options: InitDirectOptions): Plan {
  const { vg, pool } = options;
  const metaLv = metadataLvName(pool);
  const dmName = lvmDmName(vg, pool);
  const problems: string[] = [];
  const notes: Note[] = [];

  for (const tool of state.missingTools) {
    problems.push(`${tool} is not installed: install ${tool === 'thin_check' ? 'thin-provisioning-tools (pools cannot activate without thin_check)' : tool === 'lvm' ? 'lvm2' : 'util-linux'} first`);
  }

  if (options.dockerManaged) {
    if (options.consumer !== 'docker') problems.push('--docker-managed lets Docker build the pool: it needs --consumer docker');
    if (options.devices.length !== 1) problems.push('--docker-managed takes exactly one device (Docker\'s dm.directlvm_device)');
    if (vg !== initDirectDefaults.vg || pool !== initDirectDefaults.pool) problems.push('--docker-managed always makes docker/thinpool: drop --vg/--pool');
    if (options.chunkSizeBytes !== initDirectDefaults.chunkSizeBytes) problems.push('--docker-managed always uses 512K chunks: drop --chunk-size');
  }

  const disks = checkDisks(state.disks, state.lvm, vg, options.force);
  problems.push(...disks.problems);

  const existingVg = state.lvm.vgs.find((g) => g.name === vg);
  const lvsOfVg = state.lvm.lvs.filter((l) => l.vgName === vg);
  const poolLv = lvsOfVg.find((l) => l.name === pool);
  const metaLvExists = lvsOfVg.some((l) => l.name === metaLv);

  if (existingVg) {
    const vgPvs = state.lvm.pvs.filter((p) => p.vgName === vg).map((p) => p.name).sort();
    const wanted = [...disks.paths].sort();
    if (disks.problems.length === 0 && vgPvs.join(' ') !== wanted.join(' ')) {
      problems.push(
        `volume group ${vg} already exists on ${vgPvs.join(', ')}, not on ${wanted.join(', ')}: choose another --vg, or add disks with \`dmctl extend\``,
      );
    }
    const strangers = lvsOfVg.filter((l) => l.name !== pool && l.name !== metaLv && l.poolLv !== pool);
    if (strangers.length > 0) {
      problems.push(`volume group ${vg} holds other logical volumes (${strangers.map((l) => l.name).join(', ')}): dmctl only builds a pool in a VG of its own; choose another --vg`);
    }
  }

  const isConverted = poolLv?.attr.isThinPool === true;
  // A linear POOL LV in dmctl's own VG is a run that stopped after lvcreate: finish it.
  if (poolLv && !isConverted && poolLv.segtype !== 'linear') {
    problems.push(`${vg}/${pool} exists but is a ${poolLv.segtype} volume, not a thin pool: choose another --pool`);
  }
  if (poolLv && isConverted && poolLv.chunkSizeBytes !== options.chunkSizeBytes) {
    problems.push(
      `${vg}/${pool} already exists with chunk size ${poolLv.chunkSizeBytes / 1024}K, not ${options.chunkSizeBytes / 1024}K: the chunk size of a pool cannot change; drop --chunk-size or choose another --pool`,
    );
  }

  // Freshness for a consumer that does not use the pool yet.
  let poolInUse: string | undefined;
  if (isConverted && state.poolStatus && !('failed' in state.poolStatus)) {
    const s = state.poolStatus;
    if (s.transactionId !== 0 || s.usedDataBlocks !== 0) {
      poolInUse = `pool ${dmName} is not fresh (transaction id ${s.transactionId}, ${s.usedDataBlocks} used data blocks)`;
    }
  } else if (isConverted && state.poolStatus && 'failed' in state.poolStatus) {
    problems.push(`pool ${dmName} reports ${state.poolStatus.text}: repair it (lvconvert --repair ${vg}/${pool}) before handing it to a consumer`);
  }

  const steps: Step[] = [];
  const add = (...s: Step[]) => steps.push(...s);

  if (!options.dockerManaged) {
    add(...prepareDiskSteps(disks));
    if (!existingVg) {
      add(execStep('vgcreate', `Create volume group ${vg}`, vgcreateArgv(vg, disks.paths), `A VG of its own for the pool on ${disks.paths.join(', ')}.`));
    }
    if (!poolLv) {
      add(execStep('lvcreate-data', `Create the pool's data volume ${vg}/${pool} (${options.thinpPercent}% of the VG)`,
        lvcreatePercentArgv(vg, pool, options.thinpPercent),
        `The rest of the VG stays free for autoextend and for LVM's spare metadata volume.`));
    }
    if (!poolLv || (!isConverted && !metaLvExists)) {
      add(execStep('lvcreate-metadata', `Create the pool's metadata volume ${vg}/${metaLv} (${options.thinpMetaPercent}% of the VG)`,
        lvcreatePercentArgv(vg, metaLv, options.thinpMetaPercent), 'Thin-pool metadata: out of metadata space is the hard failure, so it is sized apart from data.'));
    }
    if (!isConverted) {
      add(execStep('lvconvert', `Convert them into the thin pool ${vg}/${pool} (chunk ${options.chunkSizeBytes / 1024}K)`,
        lvconvertThinPoolArgv(vg, pool, metaLv, options.chunkSizeBytes),
        '`--zero n`: consumers zero what they use, so the pool need not zero new blocks.'));
    }
  }

  const freshPoolComing = !isConverted;
  if (!options.dockerManaged || isConverted) {
    const profile = profileName(vg, pool);
    const profilePath = `${state.profileDir}/${profile}.profile`;
    const current = state.profile === undefined ? undefined : parseAutoextendProfile(state.profile);
    if (current?.threshold !== options.autoextendThreshold || current?.percent !== options.autoextendPercent) {
      add(writeFileStep('write-profile', `Write the autoextend profile ${profilePath}`,
        { path: profilePath, content: autoextendProfileContent(options.autoextendThreshold, options.autoextendPercent) },
        `Grow the pool by ${options.autoextendPercent}% when data passes ${options.autoextendThreshold}% (LVM's default threshold, 100, means never).`));
    }
    if (poolLv && isConverted && !poolLv.attr.active) {
      add(execStep('activate', `Activate ${vg}/${pool}`, lvchangeActivateArgv(vg, pool, poolLv.attr.skipActivation), 'The pool exists but is inactive (e.g. after a reboot).'));
    }
    if (freshPoolComing || poolLv?.profile !== profile) {
      add(execStep('attach-profile', `Attach profile ${profile} to ${vg}/${pool}`, lvchangeProfileArgv(vg, pool, profile), 'dmeventd reads the autoextend settings from the pool\'s metadata profile.'));
    }
    if (freshPoolComing || poolLv?.monitor !== 'monitored') {
      add(
        execStep('monitor', `Enable monitoring of ${vg}/${pool}`, lvchangeMonitorArgv(vg, pool), 'Without dmeventd monitoring, autoextend silently never happens.'),
        checkStep('verify-monitor', `Verify ${vg}/${pool} is monitored`, segMonitorArgv(vg, pool), { equals: 'monitored' },
          'Fail now rather than find out when the pool fills: dmeventd must be running and watching the pool.'),
      );
    }
  }

  const consumer = planConsumer(state.consumer, {
    poolDmName: dmName,
    storageOpts: options.storageOpts,
    minFreeSpace: options.minFreeSpace,
    baseImageSize: options.baseImageSize,
    containerdRootPath: options.containerdRootPath,
    poolInUse,
    ...(options.dockerManaged
      ? {
          dockerManaged: {
            kind: 'direct' as const,
            startIsDestructive: !isConverted,
            opts: [
            `dm.directlvm_device=${disks.paths[0] ?? options.devices[0]}`,
            `dm.thinp_percent=${options.thinpPercent}`,
            `dm.thinp_metapercent=${options.thinpMetaPercent}`,
            `dm.thinp_autoextend_threshold=${options.autoextendThreshold}`,
            `dm.thinp_autoextend_percent=${options.autoextendPercent}`,
            `dm.directlvm_device_force=${options.force}`,
            'dm.use_deferred_removal=true',
            'dm.use_deferred_deletion=true',
            ...(options.minFreeSpace ? [`dm.min_free_space=${options.minFreeSpace}`] : []),
            ...options.storageOpts,
            ],
          },
        }
      : {}),
  });
  problems.push(...consumer.problems);
  notes.push(...consumer.notes);
  add(...consumer.steps);

  if (options.dockerManaged && !isConverted && consumer.steps.some((s) => s.id === 'start-docker')) {
    add(
      checkStep('wait-pool', `Wait for Docker to create ${vg}/${pool}`, ['lvs', '--noheadings', '-o', 'segtype', `${vg}/${pool}`], { equals: 'thin-pool' },
        'Docker builds the pool when it starts.', 120),
      execStep('monitor', `Enable monitoring of ${vg}/${pool}`, lvchangeMonitorArgv(vg, pool), 'Docker\'s own setup never enables monitoring, so its autoextend profile would never act.'),
      checkStep('verify-monitor', `Verify ${vg}/${pool} is monitored`, segMonitorArgv(vg, pool), { equals: 'monitored' }, 'dmeventd must be watching the pool.'),
    );
  } else if (options.dockerManaged && !isConverted) {
    notes.push({ level: 'info', text: `Docker builds ${vg}/${pool} when it starts; then run this command again to enable monitoring (Docker never does)` });
  }

  if (problems.length > 0) {
    throw new RefusedError(problems.join('\n'));
  }

  if (freshPoolComing && !options.dockerManaged) {
    const diskBytes = state.disks.reduce((sum, d) => sum + (d.block?.sizeBytes ?? 0), 0);
    if ((diskBytes * options.thinpMetaPercent) / 100 > maxMetadataBytes) {
      notes.push({ level: 'warning', text: `${options.thinpMetaPercent}% of the VG is more metadata than a pool can use (15.81 GiB): lower --thinp-metapercent` });
    }
  }
  if (freshPoolComing && !options.dockerManaged) {
    // LVM keeps a spare metadata LV as large as the metadata LV: it is not free for autoextend.
    const roomPercent = 100 - options.thinpPercent - 2 * options.thinpMetaPercent;
    const stepPercent = (options.thinpPercent * options.autoextendPercent) / 100;
    if (roomPercent < stepPercent) {
      notes.push({
        level: 'warning',
        text: `with ${options.thinpPercent}% of the VG for data, autoextend has about ${Math.max(roomPercent, 0)}% of the VG to grow into, less than one ${options.autoextendPercent}% step: add a disk later (dmctl extend) or lower --thinp-percent`,
      });
    }
  }
  if (disks.wipe.length > 0) {
    notes.push({ level: 'warning', text: `--force: ${disks.wipe.map((w) => w.path).join(', ')} will be wiped; everything on ${disks.wipe.length > 1 ? 'them' : 'it'} is lost` });
  }
  if (steps.length > 0 && !options.dockerManaged) {
    notes.push({ level: 'info', text: `the pool's device is /dev/mapper/${dmName}` });
  }

  return makePlan('init-direct', `${vg}/${pool} on ${options.devices.join(', ')}`, state, steps, notes);
}
