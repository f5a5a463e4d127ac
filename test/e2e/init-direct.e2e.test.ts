/**
 * init-direct and status on a real dm-thin kernel (User-Mode Linux guest, real lvm2 and dmsetup).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from './scenario.js';

describe('init-direct on a fresh disk, then what an operator checks', () => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    s = await runScenario(
      `
rec plan dmctl init-direct /dev/ubda --dry-run
rec plan-json dmctl --json init-direct /dev/ubda --dry-run
rec apply dmctl init-direct /dev/ubda --yes
rec lvs lvs --reportformat json --units b --nosuffix -o lv_name,vg_name,lv_attr,segtype,chunk_size,seg_monitor,lv_profile,transaction_id docker
rec dmstatus dmsetup status docker-thinpool
rec profile cat /etc/lvm/profile/docker-thinpool.profile
rec daemon cat /etc/docker/daemon.json
rec rerun dmctl init-direct /dev/ubda --yes
rec rerun-detailed dmctl init-direct /dev/ubda --dry-run --detailed-exitcode
rec status-json dmctl --json status
rec status dmctl status
rec lvs-for-status lvs --noheadings --units b --nosuffix -o data_percent,metadata_percent,lv_size docker/thinpool
mkfs.ext4 -q /dev/ubdb
rec ext4-refused dmctl init-direct /dev/ubdb --vg other --consumer none --yes
rec ext4-after wipefs --no-act --json /dev/ubdb
rec pvs-after pvs --noheadings -o pv_name
`,
      { disks: ['1G', '256M'] },
    );
  });
  afterAll(async () => s?.cleanup());

  it('the dry run shows the whole plan and changes nothing', async () => {
    const plan = await s.get('plan');
    expect(plan.rc, s.transcript).toBe(0);
    expect(plan.out).toContain('$ pvcreate /dev/ubda');
    expect(plan.out).toContain('$ lvconvert -y --zero n -c 512K --thinpool docker/thinpool --poolmetadata docker/thinpoolmeta');
    expect(JSON.parse((await s.get('plan-json')).out).steps.length).toBeGreaterThan(8);
  });

  it('applies, and the pool is what lvs and dmsetup say', async () => {
    const apply = await s.get('apply');
    expect(apply.rc, `${apply.out}\n${apply.err}`).toBe(0);
    const [pool] = JSON.parse((await s.get('lvs')).out).report[0].lv;
    expect(pool).toMatchObject({ lv_name: 'thinpool', segtype: 'thin-pool', chunk_size: '524288', seg_monitor: 'monitored', lv_profile: 'docker-thinpool', transaction_id: '0' });
    expect(pool.lv_attr).toMatch(/^twi-a/);
    expect((await s.get('dmstatus')).out).toMatch(/^0 \d+ thin-pool 0 \d+\/\d+ 0\/\d+ - rw /);
  });

  it('wrote the autoextend profile and daemon.json', async () => {
    const profile = (await s.get('profile')).out;
    expect(profile).toMatch(/thin_pool_autoextend_threshold = 80/);
    expect(profile).toMatch(/thin_pool_autoextend_percent = 20/);
    expect(JSON.parse((await s.get('daemon')).out)).toEqual({
      'storage-driver': 'devicemapper',
      'storage-opts': ['dm.thinpooldev=/dev/mapper/docker-thinpool', 'dm.use_deferred_removal=true', 'dm.use_deferred_deletion=true'],
    });
  });

  it('a re-run has nothing to do', async () => {
    const rerun = await s.get('rerun');
    expect(rerun.rc).toBe(0);
    expect(rerun.out).toContain('nothing to do');
    expect((await s.get('rerun-detailed')).rc).toBe(0);
  });

  it('status --json matches lvs and dmsetup', async () => {
    const status = JSON.parse((await s.get('status-json')).out);
    const [dataPct, metaPct, size] = (await s.get('lvs-for-status')).out.trim().split(/\s+/).map(Number);
    const [pool] = status.pools;
    expect(pool).toMatchObject({ name: 'docker/thinpool', dmName: 'docker-thinpool', active: true, mode: 'rw', monitoring: 'monitored', transactionId: 0, sizeBytes: size });
    expect(pool.data.percent).toBeCloseTo(dataPct!, 1);
    expect(pool.metadata.percent).toBeCloseTo(metaPct!, 1);
    expect(pool.autoextend).toEqual({ threshold: 80, percent: 20, source: 'profile docker-thinpool', enabled: true });
    expect((await s.get('status')).out).toMatch(/^docker\/thinpool +active +0\.0% of \S+ MiB +\S+% of \S+ MiB +monitored +80% \+20%/m);
  });

  it('a disk with an ext4 signature is refused without --force and left intact', async () => {
    const refused = await s.get('ext4-refused');
    expect(refused.rc).toBe(3);
    expect(refused.err).toMatch(/carries a signature \(ext4\).*--force/);
    expect(JSON.parse((await s.get('ext4-after')).out).signatures.map((x: { type: string }) => x.type)).toEqual(['ext4']);
    expect((await s.get('pvs-after')).out).not.toContain('/dev/ubdb');
  });
});

describe('autoextend on a real kernel, and --force', () => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    s = await runScenario(
      `
mkfs.ext4 -q /dev/ubda
rec apply dmctl init-direct /dev/ubda --force --yes --thinp-percent 20 --consumer none
rec wiped wipefs --no-act --json /dev/ubda
rec size-before lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool
lvcreate -q -V 1G -T docker/thinpool -n thin1 >/dev/null 2>&1
size0=$(lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool | tr -d ' ')
# 90% of the pool, past its 80% threshold.
dd if=/dev/zero of=/dev/mapper/docker-thin1 bs=1M count=$(( size0 * 90 / 100 / 1048576 )) oflag=direct status=none
for i in $(seq 1 30); do
  now=$(lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool | tr -d ' ')
  [ "$now" -gt "$size0" ] && break
  sleep 1
done
rec size-after lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool
rec status-json dmctl --json status
`,
      { disks: ['1G'] },
    );
  });
  afterAll(async () => s?.cleanup());

  it('--force wipes the ext4 signature and builds the pool', async () => {
    const apply = await s.get('apply');
    expect(apply.rc, `${apply.out}\n${apply.err}`).toBe(0);
    expect(apply.out).toContain('$ wipefs -a /dev/ubda');
    expect(JSON.parse((await s.get('wiped')).out).signatures.map((x: { type: string }) => x.type)).toEqual(['LVM2_member']);
  });

  it('a thin volume filled past the threshold makes the pool grow', async () => {
    const before = Number((await s.get('size-before')).out.trim());
    const after = Number((await s.get('size-after')).out.trim());
    expect(after, s.transcript).toBeGreaterThan(before);
    const [pool] = JSON.parse((await s.get('status-json')).out).pools;
    expect(pool.sizeBytes).toBe(after);
    expect(pool.thinLvs).toBe(1);
  });
});
