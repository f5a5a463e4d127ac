import { describe, expect, it } from 'vitest';
import { planInitDirect } from '../../../src/plan/init-direct.js';
import { lsblkQuery, wipefsListQuery } from '../../../src/system/blockdev.js';
import { lvsQuery, pvsQuery, vgsQuery } from '../../../src/system/lvm.js';
import { thinPoolStatusesQuery } from '../../../src/system/dmsetup.js';
import type { InitDirectState } from '../../../src/model/state.js';
import type { Plan } from '../../../src/plan/types.js';
import { refusal } from '../../helpers/refusal.js';
import { guest, host } from '../../helpers/fixtures.js';
import { dockerState, freshDisk, freshHost, options, vgOnlyLvm } from '../../helpers/states.js';

const ids = (plan: Plan) => plan.steps.map((s) => s.id);
const argvOf = (plan: Plan, id: string) => {
  const step = plan.steps.find((s) => s.id === id);
  if (step?.action.kind !== 'exec') throw new Error(`no exec step ${id}`);
  return step.action.argv;
};
/** The guest's host after the guide's direct-lvm steps: docker/thinpool on /dev/ubda (recorded). */
function provisioned(state: 'pool' | 'pool-used' | 'pool-inactive' = 'pool', overrides: Partial<InitDirectState> = {}): InitDirectState {
  const statuses = thinPoolStatusesQuery().parse(guest(`dmsetup-status-${state}.txt`));
  const status = (statuses.find((s) => s.name === 'docker-thinpool-tpool') ?? statuses.find((s) => s.name === 'docker-thinpool'))?.status;
  return freshHost({
    disks: [{ requested: '/dev/ubda', path: '/dev/ubda', isBlockDevice: true, block: undefined, signatures: undefined }],
    lvm: {
      pvs: pvsQuery().parse(guest(`pvs-${state}.txt`)),
      vgs: vgsQuery().parse(guest(`vgs-${state}.txt`)),
      lvs: lvsQuery().parse(guest(`lvs-${state}.txt`)),
    },
    profile: 'activation {\n\tthin_pool_autoextend_threshold = 80\n\tthin_pool_autoextend_percent = 20\n}\n',
    poolStatus: status,
    poolRecord: `${JSON.stringify({ formatVersion: 1, kind: 'lvm', name: 'docker-thinpool', vg: 'docker', lv: 'thinpool', pvs: ['/dev/ubda'] })}\n`,
    consumer: {
      kind: 'docker',
      docker: dockerState({
        daemonJson: JSON.stringify({
          'storage-driver': 'devicemapper',
          'storage-opts': ['dm.thinpooldev=/dev/mapper/docker-thinpool', 'dm.use_deferred_removal=true', 'dm.use_deferred_deletion=true'],
        }),
      }),
    },
    ...overrides,
  });
}

