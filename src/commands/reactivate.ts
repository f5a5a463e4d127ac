/** `dmctl reactivate`: bring thin pools back after a reboot. */
import { realpathSync } from 'node:fs';
import { Command } from 'commander';
import { planReactivate } from '../plan/reactivate.js';
import { probeReactivate } from '../probe/loop.js';
import type { CliContext } from './context.js';
import { showAndApply } from './flow.js';
import type { RunAction } from './consumer-options.js';

export function reactivateCommand(run: RunAction, ctx: () => CliContext): Command {
  return new Command('reactivate')
    .summary('bring thin pools back after a reboot (lvchange -ay, or re-attach loops and recreate the table)')
    .description(
      'Activate inactive LVM thin pools (-K when flagged skip-activation) and re-enable their monitoring;\n' +
        'rebuild the loop pools dmctl built from their records (re-attach the files, dmsetup create with the\n' +
        'same table). Nothing to do on a healthy host. --install-unit adds a systemd oneshot unit that runs\n' +
        '`dmctl reactivate --yes` at boot, before docker.service and containerd.service.',
    )
    .option('--install-unit', 'install and enable a systemd unit that runs this at boot')
    .action(
      run(async (global, command) => {
        const c = ctx();
        const launcher = c.dmctlArgv ?? [process.execPath, realpathSync(process.argv[1] ?? 'dmctl')];
        const options = { installUnit: command.opts().installUnit === true, dmctlArgv: launcher };
        return showAndApply(planReactivate(await probeReactivate(c), options), c, global);
      }),
    );
}
