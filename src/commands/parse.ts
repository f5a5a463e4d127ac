/** Parsing and validating operator input: sizes, names, percentages. Errors say what to type instead. */
import * as z from 'zod/mini';
import '../zod-locale.js';

const units: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * `512K`, `512KiB`, `1.5G`, `200GiB`, `100G` → bytes. Units are binary, as LVM's are; a bare number
 * is refused when `requireUnit` (LVM would read `-c 512` as KiB, Docker as bytes).
 */
export function parseSize(text: string, requireUnit = true): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw new Error(`"${text}" is not a size: use a number with a unit, e.g. 512K, 10G or 200GiB`);
  const unit = m[2]!.toLowerCase();
  if (requireUnit && unit === '') throw new Error(`"${text}" has no unit: write e.g. ${text}K or ${text}M`);
  const bytes = Number(m[1]) * units[unit]!;
  if (!Number.isFinite(bytes)) throw new Error(`"${text}" is too large`);
  return Math.round(bytes);
}

export const sizeArg = (requireUnit = true) =>
  z.pipe(
    z.string(),
    z.transform((s: string, ctx) => {
      try {
        return parseSize(s, requireUnit);
      } catch (error) {
        ctx.issues.push({ code: 'custom', message: (error as Error).message, input: s });
        return z.NEVER;
      }
    }),
  );

/** LVM's rules for VG and LV names (lvm(8) "VALID NAMES"). */
export const lvmName = (what: string) =>
  z.string().check(
    z.regex(/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/, `${what} may contain only letters, digits, and + _ . - (not first)`),
    z.maxLength(127, `${what} is longer than 127 characters`),
    z.refine((s) => s !== '.' && s !== '..' && !s.startsWith('snapshot') && !s.startsWith('pvmove'), `${what} is reserved by LVM`),
  );

/** An integer option within bounds, given as text on the command line. */
export const intArg = (what: string, min: number, max: number, why = '') =>
  z
    .pipe(
      z.union([z.string(), z.number()]),
      z.transform((v: string | number) => (typeof v === 'number' ? v : v.trim() === '' ? NaN : Number(v))),
    )
    .check(
      z.refine((n) => Number.isInteger(n), `${what} must be a whole number`),
      z.refine((n) => n >= min && n <= max, `${what} must be between ${min} and ${max}${why}`),
    );
