/**
 * `extend DEV…`: grow a direct-lvm pool with new disks — the same disk preflight as init-direct,
 * `vgextend`, then `lvextend` of the pool's data (or, with --metadata, its metadata), keeping room
 * for the metadata and its spare to grow later.
 */
import { RefusedError } from '../errors.js';
import { formatBytes } from '../units.js';
import { lvextendArgv, lvextendMetadataArgv, vgextendArgv, type LogicalVolume } from '../system/lvm.js';
import type { DiskFacts, LvmState } from '../probe/state.js';
import { checkDisks, prepareDiskSteps } from './disks.js';
import { checkStep, execStep } from './steps.js';
import { makePlan, type Note, type Plan, type Step } from './types.js';

export interface ExtendState {
  missingTools: string[];
  disks: DiskFacts[];
  lvm: LvmState;
}

export interface ExtendOptions {
  devices: string[];
  vg: string | undefined;
  pool: string | undefined;
  /** Grow data by this many bytes instead of by all the room the new disks bring. */
  sizeBytes: number | undefined;
  /** Grow metadata by this many bytes (instead of data). */
  metadataBytes: number | undefined;
  force: boolean;
}

/** LVM puts the first extent 1 MiB into a new PV (its default data alignment). */
const pvDataOffset = 1024 ** 2;
/** The largest thin-pool metadata LVM uses (lvmthin(7)). */
const maxMetadataBytes = Math.floor(15.81 * 1024 ** 3);

export function selectThinPool(lvs: readonly LogicalVolume[], vg: string | undefined, pool: string | undefined): LogicalVolume {
  const pools = lvs.filter((l) => l.attr.isThinPool && (vg === undefined || l.vgName === vg) && (pool === undefined || l.name === pool));
  if (pools.length === 1) return pools[0]!;
  const which = [vg && `VG ${vg}`, pool && `pool ${pool}`].filter(Boolean).join(', ');
  if (pools.length === 0) {
    throw new RefusedError(`there is no LVM thin pool${which ? ` matching ${which}` : ''} on this host: \`dmctl status\` lists the pools (create one with \`dmctl init-direct\`)`);
  }
  throw new RefusedError(`there are ${pools.length} LVM thin pools (${pools.map((p) => `${p.vgName}/${p.name}`).join(', ')}): choose one with --vg and --pool`);
}

