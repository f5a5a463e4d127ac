/** `dmctl reactivate`: bring thin pools back after a reboot. */
import { realpathSync } from 'node:fs';
import type { Command } from 'commander';
import { planReactivate } from '../plan/reactivate.js';
import { probeReactivate } from '../probe/loop.js';
import type { CliContext, GlobalOptions } from './context.js';
import { showAndApply } from './flow.js';

export async function runReactivate(global: GlobalOptions, cmd: Command, c: CliContext): Promise<number> {
  const launcher = c.dmctlArgv ?? [process.execPath, realpathSync(process.argv[1] ?? 'dmctl')];
  const options = { installUnit: cmd.opts().installUnit === true, dmctlArgv: launcher };
  return showAndApply(planReactivate(await probeReactivate(c), options), c, global);
}
