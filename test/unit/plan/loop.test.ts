import { describe, expect, it } from 'vitest';
import { initLoopDefaults } from '../../../src/defaults.js';
import type { InitLoopOptions } from '../../../src/model/options.js';
import type { InitLoopState, LoopPoolState, ReactivateState, ResizeLoopState } from '../../../src/model/state.js';
import { planInitLoop } from '../../../src/plan/init-loop.js';
import { planResizeLoop } from '../../../src/plan/resize-loop.js';
import { planReactivate, unmetPoolsError, unitContent } from '../../../src/plan/reactivate.js';
import { RefusedError } from '../../../src/errors.js';
import { applyPlan } from '../../../src/run/apply.js';
import { FakeExecutor } from '../../helpers/fake-executor.js';
import { MemoryFiles } from '../../helpers/memory-files.js';
import { thinPoolStatusesQuery, thinPoolTablesQuery } from '../../../src/system/dmsetup.js';
import { losetupListQuery } from '../../../src/system/losetup.js';
import { lvsQuery } from '../../../src/system/lvm.js';
import { formatPoolRecord } from '../../../src/system/pool-record.js';
import type { Plan } from '../../../src/plan/types.js';
import { refusal } from '../../helpers/refusal.js';
import { guest } from '../../helpers/fixtures.js';
import { dockerState, reactivateState as baseReactivateState } from '../../helpers/states.js';

const ids = (plan: Plan) => plan.steps.map((s) => s.id);
const argv = (plan: Plan, id: string) => (plan.steps.find((s) => s.id === id)!.action as { argv: string[] }).argv;
const loopNodes = ['loop0', 'loop1', 'loop2', 'loop3', 'loop4', 'loop5', 'loop6', 'loop7'];

/** Recorded states: `empty` (no dm devices) or `both` (docker/thinpool + the loop pool dmctl-pool). */
function dmState(which: 'empty' | 'both'): LoopPoolState {
  const tables = thinPoolTablesQuery().parse(guest(`dmsetup-table-${which}.txt`));
  const statuses = thinPoolStatusesQuery().parse(guest(`dmsetup-status-${which}.txt`));
  return {
    missingTools: [],
    deviceMapperLoaded: true,
    dmNames: tables.map((t) => t.name),
    thinPools: tables.map(({ name, table }) => ({ name, table, status: statuses.find((s) => s.name === name)?.status })),
    loops: which === 'both' ? losetupListQuery().parse(guest('losetup-looppool.txt')) : [],
    devEntries: loopNodes,
  };
}

function initLoopState(overrides: Partial<InitLoopState> = {}): InitLoopState {
  return {
    ...dmState('empty'),
    dataFileBytes: undefined,
    metadataFileBytes: undefined,
    freeBytes: 200 * 1024 ** 3,
    record: undefined,
    consumer: { kind: 'none' },
    ...overrides,
  };
}

function loopOptions(overrides: Partial<InitLoopOptions> = {}): InitLoopOptions {
  return {
    pool: 'dmctl-pool',
    dir: '/var/lib/dmctl/loop/dmctl-pool',
    dataSizeBytes: initLoopDefaults.dataSizeBytes,
    metadataSizeBytes: initLoopDefaults.metadataSizeBytes,
    sizesGiven: { data: false, metadata: false },
    blockSectors: 128,
    lowWaterMarkBlocks: 32768,
    consumer: 'none',
    dockerManaged: false,
    storageOpts: [],
    minFreeSpace: undefined,
    baseImageSize: '10GB',
    containerdRootPath: '/var/lib/containerd/io.containerd.snapshotter.v1.devmapper',
    ...overrides,
  };
}

const recorded = { pool: 'dmctl-pool', dir: '/var/lib/dmctl-loop' };
const recordOf = (name: string, dir: string) =>
  formatPoolRecord({ formatVersion: 1, kind: 'loop', name, dataFile: `${dir}/data`, metadataFile: `${dir}/metadata`, blockSectors: 128, lowWaterMarkBlocks: 32768, features: ['skip_block_zeroing'] });

