/**
 * `dmctl status --devices` on a real dm-thin kernel (User-Mode Linux guest) with real Docker Engine
 * 20.10 (Debian docker.io): three containers write 10, 40 and 20 MiB into their thin devices; the
 * listing ranks them by the bytes only they map and names them; the metadata snapshot it reads is
 * released afterwards — also when thin_ls fails (a PATH shim), when dmctl is stopped with SIGTERM
 * while thin_ls runs, and a snapshot someone else holds is refused and left alone. Then containerd
 * 1.6's devmapper snapshotter: two containers write 30 and 5 MiB, and the listing names their snapshots
 * from the snapshotter's own records, read while containerd runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from './scenario.js';
import { dockerImport, ociArchive, rootfsTarball } from './images.js';

type Scenario = ScenarioResult & { cleanup(): Promise<void> };

interface Row {
  deviceId: number;
  mappedBytes: number;
  exclusiveBytes: number;
  owner: { kind: string; name?: string; layer?: string; key?: string; snapshotKind?: string };
  ownerText: string;
}
interface Report {
  pools: Array<{ name: string; dmName: string; metadataDevice: string; devices: Row[] }>;
  skipped: Array<{ name: string; reason: string }>;
}

const MiB = 1024 * 1024;
/** The held-metadata-root field of a thin-pool status line (`-` when none is held). */
const heldRoot = (statusLine: string) => statusLine.trim().split(/\s+/)[6];

