/**
 * Saved plans (`--out FILE`, `dmctl apply FILE`): the Plan, the request that made it (command and
 * options, to re-probe and re-plan at apply time), the probed state it was built on (to say what
 * changed when it is stale) and a digest over all three, so a hand-edited or truncated file is
 * refused instead of half-applied.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import '../zod-locale.js';
import { RefusedError } from '../errors.js';
import { volatileStateKeys } from '../model/state.js';
import { PlanSchema, stableJson, type Plan, type Step } from './types.js';

export const planCommands = ['init-loop', 'init-direct', 'extend', 'resize-loop', 'reactivate'] as const;
export type PlanCommand = (typeof planCommands)[number];

export interface PlanRequest {
  command: PlanCommand;
  /** The planner's options, as planned (JSON). */
  options: Record<string, unknown>;
}

export const PlanFileSchema = z.object({
  formatVersion: z.literal(1),
  kind: z.literal('dmctl-plan'),
  plan: PlanSchema,
  request: z.object({ command: z.enum(planCommands), options: z.record(z.string(), z.unknown()) }),
  probed: z.unknown(),
  digest: z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/)),
});
export type PlanFile = z.infer<typeof PlanFileSchema>;

function digestOf(body: { plan: Plan; request: PlanRequest; probed: unknown }): string {
  return `sha256:${createHash('sha256').update(stableJson(body)).digest('hex')}`;
}

export function makePlanFile(plan: Plan, request: PlanRequest, probed: unknown): PlanFile {
  // Round-trip through JSON first, so the digest covers exactly what the file will hold.
  const body = JSON.parse(JSON.stringify({ plan, request, probed })) as { plan: Plan; request: PlanRequest; probed: unknown };
  return { formatVersion: 1, kind: 'dmctl-plan', ...body, digest: digestOf(body) };
}

export function formatPlanFile(file: PlanFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Parses and checks a plan file; every problem is a refusal that names it. */
export function readPlanFile(text: string, name: string): PlanFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new RefusedError(`${name} is not a complete JSON document (truncated or not a dmctl plan): make the plan again with --out`);
  }
  const parsed = PlanFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RefusedError(`${name} is not a valid dmctl plan (${issue.path.join('.') || 'top level'}: ${issue.message}): make the plan again with --out`);
  }
  const { plan, request, probed } = parsed.data;
  if (digestOf({ plan, request: request as PlanRequest, probed }) !== parsed.data.digest) {
    throw new RefusedError(`${name} was changed after dmctl wrote it (its digest does not match): review and make the plan again with --out; dmctl applies only plans exactly as written`);
  }
  return parsed.data;
}

/**
 * Where saved steps differ from freshly planned ones, in words (the first difference), or undefined
 * when they are the same steps in the same order.
 */
export function firstDifferentStep(saved: readonly Step[], fresh: readonly Step[]): string | undefined {
  for (let i = 0; i < Math.max(saved.length, fresh.length); i++) {
    const a = saved[i];
    const b = fresh[i];
    if (!a) return `dmctl now plans a step ${i + 1} ("${b!.title}") that the file does not have`;
    if (!b) return `step ${i + 1} ("${a.title}") is not in what dmctl plans now`;
    if (stableJson(a) === stableJson(b)) continue;
    const fields = (['id', 'action', 'destructive', 'recovery', 'resumeFrom', 'title', 'reason'] as const).filter((k) => stableJson(a[k]) !== stableJson(b[k]));
    return `step ${i + 1} ("${a.title}") differs in its ${fields.join(', ')}`;
  }
  return undefined;
}

/** Top-level parts of the probed state that differ (usage figures that move on a live pool ignored). */
export function changedParts(saved: unknown, now: unknown): string[] {
  const a = (saved ?? {}) as Record<string, unknown>;
  const b = (now ?? {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((key) => stableJson(a[key], volatileStateKeys) !== stableJson(b[key], volatileStateKeys))
    .sort();
}
