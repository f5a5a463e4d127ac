/** `dmctl resize-loop SIZE`: grow a loop pool's data (or metadata) file online. */
import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext, GlobalOptions } from './context.js';
import { execute } from './flow.js';
import { parseSize } from './parse.js';

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

export async function runResizeLoop(global: GlobalOptions, cmd: Command, c: CliContext): Promise<number> {
  const o = z.object({ size: resizeSize, pool: z.string().optional(), metadata: z.boolean().default(false) }).parse({ ...cmd.opts(), size: cmd.args[0] });
  return execute({ command: 'resize-loop', options: { size: o.size, pool: o.pool, metadata: o.metadata } }, c, global);
}