describe('status --devices: what is eating the pool (Docker 20.10, devicemapper)', () => {
  let s: Scenario;
  const diag = async () => `${s.transcript}\n--- dockerd log ---\n${(await s.get('dockerd-log')).out}`;

  beforeAll(async () => {
    const t0 = Date.now();
    s = await runScenario(
      `
rec apply dmctl init-direct /dev/ubda --yes --storage-opt dm.override_udev_sync_check=true
dockerd --iptables=false --bridge=none >/tmp/dockerd.log 2>&1 &
for i in $(seq 1 60); do /usr/bin/docker info >/dev/null 2>&1 && break; sleep 1; done
${rootfsTarball('/tmp/tiny.tar')}
rec import ${dockerImport('/tmp/tiny.tar', 'tiny:1')}
for spec in small:10 big:40 mid:20; do
  rec "run-\${spec%%:*}" /usr/bin/docker run --network none --name "\${spec%%:*}" tiny:1 /bin/busybox sh -c \\
    "/bin/busybox dd if=/dev/zero of=/fill bs=1M count=\${spec#*:} 2>/dev/null && /bin/busybox sync"
done
rec ps /usr/bin/docker ps -a --no-trunc --format '{{.ID}} {{.Names}}'
rec devices dmctl status --devices
rec devices-json dmctl --json status --devices --pool docker/thinpool
rec held-after dmsetup status docker-thinpool

# thin_ls fails: dmctl exits 3 and the snapshot is released all the same.
mkdir -p /tmp/shim-fail /tmp/shim-slow
printf '#!/bin/sh\\necho "thin_ls: shim: simulated failure" >&2\\nexit 1\\n' >/tmp/shim-fail/thin_ls
# thin_ls takes a while: dmctl gets SIGTERM meanwhile, lets it finish, releases, exits 130.
printf '#!/bin/sh\\nsleep 4\\nexec /usr/sbin/thin_ls "$@"\\n' >/tmp/shim-slow/thin_ls
chmod +x /tmp/shim-fail/thin_ls /tmp/shim-slow/thin_ls
rec failing env PATH=/tmp/shim-fail:$PATH node "$PROJECT_ROOT/bin/dmctl.js" status --devices
rec held-after-failure dmsetup status docker-thinpool
env PATH=/tmp/shim-slow:$PATH node "$PROJECT_ROOT/bin/dmctl.js" status --devices >$OUT/sigterm.out 2>$OUT/sigterm.err &
pid=$!
for i in $(seq 1 100); do [ "$(dmsetup status docker-thinpool | cut -d' ' -f7)" != - ] && break; sleep 0.1; done
rec held-during dmsetup status docker-thinpool
kill -TERM $pid
wait $pid; echo $? >$OUT/sigterm.rc
rec held-after-sigterm dmsetup status docker-thinpool

# Somebody else holds a snapshot: refused, and theirs is left held.
dmsetup message docker-thinpool 0 reserve_metadata_snap
rec foreign dmctl status --devices --pool docker/thinpool
rec held-foreign dmsetup status docker-thinpool
dmsetup message docker-thinpool 0 release_metadata_snap
rec dockerd-log cat /tmp/dockerd.log
kill %1 2>/dev/null
`,
      { disks: ['2G'], timeoutSec: 300 },
    );
    console.log(`devices scenario: ${((Date.now() - t0) / 1000).toFixed(1)} s (guest boot to poweroff)`);
  });
  afterAll(async () => s?.cleanup());

  async function report(): Promise<Report> {
    const r = await s.get('devices-json');
    expect(r.rc, `${r.out}\n${r.err}\n${await diag()}`).toBe(0);
    return JSON.parse(r.out) as Report;
  }

  it('three containers run and write 10, 40 and 20 MiB', async () => {
    for (const name of ['small', 'big', 'mid']) {
      const run = await s.get(`run-${name}`);
      expect(run.rc, `${name}: ${run.err}\n${await diag()}`).toBe(0);
    }
  });

  it('--json ranks the containers by the bytes only they map, and names them', async () => {
    const [pool] = (await report()).pools;
    expect(pool?.name).toBe('docker/thinpool');
    expect(pool?.metadataDevice).toBe('/dev/mapper/docker-thinpool_tmeta');
    const containers = pool!.devices.filter((d) => d.owner.kind === 'docker-container' && d.owner.layer === 'writable');
    expect(containers.map((d) => d.owner.name), JSON.stringify(pool, null, 2)).toEqual(['big', 'mid', 'small']);
    // Each container's own blocks hold what it wrote (plus a few blocks of filesystem metadata).
    const written: Record<string, number> = { big: 40, mid: 20, small: 10 };
    for (const d of containers) {
      expect(d.exclusiveBytes, d.ownerText).toBeGreaterThanOrEqual(written[d.owner.name!]! * MiB);
      expect(d.exclusiveBytes, d.ownerText).toBeLessThan((written[d.owner.name!]! + 8) * MiB);
    }
    // Largest first over the whole list, and every device of the pool has its owner named.
    const exclusive = pool!.devices.map((d) => d.exclusiveBytes);
    expect(exclusive).toEqual([...exclusive].sort((a, b) => b - a));
    expect(pool!.devices.filter((d) => d.owner.kind === 'unknown')).toEqual([]);
    expect(pool!.devices.map((d) => d.owner.kind).sort()).toEqual([
      'docker-base',
      'docker-container',
      'docker-container',
      'docker-container',
      'docker-container',
      'docker-container',
      'docker-container',
      'docker-image-layer',
    ]);
  });

  it('the text view lists the same ranking, with the container ids docker ps shows', async () => {
    const text = await s.get('devices');
    expect(text.rc, text.err).toBe(0);
    console.log(`$ sudo dmctl status --devices\n${text.out}`);
    const ids = Object.fromEntries((await s.get('ps')).out.trim().split('\n').map((l) => l.split(' ').reverse() as [string, string]));
    const order = ['big', 'mid', 'small'].map((n) => text.out.indexOf(`Docker container ${n} (${ids[n]!.slice(0, 12)}, tiny:1)`));
    expect(order.every((i) => i > 0), text.out).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text.out).toMatch(/^docker\/thinpool: 8 thin devices · used /m);
    expect(text.out).toMatch(/ Docker image layer [0-9a-f]{12} \(tiny:1\)$/m);
  });

  it('the metadata snapshot is released afterwards', async () => {
    expect(heldRoot((await s.get('held-after')).out)).toBe('-');
  });

  it('when thin_ls fails: one-line refusal, snapshot released', async () => {
    const failing = await s.get('failing');
    expect(failing.rc, failing.err).toBe(3);
    expect(failing.err).toContain('thin_ls: shim: simulated failure');
    expect(heldRoot((await s.get('held-after-failure')).out)).toBe('-');
  });

  it('on SIGTERM while thin_ls runs: the snapshot was held, is released, exit 130', async () => {
    const during = (await s.get('held-during')).out;
    const sig = await s.get('sigterm');
    expect(heldRoot(during), s.transcript).toMatch(/^\d+$/);
    expect(sig.rc, `${sig.out}\n${sig.err}`).toBe(130);
    expect(sig.err).toContain('released');
    expect(heldRoot((await s.get('held-after-sigterm')).out)).toBe('-');
  });

  it('a snapshot someone else holds is refused and left held', async () => {
    const foreign = await s.get('foreign');
    expect(foreign.rc).toBe(3);
    expect(foreign.err).toMatch(/^dmctl: error: docker\/thinpool: a metadata snapshot is already held \(metadata root \d+\)/);
    expect(foreign.err).toContain('dmsetup message docker-thinpool 0 release_metadata_snap');
    expect(heldRoot((await s.get('held-foreign')).out)).toMatch(/^\d+$/);
  });
});

