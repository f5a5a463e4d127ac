/** `status` as human text; `--json` prints the StatusReport object itself. */
import type { ChalkInstance } from 'chalk';
import type { PoolReport, StatusReport, Usage } from '../plan/status.js';
import { formatBytes } from './style.js';

export function renderStatusJson(report: StatusReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

function usageText(u: Usage | undefined): string {
  return u ? `${formatBytes(u.usedBytes)} of ${formatBytes(u.totalBytes)}`.padEnd(26) + `${u.percent.toFixed(2)}%` : '—';
}

function poolBlock(p: PoolReport, style: ChalkInstance): string[] {
  const state = !p.active ? style.yellow('inactive') : p.mode === 'rw' ? style.green('active, rw') : style.red(`active, ${p.mode ?? 'unknown'}`);
  const lines = [`${style.bold(p.name)}  (/dev/mapper/${p.dmName})  ${state}${p.kind === 'dm' ? style.dim('  [bare dm pool]') : ''}`];
  const pct = (u: Usage | undefined, warnAt: number) => {
    const text = usageText(u);
    return u && u.percent >= warnAt ? style.yellow(text) : text;
  };
  lines.push(`  data       ${pct(p.data, 80)}${p.data ? '' : `  (size ${formatBytes(p.sizeBytes)})`}`);
  lines.push(`  metadata   ${pct(p.metadata, 80)}`);
  const facts = [
    `chunk ${formatBytes(p.chunkSizeBytes)}`,
    `transaction ${p.transactionId ?? '—'}`,
    `when full: ${p.whenFull ?? '—'}`,
    ...(p.thinLvs !== undefined ? [`${p.thinLvs} thin LV${p.thinLvs === 1 ? '' : 's'}`] : []),
  ];
  lines.push(`  ${facts.join(' · ')}`);
  if (p.kind === 'lvm') {
    const ae = p.autoextend;
    const aeText = ae ? (ae.enabled ? `at ${ae.threshold}% by ${ae.percent}% (${ae.source})` : `off (threshold ${ae.threshold}, ${ae.source})`) : '—';
    lines.push(`  monitoring: ${p.monitoring === 'monitored' ? style.green('monitored') : style.yellow(p.monitoring)} · autoextend: ${aeText} · VG free: ${p.vgFreeBytes === undefined ? '—' : formatBytes(p.vgFreeBytes)}`);
  } else if (p.devices) {
    const dev = (d: string, f?: string) => (f ? `${d} (${f})` : d);
    lines.push(`  data dev ${dev(p.devices.data, p.devices.dataFile)} · metadata dev ${dev(p.devices.metadata, p.devices.metadataFile)}`);
  }
  for (const w of p.warnings) lines.push(`  ${style.yellow('!')} ${w.message}`);
  return lines;
}

export function renderStatusText(report: StatusReport, style: ChalkInstance): string {
  const out: string[] = [];
  if (!report.deviceMapperLoaded) {
    out.push(`${style.yellow('!')} this kernel has no device-mapper driver loaded, so no pool can be active: load it with \`modprobe dm_thin_pool\` (as root)`);
  }
  if (report.pools.length === 0) out.push('No thin pools on this host. Create one with `dmctl init-direct DEV` (see dmctl --help).');
  else out.push(report.pools.map((p) => poolBlock(p, style).join('\n')).join('\n\n'));
  return `${out.join('\n')}\n`;
}
