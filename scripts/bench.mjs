#!/usr/bin/env node
// dmctl's performance figures, measured in one run and printed as ratios (docs/performance.md).
// Never asserted in tests: timings depend on the machine. Run `npm run build` first; the real-kernel
// part needs the test tier's packages (test/e2e/setup) and root.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = 21;

/**
 * Median wall time of each command, the commands run round-robin (A B C A B C …) so that a machine
 * whose speed drifts during the measurement (a shared VM) skews them all alike, not one of them.
 */
function medians(commands) {
  const times = commands.map(() => []);
  for (let i = 0; i < runs; i++) {
    commands.forEach((argv, c) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
      times[c].push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(runs / 2)]);
}

// status --json against its own probes run from a shell. This kernel has no device-mapper, so here
// status asks lvs and lvmconfig only (it knows dm is not loaded): dmctl's own overhead, measured.
const lvsArgs = ['--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,lv_name,lv_attr,lv_size,segtype,pool_lv,data_percent,metadata_percent,lv_metadata_size,chunk_size,transaction_id,seg_monitor,lv_profile,lv_when_full,lv_health_status,lv_dm_path,vg_free,vg_extent_size'];
const probesSh = 'lvs --reportformat json --units b --nosuffix -o vg_name,lv_name,lv_attr,lv_size,segtype,pool_lv,data_percent,metadata_percent,lv_metadata_size,chunk_size,transaction_id,seg_monitor,lv_profile,lv_when_full,lv_health_status,lv_dm_path,vg_free,vg_extent_size >/dev/null; lvmconfig --typeconfig full config/profile_dir activation/thin_pool_autoextend_threshold activation/thin_pool_autoextend_percent >/dev/null';
process.env.LVM_SUPPRESS_FD_WARNINGS = '1';
const [node, version, help, status, raw, floor] = medians([
  [process.execPath, '-e', '0'],
  [process.execPath, 'bin/dmctl.js', '--version'],
  [process.execPath, 'bin/dmctl.js', '--help'],
  [process.execPath, 'bin/dmctl.js', '--json', 'status'],
  ['sh', '-c', probesSh],
  // The floor for any node program that asks lvs: start node, run lvs, exit.
  [process.execPath, '-e', `require('node:child_process').execFileSync('lvs', ${JSON.stringify(lvsArgs)}, { stdio: 'ignore' })`],
]);
console.log('start-up (host, median of %d):', runs);
console.log('  node -e 0          %s ms', node.toFixed(1));
console.log('  dmctl --version    %s ms  (%sx node; budget 1.3x)', version.toFixed(1), (version / node).toFixed(2));
console.log('  dmctl --help       %s ms  (%sx node; budget 1.5x)', help.toFixed(1), (help / node).toFixed(2));
console.log('  status --json      %s ms; its raw probes in sh %s ms: +%s ms', status.toFixed(1), raw.toFixed(1), (status - raw).toFixed(1));
console.log('                     (node that only runs lvs: %s ms, +%s ms over the probes; dmctl beyond that: +%s ms; budget +25 ms)', floor.toFixed(1), (floor - raw).toFixed(1), (status - floor).toFixed(1));

if (process.argv.includes('--host-only')) process.exit(0);
console.log('\nreal kernel (UML guest; in-guest process starts are slower than the host\'s):');
const guest = spawnSync(`${root}test/e2e/guest/uml-run`, ['--disk', '2G', '--disk', '6G', '--disk', '1G', '--timeout', '900', `${root}scripts/bench-guest.sh`], { cwd: root, encoding: 'utf8' });
if (guest.status !== 0) {
  console.error(guest.stdout, guest.stderr);
  process.exit(1);
}
const r = Object.fromEntries([...guest.stdout.matchAll(/^RESULT (\S+) (\S+)$/gm)].map((m) => [m[1].replace(/-/g, '_'), /^[\d.]+$/.test(m[2]) ? Number(m[2]) : m[2]]));
console.log('  status --json                 %d ms; its raw probes (lvs + dmsetup status) %d ms: +%d ms; node -e 0 there: %d ms',
  r.status_ms, r.raw_probes_ms, r.status_ms - r.raw_probes_ms, r.node_ms);
console.log('  status, loop pool, 1 thin     %d ms; 1000 thin devices %d ms (%sx)', r.status_1_thin_ms, r.status_1000_thin_ms, (r.status_1000_thin_ms / r.status_1_thin_ms).toFixed(2));
console.log('  worst write stall of an O_DIRECT writer while the pool grows by 256 MiB (max of 3 runs):');
console.log('    no resize                        %s ms', r.stall_none_ms);
console.log('    dmctl resize-loop (reload+resume) %s ms', r.stall_dmctl_ms);
console.log('    reload, suspend, resume          %s ms', r.stall_reload_suspend_resume_ms);
console.log('    the guide (suspend, reload, resume) %s ms', r.stall_guide_ms);
console.log('  init-direct --yes, fresh 1 GiB disk, no consumer (median of 3): %d ms; the same commands from bash (its --format shell runbook): %d ms: %sx (budget 1.2x)',
  r.apply_ms, r.guide_ms, (r.apply_ms / r.guide_ms).toFixed(2));
console.log('    planning alone (--dry-run) %d ms; all runs: dmctl %s, bash %s', r.plan_ms, r.apply_all, r.guide_all);
