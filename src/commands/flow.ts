/**
 * The one path every mutating subcommand takes after planning: render → (stop if --dry-run) →
 * confirm → apply → report. There is no other place where "dry run" is decided.
 */
import { ExitCode, RefusedError } from '../errors.js';
import { formatArgv } from '../system/exec.js';
import type { Plan } from '../plan/types.js';
import { renderPlanJson, renderPlanText } from '../render/plan.js';
import { createProgress } from '../render/progress.js';
import { colorWanted, makeStyle } from '../render/style.js';
import { applyPlan, type RunResult } from '../run/apply.js';
import type { CliContext, GlobalOptions } from './context.js';

export async function showAndApply(plan: Plan, ctx: CliContext, global: GlobalOptions): Promise<number> {
  const out = makeStyle(colorWanted(ctx.io.stdout, !global.color, ctx.env));
  const err = makeStyle(colorWanted(ctx.io.stderr, !global.color, ctx.env));

  if (global.dryRun || plan.steps.length === 0) {
    ctx.io.stdout.write(global.json ? renderPlanJson(plan) : renderPlanText(plan, out));
    if (global.dryRun && plan.steps.length > 0 && !global.json) {
      ctx.io.stderr.write(err.dim('dry run: nothing was changed. Run again without --dry-run to apply.\n'));
    }
    return global.detailedExitcode && plan.steps.length > 0 ? ExitCode.changesPending : ExitCode.ok;
  }

  // Apply: the plan goes to stderr for the operator to read; stdout gets the result (JSON) or the plan text.
  if (global.json) ctx.io.stderr.write(renderPlanText(plan, err));
  else ctx.io.stdout.write(renderPlanText(plan, out));

  if (ctx.uid !== 0) {
    throw new RefusedError('applying this plan needs root: run it with sudo (or add --dry-run to only see the plan)');
  }
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

  let interrupted = false;
  const removeHandler = ctx.onInterrupt?.(() => {
    interrupted = true;
    ctx.io.stderr.write(err.yellow('\ninterrupted: finishing the current step, then stopping…\n'));
  });
  let result: RunResult;
  try {
    result = await applyPlan(plan, {
      executor: ctx.executor,
      files: ctx.files,
      hooks: await createProgress(ctx.io.stderr, err, global.verbose),
      interrupted: () => interrupted,
      ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
    });
  } finally {
    removeHandler?.();
  }
  reportResult(result, ctx, global, plan);
  if (result.status === 'done') return ExitCode.ok;
  if (result.status === 'interrupted') return ExitCode.interrupted;
  return ExitCode.stepFailed;
}

function reportResult(result: RunResult, ctx: CliContext, global: GlobalOptions, plan: Plan): void {
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
    } else {
      lines.push(err.yellow('interrupted: stopped between steps.'));
    }
    lines.push(`done (${result.done.length}): ${result.done.map((s) => s.id).join(', ') || 'none'}`);
    lines.push(`not done (${result.remaining.length + (result.failure ? 1 : 0)}): ${[...(result.failure ? [result.failure.step] : []), ...result.remaining].map((s) => s.id).join(', ') || 'none'}`);
    lines.push('Fix the cause, then run the same command again: dmctl plans only what is still missing.');
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
          },
        },
        null,
        2,
      )}\n`,
    );
  }
}
