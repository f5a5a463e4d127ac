/** Host states for planner tests, built by parsing recorded tool output wherever one exists. */
import { lsblkQuery, wipefsListQuery } from '../../src/system/blockdev.js';
import { lvmThinConfigQuery, lvsQuery, pvsQuery, vgsQuery } from '../../src/system/lvm.js';
import type { DockerState, InitDirectState, ReactivateState } from '../../src/model/state.js';
import { initDirectDefaults } from '../../src/defaults.js';
import type { InitDirectOptions } from '../../src/model/options.js';
import { guest, host } from './fixtures.js';

export const freshDisk = '/dev/loop0';

export function dockerState(overrides: Partial<DockerState> = {}): DockerState {
  return {
    engine: { major: 20, minor: 10, raw: 'Docker version 20.10.24+dfsg1, build 5d6db84' },
    service: { kind: 'systemd', unit: 'docker.service', state: 'inactive' },
    daemonJsonPath: '/etc/docker/daemon.json',
    daemonJson: undefined,
    dataRoot: '/var/lib/docker',
    dataRootEntries: 0,
    dataRootIsMountPoint: false,
    dataRootBackupExists: false,
    ...overrides,
  };
}

/** A host with one fresh 100 MiB disk (real lsblk/wipefs output) and no LVM at all. */
export function freshHost(overrides: Partial<InitDirectState> = {}): InitDirectState {
  const block = lsblkQuery([freshDisk]).parse(host('lsblk-loop-fresh.txt'))[0]!;
  return {
    isRoot: true,
    missingTools: [],
    disks: [{ requested: freshDisk, path: freshDisk, isBlockDevice: true, block, signatures: wipefsListQuery(freshDisk).parse(host('wipefs-fresh.txt')) }],
    lvm: { pvs: [], vgs: [], lvs: [] },
    profileDir: lvmThinConfigQuery().parse(host('lvmconfig-thin.txt')).profileDir,
    profile: undefined,
    poolStatus: undefined,
    consumer: { kind: 'docker', docker: dockerState() },
    ...overrides,
  };
}

/** The host after `pvcreate` + `vgcreate dmctltest /dev/loop0` (real pvs/vgs output). */
export function vgOnlyLvm() {
  return { pvs: pvsQuery().parse(host('pvs-vg.txt')), vgs: vgsQuery().parse(host('vgs-vg.txt')), lvs: [] };
}

export function options(overrides: Partial<InitDirectOptions> = {}): InitDirectOptions {
  return {
    devices: [freshDisk],
    vg: initDirectDefaults.vg,
    pool: initDirectDefaults.pool,
    thinpPercent: initDirectDefaults.thinpPercent,
    thinpMetaPercent: initDirectDefaults.thinpMetaPercent,
    autoextendThreshold: initDirectDefaults.autoextendThreshold,
    autoextendPercent: initDirectDefaults.autoextendPercent,
    chunkSizeBytes: initDirectDefaults.chunkSizeBytes,
    force: false,
    consumer: 'docker',
    dockerManaged: false,
    storageOpts: [],
    minFreeSpace: undefined,
    baseImageSize: initDirectDefaults.baseImageSize,
    containerdRootPath: initDirectDefaults.containerdRootPath,
    ...overrides,
  };
}

/**
 * What reactivate sees: the guest's LVM as lvs-LVS.txt recorded it, no dm device, loop device, record,
 * unit or consumer config unless `overrides` brings them.
 */
export function reactivateState(lvs: string, overrides: Partial<ReactivateState> = {}): ReactivateState {
  return {
    missingTools: [],
    deviceMapperLoaded: true,
    dmNames: [],
    thinPools: [],
    loops: [],
    devEntries: [],
    lvs: lvsQuery().parse(guest(`lvs-${lvs}.txt`)),
    lvmInstalled: true,
    records: {},
    fileBytes: {},
    systemd: false,
    unitFile: undefined,
    unitEnabled: false,
    metadataTransactionIds: {},
    consumerConfigs: {},
    recordedDisks: {},
    ...overrides,
  };
}
