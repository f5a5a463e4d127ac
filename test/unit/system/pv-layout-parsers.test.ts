import { describe, expect, it } from 'vitest';
import { ioHintsQuery } from '../../../src/system/blockdev.js';
import { lvmVersionQuery, peStartQuery, pvLayoutConfigQuery, pvsQuery, supportsDevicesFile } from '../../../src/system/lvm.js';
import { guest, host } from '../../helpers/fixtures.js';

describe('lvm version, devices file and PV layout, recorded on a real kernel (and this host)', () => {
  it('lvm version: 2.03.16 has the devices file (2.03.12 and later)', () => {
    const v = lvmVersionQuery().parse(guest('lvm-version.txt'));
    expect(v).toMatchObject({ major: 2, minor: 3, patch: 16, text: '2.03.16(2) (2022-05-18)' });
    expect(supportsDevicesFile(v)).toBe(true);
    expect(lvmVersionQuery().parse(host('lvm-version.txt'))).toMatchObject({ major: 2, minor: 3, patch: 16 });
    expect(supportsDevicesFile({ major: 2, minor: 3, patch: 11, text: '' })).toBe(false);
    expect(supportsDevicesFile({ major: 2, minor: 3, patch: 12, text: '' })).toBe(true);
    expect(supportsDevicesFile({ major: 2, minor: 2, patch: 187, text: '' })).toBe(false);
    expect(() => lvmVersionQuery().parse('  Library version: 1.02.185 (2022-05-18)\n')).toThrow(/LVM version/);
  });

  it('pvs: the devices file hides VG other\'s PV; --devicesfile "" lists it', () => {
    expect(pvsQuery({ allDevices: true }).argv.slice(0, 3)).toEqual(['pvs', '--devicesfile', '']);
    expect(pvsQuery().argv).not.toContain('--devicesfile');
    expect(guest('lvmconfig-devicesfile.txt').trim()).toBe('use_devicesfile=1');
    expect(pvsQuery().parse(guest('pvs-devicesfile-hidden.txt')).map((p) => p.name)).toEqual(['/dev/ubda']);
    expect(pvsQuery({ allDevices: true }).parse(guest('pvs-devicesfile-all.txt')).map((p) => [p.name, p.vgName])).toEqual([['/dev/ubda', 'docker'], ['/dev/ubdc', 'other']]);
  });

  it('lvmconfig: the alignment settings, defaults and with data_alignment = 8192', () => {
    const defaults = {
      dataAlignmentKiB: 0, defaultDataAlignmentMiB: 1, dataAlignmentDetection: true, dataAlignmentOffsetDetection: true,
      mdChunkAlignment: true, pvMetadataCopies: 1, pvMetadataSizeSectors: undefined,
    };
    expect(pvLayoutConfigQuery().parse(guest('lvmconfig-layout.txt'))).toEqual(defaults);
    expect(pvLayoutConfigQuery().parse(host('lvmconfig-layout.txt'))).toEqual(defaults);
    expect(pvLayoutConfigQuery().parse(guest('lvmconfig-layout-8m.txt'))).toEqual({ ...defaults, dataAlignmentKiB: 8192 });
    expect(() => pvLayoutConfigQuery().parse('data_alignment=0\n')).toThrow();
  });

  it('lsblk I/O hints and an orphan PV\'s pe_start', () => {
    expect(ioHintsQuery(['/dev/ubdd']).parse(guest('lsblk-io-fresh.txt'))).toEqual([{ path: '/dev/ubdd', minIoBytes: 512, optIoBytes: 0, alignmentOffsetBytes: 0 }]);
    expect(ioHintsQuery(['/dev/loop0']).parse(host('lsblk-io-loop-fresh.txt'))).toEqual([{ path: '/dev/loop0', minIoBytes: 512, optIoBytes: 0, alignmentOffsetBytes: 0 }]);
    expect(peStartQuery('/dev/ubdd').parse(guest('pvs-pe-start-8m.txt'))).toBe(8 * 1024 ** 2);
    expect(peStartQuery('/dev/ubdd', { allDevices: true }).argv.slice(0, 3)).toEqual(['pvs', '--devicesfile', '']);
  });
});