describe('init-loop', () => {
  it('builds files, attaches named loop devices and creates the pool with Docker\'s table', () => {
    const plan = planInitLoop(initLoopState(), loopOptions());
    // The record comes before anything is attached, so any later failure is recoverable from it.
    expect(ids(plan)).toEqual(['mkdir', 'truncate-data', 'truncate-metadata', 'zero-metadata', 'write-record', 'attach-data', 'attach-metadata', 'dmsetup-create', 'verify-pool']);
    expect(argv(plan, 'truncate-data')).toEqual(['truncate', '-s', String(100 * 1024 ** 3), '/var/lib/dmctl/loop/dmctl-pool/data']);
    expect(argv(plan, 'zero-metadata')).toContain('bs=4096');
    expect(argv(plan, 'attach-data')).toEqual(['losetup', '/dev/loop0', '/var/lib/dmctl/loop/dmctl-pool/data']);
    expect(argv(plan, 'dmsetup-create')).toEqual(['dmsetup', 'create', 'dmctl-pool', '--table', '0 209715200 thin-pool /dev/loop1 /dev/loop0 128 32768 1 skip_block_zeroing']);
    expect(plan.steps.find((s) => s.id === 'dmsetup-create')!.recovery).toEqual([['losetup', '-d', '/dev/loop0', '/dev/loop1']]);
    expect(plan.notes[0]).toMatchObject({ level: 'warning', text: expect.stringContaining('for testing only') });
    expect(plan.steps.some((s) => s.destructive)).toBe(false);
  });

  it('loads dm-thin-pool first when the kernel has no device-mapper yet', () => {
    expect(ids(planInitLoop(initLoopState({ deviceMapperLoaded: false, dmNames: [] }), loopOptions()))[0]).toBe('modprobe');
  });

  it('skips loop devices already in use', () => {
    const state = initLoopState({ loops: losetupListQuery().parse(guest('losetup-looppool.txt')) });
    expect(argv(planInitLoop(state, loopOptions({ pool: 'other' })), 'attach-data')).toEqual(['losetup', '/dev/loop2', '/var/lib/dmctl/loop/dmctl-pool/data']);
  });

  it('is nothing to do when the pool exists on its files and is recorded', () => {
    const state = { ...initLoopState(), ...dmState('both'), record: recordOf(recorded.pool, recorded.dir) };
    const plan = planInitLoop(state, loopOptions({ dir: recorded.dir, dataSizeBytes: 1024 ** 3 }));
    expect(plan.steps).toEqual([]);
  });

  it('only writes the record when the pool exists but was not recorded', () => {
    const state = { ...initLoopState(), ...dmState('both') };
    expect(ids(planInitLoop(state, loopOptions({ dir: recorded.dir, dataSizeBytes: 1024 ** 3 })))).toEqual(['write-record']);
  });

  it('refuses a name used by a pool on other files, or by a device that is not a pool', () => {
    const state = { ...initLoopState(), ...dmState('both') };
    expect(refusal(() => planInitLoop(state, loopOptions()))).toMatch(/a thin pool named dmctl-pool already exists on \/var\/lib\/dmctl-loop\/data/);
    expect(refusal(() => planInitLoop({ ...state, dmNames: [...state.dmNames, 'thin0'] }, loopOptions({ pool: 'thin0' })))).toMatch(/taken by a device that is not a thin pool/);
  });

  it('brings back a recorded pool whose files are there but whose device is not (no new files, data kept)', () => {
    const state = initLoopState({ record: recordOf('dmctl-pool', '/var/lib/dmctl/loop/dmctl-pool'), dataFileBytes: 2 * 1024 ** 3, metadataFileBytes: 64 * 1024 ** 2 });
    const plan = planInitLoop(state, loopOptions());
    expect(ids(plan)).toEqual(['attach-data-dmctl-pool', 'attach-metadata-dmctl-pool', 'create-dmctl-pool', 'verify-dmctl-pool']);
    expect(argv(plan, 'create-dmctl-pool')[4]).toBe('0 4194304 thin-pool /dev/loop1 /dev/loop0 128 32768 1 skip_block_zeroing');
  });

  it('refuses leftover files and points to reactivate', () => {
    expect(refusal(() => planInitLoop(initLoopState({ dataFileBytes: 5 }), loopOptions()))).toMatch(/data already exists.*dmctl reactivate/);
  });

  it('refuses a metadata file larger than the free space; warns for a sparse data file', () => {
    expect(refusal(() => planInitLoop(initLoopState({ freeBytes: 1024 ** 3 }), loopOptions()))).toMatch(/1 GiB free, less than the 2 GiB metadata file/);
    const plan = planInitLoop(initLoopState({ freeBytes: 10 * 1024 ** 3 }), loopOptions());
    expect(plan.notes.map((n) => n.text).join('\n')).toMatch(/data file \(100 GiB, sparse\) is larger than the 10 GiB free/);
  });

  it('hands the pool to Docker by its dm name', () => {
    const plan = planInitLoop(initLoopState({ consumer: { kind: 'docker', docker: dockerState() } }), loopOptions({ consumer: 'docker' }));
    const daemon = JSON.parse((plan.steps.at(-1)!.action as { content: string }).content);
    expect(daemon['storage-opts']).toContain('dm.thinpooldev=/dev/mapper/dmctl-pool');
  });

  it('--docker-managed writes the guide\'s loop-lvm config, dropping a thinpooldev', () => {
    const daemonJson = JSON.stringify({ 'storage-driver': 'devicemapper', 'storage-opts': ['dm.thinpooldev=/dev/mapper/old', 'dm.basesize=20G'] });
    const docker = dockerState({ daemonJson, service: { kind: 'systemd', unit: 'docker.service', state: 'active' } });
    const plan = planInitLoop(initLoopState({ consumer: { kind: 'docker', docker } }), loopOptions({ consumer: 'docker', dockerManaged: true, dataSizeBytes: 20 * 1024 ** 3, sizesGiven: { data: true, metadata: false } }));
    expect(ids(plan)).toEqual(['stop-docker', 'write-daemon-json', 'start-docker', 'verify-docker']);
    const written = JSON.parse((plan.steps[1]!.action as { content: string }).content);
    expect(written['storage-opts']).toEqual(['dm.basesize=20G', 'dm.use_deferred_removal=true', 'dm.use_deferred_deletion=true', `dm.loopdatasize=${20 * 1024 ** 3}`]);
    expect(plan.steps[3]!.action).toMatchObject({ expect: { includes: '"Data loop file"' } });
  });
});

