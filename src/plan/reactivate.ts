/**
 * `reactivate`: bring thin pools back after a reboot ("Non existing device" in the guide). LVM pools
 * are activated (and monitored again); loop pools dmctl built are rebuilt from their record: loop
 * devices re-attached, then `dmsetup create` with the identical table (a `reload` is wrong here: the
 * device does not exist yet).
 */
import { RefusedError } from '../errors.js';
import { dmsetupCreateArgv, dmsetupStatusArgv, formatThinPoolTable, sectorBytes } from '../system/dmsetup.js';
import { freeLoopDevices, losetupAttachToArgv } from '../system/losetup.js';
import { lvchangeActivateArgv, lvchangeMonitorArgv, segMonitorArgv, type LogicalVolume } from '../system/lvm.js';
import { parsePoolRecord, poolRecordPath, type PoolRecord } from '../system/pool-record.js';
import { systemctlArgv } from '../system/systemd.js';
import type { LoopPoolState } from './init-loop.js';
import { checkStep, execStep, loadDmThinStep, withRecovery, writeFileStep } from './steps.js';
import { makePlan, type Note, type Plan, type Step } from './types.js';

export interface ReactivateState extends LoopPoolState {
  /** All LVs (thin pools among them); empty when LVM is not installed. */
  lvs: LogicalVolume[];
  lvmInstalled: boolean;
  /** Raw pool records by file path. */
  records: Record<string, string>;
  /** Sizes of the recorded pools' files (undefined: missing). */
  fileBytes: Record<string, number | undefined>;
  /** systemd runs this host (for --install-unit). */
  systemd: boolean;
  /** Current content of the unit file, undefined when absent. */
  unitFile: string | undefined;
  /** The unit is enabled (its multi-user.target.wants link exists). */
  unitEnabled: boolean;
  /**
   * `VG/POOL` → the transaction id in the superblock of an inactive pool whose LVM id is above 0
   * (undefined: could not be read).
   */
  metadataTransactionIds: Record<string, number | undefined>;
}

export interface ReactivateOptions {
  installUnit: boolean;
  /** How systemd should run dmctl: absolute paths of node and of dmctl's launcher. */
  dmctlArgv: readonly string[];
}

export const unitPath = '/etc/systemd/system/dmctl-reactivate.service';
export const unitName = 'dmctl-reactivate.service';
export const unitWantsLink = `/etc/systemd/system/multi-user.target.wants/${unitName}`;

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
  const problems: string[] = [];
  const notes: Note[] = [];
  const steps: Step[] = [];

  // LVM thin pools.
  for (const pool of state.lvs.filter((l) => l.attr.isThinPool)) {
    const ref = `${pool.vgName}/${pool.name}`;
    const inMetadata = state.metadataTransactionIds[ref];
    if (!pool.attr.active && inMetadata !== undefined && inMetadata !== pool.transactionId) {
      // LVM would refuse: "Thin pool VG-POOL-tpool transaction_id is N, while expected M." (moby#15629)
      problems.push(
        `${ref}: LVM expects transaction id ${pool.transactionId} but the pool's metadata holds ${inMetadata} (something besides LVM changed the pool, e.g. its consumer), so LVM refuses to activate it ("transaction_id is ${inMetadata}, while expected ${pool.transactionId}", moby#15629): repair LVM's record as docs/troubleshooting.md ("transaction id mismatch") shows, then run dmctl reactivate again`,
      );
      continue;
    }
    if (!pool.attr.active) {
      steps.push(
        execStep(`activate-${pool.vgName}-${pool.name}`, `Activate ${ref}`, lvchangeActivateArgv(pool.vgName, pool.name, pool.attr.skipActivation),
          pool.attr.skipActivation ? 'The pool is inactive and flagged skip-activation (k): -K overrides the flag.' : 'The pool is inactive: its consumer fails with "Non existing device".'),
      );
    }
    if (!pool.attr.active || pool.monitor !== 'monitored') {
      steps.push(
        execStep(`monitor-${pool.vgName}-${pool.name}`, `Monitor ${ref}`, lvchangeMonitorArgv(pool.vgName, pool.name), 'Without dmeventd monitoring autoextend never happens.'),
        checkStep(`verify-monitor-${pool.vgName}-${pool.name}`, `Verify ${ref} is monitored`, segMonitorArgv(pool.vgName, pool.name), { equals: 'monitored' }, 'dmeventd must be watching the pool.'),
      );
    }
    if (pool.attr.checkNeeded || pool.attr.health === 'failed' || pool.attr.health === 'metadata-read-only') {
      notes.push({ level: 'warning', text: `${ref} needs a repair (lv_attr ${pool.attr.raw}): deactivate it and run \`lvconvert --repair ${ref}\`` });
    }
  }

  // Loop pools from dmctl's records.
  const records: PoolRecord[] = [];
  for (const [file, text] of Object.entries(state.records)) {
    try {
      records.push(parsePoolRecord(text));
    } catch {
      problems.push(`${file} is not a valid dmctl pool record: fix or remove it`);
    }
  }
  const missing = records.filter((r) => !state.dmNames.includes(r.name));
  const wanted = missing.length * 2 - missing.reduce((n, r) => n + attachedCount(state, r), 0);
  const free = freeLoopDevices(state.devEntries, state.loops, Math.max(wanted, 0));
  if (missing.length > 0 && !state.deviceMapperLoaded) {
    steps.push(loadDmThinStep());
  }
  for (const record of missing) {
    const rebuilt = rebuildLoopPool(record, state, state.fileBytes, free);
    if ('problem' in rebuilt) problems.push(rebuilt.problem);
    else steps.push(...rebuilt.steps);
  }

  if (options.installUnit) {
    const content = unitContent(options.dmctlArgv);
    if (state.unitFile !== content) {
      steps.push(writeFileStep('write-unit', `Install ${unitPath}`, { path: unitPath, content }, 'A oneshot unit ordered before docker.service and containerd.service, so a reboot needs no human.'));
      if (state.systemd) steps.push(execStep('daemon-reload', 'Reload systemd', systemctlArgv('daemon-reload'), 'systemd reads the new unit.'));
    }
    if (state.systemd && !state.unitEnabled) {
      steps.push(execStep('enable-unit', `Enable ${unitName}`, systemctlArgv('enable', unitName), 'Run it at every boot.'));
    } else if (!state.systemd) {
      notes.push({ level: 'info', text: `systemd does not run here: enable ${unitName} on the host that boots with it (systemctl enable ${unitName})` });
    }
  }

  if (problems.length > 0) throw new RefusedError(problems.join('\n'));
  if (!steps.some((s) => s.id.startsWith('activate-') || s.id.startsWith('create-') || s.id.startsWith('monitor-'))) {
    notes.unshift({ level: 'info', text: 'every thin pool is active and monitored' });
  }
  return makePlan('reactivate', 'thin pools after a reboot', state, steps, notes);
}

