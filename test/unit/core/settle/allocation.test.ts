// Allocation as a spec: fixed parts first and never rounded, shares floored with the leftover units to the earliest
// shares that were rounded, the rest part, fees with floors and caps, waterfalls and 分账; every impossible spec
// refused with its code. The sums are checked for all inputs by test/property/settle-allocation.property.test.ts.

import { describe, expect, it } from 'vitest';
import { allocate, feeOf, shareProfit, waterfall, type AllocationPart } from '../../../../src/core/settle/allocation.js';
import { SettleError } from '../../../../src/core/settle/settle-errors.js';
import { refusal } from './refusal.js';

const refused = (run: () => unknown): SettleError => refusal(SettleError, run);

const amounts = (parts: { amountMinor: bigint }[]): bigint[] => parts.map((part) => part.amountMinor);

describe('allocate', () => {
  it('hands the leftover units to the earliest shares that were rounded down', () => {
    const thirds: AllocationPart[] = [
      { name: 'a', share: { ratio: '0.333333333333' } },
      { name: 'b', share: { ratio: '0.333333333333' } },
      { name: 'c', share: { ratio: '0.333333333334' } },
    ];
    expect(amounts(allocate(100n, thirds))).toEqual([34n, 33n, 33n]);
    expect(amounts(allocate(101n, thirds))).toEqual([34n, 34n, 33n]);
    expect(amounts(allocate(2n, [...thirds].reverse()))).toEqual([1n, 1n, 0n]);
  });

  it('never gives a leftover unit to a share that was exact, a 0% share included', () => {
    const parts: AllocationPart[] = [
      { name: 'nothing', share: { bps: 0 } },
      { name: 'half', share: { bps: 5000 } },
      { name: 'quarter', share: { ratio: '0.25' } },
      { name: 'another quarter', share: { ratio: '0.25' } },
    ];
    // 101: half 50.5, quarters 25.25 each: floors 50 + 25 + 25, one unit left → 'half', the earliest rounded.
    expect(amounts(allocate(101n, parts))).toEqual([0n, 51n, 25n, 25n]);
    // 102: half is exact (51); quarters 25.5 each: floors 51 + 25 + 25, one unit left → the first quarter.
    expect(amounts(allocate(102n, parts))).toEqual([0n, 51n, 26n, 25n]);
  });

  it('takes fixed parts first, unrounded, and shares what remains', () => {
    const parts: AllocationPart[] = [
      { name: 'platform', share: { bps: 3000 } },
      { name: 'fixed', fixedMinor: 33n },
      { name: 'merchant', share: { bps: 7000 } },
    ];
    expect(allocate(100n, parts)).toEqual([
      { name: 'platform', amountMinor: 21n }, // 30% of 67 = 20.1
      { name: 'fixed', amountMinor: 33n },
      { name: 'merchant', amountMinor: 46n }, // 70% of 67 = 46.9, floors leave 1 unit, which goes to the earlier share
    ]);
  });

  it('gives the rest part what shares under 100% leave', () => {
    const parts: AllocationPart[] = [
      { name: 'agent', share: { ratio: '0.015' } },
      { name: 'merchant', rest: true },
      { name: 'isv', share: { ratio: '0.005' } },
    ];
    // 12345 × 2% = 246.9 owed to shares: floors 185 + 61 = 246, nothing left over; rest 12099.
    expect(amounts(allocate(12_345n, parts))).toEqual([185n, 12_099n, 61n]);
    expect(amounts(allocate(0n, parts))).toEqual([0n, 0n, 0n]);
    expect(amounts(allocate(50n, [{ name: 'all', fixedMinor: 50n }, { name: 'r', rest: true }]))).toEqual([50n, 0n]);
  });

  it.each([
    ['a negative total', -1n, [{ name: 'r', rest: true }], 'amount_negative', 'the total is -1'],
    ['no parts', 1n, [], 'parts_invalid', 'an allocation has 1 to 1000 parts, not 0'],
    ['a name twice', 1n, [{ name: 'a', rest: true }, { name: 'a', fixedMinor: 0n }], 'parts_invalid', 'part "a" is given twice'],
    ['an empty name', 1n, [{ name: '', rest: true }], 'parts_invalid', 'part name "" must be 1 to 64 characters'],
    ['two rest parts', 1n, [{ name: 'a', rest: true }, { name: 'b', rest: true }], 'parts_invalid', '2 parts take the rest'],
    ['a negative fixed part', 1n, [{ name: 'a', fixedMinor: -5n }, { name: 'r', rest: true }], 'amount_negative', 'fixed part "a" is -5'],
    ['fixed parts over the total', 10n, [{ name: 'a', fixedMinor: 6n }, { name: 'b', fixedMinor: 5n }, { name: 'r', rest: true }], 'fixed_over_total', 'fixed parts of 11 exceed the total of 10'],
    ['shares over 100%', 10n, [{ name: 'a', share: { bps: 6000 } }, { name: 'b', share: { ratio: '0.4001' } }], 'shares_over_whole', 'more than 100%'],
    ['shares under 100% with no rest', 10n, [{ name: 'a', share: { bps: 9999 } }], 'shares_under_whole', 'less than 100% and no part takes the rest'],
    ['negative basis points', 10n, [{ name: 'a', share: { bps: -1 } }], 'share_invalid', 'share "a": -1 basis points'],
    ['fractional basis points', 10n, [{ name: 'a', share: { bps: 0.5 } }], 'share_invalid', '0.5 basis points must be a whole number'],
    ['basis points over 10000', 10n, [{ name: 'a', share: { bps: 10_001 } }], 'share_invalid', '10001 basis points'],
    ['a negative ratio', 10n, [{ name: 'a', share: { ratio: '-0.1' } }], 'share_invalid', 'ratio "-0.1" must be a decimal from 0 to 1'],
    ['a ratio over 1', 10n, [{ name: 'a', share: { ratio: '1.01' } }], 'share_invalid', 'ratio "1.01"'],
    ['a ratio with 13 decimals', 10n, [{ name: 'a', share: { ratio: '0.1000000000000' } }], 'share_invalid', 'at most 12 decimals'],
    ['a percentage sign', 10n, [{ name: 'a', share: { ratio: '25%' } }], 'share_invalid', 'ratio "25%"'],
  ] as [string, bigint, AllocationPart[], string, string][])('refuses %s', (_what, total, parts, code, words) => {
    const error = refused(() => allocate(total, parts));
    expect(error.code).toBe(code);
    expect(error.message).toContain(words);
  });
});

