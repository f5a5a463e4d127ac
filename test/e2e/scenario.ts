/**
 * Scenario helper for the real-kernel tier: runs a bash scenario in a UML guest (./guest/) with the
 * built `dmctl` on hand, and reads back what each recorded command printed.
 *
 * In the scenario, `rec NAME CMD…` runs CMD and keeps its stdout, stderr and exit status under NAME;
 * `dmctl …` runs the project's real binary (bin/dmctl.js → dist/, built by `npm run build`).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInGuest, type GuestResult } from './guest/guest.js';

export interface Recorded {
  out: string;
  err: string;
  rc: number;
}

export interface ScenarioResult extends GuestResult {
  get(name: string): Promise<Recorded>;
  /** Any file the scenario wrote into its output directory ($OUT). */
  read(file: string): Promise<string>;
  /** The scenario's transcript, for failure messages. */
  transcript: string;
}

const prelude = `
set -uo pipefail
export NO_COLOR=1
dmctl() { node "$PROJECT_ROOT/bin/dmctl.js" "$@"; }
rec() {
  local name=$1; shift
  "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
  local rc=$?
  echo "$rc" >"$OUT/$name.rc"
  echo "+ $* [rc=$rc]"
  return 0
}
# late disks (uml-run --late-disk): plug K [HOSTPATH] asks the host to hot-add late disk K (or the image
# HOSTPATH, e.g. in $OUT) and waits up to 20 s for uml_mconsole's answer
plug() {
  local k=$1 io=/run/uml-run/io i
  rm -f "$io/plugged-$k"; echo "\${2:-}" >"$io/.plug-$k"; mv "$io/.plug-$k" "$io/plug-$k"
  for ((i = 0; i < 200; i++)); do [[ -e $io/plugged-$k ]] && break; sleep 0.1; done
  grep -q '^OK' "$io/plugged-$k"
}
`;

export interface ScenarioOptions {
  /** scratch disk sizes, attached as /dev/ubda, /dev/ubdb, … */
  disks?: string[];
  /** late disks (uml-run --late-disk): "plug K [HOSTPATH]" in the script hot-adds disk K (or that image) */
  lateDisks?: string[];
  /** guest timeout (default 300 s) */
  timeoutSec?: number;
  /** boot the guest with systemd as PID 1 (see guest/README.md, "systemd mode"); default false */
  systemd?: boolean;
  /** a stock host: systemd + systemd-udevd, untouched lvm.conf, no DM_DISABLE_UDEV (guest/README.md, "stock mode") */
  stock?: boolean;
  /** exported in the guest before the scenario (e.g. a PATH with another release's tools first) */
  env?: Record<string, string>;
}

/** The `rec` commands that never finished (an .out without its .rc), with the tail of what they printed. */
async function unfinished(out: string): Promise<string> {
  const names = (await readdir(out).catch(() => [] as string[])).filter((f) => f.endsWith('.out'));
  const open = names.map((f) => f.slice(0, -4)).filter((n) => !existsSync(join(out, `${n}.rc`)));
  const tail = async (f: string) => (await readFile(join(out, f), 'utf8').catch(() => '')).trimEnd().split('\n').slice(-10).join('\n');
  const parts = await Promise.all(open.map(async (n) => `---- still running: rec ${n} ----\nstdout:\n${await tail(`${n}.out`)}\nstderr:\n${await tail(`${n}.err`)}`));
  return parts.join('\n');
}

export async function runScenario(script: string, options: ScenarioOptions = {}): Promise<ScenarioResult & { cleanup(): Promise<void> }> {
  if (!existsSync(new URL('../../dist/dmctl.cjs', import.meta.url))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm run test:e2e does)');
  }
  const out = await mkdtemp(join(tmpdir(), 'dmctl-e2e-'));
  const result = await runInGuest(prelude + script, {
    disks: options.disks ?? [],
    lateDisks: options.lateDisks ?? [],
    share: [out],
    env: { ...options.env, OUT: out },
    timeoutSec: options.timeoutSec ?? 300,
    systemd: options.systemd ?? false,
    stock: options.stock ?? false,
  });
  if (result.exitCode === 124 || result.exitCode === 125) {
    const evidence = await unfinished(out);
    await rm(out, { recursive: true, force: true });
    const done = result.stdout.trimEnd().split('\n').slice(-15).join('\n');
    throw new Error(
      `the real-kernel guest failed to run (exit ${result.exitCode}):\n${result.stderr}\n` +
        `---- the scenario's last recorded commands ----\n${done}\n${evidence}`,
    );
  }
  return {
    ...result,
    transcript: `${result.stdout}\n${result.stderr}`,
    async get(name: string): Promise<Recorded> {
      const read = (ext: string) => readFile(join(out, `${name}.${ext}`), 'utf8');
      try {
        return { out: await read('out'), err: await read('err'), rc: Number((await read('rc')).trim()) };
      } catch {
        throw new Error(`scenario did not record "${name}":\n${result.stdout}\n${result.stderr}`);
      }
    },
    read: (file: string) => readFile(join(out, file), 'utf8'),
    cleanup: () => rm(out, { recursive: true, force: true }),
  };
}
