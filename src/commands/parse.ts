/** Parsing and validating operator input: sizes, names, percentages. Errors say what to type instead. */
import * as z from 'zod/mini';
import '../zod-locale.js';
import { parseSize } from '../units.js';

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
