/** `dmctl reactivate`: bring thin pools back after a reboot. */
import { realpathSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliContext, GlobalOptions } from './context.js';
import { execute } from './flow.js';
import { intArg } from './parse.js';

export async function runReactivate(global: GlobalOptions, cmd: Command, c: CliContext): Promise<number> {
  const launcher = c.dmctlArgv ?? [process.execPath, realpathSync(process.argv[1] ?? 'dmctl')];
  const raw = cmd.opts().waitDevices as string | undefined;
  const waitDevicesSec = raw === undefined ? 0 : intArg('--wait-devices', 0, 3600).parse(raw);
  const options = { installUnit: cmd.opts().installUnit === true, dmctlArgv: launcher, waitDevicesSec };
  return execute({ command: 'reactivate', options }, c, global);
}
