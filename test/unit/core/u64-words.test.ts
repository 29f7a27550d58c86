// u64 money as two u32 words read and written as numbers (core/u64-words.ts). Invariants: a value below
// 2^53 reads exactly and one at or above it reads as Infinity (never rounded); a write takes only safe
// non-negative integers; the batch timestamp stamp equals setBigUint64(base + i) modulo 2^64.

import { describe, expect, test } from 'vitest';
import { AssertionError } from '../../../src/core/assert.js';
import { exactNumberLimit, isZeroU64At, setU64Number, setU64SumAt, u64Number, u64NumberAt, u64WordsOf } from '../../../src/core/u64-words.js';

function wordsOf(value: bigint): Uint32Array {
  const words = new Uint32Array(2);
  new DataView(words.buffer).setBigUint64(0, value, true);
  return words;
}

const two53 = 2n ** 53n;
const u64Max = 2n ** 64n - 1n;

describe('reading a u64 as a number', () => {
  test.each([0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 52n + 1n, two53 - 1n])('%s reads exactly', (value) => {
    expect(u64Number(wordsOf(value), 0)).toBe(Number(value));
    expect(u64NumberAt(new DataView(wordsOf(value).buffer), 0)).toBe(Number(value));
  });

  test.each([two53, two53 + 1n, 2n ** 63n, u64Max])('%s reads as Infinity, never rounded', (value) => {
    expect(u64Number(wordsOf(value), 0)).toBe(Infinity);
    expect(u64NumberAt(new DataView(wordsOf(value).buffer), 0)).toBe(Infinity);
  });

  test('the limit is 2^53', () => {
    expect(exactNumberLimit).toBe(Number(two53));
  });
});

describe('writing a number as a u64', () => {
  test.each([0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1])('%s round-trips through the words', (value) => {
    const words = new Uint32Array(4).fill(0xffff_ffff);
    setU64Number(words, 1, value);
    expect(new DataView(words.buffer).getBigUint64(4, true)).toBe(BigInt(value));
    expect([words[0], words[3]]).toEqual([0xffff_ffff, 0xffff_ffff]); // neighbours untouched
  });

  test.each([2 ** 53, -1, 0.5, Infinity, NaN])('%s is refused: it is not an exact non-negative u64', (value) => {
    expect(() => setU64Number(new Uint32Array(2), 0, value)).toThrow(AssertionError);
  });
});

describe('the words of a u64 and the batch timestamp stamp', () => {
  test('isZeroU64At looks at both words', () => {
    expect(isZeroU64At(new DataView(wordsOf(0n).buffer), 0)).toBe(true);
    expect(isZeroU64At(new DataView(wordsOf(1n).buffer), 0)).toBe(false);
    expect(isZeroU64At(new DataView(wordsOf(2n ** 32n).buffer), 0)).toBe(false);
  });

  test.each([
    ['a realistic clock', 1_700_000_000_000_000_000n, [0, 1, 8189]],
    ['a carry into the high word', 2n ** 32n - 3n, [0, 2, 3, 8189]],
    ['a wrap past 2^64 − 1, as setBigUint64 wraps', u64Max - 1n, [0, 1, 2, 8189]],
  ])('base + i is written as setBigUint64 writes it (%s)', (_case, base, addends) => {
    const words = u64WordsOf(base);
    for (const i of addends) {
      const ours = new DataView(new ArrayBuffer(8));
      const theirs = new DataView(new ArrayBuffer(8));
      setU64SumAt(ours, 0, words, i);
      theirs.setBigUint64(0, base + BigInt(i), true);
      expect(ours.getBigUint64(0, true)).toBe(theirs.getBigUint64(0, true));
    }
  });
});
