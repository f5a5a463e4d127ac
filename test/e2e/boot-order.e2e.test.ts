/**
 * Boot order that does not lie (issue 12.2), on a real kernel with a disk that appears late. The pool is
 * built on an image in the shared dir seen through a loop device; then the VG is deactivated and the loop
 * detached (a boot before the disk has appeared: UML 6.1 cannot hot-remove a ubd disk, it oopses), and
 * the same image is hot-added as /dev/ubdb through UML's management console (uml-run --late-disk) while
 * `reactivate --wait-devices 60` waits. Before that, with no disk, reactivate fails within its 5 s bound
 * with exit 4 and one line naming the pool and what is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from './scenario.js';

describe('reactivate waits for a pool whose disk appears late, and fails loudly when it never comes', () => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  let seconds = 0;
  beforeAll(async () => {
    const t0 = Date.now();
    s = await runScenario(
      `
secs() { echo "$(( $(date +%s%N) / 1000000 ))"; }
# The pool's disk: an image in the shared dir, first seen through a loop device (to build the pool),
# later hot-added to the guest as a ubd disk (the disk that appears late).
truncate -s 1G "$OUT/late.img"
losetup /dev/loop0 "$OUT/late.img"
dmctl init-direct /dev/loop0 --consumer none --yes >/dev/null 2>&1 || echo "init-direct failed"
rec record cat /var/lib/dmctl/pools/docker-thinpool.json
# A reboot before the disk has appeared: the VG is inactive and its only PV is gone.
vgchange -an docker >/dev/null; losetup -d /dev/loop0; sync
rec no-wait dmctl reactivate --dry-run
# A disk that does not come within the bound.
t=$(secs); rec never dmctl reactivate --yes --wait-devices 5; rec never-ms echo "$(( $(secs) - t ))"
# The disk comes 4 s after reactivate starts waiting.
( sleep 4; plug 0 "$OUT/late.img" || echo "late plug failed" ) &
t=$(secs); rec late dmctl reactivate --yes --wait-devices 60; rec late-ms echo "$(( $(secs) - t ))"
wait
rec plug-answer cat /run/uml-run/io/plugged-0
rec pv pvs --noheadings -o pv_name,vg_name
rec active lvs --noheadings -o lv_attr,seg_monitor docker/thinpool
# Two pools expected, one of them never comes: the other is still brought back, then exit 4.
vgchange -an docker >/dev/null
mkdir -p /etc/containerd
printf '%s\n' 'version = 2' '[plugins."io.containerd.snapshotter.v1.devmapper"]' '  pool_name = "ctr-pool"' '  root_path = "/var/lib/containerd/devmapper"' >/etc/containerd/config.toml
rec partial dmctl reactivate --yes
rec partial-active lvs --noheadings -o lv_attr,seg_monitor docker/thinpool
# A record that does not parse (a stale file) does not keep the pool down either: exit 3 after it.
vgchange -an docker >/dev/null; rm /etc/containerd/config.toml
echo '{"kind": "loop"' >/var/lib/dmctl/pools/junk.json
rec blocked dmctl reactivate --yes
rec blocked-active lvs --noheadings -o lv_attr,seg_monitor docker/thinpool
`,
      { lateDisks: ['1G'], timeoutSec: 300 },
    );
    seconds = (Date.now() - t0) / 1000;
    console.log(`boot-order (late disk) scenario: ${seconds.toFixed(1)} s (guest boot to poweroff)`);
  });
  afterAll(async () => s?.cleanup());

  it('init-direct records the LVM pool', async () => {
    expect(s.transcript).not.toMatch(/init-direct failed|plug failed/);
    expect(JSON.parse((await s.get('record')).out)).toEqual({ formatVersion: 1, kind: 'lvm', name: 'docker-thinpool', vg: 'docker', lv: 'thinpool', pvs: ['/dev/loop0'] });
  });

  it('without its disk, reactivate does not say every pool is active: exit 4, naming the pool and the disk', async () => {
    const r = await s.get('no-wait');
    expect(r.rc, `${r.out}\n${r.err}`).toBe(4);
    expect(r.out).not.toMatch(/every thin pool is active/);
    expect(r.err.trim()).toMatch(
      /^dmctl: error: pool docker\/thinpool \(recorded in \/var\/lib\/dmctl\/pools\/docker-thinpool\.json\) is not there: LVM sees no VG docker/,
    );
  });

  it('--wait-devices waits for the disk that comes late, then activates and monitors the pool', async () => {
    const r = await s.get('late');
    expect(r.rc, `${r.out}\n${r.err}`).toBe(0);
    expect(r.err).toMatch(/waiting up to 60 s for docker\/thinpool/);
    expect(r.out).toMatch(/Activate docker\/thinpool/);
    const ms = Number((await s.get('late-ms')).out.trim());
    expect(ms).toBeGreaterThanOrEqual(4000);
    expect(ms).toBeLessThan(30_000);
    // the PV is now the hot-added disk (its name changed, as across a reboot)
    expect((await s.get('pv')).out.trim()).toMatch(/^\/dev\/ubdb\s+docker$/);
    expect((await s.get('active')).out.trim()).toMatch(/^twi-a.*\s+monitored$/);
  });

  it('one expected pool missing does not keep the other down: it is activated and monitored, then exit 4 names the missing one', async () => {
    const r = await s.get('partial');
    expect(r.rc, `${r.out}\n${r.err}`).toBe(4);
    expect(r.out).toMatch(/Activate docker\/thinpool/);
    expect(r.out).toMatch(/ctr-pool \(containerd's pool_name in \/etc\/containerd\/config\.toml\) is not there/);
    expect(r.err.split('\n').filter((l) => l.startsWith('dmctl: error: '))).toEqual([expect.stringMatching(/^dmctl: error: pool ctr-pool \(containerd's pool_name/)]);
    expect((await s.get('partial-active')).out.trim()).toMatch(/^twi-a.*\s+monitored$/);
  });

  it('a record file that does not parse does not keep the pool down: it is activated, then exit 3 names the file', async () => {
    const r = await s.get('blocked');
    expect(r.rc, `${r.out}\n${r.err}`).toBe(3);
    expect(r.out).toMatch(/Activate docker\/thinpool/);
    expect(r.err.split('\n').filter((l) => l.startsWith('dmctl: error: '))).toEqual(['dmctl: error: /var/lib/dmctl/pools/junk.json is not a valid dmctl pool record: fix or remove it']);
    expect((await s.get('blocked-active')).out.trim()).toMatch(/^twi-a.*\s+monitored$/);
  });

  it('a disk that never comes: exit 4 within the bound, one line naming the pool and what is missing', async () => {
    const r = await s.get('never');
    expect(r.rc, `${r.out}\n${r.err}`).toBe(4);
    const lines = r.err.trim().split('\n').filter((l) => l.startsWith('dmctl: error: '));
    expect(lines).toEqual([expect.stringMatching(/^dmctl: error: pool docker\/thinpool \(.*\) did not appear within 5 s: LVM sees no VG docker.*: check .*, then run dmctl reactivate again$/)]);
    const ms = Number((await s.get('never-ms')).out.trim());
    expect(ms).toBeGreaterThanOrEqual(5000);
    expect(ms).toBeLessThan(15_000);
  });
});
