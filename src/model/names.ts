/**
 * The names and paths dmctl owns on a host: what it calls the LVs, profiles, units, records and
 * files it makes, so probes look exactly where planners write.
 */

/** The metadata LV created next to the pool's data LV before lvconvert joins them. */
export function metadataLvName(pool: string): string {
  return `${pool}meta`;
}

/** The LVM metadata profile that carries a pool's autoextend settings (`docker-thinpool`). */
export function profileName(vg: string, pool: string): string {
  return `${vg}-${pool}`;
}

/** The profile's file in LVM's profile_dir. */
export function profilePath(profileDir: string, vg: string, pool: string): string {
  return `${profileDir}/${profileName(vg, pool)}.profile`;
}

/** The boot unit `reactivate --install-unit` writes and enables. */
export const unitName = 'dmctl-reactivate.service';
export const unitPath = `/etc/systemd/system/${unitName}`;
export const unitWantsLink = `/etc/systemd/system/multi-user.target.wants/${unitName}`;

/**
 * One small JSON record per pool dmctl built, named by the pool's dm name: a loop pool's, so it can be
 * found and rebuilt after a reboot; an LVM pool's (init-direct), so reactivate knows to wait for it.
 */
export const poolRecordDir = '/var/lib/dmctl/pools';

export function poolRecordPath(pool: string): string {
  return `${poolRecordDir}/${pool}.json`;
}

/** How long the boot unit's `reactivate --wait-devices` waits for expected pools' disks (systemd's own device timeout). */
export const unitWaitDevicesSec = 90;

/** A loop pool's sparse backing files in its directory. */
export function loopFiles(dir: string): { data: string; metadata: string } {
  return { data: `${dir}/data`, metadata: `${dir}/metadata` };
}

/** The VG and thin pool Docker's devicemapper driver builds itself on `dm.directlvm_device` (fixed names). */
export const dockerManagedPool = { vg: 'docker', lv: 'thinpool' } as const;
