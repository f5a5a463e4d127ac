/**
 * How dmctl reaches a host (docs/install.md), tested on the built package (`npm run build`; no guest):
 * the single-file bundle run from an empty directory, the `npm pack` tarball installed globally
 * without a registry, the man page rendered by man-db, and the zsh and fish completion scripts
 * read by those shells (bash's: test/unit/cli/completion.test.ts). test/e2e/setup installs man-db,
 * groff-base, zsh and fish.
 */
import { execFileSync, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { version } from '../../src/cli.js';
import { commands } from '../../src/commands/definitions.js';
import type { CliContext } from '../../src/commands/context.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bundle = join(root, 'dist', 'dmctl.cjs');
const cleanPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function run(argv: string[], options: SpawnSyncOptions = {}) {
  const [file, ...args] = argv;
  const r = spawnSync(file!, args, { encoding: 'utf8', env: { PATH: cleanPath, LVM_SUPPRESS_FD_WARNINGS: '1' }, ...options });
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** No node_modules in `dir` or any directory above it: node cannot resolve a package from there. */
function noNodeModulesAbove(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules'))) return false;
    if (dirname(d) === d) return true;
  }
}

const defined = commands(() => async () => {}, () => ({}) as CliContext).filter((c) => !c.name().startsWith('__'));

describe('the single-file install: dist/dmctl.cjs alone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmctl-single-'));
  const file = join(dir, 'dmctl.cjs');
  beforeAll(() => copyFileSync(bundle, file));

  it('is alone: no node_modules anywhere above it', () => {
    expect(readdirSync(dir)).toEqual(['dmctl.cjs']);
    expect(noNodeModulesAbove(dir)).toBe(true);
  });

  it('`node dmctl.cjs --version` and `--help` work from an empty directory', () => {
    expect(run(['node', file, '--version'], { cwd: dir })).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const help = run(['node', 'dmctl.cjs', '--help'], { cwd: dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: dmctl \[options\] \[command\]/);
    for (const c of defined) expect(help.stdout).toContain(c.name());
  });

  it('runs as a program of its own (#! line), e.g. copied to /usr/local/bin/dmctl', () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    copyFileSync(file, join(bin, 'dmctl'));
    expect(run(['dmctl', '--version'], { cwd: dir, env: { PATH: `${bin}:${cleanPath}` } }).stdout).toBe(`${version}\n`);
  });

  it('plans a loop pool (--dry-run), printing the plan and changing nothing', () => {
    const r = run(['node', file, 'init-loop', '--dry-run', '--pool', 'single-file-test', '--dir', join(dir, 'pool'), '--consumer', 'none'], { cwd: dir });
    expect(r.stderr).toContain('dry run: nothing was changed');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('dmsetup create single-file-test --table');
    expect(existsSync(join(dir, 'pool'))).toBe(false);
  });

  it('`__complete pools` (what --pool completion runs) prints nothing and exits 0 for a user who may not run lvs', () => {
    chmodSync(dir, 0o755);
    const r = run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, file, '__complete', 'pools', 'extend'], { cwd: '/' });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('a bad option is refused with exit 3, as from npm', () => {
    const r = run(['node', file, 'init-loop', '--consumer', 'podman', '--dry-run'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('dmctl: error: --consumer: consumer must be docker, containerd or none\n');
  });
});