describe('status --devices: containerd 1.6 devmapper snapshotter', () => {
  let s: Scenario;
  const diag = async () => `${s.transcript}\n--- containerd log ---\n${(await s.get('containerd-log')).out}`;

  beforeAll(async () => {
    const t0 = Date.now();
    s = await runScenario(
      `
rec apply dmctl init-direct /dev/ubda --yes --consumer containerd --base-image-size 64MB
{ echo 'disabled_plugins = ["io.containerd.grpc.v1.cri"]'; cat /etc/containerd/config.toml; } >/tmp/config.toml
cat /tmp/config.toml >/etc/containerd/config.toml
containerd >/tmp/containerd.log 2>&1 &
for i in $(seq 1 60); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && break; sleep 1; done
${ociArchive('/tmp/tiny-oci.tar', 'docker.io/library/tiny:1')}
rec import ctr images import --snapshotter devmapper /tmp/tiny-oci.tar
for spec in cbig:30 csmall:5; do
  rec "run-\${spec%%:*}" ctr run --snapshotter devmapper docker.io/library/tiny:1 "\${spec%%:*}" /bin/busybox sh -c \\
    "/bin/busybox dd if=/dev/zero of=/fill bs=1M count=\${spec#*:} 2>/dev/null && /bin/busybox sync"
done
rec devices dmctl status --devices
rec devices-json dmctl --json status --devices
rec held-after dmsetup status docker-thinpool
rec containerd-log cat /tmp/containerd.log
kill %1 2>/dev/null
`,
      { disks: ['2G'], timeoutSec: 240 },
    );
    console.log(`devices (containerd) scenario: ${((Date.now() - t0) / 1000).toFixed(1)} s (guest boot to poweroff)`);
  });
  afterAll(async () => s?.cleanup());

  it('ranks the snapshots of the two containers (30 and 5 MiB) and names them by their keys', async () => {
    for (const name of ['cbig', 'csmall']) expect((await s.get(`run-${name}`)).rc, await diag()).toBe(0);
    const r = await s.get('devices-json');
    expect(r.rc, `${r.out}\n${r.err}\n${await diag()}`).toBe(0);
    const [pool] = (JSON.parse(r.out) as Report).pools;
    expect(pool?.dmName).toBe('docker-thinpool');
    const active = pool!.devices.filter((d) => d.owner.kind === 'containerd-snapshot' && d.owner.snapshotKind === 'active');
    expect(active.map((d) => d.owner.key), JSON.stringify(pool, null, 2)).toEqual(['cbig', 'csmall']);
    expect(active[0]!.exclusiveBytes).toBeGreaterThanOrEqual(30 * MiB);
    expect(active[1]!.exclusiveBytes).toBeGreaterThanOrEqual(5 * MiB);
    expect(active[1]!.exclusiveBytes).toBeLessThan(30 * MiB);
    // The image's layer is the committed snapshot the two start from; nothing in the pool is unnamed.
    expect(pool!.devices.filter((d) => d.owner.kind === 'containerd-snapshot' && d.owner.snapshotKind === 'committed')).toHaveLength(1);
    expect(pool!.devices.filter((d) => d.owner.kind === 'unknown' || d.owner.kind === 'containerd-device')).toEqual([]);
    const text = await s.get('devices');
    expect(text.out).toMatch(/containerd snapshot cbig \(active, namespace default, docker-thinpool-snap-\d+\)/);
  });

  it('the metadata snapshot is released afterwards', async () => {
    expect(heldRoot((await s.get('held-after')).out)).toBe('-');
  });
});
