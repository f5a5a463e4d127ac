/** Progress of an apply on stderr: an ora spinner per step on a terminal, plain lines otherwise. */
import type { ChalkInstance } from 'chalk';
import type { Ora } from 'ora';
import type { RunHooks } from '../run/apply.js';
import { describeAction } from './plan.js';

export async function createProgress(stream: { write(text: string): void; isTTY?: boolean }, style: ChalkInstance, verbose: boolean): Promise<RunHooks> {
  let spinner: Ora | undefined;
  const label = (title: string, index: number, total: number) => `[${index + 1}/${total}] ${title}`;
  const tty = stream.isTTY === true;
  // ora only for a terminal, and loaded only then.
  const ora = tty ? (await import('ora')).default : undefined;
  return {
    stepStart(step, index, total) {
      if (verbose) for (const line of describeAction(step.action)) stream.write(`${style.dim(`    ${line}`)}\n`);
      // Without a terminal (logs, CI) one line per step, written when the step ends.
      if (ora) spinner = ora({ text: label(step.title, index, total), stream: stream as NodeJS.WritableStream }).start();
    },
    stepDone(step, index, total) {
      if (spinner) spinner.succeed(label(step.title, index, total));
      else stream.write(`${style.green('✓')} ${label(step.title, index, total)}\n`);
      spinner = undefined;
    },
    stepFailed(failure, index, total) {
      if (spinner) spinner.fail(label(failure.step.title, index, total));
      else stream.write(`${style.red('✗')} ${label(failure.step.title, index, total)}\n`);
      spinner = undefined;
    },
  };
}
