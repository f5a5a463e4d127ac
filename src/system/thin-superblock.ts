/**
 * The thin-pool metadata superblock: block 0 of a pool's metadata device, in the kernel's on-disk
 * format (drivers/md/dm-thin-metadata.c, `struct thin_disk_superblock`, little-endian). dmctl reads it
 * from an INACTIVE pool's physical volume, read-only, for the transaction id the kernel will load: LVM
 * compares it with its own on activation (the moby#15629 trap). An active pool's id comes from
 * `dmsetup status` instead.
 */

/** How much to read: one metadata block. */
export const thinSuperblockBytes = 4096;

/** THIN_SUPERBLOCK_MAGIC, at byte 32. */
const thinSuperblockMagic = 27022010n;

/**
 * The transaction id (a u64 at byte 48), or undefined when `bytes` is not a thin-pool superblock
 * (wrong magic, short read): the caller then does not know, and must not guess.
 */
export function parseThinSuperblock(bytes: Uint8Array): { transactionId: number } | undefined {
  if (bytes.length < 56) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getBigUint64(32, true) !== thinSuperblockMagic) return undefined;
  return { transactionId: Number(view.getBigUint64(48, true)) };
}
