/**
 * `--version` and `--help` never load execa (docs/performance.md): the real executor imports it on
 * its first command only. execa is replaced by a module that records that it was loaded.
 */
import { describe, expect, it, vi } from 'vitest';

const loaded = vi.hoisted(() => ({ execa: false }));
vi.mock('execa', async (importOriginal) => {
  loaded.execa = true;
  return importOriginal();
});

import { main } from '../../../src/cli.js';
import { createSpawnExecutor } from '../../../src/system/spawn-executor.js';

const sink = () => ({ write: () => true, isTTY: false }) as unknown as NodeJS.WriteStream;

describe('execa is loaded lazily', () => {
  it('not by --version, --help or a subcommand\'s --help; it is by the first command run', async () => {
    for (const args of [['--version'], ['--help'], ['status', '--help'], ['init-direct', '--help']]) {
      expect(await main(args, { io: { stdout: sink(), stderr: sink() } })).toBe(0);
    }
    expect(loaded.execa).toBe(false);
    expect((await createSpawnExecutor().run(['true'])).exitCode).toBe(0);
    expect(loaded.execa).toBe(true);
  });
});
