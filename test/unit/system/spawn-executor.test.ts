import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSpawnExecutor } from '../../../src/system/spawn-executor.js';

// The one executor that spawns real processes: exercised on harmless programs.
describe('spawn executor', () => {
  const run = createSpawnExecutor().run;

  it('passes argv without a shell and captures both streams and the status', async () => {
    const r = await run(['sh', '-c', 'printf "%s|" "$@"; echo oops >&2; exit 3', 'sh', 'a b', '$HOME', "it's"]);
    expect(r).toEqual({ exitCode: 3, stdout: "a b|$HOME|it's|", stderr: 'oops\n' });
  });

  it('a missing program is 127, as in a shell', async () => {
    const r = await run(['dmctl-no-such-program']);
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toMatch(/command not found/);
  });

  it('feeds input on stdin, and keeps stdin closed otherwise', async () => {
    expect((await run(['cat'], { input: 'yes\n' })).stdout).toBe('yes\n');
    expect((await run(['cat'])).stdout).toBe('');
  });

  it('sets the tool environment (lvm\'s fd warnings off, C locale)', async () => {
    const r = await run(['sh', '-c', 'echo "$LVM_SUPPRESS_FD_WARNINGS $LC_ALL"']);
    expect(r.stdout).toBe('1 C\n');
  });

  it('reports a signal as 128+N', async () => {
    expect((await run(['sh', '-c', 'kill -TERM $$'])).exitCode).toBe(143);
  });
});

// Time limits and aborts on real children: the process group of a plan step, and what is left after.
describe('spawn executor: time limits, aborts, process groups', () => {
  const run = createSpawnExecutor({ stepForceKillMs: 500 }).run;
  // Alive and not a zombie (an orphan's reaper may be slow to reap it).
  const alive = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0] !== 'Z';
    } catch {
      return false;
    }
  };

  it('a read-only command past its limit is SIGKILLed and reported as timed out', async () => {
    const t0 = Date.now();
    let pid = 0;
    const r = await run(['sleep', '30'], { timeoutMs: 200, onSpawn: (p) => (pid = p) });
    expect(r.timedOut).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(alive(pid)).toBe(false);
  });

  it('a plan step past its limit: its whole process group is killed (what it forked too)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmctl-exec-'));
    const pidFile = join(dir, 'grandchild');
    // sh ignores SIGTERM here, and its background child records its pid: both must die.
    const r = await run(['sh', '-c', `trap '' TERM; sleep 30 & echo $! > ${pidFile}; wait`], { timeoutMs: 300, changesHost: true });
    expect(r.timedOut).toBe(true);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(alive(grandchild)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an abort kills the child and says so', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const r = await run(['sleep', '30'], { signal: controller.signal });
    expect(r.cancelled).toBe(true);
  });

  it('every child runs in a process group of its own (a terminal\'s Ctrl-C reaches dmctl only)', async () => {
    const pgid = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2];
    for (const changesHost of [true, false]) {
      const r = await run(['sh', '-c', 'echo $$ $(cut -d" " -f5 /proc/$$/stat)'], { changesHost });
      const [pid, group] = r.stdout.trim().split(' ');
      expect(group).toBe(pid);
      expect(group).not.toBe(pgid(process.pid));
    }
  });

  it('a read-only command past its limit: what it forked dies with it (SIGKILL to the group), and it is not called stuck', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmctl-exec-'));
    const pidFile = join(dir, 'grandchild');
    const t0 = Date.now();
    const r = await run(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.stuckPid).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
