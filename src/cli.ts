/**
 * dmctl's command line: commander wiring, global flags, exit codes, and the one top-level catch.
 */
import { createInterface } from 'node:readline/promises';
import { Command, CommanderError, Option } from 'commander';
import { ZodError } from 'zod';
import { DmctlError, ExitCode } from './errors.js';
import type { CliContext, GlobalOptions } from './commands/context.js';
import { initDirectCommand } from './commands/init-direct.js';
import { statusCommand } from './commands/status.js';
import { initLoopCommand } from './commands/init-loop.js';
import { resizeLoopCommand } from './commands/resize-loop.js';
import { extendCommand } from './commands/extend.js';
import { reactivateCommand } from './commands/reactivate.js';
import { describeZodError } from './commands/parse.js';
import { createExecaExecutor } from './system/execa-executor.js';
import { createHostFiles } from './system/files.js';

export const version = '0.1.0';

function defaultContext(): CliContext {
  const stdin = process.stdin;
  return {
    executor: createExecaExecutor(),
    files: createHostFiles(),
    uid: process.getuid?.() ?? 0,
    env: process.env,
    io: {
      stdout: process.stdout,
      stderr: process.stderr,
      ...(stdin.isTTY
        ? {
            prompt: async (question: string) => {
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
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  };
}

/** Runs dmctl with `args` (without `node` and the script) and returns the exit code. */
export async function main(args: readonly string[], injected?: Partial<CliContext>): Promise<number> {
  let context: CliContext | undefined;
  const ctx = (): CliContext => (context ??= { ...defaultContext(), ...injected } as CliContext);
  const io = injected?.io ?? { stdout: process.stdout, stderr: process.stderr };
  let exitCode: number = ExitCode.ok;

  const program = new Command('dmctl')
    .description('Provision and keep alive device-mapper thin pools for container storage (Docker devicemapper, containerd devmapper).')
    .version(version, '-V, --version')
    .option('-n, --dry-run', 'show the plan and change nothing')
    .option('-y, --yes', 'apply without asking, destructive steps included')
    .option('--json', 'machine-readable output on stdout')
    .option('--no-color', 'no colour (also: NO_COLOR=1)')
    .option('-v, --verbose', 'show each command as it runs')
    .addOption(new Option('--detailed-exitcode', 'with --dry-run: exit 2 when the plan has changes, 0 when not'))
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
      const global: GlobalOptions = {
        dryRun: o.dryRun === true,
        yes: o.yes === true,
        json: o.json === true,
        color: o.color !== false,
        verbose: o.verbose === true,
        detailedExitcode: o.detailedExitcode === true,
      };
      exitCode = await action(global, cmd);
    };

  program.addCommand(initLoopCommand(run, ctx));
  program.addCommand(initDirectCommand(run, ctx));
  program.addCommand(extendCommand(run, ctx));
  program.addCommand(resizeLoopCommand(run, ctx));
  program.addCommand(reactivateCommand(run, ctx));
  program.addCommand(statusCommand(run, ctx));
  for (const sub of program.commands) sub.exitOverride().configureOutput(program.configureOutput());

  try {
    await program.parseAsync([...args], { from: 'user' });
    return exitCode;
  } catch (error) {
    return report(error, io.stderr);
  }
}

function report(error: unknown, stderr: { write(text: string): void }): number {
  if (error instanceof CommanderError) {
    // Help and version are "errors" to commander; usage mistakes are refusals (exit 3).
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
    return ExitCode.refused;
  }
  if (error instanceof ZodError) {
    stderr.write(`dmctl: error: ${describeZodError(error)}\n`);
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
