/**
 * The one path every mutating subcommand takes after planning: render → (stop if --dry-run, save if
 * --out) → confirm → lock → apply with a journal → report. There is no other place where "dry run"
 * is decided. `dmctl apply FILE` and `dmctl apply --resume` join this path at "confirm".
 */
import { ExitCode, RefusedError, type DmctlError } from '../errors.js';
import { formatArgv } from '../system/exec.js';
import { changedParts, firstDifferentStep, formatPlanFile, makePlanFile, readPlanFile, type PlanRequest } from '../plan/file.js';
import type { Plan } from '../plan/types.js';
import { renderPlanJson, renderPlanText } from '../render/plan.js';
import { renderPlanShell } from '../render/shell.js';
import { createProgress } from '../render/progress.js';
import { colorWanted, makeStyle } from '../render/style.js';
import { applyPlan, combineHooks, type RunResult } from '../run/apply.js';
import { latestUnfinished, markResumed, startJournal } from '../run/journal.js';
import { acquireLock } from '../run/lock.js';
import { writeOutputFile } from '../run/output.js';
import { nowOf, sleepOf, type CliContext, type GlobalOptions } from './context.js';
import { probeAndPlan, waitForDevices } from './registry.js';

function render(plan: Plan, format: GlobalOptions['format'], color: boolean): string {
  if (format === 'json') return renderPlanJson(plan);
  if (format === 'shell') return renderPlanShell(plan);
  return renderPlanText(plan, makeStyle(color));
}

/** Whether this run may change the host (and so must hold the host lock while it probes and applies). */
const applies = (global: GlobalOptions) => !global.dryRun && global.format !== 'shell' && global.out === undefined;

/**
 * Holds the host lock around `fn` when the run applies. The lock is taken before probing, so the plan
 * is made from the host as it is once no other dmctl can change it. Root is checked first;
 * `beforeLock` (read-only: reactivate's wait for late disks) runs between the two.
 */
