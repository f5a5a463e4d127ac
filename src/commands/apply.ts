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
  if (global.dryRun) throw new RefusedError('apply applies: to review a saved plan, read the file (or run the original command with --dry-run)');
  return resume ? resumeApply(c, global) : applySavedPlan(file!, c, global);
}