describe('init-direct on a fresh disk', () => {
  const plan = planInitDirect(freshHost(), options());

  it('runs the guide\'s procedure in order, then hands the pool to Docker', () => {
    expect(ids(plan)).toEqual([
      'pvcreate', 'vgcreate', 'lvcreate-data', 'lvcreate-metadata', 'lvconvert',
      'write-profile', 'attach-profile', 'monitor', 'verify-monitor', 'write-record', 'write-daemon-json',
    ]);
  });

  it('records the LVM pool, so that reactivate expects it at boot', () => {
    const step = plan.steps.find((s) => s.id === 'write-record')!;
    expect(step.action).toMatchObject({ kind: 'writeFile', path: '/var/lib/dmctl/pools/docker-thinpool.json' });
    expect(JSON.parse((step.action as { content: string }).content)).toEqual({ formatVersion: 1, kind: 'lvm', name: 'docker-thinpool', vg: 'docker', lv: 'thinpool', pvs: [freshDisk] });
  });

  it('uses the exact argv of the guide with the defaults', () => {
    expect(argvOf(plan, 'pvcreate')).toEqual(['pvcreate', freshDisk]);
    expect(argvOf(plan, 'vgcreate')).toEqual(['vgcreate', 'docker', freshDisk]);
    expect(argvOf(plan, 'lvcreate-data')).toEqual(['lvcreate', '--wipesignatures', 'y', '-n', 'thinpool', 'docker', '-l', '95%VG']);
    expect(argvOf(plan, 'lvcreate-metadata')).toEqual(['lvcreate', '--wipesignatures', 'y', '-n', 'thinpoolmeta', 'docker', '-l', '1%VG']);
    expect(argvOf(plan, 'lvconvert')).toEqual(['lvconvert', '-y', '--zero', 'n', '-c', '512K', '--thinpool', 'docker/thinpool', '--poolmetadata', 'docker/thinpoolmeta']);
    expect(argvOf(plan, 'attach-profile')).toEqual(['lvchange', '--metadataprofile', 'docker-thinpool', 'docker/thinpool']);
    expect(argvOf(plan, 'monitor')).toEqual(['lvchange', '--monitor', 'y', 'docker/thinpool']);
  });

  it('marks only the disk-writing step destructive', () => {
    expect(plan.steps.filter((s) => s.destructive).map((s) => s.id)).toEqual(['pvcreate']);
  });

  it('writes the autoextend profile into LVM\'s profile dir', () => {
    const step = plan.steps.find((s) => s.id === 'write-profile')!;
    expect(step.action).toMatchObject({ kind: 'writeFile', path: '/etc/lvm/profile/docker-thinpool.profile' });
    const content = (step.action as { content: string }).content;
    expect(content).toMatch(/thin_pool_autoextend_threshold = 80/);
    expect(content).toMatch(/thin_pool_autoextend_percent = 20/);
  });

  it('verifies monitoring instead of trusting lvchange', () => {
    expect(plan.steps.find((s) => s.id === 'verify-monitor')!.action).toEqual({
      kind: 'check', argv: ['lvs', '--noheadings', '-o', 'seg_monitor', 'docker/thinpool'], expect: { equals: 'monitored' }, waitSeconds: 0,
    });
  });

  it('writes daemon.json with the pool and the deferred flags', () => {
    const step = plan.steps.find((s) => s.id === 'write-daemon-json')!;
    const written = JSON.parse((step.action as { content: string }).content);
    expect(written).toEqual({
      'storage-driver': 'devicemapper',
      'storage-opts': ['dm.thinpooldev=/dev/mapper/docker-thinpool', 'dm.use_deferred_removal=true', 'dm.use_deferred_deletion=true'],
    });
  });

  it('honours names, sizes and autoextend options', () => {
    const custom = planInitDirect(freshHost(), options({ vg: 'my-vg', pool: 'pool', thinpPercent: 80, thinpMetaPercent: 2, chunkSizeBytes: 64 * 1024, autoextendThreshold: 70, autoextendPercent: 50, minFreeSpace: '10%' }));
    expect(argvOf(custom, 'lvcreate-data')).toEqual(['lvcreate', '--wipesignatures', 'y', '-n', 'pool', 'my-vg', '-l', '80%VG']);
    expect(argvOf(custom, 'lvconvert')).toContain('64K');
    const daemon = (custom.steps.find((s) => s.id === 'write-daemon-json')!.action as { content: string }).content;
    // LVM doubles hyphens in dm names.
    expect(daemon).toContain('dm.thinpooldev=/dev/mapper/my--vg-pool');
    expect(daemon).toContain('dm.min_free_space=10%');
    expect((custom.steps.find((s) => s.id === 'write-profile')!.action as { content: string }).content).toMatch(/threshold = 70[\s\S]*percent = 50/);
  });
});