describe('feeOf', () => {
  it.each([
    ['percentage, half up', 100_050n, { rate: { bps: 60 }, mode: 'half_up' }, 600n],
    ['percentage, up', 100_001n, { rate: { bps: 60 }, mode: 'up' }, 601n],
    ['percentage, down', 100_166n, { rate: { bps: 60 }, mode: 'down' }, 600n],
    ['a half, half even', 250n, { rate: { ratio: '0.01' }, mode: 'half_even' }, 2n],
    ['fixed plus percentage: the fixed part is never rounded', 10_050n, { rate: { ratio: '0.0038' }, fixedMinor: 30n, mode: 'down' }, 68n],
    ['raised to the floor', 1_000n, { rate: { bps: 60 }, mode: 'half_up', floorMinor: 100n }, 100n],
    ['lowered to the cap', 10_000_000n, { rate: { bps: 60 }, mode: 'half_up', capMinor: 2_500n }, 2_500n],
    ['the floor may exceed a tiny amount', 50n, { rate: { bps: 60 }, mode: 'half_up', floorMinor: 100n }, 100n],
    ['floor equal to cap', 7n, { rate: { bps: 60 }, mode: 'half_up', floorMinor: 9n, capMinor: 9n }, 9n],
  ] as const)('%s', (_what, amount, spec, expected) => {
    expect(feeOf(amount, spec)).toBe(expected);
  });

  it.each([
    ['a floor above the cap', { rate: { bps: 60 }, mode: 'half_up', floorMinor: 10n, capMinor: 9n }, 'floor_over_cap', 'the fee floor 10 is above the cap 9'],
    ['a negative fixed fee', { rate: { bps: 60 }, mode: 'half_up', fixedMinor: -1n }, 'amount_negative', 'the fixed fee is -1'],
    ['a negative cap', { rate: { bps: 60 }, mode: 'half_up', capMinor: -1n }, 'amount_negative', 'the fee cap is -1'],
    ['a rate over 100%', { rate: { bps: 10_001 }, mode: 'half_up' }, 'share_invalid', 'the fee rate: 10001 basis points'],
  ] as const)('refuses %s', (_what, spec, code, words) => {
    const error = refused(() => feeOf(100n, spec));
    expect(error.code).toBe(code);
    expect(error.message).toContain(words);
  });
});

