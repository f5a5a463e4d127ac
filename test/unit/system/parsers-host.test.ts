import { describe, expect, it } from 'vitest';
import { lsblkQuery, wipefsListQuery } from '../../../src/system/blockdev.js';
import { losetupListQuery } from '../../../src/system/losetup.js';
import { decodeLvAttr, lvmDmName, lvmThinConfigQuery, lvsQuery, parseAutoextendProfile, autoextendProfileContent, pvsQuery, vgsQuery } from '../../../src/system/lvm.js';
import { parseDockerVersion, mergeDaemonJson } from '../../../src/system/docker.js';
import { mergeContainerdConfig } from '../../../src/system/containerd.js';
import { isActiveQuery } from '../../../src/system/systemd.js';
import { formatArgv } from '../../../src/system/exec.js';
import { host } from '../../helpers/fixtures.js';

describe('lvm reports (recorded on this host)', () => {
  it('pvs: an orphan PV has no VG; sizes are bytes', () => {
    expect(pvsQuery().parse(host('pvs-orphan.txt'))).toEqual([{ name: '/dev/loop0', vgName: undefined, sizeBytes: 104857600, freeBytes: 104857600 }]);
    expect(pvsQuery().parse(host('pvs-vg.txt'))[0]!.vgName).toBe('dmctltest');
    expect(pvsQuery().parse(host('pvs-empty.txt'))).toEqual([]);
  });

  it('vgs: extents and counts', () => {
    expect(vgsQuery().parse(host('vgs-vg.txt'))).toEqual([
      { name: 'dmctltest', sizeBytes: 100663296, freeBytes: 100663296, extentSizeBytes: 4194304, extentCount: 24, freeExtentCount: 24, pvCount: 1, lvCount: 0 },
    ]);
  });

  it('lvs: an empty report', () => {
    expect(lvsQuery().parse(host('lvs-empty.txt'))).toEqual([]);
  });

  it('rejects output that is not the report it asked for', () => {
    expect(() => pvsQuery().parse(host('vgs-vg.txt'))).toThrow();
    expect(() => pvsQuery().parse('  WARNING: something\n')).toThrow();
  });

  it('lvmconfig: profile dir and the global autoextend settings', () => {
    expect(lvmThinConfigQuery().parse(host('lvmconfig-thin.txt'))).toEqual({ profileDir: '/etc/lvm/profile', threshold: 100, percent: 20 });
  });

  it('decodes lv_attr characters that matter', () => {
    expect(decodeLvAttr('twi-a-t---')).toMatchObject({ isThinPool: true, active: true, open: false, health: 'ok', skipActivation: false });
    expect(decodeLvAttr('twi---t---')).toMatchObject({ isThinPool: true, active: false });
    expect(decodeLvAttr('twi-aot-D-')).toMatchObject({ open: true, health: 'out-of-data-space' });
    expect(decodeLvAttr('twi-cot-M-')).toMatchObject({ checkNeeded: true, active: true, health: 'metadata-read-only' });
    expect(decodeLvAttr('twi---t--k')).toMatchObject({ skipActivation: true });
    expect(decodeLvAttr('Vwi-a-tz--')).toMatchObject({ isThinVolume: true, isThinPool: false });
  });

  it('dm names double hyphens', () => {
    expect(lvmDmName('docker', 'thinpool')).toBe('docker-thinpool');
    expect(lvmDmName('my-vg', 'thin-pool')).toBe('my--vg-thin--pool');
  });

  it('a profile round-trips, and Docker\'s own profile format is read too', () => {
    expect(parseAutoextendProfile(autoextendProfileContent(70, 30))).toEqual({ threshold: 70, percent: 30 });
    expect(parseAutoextendProfile('activation {\n  thin_pool_autoextend_threshold=80\n  thin_pool_autoextend_percent=20\n}\n')).toEqual({ threshold: 80, percent: 20 });
  });
});

describe('util-linux (recorded on this host)', () => {
  it('lsblk: a fresh loop device', () => {
    expect(lsblkQuery(['/dev/loop0']).parse(host('lsblk-loop-fresh.txt'))).toEqual([
      { path: '/dev/loop0', type: 'loop', sizeBytes: 104857600, mountpoints: [], children: [] },
    ]);
  });

  it('wipefs: none, ext4, LVM2_member', () => {
    expect(wipefsListQuery('/dev/loop0').parse(host('wipefs-fresh.txt'))).toEqual([]);
    expect(wipefsListQuery('/dev/loop1').parse(host('wipefs-ext4.txt')).map((s) => s.type)).toEqual(['ext4']);
    expect(wipefsListQuery('/dev/loop0').parse(host('wipefs-pv.txt')).map((s) => s.type)).toEqual(['LVM2_member']);
  });

  it('wipefs is asked never to erase', () => {
    expect(wipefsListQuery('/dev/x').argv).toEqual(['wipefs', '--no-act', '--json', '/dev/x']);
  });

  it('losetup: padded maj:min is trimmed; no loops prints nothing', () => {
    const loops = losetupListQuery().parse(host('losetup-two.txt'));
    expect(loops.map((l) => [l.name, l.majorMinor, l.backingFile])).toEqual([
      ['/dev/loop1', '7:1', '/tmp/d2.img'],
      ['/dev/loop0', '7:0', '/tmp/d1.img'],
    ]);
    expect(losetupListQuery().parse('')).toEqual([]);
  });
});

