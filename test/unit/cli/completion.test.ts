/**
 * `dmctl completion bash`, run through bash's completion machinery: the generated script is sourced
 * in a real bash, COMP_WORDS/COMP_CWORD are set as bash sets them, and COMPREPLY is read back.
 * (zsh and fish: test/e2e/packaging.e2e.test.ts, where test/e2e/setup has installed them.)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../../helpers/run-main.js';
import { commands } from '../../../src/commands/definitions.js';
import type { CliContext } from '../../../src/commands/context.js';
import { autoextendProfileContent } from '../../../src/system/lvm.js';
import { FakeExecutor } from '../../helpers/fake-executor.js';
import { MemoryFiles } from '../../helpers/memory-files.js';
import { guest, host } from '../../helpers/fixtures.js';

async function dmctl(args: string[], injected: Partial<CliContext> = {}) {
  return runMain(args, injected);
}

const dir = mkdtempSync(join(tmpdir(), 'dmctl-completion-'));
const script = join(dir, 'dmctl.bash');

/** COMPREPLY for the command line `words` (the last word is the one being completed), sorted. */
function complete(words: string[], env: Record<string, string> = {}): { reply: string[]; stderr: string } {
  const program = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dmctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', program, 'bash', script, ...words], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
  expect(r.status).toBe(0);
  return { reply: r.stdout.split('\n').filter((l) => l !== '').sort(), stderr: r.stderr };
}
const reply = (...words: string[]) => complete(words).reply;

beforeAll(async () => {
  const r = await dmctl(['completion', 'bash']);
  expect(r.code).toBe(0);
  writeFileSync(script, r.stdout);
});

/** Every long and short option of a subcommand, as defined (commander's --help included). */
function definedFlags(name: string): string[] {
  const noop = () => async () => {};
  const cmd = commands(noop, () => ({}) as CliContext).find((c) => c.name() === name)!;
  return cmd.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => f !== undefined);
}

