#!/usr/bin/env node
// dmctl's performance figures, measured in one run and printed as ratios (docs/performance.md).
// Never asserted in tests: timings depend on the machine. Run `npm run build` first; the real-kernel
// part needs the test tier's packages (test/e2e/setup) and root.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = 15;

function medianMs(argv) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)];
}

const node = medianMs([process.execPath, '-e', '0']);
const version = medianMs([process.execPath, 'bin/dmctl.js', '--version']);
const help = medianMs([process.execPath, 'bin/dmctl.js', '--help']);
console.log('start-up (host, median of %d):', runs);
console.log('  node -e 0          %s ms', node.toFixed(1));
console.log('  dmctl --version    %s ms  (%sx node; budget 1.5x)', version.toFixed(1), (version / node).toFixed(2));
console.log('  dmctl --help       %s ms  (%sx node; budget 1.5x)', help.toFixed(1), (help / node).toFixed(2));

// status --json against its own probes run from a shell. This kernel has no device-mapper, so here
// status asks lvs and lvmconfig only (it knows dm is not loaded): dmctl's own overhead, measured.
const probesSh = 'lvs --reportformat json --units b --nosuffix -o vg_name,lv_name,lv_attr,lv_size,segtype,pool_lv,data_percent,metadata_percent,lv_metadata_size,chunk_size,transaction_id,seg_monitor,lv_profile,lv_when_full,lv_health_status,lv_dm_path,vg_free,vg_extent_size >/dev/null; lvmconfig --typeconfig full config/profile_dir activation/thin_pool_autoextend_threshold activation/thin_pool_autoextend_percent >/dev/null';
process.env.LVM_SUPPRESS_FD_WARNINGS = '1';
const status = medianMs([process.execPath, 'bin/dmctl.js', '--json', 'status']);
const raw = medianMs(['sh', '-c', probesSh]);
console.log('  status --json      %s ms; its raw probes in sh %s ms: +%s ms (budget +60 ms)', status.toFixed(1), raw.toFixed(1), (status - raw).toFixed(1));

if (process.argv.includes('--host-only')) process.exit(0);
console.log('\nreal kernel (UML guest; in-guest process starts are slower than the host\'s):');
const guest = spawnSync(`${root}test/e2e/guest/uml-run`, ['--disk', '2G', '--disk', '6G', '--timeout', '900', `${root}scripts/bench-guest.sh`], { cwd: root, encoding: 'utf8' });
if (guest.status !== 0) {
  console.error(guest.stdout, guest.stderr);
  process.exit(1);
}
const r = Object.fromEntries([...guest.stdout.matchAll(/^RESULT (\S+) (\S+)$/gm)].map((m) => [m[1].replace(/-/g, '_'), Number(m[2])]));
console.log('  status --json                 %d ms; its raw probes (lvs + dmsetup status) %d ms: +%d ms (budget +60 ms); node -e 0 there: %d ms',
  r.status_ms, r.raw_probes_ms, r.status_ms - r.raw_probes_ms, r.node_ms);
console.log('  status, loop pool, 1 thin     %d ms; 1000 thin devices %d ms (%sx)', r.status_1_thin_ms, r.status_1000_thin_ms, (r.status_1000_thin_ms / r.status_1_thin_ms).toFixed(2));
console.log('  worst write stall of an O_DIRECT writer while the pool grows by 256 MiB (max of 3 runs):');
console.log('    no resize                        %s ms', r.stall_none_ms);
console.log('    dmctl resize-loop (reload+resume) %s ms', r.stall_dmctl_ms);
console.log('    reload, suspend, resume          %s ms', r.stall_reload_suspend_resume_ms);
console.log('    the guide (suspend, reload, resume) %s ms', r.stall_guide_ms);
