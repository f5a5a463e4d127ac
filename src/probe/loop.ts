/** Probes for loop pools (init-loop, resize-loop), reactivate and extend. Read-only, fail closed. */
import { dmNamesQuery, thinPoolStatusesQuery, thinPoolTablesQuery } from '../system/dmsetup.js';
import { runQuery } from '../system/exec.js';
import { losetupListQuery } from '../system/losetup.js';
import { lvmDmName, lvsQuery, metadataStartQuery, peStartQuery, pvLayoutConfigQuery, type LogicalVolume } from '../system/lvm.js';
import { ioHintsQuery } from '../system/blockdev.js';
import { parseThinSuperblock, thinSuperblockBytes } from '../system/thin-superblock.js';
import { systemdRuntimeDir } from '../system/systemd.js';
import { tryParseAnyPoolRecord } from '../system/pool-record.js';
import { loopPools } from '../model/loop.js';
import { loopFiles, poolRecordDir, poolRecordPath, unitPath, unitWantsLink } from '../model/names.js';
import type { ExtendOptions, InitLoopOptions } from '../model/options.js';
import type { DiskFacts, ExtendState, InitLoopState, LoopPoolState, LvmState, PvLayoutFacts, ReactivateState, ResizeLoopState } from '../model/state.js';
import { extendTools, initLoopTools, reactivateLoopTools, resizeLoopTools } from '../model/tools.js';
import { missingTools, probeConsumer, probeDisks, probeLvm, type ProbeContext } from './probe.js';
import { consumerConfigPaths, isDeviceMapperLoaded } from './status.js';

export async function probeLoopPools(ctx: ProbeContext, tools: readonly string[] = initLoopTools): Promise<LoopPoolState> {
  const missing = await missingTools(ctx, tools);
  const deviceMapperLoaded = await isDeviceMapperLoaded(ctx);
  const canAskDm = deviceMapperLoaded && !missing.includes('dmsetup');
  const [dmNames, tables, statuses, loops, devEntries] = await Promise.all([
    canAskDm ? runQuery(ctx.executor, dmNamesQuery()) : [],
    canAskDm ? runQuery(ctx.executor, thinPoolTablesQuery()) : [],
    canAskDm ? runQuery(ctx.executor, thinPoolStatusesQuery()) : [],
    missing.includes('losetup') ? [] : runQuery(ctx.executor, losetupListQuery()),
    ctx.files.listDir('/dev').then((e) => e ?? []),
  ]);
  return {
    missingTools: missing,
    deviceMapperLoaded,
    dmNames,
    thinPools: tables.map(({ name, table }) => ({ name, table, status: statuses.find((s) => s.name === name)?.status })),
    loops,
    devEntries: devEntries.filter((e) => /^loop\d+$/.test(e)),
  };
}

export async function probeInitLoop(ctx: ProbeContext, options: InitLoopOptions): Promise<InitLoopState> {
  const files = loopFiles(options.dir);
  const [base, dataFileBytes, metadataFileBytes, freeBytes, record, consumer] = await Promise.all([
    probeLoopPools(ctx),
    ctx.files.fileSize(files.data),
    ctx.files.fileSize(files.metadata),
    ctx.files.freeBytes(options.dir),
    ctx.files.readText(poolRecordPath(options.pool)),
    probeConsumer(ctx, options.consumer),
  ]);
  return { ...base, dataFileBytes, metadataFileBytes, freeBytes, record, consumer };
}

export async function probeResizeLoop(ctx: ProbeContext): Promise<ResizeLoopState> {
  const base = await probeLoopPools(ctx, resizeLoopTools);
  const files = loopPools(base).flatMap((p) => [p.data.backingFile, p.metadata.backingFile]).filter((f): f is string => !!f);
  const sizes = await Promise.all(files.map(async (f) => [f, await ctx.files.fileSize(f), await ctx.files.freeBytes(f)] as const));
  return {
    ...base,
    fileBytes: Object.fromEntries(sizes.map(([f, size]) => [f, size])),
    freeBytes: Object.fromEntries(sizes.map(([f, , free]) => [f, free])),
  };
}

