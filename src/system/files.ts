/**
 * The host's files, behind an interface so planners and probes are testable with an in-memory tree.
 * The real implementation writes durably and atomically: a temporary file in the same directory,
 * fsync it, rename it over the target, fsync the directory (so the rename itself survives a crash).
 * A write that fails removes its temporary file and leaves the original as it was.
 */
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface HostFiles {
  /** File content, or undefined when it does not exist. */
  readText(file: string): Promise<string | undefined>;
  /** Up to `length` bytes from `offset` (block devices too); undefined when the file does not exist. */
  readBytes(file: string, offset: number, length: number): Promise<Uint8Array | undefined>;
  exists(file: string): Promise<boolean>;
  /** Resolves symlinks (`/dev/disk/by-id/…`); undefined when the path does not exist. */
  realpath(file: string): Promise<string | undefined>;
  isBlockDevice(file: string): Promise<boolean>;
  /** Entries of a directory, or undefined when it does not exist. */
  listDir(dir: string): Promise<string[] | undefined>;
  /** Size of a regular file in bytes, or undefined when it does not exist. */
  fileSize(file: string): Promise<number | undefined>;
  /**
   * Bytes available to root on the filesystem that holds `file` (or would hold it: the nearest
   * existing parent directory is asked).
   */
  freeBytes(file: string): Promise<number>;
  /** Finds an executable on PATH. */
  which(program: string): Promise<string | undefined>;
  /** Atomic and durable: when it resolves, the new content is on disk under `file`'s name. */
  writeFileAtomic(file: string, content: string, mode: number): Promise<void>;
  /** Creates `file` with `content` only if it does not exist; false when it already exists. */
  createExclusive(file: string, content: string): Promise<boolean>;
  /** Removes a file; no error when it is already gone. */
  remove(file: string): Promise<void>;
  /**
   * Copies `from` to `to` atomically and durably (temporary copy, fsync, rename, fsync of the
   * directory): a backup taken before a file is replaced is on disk before the replacement starts.
   */
  copyFile(from: string, to: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR';

/**
 * The few file-system calls a durable write is made of, by path: the seam tests use to record the
 * order of the calls and to fail each one in turn.
 */
export interface DurableFsOps {
  mkdir(dir: string): Promise<void>;
  /** Creates or truncates `file` with `content` and `mode` (not yet fsync'd). */
  writeFile(file: string, content: string, mode: number): Promise<void>;
  /** A plain copy (not yet fsync'd). */
  copyFile(from: string, to: string): Promise<void>;
  /** fsync(2) of a file's data and inode. */
  fsync(file: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** fsync(2) of a directory: makes a rename or a new entry in it durable. */
  fsyncDir(dir: string): Promise<void>;
  /** Removes a file; no error when it is already gone. */
  unlink(file: string): Promise<void>;
}

async function syncPath(file: string): Promise<void> {
  // Linux flushes an inode's dirty data on fsync of any descriptor of it, so a fresh read-only one does.
  const handle = await fs.open(file, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export const realDurableFsOps: DurableFsOps = {
  async mkdir(dir) {
    await fs.mkdir(dir, { recursive: true });
  },
  async writeFile(file, content, mode) {
    const handle = await fs.open(file, 'w', mode);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
  },
  async copyFile(from, to) {
    await fs.copyFile(from, to);
  },
  fsync: syncPath,
  async rename(from, to) {
    await fs.rename(from, to);
  },
  async fsyncDir(dir) {
    await syncPath(dir);
  },
  async unlink(file) {
    await fs.rm(file, { force: true });
  },
};

/** The temporary file a durable write of `file` goes through: same directory, so rename(2) is atomic. */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.dmctl-${process.pid}.tmp`);
}

/**
 * Puts `file` in place through a temporary file that `fill` creates: fsync it, rename it over `file`,
 * fsync the directory. Any failure before the rename removes the temporary file (the original is
 * untouched); a failed directory fsync after it is reported too (the new content is complete, but its
 * survival of a crash is not certain).
 */
async function replaceDurably(ops: DurableFsOps, file: string, fill: (temp: string) => Promise<void>): Promise<void> {
  const dir = path.dirname(file);
  await ops.mkdir(dir);
  const temp = tempPathFor(file);
  try {
    await fill(temp);
    await ops.fsync(temp);
    await ops.rename(temp, file);
  } catch (error) {
    await ops.unlink(temp).catch(() => undefined);
    throw error;
  }
  await ops.fsyncDir(dir);
}

export function createHostFiles(searchPath = process.env.PATH ?? '', ops: DurableFsOps = realDurableFsOps): HostFiles {
  const extra = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
  const dirs = [...searchPath.split(':').filter(Boolean), ...extra];
  return {
    async readText(file) {
      try {
        return await fs.readFile(file, 'utf8');
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    },
    async readBytes(file, offset, length) {
      let handle: fs.FileHandle;
      try {
        handle = await fs.open(file, 'r');
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
      try {
        const buffer = new Uint8Array(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
    async exists(file) {
      try {
        await fs.lstat(file);
        return true;
      } catch (error) {
        if (isMissing(error)) return false;
        throw error;
      }
    },
    async realpath(file) {
      try {
        return await fs.realpath(file);
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    },
    async isBlockDevice(file) {
      try {
        return (await fs.stat(file)).isBlockDevice();
      } catch (error) {
        if (isMissing(error)) return false;
        throw error;
      }
    },
    async listDir(dir) {
      try {
        return await fs.readdir(dir);
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    },
    async fileSize(file) {
      try {
        return (await fs.stat(file)).size;
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    },
    async freeBytes(file) {
      let dir = path.resolve(file);
      for (;;) {
        try {
          const s = await fs.statfs(dir);
          return Number(s.bfree) * Number(s.bsize);
        } catch (error) {
          if (!isMissing(error) || dir === '/') throw error;
          dir = path.dirname(dir);
        }
      }
    },
    async which(program) {
      for (const dir of dirs) {
        const candidate = path.join(dir, program);
        try {
          await fs.access(candidate, constants.X_OK);
          return candidate;
        } catch {
          // keep looking
        }
      }
      return undefined;
    },
    async writeFileAtomic(file, content, mode) {
      await replaceDurably(ops, file, (temp) => ops.writeFile(temp, content, mode));
    },
    async createExclusive(file, content) {
      // Written whole to a temporary file, then linked into place: link(2) fails if `file` exists,
      // so nobody ever sees the file half-written.
      await fs.mkdir(path.dirname(file), { recursive: true });
      const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
      await fs.writeFile(temp, content, { mode: 0o644 });
      try {
        await fs.link(temp, file);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw error;
      } finally {
        await fs.rm(temp, { force: true });
      }
    },
    async remove(file) {
      await fs.rm(file, { force: true });
    },
    async copyFile(from, to) {
      await replaceDurably(ops, to, (temp) => ops.copyFile(from, temp));
    },
    async rename(from, to) {
      await fs.rename(from, to);
    },
  };
}
