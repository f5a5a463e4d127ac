/**
 * dmctl's command line: commander wiring, global flags, exit codes, and the one top-level catch.
 */
import { Command, CommanderError, Option } from 'commander';
import { DmctlError, ExitCode, RefusedError } from './errors.js';
import type { CliContext, GlobalOptions } from './commands/context.js';
import { commands } from './commands/definitions.js';
import { createHostFiles } from './system/files.js';
import { createSpawnExecutor } from './system/spawn-executor.js';
import { boundedExecutor, defaultDeadlines, type Deadlines } from './system/exec.js';
import { probeStatus } from './probe/status.js';

export const version = '0.1.0';

/** For the build's code-cache warm-up (scripts/bundle.mjs): the real executor, so execa's path gets compiled into the cache. */
export { createSpawnExecutor };

function defaultContext(): CliContext {
  const stdin = process.stdin;
  return {
    executor: createSpawnExecutor(),
    files: createHostFiles(),
    uid: process.getuid?.() ?? 0,
    env: process.env,
    io: {
      stdout: process.stdout,
      stderr: process.stderr,
      ...(stdin.isTTY
        ? {
            prompt: async (question: string) => {
              const { createInterface } = await import('node:readline/promises');
              const rl = createInterface({ input: stdin, output: process.stderr });
              try {
                return await rl.question(question);
              } finally {
                rl.close();
              }
            },
          }
        : {}),
    },
    onInterrupt: (handler) => {
      const listeners = interruptSignals.map((signal) => [signal, () => handler(signal)] as const);
      for (const [signal, listener] of listeners) process.on(signal, listener);
      return () => {
        for (const [signal, listener] of listeners) process.off(signal, listener);
      };
    },
    exit: (code) => process.exit(code),
  };
}

/** Handled alike: Ctrl-C, a service manager's stop, an SSH session that dropped. */
const interruptSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** After a signal outside an apply, how long dmctl may take to end on its own before it exits anyway. */
const exitGraceMs = 1500;

/** The default `status --check` limit (the monitoring-plugins convention), and any other read's. */
export const checkTimeoutSeconds = 10;

/**
 * `--timeout SECS` (and `-t SECS` for status), read before commander parses anything: the probes of
 * `status` start before then. undefined: not given; NaN: given but not a whole number of seconds.
 */
export function timeoutOf(args: readonly string[]): number | undefined {
  const isStatus = subcommandOf(args) === 'status';
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') break;
    if (arg === '--timeout' || (isStatus && arg === '-t')) value = args[++i] ?? '';
    else if (arg.startsWith('--timeout=')) value = arg.slice('--timeout='.length);
    else if (isStatus && /^-t\d/.test(arg)) value = arg.slice(2);
  }
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  return n >= 1 && n <= 86_400 ? n : NaN;
}

function stepTimeoutOf(env: NodeJS.ProcessEnv): number | undefined {
  const v = env.DMCTL_STEP_TIMEOUT;
  return v !== undefined && /^\d+$/.test(v) && Number(v) >= 1 ? Number(v) * 1000 : undefined;
}

