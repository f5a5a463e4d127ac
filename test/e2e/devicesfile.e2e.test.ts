/**
 * Hidden PVs are never wiped (issue 11.5), on a real kernel: LVM's devices file in use
 * (`devices/use_devicesfile = 1`, RHEL 9's default) hides a PV of another VG from a plain `pvs`;
 * `dmctl init-direct DEV --force` must still see it and refuse, and the PV and its data stay intact.
 * A PV that even `pvs --devicesfile ""` does not list (a global_filter hides it) is refused as well.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from './scenario.js';

describe('devices file: a PV of another VG that pvs hides is refused even with --force', () => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    s = await runScenario(
      `
# The guest's lvm.conf is a guest-only copy (uml-run): turn the devices file on, as RHEL 9 does.
sed -i -e 's/^devices {/&\\n\\tuse_devicesfile = 1/' /etc/lvm/lvm.conf
rec usedf lvmconfig --typeconfig full devices/use_devicesfile
# A VG "other" with data on /dev/ubda (the first pvcreate creates the devices file and lists the disk).
pvcreate -y /dev/ubda >/dev/null && vgcreate other /dev/ubda >/dev/null && lvcreate -y -n data -l 4 other >/dev/null || echo "setup failed"
printf 'precious-data' | dd of=/dev/mapper/other-data bs=512 conv=sync status=none
# /dev/ubdb: a PV of VG "filtered", which a global_filter hides from every pvs.
pvcreate -y /dev/ubdb >/dev/null && vgcreate filtered /dev/ubdb >/dev/null || echo "setup failed"
rec devfile cat /etc/lvm/devices/system.devices
# Then /dev/ubda leaves the devices file, as a disk moved from another host does, or one never added.
lvm lvmdevices --yes --deldev /dev/ubda >/dev/null || echo "deldev failed"
sed -i -e 's/^devices {/&\\n\\tglobal_filter = [ "r|^\\/dev\\/ubdb$|" ]/' /etc/lvm/lvm.conf
rec pvs-plain pvs --noheadings -o pv_name,vg_name
rec pvs-all pvs --devicesfile "" --noheadings -o pv_name,vg_name,pv_uuid
rec wipefs-before wipefs --no-act --json /dev/ubda
rec refused dmctl init-direct /dev/ubda --force --consumer none --yes
rec refused-dry dmctl init-direct /dev/ubda --force --consumer none --dry-run
rec pvs-after pvs --devicesfile "" --noheadings -o pv_name,vg_name,pv_uuid
rec wipefs-after wipefs --no-act --json /dev/ubda
rec data dd if=/dev/mapper/other-data bs=13 count=1 status=none
rec filtered-pvs pvs --devicesfile "" --noheadings -o pv_name
rec filtered-wipefs wipefs --no-act --json /dev/ubdb
rec filtered-refused dmctl init-direct /dev/ubdb --force --consumer none --yes
rec filtered-after wipefs --no-act --json /dev/ubdb
# A fresh disk, and the VG name the hidden PV carries: vgs does not show VG other, vgcreate would make a second one.
rec vgs-plain vgs --noheadings -o vg_name
rec hidden-vg dmctl init-direct /dev/ubdc --vg other --consumer none --yes
rec hidden-vg-after vgs --devicesfile "" --noheadings -o vg_name,pv_count
`,
      { disks: ['256M', '256M', '256M'] },
    );
  });
  afterAll(async () => s?.cleanup());

  it('the guest really hides the PV: a plain pvs does not list /dev/ubda, pvs --devicesfile "" does', async () => {
    expect((await s.get('usedf')).out.trim(), s.transcript).toBe('use_devicesfile=1');
    expect((await s.get('devfile')).out).toContain('DEVNAME=/dev/ubda');
    expect((await s.get('pvs-plain')).out, s.transcript).not.toContain('/dev/ubda');
    expect((await s.get('pvs-all')).out.trim().split(/\s+/).slice(0, 2)).toEqual(['/dev/ubda', 'other']);
    expect(JSON.parse((await s.get('wipefs-before')).out).signatures.map((x: { type: string }) => x.type)).toEqual(['LVM2_member']);
  });

  it('init-direct --force refuses it as a PV of VG other (exit 3, one line), plans no wipefs', async () => {
    const refused = await s.get('refused');
    expect(refused.rc, `${refused.out}\n${refused.err}`).toBe(3);
    expect(refused.err).toMatch(/\/dev\/ubda belongs to volume group other: dmctl never takes a disk from another VG/);
    const dry = await s.get('refused-dry');
    expect(dry.rc).toBe(3);
    expect(dry.out).not.toContain('wipefs -a');
  });

  it('the PV, its label and the data on its LV are intact', async () => {
    expect((await s.get('pvs-after')).out).toBe((await s.get('pvs-all')).out);
    expect((await s.get('wipefs-after')).out).toBe((await s.get('wipefs-before')).out);
    expect((await s.get('data')).out).toBe('precious-data');
  });

  it('an LVM label no pvs lists at all (a global_filter hides it) is refused even with --force, saying why', async () => {
    expect((await s.get('filtered-pvs')).out).not.toContain('/dev/ubdb');
    expect(JSON.parse((await s.get('filtered-wipefs')).out).signatures.map((x: { type: string }) => x.type)).toEqual(['LVM2_member']);
    const refused = await s.get('filtered-refused');
    expect(refused.rc, `${refused.out}\n${refused.err}`).toBe(3);
    expect(refused.err).toMatch(/\/dev\/ubdb carries an LVM2_member signature but no pvs lists it: it may be a PV of another VG hidden by a filter or global_filter in lvm.conf.*never wipes it, even with --force/);
    expect((await s.get('filtered-after')).out).toBe((await s.get('filtered-wipefs')).out);
  });

  it('a VG name the hidden PV carries is refused for a fresh disk: no second VG other', async () => {
    expect((await s.get('vgs-plain')).out).not.toMatch(/\bother\b/);
    const r = await s.get('hidden-vg');
    expect(r.rc, `${r.out}\n${r.err}`).toBe(3);
    expect(r.err).toMatch(/volume group other already exists on \/dev\/ubda, which LVM's devices file or filter hides from vgs/);
    expect((await s.get('hidden-vg-after')).out.trim().split('\n').map((l) => l.trim().split(/\s+/))).toEqual([['other', '1']]);
  });
});
