/**
 * The typed snapshot of host state that planners read. Probes fill it; planners never do I/O.
 */
import type { BlockDevice, Signature } from '../system/blockdev.js';
import type { ThinPoolFailedStatus, ThinPoolStatus } from '../system/dmsetup.js';
import type { EngineVersion } from '../system/docker.js';
import type { LogicalVolume, PhysicalVolume, VolumeGroup } from '../system/lvm.js';
import type { UnitState } from '../system/systemd.js';

export interface LvmState {
  pvs: PhysicalVolume[];
  vgs: VolumeGroup[];
  lvs: LogicalVolume[];
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
}

/** Fields that change while a pool is in use: left out of a plan's basis so it stays valid. */
export const volatileStateKeys = new Set([
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
