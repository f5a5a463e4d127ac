/** Recorded tool output (never invented): each fixture folder has a README saying how it was recorded. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixture(dir: 'host-debian12' | 'lvm-2.03.16-uml-6.1', name: string): string {
  return readFileSync(`${root}${dir}/${name}`, 'utf8');
}

export const host = (name: string) => fixture('host-debian12', name);
export const guest = (name: string) => fixture('lvm-2.03.16-uml-6.1', name);

/** A recorded binary fixture (e.g. a thin-pool superblock read from a disk). */
export function guestBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${root}lvm-2.03.16-uml-6.1/${name}`));
}

/**
 * Every fixture folder recorded by test/e2e/record-fixtures.sh in the guest (Debian 12's and each
 * distribution-matrix profile's, see test/compat/profiles.json): found on disk, not listed, so a newly
 * recorded folder is tested without editing the tests.
 */
export function guestFixtureDirs(): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`${root}${d.name}/lvs-pool.txt`) && existsSync(`${root}${d.name}/README.md`))
    .map((d) => d.name)
    .sort();
}

/** A reader for one recorded folder; `has` says whether a capture exists (older tools lack some). */
export function fixtureDir(dir: string): { read(name: string): string; has(name: string): boolean } {
  return {
    read: (name) => readFileSync(`${root}${dir}/${name}`, 'utf8'),
    has: (name) => existsSync(`${root}${dir}/${name}`),
  };
}
