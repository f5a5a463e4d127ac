/**
 * `reactivate`: bring thin pools back after a reboot ("Non existing device" in the guide). LVM pools
 * are activated (and monitored again); loop pools dmctl built are rebuilt from their record: loop
 * devices re-attached, then `dmsetup create` with the identical table (a `reload` is wrong here: the
 * device does not exist yet).
 */
import { DevicesMissingError, RefusedError, type DmctlError } from '../errors.js';
import { containerdPoolUse } from '../system/containerd.js';
import { dockerPoolUse, parseDaemonJson } from '../system/docker.js';
import { freeLoopDevices } from '../system/losetup.js';
import { lvchangeActivateArgv, lvchangeMonitorArgv, lvmDmName, segMonitorArgv, type LogicalVolume } from '../system/lvm.js';
import { parseAnyPoolRecord, tryParseAnyPoolRecord, type LvmPoolRecord, type PoolRecord } from '../system/pool-record.js';
import { systemctlArgv } from '../system/systemd.js';
import { dockerManagedPool, unitName, unitPath, unitWaitDevicesSec } from '../model/names.js';
import type { ReactivateOptions } from '../model/options.js';
import type { ReactivateState } from '../model/state.js';
import { loopDevicesNeeded, rebuildProblem, rebuildSteps } from './loop-rebuild.js';
import { checkStep, execStep, loadDmThinStep, writeFileStep } from './steps.js';
import { makePlan, type Note, type Plan, type Step } from './types.js';

/**
 * The boot unit. It does not order itself after the deprecated systemd-udev-settle (which waits for
 * every device, and still not for one that appears late): after udev has started the coldplug
 * (systemd-udev-trigger) and LVM's own units, `--wait-devices` waits for exactly the pools it expects.
 */
export function unitContent(dmctlArgv: readonly string[], waitDevicesSec: number = unitWaitDevicesSec): string {
  return [
    '# Written by dmctl: brings thin pools back at boot, before their consumers start.',
    '[Unit]',
    'Description=Reactivate device-mapper thin pools (dmctl)',
    'DefaultDependencies=no',
    'After=systemd-udev-trigger.service local-fs.target lvm2-monitor.service',
    'Wants=local-fs.target',
    'Before=docker.service containerd.service shutdown.target',
    'Conflicts=shutdown.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `TimeoutStartSec=${waitDevicesSec + 120}`,
    `ExecStart=${dmctlArgv.join(' ')} reactivate --yes --wait-devices ${waitDevicesSec}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target docker.service containerd.service',
    '',
  ].join('\n');
}

/** A pool reactivate must find: recorded by init-direct, or named by a consumer's config. */
export interface ExpectedPool {
  /** dm name */
  name: string;
  /** Who expects it, for the operator: "recorded in FILE", "Docker's dm.thinpooldev in FILE". */
  by: string[];
  record?: LvmPoolRecord;
}

/** An expected pool that is not there: what is missing, and what to check. */
export interface MissingPool {
  name: string;
  ref: string;
  by: string[];
  missing: string;
  check: string;
}

export function expectedPools(state: ReactivateState): ExpectedPool[] {
  const pools = new Map<string, ExpectedPool>();
  const add = (name: string, by: string, record?: LvmPoolRecord) => {
    const p = pools.get(name) ?? { name, by: [] };
    p.by.push(by);
    if (record) p.record = record;
    pools.set(name, p);
  };
  for (const [file, text] of Object.entries(state.records)) {
    const r = tryParseAnyPoolRecord(text);
    if (r?.kind === 'lvm') add(r.name, `recorded in ${file}`, r);
  }
  const dj = state.consumerConfigs.daemonJson;
  if (dj) {
    const use = tryOrUndefined(() => dockerPoolUse(parseDaemonJson(dj.text)));
    if (use?.thinPoolDm) add(use.thinPoolDm, `Docker's dm.thinpooldev in ${dj.path}`);
    // init-direct --docker-managed: Docker builds VG docker, LV thinpool on that disk itself
    else if (use?.directLvm) add(lvmDmName(dockerManagedPool.vg, dockerManagedPool.lv), `Docker's dm.directlvm_device in ${dj.path}`);
  }
  const cc = state.consumerConfigs.containerdConfig;
  if (cc) {
    const name = containerdPoolUse(cc.text)?.poolName;
    if (name) add(name, `containerd's pool_name in ${cc.path}`);
  }
  return [...pools.values()];
}

