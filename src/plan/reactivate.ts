/**
 * `reactivate`: bring thin pools back after a reboot ("Non existing device" in the guide). LVM pools
 * are activated (and monitored again); loop pools dmctl built are rebuilt from their record: loop
 * devices re-attached, then `dmsetup create` with the identical table (a `reload` is wrong here: the
 * device does not exist yet).
 */
import { freeLoopDevices } from '../system/losetup.js';
import { lvchangeActivateArgv, lvchangeMonitorArgv, segMonitorArgv, type LogicalVolume } from '../system/lvm.js';
import { parsePoolRecord, type PoolRecord } from '../system/pool-record.js';
import { systemctlArgv } from '../system/systemd.js';
import { unitName, unitPath } from '../model/names.js';
import type { ReactivateOptions } from '../model/options.js';
import type { ReactivateState } from '../model/state.js';
import { loopDevicesNeeded, rebuildProblem, rebuildSteps } from './loop-rebuild.js';
import { checkStep, execStep, loadDmThinStep, refuseIfAny, writeFileStep } from './steps.js';
import { makePlan, type Note, type Plan, type Step } from './types.js';

export function unitContent(dmctlArgv: readonly string[]): string {
  return [
    '# Written by dmctl: brings thin pools back at boot, before their consumers start.',
    '[Unit]',
    'Description=Reactivate device-mapper thin pools (dmctl)',
    'DefaultDependencies=no',
    'After=local-fs.target lvm2-monitor.service systemd-udev-settle.service',
    'Wants=local-fs.target',
    'Before=docker.service containerd.service shutdown.target',
    'Conflicts=shutdown.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${dmctlArgv.join(' ')} reactivate --yes`,
    '',
    '[Install]',
    'WantedBy=multi-user.target docker.service containerd.service',
    '',
  ].join('\n');
}

export function planReactivate(state: ReactivateState, options: ReactivateOptions): Plan {
  const lvmPools = state.lvs.filter((l) => l.attr.isThinPool);
  const records = readRecords(state);
  const down = records.valid.filter((r) => !state.dmNames.includes(r.name));
  refuseIfAny([
    ...lvmPools.flatMap((pool) => transactionIdProblems(state, pool)),
    ...records.problems,
    ...down.flatMap((r) => [rebuildProblem(r, state.fileBytes)].filter((p): p is string => p !== undefined)),
  ]);
  const steps = [
    ...lvmPools.flatMap(lvmPoolSteps),
    ...loopPoolSteps(state, down),
    ...(options.installUnit ? unitSteps(state, options) : []),
  ];
  const notes = [
    ...(steps.some((s) => /^(activate|create|monitor)-/.test(s.id)) ? [] : [{ level: 'info' as const, text: 'every thin pool is active and monitored' }]),
    ...lvmPools.flatMap(repairNotes),
    ...(options.installUnit && !state.systemd ? [{ level: 'info' as const, text: `systemd does not run here: enable ${unitName} on the host that boots with it (systemctl enable ${unitName})` }] : []),
  ];
  return makePlan('reactivate', 'thin pools after a reboot', state, steps, notes);
}

/** LVM refuses an inactive pool whose superblock's transaction id is not LVM's (moby#15629). */
function transactionIdProblems(state: ReactivateState, pool: LogicalVolume): string[] {
  const ref = `${pool.vgName}/${pool.name}`;
  const inMetadata = state.metadataTransactionIds[ref];
  if (pool.attr.active || inMetadata === undefined || inMetadata === pool.transactionId) return [];
  // LVM would refuse: "Thin pool VG-POOL-tpool transaction_id is N, while expected M."
  return [
    `${ref}: LVM expects transaction id ${pool.transactionId} but the pool's metadata holds ${inMetadata} (something besides LVM changed the pool, e.g. its consumer), so LVM refuses to activate it ("transaction_id is ${inMetadata}, while expected ${pool.transactionId}", moby#15629): repair LVM's record as docs/troubleshooting.md ("transaction id mismatch") shows, then run dmctl reactivate again`,
  ];
}

/** Activate an inactive pool, and (re-)enable and verify its monitoring. */
function lvmPoolSteps(pool: LogicalVolume): Step[] {
  const ref = `${pool.vgName}/${pool.name}`;
  const id = `${pool.vgName}-${pool.name}`;
  const active = pool.attr.active;
  return [
    ...(active ? [] : [execStep(`activate-${id}`, `Activate ${ref}`, lvchangeActivateArgv(pool.vgName, pool.name, pool.attr.skipActivation),
      pool.attr.skipActivation ? 'The pool is inactive and flagged skip-activation (k): -K overrides the flag.' : 'The pool is inactive: its consumer fails with "Non existing device".')]),
    ...(active && pool.monitor === 'monitored' ? [] : [
      execStep(`monitor-${id}`, `Monitor ${ref}`, lvchangeMonitorArgv(pool.vgName, pool.name), 'Without dmeventd monitoring autoextend never happens.'),
      checkStep(`verify-monitor-${id}`, `Verify ${ref} is monitored`, segMonitorArgv(pool.vgName, pool.name), { equals: 'monitored' }, 'dmeventd must be watching the pool.'),
    ]),
  ];
}

function repairNotes(pool: LogicalVolume): Note[] {
  const ref = `${pool.vgName}/${pool.name}`;
  const broken = pool.attr.checkNeeded || pool.attr.health === 'failed' || pool.attr.health === 'metadata-read-only';
  return broken ? [{ level: 'warning', text: `${ref} needs a repair (lv_attr ${pool.attr.raw}): deactivate it and run \`lvconvert --repair ${ref}\`` }] : [];
}

function readRecords(state: ReactivateState): { valid: PoolRecord[]; problems: string[] } {
  const valid: PoolRecord[] = [];
  const problems: string[] = [];
  for (const [file, text] of Object.entries(state.records)) {
    try {
      valid.push(parsePoolRecord(text));
    } catch {
      problems.push(`${file} is not a valid dmctl pool record: fix or remove it`);
    }
  }
  return { valid, problems };
}

/** Rebuild the recorded loop pools that are down, loading dm-thin first when the kernel lacks it. */
function loopPoolSteps(state: ReactivateState, down: readonly PoolRecord[]): Step[] {
  if (down.length === 0) return [];
  const free = freeLoopDevices(state.devEntries, state.loops, down.reduce((n, r) => n + loopDevicesNeeded(r, state.loops), 0));
  return [
    ...(state.deviceMapperLoaded ? [] : [loadDmThinStep()]),
    ...down.flatMap((record) => rebuildSteps(record, state.loops, state.fileBytes, free)),
  ];
}

/** Write the boot unit (and have systemd read it), then enable it. */
function unitSteps(state: ReactivateState, options: ReactivateOptions): Step[] {
  const content = unitContent(options.dmctlArgv);
  const write = state.unitFile === content ? [] : [
    writeFileStep('write-unit', `Install ${unitPath}`, { path: unitPath, content }, 'A oneshot unit ordered before docker.service and containerd.service, so a reboot needs no human.'),
    ...(state.systemd ? [execStep('daemon-reload', 'Reload systemd', systemctlArgv('daemon-reload'), 'systemd reads the new unit.')] : []),
  ];
  const enable = state.systemd && !state.unitEnabled ? [execStep('enable-unit', `Enable ${unitName}`, systemctlArgv('enable', unitName), 'Run it at every boot.')] : [];
  return [...write, ...enable];
}
