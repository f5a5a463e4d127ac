/** `dmctl init-loop`: a loopback-backed thin pool for testing, and its consumer's configuration. */
import { Command } from 'commander';
import { z } from 'zod';
import { initLoopDefaults, planInitLoop, type InitLoopOptions } from '../plan/init-loop.js';
import { probeInitLoop } from '../probe/loop.js';
import type { CliContext } from './context.js';
import { showAndApply } from './flow.js';
import { sizeArg } from './parse.js';
import { addConsumerOptions, consumerOptionFields, type RunAction } from './consumer-options.js';

const dmName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:+-]*$/, '--pool is a device-mapper name: letters, digits and _ . : + - (no slash, no space)')
  .max(127, '--pool is longer than 127 characters');

export const InitLoopOptionsSchema = z
  .object({
    pool: dmName,
    dir: z.string().startsWith('/', '--dir must be an absolute path').optional(),
    dataSize: sizeArg().refine((b) => b >= 64 * 1024 ** 2, 'data size must be at least 64M').optional(),
    metadataSize: sizeArg()
      .refine((b) => b >= 2 * 1024 ** 2 && b <= 16 * 1024 ** 3, 'metadata size must be between 2M and 16G (the kernel uses no more)')
      .optional(),
    ...consumerOptionFields,
  });

export function initLoopCommand(run: RunAction, ctx: () => CliContext): Command {
  const cmd = new Command('init-loop')
    .summary('build a loopback-backed thin pool for testing (sparse files, losetup, dmsetup create)')
    .description(
      'Build a thin pool on two sparse files attached to loop devices (the guide\'s loop-lvm test setup, with\n' +
        'the exact dmsetup table shown), record it so resize-loop and reactivate can find it, and configure\n' +
        'its consumer. For testing only: loop pools are slow and need `dmctl reactivate` after a reboot.',
    )
    .option('--pool <name>', 'device-mapper name of the pool', initLoopDefaults.pool)
    .option('--dir <dir>', `where the sparse files go (default ${initLoopDefaults.dir}/POOL)`)
    .option('--data-size <size>', 'sparse data file size (default 100G, like dm.loopdatasize)')
    .option('--metadata-size <size>', 'sparse metadata file size (default 2G, like dm.loopmetadatasize)');
  return addConsumerOptions(cmd, 'let Docker (Engine < 25) make its own loop files and pool (the guide\'s loop-lvm steps)').action(
    run(async (global, command) => {
      const o = InitLoopOptionsSchema.parse(command.opts());
      const options: InitLoopOptions = {
        pool: o.pool,
        dir: o.dir ?? `${initLoopDefaults.dir}/${o.pool}`,
        dataSizeBytes: o.dataSize ?? initLoopDefaults.dataSizeBytes,
        metadataSizeBytes: o.metadataSize ?? initLoopDefaults.metadataSizeBytes,
        sizesGiven: { data: o.dataSize !== undefined, metadata: o.metadataSize !== undefined },
        blockSectors: initLoopDefaults.blockSectors,
        lowWaterMarkBlocks: initLoopDefaults.lowWaterMarkBlocks,
        consumer: o.consumer,
        dockerManaged: o.dockerManaged,
        storageOpts: o.storageOpt,
        minFreeSpace: o.minFreeSpace,
        baseImageSize: o.baseImageSize,
        containerdRootPath: o.containerdRootPath,
      };
      const c = ctx();
      return showAndApply(planInitLoop(await probeInitLoop(c, options), options), c, global);
    }),
  );
}
