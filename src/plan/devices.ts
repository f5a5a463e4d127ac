/**
 * `status --devices`: which thin devices fill each pool and who owns them. Two pure steps around the
 * read in run/thin-usage.ts: `devicesTargets` picks the pools to read (and refuses what cannot be
 * read), `buildDevicesReport` joins thin_ls's rows with what the consumers recorded and ranks them.
 */
import type { ContainerdDevicesState, DevicesPoolState, DevicesState, DockerDevicesState } from '../model/state.js';
import type { SnapshotKind } from '../system/containerd-devices.js';
import { missingToolProblem } from '../model/tools.js';
import type { ThinDeviceUsage } from '../system/thin-ls.js';
import type { PoolReport, StatusReport, Usage } from './status.js';
import { refuseIfAny } from './steps.js';

export interface DevicesOptions {
  /** One pool: `VG/LV` or its dm name; undefined: every active pool. */
  pool?: string | undefined;
}

/** What a thin device belongs to, as far as its consumer recorded it. */
export type DeviceOwner =
  | { kind: 'docker-container'; containerId: string; name: string | undefined; image: string | undefined; layer: 'writable' | 'init' }
  /** `images`: the tagged images that have this layer. */
  | { kind: 'docker-image-layer'; chainId: string; images: string[] }
  | { kind: 'docker-base' }
  /** Docker records the device but no container or image layer uses it (`deleted`: deletion pending). */
  | { kind: 'docker-device'; hash: string; deleted: boolean }
  /** A containerd devmapper snapshot: `active` is a container's writable layer, `committed` an image layer. */
  | { kind: 'containerd-snapshot'; namespace: string; key: string; snapshotKind: SnapshotKind; deviceName: string }
  /** containerd records the device but no snapshot uses it (e.g. left over from a failed removal). */
  | { kind: 'containerd-device'; deviceName: string }
  | { kind: 'unknown' };

export interface DeviceRow extends ThinDeviceUsage {
  owner: DeviceOwner;
  /** The owner in one phrase (what the text view prints). */
  ownerText: string;
}

export interface PoolDevices {
  name: string;
  kind: 'lvm' | 'dm';
  dmName: string;
  /** The metadata device thin_ls read (from a metadata snapshot). */
  metadataDevice: string;
  chunkSizeBytes: number;
  data: Usage | undefined;
  /** Largest first: exclusive bytes (what removing the device frees), then mapped bytes, then id. */
  devices: DeviceRow[];
  /** Sum of the devices' exclusive bytes (the rest of the pool's used data is shared between devices). */
  exclusiveBytes: number;
}

export interface DevicesReport {
  formatVersion: 1;
  pools: PoolDevices[];
  /** Pools that were not read, and why (inactive, failed). */
  skipped: Array<{ name: string; reason: string }>;
}

export interface DevicesTarget {
  pool: PoolReport;
  kernel: DevicesPoolState;
  metadataDevice: string;
}

/** The kernel's thin-pool target of a status pool (`VG-POOL-tpool` when LVM made a linear stub on top). */
function kernelOf(pool: PoolReport, state: DevicesState): DevicesPoolState | undefined {
  return state.pools.find((p) => p.kernelName === `${pool.dmName}-tpool`) ?? state.pools.find((p) => p.kernelName === pool.dmName);
}

function unreadable(pool: PoolReport, kernel: DevicesPoolState | undefined): string | undefined {
  if (!pool.active || kernel === undefined) return 'inactive: no thin devices can be read';
  if (pool.mode === 'failed') return 'the kernel reports the pool failed';
  if (kernel.metadataDevice === undefined) return `its metadata device ${kernel.table.metadataDevice} is not in /sys/dev/block`;
  return undefined;
}

/** The pools to read. Refuses a missing thin_ls, an unknown --pool, and a named pool that cannot be read. */
export function devicesTargets(status: StatusReport, state: DevicesState, options: DevicesOptions): { targets: DevicesTarget[]; skipped: DevicesReport['skipped'] } {
  const named = options.pool === undefined ? undefined : status.pools.find((p) => p.name === options.pool || p.dmName === options.pool);
  const problems = state.missingTools.map(missingToolProblem);
  if (options.pool !== undefined && named === undefined) {
    const known = status.pools.map((p) => p.name).join(', ');
    problems.push(`--pool ${options.pool}: no such thin pool on this host (${known ? `pools: ${known}` : 'there is none'}); name one as \`dmctl status\` lists it`);
  }
  const pools = named ? [named] : status.pools;
  const skipped: DevicesReport['skipped'] = [];
  const targets: DevicesTarget[] = [];
  for (const pool of pools) {
    const kernel = kernelOf(pool, state);
    const why = unreadable(pool, kernel);
    if (why !== undefined && named) problems.push(`${pool.name}: ${why}`);
    if (why !== undefined) skipped.push({ name: pool.name, reason: why });
    else targets.push({ pool, kernel: kernel!, metadataDevice: kernel!.metadataDevice!.path });
  }
  refuseIfAny(problems);
  return { targets, skipped };
}