function resizeState(overrides: Partial<ResizeLoopState> = {}): ResizeLoopState {
  return {
    ...dmState('both'),
    fileBytes: { '/var/lib/dmctl-loop/data': 1024 ** 3, '/var/lib/dmctl-loop/metadata': 64 * 1024 ** 2 },
    freeBytes: { '/var/lib/dmctl-loop/data': 50 * 1024 ** 3, '/var/lib/dmctl-loop/metadata': 50 * 1024 ** 3 },
    ...overrides,
  };
}

describe('resize-loop', () => {
  it('finds the only loop pool (not the LVM one) and grows it: truncate, losetup -c, reload, one resume', () => {
    const plan = planResizeLoop(resizeState(), { pool: undefined, size: { bytes: 1024 ** 3, relative: true }, metadata: false });
    expect(plan.target).toBe('data of loop pool dmctl-pool');
    expect(ids(plan)).toEqual(['truncate', 'set-capacity', 'reload', 'resume', 'verify']);
    expect(argv(plan, 'truncate')).toEqual(['truncate', '-s', String(2 * 1024 ** 3), '/var/lib/dmctl-loop/data']);
    expect(argv(plan, 'set-capacity')).toEqual(['losetup', '-c', '/dev/loop0']);
    expect(argv(plan, 'reload')).toEqual(['dmsetup', 'reload', 'dmctl-pool', '--table', '0 4194304 thin-pool 7:1 7:0 128 32768 1 skip_block_zeroing']);
    expect(argv(plan, 'resume')).toEqual(['dmsetup', 'resume', 'dmctl-pool']);
    expect(plan.steps.find((s) => s.id === 'resume')!.recovery).toEqual([
      ['dmsetup', 'reload', 'dmctl-pool', '--table', '0 2097152 thin-pool 7:1 7:0 128 32768 1 skip_block_zeroing'],
      ['dmsetup', 'resume', 'dmctl-pool'],
    ]);
    // After that recovery, --resume must load the new table again: it restarts from the reload.
    expect(plan.steps.find((s) => s.id === 'resume')!.resumeFrom).toBe('reload');
    expect(plan.steps.some((s) => (s.action as { argv?: string[] }).argv?.[1] === 'suspend')).toBe(false);
  });

  it('applied with a failing resume, the runner puts the old table back and resumes: the pool is not left suspended', async () => {
    const plan = planResizeLoop(resizeState(), { pool: undefined, size: { bytes: 1024 ** 3, relative: true }, metadata: false });
    const oldTable = '0 2097152 thin-pool 7:1 7:0 128 32768 1 skip_block_zeroing';
    const executor = new FakeExecutor()
      .on(['truncate', '-s', String(2 * 1024 ** 3), '/var/lib/dmctl-loop/data'], {})
      .on(['losetup', '-c', '/dev/loop0'], {})
      .on(['dmsetup', 'reload', 'dmctl-pool', '--table', '0 4194304 thin-pool 7:1 7:0 128 32768 1 skip_block_zeroing'], {})
      // The first resume fails; the recovery's own resume succeeds.
      .on(['dmsetup', 'resume', 'dmctl-pool'], (n) => (n === 1 ? { exitCode: 1, stderr: 'device-mapper: resume ioctl on dmctl-pool failed: Invalid argument' } : {}), 2)
      .on(['dmsetup', 'reload', 'dmctl-pool', '--table', oldTable], {});
    const result = await applyPlan(plan, { executor, files: new MemoryFiles() });
    expect(result.status).toBe('failed');
    expect(result.failure?.step.id).toBe('resume');
    expect(executor.calls.slice(-2)).toEqual([['dmsetup', 'reload', 'dmctl-pool', '--table', oldTable], ['dmsetup', 'resume', 'dmctl-pool']]);
    expect(result.recovered).toEqual([`ran \`dmsetup reload dmctl-pool --table '${oldTable}'\``, 'ran `dmsetup resume dmctl-pool`']);
    expect(result.remaining.map((s) => s.id)).toEqual(['verify']);
  });

  it('an absolute size; rounds down to whole pool blocks', () => {
    const plan = planResizeLoop(resizeState(), { pool: 'dmctl-pool', size: { bytes: 3 * 1024 ** 3 + 1000, relative: false }, metadata: false });
    expect(argv(plan, 'truncate')[2]).toBe(String(3 * 1024 ** 3));
  });

  it('refuses to shrink, and plans nothing for the current size', () => {
    expect(refusal(() => planResizeLoop(resizeState(), { pool: undefined, size: { bytes: 512 * 1024 ** 2, relative: false }, metadata: false }))).toMatch(/1 GiB; 512 MiB would shrink it.*cannot shrink/);
    expect(planResizeLoop(resizeState(), { pool: undefined, size: { bytes: 1024 ** 3, relative: false }, metadata: false }).steps).toEqual([]);
  });

  it('finishes a resize whose file already grew (no truncate again)', () => {
    const state = resizeState({ fileBytes: { '/var/lib/dmctl-loop/data': 2 * 1024 ** 3, '/var/lib/dmctl-loop/metadata': 64 * 1024 ** 2 } });
    expect(ids(planResizeLoop(state, { pool: undefined, size: { bytes: 2 * 1024 ** 3, relative: false }, metadata: false }))).toEqual(['set-capacity', 'reload', 'resume', 'verify']);
  });

  it('+SIZE counts from what the kernel uses: a re-run after an interrupted resize does not grow twice', () => {
    const state = resizeState({ fileBytes: { '/var/lib/dmctl-loop/data': 2 * 1024 ** 3, '/var/lib/dmctl-loop/metadata': 64 * 1024 ** 2 } });
    const plan = planResizeLoop(state, { pool: undefined, size: { bytes: 1024 ** 3, relative: true }, metadata: false });
    expect(ids(plan)).toEqual(['set-capacity', 'reload', 'resume', 'verify']);
    expect(argv(plan, 'reload')[4]).toBe('0 4194304 thin-pool 7:1 7:0 128 32768 1 skip_block_zeroing');
  });

  it('refuses metadata beyond what the kernel uses (15.94 GiB)', () => {
    expect(refusal(() => planResizeLoop(resizeState(), { pool: undefined, size: { bytes: 16 * 1024 ** 3, relative: false }, metadata: true }))).toMatch(/the kernel uses at most 15\.94 GiB/);
  });

  it('--metadata grows the metadata file and reloads the same table', () => {
    const plan = planResizeLoop(resizeState(), { pool: undefined, size: { bytes: 128 * 1024 ** 2, relative: false }, metadata: true });
    expect(argv(plan, 'truncate')).toEqual(['truncate', '-s', String(128 * 1024 ** 2), '/var/lib/dmctl-loop/metadata']);
    expect(argv(plan, 'set-capacity')).toEqual(['losetup', '-c', '/dev/loop1']);
    expect(argv(plan, 'reload')).toEqual(['dmsetup', 'reload', 'dmctl-pool', '--table', '0 2097152 thin-pool 7:1 7:0 128 32768 1 skip_block_zeroing']);
    expect(plan.steps.at(-1)!.action).toMatchObject({ argv: ['dmsetup', 'status', 'dmctl-pool'], expect: { includes: '/32768 ' } });
  });

  it('warns when the growth exceeds the free space', () => {
    const state = resizeState({ freeBytes: { '/var/lib/dmctl-loop/data': 1024 ** 2 } });
    expect(planResizeLoop(state, { pool: undefined, size: { bytes: 1024 ** 3, relative: true }, metadata: false }).notes[0]).toMatchObject({ level: 'warning' });
  });

  it('refuses an LVM pool, an unknown pool, and a choice between several', () => {
    const opts = { size: { bytes: 1024 ** 3, relative: true }, metadata: false };
    expect(refusal(() => planResizeLoop(resizeState(), { ...opts, pool: 'docker-thinpool' }))).toMatch(/not a loop pool.*dmctl extend/);
    expect(refusal(() => planResizeLoop(resizeState(), { ...opts, pool: 'nope' }))).toMatch(/no thin pool named nope/);
    const two = resizeState();
    two.thinPools = [...two.thinPools, { ...two.thinPools[0]!, name: 'second' }];
    expect(refusal(() => planResizeLoop(two, { ...opts, pool: undefined }))).toMatch(/2 loop pools \(dmctl-pool, second\): choose one with --pool/);
    expect(refusal(() => planResizeLoop({ ...resizeState(), ...dmState('empty') }, { ...opts, pool: undefined }))).toMatch(/no loop-backed thin pool/);
  });
});

