/** Progress of an apply on stderr: an ora spinner per step on a terminal, plain lines otherwise. */
import type { ChalkInstance } from 'chalk';
import ora, { type Ora } from 'ora';
import type { RunHooks } from '../run/apply.js';
import { describeAction } from './plan.js';

export function createProgress(stream: { write(text: string): void; isTTY?: boolean }, style: ChalkInstance, verbose: boolean): RunHooks {
  let spinner: Ora | undefined;
  const label = (title: string, index: number, total: number) => `[${index + 1}/${total}] ${title}`;
  const tty = stream.isTTY === true;
  return {
    stepStart(step, index, total) {
      if (verbose) for (const line of describeAction(step.action)) stream.write(`${style.dim(`    ${line}`)}\n`);
      // Without a terminal (logs, CI) one line per step, written when the step ends.
      if (tty) spinner = ora({ text: label(step.title, index, total), stream: stream as NodeJS.WritableStream }).start();
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
