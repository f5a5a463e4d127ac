import { describe, expect, it } from 'vitest';
import { runMain } from '../../helpers/run-main.js';
import { PlanSchema } from '../../../src/plan/types.js';
import type { CliContext } from '../../../src/commands/context.js';
import { FakeExecutor } from '../../helpers/fake-executor.js';
import { MemoryFiles } from '../../helpers/memory-files.js';
import { host } from '../../helpers/fixtures.js';
import { changes, initDirectMutations, initDirectProbes } from '../../helpers/init-direct-host.js';

const probes = initDirectProbes;
const mutations = initDirectMutations;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  executor: FakeExecutor;
  files: MemoryFiles;
}

async function dmctl(args: string[], setup: { uid?: number; answer?: string; executor?: FakeExecutor; files?: MemoryFiles } = {}): Promise<Run> {
  const executor = setup.executor ?? new FakeExecutor();
  if (!setup.executor) for (const [argv, out] of probes) executor.on(argv, { stdout: out });
  const files = setup.files ?? new MemoryFiles({ blockDevices: ['/dev/loop0'], programs: ['lvm', 'thin_check', 'wipefs', 'lsblk', 'dockerd'] });
  const ctx: Partial<CliContext> = {
    executor,
    files,
    uid: setup.uid ?? 0,
    env: {},
    sleep: async () => {},
  };
  const prompt = setup.answer !== undefined ? async () => setup.answer! : undefined;
  return { ...(await runMain(args, ctx, prompt)), executor, files };
}

/** Files written on the host, apart from dmctl's own journal. */
const hostWrites = (r: Run) => r.files.writes.map((w) => w.path).filter((p) => !p.startsWith('/var/lib/dmctl/journal/'));

const changedNothing = (r: Run) => expect(changes(r.executor.commands)).toEqual([]);

