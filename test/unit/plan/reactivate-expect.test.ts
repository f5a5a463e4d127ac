/**
 * reactivate knows which pools to expect (issue 12.2): the LVM pools dmctl recorded and the pool the
 * consumer's config names. One that is not there fails loudly (exit 4) instead of "every pool is
 * active"; `--wait-devices` re-probes (with backoff, bounded) while disks appear late.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import type { CliContext } from '../../../src/commands/context.js';
import { DevicesMissingError, ExitCode } from '../../../src/errors.js';
import type { ReactivateState } from '../../../src/model/state.js';
import { expectedPools, missingPools, unmetPoolsError, planReactivate, unitContent } from '../../../src/plan/reactivate.js';
import { probeUntil } from '../../../src/probe/wait.js';
import { lockPath } from '../../../src/run/lock.js';
import { losetupListQuery } from '../../../src/system/losetup.js';
import { lvchangeActivateArgv, lvchangeMonitorArgv, lvsQuery, metadataStartQuery, peStartQuery, segMonitorArgv } from '../../../src/system/lvm.js';
import { FakeExecutor } from '../../helpers/fake-executor.js';
import { guest } from '../../helpers/fixtures.js';
import { reactivateState } from '../../helpers/states.js';
import { MemoryFiles } from '../../helpers/memory-files.js';

const recordPath = '/var/lib/dmctl/pools/docker-thinpool.json';
const lvmRecord = `${JSON.stringify({ formatVersion: 1, kind: 'lvm', name: 'docker-thinpool', vg: 'docker', lv: 'thinpool', pvs: ['/dev/ubda'] }, null, 2)}\n`;
const daemonJson = { path: '/etc/docker/daemon.json', text: JSON.stringify({ 'storage-driver': 'devicemapper', 'storage-opts': ['dm.thinpooldev=/dev/mapper/docker-thinpool'] }) };
const containerdConfig = { path: '/etc/containerd/config.toml', text: 'version = 2\n[plugins."io.containerd.snapshotter.v1.devmapper"]\n  pool_name = "ctr-pool"\n  root_path = "/var/lib/containerd/devmapper"\n' };
const dmctlArgv = ['/usr/bin/node', '/opt/dmctl/bin/dmctl.js'];


function failure(s: ReactivateState, waitedSec: number): DevicesMissingError {
  const e = unmetPoolsError(s, waitedSec);
  if (!(e instanceof DevicesMissingError)) throw new Error('expected a DevicesMissingError');
  return e;
}

describe('reactivate: the pools it expects', () => {
  it('from dmctl\'s LVM pool records and from the consumers\' configs', () => {
    const s = reactivateState('empty', { records: { [recordPath]: lvmRecord }, consumerConfigs: { daemonJson, containerdConfig } });
    expect(expectedPools(s).map((p) => [p.name, p.by])).toEqual([
      ['docker-thinpool', [`recorded in ${recordPath}`, "Docker's dm.thinpooldev in /etc/docker/daemon.json"]],
      ['ctr-pool', ["containerd's pool_name in /etc/containerd/config.toml"]],
    ]);
  });

  it('init-direct --docker-managed: Docker\'s dm.directlvm_device means Docker\'s own docker/thinpool', () => {
    const managed = { path: '/etc/docker/daemon.json', text: JSON.stringify({ 'storage-driver': 'devicemapper', 'storage-opts': ['dm.directlvm_device=/dev/xvdf', 'dm.directlvm_device_force=false'] }) };
    const s = reactivateState('empty', { consumerConfigs: { daemonJson: managed } });
    expect(expectedPools(s).map((p) => [p.name, p.by])).toEqual([['docker-thinpool', ["Docker's dm.directlvm_device in /etc/docker/daemon.json"]]]);
    expect(failure(s, 0).message).toMatch(/^pool docker-thinpool \(Docker's dm\.directlvm_device in \/etc\/docker\/daemon\.json\) is not there: /);
    // Docker's loop-lvm (neither option): nothing to expect
    const loop = { path: '/etc/docker/daemon.json', text: JSON.stringify({ 'storage-driver': 'devicemapper' }) };
    expect(expectedPools(reactivateState('empty', { consumerConfigs: { daemonJson: loop } }))).toEqual([]);
  });

  it('a recorded pool whose disk is gone: exit 4, one line naming the pool, what is missing and what to check', () => {
    const s = reactivateState('empty', { records: { [recordPath]: lvmRecord }, recordedDisks: { '/dev/ubda': false } });
    const e = failure(s, 60);
    expect(e.exitCode).toBe(ExitCode.devicesMissing);
    expect(e.exitCode).toBe(4);
    expect(e.message).toBe(
      `pool docker/thinpool (recorded in ${recordPath}) did not appear within 60 s: LVM sees no VG docker; its disk /dev/ubda (as recorded) does not exist: ` +
        'check that the disks are attached (lsblk, dmesg; names can change across reboots: pvs shows where the PVs are), then run dmctl reactivate again',
    );
    // Without a wait it says so, and how to wait.
    expect(failure(s, 0).message).toMatch(/^pool docker\/thinpool \(.*\) is not there: .*\(--wait-devices SECS waits for late disks\)$/);
  });

  it('the disk is there but LVM shows no VG: points to LVM\'s filter and devices file', () => {
    const s = reactivateState('empty', { records: { [recordPath]: lvmRecord }, recordedDisks: { '/dev/ubda': true } });
    expect(missingPools(s)[0]!.missing).toBe('LVM sees no VG docker although /dev/ubda exists');
    expect(missingPools(s)[0]!.check).toMatch(/lvm\.conf's filter and devices file/);
  });

  it('a partial VG (a PV missing) is not there yet either', () => {
    const s = reactivateState('pool-inactive', { records: { [recordPath]: lvmRecord } });
    s.lvs = s.lvs.map((l) => (l.name === 'thinpool' ? { ...l, attr: { ...l.attr, health: 'partial' as const } } : l));
    expect(missingPools(s).map((m) => m.missing)).toEqual([expect.stringMatching(/^VG docker is missing one or more of its PVs/)]);
  });

  it('a pool only the consumer names, which nothing provides', () => {
    const s = reactivateState('empty', { consumerConfigs: { containerdConfig } });
    expect(failure(s, 5).message).toMatch(
      /^pool ctr-pool \(containerd's pool_name in \/etc\/containerd\/config\.toml\) did not appear within 5 s: no device-mapper device, LVM thin pool or dmctl record has that name/,
    );
  });

  it('present: an inactive pool LVM sees is activated; an active one (dm device) needs nothing', () => {
    const inactive = reactivateState('pool-inactive', { records: { [recordPath]: lvmRecord }, consumerConfigs: { daemonJson } });
    expect(missingPools(inactive)).toEqual([]);
    expect(planReactivate(inactive, { installUnit: false, dmctlArgv }).steps[0]!.id).toBe('activate-docker-thinpool');
    expect(missingPools(reactivateState('pool', { records: { [recordPath]: lvmRecord }, dmNames: ['docker-thinpool', 'docker-thinpool-tpool'] }))).toEqual([]);
  });

  it('one pool missing does not keep the others down: they are planned, the missing one is a warning', () => {
    const s = reactivateState('pool-inactive', { records: { [recordPath]: lvmRecord }, consumerConfigs: { containerdConfig } });
    const plan = planReactivate(s, { installUnit: false, dmctlArgv });
    expect(plan.steps.map((st) => st.id)).toEqual(['activate-docker-thinpool', 'monitor-docker-thinpool', 'verify-monitor-docker-thinpool']);
    expect(plan.notes).toEqual([expect.objectContaining({ level: 'warning', text: expect.stringMatching(/^ctr-pool \(containerd's pool_name in \/etc\/containerd\/config\.toml\) is not there: .*; dmctl brings back the other pools, then fails \(exit 4\)$/) })]);
    expect(failure(s, 0).message.split('\n')).toEqual([expect.stringMatching(/^pool ctr-pool /)]);
    // nothing is missing: no error, and the usual note once every pool is up
    expect(unmetPoolsError(reactivateState('pool', { dmNames: ['docker-thinpool'] }), 0)).toBeUndefined();
  });

  it('a partial VG gets no activation step (LVM would refuse it), only the warning', () => {
    const s = reactivateState('pool-inactive', { records: { [recordPath]: lvmRecord } });
    s.lvs = s.lvs.map((l) => (l.name === 'thinpool' ? { ...l, attr: { ...l.attr, health: 'partial' as const } } : l));
    const plan = planReactivate(s, { installUnit: false, dmctlArgv });
    expect(plan.steps).toEqual([]);
    expect(plan.notes.map((n) => n.level)).toEqual(['warning']);
  });

  it('an LVM record does not count as a broken loop record', () => {
    const s = reactivateState('pool', { records: { [recordPath]: lvmRecord }, dmNames: ['docker-thinpool'] });
    expect(planReactivate(s, { installUnit: false, dmctlArgv }).steps).toEqual([]);
  });
});

describe('the boot unit', () => {
  it('waits for the expected pools\' devices, and no longer orders itself after systemd-udev-settle', () => {
    const unit = unitContent(dmctlArgv);
    expect(unit).not.toMatch(/udev-settle/);
    expect(unit).toMatch(/^After=systemd-udev-trigger\.service local-fs\.target lvm2-monitor\.service$/m);
    expect(unit).toMatch(/^Before=docker\.service containerd\.service shutdown\.target$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/dmctl\/bin\/dmctl\.js reactivate --yes --wait-devices 90$/m);
    expect(unit).toMatch(/^TimeoutStartSec=210$/m);
  });
});

describe('probeUntil: re-probe with backoff, bounded', () => {
  function clock() {
    let t = 0;
    const slept: number[] = [];
    return { now: () => t, sleep: async (ms: number) => void (slept.push(ms), (t += ms)), slept };
  }

  it('returns as soon as nothing is missing', async () => {
    const c = clock();
    let probes = 0;
    const result = await probeUntil(async () => ++probes, (n) => (n < 4 ? ['x'] : []), { timeoutSec: 60, ...c });
    expect(result).toBe(4);
    expect(c.slept).toEqual([250, 500, 1000]);
  });

  it('gives up at the deadline (never sleeping past it) and returns the last state', async () => {
    const c = clock();
    let probes = 0;
    const waits: unknown[] = [];
    const result = await probeUntil(async () => ++probes, () => ['x'], { timeoutSec: 10, ...c, onWait: (m) => waits.push(m) });
    expect(c.slept).toEqual([250, 500, 1000, 2000, 4000, 2250]);
    expect(c.now()).toBe(10_000);
    expect(result).toBe(7);
    expect(waits).toEqual([['x']]);
  });

  it('without a wait it probes once', async () => {
    const c = clock();
    let probes = 0;
    await probeUntil(async () => ++probes, () => ['x'], { timeoutSec: 0, ...c });
    expect(probes).toBe(1);
    expect(c.slept).toEqual([]);
  });
});

describe('dmctl reactivate --wait-devices (fake host, fake clock)', () => {
  async function run(args: string[], lvsAnswer: (call: number) => string, extra: { files?: Record<string, string>; apply?: boolean } = {}) {
    let stdout = '';
    let stderr = '';
    let t = Date.parse('2026-12-04T00:00:00Z');
    const executor = new FakeExecutor()
      .on(lvsQuery().argv, (n) => ({ stdout: lvsAnswer(n) }))
      .on(losetupListQuery().argv, { stdout: guest('losetup-empty.txt') })
      // the inactive pool's transaction id check (its superblock cannot be read here: LVM would check)
      .on(metadataStartQuery('docker', 'thinpool').argv, { stdout: guest('tid-mismatch/S-lvs-tmeta-segments.json') })
      .on(peStartQuery('/dev/ubda').argv, { stdout: guest('tid-mismatch/S-pvs-pe-start.json') })
      .on(lvchangeActivateArgv('docker', 'thinpool', false), { stdout: '' })
      .on(lvchangeMonitorArgv('docker', 'thinpool'), { stdout: '' })
      .on(segMonitorArgv('docker', 'thinpool'), { stdout: '  monitored\n' });
    // After a boot, before dm is loaded: no dmsetup calls.
    const files = new MemoryFiles({ programs: ['lvm', 'losetup', 'dmsetup'], files: { '/proc/devices': 'Block devices:\n  7 loop\n', [recordPath]: lvmRecord, ...extra.files } });
    const ctx: Partial<CliContext> = {
      executor,
      files,
      uid: 0,
      env: {},
      io: { stdout: { write: (s: string) => void (stdout += s) }, stderr: { write: (s: string) => void (stderr += s) } },
      sleep: async (ms: number) => {
        t += ms;
        lockHeldWhileWaiting ||= files.files.has(lockPath);
      },
      now: () => new Date(t),
    };
    let lockHeldWhileWaiting = false;
    const code = await main(['reactivate', ...(extra.apply ? ['--yes'] : ['--dry-run']), ...args], ctx);
    return { code, stdout, stderr, executor, lockHeldWhileWaiting, lockAfter: files.files.has(lockPath), lvsCalls: executor.calls.filter((c) => c.join(' ') === lvsQuery().argv.join(' ')).length, waitedMs: t - Date.parse('2026-12-04T00:00:00Z') };
  }

  it('waits while the disk is absent, then plans the activation once the VG appears', async () => {
    const r = await run(['--wait-devices', '60'], (n) => guest(n <= 3 ? 'lvs-empty.txt' : 'lvs-pool-inactive.txt'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.lvsCalls).toBe(4);
    expect(r.waitedMs).toBe(250 + 500 + 1000);
    expect(r.stderr).toMatch(/^waiting up to 60 s for docker\/thinpool \(its devices have not appeared yet\)…$/m);
    expect(r.stdout).toMatch(/Activate docker\/thinpool/);
  });

  it('a disk that never comes: exit 4 after the bound, one error line', async () => {
    const r = await run(['--wait-devices', '20'], () => guest('lvs-empty.txt'));
    expect(r.code).toBe(4);
    expect(r.waitedMs).toBe(20_000);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('dmctl: error: '))).toEqual([
      expect.stringMatching(/^dmctl: error: pool docker\/thinpool \(recorded in \/var\/lib\/dmctl\/pools\/docker-thinpool\.json\) did not appear within 20 s: LVM sees no VG docker; its disk \/dev\/ubda \(as recorded\) does not exist: /),
    ]);
    // the plan (nothing to do) says which pool is missing
    expect(r.stdout).toMatch(/docker\/thinpool \(recorded in .*\) is not there: .*then fails \(exit 4\)/);
  });

  it('waits for late disks without holding the host lock (other dmctl runs are not held off), then applies under it', async () => {
    const r = await run(['--wait-devices', '60'], (n) => guest(n <= 3 ? 'lvs-empty.txt' : 'lvs-pool-inactive.txt'), { apply: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.waitedMs).toBe(250 + 500 + 1000);
    expect(r.lockHeldWhileWaiting).toBe(false);
    expect(r.executor.calls).toContainEqual(lvchangeActivateArgv('docker', 'thinpool', false));
    // (released after the apply; the journal proves the apply ran under the lock: it is written inside it)
    expect(r.lockAfter).toBe(false);
    // the wait's probes, then one more in the lock
    expect(r.lvsCalls).toBe(5);
  });

  it('a missing pool does not keep a present one down: it is activated, then exit 4 names the missing one', async () => {
    const r = await run(['--wait-devices', '3'], () => guest('lvs-pool-inactive.txt'), { apply: true, files: { [containerdConfig.path]: containerdConfig.text } });
    expect(r.executor.calls).toContainEqual(lvchangeActivateArgv('docker', 'thinpool', false));
    expect(r.code).toBe(4);
    expect(r.waitedMs).toBe(3000);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('dmctl: error: '))).toEqual([
      expect.stringMatching(/^dmctl: error: pool ctr-pool \(containerd's pool_name in \/etc\/containerd\/config\.toml\) did not appear within 3 s: /),
    ]);
  });

  it('refuses a bad --wait-devices with exit 3', async () => {
    const r = await run(['--wait-devices', 'soon'], () => guest('lvs-empty.txt'));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/--wait-devices must be a whole number/);
  });
});
