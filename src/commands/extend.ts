/** `dmctl extend DEV…`: grow a direct-lvm pool with new disks. */
import type { Command } from 'commander';
import { z } from 'zod';
import type { ExtendOptions } from '../plan/extend.js';
import type { CliContext, GlobalOptions } from './context.js';
import { execute } from './flow.js';
import { lvmName, sizeArg } from './parse.js';

export async function runExtend(global: GlobalOptions, cmd: Command, c: CliContext): Promise<number> {
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
    .parse({ ...cmd.opts(), devices: cmd.args });
  const options: ExtendOptions = { devices: o.devices, vg: o.vg, pool: o.pool, sizeBytes: o.size, metadataBytes: o.metadata, force: o.force };
  return execute({ command: 'extend', options: { ...options } }, c, global);
}
