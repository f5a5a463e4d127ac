/**
 * The typed snapshot of host state: what probes fill and planners read. One type per command's view
 * of the host, all here, so probe/ and plan/ both stand on this module and never on each other.
 */
import type { BlockDevice, IoHints, Signature } from '../system/blockdev.js';
import type { ThinPoolFailedStatus, ThinPoolStatus, ThinPoolTable } from '../system/dmsetup.js';
import type { EngineVersion } from '../system/docker.js';
import type { ContainerdDevice, ContainerdSnapshot } from '../system/containerd-devices.js';
import type { DockerContainer, DockerDevice, DockerImage, DockerLayer } from '../system/docker-devices.js';
import type { LoopDevice } from '../system/losetup.js';
import type { LogicalVolume, LvmThinConfig, PhysicalVolume, PvLayoutConfig, VolumeGroup } from '../system/lvm.js';
import type { UnitState } from '../system/systemd.js';

export interface LvmState {
  /** Every PV lvm can see; with `allDevices`, also those a devices file would hide. */
  pvs: PhysicalVolume[];
  vgs: VolumeGroup[];
  lvs: LogicalVolume[];
  /** The PVs were listed with `pvs --devicesfile ""` (lvm ≥ 2.03.12): no devices file hid any. */
  allDevices?: boolean;
}

export interface DiskFacts {
  /** As the operator typed it (`/dev/disk/by-id/…`). */
  requested: string;
  /** Symlinks resolved; undefined when the path does not exist. */
  path: string | undefined;
  isBlockDevice: boolean;
  /** lsblk facts; undefined when not probed (not a block device, or already a PV of the target VG). */
  block: BlockDevice | undefined;
  /** wipefs signatures; undefined when not probed. */
  signatures: Signature[] | undefined;
}

/** How a consumer's daemon runs: under systemd, by hand (no systemd unit active), or not at all. */
export type ServiceState =
  /** `socket`: a socket unit that starts the service on the first connection (docker.socket), if installed. */
  | { kind: 'systemd'; unit: string; state: UnitState; socket?: string }
  | { kind: 'unmanaged'; running: boolean };

/** The one answer to "is the daemon running": an active (or starting) unit, or a process by hand. */
export function isServiceRunning(service: ServiceState): boolean {
  return service.kind === 'systemd' ? isActiveUnitState(service.state) : service.running;
}

/** systemd's `active` and `activating` both mean the unit runs (or is about to). */
export function isActiveUnitState(state: UnitState): boolean {
  return state === 'active' || state === 'activating';
}

export interface DockerState {
  /** `dockerd --version`; undefined when dockerd is not installed. */
  engine: EngineVersion | undefined;
  service: ServiceState;
  daemonJsonPath: string;
  /** Raw daemon.json; undefined when it does not exist. */
  daemonJson: string | undefined;
  /** `data-root` from daemon.json, else /var/lib/docker. */
  dataRoot: string;
  /** Number of entries in the data root (0 when missing). */
  dataRootEntries: number;
  /** The data root is a mount point (rename(2) cannot move it aside). */
  dataRootIsMountPoint: boolean;
  dataRootBackupExists: boolean;
}

export interface ContainerdState {
  /** `containerd --version`; undefined when containerd is not installed. */
  version: string | undefined;
  service: ServiceState;
  configPath: string;
  /** Raw config.toml; undefined when it does not exist. */
  config: string | undefined;
}

export type ConsumerState =
  | { kind: 'docker'; docker: DockerState }
  | { kind: 'containerd'; containerd: ContainerdState }
  | { kind: 'none' };

export interface InitDirectState {
  isRoot: boolean;
  /** Required programs not found on PATH. */
  missingTools: string[];
  disks: DiskFacts[];
  lvm: LvmState;
  /** LVM's profile_dir. */
  profileDir: string;
  /** Content of `<profileDir>/<vg>-<pool>.profile`, undefined when absent. */
  profile: string | undefined;
  /** Kernel status of the pool when it exists and is active. */
  poolStatus: ThinPoolStatus | ThinPoolFailedStatus | undefined;
  consumer: ConsumerState;
  /** dmctl's record of the pool (`/var/lib/dmctl/pools/VG-POOL.json`), undefined when absent. */
  poolRecord?: string | undefined;
}

export interface ExtendState {
  missingTools: string[];
  disks: DiskFacts[];
  lvm: LvmState;
  /** Where new PVs' first extents go: lvm.conf's alignment settings, each new disk's I/O hints. */
  layout: PvLayoutFacts;
  /** dmctl's records of the host's LVM thin pools (poolRecordPath → its text), where they exist. */
  poolRecords: Record<string, string>;
}

export interface PvLayoutFacts {
  config: PvLayoutConfig | undefined;
  /** I/O hints of the disks that are not PVs yet. */
  ioHints: IoHints[];
  /** `pe_start` (bytes) of the disks that are orphan PVs already (an extend that stopped after pvcreate). */
  peStarts: Record<string, number | undefined>;
}

/** A thin-pool target as the kernel reports it: table and status. */
export interface DmThinPoolState {
  name: string;
  table: ThinPoolTable;
  status: ThinPoolStatus | ThinPoolFailedStatus | undefined;
}