async function locked<T>(ctx: CliContext, global: GlobalOptions, command: string, fn: () => Promise<T>, beforeLock?: () => Promise<void>): Promise<T> {
  if (!applies(global)) return fn();
  requireRootToApply(ctx, global, command);
  await beforeLock?.();
  const release = await acquireLock(ctx.files, { pid: ctx.pid ?? process.pid, command: `dmctl ${command}`, since: nowOf(ctx).toISOString() }, {
    wait: global.wait,
    sleep: sleepOf(ctx),
    onWait: (h) => ctx.io.stderr.write(`waiting for another dmctl (pid ${h.pid}, ${h.command}, since ${h.since})…\n`),
  });
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** Root first: before the lock, a probe, a read of a plan file or a write, so a non-root run changes nothing. */
function requireRootToApply(ctx: CliContext, global: GlobalOptions, command: string): void {
  if (applies(global) && ctx.uid !== 0) {
    throw new RefusedError(`dmctl ${command} changes the host and needs root: run it with sudo (or add --dry-run to only see the plan)`);
  }
}

/** Plans a request, then saves, shows or applies the plan. */
export async function execute(request: PlanRequest, ctx: CliContext, global: GlobalOptions): Promise<number> {
  // reactivate --wait-devices waits for late disks between the root check and the lock.
  let waited = false;
  return locked(
    ctx,
    global,
    request.command,
    async () => {
      const { state, plan, incomplete } = await probeAndPlan(request, ctx, { waited });
      return unlessIncomplete(await saveOrApply(request, state, plan, ctx, global), incomplete);
    },
    async () => {
      waited = await waitForDevices(request, ctx);
    },
  );
}

/** A plan that did what it could still ends in the error for what it could not (reactivate: exit 4). */
function unlessIncomplete(code: number, incomplete: DmctlError | undefined): number {
  if (incomplete && (code === ExitCode.ok || code === ExitCode.changesPending)) throw incomplete;
  return code;
}

async function saveOrApply(request: PlanRequest, state: unknown, plan: Plan, ctx: CliContext, global: GlobalOptions): Promise<number> {
  if (global.out !== undefined) {
    await writeOutputFile(ctx.files, global.out, formatPlanFile(makePlanFile(plan, request, state)), 0o600);
    ctx.io.stdout.write(render(plan, global.format, colorWanted(ctx.io.stdout, !global.color, ctx.env)));
    ctx.io.stderr.write(`plan saved to ${global.out}: review it, then run \`dmctl apply ${global.out}\` (it refuses if the host changes meanwhile)\n`);
    return global.detailedExitcode && plan.steps.length > 0 ? ExitCode.changesPending : ExitCode.ok;
  }
  return showAndApply(plan, ctx, global, undefined, request);
}

export async function showAndApply(plan: Plan, ctx: CliContext, global: GlobalOptions, resumes?: string, request?: PlanRequest): Promise<number> {
  const outColor = colorWanted(ctx.io.stdout, !global.color, ctx.env);
  const err = makeStyle(colorWanted(ctx.io.stderr, !global.color, ctx.env));
  // A runbook is for reading or running elsewhere: printing it never applies anything.
  const dryRun = global.dryRun || global.format === 'shell';

  if (dryRun || plan.steps.length === 0) {
    ctx.io.stdout.write(render(plan, global.format, outColor));
    if (dryRun && plan.steps.length > 0 && global.format === 'text') {
      ctx.io.stderr.write(err.dim('dry run: nothing was changed. Run again without --dry-run to apply.\n'));
    }
    return global.detailedExitcode && plan.steps.length > 0 ? ExitCode.changesPending : ExitCode.ok;
  }

  // Apply: with --json the plan goes to stderr for the operator and stdout gets one result document.
  if (global.json) ctx.io.stderr.write(renderPlanText(plan, err));
  else ctx.io.stdout.write(renderPlanText(plan, makeStyle(outColor)));

  const destructive = plan.steps.filter((s) => s.destructive);
  if (destructive.length > 0 && !global.yes) {
    if (!ctx.io.prompt) {
      throw new RefusedError(
        `the plan has ${destructive.length} destructive step${destructive.length > 1 ? 's' : ''} and there is no terminal to confirm: review it with --dry-run, then run again with --yes`,
      );
    }
    const answer = await ctx.io.prompt(
      `\n${err.bold(`Apply this plan? ${destructive.length} step${destructive.length > 1 ? 's' : ''} will destroy data on ${plan.target}.`)}\nOnly 'yes' will be accepted: `,
    );
    if (answer.trim() !== 'yes') {
      throw new RefusedError('not confirmed: nothing was changed');
    }
  }

  // The caller holds the host lock (see `locked`). SIGINT, SIGTERM and SIGHUP alike: the first lets
  // the running step finish and runs nothing after it; a second kills the running step at once.
  let interrupted = false;
  let running: { title: string; argv?: readonly string[] } | undefined;
  let journalPath = '';
  const abortStep = new AbortController();
  const removeHandler = ctx.onInterrupt?.((signal) => {
    const name = signal ?? 'signal';
    if (!interrupted) {
      interrupted = true;
      ctx.io.stderr.write(err.yellow(`\n${name}: finishing the current step, then stopping (a second signal aborts it at once)…\n`));
      return;
    }
    if (abortStep.signal.aborted) return;
    const what = running ? `step "${running.title}"${running.argv ? ` (\`${formatArgv(running.argv)}\`)` : ''}` : 'between steps';
    ctx.io.stderr.write(
      err.red(`\nsecond ${name}: aborting now, ${running ? `killing ${what}: its outcome is unknown` : what}.\n`) +
        `journal: ${journalPath}\nTo go on: \`dmctl apply --resume\` (it probes the host again before the step that did not finish).\n`,
    );
    abortStep.abort();
  });
  const track = {
    stepStart(step: Plan['steps'][number]) {
      const a = step.action;
      running = { title: step.title, ...(a.kind === 'exec' || a.kind === 'check' ? { argv: a.argv } : {}) };
    },
    stepDone() {
      running = undefined;
    },
    stepFailed() {
      running = undefined;
    },
  };
  let result: RunResult;
  try {
    const journal = await startJournal(ctx.files, plan, nowOf(ctx).toISOString(), ctx.pid ?? process.pid, resumes, request);
    journalPath = journal.path;
    result = await applyPlan(plan, {
      executor: ctx.executor,
      files: ctx.files,
      hooks: combineHooks(journal.hooks, track, await createProgress(ctx.io.stderr, err, global.verbose)),
      interrupted: () => interrupted,
      signal: abortStep.signal,
      sleep: sleepOf(ctx),
    });
    await journal.finish(result);
  } finally {
    removeHandler?.();
  }
  reportResult(result, ctx, global, plan, journalPath);
  if (result.status === 'done') return ExitCode.ok;
  if (result.status === 'interrupted') return ExitCode.interrupted;
  return ExitCode.stepFailed;
}

