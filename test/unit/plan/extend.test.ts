import { describe, expect, it } from 'vitest';
import { RefusedError } from '../../../src/errors.js';
import { planExtend } from '../../../src/plan/extend.js';
import type { ExtendOptions } from '../../../src/model/options.js';
import type { ExtendState } from '../../../src/model/state.js';
import { ioHintsQuery, lsblkQuery, wipefsListQuery } from '../../../src/system/blockdev.js';
import { lvsQuery, peStartQuery, pvLayoutConfigQuery, pvsQuery, vgsQuery } from '../../../src/system/lvm.js';
import { guest, host } from '../../helpers/fixtures.js';
import { refusal } from '../../helpers/refusal.js';

/** docker/thinpool on /dev/ubda (recorded), plus a fresh 100 MiB /dev/loop0 (recorded on this host). */
function state(): ExtendState {
  return {
    missingTools: [],
    disks: [{
      requested: '/dev/loop0',
      path: '/dev/loop0',
      isBlockDevice: true,
      block: lsblkQuery(['/dev/loop0']).parse(host('lsblk-loop-fresh.txt'))[0],
      signatures: wipefsListQuery('/dev/loop0').parse(host('wipefs-fresh.txt')),
    }],
    lvm: { pvs: pvsQuery().parse(guest('pvs-pool.txt')), vgs: vgsQuery().parse(guest('vgs-pool.txt')), lvs: lvsQuery().parse(guest('lvs-pool.txt')) },
    // Debian's lvm.conf defaults and the loop device's I/O hints, recorded on this host.
    layout: { config: pvLayoutConfigQuery().parse(host('lvmconfig-layout.txt')), ioHints: ioHintsQuery(['/dev/loop0']).parse(host('lsblk-io-loop-fresh.txt')), peStarts: {} },
    poolRecords: {},
  };
}
const options = (o: Partial<ExtendOptions> = {}): ExtendOptions => ({ devices: ['/dev/loop0'], vg: undefined, pool: undefined, sizeBytes: undefined, metadataBytes: undefined, force: false, ...o });
const ids = (p: { steps: Array<{ id: string }> }) => p.steps.map((s) => s.id);
const mib = 1024 ** 2;

