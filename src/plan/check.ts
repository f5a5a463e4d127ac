/**
 * `status --check`: one Nagios-plugin line and its exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN),
 * computed from the status report. Pure.
 */
import { autoextendBlocked, belowDockerMinFree, transactionIdMismatch, type PoolReport, type StatusReport } from './status.js';

export interface CheckThresholds {
  warn: number;
  crit: number;
  metaWarn: number;
  metaCrit: number;
}

export const defaultThresholds: CheckThresholds = { warn: 80, crit: 90, metaWarn: 80, metaCrit: 90 };

export const pluginCodes = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;
const names = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

export interface CheckResult {
  code: 0 | 1 | 2 | 3;
  line: string;
}

interface Finding {
  level: 1 | 2 | 3;
  text: string;
}

function findings(pool: PoolReport, t: CheckThresholds): Finding[] {
  const f: Finding[] = [];
  const n = pool.name;
  if (pool.kind === 'lvm' && !pool.active) f.push({ level: 2, text: `${n} inactive` });
  if (pool.mode === 'failed') f.push({ level: 2, text: `${n} failed` });
  if (pool.mode === 'out_of_data_space') f.push({ level: 2, text: `${n} out of data space` });
  if (pool.mode === 'ro') f.push({ level: 2, text: `${n} read-only (metadata)` });
  if (pool.needsCheck) f.push({ level: 2, text: `${n} needs check` });
  const short = belowDockerMinFree(pool);
  if (short) f.push({ level: 2, text: `${n} ${short.parts.join(' and ')} under ${short.floor}% free: Docker refuses new containers (dm.min_free_space)` });
  if (transactionIdMismatch(pool)) f.push({ level: 1, text: `${n} will not re-activate (transaction id ${pool.transactionId}, LVM expects ${pool.lvmTransactionId})` });
  if (pool.data) {
    if (pool.data.percent >= t.crit) f.push({ level: 2, text: `${n} data ${pool.data.percent}% >= ${t.crit}%` });
    else if (pool.data.percent >= t.warn) f.push({ level: 1, text: `${n} data ${pool.data.percent}% >= ${t.warn}%` });
  }
  if (pool.metadata) {
    if (pool.metadata.percent >= t.metaCrit) f.push({ level: 2, text: `${n} metadata ${pool.metadata.percent}% >= ${t.metaCrit}%` });
    else if (pool.metadata.percent >= t.metaWarn) f.push({ level: 1, text: `${n} metadata ${pool.metadata.percent}% >= ${t.metaWarn}%` });
  }
  if (pool.kind === 'lvm' && pool.active) {
    if (pool.monitoring !== 'monitored') f.push({ level: 1, text: `${n} not monitored` });
    if (pool.autoextend && !pool.autoextend.enabled) f.push({ level: 1, text: `${n} autoextend off` });
    else if (autoextendBlocked(pool)) {
      f.push({ level: 1, text: `${n} will not autoextend (VG ${pool.vg} has too few free extents for the next step)` });
    }
  }
  return f;
}

const perf = (label: string, value: number, warn: number, crit: number) => `'${label}'=${value}%;${warn};${crit};0;100`;

export function checkStatus(report: StatusReport, t: CheckThresholds): CheckResult {
  if (report.pools.length === 0) {
    return { code: 3, line: `DMCTL UNKNOWN - no thin pools on this host${report.deviceMapperLoaded ? '' : ' (device-mapper is not loaded)'}` };
  }
  const all = report.pools.flatMap((p) => findings(p, t));
  const code = Math.max(0, ...all.map((x) => x.level)) as CheckResult['code'];
  const summary =
    all.length > 0
      ? all.sort((a, b) => b.level - a.level).map((x) => x.text).join(', ')
      : report.pools.map((p) => `${p.name} data ${p.data?.percent ?? '-'}% metadata ${p.metadata?.percent ?? '-'}%`).join(', ');
  const perfdata = report.pools
    .flatMap((p) => [
      ...(p.data ? [perf(`${p.name} data`, p.data.percent, t.warn, t.crit)] : []),
      ...(p.metadata ? [perf(`${p.name} metadata`, p.metadata.percent, t.metaWarn, t.metaCrit)] : []),
    ])
    .join(' ');
  return { code, line: `DMCTL ${names[code]} - ${summary}${perfdata ? ` | ${perfdata}` : ''}` };
}
