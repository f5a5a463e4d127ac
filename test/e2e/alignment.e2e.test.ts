/**
 * extend sizes from the disk's real layout (issue 11.7), on a real kernel: with
 * `devices { data_alignment = 8192 }` in lvm.conf, pvcreate puts the first extent at 8 MiB, not 1 MiB.
 * dmctl's plan must count the extents LVM really gives (its `verify-size` check after lvextend proves
 * the pool is exactly the size planned), for a fresh disk and for an orphan PV made by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from './scenario.js';

const mib = 1024 ** 2;

describe('extend with an 8 MiB data alignment in lvm.conf', () => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    s = await runScenario(
      `
sed -i -e 's/^devices {/&\\n\\tdata_alignment = 8192/' /etc/lvm/lvm.conf
rec align lvmconfig --typeconfig full devices/data_alignment
dmctl init-direct /dev/ubda --consumer none --thinp-percent 60 --yes >/dev/null 2>&1 || echo "init-direct failed"
rec extent vgs --noheadings --units b --nosuffix -o vg_extent_size docker
rec size-before lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool
rec plan dmctl --json extend /dev/ubdb --dry-run
rec extend dmctl extend /dev/ubdb --yes
rec pv-b pvs --noheadings --units b --nosuffix -o pe_start,pv_pe_count,dev_size /dev/ubdb
rec size-after lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool
# An extend that stopped after pvcreate, here made by hand with yet another alignment (16 MiB).
pvcreate -y --dataalignment 16m /dev/ubdc >/dev/null || echo "pvcreate failed"
rec plan-orphan dmctl --json extend /dev/ubdc --dry-run
rec extend-orphan dmctl extend /dev/ubdc --yes
rec record cat /var/lib/dmctl/pools/docker-thinpool.json
rec pv-c pvs --noheadings --units b --nosuffix -o pe_start,pv_pe_count,dev_size /dev/ubdc
`,
      { disks: ['1G', '1G', '1G'], timeoutSec: 300 },
    );
  });
  afterAll(async () => s?.cleanup());

  type PlanJson = { steps: Array<{ id: string; reason: string; action: { argv?: string[] } }> };
  const extentsOf = (plan: PlanJson) => Number(/^(\d+) extents/.exec(plan.steps.find((st) => st.id === 'vgextend')!.reason)![1]);
  const lvextendBy = (plan: PlanJson) => Number(plan.steps.find((st) => st.id === 'lvextend')!.action.argv![2]!.replace('+', ''));

  it('a fresh disk: the plan counts the extents LVM gives (first extent at 8 MiB), and verify-size passes', async () => {
    expect((await s.get('align')).out.trim(), s.transcript).toBe('data_alignment=8192');
    const extent = Number((await s.get('extent')).out.trim());
    expect(extent).toBe(4 * mib);
    const plan = JSON.parse((await s.get('plan')).out) as PlanJson;
    const extend = await s.get('extend');
    expect(extend.rc, `${extend.out}\n${extend.err}`).toBe(0);
    const [peStart, peCount, devSize] = (await s.get('pv-b')).out.trim().split(/\s+/).map(Number) as [number, number, number];
    expect(peStart).toBe(8 * mib);
    expect(extentsOf(plan)).toBe(peCount);
    // The old assumption (first extent at 1 MiB) would have counted one extent too many for this disk:
    // its lvextend would have asked for room the VG does not have.
    expect(Math.floor((devSize - mib) / extent)).toBe(peCount + 1);
    // verify-size passed (exit 0), and the pool grew by exactly what was planned.
    const before = Number((await s.get('size-before')).out.trim());
    expect(Number((await s.get('size-after')).out.trim())).toBe(before + lvextendBy(plan) * extent);
  });

  it('an orphan PV is sized from its real pe_start (16 MiB here), not from lvm.conf', async () => {
    const plan = JSON.parse((await s.get('plan-orphan')).out) as PlanJson;
    // (init-direct recorded the pool: extend adds each new disk to that record, last)
    expect(plan.steps.map((st) => st.id)).toEqual(['vgextend', 'lvextend', 'verify-size', 'write-record']);
    const extend = await s.get('extend-orphan');
    expect(extend.rc, `${extend.out}\n${extend.err}`).toBe(0);
    const [peStart, peCount, devSize] = (await s.get('pv-c')).out.trim().split(/\s+/).map(Number) as [number, number, number];
    expect(peStart).toBe(16 * mib);
    expect(extentsOf(plan)).toBe(peCount);
    expect(Math.floor((devSize - 8 * mib) / (4 * mib))).toBeGreaterThan(peCount);
  });

  it('the pool\'s record lists every disk the pool grew onto', async () => {
    expect(JSON.parse((await s.get('record')).out)).toMatchObject({ kind: 'lvm', vg: 'docker', lv: 'thinpool', pvs: ['/dev/ubda', '/dev/ubdb', '/dev/ubdc'] });
  });
});
