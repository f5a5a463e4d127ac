/**
 * The journal of an apply: which step started, finished or failed, with the failing command's
 * output. One JSON file per apply under /var/lib/dmctl/journal/, rewritten atomically after every
 * step, so `dmctl apply --resume` can continue from the failed step after the cause is fixed.
 */
import * as z from 'zod/mini';
import '../zod-locale.js';
import { PlanSchema, type Plan } from '../plan/types.js';
import type { HostFiles } from '../system/files.js';
import type { RunHooks, RunResult } from './apply.js';

export const journalDir = '/var/lib/dmctl/journal';

const StepRecord = z.object({
  id: z.string(),
  status: z.enum(['pending', 'running', 'done', 'failed']),
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
export async function startJournal(files: HostFiles, plan: Plan, startedAt: string, pid: number, resumes?: string): Promise<JournalWriter> {
  const path = `${journalDir}/${startedAt.replace(/[:.]/g, '-')}-${plan.command}.json`;
  const journal: Journal = {
    formatVersion: 1,
    startedAt,
    pid,
    status: 'running',
    ...(resumes ? { resumes } : {}),
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
          status: 'failed',
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

/** The newest journal of an apply that failed, was interrupted, or was cut short (killed, power loss). */
export async function latestUnfinished(files: HostFiles): Promise<{ path: string; journal: Journal } | undefined> {
  const names = ((await files.listDir(journalDir)) ?? []).filter((n) => n.endsWith('.json')).sort().reverse();
  for (const name of names) {
    const path = `${journalDir}/${name}`;
    const parsed = JournalSchema.safeParse(JSON.parse((await files.readText(path)) ?? 'null'));
    if (!parsed.success) continue;
    const cutShort = parsed.data.status === 'running' && !(await files.exists(`/proc/${parsed.data.pid}`));
    if (parsed.data.status === 'failed' || parsed.data.status === 'interrupted' || cutShort) return { path, journal: parsed.data };
    return undefined; // the newest apply finished (or was resumed): nothing to resume
  }
  return undefined;
}

export async function markResumed(files: HostFiles, path: string, journal: Journal): Promise<void> {
  await files.writeFileAtomic(path, `${JSON.stringify({ ...journal, status: 'resumed' }, null, 2)}\n`, 0o600);
}
