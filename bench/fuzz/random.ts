// The fuzzer's only source of randomness: test/support/prng.ts's mulberry32 behind the draws the
// generator needs (integers, picks, weights, 128-bit ids). Same seed, same draws, in the same order.

import { sliceTag } from '../../src/core/hot/hot-outbound.js';
import { mulberry32 } from '../../test/support/prng.js';

/** The high word of system account ids (transit, suspense): callers may never create ids there. */
const systemHighWord = 0xffff_ffff;

export class Random {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** An integer in 0..n−1. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in lo..hi. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  u32(): number {
    return Math.floor(this.next() * 0x1_0000_0000);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Random.pick: nothing to pick from');
    return items[this.int(items.length)]!;
  }

  /** One of `entries` with probability proportional to its weight (weights ≥ 0, at least one > 0). */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    if (!(total > 0)) throw new RangeError('Random.weighted: no positive weight');
    let at = this.next() * total;
    for (const [value, weight] of entries) {
      if (at < weight) return value;
      at -= weight;
    }
    return entries[entries.length - 1]![0];
  }

  /** A u64 amount in 1..max, small amounts far more likely than large ones. */
  amount(max: bigint): bigint {
    const digits = this.range(0, max.toString().length - 1);
    const value = BigInt(Math.floor(this.next() * 10 ** Math.min(digits, 15))) * 10n ** BigInt(Math.max(0, digits - 15)) + 1n;
    return value > max ? max : value;
  }

  /** A caller's id: non-zero, and outside the ranges the server keeps for itself (system accounts, slices). */
  id(): bigint {
    for (;;) {
      const high = this.u32();
      if (high === systemHighWord || high === sliceTag) continue;
      const id = (BigInt(high) << 96n) | (BigInt(this.u32()) << 64n) | (BigInt(this.u32()) << 32n) | BigInt(this.u32());
      if (id !== 0n) return id;
    }
  }
}
