/**
 * A scripted executor: each expected argv has an answer; any other argv throws, so a test can never
 * fall through to a real command, and an unexpected command fails the test loudly.
 */
import type { Argv, ExecResult, Executor } from '../../src/system/exec.js';
import { formatArgv } from '../../src/system/exec.js';

export interface Scripted {
  argv: readonly string[];
  result: Partial<ExecResult> | ((call: number) => Partial<ExecResult>);
  /** How many times it may be called (default: any). */
  times?: number;
}

export class FakeExecutor implements Executor {
  readonly calls: string[][] = [];
  private readonly counts = new Map<string, number>();

  constructor(private readonly script: Scripted[] = []) {}

  on(argv: readonly string[], result: Scripted['result'], times?: number): this {
    this.script.push({ argv, result, ...(times !== undefined ? { times } : {}) });
    return this;
  }

  async run(argv: Argv): Promise<ExecResult> {
    const key = formatArgv(argv);
    this.calls.push([...argv]);
    const entry = this.script.find((s) => formatArgv(s.argv) === key);
    if (!entry) throw new Error(`FakeExecutor: unexpected command: ${key}`);
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    if (entry.times !== undefined && n > entry.times) throw new Error(`FakeExecutor: ${key} called ${n} times, expected at most ${entry.times}`);
    const r = typeof entry.result === 'function' ? entry.result(n) : entry.result;
    return { exitCode: r.exitCode ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** The commands run, as shell-quoted strings. */
  get commands(): string[] {
    return this.calls.map((c) => formatArgv(c));
  }
}
