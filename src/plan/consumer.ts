/**
 * Hands a pool to its consumer: Docker's daemon.json (devicemapper) or containerd's devmapper
 * snapshotter section, with the service stopped/started around the change when systemd runs it.
 */
import { devmapperPlugin, mergeContainerdConfig } from '../system/containerd.js';
import {
  dockerDriverStatusArgv,
  dockerPoolUse,
  formatDaemonJson,
  lastEngineWithDevicemapper,
  mergeDaemonJson,
  parseDaemonJson,
  type DaemonConfig,
} from '../system/docker.js';
import { systemctlArgv } from '../system/systemd.js';
import type { ConsumerState, ContainerdState, DockerState, ServiceState } from '../probe/state.js';
import { checkStep, execStep, moveStep, writeFileStep } from './steps.js';
import type { Note, Step } from './types.js';

export type ConsumerKind = 'docker' | 'containerd' | 'none';

/** What the operator asked for the consumer (init-direct and init-loop alike). */
export interface ConsumerSettings {
  consumer: ConsumerKind;
  /** Let Docker (< 25) build the pool itself (--docker-managed). */
  dockerManaged: boolean;
  /** Extra Docker storage options (`dm.basesize=20G`). */
  storageOpts: string[];
  /** Docker's dm.min_free_space, with its `%`. */
  minFreeSpace: string | undefined;
  /** containerd's base_image_size and root_path. */
  baseImageSize: string;
  containerdRootPath: string;
}

export interface ConsumerOptions {
  /** The pool's device-mapper name (`docker-thinpool`). */
  poolDmName: string;
  /** Docker storage options to set besides the pool's (`dm.basesize=20G`). */
  storageOpts: readonly string[];
  /** `dm.min_free_space`, always with its `%`. */
  minFreeSpace: string | undefined;
  /** containerd `base_image_size`. */
  baseImageSize: string;
  /** containerd `root_path`. */
  containerdRootPath: string;
  /**
   * Why the pool cannot be handed to a consumer that does not use it yet (used blocks, a
   * transaction id); undefined when it is fresh.
   */
  poolInUse: string | undefined;
  /**
   * Docker builds the pool itself (`--docker-managed`): these storage options replace the pool's,
   * and its start step is destructive when Docker formats a disk.
   */
  dockerManaged?: { kind: 'direct' | 'loop'; opts: readonly string[]; startIsDestructive: boolean };
}

/** Options that belong to one way of giving Docker its pool and contradict the others. */
const directLvmKeys = ['dm.directlvm_device', 'dm.directlvm_device_force', 'dm.thinp_percent', 'dm.thinp_metapercent', 'dm.thinp_autoextend_threshold', 'dm.thinp_autoextend_percent'];
const loopKeys = ['dm.loopdatasize', 'dm.loopmetadatasize', 'dm.datadev', 'dm.metadatadev'];
function contradictingKeys(managed: ConsumerOptions['dockerManaged']): string[] {
  if (!managed) return [...directLvmKeys, ...loopKeys];
  if (managed.kind === 'direct') return ['dm.thinpooldev', ...loopKeys];
  return ['dm.thinpooldev', ...directLvmKeys, 'dm.datadev', 'dm.metadatadev'];
}

export interface ConsumerPlan {
  /** Stop the service, move old state aside, write config, start, verify. */
  steps: Step[];
  problems: string[];
  notes: Note[];
  /** The consumer already uses this pool: nothing to hand over. */
  alreadyConfigured: boolean;
}

const empty = (): ConsumerPlan => ({ steps: [], problems: [], notes: [], alreadyConfigured: false });

export function planConsumer(consumer: ConsumerState, options: ConsumerOptions): ConsumerPlan {
  if (consumer.kind === 'docker') return planDocker(consumer.docker, options);
  if (consumer.kind === 'containerd') return planContainerd(consumer.containerd, options);
  return empty();
}

export function dockerPoolOpts(options: Pick<ConsumerOptions, 'poolDmName' | 'minFreeSpace' | 'storageOpts'>): string[] {
  return [
    `dm.thinpooldev=/dev/mapper/${options.poolDmName}`,
    'dm.use_deferred_removal=true',
    'dm.use_deferred_deletion=true',
    ...(options.minFreeSpace ? [`dm.min_free_space=${options.minFreeSpace}`] : []),
    ...options.storageOpts,
  ];
}

function usesPool(config: DaemonConfig, poolDmName: string): boolean {
  return dockerPoolUse(config)?.thinPoolDm === poolDmName;
}

