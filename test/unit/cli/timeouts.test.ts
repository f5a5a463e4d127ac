/**
 * dmctl never hangs: time limits on every command, what a timed-out read or step means, signals
 * (SIGINT, SIGTERM, SIGHUP alike; a second one during an apply), and a child that cannot die. The
 * executor here never answers a hanging command, not even when it is killed: only dmctl's own
 * deadlines end the wait, as on a host with a suspended device.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { timeoutOf } from '../../../src/cli.js';
import { boundedExecutor } from '../../../src/system/exec.js';
import { autoextendProfileContent } from '../../../src/system/lvm.js';
import { FakeExecutor, hang } from '../../helpers/fake-executor.js';
import { MemoryFiles } from '../../helpers/memory-files.js';
import { guest, host } from '../../helpers/fixtures.js';
import { changes, initDirectMutations, initDirectProbes, monitorCheck } from '../../helpers/init-direct-host.js';
import { runOnFakeHost } from '../../helpers/run-main.js';

const lvsArgv = ['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,lv_name,lv_attr,lv_size,segtype,pool_lv,data_percent,metadata_percent,lv_metadata_size,chunk_size,transaction_id,seg_monitor,lv_profile,lv_when_full,lv_health_status,lv_dm_path,vg_free,vg_extent_size'];
const lvmconfigArgv = ['lvmconfig', '--typeconfig', 'full', 'config/profile_dir', 'activation/thin_pool_autoextend_threshold', 'activation/thin_pool_autoextend_percent'];
const journalPath = '/var/lib/dmctl/journal/2026-11-27T12-00-00-000Z-init-direct.json';

/** An LVM host with one pool whose `lvs` hangs (or answers, with `lvsHangs: false`). */
function statusHost(lvsHangs = true) {
  const executor = new FakeExecutor()
    .on(lvsArgv, lvsHangs ? hang : { stdout: guest('lvs-pool.txt') })
    .on(['dmsetup', 'status', '--target', 'thin-pool'], { stdout: guest('dmsetup-status-pool.txt') })
    .on(lvmconfigArgv, { stdout: host('lvmconfig-thin.txt') });
  const files = new MemoryFiles({
    programs: ['lvm'],
    files: { '/proc/devices': 'Block devices:\n254 device-mapper\n', '/etc/lvm/profile/docker-thinpool.profile': autoextendProfileContent(80, 20) },
  });
  return { executor, files };
}

/** The fresh host of init-direct's tests; `hangs` names the program that hangs (probe or step). */
function initDirectHost(hangs?: string, onMutation?: (argv: string[]) => void) {
  const e = new FakeExecutor();
  for (const [argv, out] of initDirectProbes) e.on(argv, argv[0] === hangs ? hang : { stdout: out });
  for (const argv of initDirectMutations) {
    e.on(argv, () => {
      onMutation?.(argv);
      return argv[0] === hangs ? hang : {};
    });
  }
  e.on(monitorCheck, { stdout: '  monitored\n' });
  const files = new MemoryFiles({ blockDevices: ['/dev/loop0'], programs: ['lvm', 'thin_check', 'wipefs', 'lsblk', 'dockerd'], dirs: { '/proc/4242': [] } });
  return { executor: e, files };
}

const dmctl = runOnFakeHost;

/** Milliseconds `fn` took on the fake clock, advanced in steps of 100 ms until it settles. */
async function onFakeClock<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  vi.useFakeTimers();
  const t0 = Date.now();
  let done = false;
  const p = fn().finally(() => {
    done = true;
  });
  while (!done && Date.now() - t0 < 120_000) await vi.advanceTimersByTimeAsync(100);
  const value = await p;
  return { value, ms: Date.now() - t0 };
}

afterEach(() => {
  vi.useRealTimers();
});

// Load the lazily imported command modules with real timers first: on the fake clock a module load
// (real I/O) would let the deadlines pass before the commands have even started.
beforeAll(async () => {
  await dmctl(['status'], statusHost(false));
  await dmctl(['status', '--check'], statusHost(false));
  await dmctl(['init-direct', '/dev/loop0', '--dry-run'], initDirectHost());
});

describe('--timeout and -t', () => {
  it('are read before parsing (status starts its probes first); a bad value is NaN, refused in one line', async () => {
    expect(timeoutOf(['status', '--check', '-t', '3'])).toBe(3);
    expect(timeoutOf(['--timeout', '7', 'status'])).toBe(7);
    expect(timeoutOf(['status', '--timeout=5'])).toBe(5);
    expect(timeoutOf(['init-direct', '-t', '3'])).toBeUndefined();
    expect(timeoutOf(['status', '-t', 'soon'])).toBeNaN();
    expect(timeoutOf(['status', '--timeout', '0'])).toBeNaN();
    const r = await dmctl(['status', '--check', '-t', 'soon'], statusHost(false));
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('dmctl: error: --timeout: must be a whole number of seconds from 1 to 86400\n');
  });
});

