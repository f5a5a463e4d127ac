/**
 * dmctl's record of a pool it built. A loop pool's record holds its files and table parameters, so that
 * `resize-loop` and `reactivate` can find and rebuild the pool after a reboot (loop devices and dm
 * tables do not survive one). An LVM pool's record (init-direct) names the VG/LV and the disks it was
 * made on, so that `reactivate` knows to expect it at boot even before its PVs have appeared. Where
 * records live is model/names.ts (poolRecordDir).
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

export const LvmPoolRecordSchema = z.object({
  formatVersion: z.literal(1),
  kind: z.literal('lvm'),
  /** The dm device name (VG-LV, dashes doubled as LVM does). */
  name: z.string().check(z.minLength(1)),
  vg: z.string().check(z.minLength(1)),
  lv: z.string().check(z.minLength(1)),
  /** The disks init-direct made the VG on (a hint for the operator: names can change across reboots). */
  pvs: z.array(z.string()),
});
export type LvmPoolRecord = z.infer<typeof LvmPoolRecordSchema>;
export type AnyPoolRecord = PoolRecord | LvmPoolRecord;

export function formatPoolRecord(record: AnyPoolRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

export function parsePoolRecord(text: string): PoolRecord {
  return PoolRecordSchema.parse(JSON.parse(text));
}

/** A loop pool's or an LVM pool's record (reactivate reads both). */
export function parseAnyPoolRecord(text: string): AnyPoolRecord {
  const value: unknown = JSON.parse(text);
  const kind = (value as { kind?: unknown } | null)?.kind;
  return kind === 'lvm' ? LvmPoolRecordSchema.parse(value) : PoolRecordSchema.parse(value);
}

/** parseAnyPoolRecord, or undefined for a file that is not a valid record (callers that only look). */
export function tryParseAnyPoolRecord(text: string): AnyPoolRecord | undefined {
  try {
    return parseAnyPoolRecord(text);
  } catch {
    return undefined;
  }
}

/** The LVM pool record in `text` if it is one for VG/LV (undefined when absent, invalid or another pool's). */
export function lvmPoolRecordFor(text: string | undefined, vg: string, lv: string): LvmPoolRecord | undefined {
  const r = text === undefined ? undefined : tryParseAnyPoolRecord(text);
  return r?.kind === 'lvm' && r.vg === vg && r.lv === lv ? r : undefined;
}
