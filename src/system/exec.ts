import { ProbeError } from '../errors.js';

/** A command as an argv array: no shell, ever. */
export type Argv = readonly [file: string, ...args: string[]];

export interface ExecResult {
  /** Exit status; 127 when the program was not found, 128+N when killed by signal N. */
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Text written to the child's stdin. */
  input?: string;
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
