/** Everything a command needs from the outside world, injected so the CLI runs in-process in tests. */
import type { Deadlines, Executor } from '../system/exec.js';
import type { HostFiles } from '../system/files.js';
import type { StatusState } from '../model/state.js';

export interface Io {
  /** Data: plans, JSON, status tables. */
  stdout: { write(text: string): void; isTTY?: boolean };
  /** Humans: progress, prompts, errors. */
  stderr: { write(text: string): void; isTTY?: boolean };
  /** Reads one line typed by the operator; undefined when stdin is not a terminal. */
  prompt?: (question: string) => Promise<string>;
}

export interface CliContext {
  executor: Executor;
  files: HostFiles;
  uid: number;
  env: NodeJS.ProcessEnv;
  io: Io;
  /**
   * Installs a handler for SIGINT, SIGTERM and SIGHUP (it gets the signal's name); returns its removal.
   * main() installs one for the whole run; commands that handle a signal themselves (apply, `status
   * --watch`) stack theirs on it, and only the newest runs.
   */
  onInterrupt?: (handler: (signal?: string) => void) => () => void;
  /** Kills the read-only commands still running (a signal outside an apply, `status --watch` ending). */
  cancel?: () => void;
  /** Time limits; default: `defaultDeadlines` (system/exec.ts), `--timeout`, `DMCTL_STEP_TIMEOUT`. */
  deadlines?: Partial<Deadlines>;
  /** Ends the process: the last resort when a signal arrived and dmctl did not end on its own. */
  exit?: (code: number) => void;
  sleep?: (ms: number) => Promise<void>;
  /** The clock (journal names, lock info); injectable for tests. */
  now?: () => Date;
  /** This process's id, written into the host lock. */
  pid?: number;
  /** How systemd should run dmctl (absolute node + launcher); default: this process's. */
  dmctlArgv?: readonly string[];
  /** Config file locations (tests, non-standard hosts). */
  paths?: { daemonJson?: string; containerdConfig?: string };
  /** `status`'s probe, started by main() before the command loaded; taken (once) by the command. */
  statusProbe?: Promise<StatusState>;
}

/** Global flags, shared by every subcommand. */
export interface GlobalOptions {
  dryRun: boolean;
  yes: boolean;
  /** `--json`, or `--format json`. */
  json: boolean;
  /** How plans are shown: human text, JSON, or a bash runbook (which implies a dry run). */
  format: 'text' | 'json' | 'shell';
  /** `--out FILE`: save the plan for `dmctl apply FILE` instead of applying it. */
  out: string | undefined;
  /** `--wait`: wait for another dmctl's host lock instead of refusing. */
  wait: boolean;
  color: boolean;
  verbose: boolean;
  detailedExitcode: boolean;
  /** `--timeout SECS`: each read-only command's limit (status --check: the whole check's). */
  timeout?: number | undefined;
}

/** The context's sleep, or a real timer. */
export function sleepOf(ctx: CliContext): (ms: number) => Promise<void> {
  return ctx.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
}

/** The context's clock, or the real one. */
export function nowOf(ctx: CliContext): Date {
  return ctx.now?.() ?? new Date();
}
