import { describe, expect, it } from 'vitest';
import { subcommandOf } from '../../../src/cli.js';
import type { CliContext } from '../../../src/commands/context.js';
import { autoextendProfileContent } from '../../../src/system/lvm.js';
import type { Executor } from '../../../src/system/exec.js';
import { FakeExecutor } from '../../helpers/fake-executor.js';
import { MemoryFiles } from '../../helpers/memory-files.js';
import { guest, host } from '../../helpers/fixtures.js';
import { runMain } from '../../helpers/run-main.js';

const lvsArgv = ['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,lv_name,lv_attr,lv_size,segtype,pool_lv,data_percent,metadata_percent,lv_metadata_size,chunk_size,transaction_id,seg_monitor,lv_profile,lv_when_full,lv_health_status,lv_dm_path,vg_free,vg_extent_size'];
const lvmconfigArgv = ['lvmconfig', '--typeconfig', 'full', 'config/profile_dir', 'activation/thin_pool_autoextend_threshold', 'activation/thin_pool_autoextend_percent'];

/** A host in a recorded state: `lvs-<lvs>.txt` and `dmsetup-*-<dm>.txt`. */
function host_(lvs: string, dm: string, statusOverride?: string) {
  const executor = new FakeExecutor()
    .on(lvsArgv, { stdout: guest(`lvs-${lvs}.txt`) })
    .on(['dmsetup', 'status', '--target', 'thin-pool'], { stdout: statusOverride ?? guest(`dmsetup-status-${dm}.txt`) })
    .on(['dmsetup', 'table', '--target', 'thin-pool'], { stdout: guest(`dmsetup-table-${dm}.txt`) })
    .on(['losetup', '--json', '--list', '-O', 'NAME,BACK-FILE,MAJ:MIN,SIZELIMIT,OFFSET,RO'], { stdout: guest('losetup-looppool.txt') })
    .on(lvmconfigArgv, { stdout: host('lvmconfig-thin.txt') });
  const files = new MemoryFiles({
    programs: ['lvm'],
    files: { '/proc/devices': 'Block devices:\n  7 loop\n254 device-mapper\n', '/etc/lvm/profile/docker-thinpool.profile': autoextendProfileContent(80, 20) },
  });
  return { executor, files };
}

async function dmctl(args: string[], env: { executor: Executor; files: MemoryFiles; sleep?: (ms: number) => Promise<void>; onInterrupt?: CliContext['onInterrupt'] }) {
  const ctx: Partial<CliContext> = {
    ...env,
    uid: 0,
    env: {},
  };
  return runMain(args, ctx);
}

describe('status costs few subprocesses', () => {
  it('three on an LVM host: lvs, dmsetup status, lvmconfig', async () => {
    const env = host_('pool', 'pool');
    expect((await dmctl(['--json', 'status'], env)).code).toBe(0);
    expect(env.executor.calls.map((c) => c[0])).toEqual(['lvs', 'lvmconfig', 'dmsetup']);
  });

  it('the tables and losetup only when a bare loop pool exists', async () => {
    const env = host_('pool', 'both');
    const r = await dmctl(['--json', 'status'], env);
    expect(JSON.parse(r.stdout).pools.map((p: { name: string }) => p.name)).toEqual(['docker/thinpool', 'dmctl-pool']);
    expect(env.executor.calls).toHaveLength(5);
  });
});

describe('status starts its probes before the command has loaded', () => {
  it('the subcommand is found before parsing, past global options and their values', () => {
    expect(subcommandOf(['--json', 'status'])).toBe('status');
    expect(subcommandOf(['--format', 'json', 'status', '--check'])).toBe('status');
    expect(subcommandOf(['--out', 'status', 'init-direct', '/dev/xvdf'])).toBe('init-direct');
    expect(subcommandOf(['init-direct', '--vg', 'status'])).toBe('init-direct');
    expect(subcommandOf(['--version'])).toBeUndefined();
  });

  it('the probe is already running when commander parses the options, and is used once', async () => {
    // A bad option is refused by the command after the probe started: read-only, nothing changes.
    const env = host_('pool', 'pool');
    const bad = await dmctl(['status', '--warn', 'abc'], env);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toBe('dmctl: error: --warn: --warn must be a whole number\n');
    expect(env.executor.calls.map((c) => c[0])).toEqual(['lvs', 'lvmconfig', 'dmsetup']);
    // `status --help` probes nothing.
    const help = host_('pool', 'pool');
    expect((await dmctl(['status', '--help'], help)).code).toBe(0);
    expect(help.executor.calls).toEqual([]);
  });
});

