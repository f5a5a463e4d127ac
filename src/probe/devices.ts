/**
 * The probe `status --devices` adds to status's own: every thin-pool target's table (its metadata
 * device), the metadata device's path (from /sys, so it works without udev), and what Docker's
 * devicemapper driver and containerd's devmapper snapshotter recorded about their devices. Reads
 * only; the metadata snapshot thin_ls needs is taken and released by run/thin-usage.ts.
 */
import { createHash } from 'node:crypto';
import { ProbeError } from '../errors.js';
import { thinPoolTablesQuery } from '../system/dmsetup.js';
import {
  chainIdsOf,
  dockerContainersDir,
  dockerDeviceMetadataDir,
  dockerImageConfigPath,
  dockerLayersDir,
  dockerMountsDir,
  dockerNonDeviceFiles,
  dockerRepositoriesPath,
  parseContainerConfig,
  parseDockerDevice,
  parseImageDiffIds,
  parseRepositories,
  type DockerContainer,
  type DockerDevice,
  type DockerImage,
  type DockerLayer,
} from '../system/docker-devices.js';
import { containerdDevmapperRoot, containerdPoolUse } from '../system/containerd.js';
import {
  defaultDevmapperRoot,
  devmapperMetastorePath,
  devmapperPoolDbPath,
  parseDevmapperMetastore,
  parseDevmapperPoolDb,
} from '../system/containerd-devices.js';
import { defaultDockerRoot, parseDaemonJson } from '../system/docker.js';
import { runQuery } from '../system/exec.js';
import type { ContainerdDevicesState, DevicesPoolState, DevicesState, DockerDevicesState } from '../model/state.js';
import { devicesTools } from '../model/tools.js';
import { missingTools } from './probe.js';
import type { ProbeContext } from './status.js';

export async function probeDevices(
  ctx: ProbeContext,
  configs: { daemonJson: string | undefined; containerdConfig: string | undefined },
  deviceMapperLoaded: boolean,
): Promise<DevicesState> {
  const [missing, tables, docker, containerd] = await Promise.all([
    missingTools(ctx, devicesTools),
    deviceMapperLoaded ? runQuery(ctx.executor, thinPoolTablesQuery()) : [],
    probeDockerDevices(ctx, dockerDataRoot(configs.daemonJson)),
    probeContainerdDevices(ctx, configs.containerdConfig),
  ]);
  const pools = await Promise.all(
    tables.map(async ({ name, table }): Promise<DevicesPoolState> => ({ kernelName: name, table, metadataDevice: await deviceOf(ctx, table.metadataDevice) })),
  );
  return { pools, missingTools: missing, docker, containerd };
}

/** `data-root` from daemon.json, else Docker's default. */
function dockerDataRoot(daemonJson: string | undefined): string {
  if (daemonJson === undefined) return defaultDockerRoot;
  try {
    const root = parseDaemonJson(daemonJson)['data-root'];
    return typeof root === 'string' && root.startsWith('/') ? root.replace(/\/+$/, '') : defaultDockerRoot;
  } catch {
    return defaultDockerRoot; // status reports an invalid daemon.json; Docker would not start on it
  }
}

/**
 * A table's device (`254:0`, as the kernel prints it) as a path: its kernel name from
 * /sys/dev/block/MAJ:MIN/uevent (devtmpfs makes /dev/<name>), and, for a dm device, its dm name.
 */
async function deviceOf(ctx: ProbeContext, device: string): Promise<DevicesPoolState['metadataDevice']> {
  if (device.startsWith('/')) return { path: device, dmName: undefined };
  const sys = `/sys/dev/block/${device}`;
  const uevent = await ctx.files.readText(`${sys}/uevent`);
  const kernelName = /^DEVNAME=(.+)$/m.exec(uevent ?? '')?.[1];
  if (kernelName === undefined) return undefined;
  const dmName = (await ctx.files.readText(`${sys}/dm/name`))?.trim() || undefined;
  const mapper = dmName === undefined ? undefined : `/dev/mapper/${dmName}`;
  return { path: mapper !== undefined && (await ctx.files.exists(mapper)) ? mapper : `/dev/${kernelName}`, dmName };
}

