#!/usr/bin/env node
// test/compat/profile.mjs ID — print a matrix profile as shell assignments (for record-fixtures.sh):
//   COMPAT_PATH=<cache>/<sha>/sbin:<cache>/<sha>/bin  (empty for the host's tools)
//   COMPAT_DEVICESFILE=0|1  COMPAT_FIXTURES=<folder>  COMPAT_NAME='…'  COMPAT_TARBALLS='…'
// Exit 2 with one line when the profile is unknown or a tarball it needs is not built.
import { profilePath, loadProfiles } from './profiles.mjs';

const id = process.argv[2];
const p = loadProfiles().find((x) => x.id === id);
if (!p) {
  console.error(`profile: unknown profile "${id}" (known: ${loadProfiles().map((x) => x.id).join(', ')})`);
  process.exit(2);
}
let path;
try {
  path = profilePath(p);
} catch (e) {
  console.error(`profile: ${e.message}`);
  process.exit(2);
}
const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
console.log(`COMPAT_PATH=${q(path)}`);
console.log(`COMPAT_DEVICESFILE=${p.devicesFile ? 1 : 0}`);
console.log(`COMPAT_FIXTURES=${q(p.fixtures)}`);
console.log(`COMPAT_NAME=${q(p.name)}`);
console.log(`COMPAT_TARBALLS=${q([p.lvm2, p.utilLinux].filter(Boolean).join(' '))}`);
