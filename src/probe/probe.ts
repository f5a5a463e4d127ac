/**
 * Probes: run queries through the injected executor, read files through the injected HostFiles,
 * and return the typed snapshot a planner needs. Probes only read; they never change the host.
 */
import { lsblkQuery, wipefsListQuery } from '../system/blockdev.js';
import { containerdVersionQuery } from '../system/containerd.js';
import { thinPoolStatusesQuery } from '../system/dmsetup.js';
import { defaultDockerRoot, dockerdVersionQuery, parseDaemonJson } from '../system/docker.js';
import { runQuery, type Executor } from '../system/exec.js';
import type { HostFiles } from '../system/files.js';
import { lvmDmName, lvmThinConfigQuery, lvmVersionQuery, lvsQuery, pvsQuery, supportsDevicesFile, vgsQuery } from '../system/lvm.js';
import { isActiveQuery, systemdRuntimeDir, unitDirs } from '../system/systemd.js';
import { poolRecordPath, profilePath } from '../model/names.js';
import type { ConsumerKind, InitDirectOptions } from '../model/options.js';
import { initDirectTools } from '../model/tools.js';
import { isActiveUnitState, type ConsumerState, type ContainerdState, type DiskFacts, type DockerState, type InitDirectState, type LvmState, type ServiceState } from '../model/state.js';
import { consumerConfigPaths, type ProbeContext } from './status.js';

export type { ProbeContext } from './status.js';

/**
 * PVs, VGs and LVs. The PVs are listed without the devices-file filter wherever lvm has one
 * (≥ 2.03.12, from `lvm version`; an answer that does not parse fails the probe), so a PV of another
 * VG that the devices file hides is still seen, and refused. Older lvm has no devices file to lift
 * (and rejects the option).
 */
export async function probeLvm(ctx: ProbeContext): Promise<LvmState> {
  // Only pvs depends on the version: vgs and lvs run alongside `lvm version` (docs/performance.md).
  const [{ pvs, allDevices }, vgs, lvs] = await Promise.all([
    runQuery(ctx.executor, lvmVersionQuery()).then(async (version) => {
      const allDevices = supportsDevicesFile(version);
      return { pvs: await runQuery(ctx.executor, pvsQuery({ allDevices })), allDevices };
    }),
    runQuery(ctx.executor, vgsQuery()),
    runQuery(ctx.executor, lvsQuery()),
  ]);
  return { pvs, vgs, lvs, allDevices };
}

export async function missingTools(ctx: ProbeContext, tools: readonly string[]): Promise<string[]> {
  const found = await Promise.all(tools.map(async (t) => [t, await ctx.files.which(t)] as const));
  return found.filter(([, where]) => where === undefined).map(([t]) => t);
}

/** Resolves each device and, unless it is already a PV of some VG (checkDisks decides on those), reads lsblk and wipefs facts. */
export async function probeDisks(ctx: ProbeContext, devices: readonly string[], lvm: LvmState): Promise<DiskFacts[]> {
  const facts: DiskFacts[] = await Promise.all(
    devices.map(async (requested) => {
      const path = await ctx.files.realpath(requested);
      const isBlockDevice = path !== undefined && (await ctx.files.isBlockDevice(path));
      return { requested, path, isBlockDevice, block: undefined, signatures: undefined };
    }),
  );
  const toInspect = facts.filter((d) => d.isBlockDevice && !lvm.pvs.some((p) => p.name === d.path && p.vgName !== undefined));
  if (toInspect.length === 0) return facts;
  const blocks = await runQuery(ctx.executor, lsblkQuery(toInspect.map((d) => d.path!)));
  // One wipefs per disk, all at once.
  await Promise.all(
    toInspect.map(async (d) => {
      d.block = blocks.find((b) => b.path === d.path);
      if (!lvm.pvs.some((p) => p.name === d.path)) d.signatures = await runQuery(ctx.executor, wipefsListQuery(d.path!));
    }),
  );
  return facts;
}

/** Names of running programs (from /proc/PID/comm). */
async function runningPrograms(files: HostFiles): Promise<Set<string>> {
  const entries = (await files.listDir('/proc')) ?? [];
  const names = await Promise.all(
    entries.filter((e) => /^\d+$/.test(e)).map(async (pid) => {
      try {
        return (await files.readText(`/proc/${pid}/comm`))?.trim();
      } catch {
        return undefined; // the process exited meanwhile
      }
    }),
  );
  return new Set(names.filter((n): n is string => !!n));
}

async function serviceState(ctx: ProbeContext, unit: string, running: boolean, socket?: string): Promise<ServiceState> {
  if (!(await ctx.files.exists(systemdRuntimeDir))) return { kind: 'unmanaged', running };
  // Only ask systemd when the daemon runs: a stopped daemon needs no stop/start either way.
  const state = running ? await runQuery(ctx.executor, isActiveQuery(unit)) : 'inactive';
  if (running && !isActiveUnitState(state)) return { kind: 'unmanaged', running };
  // A socket unit would start the daemon again on the first client connection: find whether it is
  // installed (its unit file; no subprocess).
  const socketInstalled = socket !== undefined && (await Promise.all(unitDirs.map((d) => ctx.files.exists(`${d}/${socket}`)))).some(Boolean);
  return { kind: 'systemd', unit, state, ...(socketInstalled ? { socket } : {}) };
}

