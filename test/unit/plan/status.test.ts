import { describe, expect, it } from 'vitest';
import { buildStatus } from '../../../src/plan/status.js';
import type { StatusState } from '../../../src/model/state.js';
import { thinPoolStatusesQuery, thinPoolTablesQuery } from '../../../src/system/dmsetup.js';
import { losetupListQuery } from '../../../src/system/losetup.js';
import { autoextendProfileContent, lvmThinConfigQuery, lvsQuery } from '../../../src/system/lvm.js';
import { renderStatusText } from '../../../src/render/status.js';
import { makeStyle } from '../../../src/render/style.js';
import { guest, host } from '../../helpers/fixtures.js';

/** A recorded guest state; `dm` names the dmsetup recording when it differs from the lvs one. */
function state(lvsName: string, dm = lvsName, overrides: Partial<StatusState> = {}): StatusState {
  return {
    deviceMapperLoaded: true,
    lvs: lvsQuery().parse(guest(`lvs-${lvsName}.txt`)),
    dmTables: thinPoolTablesQuery().parse(guest(`dmsetup-table-${dm}.txt`)),
    dmStatuses: thinPoolStatusesQuery().parse(guest(`dmsetup-status-${dm}.txt`)),
    lvmConfig: lvmThinConfigQuery().parse(host('lvmconfig-thin.txt')),
    profiles: { 'docker-thinpool': autoextendProfileContent(80, 20) },
    loops: [],
    ...overrides,
  };
}

