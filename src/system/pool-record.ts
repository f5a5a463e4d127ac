/**
 * dmctl's record of a loop pool it built: its files and table parameters, so that `resize-loop` and
 * `reactivate` can find and rebuild the pool after a reboot (loop devices and dm tables do not survive
 * one). Where records live is model/names.ts (poolRecordDir).
 */
import * as z from 'zod/mini';
import '../zod-locale.js';

export const PoolRecordSchema = z.object({
  formatVersion: z.literal(1),
  kind: z.literal('loop'),
  /** The dm device name. */
  name: z.string().check(z.minLength(1)),
  dataFile: z.string().check(z.startsWith('/')),
  metadataFile: z.string().check(z.startsWith('/')),
  /** Thin-pool block size in 512-byte sectors. */
  blockSectors: z.number().check(z.int(), z.positive()),
  lowWaterMarkBlocks: z.number().check(z.int(), z.nonnegative()),
  features: z.array(z.string()),
});
export type PoolRecord = z.infer<typeof PoolRecordSchema>;

export function formatPoolRecord(record: PoolRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

export function parsePoolRecord(text: string): PoolRecord {
  return PoolRecordSchema.parse(JSON.parse(text));
}
