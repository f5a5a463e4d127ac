/**
 * dmctl never hangs, on a real kernel: a PV on a suspended dm device (every read of it blocks, the
 * way a dead multipath path or a forgotten `dmsetup suspend` leaves a host), then signals during a
 * slow apply step and during `status --watch` over the hung device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from './scenario.js';

/** `timed NAME CMD…`: rec, and the elapsed milliseconds in $OUT/NAME.ms; `leftovers`: lvm tools and dmctl processes. */
const helpers = `
timed() {
  local name=$1; shift
  local t0; t0=$(date +%s%N)
  rec "$name" "$@"
  echo $(( ($(date +%s%N) - t0) / 1000000 )) > "$OUT/$name.ms"
}
cat > /run/leftovers <<'X'
#!/bin/sh
ps -eo pid,ppid,stat,args | awk 'NR > 1 && ($4 ~ /(^|\\/)(lvs|lvm|vgs|pvs|lvmconfig)$/ || /bin\\/dmctl\\.js/) && !/awk/'
X
chmod +x /run/leftovers
`;

type Scenario = ScenarioResult & { cleanup(): Promise<void> };
const ms = async (s: Scenario, name: string) => Number(await s.read(`${name}.ms`));

describe('a PV on a suspended dm device', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await runScenario(
      `
${helpers}
# A linear map over the scratch disk at a 1 MiB offset (the raw disk shows no duplicate label), a VG on it.
size=$(blockdev --getsz /dev/ubda)
dmsetup create hungpv --table "0 $(( size - 2048 )) linear /dev/ubda 2048"
pvcreate -q /dev/mapper/hungpv && vgcreate -q hung /dev/mapper/hungpv && lvcreate -q -n lv -L 64M hung
rec before dmctl status --check -t 5
dmsetup suspend hungpv
rec info dmsetup info -c -o name,attr --noheadings
timed check dmctl status --check -t 3
timed status dmctl status --timeout 3
timed plan dmctl init-direct /dev/ubdb --dry-run --timeout 3
rec during /run/leftovers
# A watch over the hung device ends on the first Ctrl-C.
node "$PROJECT_ROOT/bin/dmctl.js" status --watch 1 --timeout 30 >"$OUT/watch.out" 2>"$OUT/watch.err" &
w=$!
sleep 4
t0=$(date +%s%N); kill -INT $w; wait $w; echo $? > "$OUT/watch.rc"
echo $(( ($(date +%s%N) - t0) / 1000000 )) > "$OUT/watch.ms"
rec during-watch /run/leftovers
dmsetup resume hungpv
sleep 3
rec after /run/leftovers
rec check-after dmctl status --check -t 10
`,
      { disks: ['1G', '1G'], timeoutSec: 400 },
    );
  });
  afterAll(async () => s?.cleanup());

  it('before the suspend, status answers (no pool: UNKNOWN says so, not a timeout)', async () => {
    expect((await s.get('before')).out, s.transcript).toMatch(/^DMCTL UNKNOWN - no thin pools/);
    expect((await s.get('info')).out).toMatch(/hungpv[:\s]+L-s/);
  });

  it('status --check -t 3: one UNKNOWN line naming the command and the suspended-device check, exit 3, in time', async () => {
    const check = await s.get('check');
    expect(check.rc, s.transcript).toBe(3);
    expect(check.out).toMatch(/^DMCTL UNKNOWN - \S+ did not answer within 3 s.*`dmsetup info -c` shows suspended devices/);
    expect(check.out.split('\n')).toHaveLength(2);
    expect(await ms(s, 'check')).toBeLessThan(3000 + 1000 + 3000);
  });

  it('plain status and planning refuse in time with exit 3, naming the command', async () => {
    const status = await s.get('status');
    expect(status.rc, s.transcript).toBe(3);
    expect(status.err).toMatch(/^dmctl: error: \S+ did not answer within 3 s/);
    expect(await ms(s, 'status')).toBeLessThan(7000);
    const plan = await s.get('plan');
    expect(plan.rc, s.transcript).toBe(3);
    expect(plan.err).toMatch(/^dmctl: error: \S+( \S+)? did not answer within 3 s/);
    expect(await ms(s, 'plan')).toBeLessThan(7000);
  });

  it('status --watch over the hung device ends on the first Ctrl-C, promptly', async () => {
    expect(Number(await s.read('watch.rc')), `${await s.read('watch.err')}\n${s.transcript}`).toBe(0);
    expect(await ms(s, 'watch')).toBeLessThan(2500);
  });

  it('no dmctl is left while the device hangs; after `dmsetup resume` no lvm tool is either', async () => {
    expect((await s.get('during')).out, s.transcript).not.toMatch(/dmctl\.js/);
    expect((await s.get('during-watch')).out, s.transcript).not.toMatch(/dmctl\.js/);
    expect((await s.get('after')).out, s.transcript).toBe('');
  });

  it('after `dmsetup resume` it answers again', async () => {
    expect((await s.get('check-after')).out, s.transcript).toMatch(/^DMCTL UNKNOWN - no thin pools/);
  });
});

