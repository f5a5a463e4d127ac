/** `status --prometheus`: node_exporter textfile-collector metrics, one gauge family per fact. */
import type { PoolReport, StatusReport } from '../plan/status.js';

interface Family {
  name: string;
  help: string;
  value: (p: PoolReport) => number | undefined;
}

const families: Family[] = [
  { name: 'dmctl_pool_active', help: 'Whether the thin pool is active (1) or not (0).', value: (p) => (p.active ? 1 : 0) },
  { name: 'dmctl_pool_data_size_bytes', help: 'Data size of the thin pool.', value: (p) => p.data?.totalBytes ?? p.sizeBytes },
  { name: 'dmctl_pool_data_used_bytes', help: 'Data used in the thin pool.', value: (p) => p.data?.usedBytes },
  { name: 'dmctl_pool_metadata_size_bytes', help: 'Metadata size of the thin pool.', value: (p) => p.metadata?.totalBytes },
  { name: 'dmctl_pool_metadata_used_bytes', help: 'Metadata used in the thin pool.', value: (p) => p.metadata?.usedBytes },
  { name: 'dmctl_pool_monitored', help: 'Whether dmeventd monitors the pool (LVM pools).', value: (p) => (p.kind === 'lvm' ? (p.monitoring === 'monitored' ? 1 : 0) : undefined) },
  { name: 'dmctl_pool_autoextend_threshold_percent', help: 'Data use (percent) at which LVM grows the pool; 100 means never.', value: (p) => p.autoextend?.threshold },
  { name: 'dmctl_pool_autoextend_percent', help: 'How much LVM grows the pool by, in percent of its size.', value: (p) => p.autoextend?.percent },
  { name: 'dmctl_pool_vg_free_bytes', help: 'Free space in the pool\'s volume group (what autoextend can use).', value: (p) => p.vgFreeBytes },
  { name: 'dmctl_pool_warnings', help: 'Number of warnings dmctl status reports for the pool.', value: (p) => p.warnings.length },
];

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function renderPrometheus(report: StatusReport): string {
  const lines: string[] = [];
  for (const f of families) {
    const rows = report.pools.flatMap((p) => {
      const v = f.value(p);
      return v === undefined ? [] : [`${f.name}{pool="${escape(p.name)}",dm_name="${escape(p.dmName)}",kind="${p.kind}"} ${v}`];
    });
    if (rows.length === 0) continue;
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`, ...rows);
  }
  lines.push('# HELP dmctl_device_mapper_loaded Whether the kernel has device-mapper loaded.', '# TYPE dmctl_device_mapper_loaded gauge', `dmctl_device_mapper_loaded ${report.deviceMapperLoaded ? 1 : 0}`);
  return `${lines.join('\n')}\n`;
}
