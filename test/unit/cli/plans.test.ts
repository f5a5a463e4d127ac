/** Saved plans, runbooks, the journal and --resume, the host lock, interrupts. */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { changedParts, formatPlanFile, makePlanFile, readPlanFile } from '../../../src/plan/file.js';
import { planInitDirect } from '../../../src/plan/init-direct.js';
import { applyPlan } from '../../../src/run/apply.js';
import { renderPlanShell } from '../../../src/render/shell.js';
import { wipefsListQuery } from '../../../src/system/blockdev.js';
import { FakeExecutor } from '../../helpers/fake-executor.js';
import { MemoryFiles } from '../../helpers/memory-files.js';
import { host } from '../../helpers/fixtures.js';
import { changes, initDirectMutations, initDirectProbes, monitorCheck } from '../../helpers/init-direct-host.js';
import { dockerState, freshHost, options, vgOnlyLvm } from '../../helpers/states.js';
import { runOnFakeHost } from '../../helpers/run-main.js';

const probes = initDirectProbes;
const mutations = initDirectMutations;

function executor(opts: { fail?: string; probe?: Record<string, string>; onFirstMutation?: () => void } = {}) {
  const e = new FakeExecutor();
  for (const [argv, out] of probes) e.on(argv, { stdout: opts.probe?.[argv[0]!] ?? out });
  for (const argv of mutations) {
    e.on(argv, () => {
      if (argv[0] === 'pvcreate') opts.onFirstMutation?.();
      return argv[0] === opts.fail ? { exitCode: 5, stderr: `  ${opts.fail}: simulated failure\n` } : {};
    });
  }
  e.on(monitorCheck, { stdout: '  monitored\n' });
  return e;
}

const newFiles = () => new MemoryFiles({ blockDevices: ['/dev/loop0'], programs: ['lvm', 'thin_check', 'wipefs', 'lsblk', 'dockerd'], dirs: { '/proc/4242': [] } });

const dmctl = (args: string[], env: { executor: FakeExecutor; files: MemoryFiles; interrupt?: (fire: () => void) => void }) =>
  runOnFakeHost(args, { executor: env.executor, files: env.files, ...(env.interrupt ? { signals: env.interrupt } : {}) });
const ran = (e: FakeExecutor) => changes(e.commands);

describe('plan files', () => {
  const plan = planInitDirect(freshHost(), options());
  const file = makePlanFile(plan, { command: 'init-direct', options: { ...options() } }, freshHost());
  const text = formatPlanFile(file);

  it('round-trip: what is read back is the plan that was written', () => {
    expect(readPlanFile(text, 'p.json').plan).toEqual(plan);
  });

  it('refuses a hand-edited plan, a truncated one and a foreign one', () => {
    const doc = JSON.parse(text);
    doc.plan.steps[0].action.argv.push('-ff');
    const edited = JSON.stringify(doc, null, 2);
    expect(() => readPlanFile(edited, 'p.json')).toThrow(/p\.json was changed after dmctl wrote it/);
    expect(() => readPlanFile(text.slice(0, text.length / 2), 'p.json')).toThrow(/not a complete JSON document/);
    expect(() => readPlanFile('{"formatVersion": 2}', 'p.json')).toThrow(/not a valid dmctl plan/);
    expect(() => readPlanFile(text, 'p.json')).not.toThrow();
  });

  it('names the parts of the host that changed, ignoring usage that moves on a live pool', () => {
    const a = freshHost();
    const b = freshHost({ consumer: { kind: 'docker', docker: dockerState({ daemonJson: '{}' }) } });
    expect(changedParts(a, b)).toEqual(['consumer']);
    // Each kind of drift is named: LVM, the disks, the profile, tools.
    expect(changedParts(a, freshHost({ lvm: vgOnlyLvm() }))).toEqual(['lvm']);
    const ext4 = freshHost();
    ext4.disks[0]!.signatures = wipefsListQuery('/dev/loop0').parse(host('wipefs-ext4.txt'));
    expect(changedParts(a, ext4)).toEqual(['disks']);
    expect(changedParts(a, freshHost({ profile: 'activation {}' }))).toEqual(['profile']);
    expect(changedParts(a, freshHost({ missingTools: ['thin_check'] }))).toEqual(['missingTools']);
    const c = freshHost();
    c.disks[0]!.block!.sizeBytes += 4096;
    expect(changedParts(a, c)).toEqual([]);
  });
});

