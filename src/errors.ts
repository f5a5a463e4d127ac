/**
 * Exit codes, documented in docs/exit-codes.md. Scripts depend on them: never renumber.
 */
export const ExitCode = {
  /** Done, or nothing to do. */
  ok: 0,
  /** A step failed while applying (some steps may have run). */
  stepFailed: 1,
  /** `--dry-run --detailed-exitcode`: the plan has changes. */
  changesPending: 2,
  /** Refused before changing anything: bad input, failed precondition, failed probe. */
  refused: 3,
  /**
   * `reactivate`: a pool it expects (recorded by dmctl, or named by the consumer's config) did not
   * appear within `--wait-devices` (its disks are missing). The pools that were there were brought
   * back first; nothing was done for the missing ones.
   */
  devicesMissing: 4,
  /** Interrupted by SIGINT, SIGTERM or SIGHUP. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error meant for the operator: one line naming the problem, and how to fix it. */
export class DmctlError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'DmctlError';
  }
}

/** Refused before anything changed (exit 3). */
export class RefusedError extends DmctlError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.refused, hint);
    this.name = 'RefusedError';
  }
}

/** reactivate: an expected pool's devices did not appear in time (exit 4). */
export class DevicesMissingError extends DmctlError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.devicesMissing, hint);
    this.name = 'DevicesMissingError';
  }
}

/** A probe tool is missing, failed, or printed something we do not understand: refuse, never assume. */
export class ProbeError extends RefusedError {
  constructor(
    message: string,
    hint?: string,
    readonly detail?: string,
  ) {
    super(message, hint);
    this.name = 'ProbeError';
  }
}

/** What dmctl suggests when a read-only command hangs: almost always a suspended (or dead) device under LVM. */
export const hungDeviceHint =
  'a device it reads may be hung: `dmsetup info -c` shows suspended devices (`dmsetup resume NAME`), see docs/troubleshooting.md ("a hung device")';

/** A command did not answer within its time limit: nothing was changed (exit 3). */
export class TimedOutError extends RefusedError {
  constructor(
    readonly command: string,
    readonly seconds: number,
    readonly stuckPid?: number,
  ) {
    super(
      `${command} did not answer within ${seconds} s${stuckPid !== undefined ? ` (pid ${stuckPid} did not die even from SIGKILL: it is blocked in the kernel)` : ''}`,
      hungDeviceHint,
    );
    this.name = 'TimedOutError';
  }
}

/** SIGINT, SIGTERM or SIGHUP ended dmctl outside an apply (exit 130). */
export class InterruptedError extends DmctlError {
  constructor(message: string) {
    super(message, ExitCode.interrupted);
    this.name = 'InterruptedError';
  }
}
