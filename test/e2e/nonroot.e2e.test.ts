/**
 * Root first, with the real binary run by a real non-root user (on this host, no guest needed): a run
 * that would change the host refuses before it takes the host lock, probes, or writes anything. The
 * in-process CLI tests cannot show this: their in-memory file tree has no permissions.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
// A world-readable copy of the launcher and the bundle: the clone itself may sit in a 0700 directory.
const copy = mkdtempSync(join(tmpdir(), 'dmctl-nonroot-'));
chmodSync(copy, 0o755);
cpSync(join(root, 'bin'), join(copy, 'bin'), { recursive: true });
cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true });
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const nobody = 65534;
function asNobody(...args: string[]) {
  const r = spawnSync('setpriv', [`--reuid=${nobody}`, `--regid=${nobody}`, '--clear-groups', process.execPath, join(copy, 'bin/dmctl.js'), ...args], {
    cwd: '/',
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', NO_COLOR: '1', LVM_SUPPRESS_FD_WARNINGS: '1' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a non-root user (the real binary under setpriv)', () => {
  const lock = '/run/dmctl.lock';
  const journals = () => (existsSync('/var/lib/dmctl/journal') ? readdirSync('/var/lib/dmctl/journal') : []);

  it.each([
    [['init-direct', '/dev/loop0', '--yes'], 'init-direct'],
    [['init-loop', '--yes'], 'init-loop'],
    [['reactivate', '--yes'], 'reactivate'],
    [['resize-loop', '+1G', '--yes'], 'resize-loop'],
    [['apply', '--resume', '--yes'], 'apply --resume'],
    [['apply', '/nonexistent.plan', '--yes'], 'apply'],
  ])('%j refuses with exit 3 and one line, before the lock, a probe or a write', (args, command) => {
    const before = journals();
    expect(existsSync(lock)).toBe(false);
    const r = asNobody(...args);
    expect(r.stderr).toBe(`dmctl: error: dmctl ${command} changes the host and needs root: run it with sudo (or add --dry-run to only see the plan)\n`);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(existsSync(lock)).toBe(false);
    expect(journals()).toEqual(before);
  });
});