describe('init-direct refuses unsafe disks', () => {
  const ext4 = wipefsListQuery(freshDisk).parse(host('wipefs-ext4.txt'));
  const withSignature = () => {
    const s = freshHost();
    s.disks[0]!.signatures = ext4;
    return s;
  };

  it('refuses a disk with a filesystem signature without --force, naming the fix', () => {
    expect(refusal(() => planInitDirect(withSignature(), options()))).toMatch(/carries a signature \(ext4\).*--force/);
  });

  it('with --force plans a destructive wipefs first', () => {
    const plan = planInitDirect(withSignature(), options({ force: true }));
    expect(plan.steps[0]).toMatchObject({ id: 'wipefs-loop0', destructive: true, action: { kind: 'exec', argv: ['wipefs', '-a', freshDisk] } });
    expect(plan.notes.some((n) => n.level === 'warning' && n.text.includes('wiped'))).toBe(true);
  });

  it('refuses a missing device, a partition, a mounted disk and a disk with holders', () => {
    expect(refusal(() => planInitDirect(freshHost({ disks: [{ requested: '/dev/nope', path: undefined, isBlockDevice: false, block: undefined, signatures: undefined }] }), options({ devices: ['/dev/nope'] })))).toMatch(/does not exist/);
    const part = freshHost();
    part.disks[0]!.block = { ...part.disks[0]!.block!, type: 'part' };
    expect(refusal(() => planInitDirect(part, options()))).toMatch(/is a partition, not a whole disk/);
    const mounted = freshHost();
    mounted.disks[0]!.block = { ...mounted.disks[0]!.block!, mountpoints: ['/srv'] };
    expect(refusal(() => planInitDirect(mounted, options()))).toMatch(/mounted on \/srv/);
    const held = freshHost();
    held.disks[0]!.block = { ...held.disks[0]!.block!, children: [{ path: '/dev/loop0p1', type: 'part', sizeBytes: 1, mountpoints: [], children: [] }] };
    expect(refusal(() => planInitDirect(held, options()))).toMatch(/partitions or holders: \/dev\/loop0p1/);
  });

  it('refuses a PV of another VG even with --force', () => {
    const state = freshHost({ lvm: vgOnlyLvm() });
    expect(refusal(() => planInitDirect(state, options({ force: true })))).toMatch(/belongs to volume group dmctltest/);
  });

  // The guest with the devices file on (recorded): /dev/ubdc is a PV of VG other that a plain pvs hides.
  const hiddenPvHost = (lvm: InitDirectState['lvm']) => freshHost({
    disks: [{ requested: '/dev/ubdc', path: '/dev/ubdc', isBlockDevice: true, block: undefined, signatures: undefined }],
    lvm,
  });
  const hiddenPvOptions = options({ devices: ['/dev/ubdc'], vg: 'docker2', force: true });

  it('refuses, even with --force, a PV of another VG that only pvs --devicesfile "" shows', () => {
    const state = hiddenPvHost({ pvs: pvsQuery({ allDevices: true }).parse(guest('pvs-devicesfile-all.txt')), vgs: [], lvs: [], allDevices: true });
    expect(refusal(() => planInitDirect(state, hiddenPvOptions))).toMatch(/^\/dev\/ubdc belongs to volume group other: dmctl never takes a disk from another VG/);
  });

  it('refuses a VG name that PVs hidden from vgs already carry: vgcreate would make a second VG of that name', () => {
    // (recorded with the devices file on: vgs shows neither VG; dmctl's pvs lists both past it)
    const state = freshHost({ lvm: { pvs: pvsQuery({ allDevices: true }).parse(guest('pvs-devicesfile-all.txt')), vgs: [], lvs: [], allDevices: true } });
    expect(refusal(() => planInitDirect(state, options({ vg: 'other' })))).toMatch(
      /^volume group other already exists on \/dev\/ubdc, which LVM's devices file or filter hides from vgs: another VG named other would make two, .*choose another --vg, or let LVM see it \(`lvmdevices --adddev \/dev\/ubdc`\)/,
    );
    // a VG name no PV carries is fine
    expect(planInitDirect(state, options({ vg: 'fresh' })).steps.map((st) => st.id)).toContain('vgcreate');
  });

  it('refuses, even with --force, an LVM2_member signature that no pvs lists, saying it may be a hidden PV', () => {
    // What a probe without the devices-file bypass saw: no PV listed, only the label on the disk.
    const state = hiddenPvHost({ pvs: pvsQuery().parse(guest('pvs-devicesfile-hidden.txt')), vgs: [], lvs: [] });
    state.disks[0]!.block = lsblkQuery(['/dev/ubdc']).parse(guest('lsblk-fresh.txt').replaceAll('/dev/ubda', '/dev/ubdc'))[0];
    state.disks[0]!.signatures = wipefsListQuery('/dev/ubdc').parse(guest('wipefs-hidden-pv.txt'));
    const message = refusal(() => planInitDirect(state, hiddenPvOptions));
    expect(message).toMatch(/^\/dev\/ubdc carries an LVM2_member signature but no pvs lists it: it may be a PV of another VG hidden by a devices file, or a filter or global_filter in lvm.conf; dmctl never wipes it, even with --force/);
    expect(message).toContain('pvs --devicesfile "" /dev/ubdc');
    // Past the devices file already, only a filter can hide it: the message says so.
    state.lvm.allDevices = true;
    expect(refusal(() => planInitDirect(state, hiddenPvOptions))).toMatch(/hidden by a filter or global_filter in lvm.conf \(dmctl already lists PVs past the devices file\)/);
    // Other signatures still give way to --force.
    state.disks[0]!.signatures = wipefsListQuery('/dev/ubdc').parse(guest('wipefs-ext4.txt'));
    expect(ids(planInitDirect(state, hiddenPvOptions))[0]).toBe('wipefs-ubdc');
  });

  it('refuses when a required tool is missing (fail closed)', () => {
    expect(refusal(() => planInitDirect(freshHost({ missingTools: ['thin_check'] }), options()))).toMatch(/thin_check is not installed.*thin-provisioning-tools/);
  });

  it('collects every problem, one line each', () => {
    const state = withSignature();
    state.missingTools = ['thin_check'];
    expect(refusal(() => planInitDirect(state, options())).split('\n')).toHaveLength(2);
  });
});

