/**
 * What containerd 1.6's devmapper snapshotter records about its thin devices, in two bolt files under
 * its `root_path` (recorded in the real-kernel guest; see test/fixtures/…/devices/):
 *
 * - `<root_path>/<pool_name>.db`, bucket `devices`: device name (`<pool>-snap-<N>`) → JSON
 *   `{"device_id":…,"size":…,"name":…,"parent_name":…,"state":…,"error":""}`;
 * - `<root_path>/metadata.db`, bucket `v1` → `snapshots`: one bucket per snapshot, keyed
 *   `<namespace>/<txn>/<key>` (the key `ctr snapshots ls` shows), with `id` (uvarint: the N of its
 *   device name) and `kind` (1 view, 2 active, 3 committed).
 *
 * containerd keeps both files open (and bolt-locked) while it runs; they are read as bytes, which bolt's
 * advisory lock does not prevent (see bolt.ts). `ctr` shows snapshot keys but not their thin device ids,
 * and a committed snapshot's device is not active, so dm tables cannot name it either.
 */
import * as z from 'zod/mini';
import '../zod-locale.js';
import { boltText, openBolt, uvarint } from './bolt.js';

export const defaultDevmapperRoot = '/var/lib/containerd/io.containerd.snapshotter.v1.devmapper';
export const devmapperPoolDbPath = (rootPath: string, poolName: string) => `${rootPath}/${poolName}.db`;
export const devmapperMetastorePath = (rootPath: string) => `${rootPath}/metadata.db`;

export interface ContainerdDevice {
  /** `<pool>-snap-<N>`. */
  name: string;
  deviceId: number;
}

const DeviceInfoSchema = z.object({ device_id: z.int().check(z.nonnegative()), name: z.string() });

/** The `devices` bucket of `<pool>.db`. */
export function parseDevmapperPoolDb(data: Uint8Array): ContainerdDevice[] {
  const devices = openBolt(data).bucket('devices');
  if (!devices) return [];
  return devices.entries().map((e) => {
    const info = DeviceInfoSchema.parse(JSON.parse(boltText(e.value) ?? ''));
    return { name: info.name, deviceId: info.device_id };
  });
}

export type SnapshotKind = 'view' | 'active' | 'committed' | 'unknown';

export interface ContainerdSnapshot {
  /** The N of its device name `<pool>-snap-<N>`. */
  id: number;
  namespace: string;
  /** The key as `ctr snapshots ls` shows it (for a container started by ctr, nerdctl or the CRI: the container's id). */
  key: string;
  kind: SnapshotKind;
}

const kinds: Record<number, SnapshotKind> = { 1: 'view', 2: 'active', 3: 'committed' };

/** The `v1/snapshots` buckets of the snapshotter's metadata.db. */
export function parseDevmapperMetastore(data: Uint8Array): ContainerdSnapshot[] {
  const snapshots = openBolt(data).bucket('v1')?.bucket('snapshots');
  if (!snapshots) return [];
  return snapshots.entries().flatMap((e) => {
    const id = uvarint(e.bucket?.get('id'));
    const m = /^([^/]+)\/\d+\/(.+)$/.exec(boltText(e.key) ?? '');
    if (id === undefined || !m) throw new Error(`unexpected snapshot record ${JSON.stringify(boltText(e.key))}`);
    const kind = e.bucket?.get('kind')?.[0];
    return [{ id, namespace: m[1]!, key: m[2]!, kind: kinds[kind ?? 0] ?? 'unknown' }];
  });
}
