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
 * Every child runs in a process group of its own (`detached`), so a terminal's Ctrl-C reaches dmctl
 * only: dmctl decides (an apply lets the running step finish; elsewhere it kills the read-only
 * commands and ends). On its time limit (dmctl's own timer, see below) or an abort (`cancelSignal`) a child's
 * whole group is killed — what it forked too: read-only commands with SIGKILL at once (they change
 * nothing), plan steps (`changesHost`) with SIGTERM, then SIGKILL after 5 s (`forceKillAfterDelay`).
 * execa's `cleanup` does not apply to detached children, so dmctl kills the groups of read-only
 * commands still running when it exits itself: no probe outlives dmctl.
 *
 * A child blocked in uninterruptible I/O survives even SIGKILL: `boundedExecutor` (exec.ts) stops
 * waiting after a short grace and calls `abandon`, which closes the child's pipes and unrefs it so
 * node can exit; the result names its pid.
 */
/** Process groups of the read-only commands running now: killed when dmctl exits. */
const readGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

function trackReadGroup(pid: number): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const group of readGroups) killGroup(group, 'SIGKILL');
    });
  }
  readGroups.add(pid);
  return () => readGroups.delete(pid);
}

export function createSpawnExecutor({ env: extraEnv = {}, stepForceKillMs = 5000 }: SpawnOptions = {}): Executor {
  return {
    async run(argv: Argv, options: ExecOptions = {}): Promise<ExecResult> {
      const { execa } = await import('execa');
      const [file, ...args] = argv;
      const step = options.changesHost === true;
      // The time limit is dmctl's own unref'd timer aborting the child, not execa's `timeout`: execa's
      // timer keeps node alive until it fires, even after a child that cannot die was abandoned (a
      // `status --watch` ended by Ctrl-C would wait out the whole limit).
      const limit = new AbortController();
      let pastLimit = false;
      const cancel = options.signal ? AbortSignal.any([options.signal, limit.signal]) : limit.signal;
      const child = execa(file, args, {
        env: { ...toolEnvironment, ...extraEnv },
        extendEnv: true,
        ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
        stripFinalNewline: false,
        reject: false,
        encoding: 'utf8',
        detached: true,
        cleanup: true,
        killSignal: step ? 'SIGTERM' : 'SIGKILL',
        forceKillAfterDelay: step ? stepForceKillMs : false,
        cancelSignal: cancel,
      });
      const pid = child.pid;
      if (pid !== undefined) {
        // execa signals the child; the rest of its group (what it forked) gets the same.
        const onKill = () => {
          killGroup(pid, step ? 'SIGTERM' : 'SIGKILL');
          if (step) setTimeout(() => killGroup(pid, 'SIGKILL'), stepForceKillMs).unref();
        };
        cancel.addEventListener('abort', onKill, { once: true });
        const timer =
          options.timeoutMs !== undefined
            ? setTimeout(() => {
                pastLimit = true;
                limit.abort();
              }, options.timeoutMs)
            : undefined;
        timer?.unref();
        const untrack = step ? () => true : trackReadGroup(pid);
        let exited = false;
        child.once('exit', () => {
          exited = true;
        });
        void child.finally(() => {
          if (timer) clearTimeout(timer);
          cancel.removeEventListener('abort', onKill);
          untrack();
        });
        options.onSpawn?.(pid, () => {
          killGroup(pid, 'SIGKILL');
          child.stdout?.destroy();
          child.stderr?.destroy();
          child.stdin?.destroy();
          child.unref();
          return !exited;
        });
      }
      const r = await child;
      const stdout = typeof r.stdout === 'string' ? r.stdout : '';
      const stderr = typeof r.stderr === 'string' ? r.stderr : '';
      if (pastLimit || r.timedOut) return { exitCode: 124, stdout, stderr, timedOut: true };
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