describe('signals during a slow apply step, on the real binary', () => {
  let s: Scenario;
  beforeAll(async () => {
    const t0 = Date.now();
    s = await runScenario(
      `
# vgcreate takes a while (a PATH shim that says it started, sleeps, then runs the real tool).
real=$(command -v vgcreate)
mkdir -p /run/shim
printf '#!/bin/sh\\ntouch /run/in-vgcreate\\nsleep \${SHIM_SLEEP:-4}\\nexec %s "$@"\\n' "$real" >/run/shim/vgcreate
chmod +x /run/shim/vgcreate
wait_started() { for i in $(seq 1 300); do [ -e /run/in-vgcreate ] && return 0; sleep 0.1; done; return 1; }
# $1 = name, $2 = disk, $3 = signal, $4 = how many times, $5 = the shim's sleep
signalled() {
  rm -f /run/in-vgcreate
  env PATH=/run/shim:$PATH SHIM_SLEEP=$5 node "$PROJECT_ROOT/bin/dmctl.js" init-direct "$2" --vg "vg$1" --consumer none --yes >"$OUT/$1.out" 2>"$OUT/$1.err" &
  local pid=$!
  wait_started || echo "vgcreate never started" >>"$OUT/$1.err"
  sleep 0.5
  local t0; t0=$(date +%s%N)
  kill -"$3" $pid
  if [ "$4" = 2 ]; then sleep 0.5; kill -"$3" $pid; fi
  wait $pid; echo $? >"$OUT/$1.rc"
  echo $(( ($(date +%s%N) - t0) / 1000000 )) >"$OUT/$1.ms"
  rec "$1-vgs" vgs --noheadings -o vg_name "vg$1"
  rec "$1-resume" dmctl apply --resume --yes
  rec "$1-lvs" lvs --noheadings -o lv_name,segtype "vg$1"
}
signalled term /dev/ubda TERM 1 4
signalled hup /dev/ubdb HUP 2 20
rec left ps -eo pid,args
`,
      { disks: ['1G', '1G'], timeoutSec: 400 },
    );
    console.log(`apply-signals scenario: ${((Date.now() - t0) / 1000).toFixed(1)} s (guest boot to poweroff)`);
  });
  afterAll(async () => s?.cleanup());

  it('SIGTERM: the running vgcreate finishes, nothing after it runs, exit 130 with the resume hint; --resume finishes', async () => {
    const err = await s.read('term.err');
    expect(Number(await s.read('term.rc')), `${err}\n${s.transcript}`).toBe(130);
    expect(err).toMatch(/SIGTERM: finishing the current step/);
    expect(err).toMatch(/dmctl apply --resume/);
    expect((await s.get('term-vgs')).out.trim()).toBe('vgterm');
    const resume = await s.get('term-resume');
    expect(resume.rc, resume.err).toBe(0);
    expect(resume.err).toMatch(/resuming .*continuing from/);
    expect((await s.get('term-lvs')).out).toMatch(/thin-pool/);
  });

  it('SIGHUP twice: the second aborts the running step at once (outcome unknown); --resume probes again and finishes', async () => {
    const err = await s.read('hup.err');
    expect(Number(await s.read('hup.rc')), `${err}\n${s.transcript}`).toBe(130);
    expect(err).toMatch(/second SIGHUP: aborting now, killing step .*vgcreate.*its outcome is unknown/);
    expect(err).toMatch(/dmctl apply --resume/);
    // The shim slept 20 s: dmctl did not wait for it.
    expect(await ms(s, 'hup')).toBeLessThan(5000);
    expect((await s.get('hup-vgs')).rc).not.toBe(0);
    const resume = await s.get('hup-resume');
    expect(resume.rc, resume.err).toBe(0);
    expect(resume.err).toMatch(/probing the host again/);
    expect((await s.get('hup-lvs')).out).toMatch(/thin-pool/);
    expect((await s.get('left')).out).not.toMatch(/vgcreate|sleep 20|dmctl\.js/);
  });
});
