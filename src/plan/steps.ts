/** Small constructors for plan steps, so planners read as a list of intentions. */
import { RefusedError } from '../errors.js';
import { modprobeArgv } from '../system/coreutils.js';
import type { Argv } from '../system/exec.js';
import type { Step } from './types.js';

export function execStep(id: string, title: string, argv: Argv, reason: string, destructive = false): Step {
  return { id, title, action: { kind: 'exec', argv: [...argv] }, reason, destructive };
}

export function writeFileStep(
  id: string,
  title: string,
  file: { path: string; content: string; mode?: number; backupTo?: string },
  reason: string,
): Step {
  const { path, content, mode = 0o644, backupTo } = file;
  return { id, title, action: { kind: 'writeFile', path, content, mode, ...(backupTo ? { backupTo } : {}) }, reason, destructive: false };
}

export function moveStep(id: string, title: string, from: string, to: string, reason: string): Step {
  return { id, title, action: { kind: 'move', from, to }, reason, destructive: false };
}

export function checkStep(
  id: string,
  title: string,
  argv: Argv,
  expect: { equals: string } | { includes: string },
  reason: string,
  waitSeconds = 0,
): Step {
  return { id, title, action: { kind: 'check', argv: [...argv], expect, waitSeconds }, reason, destructive: false };
}

/** The same step, with commands that restore a safe state if it fails. */
export function withRecovery(step: Step, recovery: ReadonlyArray<readonly string[]>, resumeFrom?: string): Step {
  return { ...step, recovery: recovery.map((argv) => [...argv]), ...(resumeFrom ? { resumeFrom } : {}) };
}

/** Loads dm-thin-pool when the kernel has no device-mapper yet (loop pools; LVM loads it itself). */
export function loadDmThinStep(): Step {
  return execStep('modprobe', 'Load the dm-thin-pool kernel module', modprobeArgv('dm_thin_pool'), 'The kernel has no device-mapper loaded yet.');
}

/** Planners gather every refusal first and throw them together, before any step is built. */
export function refuseIfAny(problems: readonly string[]): void {
  if (problems.length > 0) throw new RefusedError(problems.join('\n'));
}
