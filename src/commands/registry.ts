/**
 * From a request (command + planner options) to the probed state and the plan: the same path for a
 * fresh run and for `dmctl apply FILE`, which re-probes to tell whether a saved plan is stale.
 */
import type { PlanRequest } from '../plan/file.js';
import type { DmctlError } from '../errors.js';
import type { Plan } from '../plan/types.js';
import { nowOf, sleepOf, type CliContext } from './context.js';

export interface Planned {
  state: unknown;
  plan: Plan;
  /** Raised once the plan is shown (or applied): what the plan could not do (reactivate: a missing pool). */
  incomplete?: DmctlError;
}

export interface ProbeAndPlanOptions {
  /** reactivate: its devices were waited for already (waitForDevices, before the host lock): probe once. */
  waited?: boolean;
}

const reactivateWaitSec = (request: PlanRequest) => (request.command === 'reactivate' ? ((request.options as { waitDevicesSec?: number }).waitDevicesSec ?? 0) : 0);

/**
 * reactivate --wait-devices: wait (bounded) until the pools dmctl expects have their devices. The probe
 * only reads, so this runs before the host lock: a boot that waits for a late disk does not hold off
 * every other dmctl meanwhile. Returns whether it waited (then probeAndPlan probes once more, in the lock).
 */
export async function waitForDevices(request: PlanRequest, ctx: CliContext): Promise<boolean> {
  const waitSec = reactivateWaitSec(request);
  if (waitSec === 0) return false;
  await probeReactivateUntil(ctx, waitSec, waitSec);
  return true;
}

async function probeReactivateUntil(ctx: CliContext, timeoutSec: number, waitSec: number) {
  const [{ probeReactivate }, { probeUntil }, { missingPools }] = await Promise.all([
    import('../probe/loop.js'),
    import('../probe/wait.js'),
    import('../plan/reactivate.js'),
  ]);
  // Disks can appear after the boot unit starts: wait (bounded) for the pools dmctl expects.
  return probeUntil(() => probeReactivate(ctx), missingPools, {
    timeoutSec,
    now: () => nowOf(ctx).getTime(),
    sleep: sleepOf(ctx),
    onWait: (pending) => ctx.io.stderr.write(`waiting up to ${waitSec} s for ${pending.map((m) => m.ref).join(', ')} (its devices have not appeared yet)…\n`),
  });
}

// The options were validated by the command (or come from a digest-checked plan file).
export async function probeAndPlan(request: PlanRequest, ctx: CliContext, how: ProbeAndPlanOptions = {}): Promise<Planned> {
  // `never`: each planner takes its own options type, and these are that command's.
  const options = request.options as never;
  switch (request.command) {
    case 'init-direct': {
      const [{ probeInitDirect }, { planInitDirect }] = await Promise.all([import('../probe/probe.js'), import('../plan/init-direct.js')]);
      const state = await probeInitDirect(ctx, options);
      return { state, plan: planInitDirect(state, options) };
    }
    case 'init-loop': {
      const [{ probeInitLoop }, { planInitLoop }] = await Promise.all([import('../probe/loop.js'), import('../plan/init-loop.js')]);
      const state = await probeInitLoop(ctx, options);
      return { state, plan: planInitLoop(state, options) };
    }
    case 'extend': {
      const [{ probeExtend }, { planExtend }] = await Promise.all([import('../probe/loop.js'), import('../plan/extend.js')]);
      const state = await probeExtend(ctx, options);
      return { state, plan: planExtend(state, options) };
    }
    case 'resize-loop': {
      const [{ probeResizeLoop }, { planResizeLoop }] = await Promise.all([import('../probe/loop.js'), import('../plan/resize-loop.js')]);
      const state = await probeResizeLoop(ctx);
      return { state, plan: planResizeLoop(state, options) };
    }
    case 'reactivate': {
      const { planReactivate, unmetPoolsError } = await import('../plan/reactivate.js');
      const waitSec = reactivateWaitSec(request);
      const state = await probeReactivateUntil(ctx, how.waited ? 0 : waitSec, waitSec);
      const incomplete = unmetPoolsError(state, waitSec);
      return { state, plan: planReactivate(state, options), ...(incomplete ? { incomplete } : {}) };
    }
  }
}
