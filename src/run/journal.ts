/**
 * The journal of an apply: which step started, finished or failed, with the failing command's
 * output. One JSON file per apply under /var/lib/dmctl/journal/, rewritten atomically after every
 * step, so `dmctl apply --resume` can continue from the failed step after the cause is fixed.
 */
import * as z from 'zod/mini';
import '../zod-locale.js';
import { PlanSchema, type Plan } from '../plan/types.js';
import { planCommands, type PlanRequest } from '../plan/file.js';
import { RefusedError } from '../errors.js';
import type { HostFiles } from '../system/files.js';
import type { RunHooks, RunResult } from './apply.js';

export const journalDir = '/var/lib/dmctl/journal';

const StepRecord = z.object({
  id: z.string(),
  /** `unknown`: killed before it answered (time limit, second signal): `apply --resume` probes again first. */
  status: z.enum(['pending', 'running', 'done', 'failed', 'unknown']),
  message: z.optional(z.string()),
  argv: z.optional(z.array(z.string())),
  exitCode: z.optional(z.number()),
  stderr: z.optional(z.string()),
});

export const JournalSchema = z.object({
  formatVersion: z.literal(1),
  startedAt: z.string(),
  /** The dmctl that applies (a journal still `running` whose process is gone was cut short). */
  pid: z.number().check(z.int()),
  status: z.enum(['running', 'done', 'failed', 'interrupted', 'resumed']),
  /** The journal this run resumed, if any. */
  resumes: z.optional(z.string()),
  /** What made the plan (command and options): `apply --resume` plans again from it after a step of unknown outcome. */
  request: z.optional(z.object({ command: z.enum(planCommands), options: z.record(z.string(), z.unknown()) })),
  plan: PlanSchema,
  steps: z.array(StepRecord),
  recovered: z.array(z.string()),
});
export type Journal = z.infer<typeof JournalSchema>;

export interface JournalWriter {
  path: string;
  hooks: RunHooks;
  finish(result: RunResult): Promise<void>;
}

/** Starts a journal for `plan`; `startedAt` comes from the caller (no clock in here). */
export async function startJournal(files: HostFiles, plan: Plan, startedAt: string, pid: number, resumes?: string, request?: PlanRequest): Promise<JournalWriter> {
  const path = `${journalDir}/${startedAt.replace(/[:.]/g, '-')}-${plan.command}.json`;
  const journal: Journal = {
    formatVersion: 1,
    startedAt,
    pid,
    status: 'running',
    ...(resumes ? { resumes } : {}),
    ...(request ? { request: JSON.parse(JSON.stringify(request)) as PlanRequest } : {}),
    plan,
    steps: plan.steps.map((s) => ({ id: s.id, status: 'pending' })),
    recovered: [],
  };
  const save = () => files.writeFileAtomic(path, `${JSON.stringify(journal, null, 2)}\n`, 0o600);
  await save();
  const record = (index: number) => journal.steps[index]!;
  return {
    path,
    hooks: {
      async stepStart(_step, index) {
        record(index).status = 'running';
        await save();
      },
      async stepDone(_step, index) {
        record(index).status = 'done';
        await save();
      },
      async stepFailed(failure, index) {
        Object.assign(record(index), {
          status: failure.outcomeUnknown ? 'unknown' : 'failed',
          message: failure.message,
          ...(failure.argv ? { argv: [...failure.argv] } : {}),
          ...(failure.exitCode !== undefined ? { exitCode: failure.exitCode } : {}),
          ...(failure.stderr ? { stderr: failure.stderr } : {}),
        });
        await save();
      },
    },
    async finish(result) {
      journal.status = result.status;
      journal.recovered = result.recovered;
      await save();
    },
  };
}

/**
 * The newest journal, when its apply failed, was interrupted, or was cut short (killed, power loss);
 * undefined when the newest apply finished (or was resumed). Fails closed: a newest journal that
 * cannot be read whole (empty, truncated, not a dmctl journal) is a refusal naming it — never a guess
 * at an older one, whose steps may since have been redone.
 */
export async function latestUnfinished(files: HostFiles): Promise<{ path: string; journal: Journal } | undefined> {
  const names = ((await files.listDir(journalDir)) ?? []).filter((n) => n.endsWith('.json')).sort();
  const name = names.at(-1);
  if (name === undefined) return undefined;
  const path = `${journalDir}/${name}`;
  const journal = parseJournal(path, await files.readText(path));
  const cutShort = journal.status === 'running' && !(await files.exists(`/proc/${journal.pid}`));
  return journal.status === 'failed' || journal.status === 'interrupted' || cutShort ? { path, journal } : undefined;
}

function parseJournal(path: string, text: string | undefined): Journal {
  const fix = `re-run the original dmctl command instead (it re-plans from the host and does only what is still missing), and move ${path} away`;
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? '');
  } catch {
    throw new RefusedError(`${path} is ${text === undefined || text.trim() === '' ? 'empty' : 'cut short (not complete JSON)'}, so where the apply stopped is unknown: ${fix}`);
  }
  const parsed = JournalSchema.safeParse(raw);
  const journal = parsed.success ? parsed.data : undefined;
  // Every step of the plan needs its record, in the plan's order.
  if (!journal || journal.steps.length !== journal.plan.steps.length || journal.steps.some((s, i) => s.id !== journal.plan.steps[i]!.id)) {
    throw new RefusedError(`${path} is not a valid dmctl journal${parsed.success ? ' (its step records do not match its plan)' : ` (${parsed.error.issues[0]!.path.join('.') || 'top level'}: ${parsed.error.issues[0]!.message})`}: ${fix}`);
  }
  return journal;
}

export async function markResumed(files: HostFiles, path: string, journal: Journal): Promise<void> {
  await files.writeFileAtomic(path, `${JSON.stringify({ ...journal, status: 'resumed' }, null, 2)}\n`, 0o600);
}
