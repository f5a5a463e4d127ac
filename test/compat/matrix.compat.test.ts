/**
 * The distribution matrix: for each profile of test/compat/profiles.json, ONE real-kernel guest with
 * that profile's lvm2 (lvm, dmsetup, dmeventd) and util-linux (losetup, lsblk, wipefs, blkid) first on
 * PATH runs the core scenarios: init-direct (with Docker's devicemapper driver as the consumer, a
 * container writing into the pool), status, extend, reactivate of the LVM pool, init-loop, resize-loop
 * and reactivate of a loop pool after a "reboot". Tools are built by test/compat/build.sh (run by
 * test/compat/run, i.e. `npm run test:compat`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs helper shared with the shell scripts
import { cacheDir, loadProfiles, profilePath } from './profiles.mjs';
import { runScenario, type ScenarioResult } from '../e2e/scenario.js';
import { dockerImport, rootfsTarball } from '../e2e/images.js';

interface Profile {
  id: string;
  name: string;
  lvm2: string | null;
  utilLinux: string | null;
  devicesFile: boolean;
  node: string | null;
}

const wanted = process.env.DMCTL_COMPAT_PROFILES?.split(',').filter(Boolean);
const profiles = (loadProfiles() as Profile[]).filter((p) => !wanted || wanted.includes(p.id));
const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const timings: string[] = [];

afterAll(() => {
  if (timings.length) console.log(`matrix timings:\n${timings.join('\n')}`);
});

describe.each(profiles)('$name ($id)', (p) => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  const expectLvm = p.lvm2 ? p.lvm2.replace(/^lvm2-v(\d+)_(\d+)_(\d+)\.tar\.xz$/, '$1.$2.$3') : '2.03.16';
  const expectUl = p.utilLinux ? p.utilLinux.replace(/^util-linux-(.*)\.tar\.xz$/, '$1') : '2.38.1';
  // null: the host's own Node (the guest's root is the host's), the one running this test
  const expectNode = p.node ? `v${p.node}` : process.version;
  const diag = (name: string, r: { out: string; err: string }) => `${name}:\n${r.out}\n${r.err}\n--- transcript ---\n${s.transcript}`;

  /** JSON.parse, naming the output when it is not JSON */
  const json = (r: { out: string }) => {
    try {
      return JSON.parse(r.out);
    } catch (e) {
      throw new Error(`${(e as Error).message} in ${JSON.stringify(r.out)}`);
    }
  };

  beforeAll(async () => {
    const prefix = profilePath(p) as string;
    const t0 = Date.now();
    s = await runScenario(
      `
# The guest's root is an overlay of the host's: start without any dmctl state the host may hold.
rm -rf /var/lib/dmctl
${p.devicesFile ? "sed -i -e 's/^devices {/&\\n\\tuse_devicesfile = 1/' /etc/lvm/lvm.conf" : ''}
rec which sh -c 'for t in lvm pvs lvcreate dmsetup losetup lsblk wipefs; do command -v $t; done'
rec lvm-version lvm version
rec losetup-version losetup --version
rec node-version sh -c 'command -v node && node --version'
rec dmctl-version dmctl --version
rec codecache node -e "const m = require('$PROJECT_ROOT/bin/dmctl.js'); console.log(m.load(require('fs').readFileSync(m.codeCache)).script.cachedDataRejected)"
rec devicesfile lvmconfig --typeconfig full devices/use_devicesfile

# init-direct + Docker (devicemapper driver) as the consumer; no udev in the guest, hence the override.
rec apply dmctl init-direct /dev/ubda --yes --storage-opt dm.override_udev_sync_check=true
rec lvs lvs --reportformat json --units b --nosuffix -o lv_name,segtype,chunk_size,seg_monitor,lv_profile docker
rec status-json dmctl --json status
rec status dmctl status
rec rerun dmctl init-direct /dev/ubda --yes --storage-opt dm.override_udev_sync_check=true
dockerd --iptables=false --bridge=none >/tmp/dockerd.log 2>&1 &
for i in $(seq 1 60); do /usr/bin/docker info >/dev/null 2>&1 && break; sleep 1; done
rec info /usr/bin/docker info --format '{{.Driver}} {{json .DriverStatus}}'
${rootfsTarball('/tmp/tiny.tar')}
rec import ${dockerImport('/tmp/tiny.tar', 'tiny:1')}
rec run /usr/bin/docker run --network none --name c1 tiny:1 /bin/busybox sh -c '/bin/busybox dd if=/dev/zero of=/big bs=1M count=32 && /bin/busybox sync'
rec status-docker dmctl --json status
/usr/bin/docker rm c1 >/dev/null 2>&1
kill %1 2>/dev/null; for i in $(seq 1 30); do /usr/bin/docker info >/dev/null 2>&1 || break; sleep 1; done
rec dockerd-log sh -c 'tail -40 /tmp/dockerd.log'
dmsetup remove_all --deferred >/dev/null 2>&1 || true

# extend with a second disk
rec size-before lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool
rec extend dmctl extend /dev/ubdb --yes
rec size-after lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool
# reactivate an inactive LVM pool
rec deactivate lvchange -an docker/thinpool
rec inactive lvs --noheadings -o lv_attr docker/thinpool
rec react-lvm dmctl reactivate --yes
rec active lvs --noheadings -o lv_attr,seg_monitor docker/thinpool

# loop pool: init-loop, resize-loop, reactivate after a "reboot"
rec loop dmctl init-loop --data-size 1G --metadata-size 64M --consumer none --yes
rec losetup-list losetup --json --list
rec resize dmctl resize-loop +1G --yes
rec table-after dmsetup table dmctl-pool
dmsetup remove dmctl-pool
losetup -D
rec react-loop dmctl reactivate --yes
rec table-react dmsetup table dmctl-pool
rec status-end dmctl --json status
`,
      { disks: ['2G', '1G'], timeoutSec: 600, env: { PATH: prefix ? `${prefix}:${GUEST_PATH}` : GUEST_PATH } },
    );
    timings.push(`  ${p.id}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
  afterAll(async () => s?.cleanup());

  it(`runs Node ${expectNode}, lvm2 ${expectLvm} and util-linux ${expectUl} from the profile`, async () => {
    const [nodePath, nodeVersion] = (await s.get('node-version')).out.trim().split('\n');
    expect(nodeVersion, s.transcript).toBe(expectNode);
    // (the cache: /var/cache/dmctl-compat, or $DMCTL_COMPAT_CACHE)
    if (p.node) expect(nodePath).toContain(`${cacheDir}/node-${p.node}/`);
    const dmctlVersion = await s.get('dmctl-version');
    expect(dmctlVersion.rc, diag('dmctl-version', dmctlVersion)).toBe(0);
    // The build's (host Node's) V8 code cache is rejected by another Node: harmless, dmctl compiles.
    expect((await s.get('codecache')).out.trim()).toBe(p.node ? 'true' : 'false');
    expect((await s.get('lvm-version')).out, s.transcript).toContain(`LVM version:     ${expectLvm}(`);
    expect((await s.get('losetup-version')).out).toContain(`util-linux ${expectUl}`);
    const which = (await s.get('which')).out.trim().split('\n');
    if (p.lvm2) expect(which.slice(0, 4).every((w) => w.startsWith(`${cacheDir}/`)), which.join(' ')).toBe(true);
    if (p.utilLinux) expect(which.slice(4).every((w) => w.startsWith(`${cacheDir}/`)), which.join(' ')).toBe(true);
    // lvm2 before 2.03.12 has no devices file (lvmconfig does not know the setting): never on there.
    const devicesfile = await s.get('devicesfile');
    if (p.devicesFile) expect(devicesfile.out.trim()).toBe('use_devicesfile=1');
    else expect(devicesfile.rc === 0 ? devicesfile.out.trim() : 'unknown setting').toMatch(/^use_devicesfile=0$|^unknown setting$/);
  });

  it('init-direct builds the monitored pool; status reads it; a re-run has nothing to do', async () => {
    const apply = await s.get('apply');
    expect(apply.rc, diag('apply', apply)).toBe(0);
    const [pool] = json(await s.get('lvs')).report[0].lv;
    expect(pool).toMatchObject({ lv_name: 'thinpool', segtype: 'thin-pool', chunk_size: '524288', seg_monitor: 'monitored', lv_profile: 'docker-thinpool' });
    const st = await s.get('status-json');
    expect(st.rc, diag('status-json', st)).toBe(0);
    expect(json(st).pools[0]).toMatchObject({ name: 'docker/thinpool', active: true, mode: 'rw', monitoring: 'monitored' });
    expect((await s.get('status')).out).toMatch(/^docker\/thinpool +active /m);
    const rerun = await s.get('rerun');
    expect(rerun.rc, diag('rerun', rerun)).toBe(0);
    expect(rerun.out).toContain('nothing to do');
  });

  it('Docker runs a container on the pool, and its writes land there', async () => {
    expect((await s.get('info')).out, (await s.get('dockerd-log')).out).toMatch(/^devicemapper .*docker-thinpool/);
    const run = await s.get('run');
    expect(run.rc, diag('run', run)).toBe(0);
    const before = json(await s.get('status-json')).pools[0].data.usedBytes as number;
    const after = json(await s.get('status-docker')).pools[0].data.usedBytes as number;
    expect(after - before).toBeGreaterThanOrEqual(32 * 1024 * 1024);
  });

  it('extend grows the pool onto a new disk', async () => {
    const extend = await s.get('extend');
    expect(extend.rc, diag('extend', extend)).toBe(0);
    expect(Number((await s.get('size-after')).out.trim())).toBeGreaterThan(Number((await s.get('size-before')).out.trim()));
  });

  it('reactivate activates and monitors the inactive LVM pool', async () => {
    expect((await s.get('inactive')).out.trim()).toMatch(/^twi---/);
    const react = await s.get('react-lvm');
    expect(react.rc, diag('react-lvm', react)).toBe(0);
    expect((await s.get('active')).out.trim()).toMatch(/^twi-a\S+\s+monitored$/);
  });

  it('init-loop, resize-loop, and reactivate after the loop pool was torn down', async () => {
    const loop = await s.get('loop');
    expect(loop.rc, diag('loop', loop)).toBe(0);
    const resize = await s.get('resize');
    expect(resize.rc, diag('resize', resize)).toBe(0);
    expect((await s.get('table-after')).out).toMatch(/^0 4194304 thin-pool 7:\d+ 7:\d+ 128 /);
    const react = await s.get('react-loop');
    expect(react.rc, diag('react-loop', react)).toBe(0);
    expect((await s.get('table-react')).out).toMatch(/^0 4194304 thin-pool 7:\d+ 7:\d+ 128 /);
    const end = await s.get('status-end');
    expect(end.rc, diag('status-end', end)).toBe(0);
    const names = (json(end).pools as Array<{ name: string; active: boolean }>).map((x) => [x.name, x.active]).sort();
    expect(names).toEqual([['dmctl-pool', true], ['docker/thinpool', true]]);
  });
});
