// Run a bash scenario inside a throw-away User-Mode Linux guest (real device-mapper) via ./uml-run.
// See ./README.md for the guest environment. Only node: built-ins, so vitest can load it as is.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface GuestResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface GuestOptions {
  /** scratch disk sizes (e.g. '1G'), attached as /dev/ubda, /dev/ubdb, … */
  disks?: string[];
  /** uml-run --late-disk: disks the guest hot-adds (and removes) on request, see README "Late disks" */
  lateDisks?: string[];
  /** kill the guest after this many seconds (uml-run default 600); exitCode 124 then */
  timeoutSec?: number;
  /** host directories writable inside the guest at the same path */
  share?: string[];
  /** exported inside the guest before the script runs */
  env?: Record<string, string>;
  /**
   * boot systemd as PID 1 (uml-run --systemd): the script runs as a oneshot service once
   * multi-user.target is reached, with docker.service and containerd.service up (default false)
   */
  systemd?: boolean;
  /**
   * a stock host (uml-run --stock, implies systemd): systemd-udevd runs, lvm.conf is the distribution's,
   * no DM_DISABLE_UDEV (default false)
   */
  stock?: boolean;
}

/** Path of the runner script next to this file. */
export const UML_RUN = join(dirname(fileURLToPath(import.meta.url)), 'uml-run');

/** Quote a string for bash with single quotes: a'b → 'a'\''b'. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Run `script` (bash source) as root in a fresh guest, cwd = project root.
 * Resolves with the script's exit code and its separate stdout/stderr; never rejects on a non-zero
 * exit (124 = timeout, 125 = guest could not start / died). Rejects only if uml-run cannot be spawned.
 */
export async function runInGuest(script: string, opts: GuestOptions = {}): Promise<GuestResult> {
  const dir = await mkdtemp(join(tmpdir(), 'dmctl-guest-'));
  try {
    const prelude = Object.entries(opts.env ?? {}).map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`runInGuest: bad env name ${JSON.stringify(k)}`);
      return `export ${k}=${shellQuote(v)}\n`;
    });
    const file = join(dir, 'scenario.sh');
    await writeFile(file, prelude.join('') + script, { mode: 0o755 });

    const args: string[] = [];
    for (const d of opts.disks ?? []) args.push('--disk', d);
    for (const d of opts.lateDisks ?? []) args.push('--late-disk', d);
    for (const s of opts.share ?? []) args.push('--share', s);
    if (opts.timeoutSec !== undefined) args.push('--timeout', String(Math.ceil(opts.timeoutSec)));
    if (opts.stock) args.push('--stock');
    else if (opts.systemd) args.push('--systemd');
    args.push(file);

    return await new Promise<GuestResult>((resolve, reject) => {
      const child = spawn(UML_RUN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject); // could not spawn (ENOENT, EACCES…)
      child.on('close', (code, signal) =>
        resolve({
          exitCode: code ?? 128 + (signal ? constants.signals[signal] : 0),
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        }),
      );
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
