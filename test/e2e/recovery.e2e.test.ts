/**
 * Failure and recovery on a real kernel: a step that fails half-way, then `dmctl apply --resume`;
 * a saved plan applied as reviewed, and refused once the host changed; a failed `dmsetup resume`
 * during resize-loop never leaves the pool suspended.
 *
 * Failures are injected with a shim earlier on PATH that fails the first call of one tool and then
 * hands every call to the real one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from './scenario.js';

/** A shim that fails the first call of TOOL whose arguments contain WHEN, then passes through. */
const failOnce = (tool: string, path: string, when: string) => `
rm -f /run/shim/*; mkdir -p /run/shim
printf '%s\\n' '#!/bin/sh' \\
  'if [ ! -e /run/shim/done ] && echo " $* " | grep -q -- "${when}"; then touch /run/shim/done; echo "${tool}: injected failure" >&2; exit 5; fi' \\
  'exec ${path} "$@"' > /run/shim/${tool}
chmod +x /run/shim/${tool}
`;


describe('init-direct: a failure half-way, then apply --resume', () => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    s = await runScenario(
      `
${failOnce('lvconvert', '/usr/sbin/lvconvert', 'thinpool')}
rec fail env PATH=/run/shim:$PATH node "$PROJECT_ROOT/bin/dmctl.js" init-direct /dev/ubda --consumer none --yes
rec journal sh -c 'cat /var/lib/dmctl/journal/*.json'
rec resume dmctl apply --resume --yes
rec lvs lvs --noheadings -o lv_attr,seg_monitor,lv_profile docker/thinpool
rec rerun dmctl init-direct /dev/ubda --consumer none --yes
rec lock-gone sh -c 'test ! -e /run/dmctl.lock && echo free'
`,
      { disks: ['1G'] },
    );
  });
  afterAll(async () => s?.cleanup());

  it('stops at the failed step with its command and output, and records it', async () => {
    const fail = await s.get('fail');
    expect(fail.rc, s.transcript).toBe(1);
    expect(fail.err).toMatch(/step "Convert them into the thin pool docker\/thinpool \(chunk 512K\)" failed: lvconvert: injected failure/);
    expect(fail.err).toMatch(/done \(4\): pvcreate, vgcreate, lvcreate-data, lvcreate-metadata/);
    const journal = JSON.parse((await s.get('journal')).out);
    expect(journal.status).toBe('failed');
  });

  it('--resume continues from the failed step and ends where an uninterrupted run ends', async () => {
    const resume = await s.get('resume');
    expect(resume.rc, `${resume.out}\n${resume.err}`).toBe(0);
    expect(resume.err).toMatch(/continuing from "Convert them into the thin pool/);
    expect((await s.get('lvs')).out.trim()).toMatch(/^twi-a-t---\s+monitored\s+docker-thinpool$/);
    expect((await s.get('rerun')).out).toContain('nothing to do');
    expect((await s.get('lock-gone')).out.trim()).toBe('free');
  });
});

describe('a saved plan: applied as reviewed, refused when stale', () => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    s = await runScenario(
      `
rec save dmctl init-direct /dev/ubda --consumer none --out /run/p1.plan
rec save2 dmctl init-direct /dev/ubdb --vg other --consumer none --out /run/p2.plan
rec runbook dmctl --format shell init-direct /dev/ubdb --vg other --consumer none
rec apply dmctl apply /run/p1.plan --yes
rec pool lvs --noheadings -o segtype docker/thinpool
mkfs.ext4 -q /dev/ubdb
rec stale dmctl apply /run/p2.plan --yes
rec intact wipefs --no-act --json /dev/ubdb
`,
      { disks: ['1G', '512M'] },
    );
  });
  afterAll(async () => s?.cleanup());

  it('--out saves without changing anything; apply FILE builds the pool', async () => {
    expect((await s.get('save')).rc).toBe(0);
    const apply = await s.get('apply');
    expect(apply.rc, `${apply.out}\n${apply.err}`).toBe(0);
    expect((await s.get('pool')).out.trim()).toBe('thin-pool');
  });

  it('a plan whose disk changed meanwhile is refused as stale, and the disk is untouched', async () => {
    const stale = await s.get('stale');
    expect(stale.rc).toBe(3);
    expect(stale.err).toMatch(/stale plan: the host no longer allows \/run\/p2\.plan .*signature \(ext4\)/);
    expect(JSON.parse((await s.get('intact')).out).signatures.map((x: { type: string }) => x.type)).toEqual(['ext4']);
  });

  it('--format shell prints a runbook and changes nothing', async () => {
    const runbook = await s.get('runbook');
    expect(runbook.rc).toBe(0);
    expect(runbook.out).toMatch(/^#!\/usr\/bin\/env bash\n/);
    expect(runbook.out).toContain("pvcreate /dev/ubdb");
  });
});

