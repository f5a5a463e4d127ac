/**
 * `extend DEV…`: grow a direct-lvm pool with new disks — the same disk preflight as init-direct,
 * `vgextend`, then `lvextend` of the pool's data (or, with --metadata, its metadata), keeping room
 * for the metadata and its spare to grow later.
 */
import { RefusedError } from '../errors.js';
import { formatBytes } from '../units.js';
import { lvextendArgv, lvextendMetadataArgv, lvFieldArgv, lvmDmName, vgextendArgv, type LogicalVolume, type VolumeGroup } from '../system/lvm.js';
import { formatPoolRecord, lvmPoolRecordFor, type LvmPoolRecord } from '../system/pool-record.js';
import { poolRecordPath } from '../model/names.js';
import { lvmMaxMetadataBytes } from '../model/limits.js';
import type { ExtendOptions } from '../model/options.js';
import type { ExtendState } from '../model/state.js';
import { missingToolProblem } from '../model/tools.js';
import { checkDisks, prepareDiskSteps, type DiskVerdict } from './disks.js';
import { newPvStart, pvExtents } from './pv-layout.js';
import { checkStep, execStep, refuseIfAny, writeFileStep } from './steps.js';
import { makePlan, type Note, type Plan, type Step } from './types.js';

export function selectThinPool(lvs: readonly LogicalVolume[], vg: string | undefined, pool: string | undefined): LogicalVolume {
  const pools = lvs.filter((l) => l.attr.isThinPool && (vg === undefined || l.vgName === vg) && (pool === undefined || l.name === pool));
  if (pools.length === 1) return pools[0]!;
  const which = [vg && `VG ${vg}`, pool && `pool ${pool}`].filter(Boolean).join(', ');
  if (pools.length === 0) {
    throw new RefusedError(`there is no LVM thin pool${which ? ` matching ${which}` : ''} on this host: \`dmctl status\` lists the pools (create one with \`dmctl init-direct\`)`);
  }
  throw new RefusedError(`there are ${pools.length} LVM thin pools (${pools.map((p) => `${p.vgName}/${p.name}`).join(', ')}): choose one with --vg and --pool`);
}

/** The pool, its VG, and the room the disks bring. */
interface Room {
  pool: LogicalVolume;
  vg: VolumeGroup;
  ref: string;
  extentBytes: number;
  disks: DiskVerdict;
  /** Disks not in the VG yet: vgextend adds them. */
  newDisks: string[];
  /** New disks whose first extent dmctl cannot place (an lvm.conf layout it does not model). */
  layoutProblems: string[];
  /** Disks in the VG none of whose extents is used (an extend that stopped after vgextend): grown into. */
  unusedInVg: string[];
  /** Disks in the VG and in use: nothing to add from them. */
  usedInVg: string[];
  newExtents: number;
  /** The VG's free extents once the new disks are in. */
  freeExtents: number;
  /** Kept free so the metadata LV and its spare can double later. */
  reserveExtents: number;
}

export function planExtend(state: ExtendState, options: ExtendOptions): Plan {
  refuseIfAny(state.missingTools.map(missingToolProblem));
  const pool = selectThinPool(state.lvm.lvs, options.vg, options.pool);
  const room = lookAtRoom(state, options, pool);
  refuseIfAny([...room.disks.problems, ...room.layoutProblems, ...growthProblems(room, options)]);
  const notes = inVgNotes(room);
  const record = recordSteps(state, room);
  if (room.newDisks.length === 0 && room.unusedInVg.length === 0) return makePlan('extend', room.ref, state, record, notes);
  const grow = options.metadataBytes !== undefined ? metadataGrowth(room, options.metadataBytes) : dataGrowth(room, options.sizeBytes);
  return makePlan('extend', room.ref, state, [...addDiskSteps(room), ...grow.steps, ...record], [...notes, ...grow.notes]);
}

/**
 * A pool dmctl recorded (init-direct) gets the new disks in its record, so that reactivate names the
 * right disk when the VG does not come at boot. Pools without a record keep having none.
 */
function recordSteps(state: ExtendState, r: Room): Step[] {
  const path = poolRecordPath(lvmDmName(r.pool.vgName, r.pool.name));
  const current = lvmPoolRecordFor(state.poolRecords[path], r.pool.vgName, r.pool.name);
  if (!current) return [];
  const added = [...r.newDisks, ...r.disks.inTargetVg].filter((d) => !current.pvs.includes(d));
  if (added.length === 0) return [];
  const record: LvmPoolRecord = { ...current, pvs: [...current.pvs, ...added] };
  return [writeFileStep('write-record', `Add ${added.join(', ')} to the pool's record ${path}`, { path, content: formatPoolRecord(record) },
    'dmctl reactivate names the disks a pool was made on when its VG does not come after a reboot.')];
}

