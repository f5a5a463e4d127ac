/**
 * The probe `status` runs: lvs, the kernel's thin-pool statuses (and tables, for pools LVM does not
 * know), lvm.conf's autoextend settings. In a module of its own, with only the wrappers it needs, so
 * the CLI can start it before the rest of dmctl has loaded (src/cli.ts).
 */
import { thinPoolStatusesQuery, thinPoolTablesQuery } from '../system/dmsetup.js';
import { runQuery, runQueryIfInstalled, type Executor } from '../system/exec.js';
import type { HostFiles } from '../system/files.js';
import { losetupListQuery } from '../system/losetup.js';
import { defaultContainerdConfigPath } from '../system/containerd.js';
import { defaultDaemonJsonPath } from '../system/docker.js';
import { lvmDmName, lvmThinConfigQuery, lvsQuery } from '../system/lvm.js';
import type { StatusState } from '../model/state.js';

export interface ProbeContext {
  executor: Executor;
  files: HostFiles;
  /** Effective uid (0 = root). */
  uid: number;
  /** Where consumer configs live; overridable for tests and non-standard hosts. */
  paths?: { daemonJson?: string; containerdConfig?: string };
}

/** Where this host's consumer configs are: ctx.paths, else the consumers' defaults. */
export function consumerConfigPaths(ctx: ProbeContext): { daemonJson: string; containerdConfig: string } {
  return { daemonJson: ctx.paths?.daemonJson ?? defaultDaemonJsonPath, containerdConfig: ctx.paths?.containerdConfig ?? defaultContainerdConfigPath };
}

/** lvm.conf's own defaults, for a host without LVM (no LVM pool can exist there). */
const noLvmConfig = { profileDir: '/etc/lvm/profile', threshold: 100, percent: 20 };

/**
 * Work started now and awaited later: a failure must wait for its awaiter, not end the process as an
 * unhandled rejection meanwhile (the promise itself still rejects where it is awaited).
 */
function started<T>(work: Promise<T>): Promise<T> {
  work.catch(() => undefined);
  return work;
}

/**
 * lvs, the slowest probe, starts at once, before this function first awaits: the CLI calls it as soon
 * as it knows the command is `status` (src/cli.ts). A host without LVM answers "not installed" (127).
 */
export async function probeStatus(ctx: ProbeContext): Promise<StatusState> {
  const lvsAnswer = started(runQueryIfInstalled(ctx.executor, lvsQuery()));
  const configAnswer = started(runQueryIfInstalled(ctx.executor, lvmThinConfigQuery()));
  const paths = consumerConfigPaths(ctx);
  const consumerConfigs = started(Promise.all([ctx.files.readText(paths.daemonJson), ctx.files.readText(paths.containerdConfig)]));
  const deviceMapperLoaded = await isDeviceMapperLoaded(ctx);
  // Loop pools need no LVM: on a host without it, only the dm pools are shown.
  const [lvs, dmStatuses, lvmConfig] = await Promise.all([
    lvsAnswer.then((answer) => answer ?? []),
    deviceMapperLoaded ? runQuery(ctx.executor, thinPoolStatusesQuery()) : [],
    configAnswer.then((answer) => answer ?? noLvmConfig),
  ]);
  const profileNames = [...new Set(lvs.filter((l) => l.attr.isThinPool && l.profile).map((l) => l.profile!))];
  const profiles = Object.fromEntries(
    await Promise.all(profileNames.map(async (name) => [name, await ctx.files.readText(`${lvmConfig.profileDir}/${name}.profile`)] as const)),
  );
  const lvmKernelNames = new Set(
    lvs.filter((l) => l.attr.isThinPool).flatMap((l) => [lvmDmName(l.vgName, l.name), `${lvmDmName(l.vgName, l.name)}-tpool`]),
  );
  // Three subprocesses on an LVM host; the tables (block size, devices) only for pools LVM does not
  // know, and losetup only when such a pool sits on loop devices (major 7), to name its files.
  const bare = dmStatuses.some((s) => !lvmKernelNames.has(s.name));
  const dmTables = bare ? (await runQuery(ctx.executor, thinPoolTablesQuery())).filter((t) => !lvmKernelNames.has(t.name)) : [];
  const onLoops = dmTables.some((t) => [t.table.dataDevice, t.table.metadataDevice].some((d) => d.startsWith('7:') || d.startsWith('/dev/loop')));
  const loops = onLoops ? await runQuery(ctx.executor, losetupListQuery()) : [];
  const [daemonJson, containerdConfig] = await consumerConfigs;
  return { deviceMapperLoaded, lvs, dmTables, dmStatuses, lvmConfig, profiles, loops, daemonJson, containerdConfig };
}

/**
 * Whether the kernel's device-mapper driver is loaded (`/proc/devices` lists it). When it is not, no
 * dm device can exist: that is a fact, not a guess, so probes skip dmsetup instead of failing on it.
 * Without /proc (not Linux) it answers true and lets dmsetup speak for itself.
 */
export async function isDeviceMapperLoaded(ctx: ProbeContext): Promise<boolean> {
  const devices = await ctx.files.readText('/proc/devices');
  return devices === undefined || /^\s*\d+\s+device-mapper\s*$/m.test(devices);
}