/** The report: each read pool's devices with their owners, largest first. */
export function buildDevicesReport(
  state: DevicesState,
  reads: ReadonlyArray<{ target: DevicesTarget; usage: readonly ThinDeviceUsage[] }>,
  skipped: DevicesReport['skipped'],
): DevicesReport {
  const pools = reads.map(({ target, usage }): PoolDevices => {
    const docker = target.pool.consumers.some((c) => c.kind === 'docker') ? state.docker : undefined;
    const containerd = state.containerd?.poolName === target.pool.dmName ? state.containerd : undefined;
    const owners = new Map([...dockerOwners(docker), ...containerdOwners(containerd)]);
    const devices = usage
      .map((u): DeviceRow => {
        const owner = owners.get(u.deviceId) ?? { kind: 'unknown' };
        return { ...u, owner, ownerText: ownerText(owner) };
      })
      .sort(largestFirst);
    return {
      name: target.pool.name,
      kind: target.pool.kind,
      dmName: target.pool.dmName,
      metadataDevice: target.metadataDevice,
      chunkSizeBytes: target.pool.chunkSizeBytes,
      data: target.pool.data,
      devices,
      exclusiveBytes: devices.reduce((sum, d) => sum + d.exclusiveBytes, 0),
    };
  });
  return { formatVersion: 1, pools, skipped };
}

export function largestFirst(a: ThinDeviceUsage, b: ThinDeviceUsage): number {
  return b.exclusiveBytes - a.exclusiveBytes || b.mappedBytes - a.mappedBytes || a.deviceId - b.deviceId;
}

/** Docker's device ids → owners: `base`, a container's writable or init layer, an image layer. */
export function dockerOwners(docker: DockerDevicesState | undefined): Map<number, DeviceOwner> {
  const owners = new Map<number, DeviceOwner>();
  if (!docker) return owners;
  const byHash = new Map<string, DeviceOwner>();
  for (const c of docker.containers) {
    const base = { kind: 'docker-container', containerId: c.id, name: c.name, image: c.image } as const;
    if (c.mountId) byHash.set(c.mountId, { ...base, layer: 'writable' });
    if (c.initId) byHash.set(c.initId, { ...base, layer: 'init' });
  }
  for (const l of docker.layers) {
    const images = (docker.images ?? []).filter((i) => i.chainIds.includes(l.chainId)).flatMap((i) => i.names);
    byHash.set(l.cacheId, { kind: 'docker-image-layer', chainId: l.chainId, images: [...new Set(images)].sort() });
  }
  for (const d of docker.devices) {
    const owner: DeviceOwner = d.hash === 'base' ? { kind: 'docker-base' } : (byHash.get(d.hash) ?? { kind: 'docker-device', hash: d.hash, deleted: d.deleted });
    owners.set(d.deviceId, owner);
  }
  return owners;
}

/** containerd's device ids → owners: device name `<pool>-snap-<N>` → the snapshot whose id is N. */
export function containerdOwners(containerd: ContainerdDevicesState | undefined): Map<number, DeviceOwner> {
  const owners = new Map<number, DeviceOwner>();
  if (!containerd) return owners;
  const byName = new Map(containerd.snapshots.map((s) => [`${containerd.poolName}-snap-${s.id}`, s]));
  for (const d of containerd.devices) {
    const s = byName.get(d.name);
    owners.set(
      d.deviceId,
      s ? { kind: 'containerd-snapshot', namespace: s.namespace, key: s.key, snapshotKind: s.kind, deviceName: d.name } : { kind: 'containerd-device', deviceName: d.name },
    );
  }
  return owners;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export function ownerText(owner: DeviceOwner): string {
  switch (owner.kind) {
    case 'docker-container': {
      const what = owner.layer === 'init' ? 'Docker container init layer' : 'Docker container';
      const details = [short(owner.containerId), owner.image].filter(Boolean).join(', ');
      return `${what} ${owner.name ?? short(owner.containerId)} (${details})`;
    }
    case 'docker-image-layer':
      return `Docker image layer ${short(owner.chainId)}${owner.images.length > 0 ? ` (${owner.images.join(', ')})` : ''}`;
    case 'docker-base':
      return 'Docker base device';
    case 'docker-device':
      return `Docker device ${short(owner.hash)}${owner.deleted ? ' (deleted, removal pending)' : ' (no container or image uses it)'}`;
    case 'containerd-snapshot': {
      const what = owner.snapshotKind === 'committed' ? 'containerd image layer' : owner.snapshotKind === 'view' ? 'containerd view snapshot' : 'containerd snapshot';
      const key = owner.snapshotKind === 'committed' ? short(owner.key) : owner.key;
      return `${what} ${key} (${[owner.snapshotKind === 'active' ? 'active' : undefined, `namespace ${owner.namespace}`, owner.deviceName].filter(Boolean).join(', ')})`;
    }
    case 'containerd-device':
      return `containerd device ${owner.deviceName} (no snapshot uses it)`;
    case 'unknown':
      return 'not recorded by Docker or containerd';
  }
}