function planDocker(docker: DockerState, options: ConsumerOptions): ConsumerPlan {
  const plan = empty();
  if (!docker.engine) {
    plan.problems.push('dockerd is not installed: install Docker Engine 24 or older (e.g. Debian\'s docker.io), or use --consumer containerd or --consumer none');
    return plan;
  }
  if (docker.engine.major > lastEngineWithDevicemapper) {
    plan.problems.push(
      `Docker Engine ${docker.engine.major}.${docker.engine.minor} has no devicemapper storage driver (removed in Engine 25), so storage-driver "devicemapper" would keep it from starting: use --consumer containerd (containerd's devmapper snapshotter), or --consumer none`,
    );
    return plan;
  }
  let current: DaemonConfig;
  try {
    current = docker.daemonJson === undefined ? {} : parseDaemonJson(docker.daemonJson);
  } catch (error) {
    plan.problems.push(`${docker.daemonJsonPath} is not valid JSON (${(error as Error).message}), and Docker would not start with it: fix or remove it first`);
    return plan;
  }
  const managed = options.dockerManaged;
  plan.alreadyConfigured = managed
    ? current['storage-driver'] === 'devicemapper' && managed.opts.every((o) => ((current['storage-opts'] as unknown[]) ?? []).includes(o))
    : usesPool(current, options.poolDmName);
  if (!plan.alreadyConfigured && options.poolInUse) {
    plan.problems.push(
      `${options.poolInUse}: Docker refuses such a pool ("Unable to take ownership of thin-pool"): hand it a fresh pool`,
    );
    return plan;
  }
  const merge = mergeDaemonJson(current, 'devicemapper', managed ? managed.opts : dockerPoolOpts(options), contradictingKeys(managed));
  if (!merge.changed) {
    if (!isRunning(docker.service)) plan.notes.push({ level: 'info', text: `Docker is configured for the pool but not running: ${startHint(docker.service, 'docker')}` });
    return plan;
  }
  const service = docker.service;
  const managedBySystemd = service.kind === 'systemd' && (service.state === 'active' || service.state === 'activating');
  if (!managedBySystemd && service.kind === 'unmanaged' && service.running) {
    plan.problems.push('dockerd is running but not as an active systemd service, so dmctl cannot stop and restart it safely: stop it first, then run again');
    return plan;
  }
  if (managedBySystemd) {
    plan.steps.push(
      execStep(
        'stop-docker',
        'Stop Docker',
        systemctlArgv('stop', ...dockerUnits(service)),
        service.kind === 'systemd' && service.socket
          ? `Docker must not run while its storage driver and data root change; ${service.socket} too, or the first client connection would start it again half-way.`
          : 'Docker must not run while its storage driver and data root change.',
      ),
    );
  }
  if (docker.dataRootEntries > 0 && !plan.alreadyConfigured) {
    const backup = `${docker.dataRoot}.bk`;
    if (docker.dataRootIsMountPoint) {
      plan.problems.push(
        `${docker.dataRoot} is a mount point and not empty, so it cannot be moved aside: empty it (move its contents to a backup) or set another data-root, then run again`,
      );
      return plan;
    }
    if (docker.dataRootBackupExists) {
      plan.problems.push(`${docker.dataRoot} is not empty and ${backup} already exists: move or delete ${backup} first`);
      return plan;
    }
    plan.steps.push(
      moveStep(
        'move-docker-root',
        `Move ${docker.dataRoot} aside to ${backup}`,
        docker.dataRoot,
        backup,
        'Images and containers of the old storage driver would confuse devicemapper ("Base Device UUID verification failed"); they stay in the backup.',
      ),
    );
    plan.notes.push({ level: 'info', text: `existing images and containers stay in ${backup}; they are not visible to Docker on the new pool` });
  }
  plan.steps.push(
    writeFileStep(
      'write-daemon-json',
      `Configure Docker in ${docker.daemonJsonPath}`,
      {
        path: docker.daemonJsonPath,
        content: formatDaemonJson(merge.config),
        ...(docker.daemonJson !== undefined ? { backupTo: `${docker.daemonJsonPath}.dmctl.bak` } : {}),
      },
      `${merge.changes.join('; ')}. Every other key is kept${docker.daemonJson !== undefined ? `; the old file is kept as ${docker.daemonJsonPath}.dmctl.bak` : ''}.`,
    ),
  );
  if (managedBySystemd) {
    const why =
      managed?.kind === 'direct'
        ? 'Docker now sets up direct-lvm itself: it wipes and formats the disk (pvcreate -f), creates docker/thinpool and its profile.'
        : managed?.kind === 'loop'
          ? 'Docker now creates its sparse loop files and its pool (loop-lvm).'
          : 'Docker starts on the thin pool.';
    plan.steps.push({
      ...execStep('start-docker', 'Start Docker', systemctlArgv('start', ...dockerUnits(service)), why),
      destructive: managed?.startIsDestructive ?? false,
    });
    if (!managed) {
      plan.steps.push(
        checkStep(
          'verify-docker',
          'Verify Docker uses the pool',
          dockerDriverStatusArgv(),
          { includes: `["Pool Name","${options.poolDmName}"]` },
          'The guide\'s last step: `docker info` must name the pool.',
          60,
        ),
      );
    } else if (managed.kind === 'loop') {
      plan.steps.push(
        checkStep('verify-docker', 'Verify Docker uses its loop files', dockerDriverStatusArgv(), { includes: '"Data loop file"' },
          'The guide\'s last step: `docker info` must list the data and metadata loop files.', 60),
      );
    }
  } else {
    plan.notes.push({ level: 'info', text: `then start Docker: ${startHint(service, 'docker')}` });
  }
  return plan;
}

