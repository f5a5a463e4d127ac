/**
 * The Ansible collection (ansible/, dmctl.storage) on a real kernel: Debian's ansible-core runs
 * ansible-playbook inside the UML guest against the guest itself (connection local), with the
 * collection built and installed on the host by ansible-galaxy into a shared temporary directory.
 *
 * One guest goes through create, re-run (not changed), check mode with diff on a fresh disk, refusals
 * (ext4 disk, destructive plan not allowed), extend, status facts and the reviewed-plan flow with a
 * stale refusal; two more guests run the same site playbook side by side (bundle and npm tarball).
 * On the host: ansible-doc renders both modules, ansible-lint passes on the collection.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInGuest, type GuestResult } from './guest/guest.js';

const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const env = { ...process.env, ANSIBLE_NOCOLOR: '1' };

let T: string;
let coll: string;

beforeAll(() => {
  if (!existsSync(join(root, 'dist/dmctl.cjs'))) throw new Error('dist/ is missing: run `npm run build` first');
  T = mkdtempSync(join(tmpdir(), 'dmctl-ansible-'));
  coll = join(T, 'coll');
  execFileSync('ansible-galaxy', ['collection', 'build', '--output-path', T, join(root, 'ansible')], { env, stdio: 'pipe' });
  const tarball = readdirSync(T).find((f) => /^dmctl-storage-.*\.tar\.gz$/.test(f));
  if (!tarball) throw new Error('ansible-galaxy built no collection tarball');
  execFileSync('ansible-galaxy', ['collection', 'install', '-p', coll, join(T, tarball)], { env, stdio: 'pipe' });
}, 120_000);
afterAll(() => {
  if (T) rmSync(T, { recursive: true, force: true });
});

const guestPrelude = (t: string) => `
set -uo pipefail
# the guest's root is the host's under an overlay: start from no dmctl state whatever the host holds
rm -rf /var/lib/dmctl /etc/lvm/profile/docker-thinpool.profile
export ANSIBLE_COLLECTIONS_PATH=${t}/coll ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_DEPRECATION_WARNINGS=0
cd "$PROJECT_ROOT/test/e2e/ansible"
rec() {
  local name=$1; shift
  "$@" >"${t}/$name.out" 2>"${t}/$name.err"
  local rc=$?
  echo "$rc" >"${t}/$name.rc"
  echo "+ $* [rc=$rc]"
  return 0
}
play() { ansible-playbook -i inventory.yml "$@"; }
jplay() { ANSIBLE_STDOUT_CALLBACK=results_json ANSIBLE_CALLBACK_PLUGINS="$PROJECT_ROOT/test/e2e/ansible/callback_plugins" play "$@"; }
`;

interface Rec {
  out: string;
  err: string;
  rc: number;
}
const get = (dir: string, name: string): Rec => ({
  out: readFileSync(join(dir, `${name}.out`), 'utf8'),
  err: readFileSync(join(dir, `${name}.err`), 'utf8'),
  rc: Number(readFileSync(join(dir, `${name}.rc`), 'utf8').trim()),
});

interface TaskResult {
  changed?: boolean;
  failed?: boolean;
  msg?: string;
  rc?: number;
  diff?: { prepared?: string } | { prepared?: string }[];
  steps?: string[];
  [k: string]: unknown;
}
interface PlayJson {
  plays: { tasks: { task: { name: string }; hosts: Record<string, TaskResult> }[] }[];
  stats: Record<string, { changed: number; failures: number; ok: number; ignored?: number }>;
}
const task = (doc: PlayJson, name: string, host = 'localhost'): TaskResult => {
  for (const p of doc.plays) for (const t of p.tasks) if (t.task.name === name || t.task.name.endsWith(` : ${name}`)) return t.hosts[host] as TaskResult;
  throw new Error(`no task ${name}`);
};

describe('on the host: the collection builds, its modules have docs, ansible-lint passes', () => {
  it('ansible-doc renders dmctl_pool and dmctl_status', () => {
    for (const m of ['dmctl_pool', 'dmctl_status']) {
      const doc = execFileSync('ansible-doc', [`dmctl.storage.${m}`], { env: { ...env, ANSIBLE_COLLECTIONS_PATH: coll }, encoding: 'utf8' });
      expect(doc).toContain(`DMCTL.STORAGE.${m.toUpperCase()}`);
      expect(doc).toMatch(/OPTIONS/);
      expect(doc).toMatch(/RETURN VALUES/);
    }
  });

  it('ansible-lint passes on the collection and its role (production profile)', () => {
    // a copy: ansible-lint may write a cache next to what it checks
    const copy = join(T, 'lint');
    cpSync(join(root, 'ansible'), copy, { recursive: true });
    const out = execFileSync('ansible-lint', ['--nocolor', '--offline'], { cwd: copy, env, encoding: 'utf8', stdio: 'pipe' });
    expect(out).not.toMatch(/violation/);
  }, 120_000);
});

describe('ansible-playbook in a guest, against the guest itself', () => {
  let guest: GuestResult;
  const r = (name: string) => get(T, name);
  const j = (name: string) => JSON.parse(r(name).out) as PlayJson;

  beforeAll(async () => {
    guest = await runInGuest(
      `${guestPrelude(T)}
rec create jplay site.yml
rec rerun jplay site.yml
rec check play fresh.yml --check --diff
rec fresh-wipefs wipefs --no-act --json /dev/ubdd
rec fresh-vgs vgs fresh
mkfs.ext4 -q /dev/ubdb
mkdir -p /run/shim
printf '%s\\n' '#!/bin/sh' \\
  'if [ ! -e /run/shim/done ] && echo " $* " | grep -q -- thinpool; then touch /run/shim/done; echo "lvconvert: injected failure" >&2; exit 5; fi' \\
  'exec /usr/sbin/lvconvert "$@"' > /run/shim/lvconvert
chmod +x /run/shim/lvconvert
rec cases jplay cases.yml
rec ext4-intact wipefs --no-act --json /dev/ubdb
rec save jplay review.yml -e dmctl_plan_mode=save -e dmctl_review_dir=${T}/review
mkfs.ext4 -q /dev/ubde
rec reviewed-check play review.yml --check -e dmctl_plan_mode=reviewed -e dmctl_review_dir=${T}/review
rec lp-after-check dmsetup status lp
rec reviewed play review.yml -e dmctl_plan_mode=reviewed -e dmctl_review_dir=${T}/review
rec lp dmsetup status lp
rec beta-intact wipefs --no-act --json /dev/ubde
`,
      { disks: ['1G', '512M', '512M', '512M', '512M'], share: [T], timeoutSec: 900 },
    );
    // docs/ansible.md shows these outputs: DMCTL_CAPTURE_DIR=DIR keeps a copy
    const keep = process.env.DMCTL_CAPTURE_DIR;
    if (keep) for (const f of readdirSync(T)) if (/\.(out|err|rc)$/.test(f)) cpSync(join(T, f), join(keep, f));
  }, 960_000);

  it('the role installs dmctl and the boot unit and builds the pool; a re-run is ok, not changed', () => {
    expect(guest.exitCode, guest.stderr).toBe(0);
    const create = r('create');
    expect(create.rc, create.out + create.err).toBe(0);
    const doc = j('create');
    expect(doc.stats.localhost?.failures).toBe(0);
    const pools = task(doc, 'Apply the pool definitions, or save their plans for review') as { results?: TaskResult[] };
    expect(pools.results?.[0]?.changed).toBe(true);
    expect(pools.results?.[0]?.steps).toContain('pvcreate');
    expect(task(doc, 'Install the single-file bundle').changed).toBe(true);
    expect(task(doc, 'Install the reactivate boot unit').changed).toBe(true);

    const rerun = r('rerun');
    expect(rerun.rc, rerun.out + rerun.err).toBe(0);
    expect(j('rerun').stats.localhost).toMatchObject({ changed: 0, failures: 0 });
  });

  it('check mode on a fresh disk changes nothing and shows dmctl\'s plan as the diff', () => {
    const check = r('check');
    expect(check.rc, check.out + check.err).toBe(0);
    expect(check.out).toContain('dmctl init-direct: fresh/thinpool on /dev/ubdd');
    expect(check.out).toMatch(/1\. Make \/dev\/ubdd LVM physical volume \[destructive\]/);
    expect(check.out).toMatch(/localhost\s+: ok=1\s+changed=1\s+unreachable=0\s+failed=0/);
    expect(JSON.parse(r('fresh-wipefs').out).signatures ?? []).toEqual([]);
    expect(r('fresh-vgs').rc).not.toBe(0);
  });

  it('a disk with ext4 fails the task with dmctl\'s message and exit code, and stays intact', () => {
    const doc = j('cases');
    const ext4 = task(doc, 'A disk with an ext4 filesystem is refused');
    expect(ext4.failed).toBe(true);
    expect(ext4.rc).toBe(3);
    expect(ext4.msg).toMatch(/^dmctl: error: \/dev\/ubdb carries a signature \(ext4\) and may hold data/);
    expect(JSON.parse(r('ext4-intact').out).signatures.map((s: { type: string }) => s.type)).toEqual(['ext4']);
  });

  it('a destructive plan is refused unless allow_destructive is set', () => {
    const t = task(j('cases'), 'A destructive plan without allow_destructive is refused');
    expect(t.failed).toBe(true);
    expect(t.rc).toBe(3);
    expect(t.msg).toMatch(/destructive step.*no terminal to confirm.*allow_destructive: true/);
    expect(t.plan_text).toMatch(/\[destructive\]/);
  });

  it('a step that fails half-way fails the task with dmctl\'s report; the same task again finishes', () => {
    const doc = j('cases');
    const fail = task(doc, 'A step that fails half-way reports what was done, what failed and how to resume');
    expect(fail.failed).toBe(true);
    expect(fail.rc).toBe(1);
    expect(fail.changed).toBe(true);
    expect(fail.msg).toMatch(/^\u2717 \[5\/\d+\] Convert them into the thin pool flaky\/thinpool/); // the report, not the plan before it
    expect(fail.msg).toMatch(/step "Convert them into the thin pool flaky\/thinpool \(chunk 512K\)" failed: lvconvert: injected failure/);
    expect(fail.msg).toMatch(/done \(4\): pvcreate, vgcreate, lvcreate-data, lvcreate-metadata/);
    expect(fail.msg).toMatch(/dmctl apply --resume/);
    expect(fail.done).toEqual(['pvcreate', 'vgcreate', 'lvcreate-data', 'lvcreate-metadata']);
    expect((fail.failed_step as { id: string }).id).toBe('lvconvert');
    expect(fail.journal).toMatch(/^\/var\/lib\/dmctl\/journal\//);
    const again = task(doc, 'The same task again does what is still missing');
    expect(again.changed).toBe(true);
    expect(again.steps?.[0]).toBe('lvconvert');
  });

  it('extend grows the pool with a new disk; again is not changed; status facts show the pool', () => {
    const doc = j('cases');
    const ext = task(doc, 'Extend the pool with a new disk');
    expect(ext.changed, JSON.stringify(ext)).toBe(true);
    expect(ext.steps).toEqual(expect.arrayContaining(['pvcreate', 'vgextend']));
    expect(task(doc, 'Extend again').changed).toBe(false);
    const facts = task(doc, 'Read the pools') as { ansible_facts?: { dmctl_status?: { pools: { name: string; data: { totalBytes: number } }[] } } };
    const pool = facts.ansible_facts?.dmctl_status?.pools.find((p) => p.name === 'docker/thinpool');
    expect(pool?.data.totalBytes).toBeGreaterThan(1024 ** 3);
    expect(task(doc, 'The pool is active and monitored').failed).toBeFalsy();
    expect(doc.stats.localhost).toMatchObject({ failures: 0, ignored: 4 });
  });

  it('reactivate with an expected pool missing: the present pool is brought back, the task fails with dmctl\'s line (exit 4)', () => {
    const doc = j('cases');
    const t = task(doc, 'Reactivate brings back the pool that is there and fails naming the one that is not');
    expect(t.failed).toBe(true);
    expect(t.rc).toBe(4);
    expect(t.changed).toBe(true);
    expect(t.msg).toMatch(/^dmctl: error: pool ghost\/pool \(recorded in \/var\/lib\/dmctl\/pools\/ghost-pool\.json\) is not there: LVM sees no VG ghost; its disk \/dev\/ghost \(as recorded\) does not exist/);
    expect(t.done).toEqual(expect.arrayContaining(['activate-flaky-thinpool']));
  });

  it('reviewed plans: saved per host and fetched; applied as reviewed; a stale one refused, its disk intact', () => {
    const save = r('save');
    expect(save.rc, save.out + save.err).toBe(0);
    for (const [host, pool] of [['alpha', 'lp'], ['beta', 'beta']]) {
      const file = JSON.parse(readFileSync(join(T, 'review', host!, `${pool}.plan`), 'utf8'));
      expect(file.kind).toBe('dmctl-plan');
      expect(file.plan.steps.length).toBeGreaterThan(0);
    }
    // check mode asks dmctl (apply FILE --dry-run): alpha's plan is current (changed), beta's is stale (failed), nothing built
    const check = r('reviewed-check');
    expect(check.rc).not.toBe(0);
    expect(check.out).toMatch(/changed: \[alpha\] => \(item=lp\)/);
    expect(check.out).toMatch(/stale plan: the host no longer allows \/var\/lib\/dmctl\/plans\/beta\.reviewed\.plan/);
    expect(r('lp-after-check').rc).not.toBe(0);
    const reviewed = r('reviewed');
    expect(reviewed.rc).not.toBe(0); // beta failed
    expect(reviewed.out).toMatch(/alpha\s+: ok=\d+\s+changed=1\s+unreachable=0\s+failed=0/); // apply (check mode copied the file)
    expect(reviewed.out).toMatch(/Apply the reviewed plans \(dmctl refuses a plan that went stale\)[^\n]*\n(?:.*\n)*?changed: \[alpha\] => \(item=lp\)/);
    expect(reviewed.out).toMatch(/beta\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=1/);
    expect(reviewed.out).toMatch(/stale plan: the host no longer allows \/var\/lib\/dmctl\/plans\/beta\.reviewed\.plan/);
    expect(r('lp').out).toMatch(/ thin-pool /);
    expect(JSON.parse(r('beta-intact').out).signatures.map((s: { type: string }) => s.type)).toEqual(['ext4']);
  });
});

describe('the same playbook converges on two guests side by side', () => {
  it('bundle on one guest, npm tarball on the other: changed, then not changed', async () => {
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', T], { cwd: root, stdio: 'pipe' });
    const script = (name: string, extra: string) => `${guestPrelude(T)}
rec ${name}-1 jplay site.yml ${extra}
rec ${name}-2 jplay site.yml ${extra}
`;
    const [a, b] = await Promise.all([
      runInGuest(script('g1', ''), { disks: ['1G'], share: [T], timeoutSec: 600 }),
      runInGuest(script('g2', `-e dmctl_install_method=tarball -e dmctl_tarball_src=${T}/dmctl-0.1.0.tgz`), { disks: ['1G'], share: [T], timeoutSec: 600 }),
    ]);
    for (const [g, res] of [['g1', a], ['g2', b]] as const) {
      expect(res.exitCode, res.stderr).toBe(0);
      const first = get(T, `${g}-1`);
      expect(first.rc, first.out + first.err).toBe(0);
      expect((JSON.parse(first.out) as PlayJson).stats.localhost?.changed).toBeGreaterThan(0);
      const second = get(T, `${g}-2`);
      expect(second.rc, second.out + second.err).toBe(0);
      expect((JSON.parse(second.out) as PlayJson).stats.localhost).toMatchObject({ changed: 0, failures: 0 });
    }
  }, 700_000);
});
