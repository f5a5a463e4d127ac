/** `dmctl extend DEV…`: grow a direct-lvm pool with new disks. */
import { Command } from 'commander';
import { z } from 'zod';
import { planExtend, type ExtendOptions } from '../plan/extend.js';
import { probeExtend } from '../probe/loop.js';
import type { CliContext } from './context.js';
import { showAndApply } from './flow.js';
import { lvmName, sizeArg } from './parse.js';
import type { RunAction } from './consumer-options.js';

export function extendCommand(run: RunAction, ctx: () => CliContext): Command {
  return new Command('extend')
    .summary('grow a direct-lvm pool with new disks (vgextend, lvextend data or metadata)')
    .description(
      'Add whole, empty disks to the pool\'s VG (the same preflight as init-direct), then grow the pool\'s data\n' +
        'by the new room (keeping enough free to double its metadata later), by --size, or grow its metadata\n' +
        'with --metadata. Reports the size before and after, and verifies it.',
    )
    .argument('<devices...>', 'whole disks to add')
    .option('--vg <name>', 'the pool\'s VG (default: the VG of the only thin pool)')
    .option('--pool <name>', 'the thin pool (default: the only thin pool)')
    .option('--size <size>', 'grow data by this much (default: all the new room but a reserve)')
    .option('--metadata <size>', 'grow metadata by this much instead of data')
    .option('--force', 'erase existing signatures on the new disks (destructive)')
    .action(
      run(async (global, command) => {
        const o = z
          .object({
            devices: z.array(z.string().min(1)).min(1),
            vg: lvmName('--vg').optional(),
            pool: lvmName('--pool').optional(),
            size: sizeArg().optional(),
            metadata: sizeArg().optional(),
            force: z.boolean().default(false),
          })
          .refine((x) => x.size === undefined || x.metadata === undefined, { message: '--size and --metadata grow different things: give one of them', path: ['size'] })
          .parse({ ...command.opts(), devices: command.args });
        const options: ExtendOptions = { devices: o.devices, vg: o.vg, pool: o.pool, sizeBytes: o.size, metadataBytes: o.metadata, force: o.force };
        const c = ctx();
        return showAndApply(planExtend(await probeExtend(c, options), options), c, global);
      }),
    );
}
