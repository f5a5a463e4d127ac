/** `dmctl init-direct DEV…`: options schema → probe → plan → the shared show/apply flow. */
import { Command } from 'commander';
import { z } from 'zod';
import { planInitDirect, initDirectDefaults, type InitDirectOptions } from '../plan/init-direct.js';
import { probeInitDirect } from '../probe/probe.js';
import type { CliContext } from './context.js';
import { showAndApply } from './flow.js';
import { intArg, lvmName, sizeArg } from './parse.js';
import { addConsumerOptions, consumerOptionFields, type RunAction } from './consumer-options.js';

export const InitDirectOptionsSchema = z
  .object({
    devices: z.array(z.string().min(1)).min(1, 'give at least one disk, e.g. dmctl init-direct /dev/xvdf'),
    vg: lvmName('--vg'),
    pool: lvmName('--pool'),
    thinpPercent: intArg('--thinp-percent', 1, 99),
    thinpMetapercent: intArg('--thinp-metapercent', 1, 99),
    autoextendThreshold: intArg('--autoextend-threshold', 50, 99, ' (LVM ignores values below 50, and 100 turns autoextend off)'),
    autoextendPercent: intArg('--autoextend-percent', 1, 100),
    chunkSize: sizeArg()
      .refine((b) => b % (64 * 1024) === 0, 'chunk size must be a multiple of 64K')
      .refine((b) => b >= 64 * 1024 && b <= 1024 ** 3, 'chunk size must be between 64K and 1G'),
    force: z.boolean().default(false),
    ...consumerOptionFields,
  })
  .refine((o) => o.thinpPercent + o.thinpMetapercent <= 99, {
    message: 'data + metadata percent must be at most 99: LVM needs free extents for its spare metadata volume',
    path: ['thinpPercent'],
  });

export function initDirectCommand(run: RunAction, ctx: () => CliContext): Command {
  const cmd = new Command('init-direct')
    .summary('build a production thin pool on whole disks (direct-lvm) and hand it to Docker or containerd')
    .description(
      'Build a thin pool on one or more whole, empty disks (LVM direct-lvm, the Docker guide\'s production setup):\n' +
        'pvcreate, vgcreate, data + metadata LVs, lvconvert into a thin pool, an autoextend profile, dmeventd\n' +
        'monitoring (verified), then the consumer\'s configuration. Shows the plan first; re-running plans nothing.',
    )
    .argument('<devices...>', 'whole disks, e.g. /dev/xvdf (symlinks such as /dev/disk/by-id/… are resolved)')
    .option('--vg <name>', 'volume group to create', initDirectDefaults.vg)
    .option('--pool <name>', 'thin pool LV name', initDirectDefaults.pool)
    .option('--thinp-percent <n>', 'data LV size in percent of the VG (dm.thinp_percent)', String(initDirectDefaults.thinpPercent))
    .option('--thinp-metapercent <n>', 'metadata LV size in percent of the VG (dm.thinp_metapercent)', String(initDirectDefaults.thinpMetaPercent))
    .option('--autoextend-threshold <n>', 'grow the pool when data use passes this percent (50-99)', String(initDirectDefaults.autoextendThreshold))
    .option('--autoextend-percent <n>', 'grow by this percent of the pool (1-100)', String(initDirectDefaults.autoextendPercent))
    .option('--chunk-size <size>', 'pool chunk size, a multiple of 64K from 64K to 1G', '512K')
    .option('--force', 'erase existing filesystem/RAID/partition-table signatures on the disks (destructive)');
  return addConsumerOptions(cmd, 'let Docker (Engine < 25) build the pool itself from daemon.json (fresh installs only)')
    .action(
      run(async (global, cmd) => {
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
          consumer: o.consumer,
          dockerManaged: o.dockerManaged,
          storageOpts: o.storageOpt,
          minFreeSpace: o.minFreeSpace,
          baseImageSize: o.baseImageSize,
          containerdRootPath: o.containerdRootPath,
        };
        const c = ctx();
        const state = await probeInitDirect(c, options);
        const plan = planInitDirect(state, options);
        return showAndApply(plan, c, global);
      }),
    );
}
