/**
 * The parsers over EVERY guest-recorded fixture folder: Debian 12's tools and each distribution-matrix
 * profile's (lvm2 2.03.07 … 2.03.29, util-linux 2.32.1 … 2.39.3; test/compat/profiles.json). Each folder
 * is the same scenario recorded by test/e2e/record-fixtures.sh with other tools first on PATH, so the
 * same facts must come out of every one of them. The folders are discovered, not listed.
 */
import { describe, expect, it } from 'vitest';
import { ioHintsQuery, lsblkQuery, wipefsListQuery } from '../../../src/system/blockdev.js';
import { thinPoolStatusesQuery, thinPoolTablesQuery } from '../../../src/system/dmsetup.js';
import { losetupListQuery } from '../../../src/system/losetup.js';
import { lvmVersionQuery, lvsQuery, peStartQuery, pvLayoutConfigQuery, pvsQuery, supportsDevicesFile, vgsQuery } from '../../../src/system/lvm.js';
import { fixtureDir, guestFixtureDirs } from '../../helpers/fixtures.js';

const dirs = guestFixtureDirs();

it('finds the Debian 12 folder and the matrix profiles\' folders', () => {
  expect(dirs).toContain('lvm-2.03.16-uml-6.1');
  expect(dirs.length).toBeGreaterThanOrEqual(1);
});

