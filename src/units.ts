/** Byte counts for humans. */

/** Sizes in binary units, as LVM prints them: 1.98 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(2).replace(/\.?0+$/, '')} ${units[unit]}`;
}
