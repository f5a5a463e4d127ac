/**
 * Loop pools on a real dm-thin kernel: init-loop, resize-loop while a thin volume is written,
 * reactivate after the pool was torn down as a reboot leaves it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from './scenario.js';

describe('loop pool: init-loop, online resize under writes, reactivate after a "reboot"', () => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    s = await runScenario(
      `
opts="--data-size 1G --metadata-size 64M --consumer containerd --base-image-size 64MB"
rec plan dmctl init-loop $opts --dry-run
rec apply dmctl init-loop $opts --yes
rec table dmsetup table dmctl-pool
rec record cat /var/lib/dmctl/pools/dmctl-pool.json
rec config cat /etc/containerd/config.toml
rec rerun dmctl init-loop $opts --yes

# A thin volume with known content.
dmsetup message dmctl-pool 0 create_thin 0
dmsetup create thin0 --table "0 1048576 thin /dev/mapper/dmctl-pool 0"
head -c 48M /dev/urandom > /run/payload
dd if=/run/payload of=/dev/mapper/thin0 bs=1M count=16 oflag=direct status=none
# Keep writing the rest while the pool is resized.
dd if=/run/payload of=/dev/mapper/thin0 bs=1M skip=16 seek=16 count=32 oflag=direct status=none &
writer=$!
rec resize dmctl resize-loop +1G --yes
wait $writer; echo "writer rc=$?"
rec table-after dmsetup table dmctl-pool
rec data-file stat -c %s /var/lib/dmctl/loop/dmctl-pool/data
rec readback sh -c 'dd if=/dev/mapper/thin0 bs=1M count=48 status=none | cmp - /run/payload && echo identical'
rec shrink dmctl resize-loop 512M --yes
rec resize-again dmctl resize-loop 2G --yes
rec resize-meta dmctl resize-loop --metadata 128M --yes
rec status-meta dmsetup status dmctl-pool

# A reboot: thin devices, the pool and the loop devices are gone; the files stay.
dmsetup remove thin0
dmsetup remove dmctl-pool
losetup -D
rec gone dmsetup ls
rec react-plan dmctl reactivate --dry-run
rec react dmctl reactivate --yes
rec react-again dmctl reactivate --yes
dmsetup create thin0 --table "0 1048576 thin /dev/mapper/dmctl-pool 0"
rec readback-after sh -c 'dd if=/dev/mapper/thin0 bs=1M count=48 status=none | cmp - /run/payload && echo identical'
rec table-reactivated dmsetup table dmctl-pool
rec status-json dmctl --json status
`,
      { timeoutSec: 400 },
    );
  });
  afterAll(async () => s?.cleanup());

  it('init-loop plans the exact table and builds the pool', async () => {
    const plan = await s.get('plan');
    expect(plan.rc, plan.err).toBe(0);
    expect(plan.out).toMatch(/\$ dmsetup create dmctl-pool --table '0 2097152 thin-pool \/dev\/loop\d+ \/dev\/loop\d+ 128 32768 1 skip_block_zeroing'/);
    const apply = await s.get('apply');
    expect(apply.rc, `${apply.out}\n${apply.err}`).toBe(0);
    expect((await s.get('table')).out).toMatch(/^0 2097152 thin-pool 7:\d+ 7:\d+ 128 32768 1 skip_block_zeroing/);
    expect(JSON.parse((await s.get('record')).out)).toMatchObject({ name: 'dmctl-pool', dataFile: '/var/lib/dmctl/loop/dmctl-pool/data', blockSectors: 128 });
    expect((await s.get('config')).out).toContain('pool_name = "dmctl-pool"');
    const rerun = await s.get('rerun');
    expect(rerun.rc).toBe(0);
    expect(rerun.out).toContain('nothing to do');
  });

  it('resize-loop grows the pool online; data written meanwhile reads back identical', async () => {
    const resize = await s.get('resize');
    expect(resize.rc, `${resize.out}\n${resize.err}`).toBe(0);
    expect(resize.out).toMatch(/\$ dmsetup reload dmctl-pool[\s\S]*\$ dmsetup resume dmctl-pool/);
    expect(resize.out).not.toContain('dmsetup suspend');
    expect((await s.get('table-after')).out).toMatch(/^0 4194304 thin-pool /);
    expect((await s.get('data-file')).out.trim()).toBe(String(2 * 1024 ** 3));
    expect((await s.get('readback')).out.trim(), s.transcript).toBe('identical');
    expect(s.stdout).toContain('writer rc=0');
  });

  it('refuses to shrink; the same size again is nothing to do; metadata grows', async () => {
    const shrink = await s.get('shrink');
    expect(shrink.rc).toBe(3);
    expect(shrink.err).toMatch(/cannot shrink/);
    const again = await s.get('resize-again');
    expect(again.rc).toBe(0);
    expect(again.out).toContain('nothing to do');
    const meta = await s.get('resize-meta');
    expect(meta.rc, `${meta.out}\n${meta.err}`).toBe(0);
    // 128 MiB of 4 KiB metadata blocks.
    expect((await s.get('status-meta')).out).toMatch(/ thin-pool \d+ \d+\/32768 /);
  });

  it('reactivate rebuilds the pool after a reboot; the thin volume\'s data is intact', async () => {
    expect((await s.get('gone')).out).toContain('No devices found');
    const plan = await s.get('react-plan');
    expect(plan.out).toMatch(/\$ losetup \/dev\/loop\d+ \/var\/lib\/dmctl\/loop\/dmctl-pool\/data/);
    expect(plan.out).toMatch(/\$ dmsetup create dmctl-pool --table '0 4194304 thin-pool/);
    const react = await s.get('react');
    expect(react.rc, `${react.out}\n${react.err}`).toBe(0);
    const again = await s.get('react-again');
    expect(again.rc).toBe(0);
    expect(again.out).toContain('nothing to do');
    expect((await s.get('readback-after')).out.trim(), s.transcript).toBe('identical');
    const [pool] = JSON.parse((await s.get('status-json')).out).pools;
    expect(pool).toMatchObject({ name: 'dmctl-pool', kind: 'dm', sizeBytes: 2 * 1024 ** 3, devices: { dataFile: '/var/lib/dmctl/loop/dmctl-pool/data' } });
    // The thin volume's 48 MiB are still allocated in the rebuilt pool.
    expect(pool.data.usedBytes).toBeGreaterThanOrEqual(48 * 1024 ** 2);
  });
});

describe('direct-lvm: extend with new disks, reactivate after deactivation, the boot unit', () => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    s = await runScenario(
      `
dmctl init-direct /dev/ubda --consumer none --thinp-percent 60 --yes >/dev/null 2>&1 || echo "init-direct failed"
rec size-before lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool
rec extend-plan dmctl extend /dev/ubdb --dry-run
rec extend dmctl extend /dev/ubdb --yes
rec size-after lvs --noheadings --units b --nosuffix -o lv_size,vg_free docker/thinpool
rec extend-again dmctl extend /dev/ubdb --yes
rec meta-before lvs --noheadings --units b --nosuffix -o lv_metadata_size docker/thinpool
rec extend-meta dmctl extend /dev/ubdc --metadata 16M --yes
rec meta-after lvs --noheadings --units b --nosuffix -o lv_metadata_size docker/thinpool
lvchange -an docker/thinpool
rec inactive lvs --noheadings -o lv_attr docker/thinpool
rec react dmctl reactivate --yes
rec active lvs --noheadings -o lv_attr,seg_monitor docker/thinpool
rec react-again dmctl reactivate --yes
rec unit dmctl reactivate --install-unit --yes
rec unit-file cat /etc/systemd/system/dmctl-reactivate.service
`,
      { disks: ['1G', '1G', '256M'], timeoutSec: 300 },
    );
  });
  afterAll(async () => s?.cleanup());

  it('extend adds the disk and grows the pool by what it says, keeping a reserve', async () => {
    const extend = await s.get('extend');
    expect(extend.rc, `${extend.out}\n${extend.err}`).toBe(0);
    expect(extend.out).toMatch(/\$ vgextend docker \/dev\/ubdb/);
    const before = Number((await s.get('size-before')).out.trim());
    const [after, vgFree] = (await s.get('size-after')).out.trim().split(/\s+/).map(Number);
    expect(after).toBeGreaterThan(before);
    expect(vgFree).toBeGreaterThan(0);
    const again = await s.get('extend-again');
    expect(again.rc).toBe(0);
    expect(again.out).toContain('nothing to do');
  });

  it('extend --metadata grows the metadata LV', async () => {
    const meta = await s.get('extend-meta');
    expect(meta.rc, `${meta.out}\n${meta.err}`).toBe(0);
    expect(Number((await s.get('meta-after')).out.trim())).toBe(Number((await s.get('meta-before')).out.trim()) + 16 * 1024 ** 2);
  });

  it('reactivate activates an inactive pool and monitors it; then nothing to do', async () => {
    expect((await s.get('inactive')).out.trim()).toMatch(/^twi---/);
    const react = await s.get('react');
    expect(react.rc, `${react.out}\n${react.err}`).toBe(0);
    expect((await s.get('active')).out.trim()).toMatch(/^twi-a\S+\s+monitored$/);
    const again = await s.get('react-again');
    expect(again.rc).toBe(0);
    expect(again.out).toContain('nothing to do');
  });

  it('--install-unit writes a oneshot unit ordered before the consumers', async () => {
    expect((await s.get('unit')).rc).toBe(0);
    const unit = (await s.get('unit-file')).out;
    expect(unit).toContain('Type=oneshot');
    expect(unit).toContain('Before=docker.service containerd.service');
    expect(unit).toMatch(/ExecStart=\S*node\S* \S+dmctl\.js reactivate --yes/);
  });
});
