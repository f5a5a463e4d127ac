/**
 * The transaction id trap (moby#15629) on a real kernel: an LVM thin LV makes LVM's count 1, then the
 * pool's count is moved on behind LVM's back, as a consumer driving the pool does. status warns while
 * the pool is active; once it is inactive, reactivate reads the pool's count from its superblock and
 * refuses with both numbers; the repair docs/troubleshooting.md gives then lets reactivate bring it back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from './scenario.js';

describe('transaction id mismatch: warned, refused with the numbers, repaired as documented', () => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    s = await runScenario(
      `
dmctl init-direct /dev/ubda --consumer none --yes >/dev/null 2>&1 || echo "init-direct failed"
lvcreate -q -V 64M -T docker/thinpool -n thin1 && lvchange -q -an docker/thin1
dmsetup message docker-thinpool-tpool 0 "set_transaction_id 1 7"
rec status dmctl status
rec check dmctl status --check
vgchange -q -an docker
rec refused dmctl reactivate --yes
rec lvchange lvchange -ay docker/thinpool
# The repair in docs/troubleshooting.md, with N = 7.
vgcfgbackup -q -f /root/docker.vg docker
sed -i -E '/type = "thin-pool"/,/}/ s/^([[:space:]]*transaction_id = )[0-9]+$/\\17/' /root/docker.vg
rec restore vgcfgrestore --force -f /root/docker.vg docker
rec reactivate dmctl reactivate --yes
rec after dmctl --json status
`,
      { disks: ['1G'] },
    );
  });
  afterAll(async () => s?.cleanup());

  it('status warns while the pool is still active, and --check says WARNING', async () => {
    const status = await s.get('status');
    expect(status.rc, s.transcript).toBe(0);
    expect(status.out).toMatch(/! LVM expects transaction id 1 but the pool's is 7 .*moby#15629/);
    const check = await s.get('check');
    expect(check.rc).toBe(1);
    expect(check.out).toMatch(/^DMCTL WARNING - docker\/thinpool will not re-activate \(transaction id 7, LVM expects 1\)/);
  });

  it('reactivate reads the inactive pool\'s id from its superblock and refuses, as LVM would', async () => {
    const refused = await s.get('refused');
    expect(refused.rc, `${refused.out}\n${refused.err}`).toBe(3);
    expect(refused.err).toMatch(/docker\/thinpool: LVM expects transaction id 1 but the pool's metadata holds 7/);
    // LVM itself: the same two numbers.
    expect((await s.get('lvchange')).err).toMatch(/transaction_id is 7, while expected 1/);
  });

  it('after the documented repair, reactivate brings the pool back, active and monitored', async () => {
    expect((await s.get('restore')).rc, s.transcript).toBe(0);
    const reactivate = await s.get('reactivate');
    expect(reactivate.rc, `${reactivate.out}\n${reactivate.err}`).toBe(0);
    const [pool] = JSON.parse((await s.get('after')).out).pools;
    expect(pool).toMatchObject({ active: true, transactionId: 7, lvmTransactionId: 7, monitoring: 'monitored', warnings: [] });
  });
});
