// parseAmount / formatAmount: exact conversion between decimal strings and minor units; money is never rounded.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAmount, parseAmount } from '../../../src/client/amounts.js';
import { amountScaleMax } from '../../../src/core/limits.js';

describe('parseAmount', () => {
  it.each([
    ['12.34', 2, 1234n],
    ['12.3', 2, 1230n],
    ['12', 2, 1200n],
    ['0.01', 2, 1n],
    ['0', 0, 0n],
    ['-7.5', 1, -75n],
    ['00012.30', 2, 1230n],
    ['18446744073709551615', 0, 18446744073709551615n],
    ['184467440737.09551615', 8, 18446744073709551615n],
    ['1.000000000000000001', 18, 1000000000000000001n],
  ])('%s at scale %d is %d', (text, scale, minor) => {
    expect(parseAmount(text, scale)).toBe(minor);
  });

  it('refuses more decimals than the scale instead of rounding', () => {
    expect(() => parseAmount('1.005', 2)).toThrow(/3 decimals but the scale is 2; refusing to round money/);
    expect(() => parseAmount('1.0', 0)).toThrow(RangeError);
  });

  it.each(['', ' 1', '1.', '.5', '1e3', '+1', '1,5', '0x10', 'NaN', 'Infinity', '1..2', '--1'])('refuses %j as not a plain decimal', (text) => {
    expect(() => parseAmount(text, 2)).toThrow(/not a plain decimal/);
  });

  it.each([-1, 1.5, amountScaleMax + 1, NaN])('refuses scale %d', (scale) => {
    expect(() => parseAmount('1', scale)).toThrow(/scale must be an integer/);
  });
});

describe('formatAmount', () => {
  it.each([
    [1234n, 2, '12.34'],
    [1n, 2, '0.01'],
    [0n, 2, '0.00'],
    [-5n, 2, '-0.05'],
    [1200n, 0, '1200'],
    [18446744073709551615n, 8, '184467440737.09551615'],
  ])('%d at scale %d is %s', (minor, scale, text) => {
    expect(formatAmount(minor, scale)).toBe(text);
  });

  it('refuses a number instead of a bigint', () => {
    expect(() => formatAmount(5 as unknown as bigint, 2)).toThrow(/must be a bigint/);
  });

  it('round-trips with parseAmount for every amount and scale', () => {
    const amount = fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n });
    fc.assert(
      fc.property(amount, fc.integer({ min: 0, max: amountScaleMax }), (minor, scale) => {
        expect(parseAmount(formatAmount(minor, scale), scale)).toBe(minor);
      }),
    );
  });
});
