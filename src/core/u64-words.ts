// u64 money held as two u32 words (low, high) in a typed array, read and written as a JavaScript number
// where that is exact: below 2^53. Lets the common posting path skip BigInt; every caller falls back to
// the BigInt code when a value is not below the limit. Never rounds: a value it cannot hold exactly it
// reports as Infinity, which no check below the limit accepts.

import { assert } from './assert.js';

/** Every u64 below this is exact as a number (2^53). */
export const exactNumberLimit = 2 ** 53;
const wordSpan = 2 ** 32;
/** The high word of exactNumberLimit: a u64 is exact as a number when its high word is below it. */
const highWordLimit = exactNumberLimit / wordSpan;

/** The u64 at words[index] (low), words[index + 1] (high) as an exact number, or Infinity when it is 2^53 or more. */
export function u64Number(words: Uint32Array, index: number): number {
  const high = words[index + 1]!;
  return high < highWordLimit ? high * wordSpan + words[index]! : Infinity;
}

/** The little-endian u64 at `at` as an exact number, or Infinity when it is 2^53 or more. */
export function u64NumberAt(view: DataView, at: number): number {
  const high = view.getUint32(at + 4, true);
  return high < highWordLimit ? high * wordSpan + view.getUint32(at, true) : Infinity;
}

/** Writes `value`, an integer in 0..2^53 − 1, as the u64 words at words[index], words[index + 1]. */
export function setU64Number(words: Uint32Array, index: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, 'a u64 written from a number is a safe non-negative integer');
  const low = value >>> 0;
  words[index] = low;
  words[index + 1] = (value - low) / wordSpan;
}

/** True when the u64 at `at` is zero. */
export function isZeroU64At(view: DataView, at: number): boolean {
  return view.getUint32(at, true) === 0 && view.getUint32(at + 4, true) === 0;
}

/** The u64 `value` as its low and high words (for setU64SumAt). */
export function u64WordsOf(value: bigint): { low: number; high: number } {
  assert(value >= 0n && value < 1n << 64n, 'a u64');
  return { low: Number(value & 0xffff_ffffn), high: Number(value >> 32n) };
}

/**
 * Writes base + addend at `at` (little-endian, modulo 2^64 as setBigUint64 writes), `base` given as its words
 * and `addend` an integer in 0..2^32 − 1: stamps a batch's timestamps without a BigInt per event.
 */
export function setU64SumAt(view: DataView, at: number, base: { low: number; high: number }, addend: number): void {
  const low = base.low + addend;
  const carry = low >= wordSpan ? 1 : 0;
  view.setUint32(at, low >>> 0, true);
  view.setUint32(at + 4, (base.high + carry) >>> 0, true);
}
