/** `status` as human text; `--json` prints the StatusReport object itself. */
import type { ChalkInstance } from 'chalk';
import type { PoolReport, StatusReport, Usage } from '../plan/status.js';
import { formatBytes } from './style.js';

export function renderStatusJson(report: StatusReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** `10.4% of 8 MiB`: the use an operator scans for; the bytes used are on the pool's detail line. */
function usageCell(u: Usage | undefined, sizeBytes?: number): string {
  if (!u) return sizeBytes === undefined ? '—' : `— of ${formatBytes(sizeBytes)}`;
  return `${u.percent.toFixed(1)}% of ${formatBytes(u.totalBytes)}`;
}

function autoextendCell(p: PoolReport): string {
  const ae = p.autoextend;
  if (!ae) return '—';
  return ae.enabled ? `${ae.threshold}% +${ae.percent}%` : `off (${ae.threshold})`;
}

export interface Cell {
  text: string;
  color?: (s: string) => string;
}

/** Columns padded to their widest cell; colour is applied after padding so it never skews widths. */
export function table(header: string[], rows: Cell[][], style: ChalkInstance): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.text.length)));
  const line = (cells: Cell[]) =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c.text : c.text.padEnd(widths[i]!);
        return c.color ? c.color(padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return [style.bold(line(header.map((text) => ({ text })))), ...rows.map(line)];
}

export function renderStatusText(report: StatusReport, style: ChalkInstance): string {
  const out: string[] = [];
  if (!report.deviceMapperLoaded) {
    out.push(`${style.yellow('!')} this kernel has no device-mapper driver loaded, so no pool can be active: load it with \`modprobe dm_thin_pool\` (as root)`);
  }
  if (report.pools.length === 0) {
    out.push('No thin pools on this host. Create one with `dmctl init-direct DEV` or `dmctl init-loop` (see dmctl --help).');
    return `${out.join('\n')}\n`;
  }
  const high = (u: Usage | undefined) => (u && u.percent >= 80 ? style.yellow : undefined);
  const rows = report.pools.map((p): Cell[] => {
    const state = !p.active ? 'inactive' : p.mode === 'rw' ? 'active' : p.mode === 'out_of_data_space' ? 'out of space' : p.mode === 'ro' ? 'read-only' : p.mode === 'failed' ? 'FAILED' : 'unknown';
    return [
      { text: p.kind === 'dm' ? `${p.name} (dm)` : p.name },
      { text: state, color: !p.active ? style.yellow : p.mode === 'rw' ? style.green : style.red },
      { text: usageCell(p.data, p.data ? undefined : p.sizeBytes), color: high(p.data) },
      { text: usageCell(p.metadata), color: high(p.metadata) },
      { text: p.monitoring, color: p.monitoring === 'monitored' || p.monitoring === 'n/a' ? undefined : style.yellow },
      { text: autoextendCell(p), color: p.autoextend && !p.autoextend.enabled ? style.yellow : undefined },
      { text: p.vgFreeBytes === undefined ? '—' : formatBytes(p.vgFreeBytes) },
    ];
  });
  // Compact (about 90 columns for a usual pool name); the rest of each pool is on its detail line.
  out.push(...table(['POOL', 'STATE', 'DATA', 'METADATA', 'MONITOR', 'AUTOEXTEND', 'VG FREE'], rows, style));
  out.push('');
  for (const p of report.pools) {
    const facts = [`/dev/mapper/${p.dmName}`];
    if (p.data && p.metadata) facts.push(`used ${formatBytes(p.data.usedBytes)} data, ${formatBytes(p.metadata.usedBytes)} metadata`);
    facts.push(`chunk ${formatBytes(p.chunkSizeBytes)}`);
    if (p.transactionId !== undefined) facts.push(`transaction ${p.transactionId}`);
    facts.push(`when full: ${p.whenFull ?? '—'}`);
    if (p.thinLvs !== undefined) facts.push(`${p.thinLvs} thin LV${p.thinLvs === 1 ? '' : 's'}`);
    if (p.autoextend) facts.push(`autoextend from ${p.autoextend.source}`);
    for (const use of p.consumers) {
      // The size each container gets, which is not the pool's (a common confusion).
      const each = use.baseSizeBytes === undefined ? '' : `${formatBytes(use.baseSizeBytes)} per ${use.kind === 'docker' ? 'container' : 'snapshot'}`;
      const floor = use.minFreeSpacePercent === undefined ? '' : `min free ${use.minFreeSpacePercent}%`;
      facts.push(`used by ${use.kind === 'docker' ? 'Docker' : 'containerd'}${each || floor ? ` (${[each, floor].filter(Boolean).join(', ')})` : ''}`);
    }
    if (p.devices) {
      const dev = (d: string, f?: string) => (f ? `${d} (${f})` : d);
      facts.push(`data ${dev(p.devices.data, p.devices.dataFile)}`, `metadata ${dev(p.devices.metadata, p.devices.metadataFile)}`);
    }
    out.push(...joinWrapped(`${p.name}: `, facts, detailWidth).map((line, i) => (i === 0 ? line.replace(p.name, style.bold(p.name)) : line)));
    for (const w of p.warnings) out.push(`  ${style.yellow('!')} ${w.message}`);
  }
  return `${out.join('\n')}\n`;
}

/** Detail lines wrap at this width, like the table (a terminal's 100 columns). */
const detailWidth = 100;

/** `head` then the items joined by ` · `, wrapped before `width` with continuation lines indented. */
function joinWrapped(head: string, items: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let line = head;
  for (const [i, item] of items.entries()) {
    const sep = i === 0 ? '' : ' · ';
    if (i > 0 && line.length + sep.length + item.length > width) {
      lines.push(line);
      line = `  ${item}`;
    } else {
      line += sep + item;
    }
  }
  return [...lines, line];
}
