import { constants } from 'node:os';
import { execa } from 'execa';
import { toolEnvironment, type Argv, type ExecOptions, type ExecResult, type Executor } from './exec.js';

/**
 * The real executor. Children run in their own process group (`detached`) so a Ctrl-C on the
 * terminal reaches dmctl only: dmctl then lets the running step finish instead of killing
 * `lvconvert` half-way.
 */
export function createExecaExecutor(extraEnv: Record<string, string> = {}): Executor {
  return {
    async run(argv: Argv, options: ExecOptions = {}): Promise<ExecResult> {
      const [file, ...args] = argv;
      const result = await execa(file, args, {
        reject: false,
        env: { ...toolEnvironment, ...extraEnv },
        input: options.input,
        stdin: options.input === undefined ? 'ignore' : 'pipe',
        detached: true,
        stripFinalNewline: false,
      });
      const notFound = (result as { code?: string }).code === 'ENOENT';
      return {
        exitCode: notFound ? 127 : (result.exitCode ?? (result.signal ? 128 + signalNumber(result.signal) : 1)),
        stdout: String(result.stdout ?? ''),
        stderr: notFound ? `${file}: command not found` : String(result.stderr ?? ''),
      };
    },
  };
}

function signalNumber(signal: string): number {
  return (constants.signals as Record<string, number>)[signal] ?? 1;
}
