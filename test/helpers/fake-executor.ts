/**
 * A scripted executor: each expected argv has an answer; any other argv throws, so a test can never
 * fall through to a real command, and an unexpected command fails the test loudly.
 */
import type { Argv, ExecOptions, ExecResult, Executor } from '../../src/system/exec.js';
import { formatArgv } from '../../src/system/exec.js';

/** An answer that never comes: the command hangs (a read of a suspended device). */
export const hang = Symbol('hang');

export interface Scripted {
  argv: readonly string[];
  result: Partial<ExecResult> | typeof hang | ((call: number) => Partial<ExecResult> | typeof hang);
  /** How many times it may be called (default: any). */
  times?: number;
}

export class FakeExecutor implements Executor {
  readonly calls: string[][] = [];
  /** The options of each call, in the order of `calls`. */
  readonly options: ExecOptions[] = [];
  /** A hanging command's pid (reported through onSpawn); `abandon` answers true: it never dies. */
  hangPid = 4711;
  private readonly counts = new Map<string, number>();

  constructor(private readonly script: Scripted[] = []) {}

  on(argv: readonly string[], result: Scripted['result'], times?: number): this {
    this.script.push({ argv, result, ...(times !== undefined ? { times } : {}) });
    return this;
  }

  async run(argv: Argv, options: ExecOptions = {}): Promise<ExecResult> {
    const key = formatArgv(argv);
    this.calls.push([...argv]);
    this.options.push(options);
    const entry = this.script.find((s) => formatArgv(s.argv) === key);
    if (!entry) throw new Error(`FakeExecutor: unexpected command: ${key}`);
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    if (entry.times !== undefined && n > entry.times) throw new Error(`FakeExecutor: ${key} called ${n} times, expected at most ${entry.times}`);
    const r = typeof entry.result === 'function' ? entry.result(n) : entry.result;
    if (r === hang) {
      // Not even a kill ends it (uninterruptible I/O): only the caller's deadline can.
      options.onSpawn?.(this.hangPid, () => true);
      return new Promise<ExecResult>(() => {});
    }
    return { exitCode: r.exitCode ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** The commands run, as shell-quoted strings. */
  get commands(): string[] {
    return this.calls.map((c) => formatArgv(c));
  }
}
