// Byte-level comparisons shared by replay checks, stores and queries.

/** Whether two byte ranges hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether the `width` bytes of `bytes` from `at` are all zero. */
export function isZeroAt(bytes: Uint8Array, at: number, width: number): boolean {
  for (let i = 0; i < width; i++) if (bytes[at + i] !== 0) return false;
  return true;
}
