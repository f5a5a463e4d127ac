/**
 * The real-kernel guest itself (test/e2e/guest/README.md, "Hosts with AVX-512 or AMX"): guest programs
 * keep their AVX-512 registers across page faults and task switches (xstate-check.c, compiled in the
 * guest), and run with the host's glibc as it is, AVX-512 included (no GLIBC_TUNABLES). On a CPU without
 * AVX-512 the check says so and only the rest is asserted.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from './scenario.js';

const avx512 = /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) && /\bavx512bw\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));

describe('the UML guest keeps a task\'s whole FPU state', () => {
  let s: ScenarioResult & { cleanup(): Promise<void> };
  beforeAll(async () => {
    s = await runScenario(`
rec cc cc -O2 -pthread -o /tmp/xstate-check "$PROJECT_ROOT/test/e2e/guest/xstate-check.c"
rec check /tmp/xstate-check
rec env sh -c 'env | grep ^GLIBC_TUNABLES= || echo none'
rec busybox sh -c 'for i in 1 2 3 4 5 6 7 8; do /bin/busybox md5sum /bin/busybox; done | /bin/busybox uniq -c'
`);
  });
  afterAll(() => s?.cleanup());

  it(avx512 ? 'zmm16-31 and k1-k7 survive 2048 page faults and task switches in four threads' : 'xstate-check says this CPU has no AVX-512', async () => {
    const cc = await s.get('cc');
    expect(cc.rc, cc.err).toBe(0);
    const r = await s.get('check');
    expect(r.out, r.err).toMatch(avx512 ? /^xstate ok: 4 threads x 2048 page faults/ : /^xstate skip/);
    expect(r.rc).toBe(0);
  });

  it('guest programs get no GLIBC_TUNABLES, and static busybox (glibc with AVX-512 memcpy) runs', async () => {
    expect((await s.get('env')).out.trim()).toBe('none');
    const bb = await s.get('busybox');
    expect(bb.rc, bb.err).toBe(0);
    expect(bb.out.trim()).toMatch(/^8 [0-9a-f]{32}  \/bin\/busybox$/);
  });
});
