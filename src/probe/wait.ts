/**
 * Re-probe until nothing is missing or the time is up (reactivate --wait-devices): disks can appear
 * after the boot unit starts. The probe only reads; the caller's pure function says what is missing.
 * The first re-probe comes after 250 ms, each next one twice as late, at most 5 s apart, never past
 * the deadline. The last state is returned either way: the planner decides what to say.
 */
export interface WaitOptions<M> {
  timeoutSec: number;
  /** Milliseconds since some epoch. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Called once, when the first probe finds something missing and there is time to wait. */
  onWait?: (missing: readonly M[]) => void;
}

export const firstRetryMs = 250;
export const maxRetryMs = 5000;

export async function probeUntil<S, M>(probe: () => Promise<S>, missing: (state: S) => readonly M[], options: WaitOptions<M>): Promise<S> {
  const deadline = options.now() + options.timeoutSec * 1000;
  let state = await probe();
  let delay = firstRetryMs;
  let told = false;
  for (;;) {
    const pending = missing(state);
    const left = deadline - options.now();
    if (pending.length === 0 || left <= 0) return state;
    if (!told) {
      options.onWait?.(pending);
      told = true;
    }
    await options.sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, maxRetryMs);
    state = await probe();
  }
}
