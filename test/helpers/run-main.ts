import { main } from '../../src/cli.js';
import type { CliContext } from '../../src/commands/context.js';
import type { Deadlines, Executor } from '../../src/system/exec.js';
import type { HostFiles } from '../../src/system/files.js';

/**
 * Runs dmctl's `main` in-process with `ctx` injected, capturing what it writes to stdout and stderr;
 * `prompt` answers its confirmation questions.
 */
export async function runMain(
  args: string[],
  ctx: Partial<CliContext>,
  prompt?: CliContext['io']['prompt'],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => void (stdout += s) }, stderr: { write: (s: string) => void (stderr += s) }, ...(prompt ? { prompt } : {}) };
  const code = await main(args, { ...ctx, io });
  return { code, stdout, stderr };
}

/** A fake host for runOnFakeHost: its executor and files, and the hooks a test may want. */
export interface FakeHost {
  executor: Executor;
  files: HostFiles;
  deadlines?: Partial<Deadlines>;
  /** Receives dmctl's signal handler (what SIGINT/SIGTERM/SIGHUP would call). */
  signals?: (fire: (signal?: string) => void) => void;
  exit?: (code: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** runMain as root (pid 4242) on a fake host, at a fixed time, with no real signals or sleeps. */
export function runOnFakeHost(args: string[], host: FakeHost): Promise<{ code: number; stdout: string; stderr: string }> {
  return runMain(args, {
    executor: host.executor,
    files: host.files,
    uid: 0,
    pid: 4242,
    env: {},
    now: () => new Date('2026-11-27T12:00:00.000Z'),
    sleep: host.sleep ?? (async () => {}),
    ...(host.deadlines ? { deadlines: host.deadlines } : {}),
    ...(host.exit ? { exit: host.exit } : {}),
    onInterrupt: (handler) => {
      host.signals?.(handler);
      return () => {};
    },
  });
}