describe('extend', () => {
  it('adds the disk, then grows data by the new room minus room to double the metadata', () => {
    const plan = planExtend(state(), options());
    expect(ids(plan)).toEqual(['pvcreate', 'vgextend', 'lvextend', 'verify-size']);
    expect((plan.steps[1]!.action as { argv: string[] }).argv).toEqual(['vgextend', 'docker', '/dev/loop0']);
    // VG free: 9 extents; the disk: (100 MiB - 1 MiB) / 4 MiB = 24 extents; reserve: 2 × 8 MiB of metadata = 4 extents.
    expect((plan.steps[2]!.action as { argv: string[] }).argv).toEqual(['lvextend', '-l', '+29', 'docker/thinpool']);
    expect(plan.steps[3]!.action).toMatchObject({ argv: ['lvs', '--noheadings', '--units', 'b', '--nosuffix', '-o', 'lv_size', 'docker/thinpool'], expect: { equals: String(1015021568 + 29 * 4 * mib) } });
    expect(plan.notes[0]!.text).toBe('pool data: 968 MiB → 1.06 GiB');
  });

  it('--size grows by whole extents, and refuses more than there will be', () => {
    const plan = planExtend(state(), options({ sizeBytes: 10 * mib }));
    expect((plan.steps[2]!.action as { argv: string[] }).argv).toEqual(['lvextend', '-l', '+3', 'docker/thinpool']);
    expect(() => planExtend(state(), options({ sizeBytes: 1024 * mib }))).toThrow(/--size needs .* but VG docker will have/);
  });

  it('--metadata grows the metadata LV and verifies its size', () => {
    const plan = planExtend(state(), options({ metadataBytes: 16 * mib }));
    expect(plan.steps[2]!.action).toEqual({ kind: 'exec', argv: ['lvextend', '--poolmetadatasize', `+${16 * mib}b`, 'docker/thinpool'] });
    expect(plan.steps[3]!.action).toMatchObject({ argv: expect.arrayContaining(['lv_metadata_size']), expect: { equals: String(24 * mib) } });
  });

  it('a pool dmctl recorded gets the new disk in its record, last; a re-run finds it there', () => {
    const recordPath = '/var/lib/dmctl/pools/docker-thinpool.json';
    const record = (pvs: string[]) => `${JSON.stringify({ formatVersion: 1, kind: 'lvm', name: 'docker-thinpool', vg: 'docker', lv: 'thinpool', pvs }, null, 2)}\n`;
    const s = state();
    s.poolRecords = { [recordPath]: record(['/dev/ubda']) };
    const plan = planExtend(s, options());
    expect(ids(plan)).toEqual(['pvcreate', 'vgextend', 'lvextend', 'verify-size', 'write-record']);
    expect(plan.steps[4]!.action).toMatchObject({ kind: 'writeFile', path: recordPath, content: record(['/dev/ubda', '/dev/loop0']) });
    // the disk is in the VG and used now, and in the record: nothing to do
    const after = state();
    after.disks = [{ requested: '/dev/ubda', path: '/dev/ubda', isBlockDevice: true, block: undefined, signatures: undefined }];
    after.poolRecords = { [recordPath]: record(['/dev/ubda']) };
    expect(planExtend(after, options({ devices: ['/dev/ubda'] })).steps).toEqual([]);
    // an extend that ended before its record step: the re-run writes only the record
    after.poolRecords = { [recordPath]: record(['/dev/loop9']) };
    expect(ids(planExtend(after, options({ devices: ['/dev/ubda'] })))).toEqual(['write-record']);
    // no record (a pool dmctl did not make): none is made
    expect(ids(planExtend(state(), options()))).not.toContain('write-record');
  });

  it('nothing to do when the disk is already in the VG', () => {
    const s = state();
    s.disks = [{ requested: '/dev/ubda', path: '/dev/ubda', isBlockDevice: true, block: undefined, signatures: undefined }];
    const plan = planExtend(s, options({ devices: ['/dev/ubda'] }));
    expect(plan.steps).toEqual([]);
  });

  it('a re-run after an extend that stopped after vgextend grows the pool into the unused disk', () => {
    // The host as vgextend left it: /dev/loop0 is a PV of docker with all of its 24 extents free.
    const s = state();
    s.lvm.pvs.push({ name: '/dev/loop0', vgName: 'docker', sizeBytes: 24 * 4 * mib, freeBytes: 24 * 4 * mib });
    s.lvm.vgs[0]!.freeExtentCount += 24;
    s.disks = [{ requested: '/dev/loop0', path: '/dev/loop0', isBlockDevice: true, block: undefined, signatures: undefined }];
    const plan = planExtend(s, options());
    expect(ids(plan)).toEqual(['lvextend', 'verify-size']);
    // The same growth as the uninterrupted run: 9 + 24 free extents less the 4 kept for metadata.
    expect((plan.steps[0]!.action as { argv: string[] }).argv).toEqual(['lvextend', '-l', '+29', 'docker/thinpool']);
    expect(plan.notes[0]!.text).toMatch(/\/dev\/loop0 is already in VG docker but unused .*: the pool grows into it/);
    // Once the pool has grown into it, the disk has extents in use: nothing more to do.
    s.lvm.pvs.at(-1)!.freeBytes = 0;
    expect(planExtend(s, options()).steps).toEqual([]);
  });

  it('the same disk preflight as init-direct', () => {
    const s = state();
    s.disks[0]!.signatures = wipefsListQuery('/dev/loop0').parse(host('wipefs-ext4.txt'));
    expect(() => planExtend(s, options())).toThrow(/carries a signature \(ext4\).*--force/);
    expect(ids(planExtend(s, options({ force: true })))[0]).toBe('wipefs-loop0');
  });

  it('refuses when there is no pool, or more than one', () => {
    const none = state();
    none.lvm.lvs = [];
    expect(() => planExtend(none, options())).toThrow(RefusedError);
    const two = state();
    two.lvm.lvs = [...two.lvm.lvs, { ...two.lvm.lvs[0]!, vgName: 'other' }];
    expect(() => planExtend(two, options())).toThrow(/2 LVM thin pools \(docker\/thinpool, other\/thinpool\): choose one with --vg/);
    expect(ids(planExtend(two, options({ vg: 'docker' })))).toContain('vgextend');
  });
});

