import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { toolEnvironment, type Argv, type ExecOptions, type ExecResult, type Executor } from './exec.js';

/**
 * The real executor, on node:child_process: argv only (never a shell), the tool environment, stdin
 * closed unless input is given, stdout/stderr captured. A missing program is exit status 127, a
 * signal 128+N, as a shell would report them.
 *
 * Children run in their own process group (`detached`), so a Ctrl-C on the terminal reaches dmctl
 * only: dmctl then lets the running step finish instead of killing `lvconvert` half-way.
 *
 * NOTE: this replaced execa, whose import alone cost ~110 ms per run (docs/performance.md): more than
 * the whole overhead budget of `dmctl status`.
 */
export function createSpawnExecutor(extraEnv: Record<string, string> = {}): Executor {
  return {
    run(argv: Argv, options: ExecOptions = {}): Promise<ExecResult> {
      const [file, ...args] = argv;
      return new Promise((resolve) => {
        const child = spawn(file, args, {
          env: { ...process.env, ...toolEnvironment, ...extraEnv },
          stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
          detached: true,
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout!.on('data', (b: Buffer) => out.push(b));
        child.stderr!.on('data', (b: Buffer) => err.push(b));
        let spawnError: NodeJS.ErrnoException | undefined;
        child.on('error', (e: NodeJS.ErrnoException) => {
          spawnError = e;
        });
        if (options.input !== undefined) child.stdin?.end(options.input);
        child.on('close', (code, signal) => {
          const stdout = Buffer.concat(out).toString('utf8');
          const stderr = Buffer.concat(err).toString('utf8');
          if (spawnError) {
            const missing = spawnError.code === 'ENOENT';
            resolve({ exitCode: missing ? 127 : 126, stdout, stderr: missing ? `${file}: command not found` : `${file}: ${spawnError.message}` });
            return;
          }
          resolve({ exitCode: code ?? 128 + ((signal && (constants.signals as Record<string, number>)[signal]) || 1), stdout, stderr });
        });
      });
    },
  };
}