describe('init-direct converges', () => {
  it('plans nothing on a host already provisioned as asked', () => {
    const plan = planInitDirect(provisioned(), options({ devices: ['/dev/ubda'] }));
    expect(plan.steps).toEqual([]);
  });

  it('resumes after vgcreate: no pvcreate/vgcreate again', () => {
    const state = freshHost({ lvm: vgOnlyLvm() });
    const plan = planInitDirect(state, options({ vg: 'dmctltest' }));
    expect(ids(plan).slice(0, 3)).toEqual(['lvcreate-data', 'lvcreate-metadata', 'lvconvert']);
    expect(plan.steps.some((s) => s.destructive)).toBe(false);
  });

  it('resumes after lvcreate-data: only the metadata LV and lvconvert remain', () => {
    const state = freshHost({ lvm: vgOnlyLvm() });
    const [pool] = lvsQuery().parse(guest('lvs-pool.txt'));
    state.lvm.lvs = [{ ...pool!, vgName: 'dmctltest', segtype: 'linear', attr: { ...pool!.attr, isThinPool: false, raw: '-wi-a-----' } }];
    const plan = planInitDirect(state, options({ vg: 'dmctltest' }));
    expect(ids(plan).slice(0, 2)).toEqual(['lvcreate-metadata', 'lvconvert']);
  });

  it('re-enables monitoring and rewrites a changed profile, nothing else', () => {
    const state = provisioned();
    state.lvm.lvs = state.lvm.lvs.map((l) => (l.name === 'thinpool' ? { ...l, monitor: 'not monitored' } : l));
    state.profile = 'activation {\n\tthin_pool_autoextend_threshold = 100\n}\n';
    const plan = planInitDirect(state, options({ devices: ['/dev/ubda'] }));
    expect(ids(plan)).toEqual(['write-profile', 'monitor', 'verify-monitor']);
  });

  it('activates an inactive pool before touching it', () => {
    const plan = planInitDirect(provisioned('pool-inactive'), options({ devices: ['/dev/ubda'] }));
    expect(ids(plan)[0]).toBe('activate');
    expect(argvOf(plan, 'activate')).toEqual(['lvchange', '-ay', 'docker/thinpool']);
  });

  it('refuses a pool that exists with another chunk size', () => {
    expect(refusal(() => planInitDirect(provisioned(), options({ devices: ['/dev/ubda'], chunkSizeBytes: 64 * 1024 })))).toMatch(/chunk size 512K, not 64K/);
  });

  it('refuses when the VG exists on other disks', () => {
    const state = provisioned();
    state.disks = freshHost().disks;
    expect(refusal(() => planInitDirect(state, options()))).toMatch(/volume group docker already exists on \/dev\/ubda, not on \/dev\/loop0/);
  });

  it('refuses to hand a used pool to Docker (it would not take ownership)', () => {
    const state = provisioned('pool-used');
    state.consumer = { kind: 'docker', docker: dockerState() };
    expect(refusal(() => planInitDirect(state, options({ devices: ['/dev/ubda'] })))).toMatch(/not fresh.*used data blocks.*Unable to take ownership/);
  });
});

