/** `dmctl init-loop`: a loopback-backed thin pool for testing, and its consumer's configuration. */
import type { Command } from 'commander';
import * as z from 'zod/mini';
import '../zod-locale.js';
import { initLoopDefaults } from '../defaults.js';
import { kernelMaxMetadataBytes, minMetadataBytes } from '../model/limits.js';
import type { InitLoopOptions } from '../model/options.js';
import { formatBytes } from '../units.js';
import type { CliContext, GlobalOptions } from './context.js';
import { execute } from './flow.js';
import { sizeArg } from './parse.js';
import { consumerOptionFields, consumerSettings } from './consumer-options.js';

const dmName = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9][A-Za-z0-9_.:+-]*$/, '--pool is a device-mapper name: letters, digits and _ . : + - (no slash, no space)'),
    z.maxLength(127, '--pool is longer than 127 characters'),
  );

export const InitLoopOptionsSchema = z
  .object({
    pool: dmName,
    dir: z.optional(z.string().check(z.startsWith('/', '--dir must be an absolute path'))),
    dataSize: z.optional(sizeArg().check(z.refine((b) => b >= 64 * 1024 ** 2, 'data size must be at least 64M'))),
    metadataSize: z.optional(
      sizeArg().check(z.refine((b) => b >= minMetadataBytes && b <= kernelMaxMetadataBytes,
        `metadata size must be between ${formatBytes(minMetadataBytes)} and ${formatBytes(kernelMaxMetadataBytes)} (the kernel uses no more)`)),
    ),
    ...consumerOptionFields,
  });

export async function runInitLoop(global: GlobalOptions, cmd: Command, c: CliContext): Promise<number> {
  const o = InitLoopOptionsSchema.parse(cmd.opts());
  const options: InitLoopOptions = {
    pool: o.pool,
    dir: o.dir ?? `${initLoopDefaults.dir}/${o.pool}`,
    dataSizeBytes: o.dataSize ?? initLoopDefaults.dataSizeBytes,
    metadataSizeBytes: o.metadataSize ?? initLoopDefaults.metadataSizeBytes,
    sizesGiven: { data: o.dataSize !== undefined, metadata: o.metadataSize !== undefined },
    blockSectors: initLoopDefaults.blockSectors,
    lowWaterMarkBlocks: initLoopDefaults.lowWaterMarkBlocks,
    ...consumerSettings(o),
  };
  return execute({ command: 'init-loop', options: { ...options } }, c, global);
}
