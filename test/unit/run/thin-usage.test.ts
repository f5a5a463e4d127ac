/**
 * The metadata snapshot around thin_ls is always released: after success, after thin_ls fails, on a
 * signal while thin_ls runs; a snapshot someone else holds is refused and never released by dmctl.
 * Tool answers are the ones recorded in the guest (fixtures …/devices/).
 */
import { describe, expect, it } from 'vitest';
import { DmctlError, ExitCode, RefusedError } from '../../../src/errors.js';
import { readThinUsage, type UsageTarget } from '../../../src/run/thin-usage.js';
import { parseHeldMetadataRoot } from '../../../src/system/dmsetup.js';
import { thinLsQuery } from '../../../src/system/thin-ls.js';
import { FakeExecutor } from '../../helpers/fake-executor.js';
import { capture } from '../../helpers/devices-host.js';

const target: UsageTarget = { pool: 'docker/thinpool', kernelName: 'docker-thinpool', metadataDevice: '/dev/mapper/docker-thinpool_tmeta' };
const status = ['dmsetup', 'status', 'docker-thinpool'];
const reserve = ['dmsetup', 'message', 'docker-thinpool', '0', 'reserve_metadata_snap'];
const release = ['dmsetup', 'message', 'docker-thinpool', '0', 'release_metadata_snap'];
const thinLs = thinLsQuery(target.metadataDevice).argv;
/** The held root in the recorded status line of the held snapshot. */
const root = parseHeldMetadataRoot(capture('status-held'));

/** A pool that tracks its held root the way the kernel does (status-released / status-held lines). */
function pool(thinLsAnswer: () => { exitCode?: number; stdout?: string; stderr?: string }, heldAtStart = false) {
  let held = heldAtStart;
  const executor = new FakeExecutor()
    .on(status, () => ({ stdout: held ? capture('status-held') : capture('status-released') }))
    .on(reserve, () => {
      if (held) return { exitCode: 1, stderr: capture('reserve-again', 'stderr.txt') };
      held = true;
      return {};
    })
    .on(release, () => {
      if (!held) return { exitCode: 1, stderr: capture('release-unheld', 'stderr.txt') };
      held = false;
      return {};
    })
    .on(thinLs, () => thinLsAnswer());
  return { executor, held: () => held };
}

describe('readThinUsage', () => {
  it('reserves, reads, releases, and checks the held root is - again', async () => {
    const p = pool(() => ({ stdout: capture('thin-ls') }));
    const rows = await readThinUsage(p.executor, target);
    expect(rows).toHaveLength(8);
    expect(p.held()).toBe(false);
    expect(p.executor.commands).toEqual([
      'dmsetup status docker-thinpool',
      'dmsetup message docker-thinpool 0 reserve_metadata_snap',
      'thin_ls --metadata-snap --no-headers --format DEV,MAPPED_BYTES,EXCLUSIVE_BYTES,SHARED_BYTES /dev/mapper/docker-thinpool_tmeta',
      'dmsetup message docker-thinpool 0 release_metadata_snap',
      'dmsetup status docker-thinpool',
    ]);
  });

  it('thin_ls fails: the snapshot is released, and the failure is thin_ls\'s (exit 3)', async () => {
    const p = pool(() => ({ exitCode: 1, stderr: capture('thin-ls-unheld', 'stderr.txt') }));
    const error = await readThinUsage(p.executor, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as Error).message).toContain('no current metadata snap');
    expect(p.held()).toBe(false);
    expect(p.executor.commands).toContain('dmsetup message docker-thinpool 0 release_metadata_snap');
  });

  it('thin_ls prints what the parser does not understand: released all the same', async () => {
    const p = pool(() => ({ stdout: capture('thin-ls-headers') }));
    await expect(readThinUsage(p.executor, target)).rejects.toThrow(/unexpected output from `thin_ls/);
    expect(p.held()).toBe(false);
  });

  it('a signal while thin_ls runs: thin_ls finishes, the snapshot is released, then exit 130', async () => {
    let signal: (() => void) | undefined;
    let removed = false;
    const p = pool(() => {
      signal!(); // SIGTERM arrives while thin_ls runs
      return { stdout: capture('thin-ls') };
    });
    const error = await readThinUsage(p.executor, target, {
      onInterrupt: (handler) => {
        signal = handler;
        return () => {
          removed = true;
        };
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DmctlError);
    expect((error as DmctlError).exitCode).toBe(ExitCode.interrupted);
    expect((error as Error).message).toBe("interrupted: docker/thinpool's metadata snapshot was released");
    expect(p.held()).toBe(false);
    expect(removed).toBe(true);
  });

  it('a snapshot someone else holds: refused before any message, and left held', async () => {
    const p = pool(() => ({ stdout: capture('thin-ls') }), true);
    const error = await readThinUsage(p.executor, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as Error).message).toBe(
      `docker/thinpool: a metadata snapshot is already held (metadata root ${root}): another reader (thin_ls, a backup tool, a dmctl that was killed) has it, and the kernel keeps only one`,
    );
    expect((error as RefusedError).hint).toBe('if nothing else reads it, release it: dmsetup message docker-thinpool 0 release_metadata_snap');
    expect(p.held()).toBe(true);
    expect(p.executor.commands).toEqual(['dmsetup status docker-thinpool']);
  });

  it('another reader reserves between the check and the reserve: refused, nothing released', async () => {
    const executor = new FakeExecutor()
      .on(status, { stdout: capture('status-released') })
      .on(reserve, { exitCode: 1, stderr: capture('reserve-again', 'stderr.txt') });
    await expect(readThinUsage(executor, target)).rejects.toThrow(/another reader reserved the pool's metadata snapshot just now \(device-mapper: message ioctl on docker-thinpool {2}failed: Device or resource busy\)/);
    expect(executor.commands).not.toContain('dmsetup message docker-thinpool 0 release_metadata_snap');
  });

  it('the release fails and the pool still holds it: exit 1, naming the command to run by hand', async () => {
    const executor = new FakeExecutor()
      .on(status, (n) => ({ stdout: n === 1 ? capture('status-released') : capture('status-held') }))
      .on(reserve, {})
      .on(thinLs, { stdout: capture('thin-ls') })
      .on(release, { exitCode: 1, stderr: 'device-mapper: message ioctl on docker-thinpool  failed: Input/output error\nCommand failed.\n' });
    const error = (await readThinUsage(executor, target).catch((e: unknown) => e)) as DmctlError;
    expect(error.exitCode).toBe(ExitCode.stepFailed);
    expect(error.message).toBe(
      `docker/thinpool: the metadata snapshot dmctl reserved is still held (metadata root ${root}): \`dmsetup message docker-thinpool 0 release_metadata_snap\` failed: device-mapper: message ioctl on docker-thinpool  failed: Input/output error`,
    );
    expect(error.hint).toContain('release it by hand: dmsetup message docker-thinpool 0 release_metadata_snap');
  });
});