describe('--out, then dmctl apply FILE', () => {
  it('saves without applying; apply runs exactly the saved steps', async () => {
    const files = newFiles();
    const first = executor();
    const saved = await dmctl(['init-direct', '/dev/loop0', '--out', '/plans/p.json', '--detailed-exitcode'], { executor: first, files });
    expect(saved.code).toBe(2);
    expect(ran(first)).toEqual([]);
    expect(saved.stderr).toMatch(/plan saved to \/plans\/p\.json/);
    const second = executor();
    const applied = await dmctl(['apply', '/plans/p.json', '--yes'], { executor: second, files });
    expect(applied.code, applied.stderr).toBe(0);
    expect(ran(second)).toEqual([...mutations.map((m) => m.join(' ')), monitorCheck.join(' ')]);
  });

  it('refuses a stale plan (exit 3) and names what changed', async () => {
    const files = newFiles();
    await dmctl(['init-direct', '/dev/loop0', '--out', '/plans/p.json'], { executor: executor(), files });
    files.files.set('/etc/docker/daemon.json', '{"debug": true}');
    const e = executor();
    const r = await dmctl(['apply', '/plans/p.json', '--yes'], { executor: e, files });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/stale plan: consumer changed since \/plans\/p\.json was made/);
    expect(ran(e)).toEqual([]);
  });

  it('apply FILE --dry-run: the same staleness checks, the plan shown, nothing run (2 with --detailed-exitcode)', async () => {
    const files = newFiles();
    await dmctl(['init-direct', '/dev/loop0', '--out', '/plans/p.json'], { executor: executor(), files });
    const e = executor();
    const current = await dmctl(['apply', '/plans/p.json', '--dry-run', '--detailed-exitcode'], { executor: e, files });
    expect(current.code, current.stderr).toBe(2);
    expect(current.stdout).toMatch(/^dmctl init-direct: docker\/thinpool on \/dev\/loop0/);
    expect(current.stdout).toMatch(/\$ pvcreate .*\/dev\/loop0/);
    expect(ran(e)).toEqual([]);
    expect(files.files.has('/run/.dmctl.lock')).toBe(false);
    // the host changed: refused as a real apply would be
    files.files.set('/etc/docker/daemon.json', '{"debug": true}');
    const stale = await dmctl(['apply', '/plans/p.json', '--dry-run'], { executor: executor(), files });
    expect(stale.code).toBe(3);
    expect(stale.stderr).toMatch(/stale plan: consumer changed since \/plans\/p\.json was made/);
  });

  it('refuses when the host no longer allows the plan at all', async () => {
    const files = newFiles();
    await dmctl(['init-direct', '/dev/loop0', '--out', '/plans/p.json'], { executor: executor(), files });
    const e = executor({ probe: { wipefs: host('wipefs-ext4.txt') } });
    const r = await dmctl(['apply', '/plans/p.json', '--yes'], { executor: e, files });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/stale plan: the host no longer allows \/plans\/p\.json \(.*carries a signature \(ext4\)/);
    expect(ran(e)).toEqual([]);
  });

  it('a step edited and the digest recomputed is refused: a plan file runs only what dmctl plans now', async () => {
    const files = newFiles();
    await dmctl(['init-direct', '/dev/loop0', '--out', '/plans/p.json'], { executor: executor(), files });
    const saved = readPlanFile(files.files.get('/plans/p.json')!, 'p.json');
    const steps = saved.plan.steps.map((s) => (s.id === 'vgcreate' ? { ...s, action: { kind: 'exec' as const, argv: ['touch', '/tmp/pwned'] } } : s));
    // Anyone can recompute an unkeyed digest: the file passes readPlanFile.
    const forged = formatPlanFile(makePlanFile({ ...saved.plan, steps }, saved.request, saved.probed));
    files.files.set('/plans/p.json', forged);
    expect(() => readPlanFile(forged, 'p.json')).not.toThrow();
    const e = executor();
    e.on(['touch', '/tmp/pwned'], {});
    const r = await dmctl(['apply', '/plans/p.json', '--yes'], { executor: e, files });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('dmctl: error: /plans/p.json does not hold what dmctl plans for this host now: step 2 ("Create volume group docker") differs in its action: review a new plan (--dry-run, or --out)\n');
    expect(ran(e)).toEqual([]);
    expect(e.commands).not.toContain('touch /tmp/pwned');
  });

  it('a step added at the end with the digest recomputed is refused too', async () => {
    const files = newFiles();
    await dmctl(['init-direct', '/dev/loop0', '--out', '/plans/p.json'], { executor: executor(), files });
    const saved = readPlanFile(files.files.get('/plans/p.json')!, 'p.json');
    const extra = { ...saved.plan.steps[0]!, id: 'extra', title: 'Extra', action: { kind: 'exec' as const, argv: ['touch', '/tmp/pwned'] } };
    files.files.set('/plans/p.json', formatPlanFile(makePlanFile({ ...saved.plan, steps: [...saved.plan.steps, extra] }, saved.request, saved.probed)));
    const r = await dmctl(['apply', '/plans/p.json', '--yes'], { executor: executor(), files });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^dmctl: error: \/plans\/p\.json does not hold what dmctl plans for this host now: step \d+ \("Extra"\) is not in what dmctl plans now/);
  });

  it('refuses a tampered file before probing anything', async () => {
    const files = newFiles();
    await dmctl(['init-direct', '/dev/loop0', '--out', '/plans/p.json'], { executor: executor(), files });
    files.files.set('/plans/p.json', files.files.get('/plans/p.json')!.replace('95%VG', '99%VG'));
    const e = new FakeExecutor();
    const r = await dmctl(['apply', '/plans/p.json', '--yes'], { executor: e, files });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^dmctl: error: \/plans\/p\.json .*digest/m);
    expect(e.calls).toEqual([]);
  });
});

