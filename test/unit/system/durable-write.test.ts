import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createHostFiles, realDurableFsOps, type DurableFsOps } from '../../../src/system/files.js';
import { applyPlan } from '../../../src/run/apply.js';
import { writeFileStep } from '../../../src/plan/steps.js';
import type { Plan } from '../../../src/plan/types.js';
import { FakeExecutor } from '../../helpers/fake-executor.js';

/**
 * The real file layer on a scratch directory, through a seam that records each file-system call
 * (paths relative to the scratch directory, temporary files shown as TMP(name)) and can fail the n-th.
 */
function recordingOps(root: string, failAt?: number): { ops: DurableFsOps; calls: string[] } {
  const calls: string[] = [];
  const show = (p: string) => {
    const rel = p.startsWith(root) ? p.slice(root.length + 1) || '.' : p;
    const m = /^(.*?)\.([^/]+)\.dmctl-\d+\.tmp$/.exec(rel);
    return m ? `${m[1]}TMP(${m[2]})` : rel;
  };
  const wrap = <K extends keyof DurableFsOps>(name: K, describe: (...args: Parameters<DurableFsOps[K]>) => string) =>
    (async (...args: Parameters<DurableFsOps[K]>) => {
      const call = `${name} ${describe(...args)}`;
      calls.push(call);
      if (failAt !== undefined && calls.length === failAt) throw new Error(`injected failure at ${call}`);
      return (realDurableFsOps[name] as (...a: unknown[]) => Promise<void>)(...args);
    }) as DurableFsOps[K];
  return {
    calls,
    ops: {
      mkdir: wrap('mkdir', (d) => show(d)),
      writeFile: wrap('writeFile', (f) => show(f)),
      copyFile: wrap('copyFile', (a, b) => `${show(a)} ${show(b)}`),
      fsync: wrap('fsync', (f) => show(f)),
      rename: wrap('rename', (a, b) => `${show(a)} ${show(b)}`),
      fsyncDir: wrap('fsyncDir', (d) => show(d)),
      // Cleanup is recorded but never failed: it is what runs after a failure.
      unlink: async (f) => {
        calls.push(`unlink ${show(f)}`);
        await realDurableFsOps.unlink(f);
      },
    },
  };
}

const tempFiles = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp'));