function attachedCount(state: LoopPoolState, record: PoolRecord): number {
  return [record.dataFile, record.metadataFile].filter((f) => state.loops.some((l) => l.backingFile === f)).length;
}

/**
 * The steps that bring a recorded loop pool back: attach its files (reusing a loop device that still
 * has one), then `dmsetup create` with the recorded table at the data file's current length, and a
 * check. `free` is consumed for the loop devices it takes.
 */
export function rebuildLoopPool(
  record: PoolRecord,
  state: Pick<LoopPoolState, 'loops'>,
  fileBytes: Record<string, number | undefined>,
  free: string[],
): { steps: Step[] } | { problem: string } {
  const dataBytes = fileBytes[record.dataFile];
  const metaBytes = fileBytes[record.metadataFile];
  if (dataBytes === undefined || metaBytes === undefined) {
    return { problem: `loop pool ${record.name}: ${dataBytes === undefined ? record.dataFile : record.metadataFile} is gone, so the pool cannot be rebuilt: restore the file, or remove ${poolRecordPath(record.name)} to forget the pool` };
  }
  const steps: Step[] = [];
  const attached: string[] = [];
  const deviceFor = (file: string, role: string): string => {
    const existing = state.loops.find((l) => l.backingFile === file);
    if (existing) return existing.name;
    const device = free.shift()!;
    steps.push(
      withRecovery(
        execStep(`attach-${role}-${record.name}`, `Attach ${file} to ${device}`, losetupAttachToArgv(device, file), `The ${role} file of loop pool ${record.name}.`),
        attached.length > 0 ? [['losetup', '-d', ...attached]] : [],
      ),
    );
    attached.push(device);
    return device;
  };
  const dataDevice = deviceFor(record.dataFile, 'data');
  const metadataDevice = deviceFor(record.metadataFile, 'metadata');
  const blockBytes = record.blockSectors * sectorBytes;
  const table = formatThinPoolTable({
    lengthSectors: (Math.floor(dataBytes / blockBytes) * blockBytes) / sectorBytes,
    metadataDevice,
    dataDevice,
    blockSectors: record.blockSectors,
    lowWaterMarkBlocks: record.lowWaterMarkBlocks,
    features: record.features,
  });
  steps.push(
    withRecovery(
      execStep(`create-${record.name}`, `Recreate the thin pool ${record.name}`, dmsetupCreateArgv(record.name, table),
        'The same table as before (the data file\'s current length); the metadata on the file brings back every thin device.'),
      attached.length > 0 ? [['losetup', '-d', ...attached]] : [],
    ),
    checkStep(`verify-${record.name}`, `Verify ${record.name} is an active thin pool`, dmsetupStatusArgv(record.name), { includes: ' thin-pool ' }, 'The kernel must accept the metadata.'),
  );
  return { steps };
}
