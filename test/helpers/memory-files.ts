/** An in-memory HostFiles: files, directories, block devices, symlinks and programs on PATH. */
import type { HostFiles } from '../../src/system/files.js';

export interface MemoryTree {
  files?: Record<string, string>;
  dirs?: Record<string, string[]>;
  blockDevices?: string[];
  symlinks?: Record<string, string>;
  programs?: string[];
  /** Sizes of (sparse) files by path. */
  sizes?: Record<string, number>;
  /** Free bytes of the filesystem, for every path. */
  free?: number;
}

export class MemoryFiles implements HostFiles {
  readonly files: Map<string, string>;
  readonly dirs: Map<string, string[]>;
  readonly blockDevices: Set<string>;
  readonly symlinks: Map<string, string>;
  readonly programs: Set<string>;
  readonly sizes: Map<string, number>;
  free: number;
  readonly writes: Array<{ path: string; content: string; mode: number }> = [];
  readonly log: string[] = [];

  constructor(tree: MemoryTree = {}) {
    this.files = new Map(Object.entries(tree.files ?? {}));
    this.dirs = new Map(Object.entries(tree.dirs ?? {}));
    this.blockDevices = new Set(tree.blockDevices ?? []);
    this.symlinks = new Map(Object.entries(tree.symlinks ?? {}));
    this.programs = new Set(tree.programs ?? []);
    this.sizes = new Map(Object.entries(tree.sizes ?? {}));
    this.free = tree.free ?? 50 * 1024 ** 3;
  }
  async fileSize(file: string) {
    return this.sizes.get(file) ?? this.files.get(file)?.length;
  }
  async freeBytes(_file: string) {
    return this.free;
  }

  async readText(file: string) {
    return this.files.get(file);
  }
  /** Binary regions of files or disks: path → the bytes found at byte `at` (a disk need not be whole). */
  readonly regions = new Map<string, Array<{ at: number; data: Uint8Array }>>();
  async readBytes(file: string, offset: number, length: number) {
    const region = this.regions.get(file)?.find((r) => offset >= r.at && offset < r.at + r.data.length);
    if (region) return region.data.subarray(offset - region.at, offset - region.at + length);
    return this.regions.has(file) || this.blockDevices.has(file) ? new Uint8Array(0) : undefined;
  }
  async exists(file: string) {
    return this.files.has(file) || this.sizes.has(file) || this.dirs.has(file) || this.blockDevices.has(file) || this.symlinks.has(file);
  }
  async realpath(file: string) {
    const target = this.symlinks.get(file) ?? file;
    return (await this.exists(target)) ? target : undefined;
  }
  async isBlockDevice(file: string) {
    return this.blockDevices.has(file);
  }
  async listDir(dir: string) {
    // Explicit entries, plus the files written directly below `dir`.
    const files = [...this.files.keys()].filter((f) => f.startsWith(`${dir}/`) && !f.slice(dir.length + 1).includes('/')).map((f) => f.slice(dir.length + 1));
    const explicit = this.dirs.get(dir);
    return explicit || files.length > 0 ? [...new Set([...(explicit ?? []), ...files])] : undefined;
  }
  async which(program: string) {
    return this.programs.has(program) ? `/usr/sbin/${program}` : undefined;
  }
  async writeFileAtomic(file: string, content: string, mode: number) {
    this.writes.push({ path: file, content, mode });
    this.log.push(`write ${file}`);
    this.files.set(file, content);
  }
  async createExclusive(file: string, content: string) {
    if (this.files.has(file)) return false;
    this.files.set(file, content);
    this.log.push(`create ${file}`);
    return true;
  }
  async remove(file: string) {
    this.files.delete(file);
    this.log.push(`remove ${file}`);
  }
  async copyFile(from: string, to: string) {
    const content = this.files.get(from);
    if (content === undefined) throw new Error(`ENOENT: ${from}`);
    this.log.push(`copy ${from} ${to}`);
    this.files.set(to, content);
  }
  async rename(from: string, to: string) {
    if (!(await this.exists(from))) throw new Error(`ENOENT: ${from}`);
    if (await this.exists(to)) throw new Error(`EEXIST: ${to}`);
    this.log.push(`rename ${from} ${to}`);
    const entries = this.dirs.get(from);
    if (entries) {
      this.dirs.delete(from);
      this.dirs.set(to, entries);
    }
    const content = this.files.get(from);
    if (content !== undefined) {
      this.files.delete(from);
      this.files.set(to, content);
    }
  }
}