export function planExtend(state: ExtendState, options: ExtendOptions): Plan {
  const problems = state.missingTools.map((t) => `${t} is not installed: install ${t === 'lvm' ? 'lvm2' : 'util-linux'} first`);
  if (problems.length > 0) throw new RefusedError(problems.join('\n'));
  const pool = selectThinPool(state.lvm.lvs, options.vg, options.pool);
  const vg = state.lvm.vgs.find((g) => g.name === pool.vgName)!;
  const ref = `${pool.vgName}/${pool.name}`;
  const disks = checkDisks(state.disks, state.lvm, pool.vgName, options.force);
  problems.push(...disks.problems);
  if (problems.length > 0) throw new RefusedError(problems.join('\n'));

  const extent = vg.extentSizeBytes;
  const newDisks = disks.paths.filter((p) => !disks.inTargetVg.includes(p));
  // A disk in the VG none of whose extents is used: what an extend that stopped after vgextend leaves
  // (or a disk added by hand). Growing into it is what `extend DISK` asks; a disk the pool already
  // grew into has extents in use, so a re-run after a finished extend plans nothing.
  const unusedInVg = disks.inTargetVg.filter((path) => {
    const pv = state.lvm.pvs.find((p) => p.name === path);
    return pv !== undefined && pv.sizeBytes > 0 && pv.freeBytes === pv.sizeBytes;
  });
  const notes: Note[] = [];
  const steps: Step[] = [];
  const metadataBytes = pool.metadataSizeBytes ?? 0;
  // Keep room to double the metadata later: the metadata LV and its spare grow together.
  const reserveExtents = 2 * Math.ceil(metadataBytes / extent);
  const sizeCheck = (expected: number, field: 'lv_size' | 'lv_metadata_size', title: string) =>
    checkStep('verify-size', title, ['lvs', '--noheadings', '--units', 'b', '--nosuffix', '-o', field, ref], { equals: String(expected) }, 'LVM must report the new size.');

  const used = disks.inTargetVg.filter((p) => !unusedInVg.includes(p));
  if (used.length > 0) {
    // Free space already in the VG is autoextend's room: extend grows the pool only into disks it adds.
    notes.push({ level: 'info', text: `${used.join(', ')} ${used.length > 1 ? 'are' : 'is'} already in VG ${pool.vgName} and in use: nothing to add from ${used.length > 1 ? 'them' : 'it'} (lvextend grows the pool into the VG's free space by hand)` });
  }
  if (unusedInVg.length > 0) {
    notes.push({ level: 'info', text: `${unusedInVg.join(', ')} ${unusedInVg.length > 1 ? 'are' : 'is'} already in VG ${pool.vgName} but unused (an extend that stopped after vgextend leaves this): the pool grows into ${unusedInVg.length > 1 ? 'them' : 'it'}` });
  }
  if (newDisks.length === 0 && unusedInVg.length === 0) return finish(state, ref, steps, notes);

  // A new PV gives its size less LVM's 1 MiB data offset (an orphan PV's pv_size still counts it).
  const newExtents = newDisks.reduce((sum, path) => {
    const bytes = state.lvm.pvs.find((p) => p.name === path)?.sizeBytes ?? state.disks.find((d) => d.path === path)?.block?.sizeBytes ?? 0;
    return sum + Math.floor(Math.max(0, bytes - pvDataOffset) / extent);
  }, 0);
  // (Unused disks already in the VG are counted in its free extents.)
  const freeExtents = vg.freeExtentCount + newExtents;

  if (newDisks.length > 0) {
    // (disks.pvcreate holds only disks outside the VG: the new ones.)
    steps.push(...prepareDiskSteps(disks));
    steps.push(execStep('vgextend', `Add ${newDisks.join(', ')} to VG ${pool.vgName}`, vgextendArgv(pool.vgName, newDisks), `${newExtents} extents (${formatBytes(newExtents * extent)}) more for the pool.`));
  }

  if (options.metadataBytes !== undefined) {
    const add = Math.ceil(options.metadataBytes / extent) * extent;
    if (metadataBytes + add > maxMetadataBytes) {
      throw new RefusedError(`metadata would be ${metadataBytes + add} bytes, more than a thin pool can use (15.81 GiB): give a smaller --metadata`);
    }
    if (2 * (add / extent) > freeExtents) {
      throw new RefusedError(`growing metadata by ${add} bytes needs twice that free (the spare metadata LV grows too), and VG ${pool.vgName} will have ${freeExtents * extent} bytes: add a larger disk`);
    }
    steps.push(
      execStep('lvextend-metadata', `Grow ${ref}'s metadata by ${formatBytes(add)}`, lvextendMetadataArgv(pool.vgName, pool.name, add), 'Running out of metadata needs an offline repair; growing it online does not.'),
      sizeCheck(metadataBytes + add, 'lv_metadata_size', `Verify ${ref}'s metadata is ${metadataBytes + add} bytes`),
    );
    notes.push({ level: 'info', text: `metadata: ${formatBytes(metadataBytes)} → ${formatBytes(metadataBytes + add)}` });
  } else {
    const addExtents = options.sizeBytes !== undefined ? Math.ceil(options.sizeBytes / extent) : freeExtents - reserveExtents;
    if (addExtents <= 0) {
      notes.push({ level: 'warning', text: `the new room is no more than the room kept for metadata growth: the pool's data does not grow (autoextend and --metadata can use the space)` });
    } else if (addExtents > freeExtents) {
      throw new RefusedError(`--size needs ${addExtents * extent} bytes but VG ${pool.vgName} will have ${freeExtents * extent} free: give a smaller --size or add more disks`);
    } else {
      steps.push(
        execStep('lvextend', `Grow ${ref} by ${formatBytes(addExtents * extent)}`, lvextendArgv(pool.vgName, pool.name, { extents: addExtents }),
          options.sizeBytes !== undefined ? 'As asked with --size.' : `All the new room but ${formatBytes(reserveExtents * extent)} kept free, so metadata and its spare can grow later.`),
        sizeCheck(pool.sizeBytes + addExtents * extent, 'lv_size', `Verify ${ref} is ${pool.sizeBytes + addExtents * extent} bytes`),
      );
      notes.push({ level: 'info', text: `pool data: ${formatBytes(pool.sizeBytes)} → ${formatBytes(pool.sizeBytes + addExtents * extent)}` });
    }
  }
  return finish(state, ref, steps, notes);
}

function finish(state: ExtendState, ref: string, steps: Step[], notes: Note[]): Plan {
  return makePlan('extend', ref, state, steps, notes);
}
