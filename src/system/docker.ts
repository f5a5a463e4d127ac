/**
 * Docker as a consumer: the engine's version (never the client's), daemon.json read and merge.
 */
import { configSize } from '../units.js';
import type { Argv, Query } from './exec.js';

export interface EngineVersion {
  major: number;
  minor: number;
  raw: string;
}

/** `Docker version 20.10.24+dfsg1, build 297e128` → 20.10. */
export function parseDockerVersion(text: string): EngineVersion {
  const m = /version v?(\d+)\.(\d+)/i.exec(text);
  if (!m) throw new Error(`no version in ${JSON.stringify(text.trim())}`);
  return { major: Number(m[1]), minor: Number(m[2]), raw: text.trim() };
}

/**
 * The engine's own version. A newer `docker` client often sits beside an older engine, so the
 * client says nothing about which storage drivers the engine has.
 */
export function dockerdVersionQuery(): Query<EngineVersion> {
  return { argv: ['dockerd', '--version'], parse: parseDockerVersion };
}

/** Docker Engine 25 removed the devicemapper storage driver. */
export const lastEngineWithDevicemapper = 24;

const keyOf = (opt: string) => opt.split('=', 1)[0]!;

export const defaultDaemonJsonPath = '/etc/docker/daemon.json';
export const defaultDockerRoot = '/var/lib/docker';

export type DaemonConfig = Record<string, unknown>;

/** Parses daemon.json; Docker refuses to start on invalid JSON, so do we. */
export function parseDaemonJson(text: string): DaemonConfig {
  if (text.trim() === '') return {};
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
  return value as DaemonConfig;
}

/** What daemon.json tells about the devicemapper pool Docker uses. */
export interface DockerPoolUse {
  /** dm name of the pool (`dm.thinpooldev`, its /dev/mapper/ prefix removed); undefined when Docker builds its own. */
  thinPoolDm: string | undefined;
  /** Docker builds the pool itself on `dm.directlvm_device` (VG docker, LV thinpool). */
  directLvm: boolean;
  /** `dm.basesize`: each container's thin device (Docker's default 10G). */
  baseSizeBytes: number;
  /** `dm.min_free_space`: Docker refuses new devices below this much free data or metadata (default 10%). */
  minFreeSpacePercent: number;
}

const dockerDefaultBaseSize = 10 * 1024 ** 3;
const dockerDefaultMinFreeSpace = 10;

/** Docker's devicemapper settings, or undefined when daemon.json does not select devicemapper. */
export function dockerPoolUse(config: DaemonConfig): DockerPoolUse | undefined {
  if (config['storage-driver'] !== 'devicemapper') return undefined;
  const opts = Array.isArray(config['storage-opts']) ? config['storage-opts'].filter((o): o is string => typeof o === 'string') : [];
  const value = (key: string) => opts.find((o) => keyOf(o) === key)?.slice(key.length + 1);
  const minFree = /^(\d+(?:\.\d+)?)%$/.exec(value('dm.min_free_space') ?? '');
  return {
    thinPoolDm: value('dm.thinpooldev')?.replace(/^\/dev\/mapper\//, ''),
    directLvm: value('dm.directlvm_device') !== undefined,
    baseSizeBytes: configSize(value('dm.basesize')) ?? dockerDefaultBaseSize,
    minFreeSpacePercent: minFree ? Number(minFree[1]) : dockerDefaultMinFreeSpace,
  };
}

export interface DaemonJsonMerge {
  config: DaemonConfig;
  /** Human lines for the plan: what changes and what was dropped. */
  changes: string[];
  changed: boolean;
}

/**
 * Sets `storage-driver` and the given storage options, keeping every other key. Options of another
 * driver are dropped (devicemapper refuses unknown options); other `dm.*` options are kept.
 */
export function mergeDaemonJson(
  current: DaemonConfig,
  storageDriver: string,
  storageOpts: readonly string[],
  /** Option keys that contradict this setup (e.g. `dm.thinpooldev` when Docker builds its own pool). */
  removeKeys: readonly string[] = [],
): DaemonJsonMerge {
  const changes: string[] = [];
  const previousOpts = Array.isArray(current['storage-opts']) ? (current['storage-opts'] as unknown[]).map(String) : [];
  const wanted = new Map(storageOpts.map((o) => [keyOf(o), o]));
  const driverPrefix = storageDriver === 'devicemapper' ? 'dm.' : `${storageDriver}.`;
  const kept: string[] = [];
  for (const opt of previousOpts) {
    if (wanted.has(keyOf(opt))) continue;
    if (removeKeys.includes(keyOf(opt))) {
      changes.push(`drop storage option ${opt} (it contradicts this setup)`);
      continue;
    }
    if (!opt.startsWith(driverPrefix)) {
      changes.push(`drop storage option ${opt} (not a ${storageDriver} option)`);
      continue;
    }
    kept.push(opt);
  }
  const nextOpts = [...kept, ...wanted.values()];
  if (current['storage-driver'] !== storageDriver) {
    const was = current['storage-driver'];
    changes.push(`storage-driver "${storageDriver}" (${was === undefined ? 'was unset' : `was ${JSON.stringify(was)}`})`);
  }
  for (const opt of wanted.values()) if (!previousOpts.includes(opt)) changes.push(`add storage option ${opt}`);
  const config: DaemonConfig = { ...current, 'storage-driver': storageDriver, 'storage-opts': nextOpts };
  const changed = JSON.stringify(canonical(config)) !== JSON.stringify(canonical(current));
  return { config, changes: changed ? changes : [], changed };
}

function canonical(c: DaemonConfig): DaemonConfig {
  const opts = c['storage-opts'];
  return { ...c, 'storage-opts': Array.isArray(opts) ? [...opts].map(String).sort() : opts };
}

export function formatDaemonJson(config: DaemonConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** What the verify step asks the daemon: the storage driver's status pairs. */
export function dockerDriverStatusArgv(): Argv {
  return ['docker', 'info', '--format', '{{.Driver}} {{json .DriverStatus}}'];
}