describe('journal and --resume', () => {
  it('a failed apply leaves a journal; --resume continues from the failed step', async () => {
    const files = newFiles();
    const failing = await dmctl(['init-direct', '/dev/loop0', '--yes'], { executor: executor({ fail: 'lvconvert' }), files });
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/journal: \/var\/lib\/dmctl\/journal\/2026-11-27T12-00-00-000Z-init-direct\.json/);
    expect(failing.stderr).toMatch(/dmctl apply --resume/);
    const journal = JSON.parse(files.files.get('/var/lib/dmctl/journal/2026-11-27T12-00-00-000Z-init-direct.json')!);
    const { JournalSchema } = await import('../../../src/run/journal.js');
    const check = JournalSchema.safeParse(journal);
    expect(check.success, JSON.stringify(check.error?.issues)).toBe(true);
    expect(journal.status).toBe('failed');
    expect(journal.steps.map((s: { status: string }) => s.status).slice(0, 6)).toEqual(['done', 'done', 'done', 'done', 'failed', 'pending']);
    expect(journal.steps[4]).toMatchObject({ exitCode: 5, stderr: '  lvconvert: simulated failure\n' });

    const e = executor();
    const resumed = await dmctl(['apply', '--resume', '--yes'], { executor: e, files });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(e.commands[0]).toBe(mutations[4]!.join(' '));
    const again = await dmctl(['apply', '--resume', '--yes'], { executor: executor(), files });
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/no failed or interrupted apply to resume/);
  });
});

describe('journals fail closed', () => {
  const path = '/var/lib/dmctl/journal/2026-11-27T12-00-00-000Z-init-direct.json';
  async function failedApply() {
    const files = newFiles();
    await dmctl(['init-direct', '/dev/loop0', '--yes'], { executor: executor({ fail: 'lvconvert' }), files });
    return { files, journal: files.files.get(path)! };
  }

  for (const [what, cut, message] of [
    ['empty', () => '', 'is empty, so where the apply stopped is unknown'],
    ['truncated', (j: string) => j.slice(0, j.length / 2), 'is cut short (not complete JSON), so where the apply stopped is unknown'],
    ['not a journal', () => '{"formatVersion":1}\n', 'is not a valid dmctl journal ('],
  ] as const) {
    it(`an ${what} journal: a one-line refusal naming it and the fix, nothing run`, async () => {
      const { files, journal } = await failedApply();
      files.files.set(path, cut(journal));
      const e = executor();
      const r = await dmctl(['apply', '--resume', '--yes'], { executor: e, files });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`dmctl: error: ${path} ${message}`);
      expect(r.stderr).toMatch(/re-run the original dmctl command instead \(it re-plans from the host and does only what is still missing\)/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(e.calls).toEqual([]);
    });
  }

  it('a journal whose step records do not match its plan is refused', async () => {
    const { files, journal } = await failedApply();
    const j = JSON.parse(journal);
    j.steps = j.steps.slice(0, 3);
    files.files.set(path, JSON.stringify(j));
    const r = await dmctl(['apply', '--resume', '--yes'], { executor: executor(), files });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/is not a valid dmctl journal \(its step records do not match its plan\)/);
  });

  it('a journal cut short after every step finished: nothing to resume, exit 0, nothing re-run', async () => {
    const { files, journal } = await failedApply();
    const j = JSON.parse(journal);
    // Killed after its last step was recorded done, before it wrote "done" itself; its process is gone.
    j.status = 'running';
    j.pid = 99999;
    j.steps = j.steps.map((s: { id: string }) => ({ id: s.id, status: 'done' }));
    files.files.set(path, JSON.stringify(j));
    const e = executor();
    const r = await dmctl(['apply', '--resume', '--yes'], { executor: e, files });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`nothing to resume: every step of ${path} finished\n`);
    expect(ran(e)).toEqual([]);
  });
});

