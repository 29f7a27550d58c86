// The Zipf distribution over ranks 0..rankCount−1 with exponent s: P(rank k) ∝ 1 / (k + 1)^s. The CDF
// table is built once per (rankCount, s) and shared; a draw maps a uniform u in [0, 1) to a rank by binary
// search. Pure: each caller brings its own seeded PRNG, so the load bench and the PostgreSQL baseline
// draw from the same distribution over the same account ids (rank k is account id k + 1 on both).

import { assert } from '../../src/core/assert.js';
import type { Refuse } from '../../src/cli/option-values.js';

/** Ranks at most: the table takes 8 bytes a rank (5M ranks: 40 MB), like the bench's per-account sums. */
export const zipfRanksMax = 5_000_000;
/** Exponents at most: past ~4 nearly every draw is rank 0 and the debit ≠ credit redraw would spin. */
export const zipfExponentMax = 4;
export const zipfExponentDefault = 1;

export class ZipfTable {
  readonly rankCount: number;
  readonly exponent: number;
  /** cdf[k] = P(rank ≤ k); nondecreasing, and the last entry is exactly 1. */
  private readonly cdf: Float64Array;

  constructor(rankCount: number, exponent: number) {
    assert(Number.isInteger(rankCount) && rankCount >= 1 && rankCount <= zipfRanksMax, `zipf ranks in 1..${zipfRanksMax} (got ${rankCount})`);
    assert(Number.isFinite(exponent) && exponent >= 0 && exponent <= zipfExponentMax, `zipf exponent in 0..${zipfExponentMax} (got ${exponent})`);
    this.rankCount = rankCount;
    this.exponent = exponent;
    const cdf = new Float64Array(rankCount);
    let sum = 0;
    for (let k = 0; k < rankCount; k++) {
      sum += Math.pow(k + 1, -exponent);
      cdf[k] = sum;
    }
    for (let k = 0; k < rankCount; k++) cdf[k] /= sum;
    // Rounding may leave the last entry a hair below 1; a draw just under 1 must still land on a rank.
    cdf[rankCount - 1] = 1;
    this.cdf = cdf;
  }

  /** The rank of a uniform draw u in [0, 1): the first k with u < cdf[k]. */
  rankAt(u: number): number {
    const cdf = this.cdf;
    let lo = 0;
    let hi = this.rankCount - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u < cdf[mid]) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** P(rank = k), from the table. */
  probability(rank: number): number {
    assert(Number.isInteger(rank) && rank >= 0 && rank < this.rankCount, `a rank of the table (got ${rank})`);
    return rank === 0 ? this.cdf[0] : this.cdf[rank] - this.cdf[rank - 1];
  }
}

/** The last table built: a run draws from one (rankCount, exponent), and each connection or phase reuses it. */
let lastTable: ZipfTable | null = null;

/** The table for (rankCount, exponent), built on first use and then shared. */
export function zipfTable(rankCount: number, exponent: number): ZipfTable {
  if (lastTable === null || lastTable.rankCount !== rankCount || lastTable.exponent !== exponent) lastTable = new ZipfTable(rankCount, exponent);
  return lastTable;
}

/** `--zipf-exponent`: a decimal in 0..zipfExponentMax, or `refuse` with a message naming the option. */
export function zipfExponentOption(text: string, refuse: Refuse): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value) || value > zipfExponentMax) throw refuse(`--zipf-exponent must be a number in 0..${zipfExponentMax}, got ${JSON.stringify(text)}`);
  return value;
}