/** Docker's device records and the containers and layers they belong to; undefined without devicemapper metadata. */
async function probeDockerDevices(ctx: ProbeContext, dataRoot: string): Promise<DockerDevicesState | undefined> {
  const metadataDir = dockerDeviceMetadataDir(dataRoot);
  const names = await ctx.files.listDir(metadataDir);
  if (names === undefined) return undefined;
  const read = async (file: string) => ctx.files.readText(file);
  const parsed = <T>(file: string, text: string, parse: (t: string) => T): T => parsedAs("Docker's devicemapper driver", file, text, parse);
  const deviceFiles = names.filter((n) => !dockerNonDeviceFiles.has(n) && !n.startsWith('.')).sort();
  const devices = (
    await Promise.all(
      deviceFiles.map(async (hash): Promise<DockerDevice | undefined> => {
        const file = `${metadataDir}/${hash}`;
        const text = await read(file);
        return text === undefined ? undefined : parsed(file, text, (t) => parseDockerDevice(hash, t));
      }),
    )
  ).filter((d): d is DockerDevice => d !== undefined);
  const mountsDir = dockerMountsDir(dataRoot);
  const containerIds = ((await ctx.files.listDir(mountsDir)) ?? []).sort();
  const containers = await Promise.all(
    containerIds.map(async (id): Promise<DockerContainer> => {
      const [mountId, initId, config] = await Promise.all([
        read(`${mountsDir}/${id}/mount-id`),
        read(`${mountsDir}/${id}/init-id`),
        read(`${dockerContainersDir(dataRoot)}/${id}/config.v2.json`),
      ]);
      const configFile = `${dockerContainersDir(dataRoot)}/${id}/config.v2.json`;
      return { id, ...parsed(configFile, config ?? '', () => parseContainerConfig(config)), mountId: mountId?.trim(), initId: initId?.trim() };
    }),
  );
  const layersDir = dockerLayersDir(dataRoot);
  const chainIds = ((await ctx.files.listDir(layersDir)) ?? []).sort();
  const layers = (
    await Promise.all(
      chainIds.map(async (chain): Promise<DockerLayer | undefined> => {
        const cacheId = (await read(`${layersDir}/${chain}/cache-id`))?.trim();
        return cacheId === undefined ? undefined : { chainId: `sha256:${chain}`, cacheId };
      }),
    )
  ).filter((l): l is DockerLayer => l !== undefined);
  return { dataRoot, devices, containers, layers, images: await probeDockerImages(ctx, dataRoot) };
}

/** Tagged images (repositories.json) and the chain ids of their layers (from their configs' diff ids). */
async function probeDockerImages(ctx: ProbeContext, dataRoot: string): Promise<DockerImage[]> {
  const repositoriesFile = dockerRepositoriesPath(dataRoot);
  const text = await ctx.files.readText(repositoriesFile);
  const names = parsedAs("Docker's image store", repositoriesFile, text, parseRepositories);
  const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');
  const images = await Promise.all(
    [...names].map(async ([id, tags]): Promise<DockerImage | undefined> => {
      const file = dockerImageConfigPath(dataRoot, id);
      const config = await ctx.files.readText(file);
      return config === undefined ? undefined : { id, names: tags.sort(), chainIds: chainIdsOf(parsedAs("Docker's image store", file, config, parseImageDiffIds), sha256) };
    }),
  );
  return images.filter((i): i is DockerImage => i !== undefined);
}

function parsedAs<I, T>(writer: string, file: string, input: I, parse: (i: I) => T): T {
  try {
    return parse(input);
  } catch (error) {
    throw new ProbeError(`cannot probe the host: ${file} is not what ${writer} writes (${(error as Error).message.split('\n')[0]})`);
  }
}

/**
 * The devmapper snapshotter's two bolt files, read as bytes (containerd holds them open and locked
 * while it runs; the lock is advisory). Undefined when config.toml names no devmapper pool or the
 * pool's file is not there (containerd has not used the pool yet).
 */
async function probeContainerdDevices(ctx: ProbeContext, config: string | undefined): Promise<ContainerdDevicesState | undefined> {
  const use = config === undefined ? undefined : containerdPoolUse(config);
  if (!use) return undefined;
  const rootPath = containerdDevmapperRoot(config!) ?? defaultDevmapperRoot;
  const bytesOf = async (file: string) => {
    const size = await ctx.files.fileSize(file);
    return size === undefined ? undefined : ctx.files.readBytes(file, 0, size);
  };
  const poolDb = devmapperPoolDbPath(rootPath, use.poolName);
  const metastore = devmapperMetastorePath(rootPath);
  const [poolBytes, storeBytes] = await Promise.all([bytesOf(poolDb), bytesOf(metastore)]);
  if (poolBytes === undefined) return undefined;
  const writer = "containerd's devmapper snapshotter";
  return {
    poolName: use.poolName,
    rootPath,
    devices: parsedAs(writer, poolDb, poolBytes, parseDevmapperPoolDb),
    snapshots: storeBytes === undefined ? [] : parsedAs(writer, metastore, storeBytes, parseDevmapperMetastore),
  };
}
