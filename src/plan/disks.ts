/**
 * Preflight of the disks a plan will turn into LVM physical volumes (init-direct, extend).
 * Fail closed: anything that might hold data is refused unless the operator said `--force`; a PV of
 * another VG, and an LVM label no `pvs` lists (a PV hidden by a devices file or a filter), even then.
 */
import { wipefsAllArgv } from '../system/blockdev.js';
import { pvcreateArgv } from '../system/lvm.js';
import type { DiskFacts, LvmState } from '../model/state.js';
import { execStep } from './steps.js';
import type { Step } from './types.js';

export interface DiskVerdict {
  /** One line each: the problem and the fix. */
  problems: string[];
  /** Devices whose signatures `wipefs -a` erases (only with force). */
  wipe: Array<{ path: string; signatures: string[] }>;
  /** Devices that need `pvcreate`. */
  pvcreate: string[];
  /** Devices that are PVs already: orphans, or members of the target VG. */
  alreadyPvs: string[];
  /** Devices already in the target VG. */
  inTargetVg: string[];
  /** Resolved paths, in the operator's order. */
  paths: string[];
}

/** Device types that are a whole disk (loop devices count: they are how tests and labs stand in for disks). */
const wholeDiskTypes = new Set(['disk', 'loop']);

export function checkDisks(disks: readonly DiskFacts[], lvm: LvmState, targetVg: string, force: boolean): DiskVerdict {
  const verdict: DiskVerdict = { problems: [], wipe: [], pvcreate: [], alreadyPvs: [], inTargetVg: [], paths: [] };
  const seen = new Set<string>();
  for (const disk of disks) {
    const judged = judgeDisk(disk, lvm, targetVg, force, seen);
    if (judged.kind === 'unusable') {
      verdict.problems.push(judged.problem);
      continue;
    }
    const path = disk.path!;
    verdict.paths.push(path);
    if (judged.kind === 'refused') verdict.problems.push(judged.problem);
    if (judged.kind === 'in-target-vg') verdict.inTargetVg.push(path);
    if (judged.kind === 'in-target-vg' || judged.kind === 'orphan-pv') verdict.alreadyPvs.push(path);
    if (judged.kind === 'pvcreate') {
      if (judged.wipe.length > 0) verdict.wipe.push({ path, signatures: judged.wipe });
      verdict.pvcreate.push(path);
    }
  }
  return verdict;
}

type DiskJudgement =
  /** Not a usable device at all (missing, not a block device, given twice): not among the paths. */
  | { kind: 'unusable'; problem: string }
  /** A device that may hold data, or belongs elsewhere. */
  | { kind: 'refused'; problem: string }
  | { kind: 'in-target-vg' }
  /** An orphan PV (no VG): what a run that stopped after pvcreate leaves. It holds no data. */
  | { kind: 'orphan-pv' }
  /** Free for pvcreate, after wiping these signature types (only with --force). */
  | { kind: 'pvcreate'; wipe: string[] };

function judgeDisk(disk: DiskFacts, lvm: LvmState, targetVg: string, force: boolean, seen: Set<string>): DiskJudgement {
  const shown = disk.path && disk.path !== disk.requested ? `${disk.requested} (${disk.path})` : disk.requested;
  if (!disk.path) return { kind: 'unusable', problem: `${disk.requested} does not exist: check the device name (lsblk lists the disks)` };
  if (!disk.isBlockDevice) return { kind: 'unusable', problem: `${shown} is not a block device: give a whole disk such as /dev/xvdf` };
  if (seen.has(disk.path)) return { kind: 'unusable', problem: `${shown} is given twice: name each disk once` };
  seen.add(disk.path);
  const pv = lvm.pvs.find((p) => p.name === disk.path);
  if (pv?.vgName !== undefined && pv.vgName !== targetVg) {
    return { kind: 'refused', problem: `${shown} belongs to volume group ${pv.vgName}: dmctl never takes a disk from another VG; free it with vgreduce/pvremove first, or use --vg ${pv.vgName}` };
  }
  if (pv?.vgName === targetVg) return { kind: 'in-target-vg' };
  const problem = blockProblem(disk, shown);
  if (problem) return { kind: 'refused', problem };
  if (pv) return { kind: 'orphan-pv' };
  const signatures = disk.signatures;
  if (!signatures) return { kind: 'refused', problem: `${shown}: its signatures could not be read: refusing to guess` };
  const types = [...new Set(signatures.map((s) => s.type))];
  if (types.includes('LVM2_member')) return { kind: 'refused', problem: hiddenPvProblem(shown, disk.path, lvm) };
  if (types.length > 0 && !force) {
    return { kind: 'refused', problem: `${shown} carries a signature (${types.join(', ')}) and may hold data: to erase it, run again with --force (the plan will then wipe it)` };
  }
  return { kind: 'pvcreate', wipe: types };
}

/**
 * A disk with an LVM label that no `pvs` lists is a PV lvm was told not to look at: one a devices
 * file or a `filter`/`global_filter` hides, quite possibly of another VG. `--force` never wipes it.
 */
function hiddenPvProblem(shown: string, path: string, lvm: LvmState): string {
  const hiddenBy = lvm.allDevices
    ? 'a filter or global_filter in lvm.conf (dmctl already lists PVs past the devices file)'
    : 'a devices file, or a filter or global_filter in lvm.conf';
  return `${shown} carries an LVM2_member signature but no pvs lists it: it may be a PV of another VG hidden by ${hiddenBy}; dmctl never wipes it, even with --force: find out with \`pvs --devicesfile "" ${path}\` and lvm.conf's filters, then free it with vgreduce/pvremove (or wipefs -a it yourself if it is truly unused)`;
}

/** What lsblk says against using the disk: not a whole disk, mounted, partitioned or held. */
function blockProblem(disk: DiskFacts, shown: string): string | undefined {
  const block = disk.block;
  if (!block) return `${shown}: no block-device facts could be read: refusing to guess`;
  if (!wholeDiskTypes.has(block.type)) return `${shown} is a ${block.type === 'part' ? 'partition' : block.type}, not a whole disk: give the whole, empty disk`;
  const mounted = [...block.mountpoints, ...block.children.flatMap((c) => c.mountpoints)];
  if (mounted.length > 0) return `${shown} is mounted on ${mounted.join(', ')}: unmount it and remove it from /etc/fstab first`;
  if (block.children.length > 0) {
    return `${shown} has partitions or holders: ${block.children.map((c) => `${c.path} (${c.type})`).join(', ')}: give an unused disk, or remove them first`;
  }
  return undefined;
}

/** The destructive steps that make the verdict's disks PVs: `wipefs -a` (only with --force), then `pvcreate`. */
export function prepareDiskSteps(verdict: DiskVerdict): Step[] {
  const steps = verdict.wipe.map((w) =>
    execStep(`wipefs-${w.path.split('/').pop()}`, `Erase the ${w.signatures.join(', ')} signature on ${w.path}`, wipefsAllArgv(w.path),
      `--force: ${w.path} carries ${w.signatures.join(', ')}; everything on it is lost.`, true),
  );
  if (verdict.pvcreate.length > 0) {
    steps.push(execStep('pvcreate', `Make ${verdict.pvcreate.join(', ')} LVM physical volume${verdict.pvcreate.length > 1 ? 's' : ''}`,
      pvcreateArgv(verdict.pvcreate), 'Writes an LVM label on the disk: whatever was on it is no longer reachable.', true));
  }
  return steps;
}
