/** Recorded tool output (never invented): each fixture folder has a README saying how it was recorded. */
import { readFileSync } from 'node:fs';
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
