/**
 * What Docker's devicemapper graph driver records about its thin devices, read from its data root
 * (Docker Engine 20.10, recorded in the real-kernel guest; see test/fixtures/…/devices/):
 *
 * - `devicemapper/metadata/<hash>`: one JSON file per thin device,
 *   `{"device_id":N,"size":…,"transaction_id":…,"initialized":…,"deleted":…}`; `<hash>` is `base`
 *   (the base device every image starts from), an image layer's cache id, a container's mount id, or
 *   that id with `-init` (the layer Docker writes /etc/hosts and friends into). `deviceset-metadata`
 *   and `transaction-metadata` in the same directory are not devices.
 * - `image/devicemapper/layerdb/mounts/<container id>/mount-id` and `init-id`: the container's hashes.
 * - `image/devicemapper/layerdb/sha256/<chain id>/cache-id`: an image layer's hash.
 * - `containers/<container id>/config.v2.json`: `Name` (`/web`) and `Config.Image`.
 */
import * as z from 'zod/mini';
import '../zod-locale.js';

export const dockerDeviceMetadataDir = (dataRoot: string) => `${dataRoot}/devicemapper/metadata`;
export const dockerMountsDir = (dataRoot: string) => `${dataRoot}/image/devicemapper/layerdb/mounts`;
export const dockerLayersDir = (dataRoot: string) => `${dataRoot}/image/devicemapper/layerdb/sha256`;
export const dockerContainersDir = (dataRoot: string) => `${dataRoot}/containers`;

/** Files in devicemapper/metadata that describe the device set, not a device. */
export const dockerNonDeviceFiles: ReadonlySet<string> = new Set(['deviceset-metadata', 'transaction-metadata']);

export interface DockerDevice {
  /** The file name: `base`, a layer's cache id, a container's mount id or `<mount id>-init`. */
  hash: string;
  deviceId: number;
  /** The device's virtual size (dm.basesize). */
  sizeBytes: number;
  /** Marked deleted (deferred deletion pending). */
  deleted: boolean;
}

const DeviceSchema = z.object({
  device_id: z.int().check(z.nonnegative()),
  size: z.number().check(z.nonnegative()),
  deleted: z.optional(z.boolean()),
});

export function parseDockerDevice(hash: string, text: string): DockerDevice {
  const d = DeviceSchema.parse(JSON.parse(text));
  return { hash, deviceId: d.device_id, sizeBytes: d.size, deleted: d.deleted === true };
}

export interface DockerContainer {
  id: string;
  /** Without Docker's leading `/`. */
  name: string | undefined;
  image: string | undefined;
  /** Hash of its writable layer's device (layerdb/mounts/<id>/mount-id). */
  mountId: string | undefined;
  /** Hash of its init layer's device. */
  initId: string | undefined;
}

const ContainerConfigSchema = z.object({
  Name: z.optional(z.string()),
  Config: z.optional(z.object({ Image: z.optional(z.string()) })),
});

/** `containers/<id>/config.v2.json` → name and image (undefined when the file is missing). */
export function parseContainerConfig(text: string | undefined): { name: string | undefined; image: string | undefined } {
  if (text === undefined) return { name: undefined, image: undefined };
  const c = ContainerConfigSchema.parse(JSON.parse(text));
  return { name: c.Name?.replace(/^\//, ''), image: c.Config?.Image };
}

export interface DockerLayer {
  /** `sha256:…` chain id (the layerdb directory). */
  chainId: string;
  cacheId: string;
}

export const dockerRepositoriesPath = (dataRoot: string) => `${dataRoot}/image/devicemapper/repositories.json`;
export const dockerImageConfigPath = (dataRoot: string, imageId: string) =>
  `${dataRoot}/image/devicemapper/imagedb/content/sha256/${imageId.replace(/^sha256:/, '')}`;

const RepositoriesSchema = z.object({ Repositories: z.optional(z.record(z.string(), z.record(z.string(), z.string()))) });

/** `repositories.json` → image id → its names (`tiny:1`, `repo@sha256:…`). */
export function parseRepositories(text: string | undefined): Map<string, string[]> {
  const images = new Map<string, string[]>();
  if (text === undefined) return images;
  for (const refs of Object.values(RepositoriesSchema.parse(JSON.parse(text)).Repositories ?? {})) {
    for (const [name, id] of Object.entries(refs)) images.set(id, [...(images.get(id) ?? []), name]);
  }
  return images;
}

const ImageConfigSchema = z.object({ rootfs: z.object({ diff_ids: z.array(z.string()) }) });

/** An image's layer diff ids, bottom first (`imagedb/content/sha256/<id>`). */
export function parseImageDiffIds(text: string): string[] {
  return ImageConfigSchema.parse(JSON.parse(text)).rootfs.diff_ids;
}

/**
 * The chain ids of an image's layers (the layerdb directory names), from its diff ids: the first is
 * its diff id, each next one `sha256(<previous chain id> + " " + <diff id>)` (moby layer.CreateChainID).
 */
export function chainIdsOf(diffIds: readonly string[], sha256: (text: string) => string): string[] {
  const chain: string[] = [];
  for (const diff of diffIds) chain.push(chain.length === 0 ? diff : `sha256:${sha256(`${chain[chain.length - 1]} ${diff}`)}`);
  return chain;
}

export interface DockerImage {
  id: string;
  names: string[];
  chainIds: string[];
}
