/**
 * Where `pvcreate` puts a new PV's first extent (`pe_start`), computed the way lvm2 does it — see
 * lvm2's lib/metadata/metadata.c `set_pe_align` / `set_pe_align_offset` and lib/format_text/
 * format-text.c `_text_pv_initialise` / `_text_pv_add_metadata_area` (read in lvm2 2.03.29; the rule
 * is the same in 2.03.16). dmctl runs `pvcreate` without `--dataalignment`/`--dataalignmentoffset`,
 * `--metadatasize` or `--bootloaderareasize`, so only lvm.conf and the device's I/O hints count:
 *
 * 1. alignment = `devices/data_alignment` KiB when non-zero (nothing else applies then); else
 *    `default_data_alignment` MiB (0 means 1 MiB), and with `data_alignment_detection` the device's
 *    minimum_io_size, then optimal_io_size, replace it when it is not a multiple of them
 *    (`md_chunk_alignment` applies only to md devices, which dmctl refuses as not whole disks);
 * 2. offset = the device's alignment_offset with `data_alignment_offset_detection` (-1: 0);
 * 3. with one metadata area (the default), the area ends at 1 MiB (its default size is chosen so for
 *    every page size), rounded up to the alignment, plus the offset: that is `pe_start`. With
 *    `pvmetadatacopies = 0` it is alignment + offset.
 *
 * Layouts this does not model (a second metadata area at the end of the disk, a `pvmetadatasize` set
 * in lvm.conf) give undefined: the planner then refuses instead of guessing.
 */
import type { IoHints } from '../system/blockdev.js';
import type { PvLayoutConfig } from '../system/lvm.js';

const sector = 512;
const mib = 1024 ** 2;

/** A sysfs topology value as LVM reads it: whole sectors, a non-zero value under a sector counting as one. */
const toSectorBytes = (bytes: number) => (bytes <= 0 ? 0 : Math.max(sector, Math.floor(bytes / sector) * sector));

export type PvStart = { ok: true; peStartBytes: number } | { ok: false; why: string };

export function newPvStart(config: PvLayoutConfig, io: IoHints | undefined, deviceBytes: number): PvStart {
  if (config.pvMetadataSizeSectors !== undefined) return { ok: false, why: `lvm.conf sets metadata/pvmetadatasize = ${config.pvMetadataSizeSectors}` };
  if (config.pvMetadataCopies > 1) return { ok: false, why: `lvm.conf sets metadata/pvmetadatacopies = ${config.pvMetadataCopies} (a second metadata area at the end of the disk)` };
  const needsHints = config.dataAlignmentKiB === 0 && config.dataAlignmentDetection || config.dataAlignmentOffsetDetection;
  if (needsHints && io === undefined) return { ok: false, why: 'its I/O hints (lsblk MIN-IO, OPT-IO, ALIGNMENT) could not be read' };

  let align: number;
  if (config.dataAlignmentKiB > 0) {
    align = config.dataAlignmentKiB * 1024;
  } else {
    align = (config.defaultDataAlignmentMiB || 1) * mib;
    if (config.dataAlignmentDetection && io) {
      for (const hint of [toSectorBytes(io.minIoBytes), toSectorBytes(io.optIoBytes)]) {
        if (hint > 0 && align % hint !== 0) align = hint;
      }
    }
  }
  const offset = config.dataAlignmentOffsetDetection && io ? Math.max(0, toSectorBytes(io.alignmentOffsetBytes)) : 0;
  if (align < offset) return { ok: false, why: `its alignment offset (${offset} bytes) exceeds the data alignment (${align} bytes): pvcreate refuses it` };

  let peStart: number;
  if (config.pvMetadataCopies === 0) {
    peStart = align + offset;
  } else {
    // The metadata area ends at 1 MiB, grown to the next multiple of the alignment, then by the offset.
    peStart = Math.ceil(mib / align) * align;
    if (offset > 0) peStart += offset;
  }
  if (peStart >= deviceBytes) return { ok: false, why: `its first extent would start at ${peStart} bytes, past its ${deviceBytes} bytes` };
  return { ok: true, peStartBytes: peStart };
}

/** Extents a PV of `deviceBytes` gives a VG, its first extent at `peStartBytes`. */
export function pvExtents(deviceBytes: number, peStartBytes: number, extentBytes: number): number {
  return Math.floor(Math.max(0, deviceBytes - peStartBytes) / extentBytes);
}
