/** `dmctl apply FILE` and `dmctl apply --resume`. */
import type { Command } from 'commander';
import { RefusedError } from '../errors.js';
import type { CliContext, GlobalOptions } from './context.js';
import { applySavedPlan, resumeApply } from './flow.js';

export async function runApply(global: GlobalOptions, cmd: Command, c: CliContext): Promise<number> {
  const file = cmd.args[0];
  const resume = cmd.opts().resume === true;
  if (resume === (file !== undefined)) {
    throw new RefusedError(resume ? '--resume continues the last apply: give no FILE with it' : 'give the plan FILE to apply (made with --out FILE), or --resume');
  }
  if (global.out !== undefined) throw new RefusedError('apply runs a saved plan and saves none: --out belongs to the command that makes the plan');
  if (resume && global.dryRun) throw new RefusedError('--resume has no --dry-run: the journal in /var/lib/dmctl/journal/ lists the steps left');
  // --dry-run: the same checks as an apply (re-probe, re-plan, the saved steps must be today's), then
  // the plan is shown and nothing runs; stale → exit 3, current with steps → 2 under --detailed-exitcode.
  return resume ? resumeApply(c, global) : applySavedPlan(file!, c, global);
}
