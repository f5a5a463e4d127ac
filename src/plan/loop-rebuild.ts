/**
 * Bringing a recorded loop pool back (after a reboot, or a run that stopped after its record): attach
 * its files (reusing a loop device that still has one), then `dmsetup create` with the recorded table
 * at the data file's current length. Shared by `reactivate` and `init-loop`.
 */
import { dmsetupCreateArgv, dmsetupStatusArgv, formatThinPoolTable, sectorBytes } from '../system/dmsetup.js';
import { losetupAttachToArgv, losetupDetachArgv, type LoopDevice } from '../system/losetup.js';
import type { PoolRecord } from '../system/pool-record.js';
import { poolRecordPath } from '../model/names.js';
import { checkStep, execStep, withRecovery } from './steps.js';
import type { Step } from './types.js';

/** Why a recorded pool cannot be rebuilt (a file is gone), if it cannot. */
export function rebuildProblem(record: PoolRecord, fileBytes: Record<string, number | undefined>): string | undefined {
  const gone = [record.dataFile, record.metadataFile].find((f) => fileBytes[f] === undefined);
  if (gone === undefined) return undefined;
  return `loop pool ${record.name}: ${gone} is gone, so the pool cannot be rebuilt: restore the file, or remove ${poolRecordPath(record.name)} to forget the pool`;
}

/** How many new loop devices rebuilding the record takes (its files not attached yet). */
export function loopDevicesNeeded(record: PoolRecord, loops: readonly LoopDevice[]): number {
  return [record.dataFile, record.metadataFile].filter((f) => !loops.some((l) => l.backingFile === f)).length;
}

/**
 * The steps that rebuild a pool whose files exist (see rebuildProblem): attach, create, verify.
 * `free` is consumed for the loop devices it takes.
 */
export function rebuildSteps(record: PoolRecord, loops: readonly LoopDevice[], fileBytes: Record<string, number | undefined>, free: string[]): Step[] {
  const steps: Step[] = [];
  const attached: string[] = [];
  const detach = () => (attached.length > 0 ? [losetupDetachArgv(attached)] : []);
  const deviceFor = (file: string, role: string): string => {
    const existing = loops.find((l) => l.backingFile === file);
    if (existing) return existing.name;
    const device = free.shift()!;
    steps.push(withRecovery(execStep(`attach-${role}-${record.name}`, `Attach ${file} to ${device}`, losetupAttachToArgv(device, file), `The ${role} file of loop pool ${record.name}.`), detach()));
    attached.push(device);
    return device;
  };
  const dataDevice = deviceFor(record.dataFile, 'data');
  const metadataDevice = deviceFor(record.metadataFile, 'metadata');
  const blockBytes = record.blockSectors * sectorBytes;
  const table = formatThinPoolTable({
    lengthSectors: (Math.floor(fileBytes[record.dataFile]! / blockBytes) * blockBytes) / sectorBytes,
    metadataDevice,
    dataDevice,
    blockSectors: record.blockSectors,
    lowWaterMarkBlocks: record.lowWaterMarkBlocks,
    features: record.features,
  });
  steps.push(
    withRecovery(execStep(`create-${record.name}`, `Recreate the thin pool ${record.name}`, dmsetupCreateArgv(record.name, table),
      'The same table as before (the data file\'s current length); the metadata on the file brings back every thin device.'), detach()),
    checkStep(`verify-${record.name}`, `Verify ${record.name} is an active thin pool`, dmsetupStatusArgv(record.name), { includes: ' thin-pool ' }, 'The kernel must accept the metadata.'),
  );
  return steps;
}