/** reactivate's state on the recorded dm host (no pools; the guest's free loop device nodes). */
const reactivateState = (lvs: string, overrides: Partial<ReactivateState> = {}): ReactivateState => baseReactivateState(lvs, { ...dmState('empty'), ...overrides });
const dmctlArgv = ['/usr/bin/node', '/opt/dmctl/bin/dmctl.js'];

describe('reactivate', () => {
  it('nothing to do on a healthy host', () => {
    const plan = planReactivate({ ...reactivateState('pool'), ...dmState('both'), lvs: lvsQuery().parse(guest('lvs-pool.txt')) }, { installUnit: false, dmctlArgv });
    expect(plan.steps).toEqual([]);
    expect(plan.notes[0]!.text).toMatch(/every thin pool is active and monitored/);
  });

  it('activates an inactive LVM pool, then monitors and verifies it', () => {
    const plan = planReactivate(reactivateState('pool-inactive'), { installUnit: false, dmctlArgv });
    expect(ids(plan)).toEqual(['activate-docker-thinpool', 'monitor-docker-thinpool', 'verify-monitor-docker-thinpool']);
    expect(argv(plan, 'activate-docker-thinpool')).toEqual(['lvchange', '-ay', 'docker/thinpool']);
  });

  it('refuses to activate a pool whose metadata holds another transaction id than LVM expects, and says how to repair it', () => {
    // lvs-pool-inactive: LVM's id is 1; the superblock says 7 (tid-mismatch/record-superblock.sh).
    const mismatch = reactivateState('pool-inactive', { metadataTransactionIds: { 'docker/thinpool': 7 } });
    // not activated (LVM would refuse); the run ends refused (exit 3) with the numbers and the repair
    expect(ids(planReactivate(mismatch, { installUnit: false, dmctlArgv }))).toEqual([]);
    const error = unmetPoolsError(mismatch, 0);
    expect(error).toBeInstanceOf(RefusedError);
    expect(error!.exitCode).toBe(3);
    expect(error!.message).toMatch(
      /^docker\/thinpool: LVM expects transaction id 1 but the pool's metadata holds 7 .* \("transaction_id is 7, while expected 1", moby#15629\): repair LVM's record as docs\/troubleshooting.md \("transaction id mismatch"\) shows/,
    );
    // The same id, or one that could not be read: activate as usual (LVM checks for itself).
    for (const known of [{ 'docker/thinpool': 1 }, { 'docker/thinpool': undefined }]) {
      expect(ids(planReactivate(reactivateState('pool-inactive', { metadataTransactionIds: known }), { installUnit: false, dmctlArgv }))).toContain('activate-docker-thinpool');
    }
  });

  it('uses -K when the pool is flagged skip-activation', () => {
    const state = reactivateState('pool-inactive');
    state.lvs = state.lvs.map((l) => (l.name === 'thinpool' ? { ...l, attr: { ...l.attr, skipActivation: true } } : l));
    expect(argv(planReactivate(state, { installUnit: false, dmctlArgv }), 'activate-docker-thinpool')).toEqual(['lvchange', '-ay', '-K', 'docker/thinpool']);
  });

  it('rebuilds a recorded loop pool with its table, its length from the data file', () => {
    const state = reactivateState('empty', {
      records: { '/var/lib/dmctl/pools/dmctl-pool.json': recordOf('dmctl-pool', '/var/lib/dmctl-loop') },
      fileBytes: { '/var/lib/dmctl-loop/data': 2 * 1024 ** 3, '/var/lib/dmctl-loop/metadata': 64 * 1024 ** 2 },
    });
    const plan = planReactivate(state, { installUnit: false, dmctlArgv });
    expect(ids(plan)).toEqual(['attach-data-dmctl-pool', 'attach-metadata-dmctl-pool', 'create-dmctl-pool', 'verify-dmctl-pool']);
    expect(argv(plan, 'create-dmctl-pool')).toEqual(['dmsetup', 'create', 'dmctl-pool', '--table', '0 4194304 thin-pool /dev/loop1 /dev/loop0 128 32768 1 skip_block_zeroing']);
    expect(plan.steps.find((s) => s.id === 'create-dmctl-pool')!.recovery).toEqual([['losetup', '-d', '/dev/loop0', '/dev/loop1']]);
  });

  it('leaves a recorded pool that is up alone; refuses one whose files are gone', () => {
    const up = reactivateState('empty', { ...dmState('both'), records: { r: recordOf('dmctl-pool', '/var/lib/dmctl-loop') } });
    expect(planReactivate({ ...up, lvs: [] }, { installUnit: false, dmctlArgv }).steps).toEqual([]);
    const gone = reactivateState('empty', { records: { r: recordOf('dmctl-pool', '/var/lib/dmctl-loop') }, fileBytes: {} });
    expect(planReactivate(gone, { installUnit: false, dmctlArgv }).steps).toEqual([]);
    expect(unmetPoolsError(gone, 0)?.message).toMatch(/\/var\/lib\/dmctl-loop\/data is gone/);
  });

  it('a loop record whose files are gone, or a record that does not parse, does not keep an LVM pool down', () => {
    const s = reactivateState('pool-inactive', {
      records: { '/var/lib/dmctl/pools/old.json': recordOf('old', '/var/lib/old-loop'), '/var/lib/dmctl/pools/junk.json': '{"kind": "loop"' },
      fileBytes: {},
    });
    const plan = planReactivate(s, { installUnit: false, dmctlArgv });
    expect(ids(plan)).toContain('activate-docker-thinpool');
    expect(plan.notes.filter((n) => n.level === 'warning').map((n) => n.text)).toEqual([
      expect.stringMatching(/^\/var\/lib\/dmctl\/pools\/junk\.json is not a valid dmctl pool record: fix or remove it \(dmctl brings back the other pools, then fails\)$/),
      expect.stringMatching(/^loop pool old: \/var\/lib\/old-loop\/data is gone/),
    ]);
    const error = unmetPoolsError(s, 0);
    expect(error?.exitCode).toBe(3);
    expect(error?.message.split('\n')).toHaveLength(2);
  });

  it('--install-unit writes, reloads and enables the unit once', () => {
    const plan = planReactivate(reactivateState('pool', { systemd: true }), { installUnit: true, dmctlArgv });
    expect(ids(plan)).toEqual(['write-unit', 'daemon-reload', 'enable-unit']);
    expect((plan.steps[0]!.action as { content: string }).content).toContain('ExecStart=/usr/bin/node /opt/dmctl/bin/dmctl.js reactivate --yes');
    const installed = planReactivate(reactivateState('pool', { systemd: true, unitFile: unitContent(dmctlArgv), unitEnabled: true }), { installUnit: true, dmctlArgv });
    expect(installed.steps).toEqual([]);
  });
});

