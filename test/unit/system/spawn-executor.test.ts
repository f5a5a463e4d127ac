import { describe, expect, it } from 'vitest';
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
