/** `status --devices` as text; `--json` prints the DevicesReport itself. */
import type { ChalkInstance } from 'chalk';
import type { DevicesReport } from '../plan/devices.js';
import { formatBytes } from './style.js';
import { table, type Cell } from './status.js';

export function renderDevicesJson(report: DevicesReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export function renderDevicesText(report: DevicesReport, style: ChalkInstance): string {
  const out: string[] = [];
  if (report.pools.length === 0 && report.skipped.length === 0) {
    out.push('No thin pools on this host. Create one with `dmctl init-direct DEV` or `dmctl init-loop` (see dmctl --help).');
  }
  for (const pool of report.pools) {
    if (out.length > 0) out.push('');
    const used = pool.data ? `used ${formatBytes(pool.data.usedBytes)} of ${formatBytes(pool.data.totalBytes)} (${pool.data.percent.toFixed(1)}%)` : 'use unknown';
    const count = `${pool.devices.length} thin device${pool.devices.length === 1 ? '' : 's'}`;
    out.push(style.bold(`${pool.name}: ${count} · ${used} · ${formatBytes(pool.exclusiveBytes)} exclusive to one device, the rest shared`));
    if (pool.devices.length === 0) continue;
    const rows = pool.devices.map((d): Cell[] => [
      { text: String(d.deviceId) },
      { text: formatBytes(d.exclusiveBytes) },
      { text: formatBytes(d.mappedBytes) },
      { text: d.ownerText, color: d.owner.kind === 'unknown' ? style.yellow : undefined },
    ]);
    out.push(...table(['DEV', 'EXCLUSIVE', 'MAPPED', 'OWNER'], rows, style).map((l) => `  ${l}`));
  }
  for (const s of report.skipped) {
    if (out.length > 0) out.push('');
    out.push(`${s.name}: not read (${s.reason})`);
  }
  if (report.pools.length > 0) {
    out.push('');
    out.push(style.dim('EXCLUSIVE: blocks only that device maps (removing it frees them); MAPPED includes blocks shared with its image.'));
  }
  return `${out.join('\n')}\n`;
}