/** `dmctl apply FILE`: re-probe, refuse a stale plan, then apply exactly the saved steps. */
export async function applySavedPlan(file: string, ctx: CliContext, global: GlobalOptions): Promise<number> {
  requireRootToApply(ctx, global, 'apply');
  const text = await ctx.files.readText(file);
  if (text === undefined) throw new RefusedError(`${file} does not exist: make a plan with --out ${file} first`);
  const saved = readPlanFile(text, file);
  return locked(ctx, global, 'apply', () => applyIfCurrent(file, saved, ctx, global));
}

async function applyIfCurrent(file: string, saved: ReturnType<typeof readPlanFile>, ctx: CliContext, global: GlobalOptions): Promise<number> {
  let now: Awaited<ReturnType<typeof probeAndPlan>>;
  try {
    now = await probeAndPlan(saved.request, ctx);
  } catch (error) {
    if (error instanceof RefusedError) {
      throw new RefusedError(`stale plan: the host no longer allows ${file} (${error.message.split('\n')[0]}): make a new plan`);
    }
    throw error;
  }
  if (now.plan.basis !== saved.plan.basis) {
    const parts = changedParts(saved.probed, now.state);
    throw new RefusedError(`stale plan: ${parts.length > 0 ? parts.join(', ') : 'the host'} changed since ${file} was made: review a new plan (--dry-run, or --out)`);
  }
  // A plan file can never make dmctl run what its own planner would not emit now: the saved steps
  // must be exactly the fresh plan's (argv, file contents, modes, order). This also catches a dmctl
  // upgrade between review and apply.
  const differs = firstDifferentStep(saved.plan.steps, now.plan.steps);
  if (differs) {
    throw new RefusedError(`${file} does not hold what dmctl plans for this host now: ${differs}: review a new plan (--dry-run, or --out)`);
  }
  return unlessIncomplete(await showAndApply(now.plan, ctx, global, undefined, saved.request), now.incomplete);
}

/** `dmctl apply --resume`: continue the newest failed or interrupted apply from its failed step. */
export async function resumeApply(ctx: CliContext, global: GlobalOptions): Promise<number> {
  return locked(ctx, global, 'apply --resume', () => resumeLocked(ctx, global));
}

async function resumeLocked(ctx: CliContext, global: GlobalOptions): Promise<number> {
  const last = await latestUnfinished(ctx.files);
  if (!last) throw new RefusedError('there is no failed or interrupted apply to resume (the newest apply finished)');
  let first = last.journal.steps.findIndex((s) => s.status !== 'done');
  if (first === -1) {
    // Cut short after its last step finished (killed before it wrote "done"): nothing is left.
    ctx.io.stderr.write(`nothing to resume: every step of ${last.path} finished\n`);
    return ExitCode.ok;
  }
  // A failed step whose recovery undid an earlier step's work restarts from that earlier step.
  const restart = last.journal.plan.steps[first]?.resumeFrom;
  if (restart && last.journal.steps[first]?.status === 'failed') {
    const at = last.journal.plan.steps.findIndex((s) => s.id === restart);
    if (at >= 0 && at < first) first = at;
  }
  const request = last.journal.request as PlanRequest | undefined;
  let code: number;
  if (last.journal.steps[first]?.status === 'unknown') {
    // Killed before it answered: whether it changed the host is unknown. Plan again from the host as
    // it is now (every step converges: only what is still missing is planned).
    const step = last.journal.plan.steps[first]!;
    if (!request) {
      throw new RefusedError(
        `step "${step.title}" of ${last.path} was killed before it answered, so its outcome is unknown, and the journal does not say what made the plan: run the original dmctl command again (it plans only what is still missing)`,
      );
    }
    ctx.io.stderr.write(`resuming ${last.path}: step "${step.title}" was killed before it answered; probing the host again to see what is still missing\n`);
    const { plan } = await probeAndPlan(request, ctx);
    code = await showAndApply(plan, ctx, global, last.path, request);
  } else {
    const remaining = last.journal.plan.steps.slice(first);
    ctx.io.stderr.write(`resuming ${last.path}: ${first} step${first === 1 ? '' : 's'} were done; continuing from "${remaining[0]?.title ?? '-'}"\n`);
    const plan: Plan = { ...last.journal.plan, steps: remaining };
    code = await showAndApply(plan, ctx, global, last.path, request);
  }
  // Only a run that applied something consumes the resume point (not a dry run or a runbook).
  if (applies(global)) await markResumed(ctx.files, last.path, last.journal);
  return code;
}