describe('dmctl completion bash', () => {
  it('is valid bash that registers _dmctl for dmctl', () => {
    expect(execFileSync('bash', ['--norc', '-c', `source "${script}"; complete -p dmctl`], { encoding: 'utf8' }).trim()).toBe('complete -F _dmctl dmctl');
  });

  it('completes the subcommands, without the hidden ones', () => {
    expect(reply('dmctl', '')).toEqual(['apply', 'completion', 'extend', 'help', 'init-direct', 'init-loop', 'reactivate', 'resize-loop', 'status']);
    expect(reply('dmctl', 'st')).toEqual(['status']);
    expect(reply('dmctl', '--dry-run', 're')).toEqual(['reactivate', 'resize-loop']);
    expect(reply('dmctl', '--format', 'json', 'in')).toEqual(['init-direct', 'init-loop']);
    expect(reply('dmctl', 'help', 're')).toEqual(['reactivate', 'resize-loop']);
  });

  it("offers every option a subcommand defines, and the global ones", () => {
    const offered = reply('dmctl', 'init-direct', '-');
    for (const flag of [...definedFlags('init-direct'), '--dry-run', '--yes', '--json', '--format', '--out', '--wait']) expect(offered).toContain(flag);
    expect(reply('dmctl', 'status', '--p')).toEqual(['--pool', '--prometheus']);
    expect(reply('dmctl', '--d')).toEqual(['--detailed-exitcode', '--dry-run']);
  });

  it('completes the choices of --format, --consumer and the shell, also written --opt=value', () => {
    expect(reply('dmctl', '--format', '')).toEqual(['json', 'shell', 'text']);
    // bash splits `--format=j` into three words
    expect(reply('dmctl', '--format', '=', 'j')).toEqual(['json']);
    expect(reply('dmctl', 'init-direct', '--consumer', 'c')).toEqual(['containerd']);
    expect(reply('dmctl', 'init-loop', '--consumer', '=', '')).toEqual(['containerd', 'docker', 'none']);
    expect(reply('dmctl', 'completion', '')).toEqual(['bash', 'fish', 'zsh']);
  });

  it('completes disks from the block devices under /dev, not other files', () => {
    const blockDevices = readdirSync('/dev')
      .map((n) => `/dev/${n}`)
      .filter((p) => statSync(p, { throwIfNoEntry: false })?.isBlockDevice());
    expect(blockDevices.length).toBeGreaterThan(0);
    const offered = reply('dmctl', 'init-direct', '');
    for (const device of blockDevices) expect(offered).toContain(device);
    expect(offered).not.toContain('/dev/null');
    expect(offered).toContain('/dev/pts/'); // directories, to walk /dev/disk/by-id/…
    expect(reply('dmctl', 'init-direct', '/dev/nul')).toEqual([]);
    const first = blockDevices[0]!;
    expect(reply('dmctl', 'extend', '--vg', 'docker', first)).toContain(first);
    expect(reply('dmctl', 'init-direct', first, '/dev/nul')).toEqual([]);
  });

  it('asks `dmctl __complete pools COMMAND` for --pool, and stays quiet when that fails', () => {
    const bin = join(dir, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    const stub = join(bin, 'dmctl');
    writeFileSync(stub, `#!/bin/sh\necho "$*" >> "${dir}/calls"\n[ "$*" = "__complete pools extend" ] && printf 'thinpool\\nother\\n' && exit 0\necho "lvs: not root" >&2\nexit 3\n`);
    chmodSync(stub, 0o755);
    const path = { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` };
    expect(complete(['dmctl', 'extend', '--pool', 't'], path).reply).toEqual(['thinpool']);
    expect(complete(['dmctl', 'extend', '--pool', ''], path).reply).toEqual(['other', 'thinpool']);
    // resize-loop: the stub fails, as dmctl does for a user who may not run lvs
    expect(complete(['dmctl', 'resize-loop', '--pool', ''], path)).toEqual({ reply: [], stderr: '' });
    expect(execFileSync('cat', [`${dir}/calls`], { encoding: 'utf8' })).toBe('__complete pools extend\n__complete pools extend\n__complete pools resize-loop\n');
  });

  it('offers nothing for a value it cannot know (a size), rather than options', () => {
    expect(reply('dmctl', 'init-direct', '--chunk-size', '')).toEqual([]);
    expect(reply('dmctl', 'resize-loop', '')).toEqual([]);
  });
});

describe('dmctl completion SHELL', () => {
  it('prints a script for each shell, and refuses another shell with exit 3, printing no script', async () => {
    for (const shell of ['bash', 'zsh', 'fish']) expect((await dmctl(['completion', shell])).stdout).toMatch(new RegExp(`^# ${shell} completion for dmctl`));
    const r = await dmctl(['completion', 'tcsh']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^dmctl: error: .*'tcsh'.*Allowed choices are bash, zsh, fish\./);
  });
});

describe('dmctl __complete pools', () => {
  const lvsArgv = ['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,lv_name,lv_attr,lv_size,segtype,pool_lv,data_percent,metadata_percent,lv_metadata_size,chunk_size,transaction_id,seg_monitor,lv_profile,lv_when_full,lv_health_status,lv_dm_path,vg_free,vg_extent_size'];
  const hostWithBothPools = () => ({
    executor: new FakeExecutor()
      .on(lvsArgv, { stdout: guest('lvs-pool.txt') })
      .on(['dmsetup', 'status', '--target', 'thin-pool'], { stdout: guest('dmsetup-status-both.txt') })
      .on(['dmsetup', 'table', '--target', 'thin-pool'], { stdout: guest('dmsetup-table-both.txt') })
      .on(['losetup', '--json', '--list', '-O', 'NAME,BACK-FILE,MAJ:MIN,SIZELIMIT,OFFSET,RO'], { stdout: guest('losetup-looppool.txt') })
      .on(['lvmconfig', '--typeconfig', 'full', 'config/profile_dir', 'activation/thin_pool_autoextend_threshold', 'activation/thin_pool_autoextend_percent'], { stdout: host('lvmconfig-thin.txt') }),
    files: new MemoryFiles({
      programs: ['lvm'],
      files: { '/proc/devices': 'Block devices:\n  7 loop\n254 device-mapper\n', '/etc/lvm/profile/docker-thinpool.profile': autoextendProfileContent(80, 20) },
    }),
    uid: 0,
    env: {},
  });

  it('names the pools each command takes: the LVM pool for extend, the loop pool for resize-loop, both otherwise', async () => {
    expect((await dmctl(['__complete', 'pools', 'extend'], hostWithBothPools())).stdout).toBe('thinpool\n');
    expect((await dmctl(['__complete', 'pools', 'resize-loop'], hostWithBothPools())).stdout).toBe('dmctl-pool\n');
    expect((await dmctl(['__complete', 'pools', 'init-loop'], hostWithBothPools())).stdout).toBe('thinpool\ndmctl-pool\n');
    expect((await dmctl(['__complete', 'pools', 'status'], hostWithBothPools())).stdout).toBe('docker/thinpool\ndmctl-pool\n');
  });

  it('prints nothing and exits 0 when the host cannot be probed', async () => {
    const r = await dmctl(['__complete', 'pools', 'extend'], { executor: new FakeExecutor(), files: new MemoryFiles({ programs: ['lvm'] }), uid: 1000, env: {} });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('is not listed in --help', async () => {
    const r = await dmctl(['--help']);
    expect(r.stdout).toContain('completion');
    expect(r.stdout).not.toContain('__');
  });
});