describe('extend: a failure after vgextend, then the same command again', () => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    s = await runScenario(
      `
dmctl init-direct /dev/ubda --consumer none --yes >/dev/null 2>&1 || echo "init-direct failed"
rec before lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool
${failOnce('lvextend', '/usr/sbin/lvextend', 'thinpool')}
rec fail env PATH=/run/shim:$PATH node "$PROJECT_ROOT/bin/dmctl.js" extend /dev/ubdb --yes
rec half pvs --noheadings --units b --nosuffix -o pv_name,vg_name,pv_size,pv_free /dev/ubdb
rec rerun dmctl extend /dev/ubdb --yes
rec after lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool
rec again dmctl extend /dev/ubdb --yes
`,
      { disks: ['1G', '512M'] },
    );
  });
  afterAll(async () => s?.cleanup());

  it('the failed lvextend leaves the disk in the VG and unused', async () => {
    const fail = await s.get('fail');
    expect(fail.rc, s.transcript).toBe(1);
    expect(fail.err).toMatch(/lvextend: injected failure/);
    const [name, vg, size, free] = (await s.get('half')).out.trim().split(/\s+/);
    expect([name, vg]).toEqual(['/dev/ubdb', 'docker']);
    expect(free).toBe(size);
  });

  it('running extend again grows the pool into that disk, and a third run has nothing to do', async () => {
    const rerun = await s.get('rerun');
    expect(rerun.rc, `${rerun.out}\n${rerun.err}`).toBe(0);
    expect(rerun.out).toContain('already in VG docker but unused');
    expect(rerun.out).not.toContain('$ vgextend');
    expect(rerun.out).toContain('$ lvextend -l +');
    const before = Number((await s.get('before')).out.trim());
    const after = Number((await s.get('after')).out.trim());
    // 512 MiB less the 1 MiB PV offset is 127 extents of 4 MiB; the VG's own free room adds more.
    expect(after - before).toBeGreaterThanOrEqual(120 * 4 * 1024 ** 2);
    const again = await s.get('again');
    expect(again.rc).toBe(0);
    expect(again.out).toContain('nothing to do');
  });
});