describe('waterfall', () => {
  it('fills tranches in order, each up to its cap', () => {
    const tranches = [{ name: 'fees', capMinor: 300n }, { name: 'reserve', capMinor: 1_000n }, { name: 'merchant' }];
    expect(waterfall(5_000n, tranches)).toEqual({ parts: [{ name: 'fees', amountMinor: 300n }, { name: 'reserve', amountMinor: 1_000n }, { name: 'merchant', amountMinor: 3_700n }], restMinor: 0n });
    expect(amounts(waterfall(800n, tranches).parts)).toEqual([300n, 500n, 0n]);
  });

  it('reports what capped tranches leave', () => {
    expect(waterfall(500n, [{ name: 'a', capMinor: 100n }, { name: 'b', capMinor: 150n }])).toEqual({ parts: [{ name: 'a', amountMinor: 100n }, { name: 'b', amountMinor: 150n }], restMinor: 250n });
  });

  it('refuses an uncapped tranche before the last, and negative caps', () => {
    expect(refused(() => waterfall(5n, [{ name: 'a' }, { name: 'b' }])).message).toContain('tranche "a" has no cap but is not last');
    expect(refused(() => waterfall(5n, [{ name: 'a', capMinor: -1n }])).code).toBe('amount_negative');
    expect(refused(() => waterfall(5n, [])).code).toBe('parts_invalid');
  });
});

describe('shareProfit (分账)', () => {
  it('takes the fee whole, then splits the rest among receivers, the merchant taking what is left', () => {
    const result = shareProfit(10_000n, 60n, [
      { receiver: 'agent', share: { ratio: '0.1' } },
      { receiver: 'logistics', fixedMinor: 500n },
      { receiver: 'isv', share: { bps: 333 } },
    ], 'merchant');
    // 9940 after the fee; fixed 500 first; shares of 9440: agent 944, isv 314.352 → 314; merchant the rest.
    expect(result).toEqual({
      feeMinor: 60n,
      parts: [
        { name: 'agent', amountMinor: 944n },
        { name: 'logistics', amountMinor: 500n },
        { name: 'isv', amountMinor: 314n },
        { name: 'merchant', amountMinor: 8_182n },
      ],
    });
  });

  it('refuses a fee over the payment, and receivers that take more than is left', () => {
    expect(refused(() => shareProfit(100n, 101n, [], 'merchant')).code).toBe('fee_over_amount');
    expect(refused(() => shareProfit(100n, 10n, [{ receiver: 'a', fixedMinor: 91n }], 'merchant')).code).toBe('fixed_over_total');
    expect(refused(() => shareProfit(100n, 10n, [{ receiver: 'merchant', fixedMinor: 1n }], 'merchant')).message).toContain('part "merchant" is given twice');
  });
});
