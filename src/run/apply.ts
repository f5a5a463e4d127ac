/**
 * Applies a plan: with the journal, the lock and output files, the only code that changes the host.
 * Runs steps in order through the injected executor and files and stops at the first failure,
 * running that step's recovery (a failed `dmsetup resume` reloads the old table and resumes, so no
 * pool is left suspended). No planner emits a bare `dmsetup suspend`: the only suspend is the one
 * inside `dmsetup resume`'s own ioctl.
 */
import { firstLine, formatArgv, type ExecResult, type Executor } from '../system/exec.js';
import type { HostFiles } from '../system/files.js';
import type { Plan, Step } from '../plan/types.js';

export interface StepFailure {
  step: Step;
  message: string;
  argv?: readonly string[];
  exitCode?: number;
  stderr?: string;
  /**
   * The step was killed before it answered (its time limit, or a second signal): whether it changed
   * the host is unknown, so no recovery runs and `apply --resume` probes the host again first.
   */
  outcomeUnknown?: boolean;
  /** A child that did not die even from SIGKILL (blocked in the kernel). */
  stuckPid?: number;
}

export interface RunResult {
  status: 'done' | 'failed' | 'interrupted';
  done: Step[];
  failure?: StepFailure;
  remaining: Step[];
  /** The failed step's recovery commands, as run (e.g. the old table reloaded and resumed). */
  recovered: string[];
}

export interface RunHooks {
  stepStart?(step: Step, index: number, total: number): void | Promise<void>;
  stepDone?(step: Step, index: number, total: number): void | Promise<void>;
  stepFailed?(failure: StepFailure, index: number, total: number): void | Promise<void>;
}

/** Several hooks as one (progress on stderr and the journal). */
export function combineHooks(...all: RunHooks[]): RunHooks {
  return {
    async stepStart(...args) {
      for (const h of all) await h.stepStart?.(...args);
    },
    async stepDone(...args) {
      for (const h of all) await h.stepDone?.(...args);
    },
    async stepFailed(...args) {
      for (const h of all) await h.stepFailed?.(...args);
    },
  };
}

export interface RunContext {
  executor: Executor;
  files: HostFiles;
  hooks?: RunHooks;
  /** Polled between steps: true once SIGINT/SIGTERM/SIGHUP arrived. The running step finishes. */
  interrupted?: () => boolean;
  /** Aborts the running step at once (a second signal): its command is killed, its outcome unknown. */
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function applyPlan(plan: Plan, ctx: RunContext): Promise<RunResult> {
  const done: Step[] = [];
  const total = plan.steps.length;
  for (const [index, step] of plan.steps.entries()) {
    if (ctx.interrupted?.()) {
      return { status: 'interrupted', done, remaining: plan.steps.slice(index), recovered: [] };
    }
    await ctx.hooks?.stepStart?.(step, index, total);
    const failure = await runStep(step, ctx);
    if (failure) {
      await ctx.hooks?.stepFailed?.(failure, index, total);
      if (failure.outcomeUnknown) {
        // Recovery undoes a step that failed; one whose outcome is unknown may have worked, or may
        // still hang on the same device: the operator decides, with the host probed again.
        return { status: ctx.signal?.aborted ? 'interrupted' : 'failed', done, failure, remaining: plan.steps.slice(index + 1), recovered: [] };
      }
      const recovered = await runRecovery(ctx.executor, step, ctx.signal);
      return { status: 'failed', done, failure, remaining: plan.steps.slice(index + 1), recovered };
    }
    done.push(step);
    await ctx.hooks?.stepDone?.(step, index, total);
  }
  return { status: 'done', done, remaining: [], recovered: [] };
}

/** A failed step's own recovery commands, run in order; stops at the first that fails. */
async function runRecovery(executor: Executor, step: Step, signal?: AbortSignal): Promise<string[]> {
  const done: string[] = [];
  for (const argv of step.recovery ?? []) {
    const result = await executor.run(argv as [string, ...string[]], { changesHost: true, ...(signal ? { signal } : {}) });
    if (result.exitCode !== 0) {
      done.push(`FAILED: \`${formatArgv(argv)}\` (${firstLine(result.stderr) || `exit status ${result.exitCode}`}): run the rest by hand: ${(step.recovery ?? []).slice((step.recovery ?? []).indexOf(argv)).map((a) => `\`${formatArgv(a)}\``).join(', then ')}`);
      return done;
    }
    done.push(`ran \`${formatArgv(argv)}\``);
  }
  return done;
}