describe('extend sizes from the disk\'s real layout', () => {
  const lvextendArgv = (plan: { steps: Array<{ id: string; action: unknown }> }) => (plan.steps.find((st) => st.id === 'lvextend')!.action as { argv: string[] }).argv;

  it('with devices/data_alignment = 8192 (recorded) the first extent is at 8 MiB: the disk gives 23 extents, not the 24 a 1 MiB start would', () => {
    const s = state();
    s.layout.config = pvLayoutConfigQuery().parse(guest('lvmconfig-layout-8m.txt'));
    const plan = planExtend(s, options());
    // (100 MiB - 8 MiB) / 4 MiB = 23; the old 1 MiB assumption: (100 MiB - 1 MiB) / 4 MiB = 24.
    expect(Math.floor((100 * mib - 1 * mib) / (4 * mib))).toBe(24);
    expect(plan.steps.find((st) => st.id === 'vgextend')!.reason).toMatch(/^23 extents/);
    expect(lvextendArgv(plan)).toEqual(['lvextend', '-l', '+28', 'docker/thinpool']);
    expect(plan.steps.find((st) => st.id === 'verify-size')!.action).toMatchObject({ expect: { equals: String(1015021568 + 28 * 4 * mib) } });
  });

  it('an orphan PV (an extend that stopped after pvcreate) is sized from its real pe_start, not from lvm.conf', () => {
    // /dev/ubdd as pvcreate left it with data_alignment = 8192 (recorded): 1 GiB, pe_start 8 MiB.
    const s = state();
    // (lsblk of the guest's fresh 1 GiB /dev/ubda, recorded, standing in for the same-sized /dev/ubdd.)
    const block = lsblkQuery(['/dev/ubdd']).parse(guest('lsblk-fresh.txt').replaceAll('/dev/ubda', '/dev/ubdd'))[0];
    s.disks = [{ requested: '/dev/ubdd', path: '/dev/ubdd', isBlockDevice: true, block, signatures: undefined }];
    s.lvm.pvs.push(...pvsQuery().parse(guest('pvs-orphan-8m.txt')));
    s.layout = { ...s.layout, ioHints: [], peStarts: { '/dev/ubdd': peStartQuery('/dev/ubdd').parse(guest('pvs-pe-start-8m.txt')) } };
    const plan = planExtend(s, options({ devices: ['/dev/ubdd'] }));
    expect(ids(plan)).toEqual(['vgextend', 'lvextend', 'verify-size']);
    // (1 GiB - 8 MiB) / 4 MiB = 254 (a 1 MiB start would say 255), + 9 free - 4 kept.
    expect(plan.steps[0]!.reason).toMatch(/^254 extents/);
    expect(lvextendArgv(plan)).toEqual(['lvextend', '-l', '+259', 'docker/thinpool']);
    // Without its pe_start dmctl does not guess.
    s.layout.peStarts = {};
    expect(refusal(() => planExtend(s, options({ devices: ['/dev/ubdd'] })))).toMatch(/\/dev\/ubdd: where its first extent starts \(pvs -o pe_start\) could not be read/);
  });

  it('a layout dmctl does not model is refused with the way round it', () => {
    const s = state();
    s.layout.config = { ...s.layout.config!, pvMetadataCopies: 2 };
    expect(refusal(() => planExtend(s, options()))).toMatch(/^\/dev\/loop0: dmctl cannot tell where pvcreate will put its first extent \(lvm.conf sets metadata\/pvmetadatacopies = 2 .*\): add it yourself \(`pvcreate \/dev\/loop0`, `vgextend docker \/dev\/loop0`\), then `dmctl extend \/dev\/loop0` grows the pool into it/);
    s.layout.config = undefined;
    expect(refusal(() => planExtend(s, options()))).toMatch(/alignment settings could not be read/);
  });
});

describe('plan file', () => {
  it('an extend plan survives the round trip', async () => {
    const { makePlanFile, formatPlanFile, readPlanFile } = await import('../../../src/plan/file.js');
    const plan = planExtend(state(), options());
    expect(readPlanFile(formatPlanFile(makePlanFile(plan, { command: 'extend', options: { ...options() } }, state())), 'f').plan).toEqual(plan);
  });
});