function lookAtRoom(state: ExtendState, options: ExtendOptions, pool: LogicalVolume): Room {
  const vg = state.lvm.vgs.find((g) => g.name === pool.vgName)!;
  const disks = checkDisks(state.disks, state.lvm, pool.vgName, options.force);
  const extentBytes = vg.extentSizeBytes;
  const newDisks = disks.paths.filter((p) => !disks.inTargetVg.includes(p));
  // A disk in the VG none of whose extents is used: what an extend that stopped after vgextend leaves
  // (or a disk added by hand). Growing into it is what `extend DISK` asks; a disk the pool already
  // grew into has extents in use, so a re-run after a finished extend plans nothing.
  const unusedInVg = disks.inTargetVg.filter((path) => {
    const pv = state.lvm.pvs.find((p) => p.name === path);
    return pv !== undefined && pv.sizeBytes > 0 && pv.freeBytes === pv.sizeBytes;
  });
  // (Only disks the preflight accepts: a refused disk's size does not matter.)
  const accepted = newDisks.filter((p) => disks.pvcreate.includes(p) || disks.alreadyPvs.includes(p));
  const sized = accepted.map((path) => newDiskExtents(state, path, extentBytes, pool.vgName));
  const newExtents = sized.reduce((sum, d) => sum + ('extents' in d ? d.extents : 0), 0);
  return {
    pool, vg, ref: `${pool.vgName}/${pool.name}`, extentBytes, disks, newDisks, unusedInVg,
    layoutProblems: sized.flatMap((d) => ('problem' in d ? [d.problem] : [])),
    usedInVg: disks.inTargetVg.filter((p) => !unusedInVg.includes(p)),
    newExtents,
    // (Unused disks already in the VG are counted in its free extents.)
    freeExtents: vg.freeExtentCount + newExtents,
    reserveExtents: 2 * Math.ceil((pool.metadataSizeBytes ?? 0) / extentBytes),
  };
}

/**
 * Extents a disk not yet in the VG brings: its size less where its first extent starts — an orphan
 * PV's real `pe_start` (its pv_size still counts the whole disk), or for a disk pvcreate has not seen
 * yet, where lvm.conf's alignment rules and the disk's I/O hints will put it (./pv-layout.ts).
 */
function newDiskExtents(state: ExtendState, path: string, extentBytes: number, vg: string): { extents: number } | { problem: string } {
  const orphan = state.lvm.pvs.find((p) => p.name === path);
  if (orphan) {
    const peStart = state.layout.peStarts[path];
    if (peStart === undefined) return { problem: `${path}: where its first extent starts (pvs -o pe_start) could not be read: refusing to guess its size` };
    return { extents: pvExtents(orphan.sizeBytes, peStart, extentBytes) };
  }
  const bytes = state.disks.find((d) => d.path === path)?.block?.sizeBytes ?? 0;
  const start = state.layout.config
    ? newPvStart(state.layout.config, state.layout.ioHints.find((h) => h.path === path), bytes)
    : { ok: false as const, why: 'lvm.conf\'s alignment settings could not be read' };
  if (!start.ok) {
    return { problem: `${path}: dmctl cannot tell where pvcreate will put its first extent (${start.why}): add it yourself (\`pvcreate ${path}\`, \`vgextend ${vg} ${path}\`), then \`dmctl extend ${path}\` grows the pool into it` };
  }
  return { extents: pvExtents(bytes, start.peStartBytes, extentBytes) };
}

function growthProblems(r: Room, options: ExtendOptions): string[] {
  if (r.newDisks.length === 0 && r.unusedInVg.length === 0) return [];
  const extent = r.extentBytes;
  if (options.metadataBytes !== undefined) {
    const add = metadataAddBytes(r, options.metadataBytes);
    const metadataBytes = r.pool.metadataSizeBytes ?? 0;
    if (metadataBytes + add > lvmMaxMetadataBytes) return [`metadata would be ${metadataBytes + add} bytes, more than a thin pool can use (${formatBytes(lvmMaxMetadataBytes)}): give a smaller --metadata`];
    if (2 * (add / extent) > r.freeExtents) return [`growing metadata by ${add} bytes needs twice that free (the spare metadata LV grows too), and VG ${r.pool.vgName} will have ${r.freeExtents * extent} bytes: add a larger disk`];
    return [];
  }
  const addExtents = dataAddExtents(r, options.sizeBytes);
  return addExtents > r.freeExtents ? [`--size needs ${addExtents * extent} bytes but VG ${r.pool.vgName} will have ${r.freeExtents * extent} free: give a smaller --size or add more disks`] : [];
}

