/**
 * A host-wide lock for applying plans: two runbooks never interleave their changes. The lock file
 * holds who took it; a lock whose process is gone is stale and taken over.
 */
import { RefusedError } from '../errors.js';
import type { HostFiles } from '../system/files.js';

export const lockPath = '/run/dmctl.lock';

export interface LockHolder {
  pid: number;
  command: string;
  since: string;
}

export async function acquireLock(
  files: HostFiles,
  me: LockHolder,
  options: { wait: boolean; sleep: (ms: number) => Promise<void>; onWait?: (holder: LockHolder) => void; path?: string },
): Promise<() => Promise<void>> {
  const path = options.path ?? lockPath;
  let told = false;
  const mine = `${JSON.stringify(me)}\n`;
  for (;;) {
    if (await files.createExclusive(path, mine)) {
      // Release only our own lock (never one another dmctl took over meanwhile).
      return async () => {
        if ((await files.readText(path)) === mine) await files.remove(path);
      };
    }
    const text = await files.readText(path);
    if (text === undefined) continue; // released meanwhile: try again
    const holder = parseHolder(text);
    if (!holder) {
      throw new RefusedError(`${path} exists but does not say which dmctl holds it: if no dmctl is running, remove it and run again`);
    }
    if (!(await files.exists(`/proc/${holder.pid}`))) {
      // Left by a dmctl that died: nobody holds it. Remove it only if it is still that same lock.
      if ((await files.readText(path)) === text) await files.remove(path);
      continue;
    }
    if (!options.wait) {
      throw new RefusedError(
        `another dmctl is changing this host: pid ${holder.pid} (${holder.command}, since ${holder.since}): wait for it to finish, or run again with --wait`,
      );
    }
    if (!told) options.onWait?.(holder);
    told = true;
    await options.sleep(1000);
  }
}

function parseHolder(text: string | undefined): LockHolder | undefined {
  try {
    const v = JSON.parse(text ?? '') as Partial<LockHolder>;
    return typeof v.pid === 'number' ? { pid: v.pid, command: String(v.command), since: String(v.since) } : undefined;
  } catch {
    return undefined;
  }
}
