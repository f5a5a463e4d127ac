/**
 * The Plan: ordered steps, each with the exact argv or file write, why it is there and whether it
 * destroys data. Human text, JSON and saved plan files (plan/file.ts) are renderings of this one object.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import '../zod-locale.js';
import { volatileStateKeys } from '../model/state.js';

export const planFormatVersion = 1;

const ArgvSchema = z.array(z.string()).check(z.minLength(1));

export const ActionSchema = z.discriminatedUnion('kind', [
  /** Run a command (argv, no shell). */
  z.object({ kind: z.literal('exec'), argv: ArgvSchema }),
  /** Write a file atomically (temp file + rename), first copying an existing file to `backupTo`. */
  z.object({
    kind: z.literal('writeFile'),
    path: z.string().check(z.minLength(1)),
    content: z.string(),
    mode: z.number().check(z.int()),
    backupTo: z.optional(z.string()),
  }),
  /** Rename a file or directory (e.g. move `/var/lib/docker` aside). */
  z.object({ kind: z.literal('move'), from: z.string().check(z.minLength(1)), to: z.string().check(z.minLength(1)) }),
  /**
   * Run a read-only command and require its trimmed stdout to equal (or contain) a value, retrying
   * for up to `waitSeconds`. Verifies what a previous step should have achieved.
   */
  z.object({
    kind: z.literal('check'),
    argv: ArgvSchema,
    expect: z.union([z.object({ equals: z.string() }), z.object({ includes: z.string() })]),
    waitSeconds: z.number().check(z.nonnegative()),
  }),
]);
export type Action = z.infer<typeof ActionSchema>;

export const StepSchema = z.object({
  /** Stable, unique within the plan: `pvcreate`, `write-profile`, … */
  id: z.string().check(z.minLength(1)),
  title: z.string(),
  action: ActionSchema,
  reason: z.string(),
  /** Destroys existing data: needs `--yes` or a typed confirmation. */
  destructive: z.boolean(),
  /**
   * Commands that bring the host back to a safe state if this step fails (e.g. reload the old table
   * and resume a pool whose resume failed). The runner runs them in order and reports each.
   */
  recovery: z.optional(z.array(ArgvSchema)),
  /**
   * After this step failed and its recovery ran, `apply --resume` restarts from this earlier step
   * (the recovery undid its effect), not from this one.
   */
  resumeFrom: z.optional(z.string()),
});
export type Step = z.infer<typeof StepSchema>;

export const NoteSchema = z.object({ level: z.enum(['info', 'warning']), text: z.string() });
export type Note = z.infer<typeof NoteSchema>;

export const PlanSchema = z.object({
  formatVersion: z.literal(planFormatVersion),
  command: z.string(),
  /** What the plan is about, in a few words (`docker/thinpool on /dev/xvdf`). */
  target: z.string(),
  /** Fingerprint of the probed host state the plan was built from. */
  basis: z.string(),
  steps: z.array(StepSchema),
  /** Warnings and next steps for the operator; not executed. */
  notes: z.array(NoteSchema),
});
export type Plan = z.infer<typeof PlanSchema>;

/** Deterministic JSON (sorted keys) for fingerprints. */
export function stableJson(value: unknown, omitKeys: ReadonlySet<string> = new Set()): string {
  return JSON.stringify(value, (key, v: unknown) =>
    omitKeys.has(key) ? undefined
    : v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/** `sha256:` + the first 16 hex digits of the hash of the state's stable JSON, without `omitKeys`. */
export function fingerprint(value: unknown, omitKeys?: ReadonlySet<string>): string {
  return `sha256:${createHash('sha256').update(stableJson(value, omitKeys)).digest('hex').slice(0, 16)}`;
}

/** A plan built from a probed state: its basis fingerprints that state (usage figures left out). */
export function makePlan(command: string, target: string, state: unknown, steps: Step[], notes: Note[]): Plan {
  return { formatVersion: planFormatVersion, command, target, basis: fingerprint(state, volatileStateKeys), steps, notes };
}
