/** `dmctl resize-loop SIZE`: grow a loop pool's data (or metadata) file online. */
import type { Command } from 'commander';
import * as z from 'zod/mini';
import '../zod-locale.js';
import type { CliContext, GlobalOptions } from './context.js';
import { execute } from './flow.js';
import { parseSize } from '../units.js';

/** `200G`, `200GiB` (absolute) or `+50G` (relative). */
export const resizeSize = z.pipe(
  z.string(),
  z.transform((text: string, ctx) => {
    const relative = text.trim().startsWith('+');
    try {
      const bytes = parseSize(relative ? text.trim().slice(1) : text);
      if (bytes <= 0) throw new Error(`"${text}" is not a size to grow to`);
      return { bytes, relative };
    } catch (error) {
      ctx.issues.push({ code: 'custom', message: `SIZE: ${(error as Error).message}`, input: text });
      return z.NEVER;
    }
  }),
);

export async function runResizeLoop(global: GlobalOptions, cmd: Command, c: CliContext): Promise<number> {
  const o = z.object({ size: resizeSize, pool: z.optional(z.string()), metadata: z._default(z.boolean(), false) }).parse({ ...cmd.opts(), size: cmd.args[0] });
  return execute({ command: 'resize-loop', options: { size: o.size, pool: o.pool, metadata: o.metadata } }, c, global);
}
