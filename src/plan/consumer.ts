/**
 * Hands a pool to its consumer: Docker's daemon.json (devicemapper) or containerd's devmapper
 * snapshotter section, with the service stopped/started around the change when systemd runs it.
 *
 * Two phases, as every planner: `decideConsumer` looks at the consumer and returns its refusals and
 * what it decided (the hand-over); `consumerSteps` and `consumerNotes` turn a hand-over into steps.
 */
import { ctrDevmapperPluginArgv, devmapperPlugin, mergeContainerdConfig } from '../system/containerd.js';
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
import { isServiceRunning, type ConsumerState, type ContainerdState, type DockerState, type ServiceState } from '../model/state.js';
import { checkStep, execStep, moveStep, writeFileStep } from './steps.js';
import type { Note, Step } from './types.js';

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
  dockerManaged?: DockerManaged;
}

export interface DockerManaged {
  kind: 'direct' | 'loop';
  opts: readonly string[];
  startIsDestructive: boolean;
}

/** What the consumer planner decided: nothing to change, or a new config for Docker or containerd. */
export type HandOver =
  | { kind: 'nothing'; notes: Note[] }
  | {
      kind: 'docker';
      docker: DockerState;
      poolDmName: string;
      config: DaemonConfig;
      changes: string[];
      /** systemd runs Docker: dmctl stops it before the change and starts it afterwards. */
      restarts: boolean;
      /** The old data root moves aside (it holds another driver's images). */
      moveAside: boolean;
      managed: DockerManaged | undefined;
    }
  | { kind: 'containerd'; containerd: ContainerdState; content: string; restarts: boolean; options: ConsumerOptions };

export interface ConsumerDecision {
  /** One line each: the problem and the fix. Empty when the hand-over can go ahead. */
  problems: string[];
  handOver: HandOver;
}

const nothing = (notes: Note[] = []): HandOver => ({ kind: 'nothing', notes });
const refused = (problem: string): ConsumerDecision => ({ problems: [problem], handOver: nothing() });

export function decideConsumer(consumer: ConsumerState, options: ConsumerOptions): ConsumerDecision {
  if (consumer.kind === 'docker') return decideDocker(consumer.docker, options);
  if (consumer.kind === 'containerd') return decideContainerd(consumer.containerd, options);
  return { problems: [], handOver: nothing() };
}

export function consumerSteps(handOver: HandOver): Step[] {
  if (handOver.kind === 'docker') return dockerSteps(handOver);
  if (handOver.kind === 'containerd') return containerdSteps(handOver);
  return [];
}

export function consumerNotes(handOver: HandOver): Note[] {
  if (handOver.kind === 'docker') return dockerNotes(handOver);
  if (handOver.kind === 'containerd') return containerdNotes(handOver);
  return handOver.notes;
}

