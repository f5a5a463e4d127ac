/**
 * A minimal read-only reader of bbolt database files (the format containerd keeps its snapshotters'
 * metadata in), enough to walk buckets and read their keys and values from a copy of the file's bytes.
 * No lock is taken — bolt's lock is advisory and containerd holds it while it runs — so the reader
 * follows only the newest meta page whose checksum is right, and fails (never guesses) on a page that
 * does not look like the tree it expects. Stale copies of records in freed pages are never reached.
 *
 * Layout (bbolt 1.3, page.go / node.go / bucket.go): page header 16 bytes (id u64, flags u16, count
 * u16, overflow u32); meta pages 0 and 1 (magic 0xED0CDAED, version 2, page size, flags, root bucket
 * {root pgid u64, sequence u64}, freelist, pgid, txid, FNV-1a-64 checksum of the 56 bytes before it);
 * branch elements 16 bytes (pos u32, ksize u32, pgid u64); leaf elements 16 bytes (flags u32, pos u32,
 * ksize u32, vsize u32; flag 1 = a nested bucket, whose value is its header and, when its root is 0,
 * an inline page). Little-endian throughout (amd64, arm64).
 */

const branchPage = 0x01;
const leafPage = 0x02;
const metaPage = 0x04;
const bucketLeafFlag = 0x01;
const magic = 0xed0cdaed;
const pageHeaderSize = 16;
const elementSize = 16;

export interface BoltEntry {
  key: Uint8Array;
  /** A plain value; undefined for a nested bucket. */
  value: Uint8Array | undefined;
  /** A nested bucket. */
  bucket: BoltBucket | undefined;
}

export interface BoltBucket {
  entries(): BoltEntry[];
  /** The nested bucket under `name`, or undefined. */
  bucket(name: string): BoltBucket | undefined;
  /** The value under `name`, or undefined. */
  get(name: string): Uint8Array | undefined;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

function fnv1a64(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h;
}

/** Opens a bolt file's bytes; throws when no meta page is valid. */
export function openBolt(data: Uint8Array): BoltBucket {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u64 = (at: number) => {
    if (at + 8 > data.byteLength) throw new Error('bolt file cut short');
    return Number(view.getBigUint64(at, true));
  };
  const metaAt = (pageOffset: number) => {
    const m = pageOffset + pageHeaderSize;
    if (m + 64 > data.byteLength || (view.getUint16(pageOffset + 8, true) & metaPage) === 0 || view.getUint32(m, true) !== magic) return undefined;
    if (view.getBigUint64(m + 56, true) !== fnv1a64(data.subarray(m, m + 56))) return undefined;
    return { pageSize: view.getUint32(m + 8, true), root: u64(m + 16), txid: u64(m + 48) };
  };
  const first = metaAt(0);
  if (!first) throw new Error('not a bolt database (no valid meta page 0)');
  const second = metaAt(first.pageSize);
  const meta = second && second.txid > first.txid ? second : first;
  const pageSize = meta.pageSize;

  /** Entries of the tree whose root page is at byte `offset` (a page of this file, or an inline page). */
  const walk = (offset: number, out: BoltEntry[], depth: number): void => {
    if (depth > 64) throw new Error('bolt tree too deep');
    const flags = view.getUint16(offset + 8, true);
    const count = view.getUint16(offset + 10, true);
    for (let i = 0; i < count; i++) {
      const e = offset + pageHeaderSize + i * elementSize;
      if (flags & branchPage) {
        walk(u64(e + 8) * pageSize, out, depth + 1);
      } else if (flags & leafPage) {
        const elementFlags = view.getUint32(e, true);
        const pos = e + view.getUint32(e + 4, true);
        const ksize = view.getUint32(e + 8, true);
        const vsize = view.getUint32(e + 12, true);
        if (pos + ksize + vsize > data.byteLength) throw new Error('bolt element past the end of the file');
        const key = data.subarray(pos, pos + ksize);
        const value = data.subarray(pos + ksize, pos + ksize + vsize);
        if (elementFlags & bucketLeafFlag) out.push({ key, value: undefined, bucket: bucketAt(value.byteOffset - data.byteOffset, depth + 1) });
        else out.push({ key, value, bucket: undefined });
      } else {
        throw new Error(`bolt page at byte ${offset} is neither a branch nor a leaf (flags ${flags})`);
      }
    }
  };
  /** A bucket whose header (root pgid, sequence) is at byte `header`; root 0 = inline page after it. */
  const bucketAt = (header: number, depth: number): BoltBucket => {
    const root = u64(header);
    return bucketOfRoot(root === 0 ? header + 16 : root * pageSize, depth);
  };
  const bucketOfRoot = (rootOffset: number, depth: number): BoltBucket => {
    let cached: BoltEntry[] | undefined;
    const entries = () => {
      if (!cached) {
        cached = [];
        walk(rootOffset, cached, depth);
      }
      return cached;
    };
    const find = (name: string) => entries().find((e) => text(e.key) === name);
    return { entries, bucket: (name) => find(name)?.bucket, get: (name) => find(name)?.value };
  };
  return bucketOfRoot(meta.root * pageSize, 0);
}

export function boltText(value: Uint8Array | undefined): string | undefined {
  return value === undefined ? undefined : text(value);
}

/** Go's binary.Uvarint (containerd stores snapshot ids this way). */
export function uvarint(value: Uint8Array | undefined): number | undefined {
  if (value === undefined) return undefined;
  let result = 0;
  let shift = 0;
  for (const b of value) {
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
  }
  return undefined;
}
