/**
 * The `status --devices` fixtures (test/fixtures/lvm-2.03.16-uml-6.1/devices/, recorded by its
 * record.sh): Docker's own files as a MemoryFiles tree under /var/lib/docker, the metadata device's
 * /sys entries, and the recorded tool answers.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fixture } from './fixtures.js';
import { MemoryFiles } from './memory-files.js';

const dir = fileURLToPath(new URL('../fixtures/lvm-2.03.16-uml-6.1/devices/', import.meta.url));

/** A recorded capture by its name without the number (`thin-ls` → 12-thin-ls.txt). */
export function capture(name: string, ext: 'txt' | 'stderr.txt' | 'rc' = 'txt'): string {
  const file = readdirSync(dir).find((f) => f.replace(/^\d\d-/, '') === `${name}.${ext}`);
  if (!file) throw new Error(`no recorded capture ${name}.${ext} in ${dir}`);
  return fixture('lvm-2.03.16-uml-6.1', `devices/${file}`);
}

/** Every file under `sub` of the fixture folder, keyed by its path on the guest (`prefix` + relative path). */
function tree(sub: string, prefix: string): { files: Record<string, string>; dirs: Record<string, string[]> } {
  const files: Record<string, string> = {};
  const dirs: Record<string, string[]> = {};
  const walk = (rel: string) => {
    const abs = `${dir}${sub}${rel}`;
    const names = readdirSync(abs).sort();
    dirs[`${prefix}${rel}`.replace(/\/$/, '')] = names;
    for (const n of names) {
      if (statSync(`${abs}/${n}`).isDirectory()) walk(`${rel}/${n}`);
      else files[`${prefix}${rel}/${n}`] = readFileSync(`${abs}/${n}`, 'utf8');
    }
  };
  walk('');
  return { files, dirs };
}

/** Docker's data root as recorded (/var/lib/docker) and the pool's metadata device in /sys and /dev/mapper. */
export function devicesTree(): { files: Record<string, string>; dirs: Record<string, string[]>; blockDevices: string[] } {
  const docker = tree('docker', '/var/lib/docker');
  const sys = tree('sys', '/sys');
  return { files: { ...docker.files, ...sys.files }, dirs: { ...docker.dirs, ...sys.dirs }, blockDevices: ['/dev/mapper/docker-thinpool_tmeta', '/dev/mapper/ctd-thinpool_tmeta'] };
}

/** The recorded `docker ps -a --no-trunc`: name → container id. */
export function dockerIds(): Record<string, string> {
  return Object.fromEntries(
    capture('docker-ps')
      .trim()
      .split('\n')
      .map((l) => {
        const [id, name] = l.split(' ');
        return [name!, id!];
      }),
  );
}

const devmapperRoot = '/var/lib/containerd/io.containerd.snapshotter.v1.devmapper';

/** The recorded guest's files as a MemoryFiles: Docker's, the /sys entries, and containerd's two bolt files (bytes). */
export function devicesFiles(options: { programs?: string[]; tree?: ReturnType<typeof devicesTree>; containerd?: boolean } = {}): MemoryFiles {
  const tree = options.tree ?? devicesTree();
  const dbs = options.containerd === false ? [] : readdirSync(`${dir}containerd`);
  const files = new MemoryFiles({
    ...tree,
    programs: options.programs ?? ['dmsetup', 'thin_ls'],
    sizes: Object.fromEntries(dbs.map((db) => [`${devmapperRoot}/${db}`, statSync(`${dir}containerd/${db}`).size])),
  });
  for (const db of dbs) files.regions.set(`${devmapperRoot}/${db}`, [{ at: 0, data: new Uint8Array(readFileSync(`${dir}containerd/${db}`)) }]);
  return files;
}
