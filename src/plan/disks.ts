/**
 * Preflight of the disks a plan will turn into LVM physical volumes (init-direct, extend).
 * Fail closed: anything that might hold data is refused unless the operator said `--force`.
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
    const shown = disk.path && disk.path !== disk.requested ? `${disk.requested} (${disk.path})` : disk.requested;
    if (!disk.path) {
      verdict.problems.push(`${disk.requested} does not exist: check the device name (lsblk lists the disks)`);
      continue;
    }
    if (!disk.isBlockDevice) {
      verdict.problems.push(`${shown} is not a block device: give a whole disk such as /dev/xvdf`);
      continue;
    }
    if (seen.has(disk.path)) {
      verdict.problems.push(`${shown} is given twice: name each disk once`);
      continue;
    }
    seen.add(disk.path);
    verdict.paths.push(disk.path);
    const pv = lvm.pvs.find((p) => p.name === disk.path);
    if (pv?.vgName !== undefined && pv.vgName !== targetVg) {
      verdict.problems.push(`${shown} belongs to volume group ${pv.vgName}: dmctl never takes a disk from another VG; free it with vgreduce/pvremove first, or use --vg ${pv.vgName}`);
      continue;
    }
    if (pv?.vgName === targetVg) {
      verdict.alreadyPvs.push(disk.path);
      verdict.inTargetVg.push(disk.path);
      continue;
    }
    const block = disk.block;
    if (!block) {
      verdict.problems.push(`${shown}: no block-device facts could be read: refusing to guess`);
      continue;
    }
    if (!wholeDiskTypes.has(block.type)) {
      verdict.problems.push(`${shown} is a ${block.type === 'part' ? 'partition' : block.type}, not a whole disk: give the whole, empty disk`);
      continue;
    }
    const mounted = [...block.mountpoints, ...block.children.flatMap((c) => c.mountpoints)];
    if (mounted.length > 0) {
      verdict.problems.push(`${shown} is mounted on ${mounted.join(', ')}: unmount it and remove it from /etc/fstab first`);
      continue;
    }
    if (block.children.length > 0) {
      const kids = block.children.map((c) => `${c.path} (${c.type})`).join(', ');
      verdict.problems.push(`${shown} has partitions or holders: ${kids}: give an unused disk, or remove them first`);
      continue;
    }
    if (pv) {
      // An orphan PV (no VG): what a run that stopped after pvcreate leaves. It holds no data.
      verdict.alreadyPvs.push(disk.path);
      continue;
    }
    const signatures = disk.signatures;
    if (!signatures) {
      verdict.problems.push(`${shown}: its signatures could not be read: refusing to guess`);
      continue;
    }
    if (signatures.length > 0) {
      const types = [...new Set(signatures.map((s) => s.type))];
      if (!force) {
        verdict.problems.push(`${shown} carries a signature (${types.join(', ')}) and may hold data: to erase it, run again with --force (the plan will then wipe it)`);
        continue;
      }
      verdict.wipe.push({ path: disk.path, signatures: types });
    }
    verdict.pvcreate.push(disk.path);
  }
  return verdict;
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
