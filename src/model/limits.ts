/** Size limits of thin-pool metadata: one constant per fact, with where the fact comes from. */

/**
 * The most metadata the kernel's dm-thin uses: THIN_METADATA_MAX_SECTORS, 255 × 2¹⁴ blocks of 4 KiB
 * (15.94 GiB). A bare (loop) pool's metadata device beyond this is ignored.
 */
export const kernelMaxMetadataBytes = 255 * 2 ** 14 * 4096;

/**
 * The largest metadata LV LVM makes for a thin pool, 16192 MiB: what lvcreate/lvextend warn about as
 * "Maximum supported pool metadata size is 15.81 GiB". Anything above is wasted.
 */
export const lvmMaxMetadataBytes = 16192 * 1024 ** 2;

/** The smallest metadata dm-thin accepts (lvmthin(7): 2 MiB). */
export const minMetadataBytes = 2 * 1024 ** 2;