describe('probes started early fail where they are awaited', () => {
  it('an unreadable daemon.json while lvs still runs is reported once, not an unhandled rejection', async () => {
    const env = host_('pool', 'pool');
    // lvs answers after 20 ms; reading daemon.json fails at once.
    const slow: Executor = { run: async (argv) => (argv[0] === 'lvs' ? new Promise((r) => setTimeout(r, 20)).then(() => env.executor.run(argv)) : env.executor.run(argv)) };
    const readText = env.files.readText.bind(env.files);
    env.files.readText = async (file: string) => {
      if (file === '/etc/docker/daemon.json') throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES' });
      return readText(file);
    };
    const r = await dmctl(['--json', 'status'], { ...env, executor: slow });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/EACCES: permission denied, open '\/etc\/docker\/daemon.json'/);
  });
});

describe('status on a host without LVM', () => {
  it('shows the loop pools when lvs and lvmconfig are not installed (exit status 127, as spawning them reports)', async () => {
    const notInstalled = { exitCode: 127, stderr: 'lvs: command not found' };
    const executor = new FakeExecutor()
      .on(lvsArgv, notInstalled)
      .on(lvmconfigArgv, notInstalled)
      .on(['dmsetup', 'status', '--target', 'thin-pool'], { stdout: guest('dmsetup-status-looppool.txt') })
      .on(['dmsetup', 'table', '--target', 'thin-pool'], { stdout: guest('dmsetup-table-looppool.txt') })
      .on(['losetup', '--json', '--list', '-O', 'NAME,BACK-FILE,MAJ:MIN,SIZELIMIT,OFFSET,RO'], { stdout: guest('losetup-looppool.txt') });
    const r = await dmctl(['--json', 'status'], { executor, files: host_('empty', 'looppool').files });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).pools.map((p: { name: string; kind: string }) => [p.name, p.kind])).toEqual([['dmctl-pool', 'dm']]);
  });
});

describe('status --check (Nagios plugin conventions)', () => {
  it('one verdict on autoextend room: a fresh pool short of a full step is OK in every view, one near its threshold WARNING in every view', async () => {
    // The recorded fresh pool: 36 MiB free in its VG, one step is 20% of 968 MiB.
    const fresh = await dmctl(['status', '--check'], host_('pool', 'pool'));
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toBe("DMCTL OK - docker/thinpool data 0% metadata 10.4% | 'docker/thinpool data'=0%;80;90;0;100 'docker/thinpool metadata'=10.4%;80;90;0;100\n");
    expect((await dmctl(['--json', 'status'], host_('pool', 'pool'))).stdout).not.toMatch(/vg-low/);
    expect((await dmctl(['status', '--prometheus'], host_('pool', 'pool'))).stdout).toMatch(/^dmctl_pool_warnings\{pool="docker\/thinpool".*\} 0$/m);
    // 1260 of 1936 blocks used (65%, within 20 points of the 80% threshold).
    const near = 'docker-thinpool: 0 1982464 thin-pool 0 213/2048 1260/1936 - rw no_discard_passdown queue_if_no_space - 512 \n';
    const check = await dmctl(['status', '--check'], host_('pool', 'pool', near));
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^DMCTL WARNING - docker\/thinpool will not autoextend \(VG docker has too few free extents for the next step\) \| /);
    const json = JSON.parse((await dmctl(['--json', 'status'], host_('pool', 'pool', near))).stdout) as { pools: Array<{ warnings: Array<{ code: string }> }> };
    expect(json.pools[0]!.warnings.map((w) => w.code)).toEqual(['vg-low']);
    expect((await dmctl(['status', '--prometheus'], host_('pool', 'pool', near))).stdout).toMatch(/^dmctl_pool_warnings\{pool="docker\/thinpool".*\} 1$/m);
  });

  it('CRITICAL when data passes --crit', async () => {
    const full = 'docker-thinpool: 0 1982464 thin-pool 0 213/2048 1800/1936 - rw no_discard_passdown queue_if_no_space - 512 \n';
    const r = await dmctl(['status', '--check', '--crit', '90'], host_('pool', 'pool', full));
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^DMCTL CRITICAL - docker\/thinpool data 92\.98% >= 90%/);
  });

  it('CRITICAL for an inactive pool (its consumer cannot start)', async () => {
    const r = await dmctl(['status', '--check'], host_('pool-inactive', 'pool-inactive'));
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^DMCTL CRITICAL - docker\/thinpool inactive/);
  });

  it('OK when nothing is wrong', async () => {
    // The recorded pool, with 512 MiB free in its VG: room for the next autoextend step.
    const ok = host_('pool', 'pool');
    const lvs = guest('lvs-pool.txt').replace('"vg_free":"37748736"', '"vg_free":"536870912"');
    const executor = new FakeExecutor().on(lvsArgv, { stdout: lvs }).on(['dmsetup', 'status', '--target', 'thin-pool'], { stdout: guest('dmsetup-status-pool.txt') }).on(lvmconfigArgv, { stdout: host('lvmconfig-thin.txt') });
    const r = await dmctl(['status', '--check'], { executor, files: ok.files });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^DMCTL OK - docker\/thinpool data 0% metadata 10\.4% \|/);
  });

  it('UNKNOWN, on stdout, when a probe fails', async () => {
    const env = host_('pool', 'pool');
    const executor = new FakeExecutor().on(lvsArgv, { exitCode: 5, stderr: '  Reading VG docker failed.\n' }).on(['dmsetup', 'status', '--target', 'thin-pool'], { stdout: '' }).on(lvmconfigArgv, { stdout: host('lvmconfig-thin.txt') });
    const r = await dmctl(['status', '--check'], { executor, files: env.files });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^DMCTL UNKNOWN - cannot probe the host: `lvs .*` failed: Reading VG docker failed\.\n$/);
  });

  it('UNKNOWN run without root (a monitoring agent): the real reason, and that it needs root', async () => {
    // lvs as user nobody, recorded: a WARNING line first, then the reason.
    const env = host_('pool', 'pool');
    const nonRoot = { exitCode: Number(host('lvs-nonroot.rc')), stdout: host('lvs-nonroot.txt'), stderr: host('lvs-nonroot.stderr') };
    const executor = new FakeExecutor().on(lvsArgv, nonRoot).on(['dmsetup', 'status', '--target', 'thin-pool'], { stdout: '' }).on(lvmconfigArgv, { stdout: host('lvmconfig-thin.txt') });
    const r = await dmctl(['status', '--check'], { executor, files: env.files });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^DMCTL UNKNOWN - cannot probe the host: `lvs .*` failed: \/run\/lock\/lvm\/P_global:aux: open failed: Permission denied \(LVM and device-mapper need root: run dmctl as root \(a monitoring agent through sudo, see docs\/status\.md\)\)\n$/);
  });

  it('UNKNOWN when there is no pool at all', async () => {
    const r = await dmctl(['status', '--check'], host_('empty', 'empty'));
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^DMCTL UNKNOWN - /);
    expect(r.stdout.split('\n')).toHaveLength(2);
  });
});

