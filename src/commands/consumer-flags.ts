/** Consumer flags shared by init-direct and init-loop (definitions only: loaded for every run). */
import { Option, type Command } from 'commander';
import { consumerDefaults } from '../defaults.js';
import type { CliContext, GlobalOptions } from './context.js';

export function addConsumerOptions(cmd: Command, dockerManagedHelp: string): Command {
  const collect = (value: string, previous: string[]) => [...previous, value];
  const consumer = new Option('--consumer <kind>', 'who uses the pool').default(consumerDefaults.consumer);
  // Listed in --help and offered by shell completion; checked by the command's schema, which words
  // every refusal the same way (not by commander: `.choices()` would).
  consumer.argChoices = ['docker', 'containerd', 'none'];
  return cmd
    .addOption(consumer)
    .option('--docker-managed', dockerManagedHelp)
    .option('--storage-opt <key=value>', 'extra Docker storage option, repeatable (e.g. dm.basesize=20G)', collect, [] as string[])
    .option('--min-free-space <pct>', 'Docker dm.min_free_space, e.g. 10%')
    .option('--base-image-size <size>', 'containerd base_image_size', consumerDefaults.baseImageSize)
    .option('--containerd-root-path <dir>', 'containerd devmapper root_path', consumerDefaults.containerdRootPath);
}

export type RunAction = (action: (global: GlobalOptions, cmd: Command) => Promise<number>) => (...args: unknown[]) => Promise<void>;

/** Loads a command's implementation only when it runs, keeping `--help` and `--version` fast. */
export type Implementation = (global: GlobalOptions, cmd: Command, ctx: CliContext) => Promise<number>;
