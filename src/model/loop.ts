/** Views over a LoopPoolState that probes and planners both need. */
import type { LoopDevice } from '../system/losetup.js';
import type { DmThinPoolState, LoopPoolState } from './state.js';

/** Which loop device backs a table's device field (`7:0` or `/dev/loop0`). */
export function loopFor(device: string, loops: readonly LoopDevice[]): LoopDevice | undefined {
  return loops.find((l) => l.majorMinor === device || l.name === device);
}

/** A thin pool whose data and metadata devices are both loop devices. */
export interface LoopPool extends DmThinPoolState {
  data: LoopDevice;
  metadata: LoopDevice;
}

/** The loop-backed thin pools of the host. */
export function loopPools(state: Pick<LoopPoolState, 'thinPools' | 'loops'>): LoopPool[] {
  return state.thinPools.flatMap((p) => {
    const data = loopFor(p.table.dataDevice, state.loops);
    const metadata = loopFor(p.table.metadataDevice, state.loops);
    return data && metadata ? [{ ...p, data, metadata }] : [];
  });
}