describe('the host lock', () => {
  it('refuses at once while another live dmctl holds it, naming it', async () => {
    const files = newFiles();
    files.dirs.set('/proc/777', []);
    files.files.set('/run/dmctl.lock', JSON.stringify({ pid: 777, command: 'dmctl resize-loop', since: '2026-11-27T11:59:00Z' }));
    const e = executor();
    const r = await dmctl(['init-direct', '/dev/loop0', '--yes'], { executor: e, files });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/another dmctl is changing this host: pid 777 \(dmctl resize-loop, since 2026-11-27T11:59:00Z\).*--wait/);
    expect(ran(e)).toEqual([]);
  });

  it('takes over a lock whose process is gone, and releases it after', async () => {
    const files = newFiles();
    files.files.set('/run/dmctl.lock', JSON.stringify({ pid: 99999, command: 'dmctl init-loop', since: 'earlier' }));
    const r = await dmctl(['init-direct', '/dev/loop0', '--yes'], { executor: executor(), files });
    expect(r.code).toBe(0);
    expect(files.files.has('/run/dmctl.lock')).toBe(false);
  });

  it('two concurrent applies: the second refuses while the first runs', async () => {
    const files = newFiles();
    let second: Awaited<ReturnType<typeof dmctl>> | undefined;
    const first = executor({
      onFirstMutation: () => {
        // Another dmctl starts while the first is inside its first step.
        void dmctl(['init-direct', '/dev/loop0', '--yes'], { executor: executor(), files }).then((r) => (second = r));
      },
    });
    const r = await dmctl(['init-direct', '/dev/loop0', '--yes'], { executor: first, files });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.code).toBe(0);
    expect(second?.code).toBe(3);
    expect(second?.stderr).toMatch(/another dmctl is changing this host: pid 4242/);
  });
});

describe('interrupts', () => {
  it('SIGINT during a step: it finishes, nothing after it runs, journal says interrupted, exit 130', async () => {
    const files = newFiles();
    let fire: (() => void) | undefined;
    const e = executor({ onFirstMutation: () => fire?.() });
    const r = await dmctl(['init-direct', '/dev/loop0', '--yes'], { executor: e, files, interrupt: (h) => (fire = h) });
    expect(r.code).toBe(130);
    expect(ran(e)).toEqual(['pvcreate /dev/loop0']);
    const journal = JSON.parse(files.files.get('/var/lib/dmctl/journal/2026-11-27T12-00-00-000Z-init-direct.json')!);
    expect(journal.status).toBe('interrupted');
  });
});