describe('consumers', () => {
  it('reads the engine version from dockerd, not the client', () => {
    expect(parseDockerVersion(host('dockerd-version.txt'))).toMatchObject({ major: 20, minor: 10 });
    expect(parseDockerVersion('Docker version 28.2.2, build e6534b4')).toMatchObject({ major: 28, minor: 2 });
  });

  it('daemon.json merge is idempotent', () => {
    const first = mergeDaemonJson({ debug: true }, 'devicemapper', ['dm.thinpooldev=/dev/mapper/p']);
    expect(first.changed).toBe(true);
    const again = mergeDaemonJson(first.config, 'devicemapper', ['dm.thinpooldev=/dev/mapper/p']);
    expect(again.changed).toBe(false);
  });

  it('containerd config: appends to an existing file, keeps comments, refuses a conflicting section', () => {
    const mine = '# my containerd\nversion = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "pause:3.6"\n';
    const wanted = { poolName: 'docker-thinpool', rootPath: '/var/lib/c', baseImageSize: '10GB' };
    const change = mergeContainerdConfig(mine, wanted);
    expect(change.kind).toBe('write');
    const content = (change as { content: string }).content;
    expect(content.startsWith(mine)).toBe(true);
    expect(mergeContainerdConfig(content, wanted)).toEqual({ kind: 'unchanged' });
    expect(mergeContainerdConfig(content, { ...wanted, poolName: 'other' })).toMatchObject({ kind: 'conflict', reason: expect.stringContaining('pool_name = "docker-thinpool"') });
    expect(mergeContainerdConfig('version = = 2', wanted)).toMatchObject({ kind: 'conflict', reason: expect.stringContaining('not valid TOML') });
  });

  it('systemctl is-active: inactive (exit 3) is an answer', () => {
    const q = isActiveQuery('docker.service');
    expect(q.okExitCodes).toContain(3);
    expect(q.parse('inactive\n')).toBe('inactive');
    expect(q.parse('active\n')).toBe('active');
  });
});

describe('argv display', () => {
  it('quotes what a shell would split', () => {
    expect(formatArgv(['dmsetup', 'create', 'pool', '--table', '0 8388608 thin-pool 7:1 7:0 128 32768 1 skip_block_zeroing'])).toBe(
      "dmsetup create pool --table '0 8388608 thin-pool 7:1 7:0 128 32768 1 skip_block_zeroing'",
    );
    expect(formatArgv(['echo', "it's"])).toBe("echo 'it'\\''s'");
  });
});

describe('mount points', () => {
  it('reads this machine\'s own /proc/self/mountinfo', async () => {
    const { isMountPoint } = await import('../../../src/probe/probe.js');
    const { readFileSync } = await import('node:fs');
    const real = readFileSync('/proc/self/mountinfo', 'utf8');
    expect(isMountPoint(real, '/proc')).toBe(true);
    expect(isMountPoint(real, '/proc/')).toBe(true);
    expect(isMountPoint(real, '/proc/self')).toBe(false);
  });

  it('decodes the kernel\'s octal escapes (proc(5): a space is \\040)', async () => {
    const { isMountPoint } = await import('../../../src/probe/probe.js');
    expect(isMountPoint('99 22 0:5 / /mnt/with\\040space rw - tmpfs tmpfs rw\n', '/mnt/with space')).toBe(true);
  });
});

describe('containerd config versions', () => {
  const wanted = { poolName: 'docker-thinpool', rootPath: '/var/lib/c', baseImageSize: '10GB' };
  it('a version 1 file (no version line, as containerd.io ships it) gets [plugins.devmapper]', async () => {
    const { mergeContainerdConfig } = await import('../../../src/system/containerd.js');
    const v1 = '#   Copyright 2018-2022 Docker Inc.\ndisabled_plugins = ["cri"]\n';
    const change = mergeContainerdConfig(v1, wanted);
    expect(change.kind).toBe('write');
    const content = (change as { content: string }).content;
    expect(content).toContain('[plugins.devmapper]');
    expect(content).not.toContain('io.containerd.snapshotter.v1.devmapper');
    expect(mergeContainerdConfig(content, wanted)).toEqual({ kind: 'unchanged' });
  });

  it('status reads the pool from the section spelled for the file\'s version, as containerd does', async () => {
    const { containerdPoolUse, devmapperSectionToml } = await import('../../../src/system/containerd.js');
    const v1 = devmapperSectionToml(wanted, 1);
    const v2 = `version = 2\n\n${devmapperSectionToml(wanted, 2)}`;
    expect(containerdPoolUse(v1)).toEqual({ poolName: 'docker-thinpool', baseImageSizeBytes: 10 * 1024 ** 3 });
    expect(containerdPoolUse(v2)).toEqual({ poolName: 'docker-thinpool', baseImageSizeBytes: 10 * 1024 ** 3 });
    // containerd 1.x ignores the other spelling: so does status.
    expect(containerdPoolUse(`version = 2\n\n${devmapperSectionToml(wanted, 1)}`)).toBeUndefined();
    expect(containerdPoolUse(devmapperSectionToml(wanted, 2))).toBeUndefined();
  });
});