export async function probeReactivate(ctx: ProbeContext): Promise<ReactivateState> {
  const lvmInstalled = (await ctx.files.which('lvm')) !== undefined;
  const [base, lvs, recordNames, systemd, unitFile, unitEnabled] = await Promise.all([
    probeLoopPools(ctx, reactivateLoopTools),
    lvmInstalled ? runQuery(ctx.executor, lvsQuery()) : [],
    ctx.files.listDir(poolRecordDir).then((e) => (e ?? []).filter((n) => n.endsWith('.json')).sort()),
    ctx.files.exists(systemdRuntimeDir),
    ctx.files.readText(unitPath),
    ctx.files.exists(unitWantsLink),
  ]);
  const records: Record<string, string> = {};
  for (const name of recordNames) {
    const text = await ctx.files.readText(`${poolRecordDir}/${name}`);
    if (text !== undefined) records[`${poolRecordDir}/${name}`] = text;
  }
  const paths = Object.values(records).flatMap((text) => {
    try {
      const r = JSON.parse(text) as { dataFile?: unknown; metadataFile?: unknown };
      return [r.dataFile, r.metadataFile].filter((f): f is string => typeof f === 'string');
    } catch {
      return [];
    }
  });
  const fileBytes = Object.fromEntries(await Promise.all(paths.map(async (f) => [f, await ctx.files.fileSize(f)] as const)));
  // LVM checks its transaction id against the pool's on activation only when its own is above 0.
  const checked = lvs.filter((l) => l.attr.isThinPool && !l.attr.active && (l.transactionId ?? 0) > 0);
  const metadataTransactionIds = Object.fromEntries(
    await Promise.all(checked.map(async (l) => [`${l.vgName}/${l.name}`, await metadataTransactionId(ctx, l)] as const)),
  );
  const { daemonJson: daemonJsonPath, containerdConfig: containerdConfigPath } = consumerConfigPaths(ctx);
  const [daemonJson, containerdConfig] = await Promise.all([ctx.files.readText(daemonJsonPath), ctx.files.readText(containerdConfigPath)]);
  const consumerConfigs = {
    ...(daemonJson === undefined ? {} : { daemonJson: { path: daemonJsonPath, text: daemonJson } }),
    ...(containerdConfig === undefined ? {} : { containerdConfig: { path: containerdConfigPath, text: containerdConfig } }),
  };
  const disks = [...new Set(Object.values(records).map(tryParseAnyPoolRecord).flatMap((r) => (r?.kind === 'lvm' ? r.pvs : [])))];
  const recordedDisks = Object.fromEntries(await Promise.all(disks.map(async (d) => [d, await ctx.files.exists(d)] as const)));
  return { ...base, lvs, lvmInstalled, records, fileBytes, systemd, unitFile, unitEnabled, metadataTransactionIds, consumerConfigs, recordedDisks };
}

/**
 * The transaction id in an inactive pool's metadata superblock, read straight from its PV (nothing is
 * activated: a probe only reads). Undefined when the metadata is not linear on a PV or holds no
 * superblock: then LVM's own activation check speaks.
 */
async function metadataTransactionId(ctx: ProbeContext, pool: LogicalVolume): Promise<number | undefined> {
  const start = await runQuery(ctx.executor, metadataStartQuery(pool.vgName, pool.name));
  if (!start) return undefined;
  const peStart = await runQuery(ctx.executor, peStartQuery(start.pv));
  if (peStart === undefined) return undefined;
  const block = await ctx.files.readBytes(start.pv, peStart + start.extent * start.extentSizeBytes, thinSuperblockBytes);
  return block && parseThinSuperblock(block)?.transactionId;
}

export async function probeExtend(ctx: ProbeContext, options: ExtendOptions): Promise<ExtendState> {
  const missing = await missingTools(ctx, extendTools);
  if (missing.includes('lvm')) return { missingTools: missing, disks: [], lvm: { pvs: [], vgs: [], lvs: [] }, layout: { config: undefined, ioHints: [], peStarts: {} }, poolRecords: {} };
  const lvm = await probeLvm(ctx);
  const [disks, poolRecords] = await Promise.all([probeDisks(ctx, options.devices, lvm), readLvmPoolRecords(ctx, lvm.lvs)]);
  return { missingTools: missing, disks, lvm, layout: await probePvLayout(ctx, disks, lvm), poolRecords };
}

/** dmctl's records of these LVM thin pools, where they exist (extend keeps their disk list current). */
async function readLvmPoolRecords(ctx: ProbeContext, lvs: readonly LogicalVolume[]): Promise<Record<string, string>> {
  const paths = lvs.filter((l) => l.attr.isThinPool).map((l) => poolRecordPath(lvmDmName(l.vgName, l.name)));
  const texts = await Promise.all(paths.map(async (p) => [p, await ctx.files.readText(p)] as const));
  return Object.fromEntries(texts.filter((e): e is readonly [string, string] => e[1] !== undefined));
}

/**
 * What decides the size a new disk gives the VG: lvm.conf's alignment settings and the I/O hints of
 * the disks that are not PVs yet; for orphan PVs (pvcreate done, vgextend not), their real pe_start.
 */
async function probePvLayout(ctx: ProbeContext, disks: readonly DiskFacts[], lvm: LvmState): Promise<PvLayoutFacts> {
  const usable = disks.filter((d) => d.isBlockDevice && d.path !== undefined);
  const pvOf = (d: DiskFacts) => lvm.pvs.find((p) => p.name === d.path);
  const fresh = usable.filter((d) => pvOf(d) === undefined).map((d) => d.path!);
  const orphans = usable.filter((d) => pvOf(d) !== undefined && pvOf(d)!.vgName === undefined).map((d) => d.path!);
  const [config, ioHints, starts] = await Promise.all([
    runQuery(ctx.executor, pvLayoutConfigQuery()),
    fresh.length > 0 ? runQuery(ctx.executor, ioHintsQuery(fresh)) : Promise.resolve([]),
    Promise.all(orphans.map(async (pv) => [pv, await runQuery(ctx.executor, peStartQuery(pv, { allDevices: lvm.allDevices }))] as const)),
  ]);
  return { config, ioHints, peStarts: Object.fromEntries(starts) };
}