describe('status', () => {
  it('reports a fresh, monitored pool with bytes from the kernel', () => {
    const [pool, ...rest] = buildStatus(state('pool')).pools;
    expect(rest).toEqual([]);
    expect(pool).toMatchObject({
      name: 'docker/thinpool',
      kind: 'lvm',
      dmName: 'docker-thinpool',
      active: true,
      mode: 'rw',
      data: { usedBytes: 0, totalBytes: 1936 * 524288, percent: 0 },
      metadata: { usedBytes: 213 * 4096, totalBytes: 2048 * 4096, percent: 10.4 },
      chunkSizeBytes: 524288,
      transactionId: 0,
      whenFull: 'queue',
      monitoring: 'monitored',
      autoextend: { threshold: 80, percent: 20, source: 'profile docker-thinpool', enabled: true },
      vgFreeBytes: 37748736,
      thinLvs: 0,
    });
  });

  it('reads usage from VG-POOL-tpool once thin volumes exist', () => {
    const [pool] = buildStatus(state('pool-used')).pools;
    expect(pool).toMatchObject({ transactionId: 1, data: { usedBytes: 128 * 524288, percent: 6.61 }, thinLvs: 1 });
  });

  it('warns that the VG has too little room for the next autoextend step once the pool nears its threshold', () => {
    // 36 MiB free, one step is 20% of 968 MiB: fine while the pool is empty…
    expect(buildStatus(state('pool')).pools[0]!.warnings).toEqual([]);
    // …a warning at 65% used (threshold 80).
    const s = state('pool');
    s.dmStatuses = s.dmStatuses.map((d) => ({ ...d, status: { ...d.status, usedDataBlocks: 1260 } as typeof d.status }));
    expect(buildStatus(s).pools[0]!.warnings.map((w) => w.code)).toEqual(['vg-low']);
  });

  it('warns when the kernel transaction id is not the one LVM expects, once LVM\'s is above 0', async () => {
    const { checkStatus, defaultThresholds } = await import('../../../src/plan/check.js');
    const withKernelId = (name: string, id: number) => {
      const s = state(name);
      s.dmStatuses = s.dmStatuses.map((d) => ({ ...d, status: { ...d.status, transactionId: id } as typeof d.status }));
      return s;
    };
    // An LVM thin LV made LVM's id 1; something else then set the kernel's to 7 (record.sh part B).
    const [pool] = buildStatus(withKernelId('pool-used', 7)).pools;
    expect(pool).toMatchObject({ transactionId: 7, lvmTransactionId: 1 });
    expect(pool!.warnings.map((w) => w.code)).toEqual(['transaction-id-mismatch']);
    expect(pool!.warnings[0]!.message).toMatch(/LVM expects transaction id 1 but the pool's is 7 .*"transaction_id is 7, while expected 1", moby#15629/);
    const check = checkStatus(buildStatus(withKernelId('pool-used', 7)), defaultThresholds);
    expect(check.code).toBe(1);
    expect(check.line).toMatch(/docker\/thinpool will not re-activate \(transaction id 7, LVM expects 1\)/);
    // Docker's case: LVM's id stays 0, the kernel's moves on. LVM re-activates such a pool (part A).
    expect(buildStatus(withKernelId('pool', 5)).pools[0]!.warnings).toEqual([]);
  });

  it('names who uses each pool and the size each container gets, which is not the pool\'s', async () => {
    const { formatDaemonJson, mergeDaemonJson } = await import('../../../src/system/docker.js');
    const { dockerPoolOpts } = await import('../../../src/plan/consumer.js');
    const { devmapperSectionToml } = await import('../../../src/system/containerd.js');
    // daemon.json and config.toml as dmctl writes them.
    const daemonJson = formatDaemonJson(mergeDaemonJson({}, 'devicemapper', dockerPoolOpts({ poolDmName: 'docker-thinpool', minFreeSpace: '10%', storageOpts: ['dm.basesize=20G'] })).config);
    const containerdConfig = `version = 2\n\n${devmapperSectionToml({ poolName: 'dmctl-pool', rootPath: '/var/lib/containerd/devmapper', baseImageSize: '10GB' })}`;
    const report = buildStatus(state('pool', 'both', { daemonJson, containerdConfig, loops: losetupListQuery().parse(guest('losetup-looppool.txt')) }));
    expect(report.pools.map((p) => [p.name, p.consumers])).toEqual([
      ['docker/thinpool', [{ kind: 'docker', baseSizeBytes: 20 * 1024 ** 3, minFreeSpacePercent: 10 }]],
      ['dmctl-pool', [{ kind: 'containerd', baseSizeBytes: 10 * 1024 ** 3 }]],
    ]);
    const text = renderStatusText(report, makeStyle(false));
    expect(text).toMatch(/docker\/thinpool: [\s\S]*used by Docker \(20 GiB per container, min free 10%\)/);
    expect(text).toMatch(/dmctl-pool: [\s\S]*used by containerd \(10 GiB per snapshot\)/);
  });

  it('warns, and --check is CRITICAL, once Docker\'s pool has less free than dm.min_free_space', async () => {
    const { checkStatus, defaultThresholds } = await import('../../../src/plan/check.js');
    const daemonJson = JSON.stringify({ 'storage-driver': 'devicemapper', 'storage-opts': ['dm.thinpooldev=/dev/mapper/docker-thinpool', 'dm.min_free_space=10%'] });
    const used = (blocks: number) => {
      const s = state('pool', 'pool', { daemonJson });
      s.dmStatuses = s.dmStatuses.map((d) => ({ ...d, status: { ...d.status, usedDataBlocks: blocks } as typeof d.status }));
      return buildStatus(s);
    };
    // 1936 data blocks: 1740 used leaves 10.1% free, 1750 leaves 9.6%.
    expect(used(1740).pools[0]!.warnings.map((w) => w.code)).not.toContain('docker-min-free');
    const short = used(1750);
    expect(short.pools[0]!.warnings.find((w) => w.code === 'docker-min-free')?.message).toMatch(/^less than 10% of the pool's data is free, so Docker refuses new containers and images/);
    const check = checkStatus(short, defaultThresholds);
    expect(check.code).toBe(2);
    expect(check.line).toMatch(/docker\/thinpool data under 10% free: Docker refuses new containers/);
  });

  it('an inactive pool: no usage, a warning with the command that fixes it', () => {
    const [pool] = buildStatus(state('pool-inactive')).pools;
    expect(pool).toMatchObject({ active: false, data: undefined, metadata: undefined, transactionId: 1 });
    expect(pool!.warnings[0]).toMatchObject({ code: 'inactive', message: expect.stringContaining('lvchange -ay docker/thinpool') });
  });

  it('the known traps: unmonitored, autoextend off (lvm.conf\'s 100), metadata over 80%, VG full', () => {
    const s = state('pool', 'pool', { profiles: {} });
    s.lvs = s.lvs.map((l) => ({ ...l, monitor: 'not monitored', profile: undefined, vgFreeBytes: 0 }));
    s.dmStatuses = s.dmStatuses.map((d) => ({ ...d, status: { ...d.status, usedMetadataBlocks: 1700 } as typeof d.status }));
    const [pool] = buildStatus(s).pools;
    expect(pool!.autoextend).toMatchObject({ threshold: 100, source: 'lvm.conf', enabled: false });
    expect(pool!.warnings.map((w) => w.code)).toEqual(['metadata-high', 'not-monitored', 'autoextend-off']);
    const on = state('pool');
    on.lvs = on.lvs.map((l) => ({ ...l, vgFreeBytes: 0 }));
    expect(buildStatus(on).pools[0]!.warnings.map((w) => w.code)).toEqual(['vg-full']);
  });

  it('a bare dm pool on loop devices names its backing files', () => {
    const s = state('pool', 'both', { loops: losetupListQuery().parse(guest('losetup-looppool.txt')) });
    const pools = buildStatus(s).pools;
    expect(pools.map((p) => p.name)).toEqual(['docker/thinpool', 'dmctl-pool']);
    expect(pools[1]).toMatchObject({
      kind: 'dm',
      monitoring: 'n/a',
      chunkSizeBytes: 65536,
      sizeBytes: 1024 ** 3,
      data: { usedBytes: 0, totalBytes: 1024 ** 3 },
      devices: { data: '/dev/loop0', dataFile: '/var/lib/dmctl-loop/data', metadata: '/dev/loop1', metadataFile: '/var/lib/dmctl-loop/metadata' },
    });
  });

  it('renders an active pool in one compact row, with bytes used, chunk and transaction on its detail line', () => {
    const text = renderStatusText(buildStatus(state('pool-used')), makeStyle(false));
    const [pool] = buildStatus(state('pool-used')).pools;
    const row = text.split('\n').find((l) => l.startsWith('docker/thinpool '))!;
    expect(row.split(/ {2,}/)).toEqual(['docker/thinpool', 'active', `${pool!.data!.percent.toFixed(1)}% of 968 MiB`, `${pool!.metadata!.percent.toFixed(1)}% of 8 MiB`, 'monitored', '80% +20%', '36 MiB']);
    expect(text).toMatch(/^docker\/thinpool: \/dev\/mapper\/docker-thinpool · used \S+ \S+ data, \S+ \S+ metadata · chunk 512 KiB(?: · |\n  )transaction \d+ ·/m);
    // Detail lines wrap at 100 columns.
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  it('renders the warnings with their fix, and says when device-mapper is missing', () => {
    const text = renderStatusText(buildStatus(state('pool-inactive')), makeStyle(false));
    expect(text).toMatch(/^POOL +STATE +DATA +METADATA +MONITOR +AUTOEXTEND +VG FREE$/m);
    expect(text).toMatch(/^docker\/thinpool +inactive +— of 968 MiB +— +not monitored +80% \+20% +36 MiB$/m);
    expect(text).toMatch(/^docker\/thinpool: \/dev\/mapper\/docker-thinpool · chunk 512 KiB · transaction 1 · when full: queue/m);
    // Compact: no line of the table is wider than 100 columns.
    expect(Math.max(...text.split('\n').filter((l) => !l.startsWith(' ') && !l.includes(':')).map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(text).toContain('! the pool is inactive');
    const none = renderStatusText(buildStatus({ ...state('empty'), deviceMapperLoaded: false, dmTables: [], dmStatuses: [] }), makeStyle(false));
    expect(none).toMatch(/no device-mapper driver loaded/);
    expect(none).toMatch(/No thin pools/);
  });
});
