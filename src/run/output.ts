/**
 * dmctl's own output files: a saved plan (`--out FILE`) and a node_exporter textfile
 * (`status --prometheus FILE`). Written here because run/ is the only code that changes the host;
 * probes only read (through the executor and HostFiles), planners do no I/O at all.
 */
import type { HostFiles } from '../system/files.js';

/** Atomically (temp file + rename), so a reader never sees half a file. */
export async function writeOutputFile(files: HostFiles, path: string, content: string, mode: number): Promise<void> {
  await files.writeFileAtomic(path, content, mode);
}