describe('dmctl init-direct --dry-run', () => {
  it('prints the whole plan, changes nothing, exits 0', async () => {
    const r = await dmctl(['init-direct', '/dev/loop0', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('$ pvcreate /dev/loop0');
    expect(r.stdout).toContain('$ lvconvert -y --zero n -c 512K --thinpool docker/thinpool --poolmetadata docker/thinpoolmeta');
    expect(r.stdout).toContain('[destructive]');
    expect(r.stderr).toContain('nothing was changed');
    changedNothing(r);
    expect(r.files.writes).toEqual([]);
  });

  it('--json prints the same plan as JSON on stdout, and only that', async () => {
    const text = await dmctl(['init-direct', '/dev/loop0', '--dry-run']);
    const r = await dmctl(['--json', 'init-direct', '/dev/loop0', '--dry-run']);
    expect(r.code).toBe(0);
    const plan = PlanSchema.parse(JSON.parse(r.stdout));
    expect(plan.command).toBe('init-direct');
    for (const step of plan.steps) expect(text.stdout).toContain(step.title);
  });

  it('planning costs at most 8 subprocesses', async () => {
    const r = await dmctl(['init-direct', '/dev/loop0', '--dry-run']);
    expect(r.executor.calls.length).toBeLessThanOrEqual(8);
  });

  it('--detailed-exitcode exits 2 when there are changes', async () => {
    expect((await dmctl(['init-direct', '/dev/loop0', '--dry-run', '--detailed-exitcode'])).code).toBe(2);
  });

  it('plans as any user; applying needs root', async () => {
    expect((await dmctl(['init-direct', '/dev/loop0', '--dry-run'], { uid: 1000 })).code).toBe(0);
    const r = await dmctl(['init-direct', '/dev/loop0', '--yes'], { uid: 1000 });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('dmctl: error: dmctl init-direct changes the host and needs root: run it with sudo (or add --dry-run to only see the plan)\n');
    changedNothing(r);
    // Root first: refused before the host lock, a probe, or a file read.
    expect(r.executor.calls).toEqual([]);
    expect(r.files.files.has('/run/dmctl.lock')).toBe(false);
  });

  it('every command that applies refuses a non-root user the same way, before it probes', async () => {
    for (const args of [['init-loop'], ['extend', '/dev/loop1'], ['resize-loop', '+1G'], ['reactivate'], ['apply', '--resume'], ['apply', '/plans/p.json']]) {
      const r = await dmctl(args, { uid: 1000 });
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr, args.join(' ')).toMatch(/^dmctl: error: dmctl (init-loop|extend|resize-loop|reactivate|apply --resume|apply) changes the host and needs root: run it with sudo/);
      expect(r.executor.calls, args.join(' ')).toEqual([]);
    }
  });
});

describe('dmctl init-direct: bad input is refused before probing (exit 3, one line)', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--thinp-percent', '0'], /--thinp-percent must be between 1 and 99/],
    [['--thinp-percent', '95', '--thinp-metapercent', '5'], /data \+ metadata percent must be at most 99/],
    [['--autoextend-threshold', '100'], /--autoextend-threshold must be between 50 and 99.*100 turns autoextend off/],
    [['--autoextend-threshold', '40'], /between 50 and 99/],
    [['--autoextend-percent', '0'], /--autoextend-percent must be between 1 and 100/],
    [['--chunk-size', '100K'], /multiple of 64K/],
    [['--chunk-size', '2G'], /between 64K and 1G/],
    [['--chunk-size', '512'], /no unit/],
    [['--consumer', 'podman'], /consumer must be docker, containerd or none/],
    [['--vg', 'bad name'], /--vg may contain only/],
    [['--min-free-space', '10'], /written with its %/],
    [['--storage-opt', 'basesize'], /KEY=VALUE/],
    [['--thinp-percent', 'lots'], /whole number/],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ')}`, async () => {
      const r = await dmctl(['init-direct', '/dev/loop0', '--dry-run', ...args], { executor: new FakeExecutor() });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.executor.calls).toEqual([]);
    });
  }

  it('an unknown option is a refusal too', async () => {
    const r = await dmctl(['init-direct', '/dev/loop0', '--frobnicate'], { executor: new FakeExecutor() });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/unknown option '--frobnicate'/);
  });

  it('no device', async () => {
    const r = await dmctl(['init-direct'], { executor: new FakeExecutor() });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe("dmctl: error: missing required argument 'devices'\n");
  });

  it('a missing probe tool refuses (fail closed)', async () => {
    const files = new MemoryFiles({ blockDevices: ['/dev/loop0'], programs: ['lvm', 'wipefs', 'lsblk', 'dockerd'] });
    const r = await dmctl(['init-direct', '/dev/loop0', '--dry-run'], { files });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/thin_check is not installed/);
  });

  it('a failing probe refuses (fail closed)', async () => {
    const executor = new FakeExecutor();
    for (const [argv, out] of probes) executor.on(argv, argv[0] === 'wipefs' ? { exitCode: 1, stderr: 'wipefs: error: /dev/loop0: probing initialization failed: Permission denied' } : { stdout: out });
    const r = await dmctl(['init-direct', '/dev/loop0', '--dry-run'], { executor });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot probe the host: `wipefs --no-act --json \/dev\/loop0` failed: .*Permission denied/);
  });
});

