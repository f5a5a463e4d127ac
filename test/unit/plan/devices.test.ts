/** `status --devices` planning: which pools are read, the owners, the ranking — on recorded states. */
import { describe, expect, it } from 'vitest';
import { buildDevicesReport, devicesTargets, dockerOwners, largestFirst, ownerText } from '../../../src/plan/devices.js';
import { buildStatus } from '../../../src/plan/status.js';
import { probeDevices } from '../../../src/probe/devices.js';
import type { DevicesState, StatusState } from '../../../src/model/state.js';
import { thinPoolStatusesQuery, thinPoolTablesQuery } from '../../../src/system/dmsetup.js';
import { lvsQuery } from '../../../src/system/lvm.js';
import { parseThinLs } from '../../../src/system/thin-ls.js';
import { FakeExecutor } from '../../helpers/fake-executor.js';
import { capture, devicesFiles, devicesTree, dockerIds } from '../../helpers/devices-host.js';
import { refusal } from '../../helpers/refusal.js';

/** `fn` refuses with exactly this one-line message. */
const expectRefusal = (fn: () => unknown, message: string) => expect(refusal(fn)).toBe(message);

/** The recorded guest: docker/thinpool (Docker, three containers) and ctd/thinpool (containerd). */
function statusState(): StatusState {
  return {
    deviceMapperLoaded: true,
    lvs: lvsQuery().parse(capture('lvs')),
    dmTables: [],
    dmStatuses: thinPoolStatusesQuery().parse(capture('dmsetup-status')),
    lvmConfig: { profileDir: '/etc/lvm/profile', threshold: 100, percent: 20 },
    profiles: {},
    loops: [],
    daemonJson: capture('daemon-json'),
    containerdConfig: capture('containerd-config'),
  };
}

async function devicesState(tree = devicesTree(), programs = ['dmsetup', 'thin_ls'], containerd = true): Promise<DevicesState> {
  const executor = new FakeExecutor().on(thinPoolTablesQuery().argv, { stdout: capture('dmsetup-table') });
  const files = devicesFiles({ tree, programs, containerd });
  return probeDevices({ executor, files, uid: 0 }, { daemonJson: capture('daemon-json'), containerdConfig: capture('containerd-config') }, true);
}