function planContainerd(containerd: ContainerdState, options: ConsumerOptions): ConsumerPlan {
  const plan = empty();
  if (!containerd.version) {
    plan.problems.push('containerd is not installed: install containerd 1.6 or newer (it has the devmapper snapshotter), or use --consumer none');
    return plan;
  }
  const change = mergeContainerdConfig(containerd.config, {
    poolName: options.poolDmName,
    rootPath: options.containerdRootPath,
    baseImageSize: options.baseImageSize,
  });
  if (change.kind === 'conflict') {
    plan.problems.push(`${containerd.configPath} cannot take the devmapper section: ${change.reason}: edit [plugins."${devmapperPlugin}"] by hand, or remove it and run again`);
    return plan;
  }
  plan.alreadyConfigured = change.kind === 'unchanged';
  if (!plan.alreadyConfigured && options.poolInUse) {
    plan.problems.push(`${options.poolInUse}: containerd fails on such a pool ("failed to create new thin device … file exists"): hand it a fresh pool`);
    return plan;
  }
  if (change.kind === 'unchanged') return plan;
  plan.steps.push(
    writeFileStep(
      'write-containerd-config',
      `Configure containerd's devmapper snapshotter in ${containerd.configPath}`,
      {
        path: containerd.configPath,
        content: change.content,
        ...(containerd.config !== undefined ? { backupTo: `${containerd.configPath}.dmctl.bak` } : {}),
      },
      `pool_name = "${options.poolDmName}", root_path = "${options.containerdRootPath}", base_image_size = "${options.baseImageSize}"; the rest of the file is kept.`,
    ),
  );
  const service = containerd.service;
  if (service.kind === 'systemd' && (service.state === 'active' || service.state === 'activating')) {
    plan.steps.push(
      execStep('restart-containerd', 'Restart containerd', systemctlArgv('restart', 'containerd.service'), 'containerd reads its snapshotters at start-up.'),
      checkStep(
        'verify-containerd',
        'Verify the devmapper snapshotter is loaded',
        ['ctr', 'plugins', 'ls', 'id==devmapper'],
        { includes: ' ok' },
        'The plugin reports `ok` only when it can open the pool.',
        30,
      ),
    );
  } else {
    plan.notes.push({ level: 'info', text: `then ${isRunning(service) ? 'restart' : 'start'} containerd so it loads the devmapper snapshotter: ${startHint(service, 'containerd')}` });
  }
  plan.notes.push({ level: 'info', text: 'containers use the pool with `--snapshotter devmapper` (ctr, nerdctl), or `snapshotter = "devmapper"` in the CRI plugin\'s containerd section for Kubernetes' });
  return plan;
}

function isRunning(service: ServiceState): boolean {
  return service.kind === 'systemd' ? service.state === 'active' || service.state === 'activating' : service.running;
}

function startHint(service: ServiceState, name: 'docker' | 'containerd'): string {
  if (service.kind === 'systemd') return `systemctl ${isRunning(service) ? 'restart' : 'start'} ${name}`;
  return name === 'docker' ? 'start dockerd (no systemd unit manages it here)' : 'start containerd (no systemd unit manages it here)';
}

/** docker.service, with its socket unit first when one is installed (stopped and started together). */
function dockerUnits(service: ServiceState): string[] {
  return service.kind === 'systemd' && service.socket ? [service.socket, 'docker.service'] : ['docker.service'];
}
