import { describe, expect, it } from 'vitest';
import { lsblkQuery, wipefsListQuery } from '../../../src/system/blockdev.js';
import { parseThinPoolStatus, parseThinPoolTable, formatThinPoolTable, thinPoolStatusesQuery, thinPoolTablesQuery } from '../../../src/system/dmsetup.js';
import { losetupListQuery } from '../../../src/system/losetup.js';
import { lvsQuery, metadataStartQuery, peStartQuery, pvsQuery, vgsQuery } from '../../../src/system/lvm.js';
import { parseThinSuperblock } from '../../../src/system/thin-superblock.js';
import { containerdVersionQuery } from '../../../src/system/containerd.js';
import { parseDockerVersion } from '../../../src/system/docker.js';
import { guest, guestBytes } from '../../helpers/fixtures.js';

describe('lvm reports recorded on a real dm-thin kernel', () => {
  it('a monitored thin pool with its profile', () => {
    const [pool] = lvsQuery().parse(guest('lvs-pool.txt'));
    expect(pool).toMatchObject({
      vgName: 'docker',
      name: 'thinpool',
      segtype: 'thin-pool',
      sizeBytes: 1015021568,
      dataPercent: 0,
      metadataPercent: 10.4,
      metadataSizeBytes: 8388608,
      chunkSizeBytes: 524288,
      transactionId: 0,
      monitor: 'monitored',
      profile: 'docker-thinpool',
      whenFull: 'queue',
      dmPath: '/dev/mapper/docker-thinpool',
      vgFreeBytes: 37748736,
    });
    expect(pool!.attr).toMatchObject({ isThinPool: true, active: true, open: false });
  });

  it('a used pool and its thin volume', () => {
    const lvs = lvsQuery().parse(guest('lvs-pool-used.txt'));
    expect(lvs.find((l) => l.name === 'thin1')).toMatchObject({ poolLv: 'thinpool', attr: { isThinVolume: true } });
    expect(lvs.find((l) => l.name === 'thinpool')).toMatchObject({ transactionId: 1, dataPercent: 6.61, attr: { open: true } });
  });

  it('an inactive pool: empty percentages and no monitor', () => {
    const pool = lvsQuery().parse(guest('lvs-pool-inactive.txt')).find((l) => l.name === 'thinpool')!;
    expect(pool).toMatchObject({ dataPercent: undefined, metadataPercent: undefined, monitor: undefined });
    expect(pool.attr.active).toBe(false);
  });

  it('pvs/vgs: the VG is full after the guide\'s 95% + 1% (vg_free small, not zero)', () => {
    expect(pvsQuery().parse(guest('pvs-pool.txt'))).toEqual([{ name: '/dev/ubda', vgName: 'docker', sizeBytes: 1069547520, freeBytes: 37748736 }]);
    expect(vgsQuery().parse(guest('vgs-pool.txt'))[0]).toMatchObject({ name: 'docker', freeBytes: 37748736, lvCount: 1 });
    expect(pvsQuery().parse(guest('pvs-empty.txt'))).toEqual([]);
  });
});

describe('dmsetup on a real dm-thin kernel', () => {
  it('thin-pool table lines: LVM pool and a bare loop pool', () => {
    expect(thinPoolTablesQuery().parse(guest('dmsetup-table-both.txt'))).toEqual([
      { name: 'dmctl-pool', table: { lengthSectors: 2097152, metadataDevice: '7:1', dataDevice: '7:0', blockSectors: 128, lowWaterMarkBlocks: 32768, features: ['skip_block_zeroing'] } },
      { name: 'docker-thinpool', table: { lengthSectors: 1982464, metadataDevice: '254:0', dataDevice: '254:1', blockSectors: 1024, lowWaterMarkBlocks: 0, features: ['skip_block_zeroing'] } },
    ]);
  });

  it('thin-pool status lines', () => {
    const [loop, lvm] = thinPoolStatusesQuery().parse(guest('dmsetup-status-both.txt'));
    expect(loop).toEqual({ name: 'dmctl-pool', status: { transactionId: 0, usedMetadataBlocks: 1649, totalMetadataBlocks: 16384, usedDataBlocks: 0, totalDataBlocks: 16384, mode: 'rw', whenFull: 'queue', needsCheck: false } });
    expect(lvm!.name).toBe('docker-thinpool');
  });

  it('with a thin volume the kernel pool is VG-POOL-tpool', () => {
    const [used] = thinPoolStatusesQuery().parse(guest('dmsetup-status-pool-used.txt'));
    expect(used).toMatchObject({ name: 'docker-thinpool-tpool', status: { transactionId: 1, usedDataBlocks: 128, totalDataBlocks: 1936 } });
  });

  it('"No devices found" is an empty list', () => {
    expect(thinPoolTablesQuery().parse(guest('dmsetup-table-empty.txt'))).toEqual([]);
    expect(thinPoolStatusesQuery().parse(guest('dmsetup-status-pool-inactive.txt'))).toEqual([]);
  });

  it('a table line round-trips', () => {
    const line = '0 8388608 thin-pool 7:1 7:0 128 32768 1 skip_block_zeroing';
    expect(formatThinPoolTable(parseThinPoolTable(line))).toBe(line);
  });

  it('status variants the kernel documents: failed, out of data space, error_if_no_space, needs_check', () => {
    expect(parseThinPoolStatus('0 100 thin-pool Fail')).toEqual({ failed: true, text: 'Fail' });
    expect(parseThinPoolStatus('0 100 thin-pool 3 10/20 30/30 - out_of_data_space no_discard_passdown error_if_no_space needs_check 512')).toMatchObject({
      mode: 'out_of_data_space', whenFull: 'error', needsCheck: true,
    });
    expect(() => parseThinPoolStatus('0 100 linear')).toThrow(/not a thin-pool/);
  });
});

