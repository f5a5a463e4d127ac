import { InterruptedError, ProbeError, TimedOutError } from '../errors.js';

/** A command as an argv array: no shell, ever. */
export type Argv = readonly [file: string, ...args: string[]];

export interface ExecResult {
  /** Exit status; 127 when the program was not found, 128+N when killed by signal N. */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** It ran past its time limit and was killed (or given up on: see `stuckPid`). */
  timedOut?: boolean;
  /** It was killed because its `signal` aborted (dmctl interrupted). */
  cancelled?: boolean;
  /** A child that did not die even from SIGKILL (blocked in uninterruptible I/O): dmctl went on without it. */
  stuckPid?: number;
  /** With `timedOut`: the limit it ran past, in milliseconds. */
  limitMs?: number;
}

export interface ExecOptions {
  /** Text written to the child's stdin. */
  input?: string;
  /** Longest the command may run, in milliseconds; then it is killed and the result says `timedOut`. */
  timeoutMs?: number;
  /** Aborting it kills the command. */
  signal?: AbortSignal;
  /**
   * A plan step that changes the host: it runs in a process group of its own (a terminal's Ctrl-C
   * reaches dmctl only, which lets it finish), is asked to stop with SIGTERM before SIGKILL, and the
   * whole group is killed. Read-only commands stay in dmctl's group and are SIGKILLed at once.
   */
  changesHost?: boolean;
  /**
   * Called once the child runs: its pid, and `abandon`, which lets dmctl exit without waiting for a
   * child that cannot die (its pipes closed, its handle no longer keeping node alive); `abandon`
   * answers whether the child itself was still running (not only something it forked).
   */
  onSpawn?: (pid: number, abandon: () => boolean) => void;
}

/** Runs commands. The only implementation that spawns processes is `createSpawnExecutor` (spawn-executor.ts). */
export interface Executor {
  run(argv: Argv, options?: ExecOptions): Promise<ExecResult>;
}

/** A read-only question to a tool: the argv to run and a parser that validates its stdout. */
export interface Query<T> {
  argv: Argv;
  parse(stdout: string): T;
  /** Exit codes that still mean "answered" (default: only 0). */
  okExitCodes?: readonly number[];
}

/**
 * Environment every tool runs with. `LVM_SUPPRESS_FD_WARNINGS` silences lvm's
 * "File descriptor N leaked" noise; success is judged by exit status, never stderr.
 * `LC_ALL=C` keeps tool output in the format the parsers were recorded with.
 */
export const toolEnvironment: Readonly<Record<string, string>> = {
  LVM_SUPPRESS_FD_WARNINGS: '1',
  LC_ALL: 'C',
};

/** Time limits (milliseconds) and the grace dmctl gives a killed child before it goes on without it. */
export interface Deadlines {
  /** Each read-only command (probes, checks). */
  readMs: number;
  /** Each command of a plan step (`changesHost`). */
  stepMs: number;
  /** After a kill (timeout or abort), how long to wait for the child to exit before giving up on it. */
  graceMs: number;
  /** When set (epoch ms), no read-only command runs past it: `status --check`'s whole answer is bounded. */
  readDeadlineAt?: number;
}

/** Defaults: read-only 30 s, steps 30 min (LVM on a big disk can take minutes), 1 s grace. */
export const defaultDeadlines: Deadlines = { readMs: 30_000, stepMs: 30 * 60_000, graceMs: 1000 };

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/**
 * Bounds every command an executor runs, whatever the executor: each gets its time limit and the
 * run's abort signal (the real executor kills the child on either), and dmctl never waits more than
 * the limit plus `graceMs` for an answer: a child that does not die (uninterruptible I/O survives
 * SIGKILL) is abandoned and its pid reported (`stuckPid`). So a fake executor that never answers
 * times out in tests exactly as a hung `lvs` does on a host.
 */