describe('a read that does not answer', () => {
  it('status --check: one UNKNOWN line naming the command and what to look at, exit 3, after its default 10 s', async () => {
    const env = statusHost();
    const { value: r, ms } = await onFakeClock(() => dmctl(['status', '--check'], env));
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^DMCTL UNKNOWN - lvs did not answer within 10 s \(pid 4711 did not die even from SIGKILL: it is blocked in the kernel\) \(a device it reads may be hung: `dmsetup info -c` shows suspended devices/);
    expect(r.stdout.split('\n')).toHaveLength(2);
    expect(ms).toBeGreaterThanOrEqual(10_000);
    expect(ms).toBeLessThanOrEqual(11_100);
    expect(env.executor.options[0]).toMatchObject({ timeoutMs: 10_000 });
  });

  it('status --check -t 3 answers within 3 s (and the grace)', async () => {
    const { value: r, ms } = await onFakeClock(() => dmctl(['status', '--check', '-t', '3'], statusHost()));
    expect(r.stdout).toMatch(/^DMCTL UNKNOWN - lvs did not answer within 3 s/);
    expect(ms).toBeLessThanOrEqual(4100);
  });

  it('plain status refuses naming the command, exit 3, after the default 30 s', async () => {
    const { value: r, ms } = await onFakeClock(() => dmctl(['status'], statusHost()));
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^dmctl: error: lvs did not answer within 30 s/);
    expect(r.stderr).toMatch(/dmctl: hint: .*dmsetup info -c/);
    expect(ms).toBeGreaterThanOrEqual(30_000);
    expect(ms).toBeLessThanOrEqual(31_100);
  });

  it('planning refuses too (init-direct --dry-run, a hanging `lvm version`), with --timeout honoured; nothing runs', async () => {
    const env = initDirectHost('lvm');
    const { value: r, ms } = await onFakeClock(() => dmctl(['init-direct', '/dev/loop0', '--dry-run', '--timeout', '5'], env));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^dmctl: error: lvm version did not answer within 5 s/);
    expect(ms).toBeLessThanOrEqual(6100);
    expect(changes(env.executor.commands)).toEqual([]);
  });
});

