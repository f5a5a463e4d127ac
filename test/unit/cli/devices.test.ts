/** `dmctl status --devices` in-process, on the recorded guest (fixtures …/devices/). */
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/commands/context.js';
import { lvmThinConfigQuery, lvsQuery } from '../../../src/system/lvm.js';
import { thinPoolStatusesQuery, thinPoolTablesQuery } from '../../../src/system/dmsetup.js';
import { thinLsQuery } from '../../../src/system/thin-ls.js';
import { FakeExecutor } from '../../helpers/fake-executor.js';
import { capture, devicesFiles, dockerIds } from '../../helpers/devices-host.js';
import { host } from '../../helpers/fixtures.js';
import { runMain } from '../../helpers/run-main.js';

function guestHost() {
  let held = false;
  const executor = new FakeExecutor()
    .on(lvsQuery().argv, { stdout: capture('lvs') })
    .on(lvmThinConfigQuery().argv, { stdout: host('lvmconfig-thin.txt') })
    .on(thinPoolStatusesQuery().argv, { stdout: capture('dmsetup-status') })
    .on(thinPoolTablesQuery().argv, { stdout: capture('dmsetup-table') });
  for (const pool of ['docker-thinpool', 'ctd-thinpool']) {
    executor
      .on(['dmsetup', 'status', pool], () => ({ stdout: held ? capture('status-held') : capture('status-released') }))
      .on(['dmsetup', 'message', pool, '0', 'reserve_metadata_snap'], () => ((held = true), {}))
      .on(['dmsetup', 'message', pool, '0', 'release_metadata_snap'], () => ((held = false), {}));
  }
  executor.on(thinLsQuery('/dev/mapper/docker-thinpool_tmeta').argv, { stdout: capture('thin-ls') });
  executor.on(thinLsQuery('/dev/mapper/ctd-thinpool_tmeta').argv, { stdout: capture('ctd-thin-ls') });
  const files = devicesFiles({ programs: ['lvm', 'dmsetup', 'thin_ls'] });
  files.files.set('/proc/devices', 'Block devices:\n  7 loop\n254 device-mapper\n');
  files.files.set('/etc/docker/daemon.json', capture('daemon-json'));
  files.files.set('/etc/containerd/config.toml', capture('containerd-config'));
  return { executor, files, held: () => held };
}

async function dmctl(args: string[], env: ReturnType<typeof guestHost>) {
  const ctx: Partial<CliContext> = {
    executor: env.executor,
    files: env.files,
    uid: 0,
    env: {},
  };
  return runMain(args, ctx);
}

describe('dmctl status --devices', () => {
  it('lists both pools, largest first, with their owners; every snapshot released', async () => {
    const h = guestHost();
    const r = await dmctl(['status', '--devices'], h);
    expect(r.code, r.stderr).toBe(0);
    expect(h.held()).toBe(false);
    const ids = dockerIds();
    const lines = r.stdout.split('\n');
    // Pools in status's order (ctd/thinpool first); docker/thinpool's block:
    lines.splice(0, lines.findIndex((l) => l.startsWith('docker/thinpool:')));
    expect(lines[0]).toMatch(/^docker\/thinpool: 8 thin devices · used 322.5 MiB of 1.89 GiB \(16\.6%\) · /);
    expect(lines[1]).toMatch(/^ {2}DEV\s+EXCLUSIVE\s+MAPPED\s+OWNER$/);
    expect(lines[2]).toMatch(new RegExp(`^ {2}6\\s+42 MiB\\s+277\\.5 MiB\\s+Docker container big \\(${ids.big!.slice(0, 12)}, tiny:1\\)$`));
    expect(r.stdout).toMatch(/^ctd\/thinpool: 3 thin devices/m);
    expect(r.stdout).toMatch(/containerd snapshot cbig \(active, namespace default, ctd-thinpool-snap-2\)/);
  });

  it('--json --pool: one pool, the report as documented', async () => {
    const h = guestHost();
    const r = await dmctl(['--json', 'status', '--devices', '--pool', 'docker/thinpool'], h);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.formatVersion).toBe(1);
    expect(report.pools.map((p: { name: string }) => p.name)).toEqual(['docker/thinpool']);
    expect(report.pools[0].devices[0]).toMatchObject({ deviceId: 6, exclusiveBytes: 44040192, owner: { kind: 'docker-container', name: 'big', layer: 'writable' } });
    expect(h.executor.commands.filter((c) => c.includes('ctd-thinpool'))).toEqual([]);
  });

  it('bad combinations are one-line refusals that run nothing', async () => {
    for (const [args, message] of [
      [['status', '--pool', 'docker/thinpool'], 'dmctl: error: --pool: only with --devices (it picks the pool whose devices are listed)\n'],
      [['status', '--devices', '--check'], 'dmctl: error: --devices: not with --check, --prometheus or --watch (it reads a metadata snapshot of each pool: run it on its own)\n'],
    ] as const) {
      const h = guestHost();
      const r = await dmctl([...args], h);
      expect(r.code).toBe(3);
      expect(r.stderr).toBe(message);
      expect(h.executor.commands.filter((c) => c.startsWith('dmsetup message'))).toEqual([]);
    }
  });

  it('an unknown --pool is refused before any snapshot is taken', async () => {
    const h = guestHost();
    const r = await dmctl(['status', '--devices', '--pool', 'nope'], h);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('dmctl: error: --pool nope: no such thin pool on this host (pools: ctd/thinpool, docker/thinpool); name one as `dmctl status` lists it\n');
    expect(h.executor.commands.filter((c) => c.startsWith('dmsetup message'))).toEqual([]);
  });
});
