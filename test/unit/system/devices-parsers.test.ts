/** Parsers of `status --devices`, on output recorded in the real-kernel guest (fixtures …/devices/). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { uvarint } from '../../../src/system/bolt.js';
import { parseDevmapperMetastore, parseDevmapperPoolDb } from '../../../src/system/containerd-devices.js';
import { heldMetadataRootQuery, parseHeldMetadataRoot, parseThinPoolStatus, thinPoolStatusesQuery } from '../../../src/system/dmsetup.js';
import { createHash } from 'node:crypto';
import { chainIdsOf, parseContainerConfig, parseDockerDevice, parseImageDiffIds, parseRepositories } from '../../../src/system/docker-devices.js';
import { parseThinLs, thinLsQuery } from '../../../src/system/thin-ls.js';
import { capture, devicesTree } from '../../helpers/devices-host.js';

describe('thin_ls 0.9.0 under a metadata snapshot', () => {
  it('is asked for the snapshot, without headers, in the fields the parser reads', () => {
    expect(thinLsQuery('/dev/mapper/docker-thinpool_tmeta').argv).toEqual([
      'thin_ls',
      '--metadata-snap',
      '--no-headers',
      '--format',
      'DEV,MAPPED_BYTES,EXCLUSIVE_BYTES,SHARED_BYTES',
      '/dev/mapper/docker-thinpool_tmeta',
    ]);
  });

  it('parses every device of the recorded pool (8: base, image layer, 3 containers with init layers)', () => {
    const rows = parseThinLs(capture('thin-ls'));
    expect(rows.map((r) => r.deviceId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rows[5]).toEqual({ deviceId: 6, mappedBytes: 290979840, exclusiveBytes: 44040192, sharedBytes: 246939648 });
    for (const r of rows) expect(r.mappedBytes).toBe(r.exclusiveBytes + r.sharedBytes);
  });

  it('agrees with the same read with headers and block counts (512 KiB blocks)', () => {
    const [, ...lines] = capture('thin-ls-headers').trim().split('\n');
    const rows = parseThinLs(capture('thin-ls'));
    lines.forEach((line, i) => {
      const [dev, mapped, exclusive, , mappedBlocks, exclusiveBlocks] = line.trim().split(/\s+/).map(Number);
      expect(rows[i]).toMatchObject({ deviceId: dev, mappedBytes: mapped, exclusiveBytes: exclusive });
      expect(mapped).toBe(mappedBlocks! * 512 * 1024);
      expect(exclusive).toBe(exclusiveBlocks! * 512 * 1024);
    });
  });

  it('refuses what it does not understand (a header row)', () => {
    expect(() => parseThinLs(capture('thin-ls-headers'))).toThrow(/unexpected thin_ls row: DEV MAPPED_BYTES/);
  });

  it('the containerd pool: three devices', () => {
    expect(parseThinLs(capture('ctd-thin-ls')).map((r) => r.deviceId)).toEqual([1, 2, 3]);
  });

  it('recorded refusals: live metadata without --metadata-snap, and no snapshot held', () => {
    expect(capture('thin-ls-live', 'rc').trim()).toBe('1');
    expect(capture('thin-ls-live', 'stderr.txt')).toContain('you cannot run this tool with these options on live metadata');
    expect(capture('thin-ls-unheld', 'rc').trim()).toBe('1');
    expect(capture('thin-ls-unheld', 'stderr.txt')).toBe('no current metadata snap\n');
  });
});

describe('the held metadata root in dmsetup status', () => {
  it('is undefined before the reserve and after the release', () => {
    expect(parseHeldMetadataRoot(capture('status-released'))).toBeUndefined();
    expect(heldMetadataRootQuery('docker-thinpool').argv).toEqual(['dmsetup', 'status', 'docker-thinpool']);
  });

  it('is the snapshot block while held; the rest of the line parses as usual', () => {
    expect(parseHeldMetadataRoot(capture('status-held'))).toBe(319);
    const [ctd, docker] = thinPoolStatusesQuery().parse(capture('status-target-held'));
    expect(docker).toMatchObject({ name: 'docker-thinpool', status: { mode: 'rw', transactionId: 8, usedDataBlocks: 645 } });
    expect(ctd?.name).toBe('ctd-thinpool');
    expect(parseThinPoolStatus(capture('status-held'))).toEqual(parseThinPoolStatus(capture('status-released').replace('549/5120', '550/5120')));
  });

  it('recorded refusals of the messages: a second reserve is busy, a release with none held is invalid', () => {
    expect(capture('reserve-again', 'stderr.txt')).toContain('failed: Device or resource busy');
    expect(capture('release-unheld', 'stderr.txt')).toContain('failed: Invalid argument');
  });
});

describe("Docker 20.10's devicemapper records", () => {
  const { files } = devicesTree();
  const meta = '/var/lib/docker/devicemapper/metadata';

  it('a device file: id, virtual size, deleted flag', () => {
    expect(parseDockerDevice('base', files[`${meta}/base`]!)).toEqual({ hash: 'base', deviceId: 1, sizeBytes: 10 * 1024 ** 3, deleted: false });
  });

  it('the device-set files are not devices (the probe skips them by name)', () => {
    expect(() => parseDockerDevice('deviceset-metadata', files[`${meta}/deviceset-metadata`]!)).toThrow();
  });

  it("an image's names and its layers' chain ids: the layerdb directory of its (one) layer", () => {
    const images = parseRepositories(files['/var/lib/docker/image/devicemapper/repositories.json']);
    expect([...images.values()]).toEqual([['tiny:1']]);
    const [id] = [...images.keys()];
    const diffIds = parseImageDiffIds(files[`/var/lib/docker/image/devicemapper/imagedb/content/sha256/${id!.slice(7)}`]!);
    const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');
    const layerDirs = Object.keys(files)
      .filter((f) => f.includes('/layerdb/sha256/') && f.endsWith('/cache-id'))
      .map((f) => `sha256:${f.split('/').at(-2)}`);
    expect(chainIdsOf(diffIds, sha256)).toEqual(layerDirs);
  });

  it('chain ids of a layer stack: sha256 of "<parent chain id> <diff id>"', () => {
    const seen: string[] = [];
    const chain = chainIdsOf(['sha256:a', 'sha256:b', 'sha256:c'], (t) => (seen.push(t), `h${seen.length}`));
    expect(chain).toEqual(['sha256:a', 'sha256:h1', 'sha256:h2']);
    expect(seen).toEqual(['sha256:a sha256:b', 'sha256:h1 sha256:c']);
  });

  it('a container config: its name without the slash, its image', () => {
    const config = Object.entries(files).find(([path]) => path.endsWith('/config.v2.json'))![1];
    const parsed = parseContainerConfig(config);
    expect(['small', 'big', 'mid']).toContain(parsed.name);
    expect(parsed.image).toBe('tiny:1');
  });
});

describe("containerd 1.6's devmapper snapshotter records (bolt files copied while containerd ran)", () => {
  const db = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../fixtures/lvm-2.03.16-uml-6.1/devices/containerd/${name}`, import.meta.url))));

  it("the pool's devices: name → thin id, from the newest tree (not the stale copies in freed pages)", () => {
    expect(parseDevmapperPoolDb(db('ctd-thinpool.db'))).toEqual([
      { name: 'ctd-thinpool-snap-1', deviceId: 1 },
      { name: 'ctd-thinpool-snap-2', deviceId: 2 },
      { name: 'ctd-thinpool-snap-3', deviceId: 3 },
    ]);
  });

  it('the snapshots: id (the N of snap-N), namespace, the key ctr shows, kind', () => {
    const snapshots = parseDevmapperMetastore(db('metadata.db'));
    const ctrKeys = capture('ctr-snapshots').trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]);
    expect(snapshots.map((s) => s.key).sort()).toEqual([...ctrKeys].sort());
    expect(snapshots.find((s) => s.key === 'cbig')).toMatchObject({ namespace: 'default', kind: 'active' });
    expect(snapshots.find((s) => s.key.startsWith('sha256:'))?.kind).toBe('committed');
    // ctr's mounts name each active snapshot's device: <pool>-snap-<id>
    for (const key of ['cbig', 'csmall']) {
      const id = snapshots.find((s) => s.key === key)!.id;
      expect(capture(`ctr-mounts-${key}`)).toContain(`/dev/mapper/ctd-thinpool-snap-${id} `);
    }
  });

  it('a file that is not bolt is refused', () => {
    expect(() => parseDevmapperPoolDb(new Uint8Array(8192))).toThrow(/not a bolt database/);
  });

  it('uvarint as Go writes it', () => {
    expect(uvarint(new Uint8Array([0x02]))).toBe(2);
    expect(uvarint(new Uint8Array([0xac, 0x02]))).toBe(300);
    expect(uvarint(new Uint8Array([0x80]))).toBeUndefined();
  });
});
