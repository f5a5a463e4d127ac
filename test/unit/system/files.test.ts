import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createHostFiles } from '../../../src/system/files.js';
import { acquireLock } from '../../../src/run/lock.js';

// The real file layer, on a scratch directory.
describe('host files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmctl-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const files = createHostFiles();

  it('writes atomically with the mode asked, creating the directory', async () => {
    await files.writeFileAtomic(join(dir, 'a/b/daemon.json'), '{}\n', 0o640);
    expect(readFileSync(join(dir, 'a/b/daemon.json'), 'utf8')).toBe('{}\n');
    expect(statSync(join(dir, 'a/b/daemon.json')).mode & 0o777).toBe(0o640);
  });

  it('createExclusive: the first wins, whole; the second is told', async () => {
    expect(await files.createExclusive(join(dir, 'lock'), 'first\n')).toBe(true);
    expect(await files.createExclusive(join(dir, 'lock'), 'second\n')).toBe(false);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe('first\n');
  });

  it('the lock is released only by its holder', async () => {
    const path = join(dir, 'dmctl.lock');
    const release = await acquireLock(files, { pid: process.pid, command: 'dmctl test', since: 'now' }, { wait: false, sleep: async () => {}, path });
    // Another dmctl took it over meanwhile (e.g. after a crash): our release must leave theirs alone.
    writeFileSync(path, JSON.stringify({ pid: process.pid, command: 'dmctl other', since: 'later' }));
    await release();
    expect(readFileSync(path, 'utf8')).toContain('dmctl other');
  });

  it('an unreadable lock is not taken over', async () => {
    const path = join(dir, 'garbled.lock');
    writeFileSync(path, 'garbage');
    await expect(acquireLock(files, { pid: process.pid, command: 'x', since: 'now' }, { wait: false, sleep: async () => {}, path })).rejects.toThrow(/does not say which dmctl holds it/);
  });

  it('free space and file sizes', async () => {
    expect(await files.freeBytes(join(dir, 'not/yet/there'))).toBeGreaterThan(0);
    expect(await files.fileSize(join(dir, 'lock'))).toBe(6);
    expect(await files.fileSize(join(dir, 'missing'))).toBeUndefined();
  });
});
