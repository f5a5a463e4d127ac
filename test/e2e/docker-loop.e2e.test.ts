/**
 * Docker Engine 20.10 on loop pools and on the pools it builds itself (--docker-managed), in a real
 * dm-thin guest: what an operator following the guide's loop-lvm and "let Docker configure
 * direct-lvm" paths would do, with dmctl doing the parts Docker never does.
 *
 * dm.override_udev_sync_check=true only because the guest runs no udev; dm.basesize=1G keeps Docker's
 * first mkfs small in the guest's RAM-backed overlay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from './scenario.js';
import { dockerImport, rootfsTarball } from './images.js';

type Scenario = ScenarioResult & { cleanup(): Promise<void> };
const guestOpts = '--storage-opt dm.override_udev_sync_check=true --storage-opt dm.basesize=1G';
const startDocker = `
dockerd --iptables=false --bridge=none >/tmp/dockerd.log 2>&1 &
for i in $(seq 1 90); do /usr/bin/docker info >/dev/null 2>&1 && break; sleep 1; done
`;

describe('init-loop for Docker: a container runs on the loop pool dmctl built', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await runScenario(
      `
rec apply dmctl init-loop --data-size 2G --metadata-size 128M ${guestOpts} --yes
${startDocker}
rec info /usr/bin/docker info
${rootfsTarball('/tmp/tiny.tar')}
${dockerImport('/tmp/tiny.tar', 'tiny:1')} >/dev/null
rec run /usr/bin/docker run --network none tiny:1 /bin/busybox sh -c '/bin/busybox dd if=/dev/zero of=/big bs=1M count=16 && /bin/busybox sync'
rec status-json dmctl --json status
rec dockerd-log cat /tmp/dockerd.log
`,
      { timeoutSec: 300 },
    );
  });
  afterAll(async () => s?.cleanup());

  it('Docker names the pool and the container writes into it', async () => {
    const apply = await s.get('apply');
    expect(apply.rc, `${apply.out}\n${apply.err}`).toBe(0);
    const info = (await s.get('info')).out;
    expect(info, (await s.get('dockerd-log')).out).toContain('Pool Name: dmctl-pool');
    expect((await s.get('run')).rc, s.transcript).toBe(0);
    const [pool] = JSON.parse((await s.get('status-json')).out).pools;
    expect(pool).toMatchObject({ name: 'dmctl-pool', kind: 'dm' });
    expect(pool.data.usedBytes).toBeGreaterThan(16 * 1024 ** 2);
    // status names Docker as the pool's user (dm.thinpooldev), with its dm.basesize (1G here).
    expect(pool.consumers).toEqual([{ kind: 'docker', baseSizeBytes: 1024 ** 3, minFreeSpacePercent: 10 }]);
  });
});

describe('init-loop --docker-managed: Docker\'s own loop-lvm pool, then resize-loop on it', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await runScenario(
      `
rec apply dmctl init-loop --docker-managed --data-size 2G --metadata-size 128M ${guestOpts} --yes
rec daemon cat /etc/docker/daemon.json
${startDocker}
rec info /usr/bin/docker info
pool=$(dmsetup ls --target thin-pool | cut -f1)
echo "pool=$pool"
rec status-json dmctl --json status
rec resize dmctl resize-loop +1G --yes
rec table sh -c "dmsetup table $pool"
rec file stat -c %s /var/lib/docker/devicemapper/devicemapper/data
rec info-after /usr/bin/docker info
rec dockerd-log cat /tmp/dockerd.log
`,
      { timeoutSec: 300 },
    );
  });
  afterAll(async () => s?.cleanup());

  it('writes the guide\'s loop-lvm daemon.json, and Docker makes its loop files', async () => {
    const apply = await s.get('apply');
    expect(apply.rc, `${apply.out}\n${apply.err}`).toBe(0);
    const daemon = JSON.parse((await s.get('daemon')).out);
    expect(daemon['storage-driver']).toBe('devicemapper');
    expect(daemon['storage-opts']).toEqual(expect.arrayContaining([`dm.loopdatasize=${2 * 1024 ** 3}`, `dm.loopmetadatasize=${128 * 1024 ** 2}`]));
    expect(daemon['storage-opts'].some((o: string) => o.startsWith('dm.thinpooldev='))).toBe(false);
    expect((await s.get('info')).out, (await s.get('dockerd-log')).out).toMatch(/Data loop file: \/var\/lib\/docker\/devicemapper\/devicemapper\/data/);
  });

  it('status finds Docker\'s pool and its files; resize-loop grows it online', async () => {
    const [pool] = JSON.parse((await s.get('status-json')).out).pools;
    expect(pool.name).toMatch(/^docker-\d+:\d+-\d+-pool$/);
    expect(pool.devices.dataFile).toBe('/var/lib/docker/devicemapper/devicemapper/data');
    // No dm.thinpooldev: Docker's own loop-lvm pool is recognised by its name.
    expect(pool.consumers.map((c: { kind: string }) => c.kind)).toEqual(['docker']);
    const resize = await s.get('resize');
    expect(resize.rc, `${resize.out}\n${resize.err}`).toBe(0);
    expect((await s.get('table')).out).toMatch(/^0 6291456 thin-pool /);
    expect((await s.get('file')).out.trim()).toBe(String(3 * 1024 ** 3));
    expect((await s.get('info-after')).out).toMatch(/Data Space Total: 3\.2\d* ?GB/);
  });
});

describe('init-direct --docker-managed: Docker builds the pool, dmctl then enables monitoring', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await runScenario(
      `
rec apply dmctl init-direct /dev/ubda --docker-managed ${guestOpts} --yes
${startDocker}
rec info /usr/bin/docker info
rec built lvs --noheadings -o segtype,lv_profile docker/thinpool
# This guest's lvm.conf monitors pools as they activate; on hosts where dmeventd was not running then,
# Docker's pool stays unmonitored (docker/docs#6449). Put the pool in that state.
lvchange --monitor n docker/thinpool
rec before lvs --noheadings -o seg_monitor docker/thinpool
rec again dmctl init-direct /dev/ubda --docker-managed ${guestOpts} --yes
rec after lvs --noheadings -o seg_monitor docker/thinpool
rec third dmctl init-direct /dev/ubda --docker-managed ${guestOpts} --yes
rec status-json dmctl --json status
rec dockerd-log cat /tmp/dockerd.log
`,
      { disks: ['2G'], timeoutSec: 300 },
    );
  });
  afterAll(async () => s?.cleanup());

  it('Docker builds docker/thinpool from daemon.json, with its autoextend profile', async () => {
    const apply = await s.get('apply');
    expect(apply.rc, `${apply.out}\n${apply.err}`).toBe(0);
    expect(apply.out).toMatch(/run this command again to enable monitoring/);
    expect((await s.get('info')).out, (await s.get('dockerd-log')).out).toContain('Pool Name: docker-thinpool');
    expect((await s.get('built')).out.trim()).toMatch(/^thin-pool\s+docker-thinpool$/);
    expect((await s.get('before')).out.trim()).toBe('not monitored');
  });

  it('the second run enables and verifies monitoring; the third has nothing to do', async () => {
    const again = await s.get('again');
    expect(again.rc, `${again.out}\n${again.err}`).toBe(0);
    expect(again.out).toContain('$ lvchange --monitor y docker/thinpool');
    expect((await s.get('after')).out.trim()).toBe('monitored');
    expect((await s.get('third')).out).toContain('nothing to do');
    // No dm.thinpooldev: Docker builds docker/thinpool on dm.directlvm_device, and status knows it.
    const [pool] = JSON.parse((await s.get('status-json')).out).pools;
    expect(pool).toMatchObject({ name: 'docker/thinpool', consumers: [{ kind: 'docker', baseSizeBytes: 1024 ** 3 }] });
  });
});
