import { constants } from 'node:os';
import { toolEnvironment, type Argv, type ExecOptions, type ExecResult, type Executor } from './exec.js';

export interface SpawnOptions {
  /** Added to the tool environment. */
  env?: Record<string, string>;
  /** How long a plan step gets after SIGTERM (time limit or abort) before SIGKILL; default 5 s. */
  stepForceKillMs?: number;
}

/**
 * The real executor, on execa 9: argv only (never a shell), the tool environment, stdin closed
 * unless input is given, stdout/stderr captured. A missing program is exit status 127, a signal 128+N,
 * as a shell would report them. execa is loaded on the first command, so `--version` and `--help`
 * never load it (it stays a lazy module in the bundle).
 *
 * Read-only commands (probes, checks) run in dmctl's own process group with execa's `cleanup`: a
 * terminal's Ctrl-C, a monitoring agent's kill of the plugin's group, and dmctl's own exit all reach
 * them, so no probe outlives dmctl. On their time limit or an abort they get SIGKILL at once (they
 * change nothing). Plan steps (`changesHost`) run in a process group of their own (`detached`), so a
 * Ctrl-C reaches dmctl only, which lets the step finish; on a time limit or an abort the whole group
 * gets SIGTERM, then SIGKILL after 5 s.
 *
 * A child blocked in uninterruptible I/O survives even SIGKILL: `boundedExecutor` (exec.ts) stops
 * waiting after a short grace and calls `abandon`, which closes the child's pipes and unrefs it so
 * node can exit; the result names its pid.
 */
export function createSpawnExecutor({ env: extraEnv = {}, stepForceKillMs = 5000 }: SpawnOptions = {}): Executor {
  return {
    async run(argv: Argv, options: ExecOptions = {}): Promise<ExecResult> {
      const { execa } = await import('execa');
      const [file, ...args] = argv;
      const step = options.changesHost === true;
      const child = execa(file, args, {
        env: { ...toolEnvironment, ...extraEnv },
        extendEnv: true,
        ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
        stripFinalNewline: false,
        reject: false,
        encoding: 'utf8',
        detached: step,
        cleanup: !step,
        killSignal: step ? 'SIGTERM' : 'SIGKILL',
        forceKillAfterDelay: step ? stepForceKillMs : false,
        ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
        ...(options.signal ? { cancelSignal: options.signal } : {}),
      });
      const pid = child.pid;
      if (pid !== undefined) {
        const group = (signal: NodeJS.Signals) => {
          try {
            process.kill(-pid, signal);
          } catch {
            // the group is gone already
          }
        };
        if (step) {
          // execa signals the child; the rest of its group (what it forked) gets the same.
          const onKill = () => {
            group('SIGTERM');
            setTimeout(() => group('SIGKILL'), stepForceKillMs).unref();
          };
          options.signal?.addEventListener('abort', onKill, { once: true });
          if (options.timeoutMs !== undefined) {
            const t = setTimeout(onKill, options.timeoutMs);
            t.unref();
            void child.finally(() => clearTimeout(t)).catch(() => undefined);
          }
        }
        options.onSpawn?.(pid, () => {
          if (step) group('SIGKILL');
          child.stdout?.destroy();
          child.stderr?.destroy();
          child.stdin?.destroy();
          child.unref();
        });
      }
      const r = await child;
      const stdout = typeof r.stdout === 'string' ? r.stdout : '';
      const stderr = typeof r.stderr === 'string' ? r.stderr : '';
      if (r.timedOut) return { exitCode: 124, stdout, stderr, timedOut: true };
      if (r.isCanceled) return { exitCode: 130, stdout, stderr, cancelled: true };
      const code = (r.cause as NodeJS.ErrnoException | undefined)?.code;
      if (r.exitCode === undefined && r.signal === undefined && code !== undefined) {
        const missing = code === 'ENOENT';
        return { exitCode: missing ? 127 : 126, stdout, stderr: missing ? `${file}: command not found` : `${file}: ${(r.cause as Error).message}` };
      }
      if (r.signal) return { exitCode: 128 + ((constants.signals as Record<string, number>)[r.signal] ?? 1), stdout, stderr };
      return { exitCode: r.exitCode ?? 1, stdout, stderr };
    },
  };
}
