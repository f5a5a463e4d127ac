/** coreutils steps used by loop pools: directories, sparse files, zeroing a header, kernel modules. */
import type { Argv } from './exec.js';

export function mkdirArgv(dir: string): Argv {
  return ['mkdir', '-p', dir];
}

/** Creates or grows a sparse file to exactly `bytes`. */
export function truncateArgv(file: string, bytes: number): Argv {
  return ['truncate', '-s', String(bytes), file];
}

/** Zeroes the first 4 KiB of a file in place: a thin-pool metadata device must start zeroed. */
export function zeroHeaderArgv(file: string): Argv {
  return ['dd', 'if=/dev/zero', `of=${file}`, 'bs=4096', 'count=1', 'conv=notrunc,fsync', 'status=none'];
}

export function modprobeArgv(module: string): Argv {
  return ['modprobe', module];
}