function reportResult(result: RunResult, ctx: CliContext, global: GlobalOptions, plan: Plan, journal: string): void {
  const err = makeStyle(colorWanted(ctx.io.stderr, !global.color, ctx.env));
  const lines: string[] = [];
  for (const r of result.recovered) lines.push(err.yellow(`recovery: ${r}`));
  if (result.status === 'done') {
    lines.push(err.green(`✓ applied ${result.done.length} step${result.done.length === 1 ? '' : 's'}: ${plan.target}`));
  } else {
    if (result.failure) {
      const f = result.failure;
      lines.push(err.red(`✗ step "${f.step.title}" failed: ${f.message}`));
      if (f.argv) lines.push(`  command: ${formatArgv(f.argv)}${f.exitCode !== undefined ? ` (exit status ${f.exitCode})` : ''}`);
      if (f.stderr && f.stderr.trim() !== '') lines.push(...f.stderr.trimEnd().split('\n').map((l) => `  | ${l}`));
      const hint = knownFailure(f.stderr ?? '');
      if (hint) lines.push(err.yellow(`  ! ${hint}`));
      if (f.outcomeUnknown) {
        lines.push(err.yellow('  ! no recovery was run and nothing after it: `dmctl apply --resume` probes the host again before it goes on.'));
        if (f.stuckPid !== undefined) lines.push(err.yellow(`  ! pid ${f.stuckPid} is still there, blocked in the kernel; \`dmsetup info -c\` shows suspended devices (docs/troubleshooting.md, "a hung device")`));
      }
    } else {
      lines.push(err.yellow('interrupted: stopped between steps.'));
    }
    const notDone = [...(result.failure ? [result.failure.step] : []), ...result.remaining];
    lines.push(`done (${result.done.length}): ${result.done.map((s) => s.id).join(', ') || 'none'}`);
    lines.push(`not done (${notDone.length}): ${notDone.map((s) => s.id).join(', ') || 'none'}`);
    lines.push(`journal: ${journal}`);
    lines.push('To recover: fix the cause, then run the same command again (dmctl plans only what is still missing),');
    lines.push(
      result.failure?.outcomeUnknown
        ? 'or `dmctl apply --resume` (it probes the host again, then runs what is still missing). By hand, the rest is (check first whether the unfinished step took effect):'
        : 'or `dmctl apply --resume` to continue this plan from the step that did not finish. By hand, the rest is:',
    );
    for (const s of notDone) {
      const a = s.action;
      lines.push(`  ${a.kind === 'exec' || a.kind === 'check' ? formatArgv(a.argv) : a.kind === 'move' ? `mv -T ${a.from} ${a.to}` : `write ${a.path} (see the plan)`}`);
    }
  }
  ctx.io.stderr.write(`${lines.join('\n')}\n`);
  if (global.json) {
    ctx.io.stdout.write(
      `${JSON.stringify(
        {
          plan,
          result: {
            status: result.status,
            done: result.done.map((s) => s.id),
            failed: result.failure
              ? { id: result.failure.step.id, message: result.failure.message, argv: result.failure.argv, exitCode: result.failure.exitCode, stderr: result.failure.stderr }
              : null,
            remaining: result.remaining.map((s) => s.id),
            recovered: result.recovered,
            journal,
          },
        },
        null,
        2,
      )}\n`,
    );
  }
}

/** What a known tool error means and how to fix it, when dmctl could not see it coming. */
export function knownFailure(stderr: string): string | undefined {
  // lvm2 2.03 adds " (MAJOR:MINOR)" after the name; older versions do not.
  const tid = /Thin pool (\S+?)(?: \(\d+:\d+\))? transaction_id is (\d+), while expected (\d+)\./.exec(stderr);
  if (tid) {
    return `LVM's metadata expects transaction id ${tid[3]}, but pool ${tid[1]} holds ${tid[2]}: something besides LVM changed the pool (moby#15629). Repair LVM's record as docs/troubleshooting.md ("transaction id mismatch") shows.`;
  }
  return undefined;
}
