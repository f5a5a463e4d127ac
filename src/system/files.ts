/**
 * The host's files, behind an interface so planners and probes are testable with an in-memory tree.
 * The real implementation writes atomically: a temporary file in the same directory, fsync, rename.
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
  writeFileAtomic(file: string, content: string, mode: number): Promise<void>;
  /** Creates `file` with `content` only if it does not exist; false when it already exists. */
  createExclusive(file: string, content: string): Promise<boolean>;
  /** Removes a file; no error when it is already gone. */
  remove(file: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR';

export function createHostFiles(searchPath = process.env.PATH ?? ''): HostFiles {
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
      await fs.mkdir(path.dirname(file), { recursive: true });
      const temp = path.join(path.dirname(file), `.${path.basename(file)}.dmctl-${process.pid}.tmp`);
      const handle = await fs.open(temp, 'w', mode);
      try {
        await handle.writeFile(content, 'utf8');
        await handle.chmod(mode);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, file);
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
      await fs.copyFile(from, to);
    },
    async rename(from, to) {
      await fs.rename(from, to);
    },
  };
}
