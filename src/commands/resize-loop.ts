/** `dmctl resize-loop SIZE`: grow a loop pool's data (or metadata) file online. */
import { Command } from 'commander';
import { z } from 'zod';
import { planResizeLoop } from '../plan/resize-loop.js';
import { probeResizeLoop } from '../probe/loop.js';
import type { CliContext } from './context.js';
import { showAndApply } from './flow.js';
import { parseSize } from './parse.js';
import type { RunAction } from './consumer-options.js';

/** `200G`, `200GiB` (absolute) or `+50G` (relative). */
export const resizeSize = z.string().transform((text, ctx) => {
  const relative = text.trim().startsWith('+');
  try {
    const bytes = parseSize(relative ? text.trim().slice(1) : text);
    if (bytes <= 0) throw new Error(`"${text}" is not a size to grow to`);
    return { bytes, relative };
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `SIZE: ${(error as Error).message}` });
    return z.NEVER;
  }
});

export function resizeLoopCommand(run: RunAction, ctx: () => CliContext): Command {
  return new Command('resize-loop')
    .summary('grow a loop pool online (truncate, losetup -c, dmsetup reload + resume)')
    .description(
      'Grow the data file (or, with --metadata, the metadata file) of a loop pool to SIZE (200G, 200GiB) or by\n' +
        'SIZE (+50G), online: truncate, losetup -c, then dmsetup reload and a single resume, so I/O freezes only\n' +
        'inside one ioctl. Refuses to shrink; never leaves the pool suspended.',
    )
    .argument('<size>', 'new size (200G) or growth (+50G); binary units')
    .option('--pool <name>', 'the pool (default: the only loop pool on the host)')
    .option('--metadata', 'grow the metadata file instead of the data file')
    .action(
      run(async (global, command) => {
        const o = z.object({ size: resizeSize, pool: z.string().optional(), metadata: z.boolean().default(false) }).parse({ ...command.opts(), size: command.args[0] });
        const c = ctx();
        return showAndApply(planResizeLoop(await probeResizeLoop(c), { size: o.size, pool: o.pool, metadata: o.metadata }), c, global);
      }),
    );
}
