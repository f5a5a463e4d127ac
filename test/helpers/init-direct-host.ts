/** The commands `dmctl init-direct /dev/loop0` runs on a fresh host, with their recorded answers. */
import { formatArgv } from '../../src/system/exec.js';
import { host } from './fixtures.js';

/** Probes, each with its real output recorded on this host. */
export const initDirectProbes: Array<[string[], string]> = [
  [['lvm', 'version'], host('lvm-version.txt')],
  // lvm 2.03.16 has the devices file: PVs are listed past it.
  [['pvs', '--devicesfile', '', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'pv_name,vg_name,pv_size,pv_free,pv_attr'], host('pvs-empty-all-devices.txt')],
  [['vgs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,vg_attr,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count,pv_count,lv_count'], host('vgs-empty.txt')],
  [['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,lv_name,lv_attr,lv_size,segtype,pool_lv,data_percent,metadata_percent,lv_metadata_size,chunk_size,transaction_id,seg_monitor,lv_profile,lv_when_full,lv_health_status,lv_dm_path,vg_free,vg_extent_size'], host('lvs-empty.txt')],
  [['lvmconfig', '--typeconfig', 'full', 'config/profile_dir', 'activation/thin_pool_autoextend_threshold', 'activation/thin_pool_autoextend_percent'], host('lvmconfig-thin.txt')],
  [['lsblk', '--json', '--bytes', '--paths', '-o', 'NAME,TYPE,SIZE,MOUNTPOINT', '/dev/loop0'], host('lsblk-loop-fresh.txt')],
  [['wipefs', '--no-act', '--json', '/dev/loop0'], host('wipefs-fresh.txt')],
  [['dockerd', '--version'], host('dockerd-version.txt')],
];

/** The plan's commands, in order (they print nothing on success). */
export const initDirectMutations = [
  ['pvcreate', '/dev/loop0'],
  ['vgcreate', 'docker', '/dev/loop0'],
  ['lvcreate', '--wipesignatures', 'y', '-n', 'thinpool', 'docker', '-l', '95%VG'],
  ['lvcreate', '--wipesignatures', 'y', '-n', 'thinpoolmeta', 'docker', '-l', '1%VG'],
  ['lvconvert', '-y', '--zero', 'n', '-c', '512K', '--thinpool', 'docker/thinpool', '--poolmetadata', 'docker/thinpoolmeta'],
  ['lvchange', '--metadataprofile', 'docker-thinpool', 'docker/thinpool'],
  ['lvchange', '--monitor', 'y', 'docker/thinpool'],
];

export const monitorCheck = ['lvs', '--noheadings', '-o', 'seg_monitor', 'docker/thinpool'];

/** The commands that are not probes, as shell-quoted strings. */
export const changes = (commands: string[]) => commands.filter((c) => !initDirectProbes.some(([argv]) => c === formatArgv(argv)));
