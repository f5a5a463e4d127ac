import { describe, expect, it } from 'vitest';
import { probeLvm } from '../../../src/probe/probe.js';
import { lvmVersionQuery, lvsQuery, pvsQuery, vgsQuery } from '../../../src/system/lvm.js';
import { FakeExecutor } from '../../helpers/fake-executor.js';
import { MemoryFiles } from '../../helpers/memory-files.js';
import { guest } from '../../helpers/fixtures.js';

/** The guest's LVM with the devices file on: it lists /dev/ubda only, /dev/ubdc (VG other) is hidden. */
function executor(versionOutput: string) {
  return new FakeExecutor()
    .on(lvmVersionQuery().argv, { stdout: versionOutput })
    .on(pvsQuery().argv, { stdout: guest('pvs-devicesfile-hidden.txt') })
    .on(pvsQuery({ allDevices: true }).argv, { stdout: guest('pvs-devicesfile-all.txt') })
    .on(vgsQuery().argv, { stdout: guest('vgs-pool.txt') })
    .on(lvsQuery().argv, { stdout: guest('lvs-pool.txt') });
}
const ctx = (e: FakeExecutor) => ({ executor: e, files: new MemoryFiles(), uid: 0 });

describe('probeLvm and the devices file', () => {
  it('lvm 2.03.16: PVs are listed past the devices file, so VG other\'s hidden PV is seen', async () => {
    const e = executor(guest('lvm-version.txt'));
    const lvm = await probeLvm(ctx(e));
    expect(lvm.allDevices).toBe(true);
    expect(lvm.pvs.map((p) => [p.name, p.vgName])).toEqual([['/dev/ubda', 'docker'], ['/dev/ubdc', 'other']]);
    expect(e.commands).toContain("pvs --devicesfile '' --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size,pv_free,pv_attr");
  });

  it('lvm before 2.03.12 is never given --devicesfile (it has no devices file, and rejects the option)', async () => {
    // The recorded output with only its version number changed.
    const e = executor(guest('lvm-version.txt').replace('2.03.16(2)', '2.03.11(2)'));
    const lvm = await probeLvm(ctx(e));
    expect(lvm.allDevices).toBe(false);
    expect(e.commands.filter((c) => c.startsWith('pvs'))).toEqual(['pvs --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size,pv_free,pv_attr']);
  });

  it('a version it cannot read fails the probe (fail closed): no pvs runs at all', async () => {
    const e = executor('  Library version: 1.02.185 (2022-05-18)\n');
    await expect(probeLvm(ctx(e))).rejects.toThrow(/lvm version/);
    expect(e.commands.some((c) => c.startsWith('pvs'))).toBe(false);
  });
});

describe('probeExtend reads what sizes a new disk', () => {
  it('lvm.conf\'s layout settings and the I/O hints of a disk that is no PV yet', async () => {
    const { probeExtend } = await import('../../../src/probe/loop.js');
    const { ioHintsQuery, lsblkQuery, wipefsListQuery } = await import('../../../src/system/blockdev.js');
    const { pvLayoutConfigQuery } = await import('../../../src/system/lvm.js');
    const { host } = await import('../../helpers/fixtures.js');
    const e = new FakeExecutor()
      .on(lvmVersionQuery().argv, { stdout: guest('lvm-version.txt') })
      .on(pvsQuery({ allDevices: true }).argv, { stdout: guest('pvs-all-devices-pool.txt') })
      .on(vgsQuery().argv, { stdout: guest('vgs-pool.txt') })
      .on(lvsQuery().argv, { stdout: guest('lvs-pool.txt') })
      .on(lsblkQuery(['/dev/loop0']).argv, { stdout: host('lsblk-loop-fresh.txt') })
      .on(wipefsListQuery('/dev/loop0').argv, { stdout: host('wipefs-fresh.txt') })
      .on(pvLayoutConfigQuery().argv, { stdout: host('lvmconfig-layout.txt') })
      .on(ioHintsQuery(['/dev/loop0']).argv, { stdout: host('lsblk-io-loop-fresh.txt') });
    const files = new MemoryFiles({ blockDevices: ['/dev/loop0'], programs: ['lvm', 'wipefs', 'lsblk'] });
    const state = await probeExtend({ executor: e, files, uid: 0 }, { devices: ['/dev/loop0'], vg: undefined, pool: undefined, sizeBytes: undefined, metadataBytes: undefined, force: false });
    expect(state.layout).toEqual({
      config: pvLayoutConfigQuery().parse(host('lvmconfig-layout.txt')),
      ioHints: [{ path: '/dev/loop0', minIoBytes: 512, optIoBytes: 0, alignmentOffsetBytes: 0 }],
      peStarts: {},
    });
  });
});

describe('probeLvm runs what does not depend on the version at once', () => {
  it('vgs and lvs start while `lvm version` is still running; only pvs waits for it', async () => {
    const e = executor(guest('lvm-version.txt'));
    let release!: () => void;
    const versionAnswered = new Promise<void>((r) => (release = r));
    const seenBeforeVersion: string[] = [];
    const gated = {
      async run(argv: Parameters<FakeExecutor['run']>[0], options?: Parameters<FakeExecutor['run']>[1]) {
        if (argv[0] === 'lvm' && argv[1] === 'version') {
          await versionAnswered;
        } else if (seenBeforeVersion.length < 10) {
          seenBeforeVersion.push(argv[0]);
        }
        return e.run(argv, options);
      },
    };
    const probing = probeLvm({ executor: gated, files: new MemoryFiles(), uid: 0 });
    await new Promise((r) => setTimeout(r, 10));
    expect(seenBeforeVersion.sort()).toEqual(['lvs', 'vgs']);
    release();
    const lvm = await probing;
    expect(lvm.pvs).toHaveLength(2);
  });
});
