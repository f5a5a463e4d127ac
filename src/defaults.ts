/**
 * Defaults shared by the command-line definitions and the planners. No imports: the CLI loads this
 * before it knows which command runs, so it must stay cheap.
 */
export const consumerDefaults = {
  consumer: 'docker',
  baseImageSize: '10GB',
  containerdRootPath: '/var/lib/containerd/io.containerd.snapshotter.v1.devmapper',
} as const;

export const initDirectDefaults = {
  vg: 'docker',
  pool: 'thinpool',
  thinpPercent: 95,
  thinpMetaPercent: 1,
  autoextendThreshold: 80,
  autoextendPercent: 20,
  chunkSizeBytes: 512 * 1024,
  consumer: consumerDefaults.consumer,
  baseImageSize: consumerDefaults.baseImageSize,
  containerdRootPath: consumerDefaults.containerdRootPath,
} as const;

export const initLoopDefaults = {
  pool: 'dmctl-pool',
  dir: '/var/lib/dmctl/loop',
  dataSizeBytes: 100 * 1024 ** 3,
  metadataSizeBytes: 2 * 1024 ** 3,
  /** 64 KiB blocks and a 2 GiB low-water mark, as Docker and containerd use. */
  blockSectors: 128,
  lowWaterMarkBlocks: 32768,
} as const;