/** What every loop-pool command sees: the kernel's thin pools and the loop devices under them. */
export interface LoopPoolState {
  missingTools: string[];
  /** False when the kernel's device-mapper is not loaded: then no dm device exists yet. */
  deviceMapperLoaded: boolean;
  /** Every dm device name on the host. */
  dmNames: string[];
  /** Every thin-pool target: table and status. */
  thinPools: DmThinPoolState[];
  loops: LoopDevice[];
  /** Entries of /dev, to pick free loop device nodes. */
  devEntries: string[];
}

export interface InitLoopState extends LoopPoolState {
  /** Sizes of the data and metadata files, undefined when absent. */
  dataFileBytes: number | undefined;
  metadataFileBytes: number | undefined;
  /** Free bytes on the filesystem that holds the files. */
  freeBytes: number;
  /** The pool's record, raw; undefined when absent. */
  record: string | undefined;
  consumer: ConsumerState;
}

export interface ResizeLoopState extends LoopPoolState {
  /** Sizes of the loop pools' backing files. */
  fileBytes: Record<string, number | undefined>;
  /** Free bytes on the filesystem of each backing file. */
  freeBytes: Record<string, number>;
}

export interface ReactivateState extends LoopPoolState {
  /** All LVs (thin pools among them); empty when LVM is not installed. */
  lvs: LogicalVolume[];
  lvmInstalled: boolean;
  /** Raw pool records by file path. */
  records: Record<string, string>;
  /** Sizes of the recorded pools' files (undefined: missing). */
  fileBytes: Record<string, number | undefined>;
  /** systemd runs this host (for --install-unit). */
  systemd: boolean;
  /** Current content of the unit file, undefined when absent. */
  unitFile: string | undefined;
  /** The unit is enabled (its multi-user.target.wants link exists). */
  unitEnabled: boolean;
  /**
   * `VG/POOL` → the transaction id in the superblock of an inactive pool whose LVM id is above 0
   * (undefined: could not be read).
   */
  metadataTransactionIds: Record<string, number | undefined>;
  /** The consumers' configs that can name a pool: daemon.json (`dm.thinpooldev`), containerd's config.toml (`pool_name`). */
  consumerConfigs: { daemonJson?: { path: string; text: string }; containerdConfig?: { path: string; text: string } };
  /** The disks named in LVM pool records → whether the path exists now. */
  recordedDisks: Record<string, boolean>;
}

export interface StatusState {
  /** False when the kernel has no device-mapper loaded: then no pool can be active. */
  deviceMapperLoaded: boolean;
  lvs: LogicalVolume[];
  dmTables: Array<{ name: string; table: ThinPoolTable }>;
  dmStatuses: Array<{ name: string; status: ThinPoolStatus | ThinPoolFailedStatus }>;
  lvmConfig: LvmThinConfig;
  /** Profile name → file content (undefined when the file is missing). */
  profiles: Record<string, string | undefined>;
  /** Attached loop devices (read only when a bare pool sits on loop devices). */
  loops: LoopDevice[];
  /** The consumers' configs (undefined when absent): which pool each uses, and its settings. */
  daemonJson?: string | undefined;
  containerdConfig?: string | undefined;
}

/** A thin-pool target as `status --devices` reads it: the device to message and its metadata device. */
export interface DevicesPoolState {
  /** dm name of the device with the thin-pool target (`VG-POOL-tpool` when LVM has thin LVs in it). */
  kernelName: string;
  table: ThinPoolTable;
  /**
   * The table's metadata device as a path thin_ls opens (`/dev/mapper/NAME` when it is a dm device with
   * a node there, else `/dev/<kernel name>`), and its dm name; undefined when /sys does not know it.
   */
  metadataDevice: { path: string; dmName: string | undefined } | undefined;
}

/** What Docker's devicemapper driver recorded under its data root (undefined parts: not there). */
export interface DockerDevicesState {
  dataRoot: string;
  devices: DockerDevice[];
  containers: DockerContainer[];
  layers: DockerLayer[];
  /** Tagged images and their layers' chain ids (to name the images an image layer belongs to). */
  images?: DockerImage[];
}

/** What containerd's devmapper snapshotter recorded (its pool's devices and its snapshots). */
export interface ContainerdDevicesState {
  /** `pool_name` from config.toml: the dm name of the pool these devices are in. */
  poolName: string;
  rootPath: string;
  devices: ContainerdDevice[];
  snapshots: ContainerdSnapshot[];
}

/** `status --devices`: the pools' targets and who owns their thin devices. */
export interface DevicesState {
  pools: DevicesPoolState[];
  /** Required programs not found on PATH (thin_ls). */
  missingTools: string[];
  /** undefined when Docker has no devicemapper metadata on this host. */
  docker: DockerDevicesState | undefined;
  /** undefined when config.toml names no devmapper pool, or its files are not there. */
  containerd?: ContainerdDevicesState | undefined;
}

/** Fields that change while a pool is in use: left out of a plan's basis so it stays valid. */
export const volatileStateKeys: ReadonlySet<string> = new Set([
  'dataPercent',
  'metadataPercent',
  'usedDataBlocks',
  'usedMetadataBlocks',
  'freeBytes',
  'vgFreeBytes',
  'freeExtentCount',
  'sizeBytes',
  'totalDataBlocks',
  'dataRootEntries',
]);