describe('durable writes (the real HostFiles)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'dmctl-durable-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  let n = 0;
  const freshDir = () => {
    const dir = join(scratch, `case${++n}`);
    return { dir, etc: join(dir, 'etc') };
  };

  it('writeFileAtomic: write the temporary file, fsync it, rename it, fsync the directory — in that order', async () => {
    const { dir, etc } = freshDir();
    const { ops, calls } = recordingOps(dir);
    await createHostFiles('', ops).writeFileAtomic(join(etc, 'daemon.json'), '{}\n', 0o644);
    expect(calls).toEqual(['mkdir etc', 'writeFile etc/TMP(daemon.json)', 'fsync etc/TMP(daemon.json)', 'rename etc/TMP(daemon.json) etc/daemon.json', 'fsyncDir etc']);
    expect(readFileSync(join(etc, 'daemon.json'), 'utf8')).toBe('{}\n');
    expect(tempFiles(etc)).toEqual([]);
  });

  // Calls 2..4 (writeFile, fsync, rename): before the rename lands, the original must be untouched.
  for (const failAt of [2, 3, 4]) {
    it(`writeFileAtomic failing at call ${failAt}: the temporary file is removed and the original is intact`, async () => {
      const { dir, etc } = freshDir();
      const target = join(etc, 'daemon.json');
      await createHostFiles('', realDurableFsOps).writeFileAtomic(target, '{"old":true}\n', 0o644);
      const { ops, calls } = recordingOps(dir, failAt);
      await expect(createHostFiles('', ops).writeFileAtomic(target, '{"new":true}\n', 0o644)).rejects.toThrow(/injected failure/);
      expect(calls.at(-1)).toBe('unlink etc/TMP(daemon.json)');
      expect(tempFiles(etc)).toEqual([]);
      expect(readFileSync(target, 'utf8')).toBe('{"old":true}\n');
    });
  }

  it('writeFileAtomic failing at the directory fsync: reported, no temporary file, the file whole (old or new, never half)', async () => {
    const { dir, etc } = freshDir();
    const target = join(etc, 'daemon.json');
    await createHostFiles('', realDurableFsOps).writeFileAtomic(target, '{"old":true}\n', 0o644);
    const { ops } = recordingOps(dir, 5);
    await expect(createHostFiles('', ops).writeFileAtomic(target, '{"new":true}\n', 0o644)).rejects.toThrow(/injected failure at fsyncDir etc/);
    expect(tempFiles(etc)).toEqual([]);
    expect(['{"old":true}\n', '{"new":true}\n']).toContain(readFileSync(target, 'utf8'));
  });

  it('a mkdir failure writes nothing', async () => {
    const { dir, etc } = freshDir();
    const { ops } = recordingOps(dir, 1);
    await expect(createHostFiles('', ops).writeFileAtomic(join(etc, 'daemon.json'), '{}\n', 0o644)).rejects.toThrow(/injected/);
    expect(existsSync(etc)).toBe(false);
  });

  // The writeFile step of a plan (apply.ts) with a backup, on the real HostFiles.
  const plan = (etc: string): Plan => ({
    formatVersion: 1, command: 'test', target: 't', basis: 'sha256:0', notes: [],
    steps: [writeFileStep('write-daemon-json', 'w', { path: join(etc, 'daemon.json'), content: '{"new":true}\n', backupTo: join(etc, 'daemon.json.dmctl.bak') }, 'r')],
  });
  const withOriginal = () => {
    const { dir, etc } = freshDir();
    return { dir, etc, setup: async () => createHostFiles('', realDurableFsOps).writeFileAtomic(join(etc, 'daemon.json'), '{"old":true}\n', 0o644) };
  };
  const expectedCalls = [
    // The backup: a durable copy, in place before the original is touched.
    'mkdir etc', 'copyFile etc/daemon.json etc/TMP(daemon.json.dmctl.bak)', 'fsync etc/TMP(daemon.json.dmctl.bak)',
    'rename etc/TMP(daemon.json.dmctl.bak) etc/daemon.json.dmctl.bak', 'fsyncDir etc',
    // Then the new daemon.json.
    'mkdir etc', 'writeFile etc/TMP(daemon.json)', 'fsync etc/TMP(daemon.json)', 'rename etc/TMP(daemon.json) etc/daemon.json', 'fsyncDir etc',
  ];

  it('apply: the backup of daemon.json is copied, fsync\'d, renamed and its directory fsync\'d before daemon.json is replaced', async () => {
    const { dir, etc, setup } = withOriginal();
    await setup();
    const { ops, calls } = recordingOps(dir);
    const result = await applyPlan(plan(etc), { executor: new FakeExecutor(), files: createHostFiles('', ops) });
    expect(result.status).toBe('done');
    expect(calls).toEqual(expectedCalls);
    expect(readFileSync(join(etc, 'daemon.json.dmctl.bak'), 'utf8')).toBe('{"old":true}\n');
    expect(readFileSync(join(etc, 'daemon.json'), 'utf8')).toBe('{"new":true}\n');
  });

  for (const [index, call] of expectedCalls.entries()) {
    it(`apply failing at call ${index + 1} (${call}): the step fails, no temporary file, daemon.json is never half-written and never replaced without its backup`, async () => {
      const { dir, etc, setup } = withOriginal();
      await setup();
      const { ops } = recordingOps(dir, index + 1);
      const result = await applyPlan(plan(etc), { executor: new FakeExecutor(), files: createHostFiles('', ops) });
      expect(result.status).toBe('failed');
      expect(result.failure?.message).toMatch(/injected failure/);
      expect(tempFiles(etc)).toEqual([]);
      const now = readFileSync(join(etc, 'daemon.json'), 'utf8');
      const backup = existsSync(join(etc, 'daemon.json.dmctl.bak')) ? readFileSync(join(etc, 'daemon.json.dmctl.bak'), 'utf8') : undefined;
      // Up to the new file's rename (call 9) the original is intact; at the last fsync it may be new.
      if (index + 1 < 9) expect(now).toBe('{"old":true}\n');
      else expect(['{"old":true}\n', '{"new":true}\n']).toContain(now);
      // daemon.json only ever changes once its backup is complete on disk.
      if (now !== '{"old":true}\n') expect(backup).toBe('{"old":true}\n');
      // A failed backup leaves no partial backup file under the backup's name.
      if (index + 1 <= 4) expect(backup).toBeUndefined();
    });
  }

  it('copyFile of a missing source leaves nothing behind', async () => {
    const { dir, etc } = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'placeholder'), '');
    await expect(createHostFiles('', realDurableFsOps).copyFile(join(etc, 'missing'), join(dir, 'copy'))).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual(['placeholder']);
  });
});
