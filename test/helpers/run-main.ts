import { main } from '../../src/cli.js';
import type { CliContext } from '../../src/commands/context.js';

/**
 * Runs dmctl's `main` in-process with `ctx` injected, capturing what it writes to stdout and stderr;
 * `prompt` answers its confirmation questions.
 */
export async function runMain(
  args: string[],
  ctx: Partial<CliContext>,
  prompt?: CliContext['io']['prompt'],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => void (stdout += s) }, stderr: { write: (s: string) => void (stderr += s) }, ...(prompt ? { prompt } : {}) };
  const code = await main(args, { ...ctx, io });
  return { code, stdout, stderr };
}
