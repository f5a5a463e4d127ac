/** Consumer options shared by init-direct and init-loop: flags, their schema and defaults. */
import type { Command } from 'commander';
import { z } from 'zod';

export const consumerDefaults = {
  consumer: 'docker',
  baseImageSize: '10GB',
  containerdRootPath: '/var/lib/containerd/io.containerd.snapshotter.v1.devmapper',
} as const;

const storageOpt = z.string().regex(/^dm\.[a-z_]+=\S+$/, 'a storage option looks like dm.basesize=20G (KEY=VALUE, a dm.* key)');

export const consumerOptionFields = {
  consumer: z.enum(['docker', 'containerd', 'none'], 'consumer must be docker, containerd or none'),
  dockerManaged: z.boolean().default(false),
  storageOpt: z.array(storageOpt),
  minFreeSpace: z
    .string()
    .regex(/^\d{1,2}(\.\d+)?%$/, 'min free space is a percentage below 100 written with its %, e.g. 10%')
    .optional(),
  baseImageSize: z.string().regex(/^\d+(\.\d+)?\s*[KMGT]i?B$/i, 'base image size looks like 10GB or 64MB (containerd\'s format)'),
  containerdRootPath: z.string().startsWith('/', 'the containerd root path must be absolute'),
};

export function addConsumerOptions(cmd: Command, dockerManagedHelp: string): Command {
  const collect = (value: string, previous: string[]) => [...previous, value];
  return cmd
    .option('--consumer <kind>', 'who uses the pool: docker, containerd or none', consumerDefaults.consumer)
    .option('--docker-managed', dockerManagedHelp)
    .option('--storage-opt <key=value>', 'extra Docker storage option, repeatable (e.g. dm.basesize=20G)', collect, [] as string[])
    .option('--min-free-space <pct>', 'Docker dm.min_free_space, e.g. 10%')
    .option('--base-image-size <size>', 'containerd base_image_size', consumerDefaults.baseImageSize)
    .option('--containerd-root-path <dir>', 'containerd devmapper root_path', consumerDefaults.containerdRootPath);
}

export type RunAction = (action: (global: import('./context.js').GlobalOptions, cmd: Command) => Promise<number>) => (...args: unknown[]) => Promise<void>;