const metadataAddBytes = (r: Room, bytes: number) => Math.ceil(bytes / r.extentBytes) * r.extentBytes;
const dataAddExtents = (r: Room, bytes: number | undefined) => (bytes !== undefined ? Math.ceil(bytes / r.extentBytes) : r.freeExtents - r.reserveExtents);

function inVgNotes(r: Room): Note[] {
  const { usedInVg: used, unusedInVg: unused, pool } = r;
  return [
    // Free space already in the VG is autoextend's room: extend grows the pool only into disks it adds.
    ...(used.length > 0 ? [{ level: 'info' as const, text: `${used.join(', ')} ${used.length > 1 ? 'are' : 'is'} already in VG ${pool.vgName} and in use: nothing to add from ${used.length > 1 ? 'them' : 'it'} (lvextend grows the pool into the VG's free space by hand)` }] : []),
    ...(unused.length > 0 ? [{ level: 'info' as const, text: `${unused.join(', ')} ${unused.length > 1 ? 'are' : 'is'} already in VG ${pool.vgName} but unused (an extend that stopped after vgextend leaves this): the pool grows into ${unused.length > 1 ? 'them' : 'it'}` }] : []),
  ];
}

/** wipefs (with --force) and pvcreate of the new disks, then vgextend. */
function addDiskSteps(r: Room): Step[] {
  if (r.newDisks.length === 0) return [];
  // (disks.pvcreate holds only disks outside the VG: the new ones.)
  return [
    ...prepareDiskSteps(r.disks),
    execStep('vgextend', `Add ${r.newDisks.join(', ')} to VG ${r.pool.vgName}`, vgextendArgv(r.pool.vgName, r.newDisks), `${r.newExtents} extents (${formatBytes(r.newExtents * r.extentBytes)}) more for the pool.`),
  ];
}

function sizeCheck(r: Room, expected: number, field: 'lv_size' | 'lv_metadata_size', title: string): Step {
  return checkStep('verify-size', title, lvFieldArgv(r.pool.vgName, r.pool.name, field), { equals: String(expected) }, 'LVM must report the new size.');
}

function metadataGrowth(r: Room, bytes: number): { steps: Step[]; notes: Note[] } {
  const add = metadataAddBytes(r, bytes);
  const before = r.pool.metadataSizeBytes ?? 0;
  return {
    steps: [
      execStep('lvextend-metadata', `Grow ${r.ref}'s metadata by ${formatBytes(add)}`, lvextendMetadataArgv(r.pool.vgName, r.pool.name, add), 'Running out of metadata needs an offline repair; growing it online does not.'),
      sizeCheck(r, before + add, 'lv_metadata_size', `Verify ${r.ref}'s metadata is ${before + add} bytes`),
    ],
    notes: [{ level: 'info', text: `metadata: ${formatBytes(before)} → ${formatBytes(before + add)}` }],
  };
}

function dataGrowth(r: Room, sizeBytes: number | undefined): { steps: Step[]; notes: Note[] } {
  const addExtents = dataAddExtents(r, sizeBytes);
  if (addExtents <= 0) {
    return { steps: [], notes: [{ level: 'warning', text: 'the new room is no more than the room kept for metadata growth: the pool\'s data does not grow (autoextend and --metadata can use the space)' }] };
  }
  const add = addExtents * r.extentBytes;
  const after = r.pool.sizeBytes + add;
  return {
    steps: [
      execStep('lvextend', `Grow ${r.ref} by ${formatBytes(add)}`, lvextendArgv(r.pool.vgName, r.pool.name, { extents: addExtents }),
        sizeBytes !== undefined ? 'As asked with --size.' : `All the new room but ${formatBytes(r.reserveExtents * r.extentBytes)} kept free, so metadata and its spare can grow later.`),
      sizeCheck(r, after, 'lv_size', `Verify ${r.ref} is ${after} bytes`),
    ],
    notes: [{ level: 'info', text: `pool data: ${formatBytes(r.pool.sizeBytes)} → ${formatBytes(after)}` }],
  };
}
