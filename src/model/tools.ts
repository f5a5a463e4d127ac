/**
 * The programs each command cannot do without (looked up on PATH before anything runs), and the one
 * way dmctl says how to get a missing one.
 */

export const initDirectTools = ['lvm', 'thin_check', 'wipefs', 'lsblk'] as const;
export const extendTools = ['lvm', 'wipefs', 'lsblk'] as const;
export const initLoopTools = ['losetup', 'dmsetup', 'truncate', 'dd'] as const;
export const resizeLoopTools = ['losetup', 'dmsetup', 'truncate'] as const;
export const reactivateLoopTools = ['losetup', 'dmsetup'] as const;
export const devicesTools = ['dmsetup', 'thin_ls'] as const;

/** The Debian/RHEL package that ships each tool dmctl runs. */
const packageOf: Record<string, string> = {
  lvm: 'lvm2',
  thin_check: 'thin-provisioning-tools (pools cannot activate without thin_check)',
  thin_ls: 'thin-provisioning-tools',
  dmsetup: 'dmsetup (device-mapper on RHEL)',
  losetup: 'util-linux',
  wipefs: 'util-linux',
  lsblk: 'util-linux',
  truncate: 'coreutils',
  dd: 'coreutils',
};

/** One refusal line for a tool that is not on PATH. */
export function missingToolProblem(tool: string): string {
  return `${tool} is not installed: install ${packageOf[tool] ?? tool} first`;
}