export async function probeDocker(ctx: ProbeContext): Promise<DockerState> {
  const daemonJsonPath = consumerConfigPaths(ctx).daemonJson;
  const [dockerd, programs, daemonJson] = await Promise.all([
    ctx.files.which('dockerd'),
    runningPrograms(ctx.files),
    ctx.files.readText(daemonJsonPath),
  ]);
  const engine = dockerd ? await runQuery(ctx.executor, dockerdVersionQuery()) : undefined;
  let dataRoot = defaultDockerRoot;
  try {
    const root = daemonJson === undefined ? undefined : parseDaemonJson(daemonJson)['data-root'];
    if (typeof root === 'string' && root.length > 0) dataRoot = root;
  } catch {
    // invalid JSON: the planner refuses it with a clear message
  }
  const [entries, backupExists, service, mountinfo] = await Promise.all([
    ctx.files.listDir(dataRoot),
    ctx.files.exists(`${dataRoot}.bk`),
    serviceState(ctx, 'docker.service', programs.has('dockerd'), 'docker.socket'),
    ctx.files.readText('/proc/self/mountinfo'),
  ]);
  return {
    engine,
    service,
    daemonJsonPath,
    daemonJson,
    dataRoot,
    dataRootEntries: entries?.length ?? 0,
    dataRootIsMountPoint: isMountPoint(mountinfo ?? '', dataRoot),
    dataRootBackupExists: backupExists,
  };
}

export async function probeContainerd(ctx: ProbeContext): Promise<ContainerdState> {
  const configPath = consumerConfigPaths(ctx).containerdConfig;
  const [binary, programs, config] = await Promise.all([
    ctx.files.which('containerd'),
    runningPrograms(ctx.files),
    ctx.files.readText(configPath),
  ]);
  return {
    version: binary ? await runQuery(ctx.executor, containerdVersionQuery()) : undefined,
    service: await serviceState(ctx, 'containerd.service', programs.has('containerd')),
    configPath,
    config,
  };
}

export async function probeConsumer(ctx: ProbeContext, kind: ConsumerKind): Promise<ConsumerState> {
  if (kind === 'docker') return { kind, docker: await probeDocker(ctx) };
  if (kind === 'containerd') return { kind, containerd: await probeContainerd(ctx) };
  return { kind: 'none' };
}

export async function probeInitDirect(ctx: ProbeContext, options: InitDirectOptions): Promise<InitDirectState> {
  const missing = await missingTools(ctx, initDirectTools);
  if (missing.includes('lvm')) {
    // Nothing else can be probed without LVM: the planner refuses on the missing tool.
    return {
      isRoot: ctx.uid === 0,
      missingTools: missing,
      disks: [],
      lvm: { pvs: [], vgs: [], lvs: [] },
      profileDir: '/etc/lvm/profile',
      profile: undefined,
      poolStatus: undefined,
      consumer: { kind: 'none' },
    };
  }
  // What does not depend on LVM's answers runs alongside it (docs/performance.md).
  const config = runQuery(ctx.executor, lvmThinConfigQuery());
  const consumerState = probeConsumer(ctx, options.consumer);
  // (Rejections are awaited below; these handlers only keep an early one from being "unhandled".)
  config.catch(() => undefined);
  consumerState.catch(() => undefined);
  const lvm = await probeLvm(ctx);
  const pool = lvm.lvs.find((l) => l.vgName === options.vg && l.name === options.pool);
  const [disks, { profileDir }, consumer, statuses] = await Promise.all([
    probeDisks(ctx, options.devices, lvm),
    config,
    consumerState,
    pool?.attr.isThinPool && pool.attr.active ? runQuery(ctx.executor, thinPoolStatusesQuery()) : Promise.resolve([]),
  ]);
  const dmName = lvmDmName(options.vg, options.pool);
  // Once a thin LV exists the pool's own dm device is VG-POOL-tpool; before that it is VG-POOL.
  const poolStatus = (statuses.find((s) => s.name === `${dmName}-tpool`) ?? statuses.find((s) => s.name === dmName))?.status;
  return {
    isRoot: ctx.uid === 0,
    missingTools: missing,
    disks,
    lvm,
    profileDir,
    profile: await ctx.files.readText(profilePath(profileDir, options.vg, options.pool)),
    poolStatus,
    poolRecord: await ctx.files.readText(poolRecordPath(dmName)),
    consumer,
  };
}

/** Whether `dir` is a mount point, from /proc/self/mountinfo (field 5; octal escapes decoded). */
export function isMountPoint(mountinfo: string, dir: string): boolean {
  const target = dir.replace(/\/+$/, '') || '/';
  return mountinfo.split('\n').some((line) => {
    const field = line.split(' ')[4];
    return field !== undefined && field.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))) === target;
  });
}