describe('--format shell', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmctl-runbook-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the runbook runs the same commands as apply, and writes the same files', async () => {
    // A fresh host whose profile dir and daemon.json live in a scratch directory.
    const state = freshHost({
      profileDir: `${dir}/profile`,
      consumer: { kind: 'docker', docker: dockerState({ daemonJsonPath: `${dir}/docker/daemon.json`, daemonJson: '{"debug":true}' }) },
    });
    const plan = planInitDirect(state, options());

    const fake = executor();
    const memory = new MemoryFiles({ files: { [`${dir}/docker/daemon.json`]: '{"debug":true}' } });
    expect((await applyPlan(plan, { executor: fake, files: memory, sleep: async () => {} })).status).toBe('done');

    // Stub tools: each records its argv; `lvs` also answers the monitoring check.
    const bin = join(dir, 'bin');
    execFileSync('mkdir', ['-p', bin, join(dir, 'docker')]);
    writeFileSync(join(dir, 'docker', 'daemon.json'), '{"debug":true}');
    const stub = `#!/bin/sh\nnode -e 'require("fs").appendFileSync(process.argv[1], JSON.stringify(process.argv.slice(2))+"\\n")' "${dir}/log" "$(basename "$0")" "$@"\n[ "$(basename "$0")" = lvs ] && echo "  monitored"\nexit 0\n`;
    for (const tool of ['pvcreate', 'vgcreate', 'lvcreate', 'lvconvert', 'lvchange', 'lvs']) {
      writeFileSync(join(bin, tool), stub);
      chmodSync(join(bin, tool), 0o755);
    }
    // The pool record's directory is dmctl's own (/var/lib/dmctl): the runbook writes it under the
    // scratch directory instead, never on the host running the tests.
    const recordDir = join(dir, 'var-lib-dmctl');
    const moved = (path: string) => path.replace(/^\/var\/lib\/dmctl\//, `${recordDir}/`);
    expect(memory.writes.some((w) => w.path !== moved(w.path))).toBe(true);
    writeFileSync(join(dir, 'runbook.sh'), renderPlanShell(plan).replaceAll('/var/lib/dmctl/', `${recordDir}/`));
    execFileSync('bash', [join(dir, 'runbook.sh')], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdio: 'pipe' });

    const logged = readFileSync(join(dir, 'log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
    expect(logged).toEqual(fake.calls);
    for (const w of memory.writes) expect(readFileSync(moved(w.path), 'utf8')).toBe(w.content);
    expect(readFileSync(`${dir}/docker/daemon.json.dmctl.bak`, 'utf8')).toBe('{"debug":true}');
  });

  it('marks destructive steps, quotes every argument, and fails fast', () => {
    const text = renderPlanShell(planInitDirect(freshHost(), options()));
    expect(text).toContain('set -euo pipefail');
    expect(text).toMatch(/# --- step 1\/11 \(pvcreate\): .*\*\*\* DESTRUCTIVE \*\*\*/);
    expect(text).toContain("# why: Writes an LVM label");
  });

  it('printing a runbook never applies (it implies --dry-run)', async () => {
    const e = executor();
    const r = await dmctl(['--format', 'shell', 'init-direct', '/dev/loop0', '--yes'], { executor: e, files: newFiles() });
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('#!/usr/bin/env bash')).toBe(true);
    expect(ran(e)).toEqual([]);
  });
});

describe('apply input', () => {
  it('needs a FILE or --resume, not both', async () => {
    const r = await dmctl(['apply'], { executor: new FakeExecutor(), files: newFiles() });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/give the plan FILE/);
    const both = await dmctl(['apply', '/plans/p.json', '--resume'], { executor: new FakeExecutor(), files: newFiles() });
    expect(both.code).toBe(3);
    expect(both.stderr).toMatch(/--resume continues the last apply: give no FILE/);
    const out = await dmctl(['apply', '/plans/p.json', '--out', '/plans/q.json'], { executor: new FakeExecutor(), files: newFiles() });
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/apply runs a saved plan and saves none: --out belongs to the command that makes the plan/);
    const resumeDry = await dmctl(['apply', '--resume', '--dry-run'], { executor: new FakeExecutor(), files: newFiles() });
    expect(resumeDry.code).toBe(3);
    expect(resumeDry.stderr).toMatch(/--resume has no --dry-run/);
  });
});

describe('a known tool error gets its meaning and fix', () => {
  it('LVM refusing to activate over a transaction id mismatch points to the repair', async () => {
    const { guest } = await import('../../helpers/fixtures.js');
    const { lvsQuery, lvchangeActivateArgv, metadataStartQuery } = await import('../../../src/system/lvm.js');
    const { losetupListQuery } = await import('../../../src/system/losetup.js');
    // The metadata LV could not be located (not linear), so the plan activates and LVM itself refuses.
    const e = new FakeExecutor()
      .on(lvsQuery().argv, { stdout: guest('lvs-pool-inactive.txt') })
      .on(losetupListQuery().argv, { stdout: guest('losetup-empty.txt') })
      .on(metadataStartQuery('docker', 'thinpool').argv, { stdout: guest('tid-mismatch/S-lvs-tmeta-segments.json').replace('"linear"', '"raid1"') })
      .on(lvchangeActivateArgv('docker', 'thinpool', false), { exitCode: 5, stderr: guest('tid-mismatch/B27-lvchange-ay.stderr.txt') });
    const files = new MemoryFiles({ programs: ['lvm', 'losetup', 'dmsetup'], files: { '/proc/devices': 'Block devices:\n  7 loop\n' }, dirs: { '/proc/4242': [] } });
    const r = await dmctl(['reactivate', '--yes'], { executor: e, files });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\| +Thin pool docker-thinpool-tpool \(254:2\) transaction_id is 7, while expected 1\./);
    expect(r.stderr).toMatch(/! LVM's metadata expects transaction id 1, but pool docker-thinpool-tpool holds 7: .*moby#15629.*docs\/troubleshooting.md \("transaction id mismatch"\)/);
  });
});