describe('every plan survives a round trip through a plan file', () => {
  it('init-loop, resize-loop, reactivate', async () => {
    const { makePlanFile, formatPlanFile, readPlanFile } = await import('../../../src/plan/file.js');
    const cases = [
      { command: 'init-loop' as const, state: initLoopState(), options: loopOptions(), plan: planInitLoop(initLoopState(), loopOptions()) },
      (() => {
        const options = { pool: undefined, size: { bytes: 1024 ** 3, relative: true }, metadata: false };
        return { command: 'resize-loop' as const, state: resizeState(), options, plan: planResizeLoop(resizeState(), options) };
      })(),
      (() => {
        const options = { installUnit: true, dmctlArgv };
        const state = reactivateState('pool-inactive', { systemd: true });
        return { command: 'reactivate' as const, state, options, plan: planReactivate(state, options) };
      })(),
    ];
    for (const c of cases) {
      expect(c.plan.steps.length).toBeGreaterThan(0);
      const text = formatPlanFile(makePlanFile(c.plan, { command: c.command, options: { ...c.options } }, c.state));
      expect(readPlanFile(text, 'f').plan).toEqual(c.plan);
    }
  });
});

describe('reactivate probe: the transaction id of an inactive pool, read from its PV', () => {
  it('locates the metadata LV, reads its superblock, and only for pools whose LVM id is above 0', async () => {
    const { probeReactivate } = await import('../../../src/probe/loop.js');
    const { FakeExecutor } = await import('../../helpers/fake-executor.js');
    const { MemoryFiles } = await import('../../helpers/memory-files.js');
    const { guestBytes } = await import('../../helpers/fixtures.js');
    const { lvsQuery: lvs, metadataStartQuery, peStartQuery } = await import('../../../src/system/lvm.js');
    const { losetupListQuery } = await import('../../../src/system/losetup.js');
    const host = (lvsFixture: string) => {
      const executor = new FakeExecutor()
        .on(lvs().argv, { stdout: guest(lvsFixture) })
        .on(losetupListQuery().argv, { stdout: guest('losetup-empty.txt') })
        .on(metadataStartQuery('docker', 'thinpool').argv, { stdout: guest('tid-mismatch/S-lvs-tmeta-segments.json') })
        .on(peStartQuery('/dev/ubda').argv, { stdout: guest('tid-mismatch/S-pvs-pe-start.json') });
      // After boot, before dm is loaded: no dmsetup calls.
      const files = new MemoryFiles({ programs: ['lvm', 'losetup', 'dmsetup'], files: { '/proc/devices': 'Block devices:\n  7 loop\n' }, blockDevices: ['/dev/ubda'] });
      // The superblock where the recording found it: pe_start 1 MiB + extent 242 × 4 MiB.
      files.regions.set('/dev/ubda', [{ at: 1048576 + 242 * 4194304, data: guestBytes('tid-mismatch/S-superblock.bin') }]);
      return { executor, files, uid: 0 };
    };
    const inactive = host('lvs-pool-inactive.txt');
    expect((await probeReactivate(inactive)).metadataTransactionIds).toEqual({ 'docker/thinpool': 7 });
    // An active pool (its id comes from dmsetup status) costs no extra query.
    const active = host('lvs-pool.txt');
    expect((await probeReactivate(active)).metadataTransactionIds).toEqual({});
    expect(active.executor.calls.map((c) => c[0])).toEqual(['lvs', 'losetup']);
  });
});
