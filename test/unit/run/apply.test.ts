import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../../src/run/apply.js';
import { checkStep, execStep, moveStep, writeFileStep } from '../../../src/plan/steps.js';
import type { Plan, Step } from '../../../src/plan/types.js';
import { FakeExecutor } from '../../helpers/fake-executor.js';
import { MemoryFiles } from '../../helpers/memory-files.js';

const plan = (...steps: Step[]): Plan => ({ formatVersion: 1, command: 'test', target: 't', basis: 'sha256:0', steps, notes: [] });
const noSleep = async () => {};

describe('applyPlan', () => {
  it('runs every step in order and writes files atomically with a backup', async () => {
    const executor = new FakeExecutor().on(['pvcreate', '/dev/x'], {}).on(['vgcreate', 'docker', '/dev/x'], {});
    const files = new MemoryFiles({ files: { '/etc/docker/daemon.json': '{"debug":true}' }, dirs: { '/var/lib/docker': ['image'] } });
    const result = await applyPlan(
      plan(
        execStep('pvcreate', 'pv', ['pvcreate', '/dev/x'], 'r', true),
        execStep('vgcreate', 'vg', ['vgcreate', 'docker', '/dev/x'], 'r'),
        moveStep('move', 'm', '/var/lib/docker', '/var/lib/docker.bk', 'r'),
        writeFileStep('write', 'w', { path: '/etc/docker/daemon.json', content: '{}\n', backupTo: '/etc/docker/daemon.json.dmctl.bak' }, 'r'),
      ),
      { executor, files },
    );
    expect(result.status).toBe('done');
    expect(executor.commands).toEqual(['pvcreate /dev/x', 'vgcreate docker /dev/x']);
    expect(files.log).toEqual([
      'rename /var/lib/docker /var/lib/docker.bk',
      'copy /etc/docker/daemon.json /etc/docker/daemon.json.dmctl.bak',
      'write /etc/docker/daemon.json',
    ]);
    expect(files.files.get('/etc/docker/daemon.json.dmctl.bak')).toBe('{"debug":true}');
  });

  it('stops at the first failure and reports argv, status, stderr and what remains', async () => {
    const executor = new FakeExecutor()
      .on(['pvcreate', '/dev/x'], {})
      .on(['vgcreate', 'docker', '/dev/x'], { exitCode: 5, stderr: '  Device /dev/x excluded by a filter.\n' });
    const result = await applyPlan(
      plan(
        execStep('pvcreate', 'pv', ['pvcreate', '/dev/x'], 'r'),
        execStep('vgcreate', 'vg', ['vgcreate', 'docker', '/dev/x'], 'r'),
        execStep('lvcreate', 'lv', ['lvcreate', 'never'], 'r'),
      ),
      { executor, files: new MemoryFiles() },
    );
    expect(result.status).toBe('failed');
    expect(result.done.map((s) => s.id)).toEqual(['pvcreate']);
    expect(result.failure).toMatchObject({ argv: ['vgcreate', 'docker', '/dev/x'], exitCode: 5, message: 'Device /dev/x excluded by a filter.' });
    expect(result.remaining.map((s) => s.id)).toEqual(['lvcreate']);
    expect(executor.commands).not.toContain('lvcreate never');
  });

  it('a check retries until the expected output appears', async () => {
    const executor = new FakeExecutor().on(['lvs', '--noheadings', '-o', 'segtype', 'docker/thinpool'], (n) =>
      n < 3 ? { exitCode: 5, stderr: 'Failed to find logical volume "docker/thinpool"' } : { stdout: '  thin-pool\n' },
    );
    const result = await applyPlan(
      plan(checkStep('wait', 'w', ['lvs', '--noheadings', '-o', 'segtype', 'docker/thinpool'], { equals: 'thin-pool' }, 'r', 10)),
      { executor, files: new MemoryFiles(), sleep: noSleep },
    );
    expect(result.status).toBe('done');
    expect(executor.calls).toHaveLength(3);
  });

  it('a check fails with what it expected and what it got', async () => {
    const executor = new FakeExecutor().on(['lvs', '--noheadings', '-o', 'seg_monitor', 'docker/thinpool'], { stdout: '  not monitored\n' });
    const result = await applyPlan(
      plan(checkStep('verify', 'v', ['lvs', '--noheadings', '-o', 'seg_monitor', 'docker/thinpool'], { equals: 'monitored' }, 'r')),
      { executor, files: new MemoryFiles(), sleep: noSleep },
    );
    expect(result.status).toBe('failed');
    expect(result.failure!.message).toBe('expected "monitored", got "not monitored"');
  });

  it('an interrupt stops between steps, never inside one', async () => {
    let interrupted = false;
    const executor = new FakeExecutor().on(['first'], () => {
      interrupted = true;
      return {};
    });
    const result = await applyPlan(plan(execStep('a', 'a', ['first'], 'r'), execStep('b', 'b', ['second'], 'r')), {
      executor,
      files: new MemoryFiles(),
      interrupted: () => interrupted,
    });
    expect(result.status).toBe('interrupted');
    expect(result.done.map((s) => s.id)).toEqual(['a']);
    expect(result.remaining.map((s) => s.id)).toEqual(['b']);
  });
});