describe('status --prometheus', () => {
  it('prints gauges with pool labels', async () => {
    const r = await dmctl(['status', '--prometheus'], host_('pool', 'pool'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# TYPE dmctl_pool_data_size_bytes gauge');
    expect(r.stdout).toContain(`dmctl_pool_data_size_bytes{pool="docker/thinpool",dm_name="docker-thinpool",kind="lvm"} ${1936 * 524288}`);
    expect(r.stdout).toContain('dmctl_pool_monitored{pool="docker/thinpool",dm_name="docker-thinpool",kind="lvm"} 1');
    expect(r.stdout).toContain('dmctl_pool_vg_free_bytes{pool="docker/thinpool",dm_name="docker-thinpool",kind="lvm"} 37748736');
  });

  it('writes FILE atomically and prints nothing', async () => {
    const env = host_('pool', 'pool');
    const r = await dmctl(['status', '--prometheus', '/var/lib/node_exporter/dmctl.prom'], env);
    expect(r.stdout).toBe('');
    expect(env.files.writes.map((w) => w.path)).toEqual(['/var/lib/node_exporter/dmctl.prom']);
    expect(env.files.writes[0]!.content).toContain('dmctl_pool_active{');
  });
});

describe('status --watch', () => {
  it('redraws every SECONDS until interrupted, probing afresh each time', async () => {
    const env = host_('pool', 'pool');
    let stop: (() => void) | undefined;
    let slept = 0;
    const r = await dmctl(['status', '--watch', '1'], {
      ...env,
      onInterrupt: (handler) => {
        stop = handler;
        return () => {};
      },
      // Ctrl-C after the second redraw.
      sleep: async (ms) => {
        slept += ms;
        if (slept >= 2000) stop?.();
      },
    });
    expect(r.code).toBe(0);
    expect(r.stdout.match(/every 1s: dmctl status/g)).toHaveLength(2);
    expect(r.stdout.match(/^docker\/thinpool +active +/gm)).toHaveLength(2);
    expect(env.executor.calls.filter((c) => c[0] === 'lvs')).toHaveLength(2);
  });
});