/** Runs dmctl with `args` (without `node` and the script) and returns the exit code. */
export async function main(args: readonly string[], injected?: Partial<CliContext>): Promise<number> {
  const io = injected?.io ?? { stdout: process.stdout, stderr: process.stderr };
  let exitCode: number = ExitCode.ok;
  const timeout = timeoutOf(args);
  const isCheck = subcommandOf(args) === 'status' && args.includes('--check');

  // The run's context, made when a command first needs it (never for --version or --help): every
  // command it runs is bounded in time, and a signal is handled from then on.
  let context: CliContext | undefined;
  const cancelReads = new AbortController();
  const handlers: Array<(signal?: string) => void> = [];
  let removeSignals: (() => void) | undefined;
  const ctx = (): CliContext => {
    if (context) return context;
    const base = { ...defaultContext(), ...injected } as CliContext;
    const readSeconds = Number.isNaN(timeout) || timeout === undefined ? (isCheck ? checkTimeoutSeconds : defaultDeadlines.readMs / 1000) : timeout;
    const deadlines: Deadlines = {
      ...defaultDeadlines,
      readMs: readSeconds * 1000,
      stepMs: stepTimeoutOf(base.env) ?? defaultDeadlines.stepMs,
      ...(isCheck ? { readDeadlineAt: Date.now() + readSeconds * 1000 } : {}),
      ...base.deadlines,
    };
    const onSignal = (signal?: string) => {
      const handler = handlers.at(-1);
      if (handler) return handler(signal);
      // Outside an apply (or watch): end promptly, killing the read-only commands still running.
      cancelReads.abort();
      // (Only for real signals: a test that injects its signals must not end the test process.)
      const exit = injected?.onInterrupt ? injected.exit : base.exit;
      if (exit) {
        const t = setTimeout(() => exit(ExitCode.interrupted), exitGraceMs);
        (t as { unref?: () => void }).unref?.();
      }
    };
    removeSignals = base.onInterrupt?.(onSignal);
    context = {
      ...base,
      executor: boundedExecutor(base.executor, deadlines, cancelReads.signal),
      deadlines,
      cancel: () => cancelReads.abort(),
      onInterrupt: (handler) => {
        handlers.push(handler);
        return () => {
          const at = handlers.lastIndexOf(handler);
          if (at >= 0) handlers.splice(at, 1);
        };
      },
    };
    return context;
  };

  // `status` is what monitors run every few seconds: start its (read-only) probes now, so lvs runs
  // while node builds the command line and loads the status command (docs/performance.md). A
  // failure surfaces where the status command awaits it.
  if (subcommandOf(args) === 'status' && !args.some((a) => a === '--help' || a === '-h')) {
    const c = ctx();
    c.statusProbe = probeStatus(c);
    c.statusProbe.catch(() => undefined);
  }

  const program = new Command('dmctl')
    .description('Provision and keep alive device-mapper thin pools for container storage (Docker devicemapper, containerd devmapper).')
    .version(version, '-V, --version')
    .option('-n, --dry-run', 'show the plan and change nothing')
    .option('-y, --yes', 'apply without asking, destructive steps included')
    .option('--json', 'machine-readable output on stdout')
    .option('--no-color', 'no colour (also: NO_COLOR=1)')
    .option('-v, --verbose', 'show each command as it runs')
    .addOption(new Option('--detailed-exitcode', 'with --dry-run or --out: exit 2 when the plan has changes, 0 when not'))
    .addOption(new Option('--format <format>', 'how plans are shown: text, json, or shell (a bash runbook; implies --dry-run)').choices(['text', 'json', 'shell']))
    .option('--out <file>', 'save the plan to FILE for `dmctl apply FILE` instead of applying it')
    .option('--wait', 'wait for another dmctl that is changing the host, instead of refusing')
    .option('--timeout <seconds>', `give each read-only command SECONDS to answer (default 30; status --check: ${checkTimeoutSeconds}, for the whole check)`)
    .showHelpAfterError('(run dmctl --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`dmctl: error: ${s.replace(/^error: /, '')}`),
    });

  const run =
    (action: (global: GlobalOptions, cmd: Command) => Promise<number>) =>
    async (...actionArgs: unknown[]): Promise<void> => {
      const cmd = actionArgs[actionArgs.length - 1] as Command;
      const o = cmd.optsWithGlobals();
      const format = (o.format ?? (o.json === true ? 'json' : 'text')) as GlobalOptions['format'];
      if (Number.isNaN(timeout)) throw new RefusedError('--timeout: must be a whole number of seconds from 1 to 86400');
      const global: GlobalOptions = {
        dryRun: o.dryRun === true,
        yes: o.yes === true,
        json: format === 'json',
        format,
        out: typeof o.out === 'string' ? o.out : undefined,
        wait: o.wait === true,
        color: o.color !== false,
        verbose: o.verbose === true,
        detailedExitcode: o.detailedExitcode === true,
        timeout,
      };
      exitCode = await action(global, cmd);
    };

  for (const command of commands(run, ctx)) program.addCommand(command, { hidden: command.name().startsWith('__') });
  for (const sub of program.commands) sub.exitOverride().configureOutput(program.configureOutput());

  try {
    await program.parseAsync([...args], { from: 'user' });
    return exitCode;
  } catch (error) {
    return report(error, io.stderr);
  } finally {
    removeSignals?.();
  }
}

/** Global options that take a value: the word after them is not the subcommand. */
const globalsWithValue = new Set(['--format', '--out', '--timeout']);

/** The subcommand `args` name, read before commander parses them; undefined when there is none. */
export function subcommandOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args[i + 1];
    if (globalsWithValue.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

interface Issue {
  path: PropertyKey[];
  message: string;
}

/** `--thin-percent: must be between 1 and 99`: the option in its command-line spelling, then the problem. */
function describeIssue(issue: Issue | undefined): string {
  if (!issue) return 'invalid input';
  const where = issue.path.length > 0 ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ` : '';
  return `${where}${issue.message}`;
}

function report(error: unknown, stderr: { write(text: string): void }): number {
  if (error instanceof CommanderError) {
    // Help and version are "errors" to commander; usage mistakes are refusals (exit 3).
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
    return ExitCode.refused;
  }
  if (error instanceof Error && error.name === '$ZodError' && 'issues' in error) {
    // Bad input: zod (zod/mini, whose errors are `$ZodError`) is loaded only by the command that ran,
    // so it is recognised by shape here.
    stderr.write(`dmctl: error: ${describeIssue((error as { issues: Issue[] }).issues[0])}\n`);
    return ExitCode.refused;
  }
  if (error instanceof DmctlError) {
    const [first, ...rest] = error.message.split('\n');
    stderr.write(`dmctl: error: ${first}\n`);
    for (const line of rest) stderr.write(`dmctl: error: ${line}\n`);
    if (error.hint) stderr.write(`dmctl: hint: ${error.hint}\n`);
    return error.exitCode;
  }
  stderr.write(`dmctl: internal error: ${(error as Error)?.stack ?? String(error)}\nThis is a bug in dmctl; please report it with the command you ran.\n`);
  return ExitCode.stepFailed;
}