/** The expected pools whose devices are not there (yet). Pure: the command re-probes and asks again. */
export function missingPools(state: ReactivateState): MissingPool[] {
  const loopRecords = new Set(Object.values(state.records).map(tryParseAnyPoolRecord).filter((r) => r?.kind === 'loop').map((r) => r!.name));
  const missing: MissingPool[] = [];
  for (const p of expectedPools(state)) {
    if (state.dmNames.includes(p.name) || loopRecords.has(p.name)) continue;
    const lv = state.lvs.find((l) => l.attr.isThinPool && lvmDmName(l.vgName, l.name) === p.name);
    const ref = lv ? `${lv.vgName}/${lv.name}` : p.record ? `${p.record.vg}/${p.record.lv}` : p.name;
    if (lv && lv.attr.health !== 'partial') continue;
    if (lv) {
      missing.push({ name: p.name, ref, by: p.by, missing: `VG ${lv.vgName} is missing one or more of its PVs (lv_attr ${lv.attr.raw}: partial)`, check: `check that every disk of VG ${lv.vgName} is attached (pvs, lsblk)` });
      continue;
    }
    if (p.record) {
      const gone = p.record.pvs.filter((d) => state.recordedDisks[d] !== true);
      const vgSeen = state.lvs.some((l) => l.vgName === p.record!.vg);
      missing.push({
        name: p.name, ref, by: p.by,
        missing: vgSeen ? `VG ${p.record.vg} has no thin pool ${p.record.lv}`
          : gone.length > 0 ? `LVM sees no VG ${p.record.vg}; its disk${gone.length > 1 ? 's' : ''} ${gone.join(', ')} (as recorded) ${gone.length > 1 ? 'do' : 'does'} not exist`
          : `LVM sees no VG ${p.record.vg} although ${p.record.pvs.join(', ') || 'its recorded disks'} exist${p.record.pvs.length === 1 ? 's' : ''}`,
        check: vgSeen ? `check lvs -a ${p.record.vg}` : gone.length > 0 ? 'check that the disks are attached (lsblk, dmesg; names can change across reboots: pvs shows where the PVs are)' : 'check pvs and lvm.conf\'s filter and devices file (lvmdevices)',
      });
      continue;
    }
    missing.push({ name: p.name, ref, by: p.by, missing: 'no device-mapper device, LVM thin pool or dmctl record has that name', check: 'check that its disks are attached (lsblk, pvs, lvs -a) or fix the consumer\'s config' });
  }
  return missing;
}

function tryOrUndefined<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

export function missingPoolLine(m: MissingPool, waitedSec: number): string {
  const waited = waitedSec > 0 ? `did not appear within ${waitedSec} s` : 'is not there';
  return `pool ${m.ref} (${m.by.join('; ')}) ${waited}: ${m.missing}: ${m.check}, then run dmctl reactivate again${waitedSec > 0 ? '' : ' (--wait-devices SECS waits for late disks)'}`;
}

/**
 * Pools reactivate cannot bring back although they are there: an LVM pool LVM would refuse (transaction
 * id mismatch), a recorded loop pool whose files are gone, a record file that does not parse. Each is
 * one line with its fix; none of them keeps the other pools down.
 */
interface Blocked {
  /** LVM thin pools (VG/LV) left alone. */
  lvm: Set<string>;
  /** Recorded loop pools (dm names) not rebuilt. */
  loop: Set<string>;
  lines: string[];
}

/**
 * Every pool reactivate looks at, once (the planner and the closing error read the same): the expected
 * ones that are not there, the recorded loop pools that are down, and those it cannot bring back.
 */
interface Assessment {
  gone: MissingPool[];
  down: PoolRecord[];
  blocked: Blocked;
}

function assess(state: ReactivateState): Assessment {
  const records = readRecords(state);
  const down = records.valid.filter((r) => !state.dmNames.includes(r.name));
  const blocked: Blocked = { lvm: new Set(), loop: new Set(), lines: [...records.problems] };
  for (const pool of state.lvs.filter((l) => l.attr.isThinPool)) {
    const problems = transactionIdProblems(state, pool);
    if (problems.length > 0) blocked.lvm.add(`${pool.vgName}/${pool.name}`);
    blocked.lines.push(...problems);
  }
  for (const r of down) {
    const problem = rebuildProblem(r, state.fileBytes);
    if (problem !== undefined) {
      blocked.loop.add(r.name);
      blocked.lines.push(problem);
    }
  }
  return { gone: missingPools(state), down, blocked };
}

/**
 * What reactivate ends with once it has brought back every pool it can: exit 4 when an expected pool
 * is not there (one line per pool, after waiting `waitedSec`), else exit 3 when a pool that is there
 * cannot be brought back (its fix). Undefined when every pool came back.
 */
export function unmetPoolsError(state: ReactivateState, waitedSec: number): DmctlError | undefined {
  const { gone, blocked } = assess(state);
  const lines = [...gone.map((m) => missingPoolLine(m, waitedSec)), ...blocked.lines];
  if (lines.length === 0) return undefined;
  return gone.length > 0 ? new DevicesMissingError(lines.join('\n')) : new RefusedError(lines.join('\n'));
}

/**
 * Brings back every pool that is there and can be. A pool that is not (missingPools), or that cannot be
 * (assess), gets no step but a warning: the command fails with unmetPoolsError after applying the
 * rest, so one dead disk or one stale record does not keep the other pools down at boot.
 */
export function planReactivate(state: ReactivateState, options: ReactivateOptions): Plan {
  const { gone, down, blocked } = assess(state);
  const lvmPools = state.lvs.filter((l) => l.attr.isThinPool && !blocked.lvm.has(`${l.vgName}/${l.name}`) && !gone.some((m) => m.name === lvmDmName(l.vgName, l.name)));
  const steps = [
    ...lvmPools.flatMap(lvmPoolSteps),
    ...loopPoolSteps(state, down.filter((r) => !blocked.loop.has(r.name))),
    ...(options.installUnit ? unitSteps(state, options) : []),
  ];
  const others = 'dmctl brings back the other pools, then fails';
  const unmet = gone.length + blocked.lines.length > 0;
  const notes = [
    ...gone.map((m) => ({ level: 'warning' as const, text: `${m.ref} (${m.by.join('; ')}) is not there: ${m.missing}; ${others} (exit 4)` })),
    ...blocked.lines.map((line) => ({ level: 'warning' as const, text: `${line} (${others})` })),
    ...(unmet || steps.some((s) => /^(activate|create|monitor)-/.test(s.id)) ? [] : [{ level: 'info' as const, text: 'every thin pool is active and monitored' }]),
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
      const r = parseAnyPoolRecord(text);
      if (r.kind === 'loop') valid.push(r);
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
