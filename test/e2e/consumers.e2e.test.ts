/**
 * Real consumers on a dmctl-built pool, on a real dm-thin kernel (User-Mode Linux guest): Docker Engine
 * 20.10's devicemapper graph driver and containerd 1.6's devmapper snapshotter (Debian docker.io), each
 * started by the scenario (the guest has no systemd, so dmctl starts nothing), running a container
 * whose writes land in the pool. Facts behind the expectations: /work/shared/reference/real-consumers.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from './scenario.js';
import { dockerImport, ociArchive, rootfsTarball } from './images.js';

type Scenario = ScenarioResult & { cleanup(): Promise<void> };

interface PoolStatus {
  dmName: string;
  transactionId: number;
  data: { usedBytes: number; totalBytes: number };
  consumers: Array<{ kind: string; baseSizeBytes?: number; minFreeSpacePercent?: number }>;
}

/** pools[0] of a recorded `dmctl --json status`. */
async function pool(s: Scenario, name: string): Promise<PoolStatus> {
  const r = await s.get(name);
  expect(r.rc, `dmctl --json status (${name}) failed:\n${r.err}\n${s.transcript}`).toBe(0);
  const [p] = JSON.parse(r.out).pools as PoolStatus[];
  expect(p, `no pool in ${name}:\n${r.out}`).toBeDefined();
  return p!;
}

const MiB = 1024 * 1024;

