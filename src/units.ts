/** Byte counts for humans, and sizes as humans write them. */

/** Sizes in binary units, as LVM prints them: 1.98 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(2).replace(/\.?0+$/, '')} ${units[unit]}`;
}

const multipliers: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * `512K`, `512KiB`, `1.5G`, `200GiB`, `100G` → bytes. Units are binary, as LVM's are; a bare number
 * is refused when `requireUnit` (LVM would read `-c 512` as KiB, Docker as bytes).
 */
export function parseSize(text: string, requireUnit = true): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw new Error(`"${text}" is not a size: use a number with a unit, e.g. 512K, 10G or 200GiB`);
  const unit = m[2]!.toLowerCase();
  if (requireUnit && unit === '') throw new Error(`"${text}" has no unit: write e.g. ${text}K or ${text}M`);
  const bytes = Number(m[1]) * multipliers[unit]!;
  if (!Number.isFinite(bytes)) throw new Error(`"${text}" is too large`);
  return Math.round(bytes);
}

/** parseSize for a size read from a config file (a bare number is bytes): undefined when it is not one. */
export function configSize(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return parseSize(text, false);
  } catch {
    return undefined;
  }
}
