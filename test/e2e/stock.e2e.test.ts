/**
 * dmctl's production paths on a stock host: ONE User-Mode Linux guest booted with `uml-run --stock`
 * (guest/README.md, "stock mode"): systemd as PID 1 with systemd-udevd running (Debian's udev), the
 * distribution's lvm.conf untouched (LVM syncs with udev and lets its rules make the /dev nodes), no
 * DM_DISABLE_UDEV in any environment, and Docker from docker.service with no udev override (no
 * dm.override_udev_sync_check). In order, as an operator would:
 *
 * - init-direct (consumer docker): dmctl restarts docker.service through systemctl; docker info names
 *   the pool with "Udev Sync Supported: true", and a container writes into the pool;
 * - extend with a second disk;
 * - reactivate --install-unit, then after the pool is deactivated, starting the unit brings it back;
 * - init-loop (consumer none) and resize-loop on a second, loop-backed pool;
 * - init-direct --consumer containerd on a third disk (VG ctd): dmctl restarts containerd.service, its
 *   devmapper snapshotter loads and an image unpacks into the pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerImport, ociArchive, rootfsTarball } from './images.js';
import { runScenario, type ScenarioResult } from './scenario.js';

type Scenario = ScenarioResult & { cleanup(): Promise<void> };
const unit = 'dmctl-reactivate.service';

describe('a stock host (systemd + systemd-udevd, stock lvm.conf): every production path in one guest', () => {
  let s: Scenario;
  const diag = async () =>
    `${s.transcript}\n--- journalctl -u docker -u ${unit} -u systemd-udevd ---\n${(await s.get('journal')).out}`;

  beforeAll(async () => {
    const t0 = Date.now();
    s = await runScenario(
      `
rec pid1 cat /proc/1/comm
rec udevd systemctl is-active systemd-udevd.service systemd-udevd-kernel.socket systemd-udevd-control.socket systemd-udev-trigger.service
rec lvmconf lvmconfig --typeconfig full activation/udev_sync activation/udev_rules devices/obtain_device_list_from_udev
rec env-scenario sh -c 'env | grep DM_DISABLE_UDEV; true'
rec env-docker sh -c 'tr "\\0" "\\n" </proc/$(systemctl show -p MainPID --value docker.service)/environ | grep DM_DISABLE_UDEV; true'
rec active-before systemctl is-active docker.service
rec driver-before /usr/bin/docker info --format '{{.Driver}}'
# --- init-direct for Docker, no storage options
rec apply dmctl init-direct /dev/ubda --yes
rec active-after systemctl is-active docker.service
rec dmsetup-after dmsetup ls
rec daemon-json cat /etc/docker/daemon.json
rec info /usr/bin/docker info
rec udev-node udevadm info --query=property /dev/mapper/docker-thinpool
${rootfsTarball('/tmp/tiny.tar')}
${dockerImport('/tmp/tiny.tar', 'tiny:1')} >/dev/null
rec run /usr/bin/docker run --network none tiny:1 /bin/busybox sh -c '/bin/busybox dd if=/dev/zero of=/big bs=1M count=16 && /bin/busybox sync'
rec lvs-direct lvs --noheadings -o lv_attr,seg_monitor,data_percent docker/thinpool
rec status-direct dmctl status
# --- extend with a second disk
rec extend dmctl extend /dev/ubdb --yes
rec pvs pvs --noheadings -o pv_name,vg_name
rec info-extended /usr/bin/docker info
# --- reactivate and its boot unit
rec install dmctl reactivate --install-unit --yes
rec enabled systemctl is-enabled ${unit}
rec stop systemctl stop docker.socket docker.service
rec deactivate vgchange -an docker
rec lvs-inactive lvs --noheadings -o lv_attr docker/thinpool
rec dmsetup-inactive dmsetup ls
rec start systemctl start ${unit}
rec unit-active systemctl is-active ${unit}
rec lvs-started lvs --noheadings -o lv_attr,seg_monitor docker/thinpool
rec start-docker systemctl start docker.service
rec docker-active systemctl is-active docker.service
rec info-reactivated /usr/bin/docker info
# --- a loop pool beside it (no consumer), and resize-loop
rec init-loop dmctl init-loop --consumer none --data-size 1G --metadata-size 64M --yes
rec table-loop dmsetup table dmctl-pool
rec resize dmctl resize-loop +512M --yes
rec table-resized dmsetup table dmctl-pool
rec status-loop dmctl status
# --- containerd under systemd on its own disk and volume group
rec ctd-pid-before systemctl show -p MainPID --value containerd.service
rec ctd-apply dmctl init-direct /dev/ubdc --vg ctd --consumer containerd --base-image-size 64MB --yes
rec ctd-active systemctl is-active containerd.service
rec ctd-pid-after systemctl show -p MainPID --value containerd.service
rec ctd-plugin ctr plugins ls id==devmapper
${ociArchive('/tmp/tiny-oci.tar', 'docker.io/library/tiny:1')}
rec ctd-import ctr images import --snapshotter devmapper /tmp/tiny-oci.tar
rec ctd-snapshots ctr snapshots --snapshotter devmapper ls
rec journal journalctl -u docker.service -u containerd.service -u ${unit} -u systemd-udevd.service --no-pager
`,
      { disks: ['2G', '1G', '2G'], timeoutSec: 400, stock: true },
    );
    console.log(`stock-host scenario: ${((Date.now() - t0) / 1000).toFixed(1)} s (guest boot to poweroff)`);
  });
  afterAll(async () => s?.cleanup());

  it('the guest is a stock host: systemd, udevd running, stock lvm.conf, no DM_DISABLE_UDEV', async () => {
    expect((await s.get('pid1')).out.trim()).toBe('systemd');
    expect((await s.get('udevd')).out.trim().split('\n'), await diag()).toEqual(['active', 'active', 'active', 'active']);
    const conf = (await s.get('lvmconf')).out;
    expect(conf, conf).toContain('udev_sync=1');
    expect(conf).toContain('udev_rules=1');
    expect((await s.get('env-scenario')).out.trim()).toBe('');
    expect((await s.get('env-docker')).out.trim()).toBe('');
    expect((await s.get('active-before')).out.trim(), await diag()).toBe('active');
    // With udev sync available Docker 20.10 picks devicemapper at boot (its own loop-lvm pool,
    // docker-MAJ:MIN-INODE-pool); systemd mode gets vfs.
    expect((await s.get('driver-before')).out.trim()).toBe('devicemapper');
  });

  it('init-direct restarts docker.service on the pool, with udev sync, and a container writes into it', async () => {
    const apply = await s.get('apply');
    expect(apply.rc, `${apply.out}\n${apply.err}\n${await diag()}`).toBe(0);
    expect(apply.out).toContain('$ systemctl stop docker.socket docker.service');
    expect(apply.out).toContain('$ systemctl start docker.socket docker.service');
    expect((await s.get('active-after')).out.trim()).toBe('active');
    // Docker's boot-time loop pool went with the old data root: only dmctl's pool is left
    const dm = (await s.get('dmsetup-after')).out;
    expect(dm).toContain('docker-thinpool');
    expect(dm).not.toMatch(/docker-\d+:\d+-\d+-pool/);
    const opts = JSON.parse((await s.get('daemon-json')).out)['storage-opts'] as string[];
    expect(opts).toContain('dm.thinpooldev=/dev/mapper/docker-thinpool');
    expect(opts.some((o) => o.includes('override_udev_sync_check'))).toBe(false);
    const info = (await s.get('info')).out;
    expect(info, await diag()).toContain('Storage Driver: devicemapper');
    expect(info).toContain('Pool Name: docker-thinpool');
    expect(info).toContain('Udev Sync Supported: true');
    // udev knows the pool's node (its rules ran: DM_NAME comes from 55-dm.rules)
    expect((await s.get('udev-node')).out).toContain('DM_NAME=docker-thinpool');
    const run = await s.get('run');
    expect(run.rc, `${run.out}\n${run.err}\n${await diag()}`).toBe(0);
    const [attr, monitor, pct] = (await s.get('lvs-direct')).out.trim().split(/\s+/);
    expect(attr).toMatch(/^twi-a[o-]t/); // (open only while a thin device of Docker's is active)
    expect(monitor).toBe('monitored');
    expect(Number(pct)).toBeGreaterThan(0);
    expect((await s.get('status-direct')).rc, (await s.get('status-direct')).out).toBe(0);
  });

  it('extend adds the second disk to the pool’s volume group', async () => {
    const extend = await s.get('extend');
    expect(extend.rc, `${extend.out}\n${extend.err}`).toBe(0);
    const pvs = (await s.get('pvs')).out.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(pvs).toContainEqual(['/dev/ubda', 'docker']);
    expect(pvs).toContainEqual(['/dev/ubdb', 'docker']);
    expect((await s.get('info-extended')).out).toContain('Pool Name: docker-thinpool');
  });

  it('reactivate --install-unit: starting the unit brings the deactivated pool back, and Docker on it', async () => {
    const install = await s.get('install');
    expect(install.rc, `${install.out}\n${install.err}`).toBe(0);
    expect((await s.get('enabled')).out.trim()).toBe('enabled');
    expect((await s.get('deactivate')).rc, (await s.get('deactivate')).err).toBe(0);
    expect((await s.get('lvs-inactive')).out.trim()).toMatch(/^twi---/);
    expect((await s.get('dmsetup-inactive')).out).not.toContain('docker-thinpool');
    const start = await s.get('start');
    expect(start.rc, `${start.err}\n${await diag()}`).toBe(0);
    expect((await s.get('unit-active')).out.trim()).toBe('active');
    expect((await s.get('lvs-started')).out.trim(), await diag()).toMatch(/^twi-a-t-+\s+monitored$/);
    expect((await s.get('start-docker')).rc, await diag()).toBe(0);
    expect((await s.get('docker-active')).out.trim()).toBe('active');
    expect((await s.get('info-reactivated')).out).toContain('Udev Sync Supported: true');
  });

  it('init-loop builds a loop pool and resize-loop grows it online', async () => {
    const init = await s.get('init-loop');
    expect(init.rc, `${init.out}\n${init.err}`).toBe(0);
    const sectors = async (name: string) => Number((await s.get(name)).out.trim().split(/\s+/)[1]);
    expect(await sectors('table-loop')).toBe((1024 * 1024 * 1024) / 512);
    const resize = await s.get('resize');
    expect(resize.rc, `${resize.out}\n${resize.err}`).toBe(0);
    expect(await sectors('table-resized')).toBe((1536 * 1024 * 1024) / 512);
    const status = await s.get('status-loop');
    expect(status.rc, status.out).toBe(0);
    expect(status.out).toContain('dmctl-pool');
  });

  it('init-direct --consumer containerd restarts containerd.service and an image unpacks into its pool', async () => {
    const apply = await s.get('ctd-apply');
    expect(apply.rc, `${apply.out}\n${apply.err}\n${await diag()}`).toBe(0);
    expect(apply.out).toContain('$ systemctl restart containerd.service');
    expect((await s.get('ctd-active')).out.trim()).toBe('active');
    expect((await s.get('ctd-pid-after')).out.trim()).not.toBe((await s.get('ctd-pid-before')).out.trim());
    expect((await s.get('ctd-plugin')).out, await diag()).toMatch(/^io\.containerd\.snapshotter\.v1\s+devmapper\s+\S+\s+ok\s*$/m);
    expect((await s.get('ctd-import')).rc, await diag()).toBe(0);
    expect((await s.get('ctd-snapshots')).out, await diag()).toContain('Committed');
  });
});