describe('Docker Engine 20.10 (devicemapper driver) on a dmctl-built pool', () => {
  let s: Scenario;
  let seconds = 0;
  /** transcript plus dockerd's log: what a CI failure needs. */
  const diag = async () => `${s.transcript}\n--- dockerd log ---\n${(await s.get('dockerd-log')).out}`;

  beforeAll(async () => {
    const t0 = Date.now();
    s = await runScenario(
      `
# dm.override_udev_sync_check=true only because this guest runs no udev: Docker's devicemapper driver
# refuses to start without udev sync otherwise. Real hosts run udev and must not need it.
rec apply dmctl init-direct /dev/ubda --yes --storage-opt dm.override_udev_sync_check=true
rec daemon-json cat /etc/docker/daemon.json
rec status-fresh dmctl --json status
dockerd --iptables=false --bridge=none >/tmp/dockerd.log 2>&1 &
# /usr/bin/docker is the 20.10 client of this engine (/usr/local/bin/docker is a newer one).
for i in $(seq 1 60); do /usr/bin/docker info >/dev/null 2>&1 && break; sleep 1; done
echo "dockerd answered after ~$i s"
rec info /usr/bin/docker info
rec info-json /usr/bin/docker info --format '{{json .}}'
${rootfsTarball('/tmp/tiny.tar')}
rec import ${dockerImport('/tmp/tiny.tar', 'tiny:1')}
rec status-before dmctl --json status
# The root filesystem line shows the container's own thin device; 48 MiB go into that root.
rec run /usr/bin/docker run --network none --name c1 tiny:1 /bin/busybox sh -c \\
  '/bin/busybox grep " / " /proc/self/mountinfo && /bin/busybox dd if=/dev/zero of=/big bs=1M count=48 && /bin/busybox sync'
rec status-after dmctl --json status
rec dmstatus dmsetup status docker-thinpool
rec rerun dmctl init-direct /dev/ubda --yes --storage-opt dm.override_udev_sync_check=true
rec status dmctl status
rec dockerd-log cat /tmp/dockerd.log
kill %1 2>/dev/null
`,
      { disks: ['2G'], timeoutSec: 240 },
    );
    seconds = (Date.now() - t0) / 1000;
    console.log(`Docker consumer scenario: ${seconds.toFixed(1)} s (guest boot to poweroff)`);
  });
  afterAll(async () => s?.cleanup());

  it('dmctl builds the pool and points daemon.json at it', async () => {
    const apply = await s.get('apply');
    expect(apply.rc, `${apply.out}\n${apply.err}`).toBe(0);
    expect(JSON.parse((await s.get('daemon-json')).out)).toEqual({
      'storage-driver': 'devicemapper',
      'storage-opts': [
        'dm.thinpooldev=/dev/mapper/docker-thinpool',
        'dm.use_deferred_removal=true',
        'dm.use_deferred_deletion=true',
        'dm.override_udev_sync_check=true',
      ],
    });
    expect((await pool(s, 'status-fresh')).transactionId).toBe(0);
  });

  it('dockerd takes the pool: docker info names it, with deferred removal', async () => {
    const info = await s.get('info');
    expect(info.rc, await diag()).toBe(0);
    expect(info.out, await diag()).toContain('Storage Driver: devicemapper');
    expect(info.out).toContain('Pool Name: docker-thinpool');
    expect(info.out).toMatch(/Deferred Removal Enabled: true/);
    expect(info.out).toMatch(/Deferred Deletion Enabled: true/);
    const json = JSON.parse((await s.get('info-json')).out) as { Driver: string; DriverStatus: [string, string][] };
    expect(json.Driver).toBe('devicemapper');
    expect(json.DriverStatus).toContainEqual(['Pool Name', 'docker-thinpool']);
  });

  it('a container writes into its thin device on the pool, and the pool fills', async () => {
    expect((await s.get('import')).rc, await diag()).toBe(0);
    const run = await s.get('run');
    expect(run.rc, `${run.out}\n${run.err}\n${await diag()}`).toBe(0);
    // root = /dev/mapper/docker-MAJ:MIN-INODE-<container hash>, a thin device in docker-thinpool
    // (mountinfo: Docker mounts the device's /rootfs directory as the container's /)
    expect(run.out, s.transcript).toMatch(/^\S+ \S+ \S+ \/rootfs \/ .* - \S+ \/dev\/mapper\/docker-\d+:\d+-\d+-[0-9a-f]{64} /m);
    const before = await pool(s, 'status-before');
    const after = await pool(s, 'status-after');
    const grown = after.data.usedBytes - before.data.usedBytes;
    expect(grown, `used data ${before.data.usedBytes} → ${after.data.usedBytes}\n${s.transcript}`).toBeGreaterThanOrEqual(32 * MiB);
  });

  it('Docker sets the pool transaction id', async () => {
    const after = await pool(s, 'status-after');
    expect(after.transactionId, s.transcript).toBeGreaterThan(0);
    const dm = (await s.get('dmstatus')).out;
    expect(dm).toMatch(new RegExp(`^0 \\d+ thin-pool ${after.transactionId} `));
  });

  it('re-running init-direct on the pool Docker now uses has nothing to do; status shows the pool', async () => {
    const rerun = await s.get('rerun');
    expect(rerun.rc, `${rerun.out}\n${rerun.err}`).toBe(0);
    expect(rerun.out).toContain('nothing to do');
    const status = await s.get('status');
    expect(status.rc, status.err).toBe(0);
    const row = status.out.split('\n').find((l) => l.startsWith('docker/thinpool '));
    expect(row, status.out).toBeDefined();
    const [, state] = row!.split(/\s{2,}/);
    expect(state).toBe('active');
    // Docker sets the pool's transaction id; status shows it on the pool's detail lines, with its user.
    expect(Number(/^docker\/thinpool: [\s\S]*?\btransaction (\d+) ·/m.exec(status.out)?.[1])).toBeGreaterThan(0);
    expect(status.out).toMatch(/used by Docker \(10 GiB per container, min free 10%\)/);
  });
});

