/**
 * Reads a live pool's per-device usage: reserve a metadata snapshot, thin_ls it, release it. The
 * reserve is a (small, temporary) change to the pool — while held, the kernel keeps the snapshot's
 * metadata blocks — so it lives here in run/, the only layer that changes the host, and the release
 * always runs: after thin_ls fails, and on SIGINT/SIGTERM (the handler only marks the interrupt; the
 * release runs before dmctl exits 130). Afterwards the pool's held-root field must read `-` again, or
 * this fails naming the command that releases it.
 */
import { DmctlError, ExitCode, ProbeError, RefusedError } from '../errors.js';
import { heldMetadataRootQuery } from '../system/dmsetup.js';
import { firstLine, formatArgv, runQuery, type Executor } from '../system/exec.js';
import { releaseMetadataSnapArgv, reserveMetadataSnapArgv, thinLsQuery, type ThinDeviceUsage } from '../system/thin-ls.js';

export interface UsageTarget {
  /** The pool as the operator knows it (`docker/thinpool`), for messages. */
  pool: string;
  /** The dm device with the thin-pool target: the one that takes the messages. */
  kernelName: string;
  /** The pool's metadata device (`/dev/mapper/docker-thinpool_tmeta`). */
  metadataDevice: string;
}

export interface UsageOptions {
  /** Installs SIGINT/SIGTERM handlers; returns their removal (CliContext.onInterrupt). */
  onInterrupt?: (handler: () => void) => () => void;
}

const releaseHint = (t: UsageTarget) => `if nothing else reads it, release it: ${formatArgv(releaseMetadataSnapArgv(t.kernelName))}`;

/** thin_ls of one pool under a metadata snapshot that is always released again. */
export async function readThinUsage(executor: Executor, target: UsageTarget, options: UsageOptions = {}): Promise<ThinDeviceUsage[]> {
  const held = await runQuery(executor, heldMetadataRootQuery(target.kernelName));
  if (held !== undefined) {
    throw new RefusedError(
      `${target.pool}: a metadata snapshot is already held (metadata root ${held}): another reader (thin_ls, a backup tool, a dmctl that was killed) has it, and the kernel keeps only one`,
      releaseHint(target),
    );
  }
  let interrupted = false;
  const remove = options.onInterrupt?.(() => {
    interrupted = true;
  });
  try {
    const reserve = await executor.run(reserveMetadataSnapArgv(target.kernelName));
    if (reserve.exitCode !== 0) {
      // Nothing is held on our behalf: a busy answer means another reader reserved it just now.
      const why = firstLine(reserve.stderr) || `exit status ${reserve.exitCode}`;
      throw /busy/i.test(reserve.stderr)
        ? new RefusedError(`${target.pool}: another reader reserved the pool's metadata snapshot just now (${why})`, 'run again when it is done')
        : new ProbeError(`cannot read ${target.pool}'s devices: \`${formatArgv(reserveMetadataSnapArgv(target.kernelName))}\` failed: ${why}`);
    }
    let failure: unknown;
    let usage: ThinDeviceUsage[] = [];
    try {
      if (!interrupted) usage = await runQuery(executor, thinLsQuery(target.metadataDevice));
    } catch (error) {
      failure = error;
    }
    await release(executor, target, failure);
    if (interrupted) throw new DmctlError(`interrupted: ${target.pool}'s metadata snapshot was released`, ExitCode.interrupted);
    if (failure !== undefined) throw failure;
    return usage;
  } finally {
    remove?.();
  }
}

/** Releases the snapshot and checks the held-root field is `-` again; a failure names the fix. */
async function release(executor: Executor, target: UsageTarget, earlier: unknown): Promise<void> {
  const argv = releaseMetadataSnapArgv(target.kernelName);
  const result = await executor.run(argv);
  const why = result.exitCode === 0 ? '' : firstLine(result.stderr) || `exit status ${result.exitCode}`;
  let held: number | undefined;
  let unknown = '';
  try {
    held = await runQuery(executor, heldMetadataRootQuery(target.kernelName));
    // The pool's own word counts: nothing held is released, whatever the message answered.
    if (held === undefined) return;
  } catch (error) {
    unknown = (error as Error).message.split('\n')[0]!;
  }
  const after = earlier instanceof Error ? ` (after: ${earlier.message.split('\n')[0]})` : '';
  throw new DmctlError(
    `${target.pool}: the metadata snapshot dmctl reserved ${unknown ? `may still be held (${unknown})` : `is still held (metadata root ${held})`}: \`${formatArgv(argv)}\` ${why ? `failed: ${why}` : 'exited 0'}${after}`,
    ExitCode.stepFailed,
    `release it by hand: ${formatArgv(argv)}, then check that \`dmsetup status ${target.kernelName}\` shows - after the data blocks`,
  );
}
