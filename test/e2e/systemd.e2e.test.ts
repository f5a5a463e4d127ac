/**
 * dmctl's systemd paths on a real kernel: User-Mode Linux guests booted with systemd as PID 1
 * (`uml-run --systemd`, see guest/README.md), where docker.service and containerd.service run as they
 * do on the host (Debian docker.io 20.10, containerd 1.6). Docker starts at boot on its own choice of
 * driver (vfs here), so dmctl finds an active docker.service with a non-empty data root.
 *
 * - init-direct (consumer docker): dmctl stops Docker with systemctl, writes daemon.json, starts it and
 *   its verify step (docker info names the pool) passes against the restarted daemon.
 * - init-direct --docker-managed: Docker, started by dmctl through systemctl, builds docker/thinpool.
 * - reactivate --install-unit: the unit is written, loaded and enabled, and systemd running it brings a
 *   deactivated pool back, also when it is pulled in by starting docker.service.
 * - init-direct --consumer containerd: dmctl restarts containerd.service through systemctl and its
 *   verify step (the devmapper plugin reports ok) passes; an image unpacks into the pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ociArchive } from './images.js';
import { runScenario, type ScenarioResult } from './scenario.js';

type Scenario = ScenarioResult & { cleanup(): Promise<void> };

interface DockerInfo {
  Driver: string;
  DriverStatus: [string, string][];
}

// dm.override_udev_sync_check=true only because the guest runs no udev (see consumers.e2e.test.ts).
const udevOpt = '--storage-opt dm.override_udev_sync_check=true';

describe('init-direct with docker.service running under systemd', () => {
  let s: Scenario;
  const diag = async () => `${s.transcript}\n--- journalctl -u docker ---\n${(await s.get('journal')).out}`;

  beforeAll(async () => {
    const t0 = Date.now();
    s = await runScenario(
      `
rec booted systemctl is-system-running
rec active-before systemctl is-active docker.service
rec pid-before systemctl show -p MainPID --value docker.service
rec driver-before /usr/bin/docker info --format '{{.Driver}}'
rec apply dmctl init-direct /dev/ubda --yes ${udevOpt}
rec active-after systemctl is-active docker.service
rec pid-after systemctl show -p MainPID --value docker.service
rec restarts systemctl show -p NRestarts --value docker.service
rec daemon-json cat /etc/docker/daemon.json
rec backup ls -A /var/lib/docker.bk
rec info /usr/bin/docker info
rec info-json /usr/bin/docker info --format '{{json .}}'
rec lvs lvs --noheadings -o lv_attr,seg_monitor docker/thinpool
rec rerun dmctl init-direct /dev/ubda --yes ${udevOpt}
rec pid-rerun systemctl show -p MainPID --value docker.service
rec journal journalctl -u docker.service --no-pager
`,
      { disks: ['2G'], timeoutSec: 300, systemd: true },
    );
    console.log(`systemd init-direct scenario: ${((Date.now() - t0) / 1000).toFixed(1)} s (guest boot to poweroff)`);
  });
  afterAll(async () => s?.cleanup());

  it('the guest runs systemd, and Docker was started by it on another driver', async () => {
    // "starting": the scenario itself is the last job of the boot
    expect((await s.get('booted')).out.trim(), s.transcript).toMatch(/^(starting|running|degraded)$/);
    expect((await s.get('active-before')).out.trim(), await diag()).toBe('active');
    expect(Number((await s.get('pid-before')).out.trim())).toBeGreaterThan(0);
    const before = (await s.get('driver-before')).out.trim();
    expect(before).not.toBe('');
    expect(before).not.toBe('devicemapper');
  });

  it('dmctl stops and starts Docker through systemctl, and its docker info check passes', async () => {
    const apply = await s.get('apply');
    expect(apply.rc, `${apply.out}\n${apply.err}\n${await diag()}`).toBe(0);
    // docker.socket (Debian's docker.io installs it) is stopped too: a client connecting meanwhile
    // would otherwise start Docker again on the old configuration.
    expect(apply.out).toContain('$ systemctl stop docker.socket docker.service');
    expect(apply.out).toContain('$ systemctl start docker.socket docker.service');
    expect(apply.out).toContain('move /var/lib/docker → /var/lib/docker.bk');
    const progress = `${apply.out}\n${apply.err}`;
    for (const step of ['Stop Docker', 'Configure Docker in /etc/docker/daemon.json', 'Start Docker', 'Verify Docker uses the pool']) {
      expect(progress, progress).toMatch(new RegExp(`✓ \\[\\d+/15\\] ${step.replace(/[.]/g, '\\.')}$`, 'm'));
    }
    expect(progress).toContain('✓ applied 15 steps');
    // systemd saw a stop and a start (not a crash and a Restart=on-failure)
    const journal = (await s.get('journal')).out;
    expect(journal).toMatch(/Stopped docker\.service/);
    expect(journal.match(/Started docker\.service/g)?.length, journal).toBe(2);
  });

  it('docker.service is active again, as a new process, on the pool', async () => {
    expect((await s.get('active-after')).out.trim(), await diag()).toBe('active');
    const before = Number((await s.get('pid-before')).out.trim());
    const after = Number((await s.get('pid-after')).out.trim());
    expect(after).toBeGreaterThan(0);
    expect(after).not.toBe(before);
    expect((await s.get('restarts')).out.trim()).toBe('0');
    const info = await s.get('info');
    expect(info.rc, await diag()).toBe(0);
    expect(info.out).toContain('Storage Driver: devicemapper');
    expect(info.out).toContain('Pool Name: docker-thinpool');
    const json = JSON.parse((await s.get('info-json')).out) as DockerInfo;
    expect(json.Driver).toBe('devicemapper');
    expect(json.DriverStatus).toContainEqual(['Pool Name', 'docker-thinpool']);
    expect(JSON.parse((await s.get('daemon-json')).out)['storage-opts']).toContain('dm.thinpooldev=/dev/mapper/docker-thinpool');
    // the boot-time driver's data moved aside, not deleted
    const backup = await s.get('backup');
    expect(backup.rc, backup.err).toBe(0);
    expect(backup.out.trim()).not.toBe('');
    expect((await s.get('lvs')).out.trim()).toMatch(/^twi-a[o-]t-+\s+monitored$/);
  });

  it('a second run has nothing to do and leaves the running Docker alone', async () => {
    const rerun = await s.get('rerun');
    expect(rerun.rc, `${rerun.out}\n${rerun.err}`).toBe(0);
    expect(rerun.out).toContain('nothing to do');
    expect((await s.get('pid-rerun')).out.trim()).toBe((await s.get('pid-after')).out.trim());
  });
});

describe('init-direct --docker-managed with docker.service running under systemd', () => {
  let s: Scenario;
  const diag = async () => `${s.transcript}\n--- journalctl -u docker ---\n${(await s.get('journal')).out}`;

  beforeAll(async () => {
    const t0 = Date.now();
    s = await runScenario(
      `
rec active-before systemctl is-active docker.service
rec apply dmctl init-direct /dev/ubda --docker-managed --yes ${udevOpt}
rec active-after systemctl is-active docker.service
rec daemon-json cat /etc/docker/daemon.json
rec info-json /usr/bin/docker info --format '{{json .}}'
rec pvs pvs --noheadings -o pv_name,vg_name
rec lvs lvs --noheadings -o lv_attr,seg_monitor,lv_profile docker/thinpool
rec rerun dmctl init-direct /dev/ubda --docker-managed --yes ${udevOpt}
rec journal journalctl -u docker.service --no-pager
`,
      { disks: ['2G'], timeoutSec: 300, systemd: true },
    );
    console.log(`systemd --docker-managed scenario: ${((Date.now() - t0) / 1000).toFixed(1)} s (guest boot to poweroff)`);
  });
  afterAll(async () => s?.cleanup());

  it('dmctl writes the direct-lvm options and starts Docker through systemctl', async () => {
    expect((await s.get('active-before')).out.trim(), await diag()).toBe('active');
    const apply = await s.get('apply');
    expect(apply.rc, `${apply.out}\n${apply.err}\n${await diag()}`).toBe(0);
    expect(apply.out).toContain('$ systemctl stop docker.socket docker.service');
    expect(apply.out).toMatch(/Start Docker \[destructive\]\n\s+\$ systemctl start docker\.socket docker\.service/);
    expect(`${apply.out}\n${apply.err}`).toContain('✓ applied 7 steps');
    const opts = JSON.parse((await s.get('daemon-json')).out)['storage-opts'] as string[];
    expect(opts).toContain('dm.directlvm_device=/dev/ubda');
    expect(opts.some((o) => o.startsWith('dm.thinpooldev='))).toBe(false);
  });

  it('Docker built docker/thinpool on the disk, runs on it, and dmctl made the pool monitored', async () => {
    expect((await s.get('active-after')).out.trim(), await diag()).toBe('active');
    const info = await s.get('info-json');
    expect(info.rc, await diag()).toBe(0);
    const json = JSON.parse(info.out) as DockerInfo;
    expect(json.Driver).toBe('devicemapper');
    expect(json.DriverStatus).toContainEqual(['Pool Name', 'docker-thinpool']);
    expect((await s.get('pvs')).out.trim().split(/\s+/)).toEqual(['/dev/ubda', 'docker']);
    // Docker's own profile (docker-thinpool) on its pool; monitoring is dmctl's doing
    expect((await s.get('lvs')).out.trim()).toMatch(/^twi-a[o-]t-+\s+monitored\s+docker-thinpool$/);
  });

  it('a second run has nothing to do', async () => {
    const rerun = await s.get('rerun');
    expect(rerun.rc, `${rerun.out}\n${rerun.err}`).toBe(0);
    expect(rerun.out).toContain('nothing to do');
  });
});

describe('reactivate --install-unit under systemd', () => {
  let s: Scenario;
  const diag = async () => `${s.transcript}\n--- journalctl -u dmctl-reactivate ---\n${(await s.get('journal')).out}`;
  const unit = 'dmctl-reactivate.service';

  beforeAll(async () => {
    const t0 = Date.now();
    s = await runScenario(
      `
rec init dmctl init-direct /dev/ubda --consumer none --yes
rec enabled-before systemctl is-enabled ${unit}
rec install dmctl reactivate --install-unit --yes
rec unit-file cat /etc/systemd/system/${unit}
rec enabled systemctl is-enabled ${unit}
rec props systemctl show -p LoadState -p NeedDaemonReload -p Before -p WantedBy ${unit}
rec verify systemd-analyze verify /etc/systemd/system/${unit}
# a reboot without the unit: the pool is inactive
rec deactivate vgchange -an docker
rec lvs-inactive lvs --noheadings -o lv_attr,seg_monitor docker/thinpool
rec start systemctl start ${unit}
rec active systemctl is-active ${unit}
rec result systemctl show -p Result --value ${unit}
rec lvs-started lvs --noheadings -o lv_attr,seg_monitor docker/thinpool
rec dmeventd systemctl is-active dm-event.service
# as at boot: starting docker.service pulls the unit in (docker.service.wants) and waits for it
rec stop systemctl stop docker.service docker.socket ${unit}
rec deactivate-2 vgchange -an docker
rec lvs-inactive-2 lvs --noheadings -o lv_attr docker/thinpool
rec start-docker systemctl start docker.service
rec lvs-docker lvs --noheadings -o lv_attr,seg_monitor docker/thinpool
rec unit-ts systemctl show -p ActiveEnterTimestampMonotonic --value ${unit}
rec docker-ts systemctl show -p ExecMainStartTimestampMonotonic --value docker.service
rec again dmctl reactivate --install-unit --yes
rec journal journalctl -u ${unit} --no-pager
`,
      { disks: ['1G'], timeoutSec: 300, systemd: true },
    );
    console.log(`systemd reactivate scenario: ${((Date.now() - t0) / 1000).toFixed(1)} s (guest boot to poweroff)`);
  });
  afterAll(async () => s?.cleanup());

  it('installs the unit, reloads systemd and enables it', async () => {
    expect((await s.get('init')).rc, s.transcript).toBe(0);
    expect((await s.get('enabled-before')).rc).not.toBe(0);
    const install = await s.get('install');
    expect(install.rc, `${install.out}\n${install.err}`).toBe(0);
    expect(install.out).toContain('$ systemctl daemon-reload');
    expect(install.out).toContain(`$ systemctl enable ${unit}`);
    expect(install.out).not.toContain('systemd does not run here');
    expect((await s.get('unit-file')).out).toContain('Type=oneshot');
    const enabled = await s.get('enabled');
    expect(enabled.out.trim(), `${enabled.out}${enabled.err}`).toBe('enabled');
    const props = (await s.get('props')).out;
    expect(props).toContain('LoadState=loaded');
    expect(props).toContain('NeedDaemonReload=no');
    expect(props).toMatch(/^Before=.*\bdocker\.service\b/m);
    expect(props).toMatch(/^Before=.*\bcontainerd\.service\b/m);
    expect(props).toMatch(/^WantedBy=.*\bmulti-user\.target\b/m);
    expect(props).toMatch(/^WantedBy=.*\bdocker\.service\b/m);
    const verify = await s.get('verify');
    expect(verify.rc, `${verify.out}${verify.err}`).toBe(0);
  });

  it('systemctl start of the unit brings the deactivated pool back, active and monitored', async () => {
    expect((await s.get('deactivate')).rc).toBe(0);
    expect((await s.get('lvs-inactive')).out.trim()).toMatch(/^twi---/);
    const start = await s.get('start');
    expect(start.rc, `${start.err}\n${await diag()}`).toBe(0);
    expect((await s.get('active')).out.trim()).toBe('active');
    expect((await s.get('result')).out.trim()).toBe('success');
    expect((await s.get('lvs-started')).out.trim(), await diag()).toMatch(/^twi-a-t-+\s+monitored$/);
    expect((await s.get('dmeventd')).out.trim()).toBe('active');
    const journal = (await s.get('journal')).out;
    expect(journal).toContain('$ lvchange -ay docker/thinpool');
    expect(journal).toContain('✓ applied 3 steps');
  });

  it('starting docker.service runs the unit first, as at boot', async () => {
    expect((await s.get('lvs-inactive-2')).out.trim(), s.transcript).toMatch(/^twi---/);
    const start = await s.get('start-docker');
    expect(start.rc, `${start.err}\n${await diag()}`).toBe(0);
    expect((await s.get('lvs-docker')).out.trim(), await diag()).toMatch(/^twi-a-t-+\s+monitored$/);
    const unitTs = Number((await s.get('unit-ts')).out.trim());
    const dockerTs = Number((await s.get('docker-ts')).out.trim());
    expect(unitTs).toBeGreaterThan(0);
    expect(unitTs, 'dmctl-reactivate must finish before dockerd starts').toBeLessThan(dockerTs);
  });

  it('a second --install-unit has nothing to do', async () => {
    const again = await s.get('again');
    expect(again.rc, `${again.out}\n${again.err}`).toBe(0);
    expect(again.out).toContain('nothing to do');
  });
});

describe('init-direct --consumer containerd with containerd.service running under systemd', () => {
  let s: Scenario;
  const diag = async () => `${s.transcript}\n--- journalctl -u containerd ---\n${(await s.get('journal')).out}`;

  beforeAll(async () => {
    const t0 = Date.now();
    s = await runScenario(
      `
rec active-before systemctl is-active containerd.service
rec pid-before systemctl show -p MainPID --value containerd.service
rec apply dmctl init-direct /dev/ubda --consumer containerd --base-image-size 64MB --yes
rec active-after systemctl is-active containerd.service
rec pid-after systemctl show -p MainPID --value containerd.service
rec plugin ctr plugins ls id==devmapper
${ociArchive('/tmp/tiny-oci.tar', 'docker.io/library/tiny:1')}
rec import ctr images import --snapshotter devmapper /tmp/tiny-oci.tar
rec snapshots ctr snapshots --snapshotter devmapper ls
rec rerun dmctl init-direct /dev/ubda --consumer containerd --base-image-size 64MB --yes
rec pid-rerun systemctl show -p MainPID --value containerd.service
rec journal journalctl -u containerd.service --no-pager
`,
      { disks: ['2G'], timeoutSec: 300, systemd: true },
    );
    console.log(`systemd containerd scenario: ${((Date.now() - t0) / 1000).toFixed(1)} s (guest boot to poweroff)`);
  });
  afterAll(async () => s?.cleanup());

  it('dmctl restarts containerd through systemctl and verifies the devmapper snapshotter loaded', async () => {
    expect((await s.get('active-before')).out.trim(), await diag()).toBe('active');
    const apply = await s.get('apply');
    expect(apply.rc, `${apply.out}\n${apply.err}\n${await diag()}`).toBe(0);
    expect(apply.out).toContain('$ systemctl restart containerd.service');
    expect(`${apply.out}\n${apply.err}`).toMatch(/✓ \[\d+\/\d+\] Verify the devmapper snapshotter is loaded$/m);
    expect((await s.get('active-after')).out.trim()).toBe('active');
    expect((await s.get('pid-after')).out.trim()).not.toBe((await s.get('pid-before')).out.trim());
    expect((await s.get('plugin')).out, await diag()).toMatch(/^io\.containerd\.snapshotter\.v1\s+devmapper\s+\S+\s+ok\s*$/m);
  });

  it('an image unpacks into the pool, and a second run has nothing to do', async () => {
    expect((await s.get('import')).rc, await diag()).toBe(0);
    expect((await s.get('snapshots')).out, await diag()).toContain('Committed');
    const rerun = await s.get('rerun');
    expect(rerun.rc, `${rerun.out}\n${rerun.err}`).toBe(0);
    expect(rerun.out).toContain('nothing to do');
    expect((await s.get('pid-rerun')).out.trim()).toBe((await s.get('pid-after')).out.trim());
  });
});