describe('containerd 1.6 devmapper snapshotter on a dmctl-built pool', () => {
  let s: Scenario;
  let seconds = 0;
  const diag = async () => `${s.transcript}\n--- containerd log ---\n${(await s.get('containerd-log')).out}`;
  const section = [
    '[plugins."io.containerd.snapshotter.v1.devmapper"]',
    '  pool_name = "docker-thinpool"',
    '  root_path = "/var/lib/containerd/io.containerd.snapshotter.v1.devmapper"',
    '  base_image_size = "64MB"',
  ].join('\n');

  beforeAll(async () => {
    const t0 = Date.now();
    s = await runScenario(
      `
rec config-before cat /etc/containerd/config.toml
rec apply dmctl init-direct /dev/ubda --yes --consumer containerd --base-image-size 64MB
rec config cat /etc/containerd/config.toml
# Keep the CRI plugin (no CNI in the guest) quiet. A top-level key must precede every table, so the line
# goes first, not at the end after dmctl's section. (containerd works without it too, logging a CNI error.)
{ echo 'disabled_plugins = ["io.containerd.grpc.v1.cri"]'; cat /etc/containerd/config.toml; } >/tmp/config.toml
cat /tmp/config.toml >/etc/containerd/config.toml
containerd >/tmp/containerd.log 2>&1 &
for i in $(seq 1 60); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && break; sleep 1; done
echo "containerd answered after ~$i s"
rec plugins ctr plugins ls
${ociArchive('/tmp/tiny-oci.tar', 'docker.io/library/tiny:1')}
rec import ctr images import --snapshotter devmapper /tmp/tiny-oci.tar
rec status-before dmctl --json status
# No --rm: removing the container deletes its snapshot, and with it the blocks it wrote.
rec run ctr run --snapshotter devmapper docker.io/library/tiny:1 c1 /bin/busybox sh -c \\
  '/bin/busybox grep " / " /proc/self/mountinfo && /bin/busybox dd if=/dev/zero of=/big bs=1M count=32 && /bin/busybox sync'
rec dmstatus-after dmsetup status docker-thinpool
rec status-after dmctl --json status
rec dmls dmsetup ls
# The pool now holds containerd's thin devices (used data, transaction id 0): config.toml already points
# containerd at it, so this is not the "pool is not fresh" refusal.
rec rerun dmctl init-direct /dev/ubda --yes --consumer containerd --base-image-size 64MB
rec containerd-log cat /tmp/containerd.log
kill %1 2>/dev/null
`,
      { disks: ['2G'], timeoutSec: 240 },
    );
    seconds = (Date.now() - t0) / 1000;
    console.log(`containerd consumer scenario: ${seconds.toFixed(1)} s (guest boot to poweroff)`);
  });
  afterAll(async () => s?.cleanup());

  it('dmctl builds the pool and adds the devmapper section to config.toml, keeping the rest', async () => {
    const apply = await s.get('apply');
    expect(apply.rc, `${apply.out}\n${apply.err}`).toBe(0);
    const config = (await s.get('config')).out;
    expect(config, s.transcript).toContain(section);
    const before = await s.get('config-before');
    if (before.rc === 0) {
      expect(config.startsWith(before.out), config).toBe(true);
    } else {
      expect(config).toMatch(/^version = 2\n/);
    }
  });

  it('containerd loads the devmapper snapshotter on the pool', async () => {
    const plugins = await s.get('plugins');
    expect(plugins.rc, await diag()).toBe(0);
    expect(plugins.out, await diag()).toMatch(/^io\.containerd\.snapshotter\.v1\s+devmapper\s+\S+\s+ok\s*$/m);
  });

  it('an image unpacks into the pool and a container writes into a thin snapshot', async () => {
    const imported = await s.get('import');
    expect(imported.rc, `${imported.out}\n${imported.err}\n${await diag()}`).toBe(0);
    const run = await s.get('run');
    expect(run.rc, `${run.out}\n${run.err}\n${await diag()}`).toBe(0);
    expect(run.out, s.transcript).toMatch(/^\S+ \S+ \S+ \/ \/ .* - \S+ \/dev\/mapper\/docker-thinpool-snap-\d+ /m);
    expect((await s.get('dmls')).out).toMatch(/^docker-thinpool-snap-\d+\s/m);
    const before = await pool(s, 'status-before');
    const after = await pool(s, 'status-after');
    const grown = after.data.usedBytes - before.data.usedBytes;
    expect(grown, `used data ${before.data.usedBytes} → ${after.data.usedBytes}\n${s.transcript}`).toBeGreaterThanOrEqual(24 * MiB);
    // status names the pool's user and the size of each snapshot (--base-image-size 64MB), not the pool's.
    expect(after.consumers).toEqual([{ kind: 'containerd', baseSizeBytes: 64 * MiB }]);
  });

  it('re-running init-direct once containerd uses the pool has nothing to do', async () => {
    const rerun = await s.get('rerun');
    expect(rerun.rc, `${rerun.out}\n${rerun.err}`).toBe(0);
    expect(rerun.out).toContain('nothing to do');
  });
});