describe.each(dirs)('fixtures %s', (dir) => {
  const f = fixtureDir(dir);

  it('lvm version is read', () => {
    const v = lvmVersionQuery().parse(f.read('lvm-version.txt'));
    expect(v).toBeDefined();
  });

  it('lvs: the monitored thin pool with its profile, its thin volume, and an inactive pool', () => {
    const [pool] = lvsQuery().parse(f.read('lvs-pool.txt'));
    expect(pool).toMatchObject({
      vgName: 'docker', name: 'thinpool', segtype: 'thin-pool', chunkSizeBytes: 524288, transactionId: 0,
      monitor: 'monitored', profile: 'docker-thinpool', dmPath: '/dev/mapper/docker-thinpool', dataPercent: 0,
    });
    expect(pool!.attr).toMatchObject({ isThinPool: true, active: true, open: false });
    const used = lvsQuery().parse(f.read('lvs-pool-used.txt'));
    expect(used.find((l) => l.name === 'thin1')).toMatchObject({ poolLv: 'thinpool', attr: { isThinVolume: true } });
    expect(used.find((l) => l.name === 'thinpool')).toMatchObject({ transactionId: 1, attr: { open: true } });
    const inactive = lvsQuery().parse(f.read('lvs-pool-inactive.txt')).find((l) => l.name === 'thinpool')!;
    expect(inactive).toMatchObject({ dataPercent: undefined, metadataPercent: undefined, monitor: undefined });
    expect(inactive.attr.active).toBe(false);
    expect(lvsQuery().parse(f.read('lvs-empty.txt'))).toEqual([]);
  });

  it('pvs/vgs: the PV and VG of the pool; nothing before', () => {
    expect(pvsQuery().parse(f.read('pvs-pool.txt'))).toMatchObject([{ name: '/dev/ubda', vgName: 'docker' }]);
    expect(pvsQuery().parse(f.read('pvs-empty.txt'))).toEqual([]);
    expect(vgsQuery().parse(f.read('vgs-pool.txt'))[0]).toMatchObject({ name: 'docker', pvCount: 1, lvCount: 1, extentSizeBytes: 4194304 });
    expect(vgsQuery().parse(f.read('vgs-empty.txt'))).toEqual([]);
  });

  it('the devices file: hidden PV seen only with --devicesfile "" (lvm2 >= 2.03.12), else not recorded', () => {
    const v = lvmVersionQuery().parse(f.read('lvm-version.txt'));
    if (!supportsDevicesFile(v)) {
      expect(f.has('pvs-devicesfile-hidden.txt')).toBe(false);
      return;
    }
    expect(pvsQuery().parse(f.read('pvs-devicesfile-hidden.txt')).map((p) => p.name)).toEqual(['/dev/ubda']);
    expect(pvsQuery().parse(f.read('pvs-devicesfile-all.txt')).map((p) => [p.name, p.vgName])).toEqual([['/dev/ubda', 'docker'], ['/dev/ubdc', 'other']]);
  });

  it('lvmconfig layout settings, and pe_start with an 8 MiB data alignment', () => {
    expect(pvLayoutConfigQuery().parse(f.read('lvmconfig-layout.txt'))).toBeDefined();
    expect(peStartQuery('/dev/ubdd').parse(f.read('pvs-pe-start-8m.txt'))).toBe(8 * 1024 * 1024);
  });

  it('dmsetup: the LVM pool and the bare loop pool, table and status; "No devices found" is empty', () => {
    const tables = thinPoolTablesQuery().parse(f.read('dmsetup-table-both.txt'));
    expect(tables.map((t) => t.name)).toEqual(['dmctl-pool', 'docker-thinpool']);
    expect(tables[0]!.table).toMatchObject({ lengthSectors: 2097152, blockSectors: 128, lowWaterMarkBlocks: 32768, features: ['skip_block_zeroing'] });
    expect(tables[1]!.table).toMatchObject({ blockSectors: 1024 });
    const [loop] = thinPoolStatusesQuery().parse(f.read('dmsetup-status-both.txt'));
    expect(loop).toMatchObject({ name: 'dmctl-pool', status: { transactionId: 0, totalDataBlocks: 16384, mode: 'rw', needsCheck: false } });
    expect(thinPoolStatusesQuery().parse(f.read('dmsetup-status-pool-used.txt'))[0]).toMatchObject({ name: 'docker-thinpool-tpool', status: { transactionId: 1 } });
    expect(thinPoolTablesQuery().parse(f.read('dmsetup-table-empty.txt'))).toEqual([]);
    expect(thinPoolStatusesQuery().parse(f.read('dmsetup-status-pool-inactive.txt'))).toEqual([]);
  });

  it('losetup: the loop pool\'s two devices with their backing files; none attached', () => {
    const loops = losetupListQuery().parse(f.read('losetup-looppool.txt'));
    expect(loops.map((l) => [l.majorMinor, l.backingFile, l.offset, l.sizeLimit, l.readOnly]).sort()).toEqual([
      ['7:0', '/var/lib/dmctl-loop/data', 0, 0, false],
      ['7:1', '/var/lib/dmctl-loop/metadata', 0, 0, false],
    ]);
    expect(losetupListQuery().parse(f.read('losetup-empty.txt'))).toEqual([]);
  });

  it('lsblk: fresh disk, PV with its LVs, ext4, a partition; I/O hints', () => {
    expect(lsblkQuery(['/dev/ubda']).parse(f.read('lsblk-fresh.txt'))).toEqual([
      { path: '/dev/ubda', type: 'disk', sizeBytes: 1024 ** 3, mountpoints: [], children: [] },
    ]);
    expect(lsblkQuery(['/dev/ubda']).parse(f.read('lsblk-pv-with-lvs.txt'))[0]!.children.map((c) => c.type)).toEqual(['lvm', 'lvm']);
    expect(lsblkQuery(['/dev/ubdb']).parse(f.read('lsblk-ext4.txt'))[0]).toMatchObject({ path: '/dev/ubdb', children: [] });
    expect(lsblkQuery(['/dev/ubdb']).parse(f.read('lsblk-partitioned.txt'))[0]!.children).toMatchObject([{ path: '/dev/ubdb1', type: 'part' }]);
    expect(ioHintsQuery(['/dev/ubdd']).parse(f.read('lsblk-io-fresh.txt'))).toMatchObject([{ path: '/dev/ubdd', alignmentOffsetBytes: 0 }]);
  });

  it('wipefs: nothing on a fresh disk, ext4, LVM2_member', () => {
    expect(wipefsListQuery('/dev/ubda').parse(f.read('wipefs-fresh.txt'))).toEqual([]);
    expect(wipefsListQuery('/dev/ubdb').parse(f.read('wipefs-ext4.txt')).map((s) => s.type)).toEqual(['ext4']);
    expect(wipefsListQuery('/dev/ubda').parse(f.read('wipefs-pv.txt')).map((s) => s.type)).toEqual(['LVM2_member']);
  });
});

describe('losetup --json of util-linux 2.32.1 (RHEL 8): every value a string', () => {
  const rhel8 = fixtureDir('compat-rhel-8').read('losetup-looppool.txt');

  it('is read as numbers and a boolean, the same as 2.38\'s output', () => {
    expect(rhel8).toContain('"sizelimit": "0"');
    const debian = fixtureDir('lvm-2.03.16-uml-6.1').read('losetup-looppool.txt');
    expect(losetupListQuery().parse(rhel8)).toEqual(losetupListQuery().parse(debian));
  });

  it('strictly: a flag is "0" or "1", a count all digits (the recorded output with one value changed)', () => {
    expect(losetupListQuery().parse(rhel8.replace('"ro": "0"', '"ro": "1"'))[0]!.readOnly).toBe(true);
    expect(() => losetupListQuery().parse(rhel8.replace('"ro": "0"', '"ro": "yes"'))).toThrow();
    expect(() => losetupListQuery().parse(rhel8.replace('"sizelimit": "0"', '"sizelimit": "-1"'))).toThrow();
    expect(() => losetupListQuery().parse(rhel8.replace('"offset": "0"', '"offset": ""'))).toThrow();
    expect(() => losetupListQuery().parse(rhel8.replace('"  7:1  "', '"seven"'))).toThrow();
  });
});
