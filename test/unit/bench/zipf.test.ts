// The Zipf sampler of the load bench and the PostgreSQL baseline: the table is a distribution, a draw
// is a binary search over it, and a fixed-seed run of draws follows P(rank k) ∝ 1 / (k + 1)^s.
import { describe, expect, it } from 'vitest';
import { ZipfTable, zipfExponentOption, zipfTable } from '../../../bench/load/zipf.js';
import { mulberry32 } from '../../support/prng.js';

const harmonic = (n: number, s: number) => Array.from({ length: n }, (_, k) => (k + 1) ** -s).reduce((a, b) => a + b, 0);

describe('ZipfTable', () => {
  it.each([
    [1, 1],
    [10, 1],
    [1000, 1],
    [1000, 0],
    [1000, 2.5],
  ])('over %i ranks with s = %d: probabilities follow 1 / (k + 1)^s and sum to 1', (n, s) => {
    const table = new ZipfTable(n, s);
    const h = harmonic(n, s);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      expect(table.probability(k)).toBeCloseTo((k + 1) ** -s / h, 12);
      sum += table.probability(k);
    }
    expect(sum).toBeCloseTo(1, 12);
  });

  it('maps the ends of [0, 1) to the first and last rank, and a CDF step to the next rank', () => {
    const table = new ZipfTable(100, 1);
    expect(table.rankAt(0)).toBe(0);
    expect(table.rankAt(1 - 2 ** -32)).toBe(99);
    expect(table.rankAt(table.probability(0))).toBe(1);
    expect(table.rankAt(table.probability(0) - 1e-12)).toBe(0);
  });

  it('draws, with a fixed seed, the expected share of each top rank and decreasing counts (s = 1, 1,000 ranks)', () => {
    const n = 1000;
    const draws = 200_000;
    const table = new ZipfTable(n, 1);
    const random = mulberry32(0x5eed);
    const counts = new Uint32Array(n);
    for (let i = 0; i < draws; i++) counts[table.rankAt(random())]++;
    for (let k = 0; k < 10; k++) {
      const expected = draws * table.probability(k);
      // Within 5 standard deviations of the binomial count: a wrong table or search lands far outside.
      expect(Math.abs(counts[k] - expected)).toBeLessThan(5 * Math.sqrt(expected));
    }
    expect(counts[0]).toBeGreaterThan(counts[1]);
    expect(counts[1]).toBeGreaterThan(counts[3]);
    expect(counts[3]).toBeGreaterThan(counts[30]);
    // The tail half of the ranks holds about (H(1000) − H(500)) / H(1000) ≈ 5.7% of the draws.
    const tail = counts.slice(500).reduce((a, b) => a + b, 0) / draws;
    expect(tail).toBeCloseTo((harmonic(1000, 1) - harmonic(500, 1)) / harmonic(1000, 1), 2);
  });

  it('s = 0 is uniform', () => {
    const table = new ZipfTable(4, 0);
    expect([0.1, 0.3, 0.6, 0.9].map((u) => table.rankAt(u))).toEqual([0, 1, 2, 3]);
  });

  it('shares one table per (ranks, exponent)', () => {
    expect(zipfTable(500, 1)).toBe(zipfTable(500, 1));
    expect(zipfTable(500, 1.2)).not.toBe(zipfTable(500, 1));
  });

  it('refuses ranks and exponents out of range', () => {
    expect(() => new ZipfTable(0, 1)).toThrow(/zipf ranks/);
    expect(() => new ZipfTable(10, -1)).toThrow(/zipf exponent/);
    expect(() => new ZipfTable(10, 5)).toThrow(/zipf exponent/);
  });
});

describe('--zipf-exponent', () => {
  const refuse = (message: string) => new Error(message);
  it.each([
    ['1', 1],
    ['0.8', 0.8],
    ['0', 0],
    ['4', 4],
  ])('takes %s', (text, value) => expect(zipfExponentOption(text, refuse)).toBe(value));
  it.each(['-1', '4.5', 'one', '', '1e3'])('refuses %j, naming the option', (text) => expect(() => zipfExponentOption(text, refuse)).toThrow(/--zipf-exponent/));
});