describe('a plan step that does not finish', () => {
  it('stops the apply with an unknown outcome: no recovery, nothing later, journal "unknown"; --resume probes again first', async () => {
    const env = initDirectHost('lvconvert');
    const r = await dmctl(['init-direct', '/dev/loop0', '--yes'], { ...env, deadlines: { stepMs: 50, graceMs: 20 } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/step "Convert them into the thin pool docker\/thinpool \(chunk 512K\)" failed: did not finish within 0 s and was killed: its outcome is unknown; pid 4711 did not die even from SIGKILL/);
    expect(r.stderr).toMatch(/`dmctl apply --resume` probes the host again before it goes on/);
    expect(changes(env.executor.commands).at(-1)).toMatch(/^lvconvert /);
    // The step was run as a change to the host, with the step limit.
    expect(env.executor.options[env.executor.calls.findIndex((c) => c[0] === 'lvconvert')]).toMatchObject({ changesHost: true, timeoutMs: 50 });
    const journal = JSON.parse(env.files.files.get(journalPath)!);
    const statuses = journal.steps.map((s: { status: string }) => s.status);
    expect(statuses.slice(0, 5)).toEqual(['done', 'done', 'done', 'done', 'unknown']);
    expect(new Set(statuses.slice(5))).toEqual(new Set(['pending']));
    expect(journal.request).toMatchObject({ command: 'init-direct', options: { devices: ['/dev/loop0'] } });

    // --resume: the host is probed again (here it still looks fresh, so the whole plan is made again).
    const resumed = initDirectHost();
    resumed.files.files.set(journalPath, env.files.files.get(journalPath)!);
    const again = await dmctl(['apply', '--resume', '--yes'], resumed);
    expect(again.stderr).toMatch(/was killed before it answered; probing the host again/);
    expect(again.code).toBe(0);
    expect(resumed.executor.commands).toContain('lvm version');
  });
});

describe('signals', () => {
  it('during an apply: the first lets the step finish (SIGHUP like the rest); a second kills it at once, says which and how to resume, exit 130', async () => {
    let fire: ((signal?: string) => void) | undefined;
    const env = initDirectHost('lvcreate', (argv) => {
      if (argv[0] === 'lvcreate') {
        fire?.('SIGHUP');
        setTimeout(() => fire?.('SIGTERM'), 10);
      }
    });
    const r = await dmctl(['init-direct', '/dev/loop0', '--yes'], { ...env, signals: (f) => (fire = f), deadlines: { graceMs: 20 } });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/SIGHUP: finishing the current step, then stopping/);
    expect(r.stderr).toMatch(/second SIGTERM: aborting now, killing step "Create the pool's data volume docker\/thinpool \(95% of the VG\)" \(`lvcreate --wipesignatures y -n thinpool docker -l 95%VG`\): its outcome is unknown/);
    expect(r.stderr).toMatch(/journal: \/var\/lib\/dmctl\/journal\/.*\nTo go on: `dmctl apply --resume`/);
    expect(changes(env.executor.commands)).toEqual(['pvcreate /dev/loop0', 'vgcreate docker /dev/loop0', 'lvcreate --wipesignatures y -n thinpool docker -l 95%VG']);
    const journal = JSON.parse(env.files.files.get(journalPath)!);
    expect(journal.status).toBe('interrupted');
    expect(journal.steps[2].status).toBe('unknown');
  });

  it('outside an apply: a signal kills the read-only commands and dmctl ends with 130', async () => {
    const env = statusHost();
    let fire: ((signal?: string) => void) | undefined;
    const exits: number[] = [];
    setTimeout(() => fire?.('SIGTERM'), 20);
    const t0 = Date.now();
    const r = await dmctl(['status'], { ...env, signals: (f) => (fire = f), exit: (c) => exits.push(c), deadlines: { graceMs: 20 } });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^dmctl: error: interrupted while `lvs` ran/);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(env.executor.options[0]!.signal?.aborted).toBe(true);
  });

  it('a signal outside an apply that dmctl cannot act on: it exits anyway after a grace', async () => {
    let fire: ((signal?: string) => void) | undefined;
    const exits: number[] = [];
    const env = statusHost(false);
    // Nothing is running when the signal comes (a prompt, a file read): the last resort is exit(130).
    const { ms } = await onFakeClock(async () => {
      const r = dmctl(['status'], { ...env, signals: (f) => (fire = f), exit: (c) => exits.push(c), sleep: () => new Promise(() => {}) });
      await r;
      fire?.('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 2000));
    });
    expect(exits).toEqual([130]);
    expect(ms).toBeGreaterThanOrEqual(1500);
  });

  it('status --watch ends on the first signal, even while its probe hangs', async () => {
    let fire: ((signal?: string) => void) | undefined;
    let draws = 0;
    const env = statusHost(false);
    // The first probe answers; the second hangs, and Ctrl-C comes while it does.
    const executor = new FakeExecutor()
      .on(lvsArgv, (n) => {
        if (n > 1) {
          setTimeout(() => fire?.('SIGINT'), 10);
          return hang;
        }
        draws++;
        return { stdout: guest('lvs-pool.txt') };
      })
      .on(['dmsetup', 'status', '--target', 'thin-pool'], { stdout: guest('dmsetup-status-pool.txt') })
      .on(lvmconfigArgv, { stdout: host('lvmconfig-thin.txt') });
    const t0 = Date.now();
    const r = await dmctl(['status', '--watch', '1'], { executor, files: env.files, signals: (f) => (fire = f), deadlines: { graceMs: 20 } });
    expect(r.code).toBe(0);
    expect(draws).toBe(1);
    expect(r.stdout.match(/every 1s: dmctl status/g)).toHaveLength(1);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('boundedExecutor', () => {
  it('passes each command its limit and the run\'s abort signal; a killed child that exits is not called stuck', async () => {
    const controller = new AbortController();
    const seen: Array<{ timeoutMs?: number; signal?: AbortSignal }> = [];
    const inner = {
      run: async (_argv: readonly string[], o: { timeoutMs?: number; signal?: AbortSignal; onSpawn?: (pid: number, abandon: () => boolean) => void } = {}) => {
        seen.push(o);
        o.onSpawn?.(99, () => false);
        return new Promise<never>(() => {});
      },
    };
    const bounded = boundedExecutor(inner as never, { readMs: 30, stepMs: 60, graceMs: 10 }, controller.signal);
    const read = await bounded.run(['lvs']);
    expect(read).toMatchObject({ timedOut: true, limitMs: 30 });
    expect(read.stuckPid).toBeUndefined();
    const step = await bounded.run(['lvcreate'], { changesHost: true });
    expect(step).toMatchObject({ timedOut: true, limitMs: 60 });
    expect(seen.map((o) => o.timeoutMs)).toEqual([30, 60]);
    controller.abort();
    expect(await bounded.run(['lvs'])).toMatchObject({ cancelled: true });
  });
});