describe('the devices probe on the recorded guest', () => {
  it("finds each pool's metadata device through /sys (no udev needed) and Docker's records", async () => {
    const state = await devicesState();
    expect(state.missingTools).toEqual([]);
    const docker = state.pools.find((p) => p.kernelName === 'docker-thinpool');
    expect(docker?.metadataDevice).toEqual({ path: '/dev/mapper/docker-thinpool_tmeta', dmName: 'docker-thinpool_tmeta' });
    expect(state.pools.find((p) => p.kernelName === 'ctd-thinpool')?.metadataDevice).toEqual({ path: '/dev/mapper/ctd-thinpool_tmeta', dmName: 'ctd-thinpool_tmeta' });
    expect(state.docker?.devices.map((d) => d.deviceId).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(state.docker?.containers.map((c) => c.name).sort()).toEqual(['big', 'mid', 'small']);
    expect(state.docker?.layers).toHaveLength(1);
  });

  it('without /dev/mapper nodes it names the kernel device (/dev/dm-0)', async () => {
    const tree = { ...devicesTree(), blockDevices: [] };
    const state = await devicesState(tree);
    expect(state.pools.find((p) => p.kernelName === 'docker-thinpool')?.metadataDevice).toEqual({ path: '/dev/dm-0', dmName: 'docker-thinpool_tmeta' });
  });

  it('a host without Docker devicemapper records has no Docker part', async () => {
    const state = await devicesState({ files: {}, dirs: {}, blockDevices: [] });
    expect(state.docker).toBeUndefined();
  });
});

describe('devicesTargets', () => {
  it('reads every active pool, each through its metadata device', async () => {
    const { targets, skipped } = devicesTargets(buildStatus(statusState()), await devicesState(), {});
    expect(targets.map((t) => [t.pool.name, t.kernel.kernelName, t.metadataDevice])).toEqual([
      ['ctd/thinpool', 'ctd-thinpool', '/dev/mapper/ctd-thinpool_tmeta'],
      ['docker/thinpool', 'docker-thinpool', '/dev/mapper/docker-thinpool_tmeta'],
    ]);
    expect(skipped).toEqual([]);
  });

  it('skips a pool whose metadata device /sys does not know, saying why', async () => {
    const tree = devicesTree();
    for (const f of Object.keys(tree.files)) if (f.startsWith('/sys/dev/block/254:3/')) delete tree.files[f];
    const { targets, skipped } = devicesTargets(buildStatus(statusState()), await devicesState(tree), {});
    expect(targets.map((t) => t.pool.name)).toEqual(['docker/thinpool']);
    expect(skipped).toEqual([{ name: 'ctd/thinpool', reason: 'its metadata device 254:3 is not in /sys/dev/block' }]);
  });

  it('--pool picks one pool by VG/LV or by dm name', async () => {
    const state = await devicesState();
    for (const pool of ['docker/thinpool', 'docker-thinpool']) {
      expect(devicesTargets(buildStatus(statusState()), state, { pool }).targets.map((t) => t.pool.name)).toEqual(['docker/thinpool']);
    }
  });

  it('refuses an unknown --pool, naming the pools there are', async () => {
    const state = await devicesState();
    expectRefusal(() => devicesTargets(buildStatus(statusState()), state, { pool: 'nope' }), '--pool nope: no such thin pool on this host (pools: ctd/thinpool, docker/thinpool); name one as `dmctl status` lists it');
  });

  it('refuses a named pool it cannot read, and a missing thin_ls', async () => {
    expectRefusal(() => devicesTargets(buildStatus(statusState()), { pools: [], missingTools: [], docker: undefined }, { pool: 'docker/thinpool' }), 'docker/thinpool: inactive: no thin devices can be read');
    const noTool = await devicesState(devicesTree(), ['dmsetup']);
    expectRefusal(() => devicesTargets(buildStatus(statusState()), noTool, {}), 'thin_ls is not installed: install thin-provisioning-tools first');
  });
});

describe('buildDevicesReport', () => {
  async function report() {
    const state = await devicesState();
    const { targets, skipped } = devicesTargets(buildStatus(statusState()), state, { pool: 'docker/thinpool' });
    return buildDevicesReport(state, [{ target: targets[0]!, usage: parseThinLs(capture('thin-ls')) }], skipped);
  }

  it('ranks the containers by the bytes only they map: big (40 MiB), mid (20), small (10), and names them', async () => {
    const pool = (await report()).pools[0]!;
    const ids = dockerIds();
    const writable = pool.devices.filter((d) => d.owner.kind === 'docker-container' && d.owner.layer === 'writable');
    expect(writable.map((d) => d.owner.kind === 'docker-container' && d.owner.name)).toEqual(['big', 'mid', 'small']);
    expect(writable.map((d) => d.owner.kind === 'docker-container' && d.owner.containerId)).toEqual([ids.big, ids.mid, ids.small]);
    expect(pool.devices[0]).toMatchObject({ deviceId: 6, exclusiveBytes: 44040192, ownerText: `Docker container big (${ids.big!.slice(0, 12)}, tiny:1)` });
  });

  it('names every device of the pool: base, image layer, init layers', async () => {
    const pool = (await report()).pools[0]!;
    expect(pool.devices.filter((d) => d.owner.kind === 'unknown')).toEqual([]);
    expect(pool.devices.find((d) => d.deviceId === 1)?.owner).toEqual({ kind: 'docker-base' });
    // The image layer is named by the image that has it (repositories.json, its config's diff ids → chain ids).
    const layer = pool.devices.find((d) => d.deviceId === 2)!;
    expect(layer.owner).toMatchObject({ kind: 'docker-image-layer', images: ['tiny:1'] });
    expect(layer.ownerText).toMatch(/^Docker image layer [0-9a-f]{12} \(tiny:1\)$/);
    expect(pool.devices.filter((d) => d.owner.kind === 'docker-container' && d.owner.layer === 'init')).toHaveLength(3);
    expect(pool.exclusiveBytes).toBe(parseThinLs(capture('thin-ls')).reduce((s, r) => s + r.exclusiveBytes, 0));
  });

  it('largest first: exclusive bytes, then mapped bytes, then the lower id', () => {
    const rows = [
      { deviceId: 3, mappedBytes: 10, exclusiveBytes: 1, sharedBytes: 9 },
      { deviceId: 1, mappedBytes: 20, exclusiveBytes: 1, sharedBytes: 19 },
      { deviceId: 2, mappedBytes: 20, exclusiveBytes: 1, sharedBytes: 19 },
      { deviceId: 4, mappedBytes: 5, exclusiveBytes: 5, sharedBytes: 0 },
    ];
    expect([...rows].sort(largestFirst).map((r) => r.deviceId)).toEqual([4, 1, 2, 3]);
  });

  it("Docker's records are not applied to a pool Docker is not configured for", async () => {
    const state = await devicesState();
    const status = buildStatus({ ...statusState(), daemonJson: undefined });
    const { targets, skipped } = devicesTargets(status, state, { pool: 'docker/thinpool' });
    const pool = buildDevicesReport(state, [{ target: targets[0]!, usage: parseThinLs(capture('thin-ls')) }], skipped).pools[0]!;
    expect(pool.devices.every((d) => d.owner.kind === 'unknown')).toBe(true);
    expect(pool.devices[0]?.ownerText).toBe('not recorded by Docker or containerd');
  });

  it('a device Docker records but nothing uses: deleted (removal pending) or left over', () => {
    const owners = dockerOwners({ dataRoot: '/var/lib/docker', devices: [{ hash: 'abc', deviceId: 9, sizeBytes: 1, deleted: true }], containers: [], layers: [] });
    expect(ownerText(owners.get(9)!)).toBe('Docker device abc (deleted, removal pending)');
  });
});

describe('containerd owners', () => {
  it("names the containerd pool's devices from the snapshotter's records: two active snapshots, one image layer", async () => {
    const state = await devicesState();
    const { targets, skipped } = devicesTargets(buildStatus(statusState()), state, { pool: 'ctd/thinpool' });
    const pool = buildDevicesReport(state, [{ target: targets[0]!, usage: parseThinLs(capture('ctd-thin-ls')) }], skipped).pools[0]!;
    expect(pool.devices.map((d) => d.owner.kind === 'containerd-snapshot' && [d.owner.key.slice(0, 7), d.owner.snapshotKind])).toEqual([
      ['cbig', 'active'],
      ['csmall', 'active'],
      ['sha256:', 'committed'],
    ]);
    expect(pool.devices[0]?.ownerText).toMatch(/^containerd snapshot cbig \(active, namespace default, ctd-thinpool-snap-\d+\)$/);
    expect(pool.devices[2]?.ownerText).toMatch(/^containerd image layer [0-9a-f]{12} \(namespace default, ctd-thinpool-snap-\d+\)$/);
  });

  it("containerd's records are not applied to Docker's pool", async () => {
    const state = await devicesState();
    const { targets, skipped } = devicesTargets(buildStatus(statusState()), state, { pool: 'docker/thinpool' });
    const pool = buildDevicesReport(state, [{ target: targets[0]!, usage: parseThinLs(capture('thin-ls')) }], skipped).pools[0]!;
    expect(pool.devices.some((d) => d.owner.kind.startsWith('containerd'))).toBe(false);
  });

  it('without its bolt files (containerd never used the pool) the devices are unnamed, not guessed', async () => {
    const state = await devicesState(devicesTree(), ['dmsetup', 'thin_ls'], false);
    expect(state.containerd).toBeUndefined();
  });
});
