// Little-endian u128/u64 access on byte buffers, and the compact string key used for ids in maps.
// Keys are built from raw bytes without going through bigint, because the posting path makes
// three of them per transfer.

const mask64 = (1n << 64n) - 1n;

/** A DataView over exactly the bytes of `bytes` (which may be a window into a larger buffer). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function readU128(view: DataView, offset: number): bigint {
  const lo = view.getBigUint64(offset, true);
  const hi = view.getBigUint64(offset + 8, true);
  return hi === 0n ? lo : (hi << 64n) | lo;
}

export function writeU128(view: DataView, offset: number, value: bigint): void {
  view.setBigUint64(offset, value & mask64, true);
  view.setBigUint64(offset + 8, value >> 64n, true);
}

/** True when the 16 bytes at offset are all zero (an unset id). */
export function isZero128(view: DataView, offset: number): boolean {
  return (
    view.getUint32(offset, true) === 0 &&
    view.getUint32(offset + 4, true) === 0 &&
    view.getUint32(offset + 8, true) === 0 &&
    view.getUint32(offset + 12, true) === 0
  );
}

/**
 * 52 bits of the u128 at `offset` as a number (no string, no BigInt: one per event on request paths). Equal ids give
 * equal keys; two ids may share one (newId()'s low bits are random), so a key decides only where a shared key costs
 * a needless wait or stage, never a wrong answer.
 */
export function idKey52At(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + (view.getUint32(offset + 4, true) & 0xf_ffff) * 2 ** 32;
}

/** An 8-character string that identifies the u128 at offset: equal ids give equal keys. */
export function idKeyAt(view: DataView, offset: number): string {
  return String.fromCharCode(
    view.getUint16(offset, true),
    view.getUint16(offset + 2, true),
    view.getUint16(offset + 4, true),
    view.getUint16(offset + 6, true),
    view.getUint16(offset + 8, true),
    view.getUint16(offset + 10, true),
    view.getUint16(offset + 12, true),
    view.getUint16(offset + 14, true),
  );
}

/** Writes the id whose key (idKeyAt) is `key` at `offset`: the inverse of idKeyAt. */
export function writeIdKeyAt(view: DataView, offset: number, key: string): void {
  for (let i = 0; i < 8; i++) view.setUint16(offset + i * 2, key.charCodeAt(i), true);
}

const keyScratch = new DataView(new ArrayBuffer(16));

/** The map key of a bigint id (same key as idKeyAt over its encoded bytes). */
export function idKey(id: bigint): string {
  writeU128(keyScratch, 0, id);
  return idKeyAt(keyScratch, 0);
}

/** 32-bit FNV-1a over the 16 id bytes: the stable routing hash (never changes; data depends on it). */
export function hashId32(view: DataView, offset: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < 16; i++) {
    hash ^= view.getUint8(offset + i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Whether the u128 at `aAt` in `a` equals the one at `bAt` in `b` (compared as four words, no bigint). */
export function equalIdsAt(a: DataView, aAt: number, b: DataView, bAt: number): boolean {
  return (
    a.getUint32(aAt, true) === b.getUint32(bAt, true) &&
    a.getUint32(aAt + 4, true) === b.getUint32(bAt + 4, true) &&
    a.getUint32(aAt + 8, true) === b.getUint32(bAt + 8, true) &&
    a.getUint32(aAt + 12, true) === b.getUint32(bAt + 12, true)
  );
}

/** A u128 written in decimal digits (ids and amounts as JSON and the command line carry them), or null. */
export function decimalU128(text: unknown): bigint | null {
  if (typeof text !== 'string' || !/^[0-9]{1,39}$/.test(text)) return null;
  const value = BigInt(text);
  return value < 1n << 128n ? value : null;
}
