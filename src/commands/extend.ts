/** `dmctl extend DEV…`: grow a direct-lvm pool with new disks. */
import type { Command } from 'commander';
import * as z from 'zod/mini';
import '../zod-locale.js';
import type { ExtendOptions } from '../model/options.js';
import type { CliContext, GlobalOptions } from './context.js';
import { execute } from './flow.js';
import { lvmName, sizeArg } from './parse.js';

export async function runExtend(global: GlobalOptions, cmd: Command, c: CliContext): Promise<number> {
  const o = z
    .object({
      devices: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
      vg: z.optional(lvmName('--vg')),
      pool: z.optional(lvmName('--pool')),
      size: z.optional(sizeArg()),
      metadata: z.optional(sizeArg()),
      force: z._default(z.boolean(), false),
    })
    .check(z.refine((x) => x.size === undefined || x.metadata === undefined, { message: '--size and --metadata grow different things: give one of them', path: ['size'] }))
    .parse({ ...cmd.opts(), devices: cmd.args });
  const options: ExtendOptions = { devices: o.devices, vg: o.vg, pool: o.pool, sizeBytes: o.size, metadataBytes: o.metadata, force: o.force };
  return execute({ command: 'extend', options: { ...options } }, c, global);
}