describe('init-direct and the consumer', () => {
  it('refuses Docker Engine 25+ and points to containerd', () => {
    const state = freshHost({ consumer: { kind: 'docker', docker: dockerState({ engine: { major: 28, minor: 2, raw: 'Docker version 28.2.2' } }) } });
    expect(refusal(() => planInitDirect(state, options()))).toMatch(/Engine 28\.2 has no devicemapper.*--consumer containerd/);
  });

  it('refuses when dockerd is not installed', () => {
    const state = freshHost({ consumer: { kind: 'docker', docker: dockerState({ engine: undefined }) } });
    expect(refusal(() => planInitDirect(state, options()))).toMatch(/dockerd is not installed/);
  });

  it('refuses an invalid daemon.json rather than overwrite it', () => {
    const state = freshHost({ consumer: { kind: 'docker', docker: dockerState({ daemonJson: '{"debug": true,' }) } });
    expect(refusal(() => planInitDirect(state, options()))).toMatch(/daemon\.json is not valid JSON/);
  });

  it('keeps other daemon.json keys, backs the file up, drops options of the old driver', () => {
    const daemonJson = JSON.stringify({ debug: true, 'log-driver': 'journald', 'storage-driver': 'overlay2', 'storage-opts': ['overlay2.size=10G', 'dm.basesize=20G'] });
    const plan = planInitDirect(freshHost({ consumer: { kind: 'docker', docker: dockerState({ daemonJson }) } }), options({ storageOpts: ['dm.basesize=30G'] }));
    const action = plan.steps.find((s) => s.id === 'write-daemon-json')!.action as { content: string; backupTo: string };
    expect(action.backupTo).toBe('/etc/docker/daemon.json.dmctl.bak');
    const written = JSON.parse(action.content);
    expect(written).toMatchObject({ debug: true, 'log-driver': 'journald', 'storage-driver': 'devicemapper' });
    expect(written['storage-opts']).not.toContain('overlay2.size=10G');
    expect(written['storage-opts']).toContain('dm.basesize=30G');
    expect(written['storage-opts']).not.toContain('dm.basesize=20G');
  });

  it('stops a running Docker, moves its data root aside, starts it and verifies', () => {
    const docker = dockerState({ service: { kind: 'systemd', unit: 'docker.service', state: 'active' }, dataRootEntries: 9 });
    const plan = planInitDirect(freshHost({ consumer: { kind: 'docker', docker } }), options());
    expect(ids(plan).slice(-5)).toEqual(['stop-docker', 'move-docker-root', 'write-daemon-json', 'start-docker', 'verify-docker']);
    expect(plan.steps.find((s) => s.id === 'move-docker-root')!.action).toEqual({ kind: 'move', from: '/var/lib/docker', to: '/var/lib/docker.bk' });
    expect(plan.steps.find((s) => s.id === 'verify-docker')!.action).toMatchObject({ expect: { includes: '["Pool Name","docker-thinpool"]' } });
  });

  it('stops and starts docker.socket with docker.service when it is installed, so no client starts Docker half-way', () => {
    const docker = dockerState({ service: { kind: 'systemd', unit: 'docker.service', state: 'active', socket: 'docker.socket' }, dataRootEntries: 9 });
    const plan = planInitDirect(freshHost({ consumer: { kind: 'docker', docker } }), options());
    expect(plan.steps.find((s) => s.id === 'stop-docker')!.action).toEqual({ kind: 'exec', argv: ['systemctl', 'stop', 'docker.socket', 'docker.service'] });
    expect(plan.steps.find((s) => s.id === 'start-docker')!.action).toEqual({ kind: 'exec', argv: ['systemctl', 'start', 'docker.socket', 'docker.service'] });
    expect(plan.steps.find((s) => s.id === 'stop-docker')!.reason).toMatch(/docker\.socket too, or the first client connection would start it again/);
  });

  it('refuses to move a data root that is a mount point, before stopping anything', () => {
    const docker = dockerState({ dataRootEntries: 1, dataRootIsMountPoint: true, service: { kind: 'systemd', unit: 'docker.service', state: 'active' } });
    expect(refusal(() => planInitDirect(freshHost({ consumer: { kind: 'docker', docker } }), options()))).toMatch(/\/var\/lib\/docker is a mount point and not empty/);
  });

  it('refuses when the backup of the data root already exists', () => {
    const docker = dockerState({ dataRootEntries: 3, dataRootBackupExists: true });
    expect(refusal(() => planInitDirect(freshHost({ consumer: { kind: 'docker', docker } }), options()))).toMatch(/\/var\/lib\/docker\.bk already exists/);
  });

  it('refuses to change config under a dockerd that systemd does not manage', () => {
    const docker = dockerState({ service: { kind: 'unmanaged', running: true } });
    expect(refusal(() => planInitDirect(freshHost({ consumer: { kind: 'docker', docker } }), options()))).toMatch(/dockerd is running but not as an active systemd service/);
  });

  it('without a running service plans no stop/start and says how to start it', () => {
    const plan = planInitDirect(freshHost(), options());
    expect(ids(plan)).not.toContain('start-docker');
    expect(plan.notes.map((n) => n.text).join('\n')).toMatch(/systemctl start docker/);
  });

  it('containerd: writes the devmapper section with the pool\'s dm name', () => {
    const state = freshHost({ consumer: { kind: 'containerd', containerd: { version: '1.6.20~ds1', service: { kind: 'unmanaged', running: false }, configPath: '/etc/containerd/config.toml', config: undefined } } });
    const plan = planInitDirect(state, options({ consumer: 'containerd', baseImageSize: '64MB' }));
    const step = plan.steps.find((s) => s.id === 'write-containerd-config')!;
    const content = (step.action as { content: string }).content;
    expect(content).toContain('[plugins."io.containerd.snapshotter.v1.devmapper"]');
    expect(content).toContain('pool_name = "docker-thinpool"');
    expect(content).toContain('base_image_size = "64MB"');
    expect(ids(plan)).not.toContain('write-daemon-json');
  });

  it('consumer none: the pool only', () => {
    const plan = planInitDirect(freshHost({ consumer: { kind: 'none' } }), options({ consumer: 'none' }));
    expect(ids(plan).slice(-2)).toEqual(['verify-monitor', 'write-record']);
  });

  it('--docker-managed writes Docker\'s direct-lvm keys, starts Docker, then enables monitoring', () => {
    const docker = dockerState({ service: { kind: 'systemd', unit: 'docker.service', state: 'active' } });
    const plan = planInitDirect(freshHost({ consumer: { kind: 'docker', docker } }), options({ dockerManaged: true }));
    expect(ids(plan)).toEqual(['stop-docker', 'write-daemon-json', 'start-docker', 'wait-pool', 'monitor', 'verify-monitor']);
    const opts = JSON.parse((plan.steps[1]!.action as { content: string }).content)['storage-opts'];
    expect(opts).toEqual(expect.arrayContaining([
      `dm.directlvm_device=${freshDisk}`, 'dm.thinp_percent=95', 'dm.thinp_metapercent=1',
      'dm.thinp_autoextend_threshold=80', 'dm.thinp_autoextend_percent=20', 'dm.directlvm_device_force=false',
    ]));
    expect(plan.steps.find((s) => s.id === 'start-docker')!.destructive).toBe(true);
  });

  it('--docker-managed refuses several disks and custom names', () => {
    expect(refusal(() => planInitDirect(freshHost(), options({ dockerManaged: true, vg: 'other' })))).toMatch(/always makes docker\/thinpool/);
  });
});

describe('plan basis', () => {
  it('is stable for the same state and changes when the host changes', () => {
    const a = planInitDirect(freshHost(), options());
    const b = planInitDirect(freshHost(), options());
    const c = planInitDirect(freshHost({ lvm: { ...vgOnlyLvm(), pvs: [], vgs: [] , lvs: [] }, profile: 'x' }), options());
    expect(a.basis).toBe(b.basis);
    expect(a.basis).not.toBe(c.basis);
  });
});

describe('init-direct warns what the operator would otherwise learn the hard way', () => {
  it('with Docker\'s 95% default, autoextend has no room for one step', () => {
    const plan = planInitDirect(freshHost(), options());
    expect(plan.notes.find((n) => n.level === 'warning')?.text).toMatch(/autoextend has about 3% of the VG to grow into, less than one 20% step/);
  });

  it('with room left in the VG, no such warning', () => {
    const plan = planInitDirect(freshHost(), options({ thinpPercent: 60 }));
    expect(plan.notes.filter((n) => n.level === 'warning')).toEqual([]);
  });
});