export function boundedExecutor(inner: Executor, deadlines: Deadlines, runSignal?: AbortSignal, timers: Timers = realTimers): Executor {
  return {
    run(argv, options = {}) {
      const limit = options.timeoutMs ?? (options.changesHost ? deadlines.stepMs : deadlines.readMs);
      const timeoutMs = !options.changesHost && deadlines.readDeadlineAt !== undefined ? Math.max(1, Math.min(limit, deadlines.readDeadlineAt - timers.now())) : limit;
      const signals = [options.signal, runSignal].filter((s): s is AbortSignal => s !== undefined);
      if (signals.some((s) => s.aborted)) return Promise.resolve({ exitCode: 130, stdout: '', stderr: '', cancelled: true });
      return new Promise<ExecResult>((resolve, reject) => {
        let pid: number | undefined;
        let abandon: (() => boolean) | undefined;
        let settled = false;
        const timerHandles: unknown[] = [];
        const settle = () => {
          if (settled) return false;
          settled = true;
          for (const h of timerHandles) timers.clearTimeout(h);
          for (const s of signals) s.removeEventListener('abort', onAbort);
          return true;
        };
        const finish = (result: ExecResult) => {
          if (settle()) resolve(result.timedOut ? { ...result, limitMs: result.limitMs ?? limit } : result);
        };
        const giveUp = (how: { timedOut: true } | { cancelled: true }) => {
          const stuck = abandon?.() ?? true;
          finish({ exitCode: 'timedOut' in how ? 124 : 130, stdout: '', stderr: '', ...how, ...(pid !== undefined && stuck ? { stuckPid: pid } : {}) });
        };
        const onAbort = () => timerHandles.push(timers.setTimeout(() => giveUp({ cancelled: true }), deadlines.graceMs));
        for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
        timerHandles.push(timers.setTimeout(() => giveUp({ timedOut: true }), timeoutMs + deadlines.graceMs));
        inner
          .run(argv, {
            ...options,
            timeoutMs,
            ...(signals.length > 0 ? { signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) } : {}),
            onSpawn: (p, a) => {
              pid = p;
              abandon = a;
              options.onSpawn?.(p, a);
            },
          })
          .then(finish, (error: unknown) => {
            // An executor that throws (a test's fake on an unexpected command) still fails the caller.
            if (settle()) reject(error as Error);
          });
      });
    },
  };
}

/** `lvs`, `dmsetup status`: how a command is named in a one-line message. */
export function commandName(argv: readonly string[]): string {
  const [file, sub] = argv;
  const base = (file ?? '').split('/').pop() ?? '';
  return sub !== undefined && /^[a-z][a-z-]*$/.test(sub) ? `${base} ${sub}` : base;
}

/** What a timed-out or interrupted read means for the operator: a refusal naming the command, or exit 130. */
export function throwIfUnanswered(argv: readonly string[], result: ExecResult): void {
  if (result.cancelled) throw new InterruptedError(`interrupted while \`${commandName(argv)}\` ran`);
  if (result.timedOut) throw new TimedOutError(commandName(argv), Math.max(1, Math.round((result.limitMs ?? 0) / 1000)), result.stuckPid);
}

/** Runs a query and parses its answer; any failure is a refusal (fail closed). */
export async function runQuery<T>(executor: Executor, query: Query<T>): Promise<T> {
  return answerOf(query, await executor.run(query.argv));
}

/**
 * Like runQuery, but a tool that is not installed (exit status 127) answers undefined: for probes
 * that show what there is (status without LVM), where asking costs less than looking first.
 */
export async function runQueryIfInstalled<T>(executor: Executor, query: Query<T>): Promise<T | undefined> {
  const result = await executor.run(query.argv);
  return result.exitCode === 127 ? undefined : answerOf(query, result);
}

function answerOf<T>(query: Query<T>, result: ExecResult): T {
  throwIfUnanswered(query.argv, result);
  const ok = query.okExitCodes ?? [0];
  const shown = formatArgv(query.argv);
  if (result.exitCode === 127) {
    throw new ProbeError(`cannot probe the host: \`${query.argv[0]}\` is not installed`, `install it and run again`);
  }
  if (!ok.includes(result.exitCode)) {
    // LVM's "WARNING: Running as a non-root user…" comes first; the reason is the line after it.
    const why = firstLine(result.stderr.replace(/^\s*WARNING: .*$/gm, '')) || firstLine(result.stderr) || `exit status ${result.exitCode}`;
    const hint = /Permission denied|non-root user/.test(result.stderr)
      ? 'LVM and device-mapper need root: run dmctl as root (a monitoring agent through sudo, see docs/status.md)'
      : /\/dev\/mapper\/control|kernel device-mapper driver/.test(result.stderr)
        ? 'this kernel has no device-mapper loaded: `modprobe dm_thin_pool` (as root), then run again'
        : undefined;
    throw new ProbeError(`cannot probe the host: \`${shown}\` failed: ${why}`, hint, result.stderr);
  }
  try {
    return query.parse(result.stdout);
  } catch (error) {
    // (zod's error is recognised by shape: importing zod here would load it for `--version` too.)
    const issues = (error as { issues?: Array<{ path: PropertyKey[]; message: string }> }).issues;
    const why = Array.isArray(issues) ? issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ') : String(error);
    throw new ProbeError(`cannot probe the host: unexpected output from \`${shown}\` (${why})`, undefined, result.stdout);
  }
}

export function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
}

const safeWord = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for a POSIX shell (for display and runbooks; never executed through a shell). */
export function shellQuote(arg: string): string {
  if (arg.length > 0 && safeWord.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