async function runStep(step: Step, ctx: RunContext): Promise<StepFailure | undefined> {
  const action = step.action;
  try {
    switch (action.kind) {
      case 'exec': {
        const result = await ctx.executor.run(action.argv as [string, ...string[]], { changesHost: true, ...(ctx.signal ? { signal: ctx.signal } : {}) });
        if (result.timedOut || result.cancelled) return unanswered(step, action.argv, result);
        if (result.exitCode === 0) return undefined;
        return {
          step,
          message: firstLine(result.stderr) || `exit status ${result.exitCode}`,
          argv: action.argv,
          exitCode: result.exitCode,
          stderr: result.stderr,
        };
      }
      case 'writeFile': {
        if (action.backupTo !== undefined && (await ctx.files.exists(action.path))) {
          await ctx.files.copyFile(action.path, action.backupTo);
        }
        await ctx.files.writeFileAtomic(action.path, action.content, action.mode);
        return undefined;
      }
      case 'move': {
        await ctx.files.rename(action.from, action.to);
        return undefined;
      }
      case 'check':
        return await runCheck(step, action, ctx);
    }
  } catch (error) {
    return { step, message: (error as Error).message };
  }
}

/** A step killed before it answered: its time limit, or a second signal. */
function unanswered(step: Step, argv: readonly string[], result: ExecResult): StepFailure {
  const why = result.timedOut ? `did not finish within ${Math.round((result.limitMs ?? 0) / 1000)} s and was killed` : 'was aborted by a second signal';
  const stuck = result.stuckPid !== undefined ? `; pid ${result.stuckPid} did not die even from SIGKILL (blocked in the kernel: a hung device?)` : '';
  return {
    step,
    message: `${why}: its outcome is unknown${stuck}`,
    argv,
    exitCode: result.exitCode,
    outcomeUnknown: true,
    ...(result.stuckPid !== undefined ? { stuckPid: result.stuckPid } : {}),
  };
}

async function runCheck(step: Step, action: Extract<Step['action'], { kind: 'check' }>, ctx: RunContext): Promise<StepFailure | undefined> {
  const sleep = ctx.sleep ?? defaultSleep;
  const attempts = Math.max(1, Math.ceil(action.waitSeconds));
  let last = '';
  let lastCode = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const result = await ctx.executor.run(action.argv as [string, ...string[]], ctx.signal ? { signal: ctx.signal } : {});
    if (result.timedOut || result.cancelled) return unanswered(step, action.argv, result);
    const out = result.stdout.trim();
    const ok = result.exitCode === 0 && ('equals' in action.expect ? out === action.expect.equals : out.includes(action.expect.includes));
    if (ok) return undefined;
    last = result.exitCode === 0 ? out : firstLine(result.stderr) || `exit status ${result.exitCode}`;
    lastCode = result.exitCode;
    if (attempt < attempts) await sleep(1000);
  }
  const wanted = 'equals' in action.expect ? JSON.stringify(action.expect.equals) : `something containing ${JSON.stringify(action.expect.includes)}`;
  return {
    step,
    message: `expected ${wanted}, got ${JSON.stringify(last)}${action.waitSeconds > 0 ? ` after ${action.waitSeconds}s` : ''}`,
    argv: action.argv,
    exitCode: lastCode,
  };
}
