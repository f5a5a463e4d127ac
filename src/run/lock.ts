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
  for (;;) {
    if (await files.createExclusive(path, `${JSON.stringify(me)}\n`)) {
      return () => files.remove(path);
    }
    const holder = parseHolder(await files.readText(path));
    if (!holder || !(await files.exists(`/proc/${holder.pid}`))) {
      // Left by a dmctl that died (or unreadable): nobody holds it.
      await files.remove(path);
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