/** The hand-over starts Docker (so whatever Docker builds at start can be waited for). */
export function startsDocker(handOver: HandOver): boolean {
  return handOver.kind === 'docker' && handOver.restarts;
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

// --- Docker ------------------------------------------------------------------------------------

/** Options that belong to one way of giving Docker its pool and contradict the others. */
const directLvmKeys = ['dm.directlvm_device', 'dm.directlvm_device_force', 'dm.thinp_percent', 'dm.thinp_metapercent', 'dm.thinp_autoextend_threshold', 'dm.thinp_autoextend_percent'];
const loopKeys = ['dm.loopdatasize', 'dm.loopmetadatasize', 'dm.datadev', 'dm.metadatadev'];
function contradictingKeys(managed: DockerManaged | undefined): string[] {
  if (!managed) return [...directLvmKeys, ...loopKeys];
  if (managed.kind === 'direct') return ['dm.thinpooldev', ...loopKeys];
  return ['dm.thinpooldev', ...directLvmKeys, 'dm.datadev', 'dm.metadatadev'];
}

function decideDocker(docker: DockerState, options: ConsumerOptions): ConsumerDecision {
  const engineProblem = dockerEngineProblem(docker);
  if (engineProblem) return refused(engineProblem);
  let current: DaemonConfig;
  try {
    current = docker.daemonJson === undefined ? {} : parseDaemonJson(docker.daemonJson);
  } catch (error) {
    return refused(`${docker.daemonJsonPath} is not valid JSON (${(error as Error).message}), and Docker would not start with it: fix or remove it first`);
  }
  const managed = options.dockerManaged;
  const alreadyConfigured = managed
    ? current['storage-driver'] === 'devicemapper' && managed.opts.every((o) => ((current['storage-opts'] as unknown[]) ?? []).includes(o))
    : dockerPoolUse(current)?.thinPoolDm === options.poolDmName;
  if (!alreadyConfigured && options.poolInUse) {
    return refused(`${options.poolInUse}: Docker refuses such a pool ("Unable to take ownership of thin-pool"): hand it a fresh pool`);
  }
  const merge = mergeDaemonJson(current, 'devicemapper', managed ? managed.opts : dockerPoolOpts(options), contradictingKeys(managed));
  if (!merge.changed) {
    return { problems: [], handOver: nothing(isServiceRunning(docker.service) ? [] : [{ level: 'info', text: `Docker is configured for the pool but not running: ${startHint(docker.service, 'docker')}` }]) };
  }
  const restarts = isSystemdRunning(docker.service);
  const moveAside = docker.dataRootEntries > 0 && !alreadyConfigured;
  const problem = (!restarts && isServiceRunning(docker.service) ? 'dockerd is running but not as an active systemd service, so dmctl cannot stop and restart it safely: stop it first, then run again' : undefined) ??
    (moveAside ? dataRootProblem(docker) : undefined);
  if (problem) return refused(problem);
  return { problems: [], handOver: { kind: 'docker', docker, poolDmName: options.poolDmName, config: merge.config, changes: merge.changes, restarts, moveAside, managed } };
}

function dockerEngineProblem(docker: DockerState): string | undefined {
  if (!docker.engine) {
    return 'dockerd is not installed: install Docker Engine 24 or older (e.g. Debian\'s docker.io), or use --consumer containerd or --consumer none';
  }
  if (docker.engine.major > lastEngineWithDevicemapper) {
    return `Docker Engine ${docker.engine.major}.${docker.engine.minor} has no devicemapper storage driver (removed in Engine 25), so storage-driver "devicemapper" would keep it from starting: use --consumer containerd (containerd's devmapper snapshotter), or --consumer none`;
  }
  return undefined;
}

/** Why a non-empty data root cannot be moved aside, if it cannot. */
function dataRootProblem(docker: DockerState): string | undefined {
  if (docker.dataRootIsMountPoint) {
    return `${docker.dataRoot} is a mount point and not empty, so it cannot be moved aside: empty it (move its contents to a backup) or set another data-root, then run again`;
  }
  if (docker.dataRootBackupExists) return `${docker.dataRoot} is not empty and ${docker.dataRoot}.bk already exists: move or delete ${docker.dataRoot}.bk first`;
  return undefined;
}

type DockerHandOver = Extract<HandOver, { kind: 'docker' }>;

function dockerSteps(h: DockerHandOver): Step[] {
  const { docker } = h;
  const backup = `${docker.dataRoot}.bk`;
  return [
    ...(h.restarts ? [stopDockerStep(docker.service)] : []),
    ...(h.moveAside
      ? [moveStep('move-docker-root', `Move ${docker.dataRoot} aside to ${backup}`, docker.dataRoot, backup,
          'Images and containers of the old storage driver would confuse devicemapper ("Base Device UUID verification failed"); they stay in the backup.')]
      : []),
    writeFileStep(
      'write-daemon-json',
      `Configure Docker in ${docker.daemonJsonPath}`,
      { path: docker.daemonJsonPath, content: formatDaemonJson(h.config), ...(docker.daemonJson !== undefined ? { backupTo: `${docker.daemonJsonPath}.dmctl.bak` } : {}) },
      `${h.changes.join('; ')}. Every other key is kept${docker.daemonJson !== undefined ? `; the old file is kept as ${docker.daemonJsonPath}.dmctl.bak` : ''}.`,
    ),
    ...(h.restarts ? startDockerSteps(h) : []),
  ];
}

function stopDockerStep(service: ServiceState): Step {
  const socket = service.kind === 'systemd' ? service.socket : undefined;
  return execStep('stop-docker', 'Stop Docker', systemctlArgv('stop', ...dockerUnits(service)),
    socket
      ? `Docker must not run while its storage driver and data root change; ${socket} too, or the first client connection would start it again half-way.`
      : 'Docker must not run while its storage driver and data root change.');
}

function startDockerSteps(h: DockerHandOver): Step[] {
  const { managed } = h;
  const why =
    managed?.kind === 'direct' ? 'Docker now sets up direct-lvm itself: it wipes and formats the disk (pvcreate -f), creates docker/thinpool and its profile.'
    : managed?.kind === 'loop' ? 'Docker now creates its sparse loop files and its pool (loop-lvm).'
    : 'Docker starts on the thin pool.';
  const start = { ...execStep('start-docker', 'Start Docker', systemctlArgv('start', ...dockerUnits(h.docker.service)), why), destructive: managed?.startIsDestructive ?? false };
  if (!managed) {
    return [start, checkStep('verify-docker', 'Verify Docker uses the pool', dockerDriverStatusArgv(), { includes: `["Pool Name","${h.poolDmName}"]` },
      'The guide\'s last step: `docker info` must name the pool.', 60)];
  }
  if (managed.kind === 'loop') {
    return [start, checkStep('verify-docker', 'Verify Docker uses its loop files', dockerDriverStatusArgv(), { includes: '"Data loop file"' },
      'The guide\'s last step: `docker info` must list the data and metadata loop files.', 60)];
  }
  return [start];
}

function dockerNotes(h: DockerHandOver): Note[] {
  return [
    ...(h.moveAside ? [{ level: 'info' as const, text: `existing images and containers stay in ${h.docker.dataRoot}.bk; they are not visible to Docker on the new pool` }] : []),
    ...(h.restarts ? [] : [{ level: 'info' as const, text: `then start Docker: ${startHint(h.docker.service, 'docker')}` }]),
  ];
}

/** docker.service, with its socket unit first when one is installed (stopped and started together). */
function dockerUnits(service: ServiceState): string[] {
  return service.kind === 'systemd' && service.socket ? [service.socket, 'docker.service'] : ['docker.service'];
}

// --- containerd --------------------------------------------------------------------------------

function decideContainerd(containerd: ContainerdState, options: ConsumerOptions): ConsumerDecision {
  if (!containerd.version) {
    return refused('containerd is not installed: install containerd 1.6 or newer (it has the devmapper snapshotter), or use --consumer none');
  }
  const change = mergeContainerdConfig(containerd.config, { poolName: options.poolDmName, rootPath: options.containerdRootPath, baseImageSize: options.baseImageSize });
  if (change.kind === 'conflict') {
    return refused(`${containerd.configPath} cannot take the devmapper section: ${change.reason}: edit [plugins."${devmapperPlugin}"] by hand, or remove it and run again`);
  }
  if (change.kind === 'unchanged') return { problems: [], handOver: nothing() };
  if (options.poolInUse) {
    return refused(`${options.poolInUse}: containerd fails on such a pool ("failed to create new thin device … file exists"): hand it a fresh pool`);
  }
  return { problems: [], handOver: { kind: 'containerd', containerd, content: change.content, restarts: isSystemdRunning(containerd.service), options } };
}

type ContainerdHandOver = Extract<HandOver, { kind: 'containerd' }>;

function containerdSteps(h: ContainerdHandOver): Step[] {
  const { containerd, options } = h;
  const write = writeFileStep(
    'write-containerd-config',
    `Configure containerd's devmapper snapshotter in ${containerd.configPath}`,
    { path: containerd.configPath, content: h.content, ...(containerd.config !== undefined ? { backupTo: `${containerd.configPath}.dmctl.bak` } : {}) },
    `pool_name = "${options.poolDmName}", root_path = "${options.containerdRootPath}", base_image_size = "${options.baseImageSize}"; the rest of the file is kept.`,
  );
  if (!h.restarts) return [write];
  return [
    write,
    execStep('restart-containerd', 'Restart containerd', systemctlArgv('restart', 'containerd.service'), 'containerd reads its snapshotters at start-up.'),
    checkStep('verify-containerd', 'Verify the devmapper snapshotter is loaded', ctrDevmapperPluginArgv(), { includes: ' ok' }, 'The plugin reports `ok` only when it can open the pool.', 30),
  ];
}

function containerdNotes(h: ContainerdHandOver): Note[] {
  const service = h.containerd.service;
  return [
    ...(h.restarts ? [] : [{ level: 'info' as const, text: `then ${isServiceRunning(service) ? 'restart' : 'start'} containerd so it loads the devmapper snapshotter: ${startHint(service, 'containerd')}` }]),
    { level: 'info', text: 'containers use the pool with `--snapshotter devmapper` (ctr, nerdctl), or `snapshotter = "devmapper"` in the CRI plugin\'s containerd section for Kubernetes' },
  ];
}

// --- services ----------------------------------------------------------------------------------

/** systemd runs the daemon now: dmctl can stop and start it through systemctl. */
function isSystemdRunning(service: ServiceState): boolean {
  return service.kind === 'systemd' && isServiceRunning(service);
}

function startHint(service: ServiceState, name: 'docker' | 'containerd'): string {
  if (service.kind === 'systemd') return `systemctl ${isServiceRunning(service) ? 'restart' : 'start'} ${name}`;
  return name === 'docker' ? 'start dockerd (no systemd unit manages it here)' : 'start containerd (no systemd unit manages it here)';
}