describe('resize-loop: a failed resume is undone, the pool is never left suspended', () => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    s = await runScenario(
      `
dmctl init-loop --data-size 1G --metadata-size 64M --consumer none --yes >/dev/null 2>&1 || echo "init-loop failed"
${failOnce('dmsetup', '/usr/sbin/dmsetup', ' resume ')}
rec fail env PATH=/run/shim:$PATH node "$PROJECT_ROOT/bin/dmctl.js" resize-loop +1G --yes
rec attr dmsetup info -c --noheadings -o attr dmctl-pool
rec table dmsetup table dmctl-pool
rec again dmctl resize-loop +0.5G --yes
rec table2 dmsetup table dmctl-pool
`,
      {},
    );
  });
  afterAll(async () => s?.cleanup());

  it('the failed resume runs the recovery: old table back, resumed', async () => {
    const fail = await s.get('fail');
    expect(fail.rc, s.transcript).toBe(1);
    expect(fail.err).toMatch(/recovery: ran `dmsetup reload dmctl-pool --table '0 2097152 thin-pool/);
    expect((await s.get('attr')).out.trim()).not.toContain('s');
    expect((await s.get('table')).out).toMatch(/^0 2097152 thin-pool /);
  });

  it('running it again grows from what the kernel uses, not from the file that already grew', async () => {
    const again = await s.get('again');
    expect(again.rc, `${again.out}\n${again.err}`).toBe(0);
    // The file already grew to 2 GiB, the table is still 1 GiB: +0.5G makes 1.5 GiB, with no truncate.
    expect(again.out).not.toContain('$ truncate');
    expect((await s.get('table2')).out).toMatch(/^0 3145728 thin-pool /);
  });
});


describe('init-direct: a failure injected at each step, then --resume, ends as an uninterrupted run', () => {
  // Each exec step of the plan, by the tool and arguments that identify it.
  const points: Array<[string, string, string]> = [
    ['pvcreate', '/usr/sbin/pvcreate', 'ubda'],
    ['vgcreate', '/usr/sbin/vgcreate', 'docker'],
    ['lvcreate', '/usr/sbin/lvcreate', ' thinpool '],
    ['lvcreate', '/usr/sbin/lvcreate', 'thinpoolmeta'],
    ['lvconvert', '/usr/sbin/lvconvert', 'thinpool'],
    ['lvchange', '/usr/sbin/lvchange', 'metadataprofile'],
    ['lvchange', '/usr/sbin/lvchange', 'monitor'],
  ];
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    const state = 'lvs --noheadings -o lv_name,lv_attr,segtype,chunk_size,seg_monitor,lv_profile docker; cat /etc/lvm/profile/docker-thinpool.profile';
    const reset = 'vgremove -f docker >/dev/null 2>&1; pvremove -ff -y /dev/ubda >/dev/null 2>&1; rm -rf /var/lib/dmctl/journal /etc/lvm/profile/docker-thinpool.profile';
    s = await runScenario(
      `
dmctl init-direct /dev/ubda --consumer none --yes >/dev/null 2>&1
rec baseline sh -c '${state}'
${points
  .map(
    ([tool, path, when], i) => `
${reset}
${failOnce(tool, path, when)}
rec fail-${i} env PATH=/run/shim:$PATH node "$PROJECT_ROOT/bin/dmctl.js" init-direct /dev/ubda --consumer none --yes
rec resume-${i} dmctl apply --resume --yes
rec state-${i} sh -c '${state}'`,
  )
  .join('\n')}
`,
      { disks: ['1G'], timeoutSec: 500 },
    );
  });
  afterAll(async () => s?.cleanup());

  for (const [i, [tool, , when]] of points.entries()) {
    it(`${tool} (${when.trim()}) fails, --resume finishes, the host is as after a clean run`, async () => {
      const fail = await s.get(`fail-${i}`);
      expect(fail.rc, `${fail.out}\n${fail.err}`).toBe(1);
      expect(fail.err).toContain(`${tool}: injected failure`);
      const resume = await s.get(`resume-${i}`);
      expect(resume.rc, `${resume.out}\n${resume.err}`).toBe(0);
      expect((await s.get(`state-${i}`)).out).toBe((await s.get('baseline')).out);
    });
  }
});

describe('resize-loop: a failure injected at each step, then --resume, ends as an uninterrupted run', () => {
  const points: Array<[string, string, string]> = [
    ['truncate', '/usr/bin/truncate', 'data'],
    ['losetup', '/usr/sbin/losetup', '-c'],
    ['dmsetup', '/usr/sbin/dmsetup', ' reload '],
    ['dmsetup', '/usr/sbin/dmsetup', ' resume '],
  ];
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    s = await runScenario(
      `
dmctl init-loop --data-size 1G --metadata-size 64M --consumer none --yes >/dev/null 2>&1
${points
  .map(
    ([tool, path, when], i) => `
${failOnce(tool, path, when)}
rec fail-${i} env PATH=/run/shim:$PATH node "$PROJECT_ROOT/bin/dmctl.js" resize-loop +256M --yes
rec resume-${i} dmctl apply --resume --yes
rec table-${i} dmsetup table dmctl-pool
rec attr-${i} dmsetup info -c --noheadings -o attr dmctl-pool
rec file-${i} stat -c %s /var/lib/dmctl/loop/dmctl-pool/data`,
  )
  .join('\n')}
`,
      { timeoutSec: 300 },
    );
  });
  afterAll(async () => s?.cleanup());

  for (const [i, [tool, , when]] of points.entries()) {
    it(`${tool} (${when.trim()}) fails, --resume finishes: one 256 MiB step, pool live`, async () => {
      const fail = await s.get(`fail-${i}`);
      expect(fail.rc, `${fail.out}\n${fail.err}`).toBe(1);
      const resume = await s.get(`resume-${i}`);
      expect(resume.rc, `${resume.out}\n${resume.err}`).toBe(0);
      const bytes = (1024 + 256 * (i + 1)) * 1024 ** 2;
      expect((await s.get(`table-${i}`)).out).toMatch(new RegExp(`^0 ${bytes / 512} thin-pool `));
      expect((await s.get(`file-${i}`)).out.trim()).toBe(String(bytes));
      expect((await s.get(`attr-${i}`)).out.trim()).not.toContain('s');
    });
  }
});
