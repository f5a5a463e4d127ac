/**
 * What the operator asked for, per command, as planners and probes read it (the CLI builds these
 * from its validated options; a saved plan file carries them as its request).
 */

export type ConsumerKind = 'docker' | 'containerd' | 'none';

/** What the operator asked for the consumer (init-direct and init-loop alike). */
export interface ConsumerSettings {
  consumer: ConsumerKind;
  /** Let Docker (< 25) build the pool itself (--docker-managed). */
  dockerManaged: boolean;
  /** Extra Docker storage options (`dm.basesize=20G`). */
  storageOpts: string[];
  /** Docker's dm.min_free_space, with its `%`. */
  minFreeSpace: string | undefined;
  /** containerd's base_image_size and root_path. */
  baseImageSize: string;
  containerdRootPath: string;
}

/** `dockerManaged`: let Docker (< 25) set up direct-lvm itself from daemon.json. */
export interface InitDirectOptions extends ConsumerSettings {
  devices: string[];
  vg: string;
  pool: string;
  /** Data LV size in percent of the VG (Docker's dm.thinp_percent). */
  thinpPercent: number;
  /** Metadata LV size in percent of the VG (dm.thinp_metapercent). */
  thinpMetaPercent: number;
  autoextendThreshold: number;
  autoextendPercent: number;
  chunkSizeBytes: number;
  /** Erase existing signatures (wipefs -a). */
  force: boolean;
}

export interface InitLoopOptions extends ConsumerSettings {
  pool: string;
  dir: string;
  dataSizeBytes: number;
  metadataSizeBytes: number;
  /** Set by the operator (--data-size/--metadata-size), for --docker-managed's dm.loop* options. */
  sizesGiven: { data: boolean; metadata: boolean };
  blockSectors: number;
  lowWaterMarkBlocks: number;
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

export interface ResizeLoopOptions {
  pool: string | undefined;
  /** `200G` → absolute; `+50G` → relative to the file's current size. */
  size: { bytes: number; relative: boolean };
  /** Grow the metadata file instead of the data file. */
  metadata: boolean;
}

export interface ReactivateOptions {
  installUnit: boolean;
  /** How systemd should run dmctl: absolute paths of node and of dmctl's launcher. */
  dmctlArgv: readonly string[];
  /**
   * `--wait-devices SECS`: how long to wait for the expected pools (recorded by dmctl, named by the
   * consumer's config) whose devices have not appeared yet; 0 (or absent): look once.
   */
  waitDevicesSec?: number;
}
