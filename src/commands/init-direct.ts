/** `dmctl init-direct DEV…`: options schema → probe → plan → the shared show/apply flow. */
import type { Command } from 'commander';
import * as z from 'zod/mini';
import '../zod-locale.js';
import type { InitDirectOptions } from '../model/options.js';
import type { CliContext, GlobalOptions } from './context.js';
import { execute } from './flow.js';
import { intArg, lvmName, sizeArg } from './parse.js';
import { consumerOptionFields, consumerSettings } from './consumer-options.js';

export const InitDirectOptionsSchema = z
  .object({
    devices: z.array(z.string().check(z.minLength(1))).check(z.minLength(1, 'give at least one disk, e.g. dmctl init-direct /dev/xvdf')),
    vg: lvmName('--vg'),
    pool: lvmName('--pool'),
    thinpPercent: intArg('--thinp-percent', 1, 99),
    thinpMetapercent: intArg('--thinp-metapercent', 1, 99),
    autoextendThreshold: intArg('--autoextend-threshold', 50, 99, ' (LVM ignores values below 50, and 100 turns autoextend off)'),
    autoextendPercent: intArg('--autoextend-percent', 1, 100),
    chunkSize: sizeArg().check(
      z.refine((b) => b % (64 * 1024) === 0, 'chunk size must be a multiple of 64K'),
      z.refine((b) => b >= 64 * 1024 && b <= 1024 ** 3, 'chunk size must be between 64K and 1G'),
    ),
    force: z._default(z.boolean(), false),
    ...consumerOptionFields,
  })
  .check(
    z.refine((o) => o.thinpPercent + o.thinpMetapercent <= 99, {
      message: 'data + metadata percent must be at most 99: LVM needs free extents for its spare metadata volume',
      path: ['thinpPercent'],
    }),
  );

export async function runInitDirect(global: GlobalOptions, cmd: Command, c: CliContext): Promise<number> {
  const raw = cmd.opts();
  const o = InitDirectOptionsSchema.parse({ ...raw, devices: cmd.args });
  const options: InitDirectOptions = {
    devices: o.devices,
    vg: o.vg,
    pool: o.pool,
    thinpPercent: o.thinpPercent,
    thinpMetaPercent: o.thinpMetapercent,
    autoextendThreshold: o.autoextendThreshold,
    autoextendPercent: o.autoextendPercent,
    chunkSizeBytes: o.chunkSize,
    force: o.force,
    ...consumerSettings(o),
  };
  return execute({ command: 'init-direct', options: { ...options } }, c, global);
}