describe('dmctl init-direct: applying', () => {
  const withMutations = (fail?: string) => {
    const executor = new FakeExecutor();
    for (const [argv, out] of probes) executor.on(argv, { stdout: out });
    for (const argv of mutations) executor.on(argv, argv[0] === fail ? { exitCode: 5, stderr: `  ${fail}: simulated failure\n` } : {});
    executor.on(['lvs', '--noheadings', '-o', 'seg_monitor', 'docker/thinpool'], { stdout: '  monitored\n' });
    return executor;
  };

  it('without a terminal, destructive steps need --yes', async () => {
    const r = await dmctl(['init-direct', '/dev/loop0']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/destructive step.*--yes/);
    changedNothing(r);
  });

  it('on a terminal, anything but a typed "yes" changes nothing', async () => {
    const r = await dmctl(['init-direct', '/dev/loop0'], { answer: 'y' });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not confirmed/);
    changedNothing(r);
  });

  it('a typed "yes" applies every step in plan order', async () => {
    const r = await dmctl(['init-direct', '/dev/loop0'], { answer: 'yes', executor: withMutations() });
    expect(r.code).toBe(0);
    const ran = changes(r.executor.commands);
    expect(ran).toEqual([...mutations.map((m) => m.join(' ')), 'lvs --noheadings -o seg_monitor docker/thinpool']);
    expect(hostWrites(r)).toEqual(['/etc/lvm/profile/docker-thinpool.profile', '/var/lib/dmctl/pools/docker-thinpool.json', '/etc/docker/daemon.json']);
    expect(r.stderr).toMatch(/applied 11 steps/);
  });

  it('a failed step stops the run, exits 1 and says what was and was not done', async () => {
    const r = await dmctl(['init-direct', '/dev/loop0', '--yes'], { executor: withMutations('lvconvert') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failed: lvconvert: simulated failure/);
    expect(r.stderr).toMatch(/command: lvconvert -y --zero n/);
    expect(r.stderr).toMatch(/done \(4\): pvcreate, vgcreate, lvcreate-data, lvcreate-metadata/);
    expect(r.stderr).toMatch(/not done \(7\): lvconvert, write-profile/);
    expect(hostWrites(r)).toEqual([]);
  });

  it('--json with apply prints the plan and the result as one document', async () => {
    const r = await dmctl(['--json', 'init-direct', '/dev/loop0', '--yes'], { executor: withMutations() });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.result.status).toBe('done');
    expect(PlanSchema.parse(out.plan).steps).toHaveLength(11);
  });
});

describe('dmctl basics', () => {
  it('--help and --version exit 0 and print to stdout', async () => {
    const help = await dmctl(['--help'], { executor: new FakeExecutor() });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/init-direct/);
    const version = await dmctl(['--version'], { executor: new FakeExecutor() });
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('the other subcommands refuse bad input before probing (exit 3, one line)', () => {
  const cases: Array<[string[], RegExp]> = [
    [['resize-loop', 'lots'], /SIZE: "lots" is not a size/],
    [['resize-loop', '+0G'], /SIZE: "\+0G" is not a size to grow to/],
    [['resize-loop', '512'], /SIZE: "512" has no unit/],
    [['init-loop', '--metadata-size', '1M'], /metadata size must be between 2 MiB and 15.94 GiB/],
    [['init-loop', '--metadata-size', '16G'], /metadata size must be between 2 MiB and 15.94 GiB/],
    [['init-loop', '--data-size', '1M'], /data size must be at least 64M/],
    [['init-loop', '--pool', 'a/b'], /--pool is a device-mapper name/],
    [['init-loop', '--dir', 'relative/dir'], /--dir must be an absolute path/],
    [['init-loop', '--consumer', 'k8s'], /consumer must be docker, containerd or none/],
    [['extend', '/dev/x', '--size', '1G', '--metadata', '1G'], /give one of them/],
    [['extend', '/dev/x', '--metadata', '1'], /no unit/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const r = await dmctl([...args, '--dry-run'], { executor: new FakeExecutor() });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.executor.calls).toEqual([]);
    });
  }
});

describe('dmctl init-loop --dry-run on a host without device-mapper', () => {
  it('plans loading the module first and touches nothing', async () => {
    const executor = new FakeExecutor()
      .on(['losetup', '--json', '--list', '-O', 'NAME,BACK-FILE,MAJ:MIN,SIZELIMIT,OFFSET,RO'], { stdout: '' })
      .on(['dockerd', '--version'], { stdout: host('dockerd-version.txt') });
    const files = new MemoryFiles({ programs: ['losetup', 'dmsetup', 'truncate', 'dd', 'dockerd'], dirs: { '/dev': ['loop0', 'loop1', 'loop-control'] }, files: { '/proc/devices': 'Block devices:\n  7 loop\n' } });
    const r = await dmctl(['init-loop', '--dry-run'], { executor, files });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1\. Load the dm-thin-pool kernel module\s+\$ modprobe dm_thin_pool/);
    expect(r.stdout).toContain("$ dmsetup create dmctl-pool --table '0 209715200 thin-pool /dev/loop1 /dev/loop0 128 32768 1 skip_block_zeroing'");
    expect([...executor.commands].sort()).toEqual(['dockerd --version', 'losetup --json --list -O NAME,BACK-FILE,MAJ:MIN,SIZELIMIT,OFFSET,RO']);
  });
});
