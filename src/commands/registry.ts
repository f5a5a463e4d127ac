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

// The options were validated by the command (or come from a digest-checked plan file).
export async function probeAndPlan(request: PlanRequest, ctx: CliContext): Promise<Planned> {
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
      const [{ probeReactivate }, { probeUntil }, { planReactivate, missingPools, unmetPoolsError }] = await Promise.all([
        import('../probe/loop.js'),
        import('../probe/wait.js'),
        import('../plan/reactivate.js'),
      ]);
      const waitSec = (request.options as { waitDevicesSec?: number }).waitDevicesSec ?? 0;
      // Disks can appear after the boot unit starts: wait (bounded) for the pools dmctl expects.
      const state = await probeUntil(() => probeReactivate(ctx), missingPools, {
        timeoutSec: waitSec,
        now: () => nowOf(ctx).getTime(),
        sleep: sleepOf(ctx),
        onWait: (pending) => ctx.io.stderr.write(`waiting up to ${waitSec} s for ${pending.map((m) => m.ref).join(', ')} (its devices have not appeared yet)…\n`),
      });
      const incomplete = unmetPoolsError(state, waitSec);
      return { state, plan: planReactivate(state, options), ...(incomplete ? { incomplete } : {}) };
    }
  }
}
