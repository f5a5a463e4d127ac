/** systemd units of the consumers. Only used when systemd is PID 1 (`/run/systemd/system` exists). */
import type { Argv, Query } from './exec.js';

export type UnitState = 'active' | 'inactive' | 'failed' | 'activating' | 'deactivating' | 'unknown';

export function isActiveQuery(unit: string): Query<UnitState> {
  return {
    argv: ['systemctl', 'is-active', unit],
    // is-active exits 3 (or 4 for an unknown unit) when the unit is not active: still an answer.
    okExitCodes: [0, 3, 4],
    parse: (stdout) => {
      const word = stdout.trim().split('\n')[0] ?? '';
      return (['active', 'inactive', 'failed', 'activating', 'deactivating'] as const).find((s) => s === word) ?? 'unknown';
    },
  };
}

export function systemctlArgv(verb: 'start' | 'stop' | 'restart' | 'enable' | 'daemon-reload', ...units: string[]): Argv {
  return ['systemctl', verb, ...units];
}

/** Where unit files live, most specific first (systemd.unit(5), "Unit File Load Path"). */
export const unitDirs = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

/** sd_booted(3): systemd is the init system when this directory exists. */
export const systemdRuntimeDir = '/run/systemd/system';