describe('util-linux in the guest', () => {
  it('lsblk: a PV with LVs has holders; a partitioned disk has a part child', () => {
    expect(lsblkQuery(['/dev/ubda']).parse(guest('lsblk-pv-with-lvs.txt'))[0]!.children.map((c) => c.type)).toEqual(['lvm', 'lvm']);
    expect(lsblkQuery(['/dev/ubdb']).parse(guest('lsblk-partitioned.txt'))[0]!.children).toMatchObject([{ path: '/dev/ubdb1', type: 'part' }]);
    expect(lsblkQuery(['/dev/ubda']).parse(guest('lsblk-fresh.txt'))[0]).toMatchObject({ type: 'disk', children: [] });
  });

  it('wipefs: ext4 and LVM2_member', () => {
    expect(wipefsListQuery('/dev/ubdb').parse(guest('wipefs-ext4.txt')).map((s) => s.type)).toEqual(['ext4']);
    expect(wipefsListQuery('/dev/ubda').parse(guest('wipefs-pv.txt')).map((s) => s.type)).toEqual(['LVM2_member']);
  });

  it('losetup: backing files of a loop pool; none attached', () => {
    expect(losetupListQuery().parse(guest('losetup-looppool.txt')).map((l) => [l.majorMinor, l.backingFile])).toEqual([
      ['7:1', '/var/lib/dmctl-loop/metadata'],
      ['7:0', '/var/lib/dmctl-loop/data'],
    ]);
    expect(losetupListQuery().parse(guest('losetup-empty.txt'))).toEqual([]);
  });

  it('consumer versions', () => {
    expect(parseDockerVersion(guest('dockerd-version.txt'))).toMatchObject({ major: 20, minor: 10 });
    expect(containerdVersionQuery().parse(guest('containerd-version.txt'))).toMatch(/^1\.6\.20/);
  });
});

describe('an inactive pool\'s metadata superblock, read from its PV (tid-mismatch/record-superblock.sh)', () => {
  it('finds where the metadata LV starts, and the PV\'s first extent', () => {
    expect(metadataStartQuery('docker', 'thinpool').argv.at(-1)).toBe('docker/thinpool_tmeta');
    expect(metadataStartQuery('docker', 'thinpool').parse(guest('tid-mismatch/S-lvs-tmeta-segments.json'))).toEqual({ pv: '/dev/ubda', extent: 242, extentSizeBytes: 4194304 });
    expect(peStartQuery('/dev/ubda').parse(guest('tid-mismatch/S-pvs-pe-start.json'))).toBe(1048576);
  });

  it('a metadata LV that is not linear on a PV is not located (dmctl does not guess)', () => {
    const raid = guest('tid-mismatch/S-lvs-tmeta-segments.json').replace('"linear"', '"raid1"');
    expect(metadataStartQuery('docker', 'thinpool').parse(raid)).toBeUndefined();
  });

  it('reads the transaction id thin_dump shows, and refuses bytes that are not a superblock', () => {
    const block = guestBytes('tid-mismatch/S-superblock.bin');
    const dumped = /transaction="(\d+)"/.exec(guest('tid-mismatch/S-thin-dump-head.txt'))![1];
    expect(parseThinSuperblock(block)).toEqual({ transactionId: Number(dumped) });
    expect(parseThinSuperblock(new Uint8Array(4096))).toBeUndefined();
    expect(parseThinSuperblock(block.subarray(0, 40))).toBeUndefined();
  });
});
