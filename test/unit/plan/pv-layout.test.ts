import { describe, expect, it } from 'vitest';
import { newPvStart, pvExtents } from '../../../src/plan/pv-layout.js';
import { ioHintsQuery } from '../../../src/system/blockdev.js';
import { pvLayoutConfigQuery, type PvLayoutConfig } from '../../../src/system/lvm.js';
import type { IoHints } from '../../../src/system/blockdev.js';
import { guest } from '../../helpers/fixtures.js';

// lvm2's rule (metadata.c set_pe_align / set_pe_align_offset, format-text.c _text_pv_initialise and
// _text_pv_add_metadata_area), from the recorded defaults and a recorded disk's hints, varied.
const defaults = pvLayoutConfigQuery().parse(guest('lvmconfig-layout.txt'));
const disk = ioHintsQuery(['/dev/ubdd']).parse(guest('lsblk-io-fresh.txt'))[0]!;
const kib = 1024;
const mib = 1024 ** 2;
const gib = 1024 ** 3;
const start = (config: Partial<PvLayoutConfig> = {}, io: Partial<IoHints> | null = {}) => {
  const r = newPvStart({ ...defaults, ...config }, io === null ? undefined : { ...disk, ...io }, gib);
  return r.ok ? r.peStartBytes : r.why;
};

describe('where pvcreate puts the first extent', () => {
  it('defaults: 1 MiB (what pvcreate did in the guest: pvs-vg shows 255 extents of a 1 GiB disk)', () => {
    expect(start()).toBe(mib);
    expect(pvExtents(gib, mib, 4 * mib)).toBe(255);
  });

  it('data_alignment (KiB) wins over everything, the I/O hints too; the metadata area still ends at 1 MiB', () => {
    expect(start({ dataAlignmentKiB: 8192 })).toBe(8 * mib);
    expect(start({ dataAlignmentKiB: 8192 }, { optIoBytes: 3 * mib })).toBe(8 * mib);
    expect(start({ dataAlignmentKiB: 64 })).toBe(mib);
    expect(start({ dataAlignmentKiB: 768 })).toBe(1536 * kib);
  });

  it('default_data_alignment in MiB (0 = 1 MiB)', () => {
    expect(start({ defaultDataAlignmentMiB: 3 })).toBe(3 * mib);
    expect(start({ defaultDataAlignmentMiB: 0 })).toBe(mib);
  });

  it('data_alignment_detection: minimum, then optimal I/O size replace an alignment that is not their multiple', () => {
    expect(start({}, { minIoBytes: 4096 })).toBe(mib);
    expect(start({}, { optIoBytes: 1536 * kib })).toBe(1536 * kib);
    expect(start({}, { minIoBytes: 64 * kib, optIoBytes: 3 * mib })).toBe(3 * mib);
    expect(start({ dataAlignmentDetection: false }, { optIoBytes: 3 * mib })).toBe(mib);
  });

  it('data_alignment_offset_detection adds the device\'s alignment offset (a misaligned -1 counts as 0)', () => {
    expect(start({}, { alignmentOffsetBytes: 3584 })).toBe(mib + 3584);
    expect(start({}, { alignmentOffsetBytes: -1 })).toBe(mib);
    expect(start({ dataAlignmentOffsetDetection: false }, { alignmentOffsetBytes: 3584 })).toBe(mib);
  });

  it('pvmetadatacopies = 0: alignment plus offset, no metadata area before it', () => {
    expect(start({ pvMetadataCopies: 0, dataAlignmentKiB: 64 })).toBe(64 * kib);
  });

  it('refuses to guess: a second metadata area, a set pvmetadatasize, missing hints, an offset past the alignment', () => {
    expect(start({ pvMetadataCopies: 2 })).toMatch(/pvmetadatacopies = 2/);
    expect(start({ pvMetadataSizeSectors: 2040 })).toMatch(/pvmetadatasize = 2040/);
    expect(start({}, null)).toMatch(/I\/O hints .* could not be read/);
    expect(start({ dataAlignmentKiB: 64 }, { alignmentOffsetBytes: 128 * kib })).toMatch(/exceeds the data alignment/);
  });
});