describe('npm pack, then npm install -g of the tarball, offline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmctl-pack-'));
  const prefix = join(dir, 'prefix');
  let tarball = '';

  beforeAll(() => {
    // The build already ran (npm run test:e2e): pack what it made.
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root, stdio: 'ignore' });
    tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    // An empty npm config and an unreachable registry: the install must need neither.
    writeFileSync(join(dir, 'npmrc'), 'registry=http://127.0.0.1:9/\n');
    const r = run(['npm', 'install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', `./${tarball}`], {
      cwd: dir,
      env: { PATH: `${dirname(process.execPath)}:${cleanPath}`, HOME: dir, npm_config_userconfig: join(dir, 'npmrc'), npm_config_cache: join(dir, 'cache') },
    });
    expect(r.stderr.split('\n').filter((l) => /ERR|error/i.test(l))).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('ships the bundle, its code cache, the launcher, the man page and the docs, and no tsc output', () => {
    expect(tarball).toBe(`dmctl-${version}.tgz`);
    const files = execFileSync('tar', ['tzf', join(dir, tarball)], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(files.filter((f) => f.startsWith('package/dist/') || f.startsWith('package/bin/'))).toEqual([
      'package/bin/dmctl.js',
      'package/bin/package.json',
      'package/dist/dmctl.1',
      'package/dist/dmctl.cjs',
      'package/dist/dmctl.cjs.codecache',
    ]);
    expect(files).toContain('package/README.md');
    expect(files).toContain('package/docs/install.md');
  });

  it('installs no dependency: the bundle holds them all', () => {
    expect(existsSync(join(prefix, 'lib', 'node_modules', 'dmctl', 'node_modules'))).toBe(false);
  });

  it('puts a working dmctl on PATH, from any directory', () => {
    const env = { PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:${cleanPath}` };
    expect(run(['dmctl', '--version'], { cwd: tmpdir(), env })).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const help = run(['dmctl', 'status', '--help'], { cwd: tmpdir(), env });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: dmctl status \[options\]/);
  });

  it('installs the man page where man finds it', () => {
    const r = run(['man', '-w', 'dmctl'], { env: { PATH: cleanPath, MANPATH: join(prefix, 'share', 'man') } });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/dmctl\.1$/);
  });
});

describe('man ./dist/dmctl.1', () => {
  const render = () => run(['man', '--warnings', join(root, 'dist', 'dmctl.1')], { env: { PATH: cleanPath, MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat', LANG: 'C.UTF-8' } });

  it('renders without a warning', () => {
    const r = render();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^DMCTL\(1\) +User Commands +DMCTL\(1\)/);
  });

  it('contains every subcommand and every option of the definitions', () => {
    const page = render().stdout;
    for (const c of defined) {
      expect(page).toContain(`dmctl ${c.name()}`);
      for (const o of c.options) expect(page).toContain(o.flags);
    }
    for (const flag of ['--dry-run', '--yes', '--json', '--no-color', '--verbose', '--detailed-exitcode', '--format <format>', '--out <file>', '--wait']) expect(page).toContain(flag);
  });
});

describe('the zsh and fish completion scripts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmctl-shells-'));
  const script = (shell: string) => {
    const path = join(dir, `dmctl.${shell}`);
    writeFileSync(path, execFileSync('node', [bundle, 'completion', shell], { encoding: 'utf8' }));
    return path;
  };

  it('zsh parses its script, and its bash emulation reads the words as bash would', () => {
    const path = script('zsh');
    expect(run(['zsh', '-n', path])).toEqual({ code: 0, stdout: '', stderr: '' });
    // zsh arrays start at 1: the script shifts its indexes (compgen's filtering is zsh's own, left to compadd).
    const program = `autoload -U compinit && compinit -u -D; source ${path}; t() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _dmctl; print -r -- "\${COMPREPLY[*]}"; }; t dmctl --format ''; t dmctl init-direct --consumer ''; t dmctl completion ''; t dmctl init-direct /dev/loop; t dmctl init-direct /dev/nul`;
    const r = run(['zsh', '-f', '-c', program], { env: { PATH: cleanPath, HOME: dir } });
    expect(r.stderr).toBe('');
    const loops = readdirSync('/dev').filter((n) => /^loop\d+$/.test(n)).map((n) => `/dev/${n}`);
    expect(loops.length).toBeGreaterThan(0);
    const [formats, consumers, shells, devices, none, ...rest] = r.stdout.split('\n');
    expect([formats, consumers, shells, none, ...rest]).toEqual(['text json shell', 'docker containerd none', 'bash zsh fish', '', '']);
    expect(devices!.split(' ').sort()).toEqual(loops.sort());
  });

  it('fish parses its script and completes through its own machinery (complete -C)', () => {
    const path = script('fish');
    expect(run(['fish', '-n', path])).toEqual({ code: 0, stdout: '', stderr: '' });
    const complete = (line: string) => {
      const r = run(['fish', '--no-config', '-c', `source ${path}; complete -C ${JSON.stringify(line)}`], { env: { PATH: cleanPath, HOME: dir } });
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!);
    };
    expect(complete('dmctl st')).toEqual(['status']);
    expect(complete('dmctl status --pr')).toEqual(['--prometheus']);
    expect(complete('dmctl init-direct --consumer ').sort()).toEqual(['containerd', 'docker', 'none']);
    expect(complete('dmctl --format ').sort()).toEqual(['json', 'shell', 'text']);
    expect(complete('dmctl completion ').sort()).toEqual(['bash', 'fish', 'zsh']);
    expect(complete('dmctl init-direct /dev/nul')).toEqual([]);
  });
});
