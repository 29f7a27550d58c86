// Issue #18, allocation. Invariants, for random totals and specs:
//  1. allocate: the parts add up exactly to the total; a fixed part is exactly what was asked; every share is its
//     exact amount rounded down or up; the leftover units go to the earliest shares that were rounded, exactly;
//     the rest part is the remainder after floor(remaining × sum of shares).
//  2. Order: reordering the parts changes no fixed part and no rest part, and moves at most one unit per share
//     (only the leftover units follow the order, by the documented rule).
//  3. feeOf is fixed + round(amount × rate) as big.js computes it, then held between its floor and cap.
//  4. waterfall: parts plus rest add up to the total, each tranche within its cap, and a tranche short of its cap
//     leaves nothing for later ones. shareProfit: fee plus parts add up to the payment.
// fast-check prints the seed and the shrunk counterexample on failure; TALLY_PROPERTY_SEED and
// TALLY_PROPERTY_RUNS replay or widen a run.

import Big from 'big.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate, feeOf, shareProfit, waterfall, type AllocationPart, type Share } from '../../src/core/settle/allocation.js';

const runs = Number(process.env.TALLY_PROPERTY_RUNS ?? 300);
const seed = process.env.TALLY_PROPERTY_SEED === undefined ? undefined : Number(process.env.TALLY_PROPERTY_SEED);
const options = { numRuns: runs, seed };

const amount = fc.bigInt({ min: 0n, max: 10n ** 15n });
const share: fc.Arbitrary<Share> = fc.oneof(
  fc.integer({ min: 0, max: 10_000 }).map((bps) => ({ bps })),
  fc.bigInt({ min: 0n, max: 10n ** 6n }).map((millionths) => ({ ratio: new Big(millionths.toString()).div(1_000_000).toFixed(6) })),
);

/** The exact share as numerator / denominator. */
function exact(part: Share): [bigint, bigint] {
  if ('bps' in part) return [BigInt(part.bps), 10_000n];
  const decimals = part.ratio.includes('.') ? part.ratio.length - part.ratio.indexOf('.') - 1 : 0;
  return [BigInt(part.ratio.replace('.', '')), 10n ** BigInt(decimals)];
}

/** A valid spec: fixed parts within the total, shares scaled down to at most 100%, a rest part when under. */
const spec = fc
  .record({
    total: amount,
    fixedFractions: fc.array(fc.bigInt({ min: 0n, max: 1000n }), { maxLength: 4 }),
    shares: fc.array(share, { minLength: 1, maxLength: 8 }),
    withRest: fc.boolean(),
    restAt: fc.nat(),
  })
  .map(({ total, fixedFractions, shares, withRest, restAt }) => {
    const fixed = fixedFractions.map((thousandths) => (total * thousandths) / 1000n / BigInt(fixedFractions.length));
    // Scale shares into millionths summing to at most a million; without a rest part, top up the last to exactly 100%.
    let millionths = shares.map((s) => (exact(s)[0] * 1_000_000n) / exact(s)[1]);
    const sum = millionths.reduce((a, b) => a + b, 0n);
    if (sum > 1_000_000n) millionths = millionths.map((m) => (m * 1_000_000n) / sum);
    const left = 1_000_000n - millionths.reduce((a, b) => a + b, 0n);
    if (!withRest) millionths[millionths.length - 1]! += left;
    const parts: AllocationPart[] = [
      ...fixed.map((fixedMinor, i) => ({ name: `fixed${i}`, fixedMinor })),
      ...millionths.map((m, i) => ({ name: `share${i}`, share: { ratio: new Big(m.toString()).div(1_000_000).toFixed(6) } })),
    ];
    if (withRest) parts.splice(restAt % (parts.length + 1), 0, { name: 'rest', rest: true });
    return { total, parts };
  });

function check(total: bigint, parts: readonly AllocationPart[]): Map<string, bigint> {
  const result = allocate(total, parts);
  expect(result.map((p) => p.name)).toEqual(parts.map((p) => p.name));
  expect(result.reduce((sum, p) => sum + p.amountMinor, 0n)).toBe(total);
  const remaining = total - parts.reduce((sum, p) => sum + ('fixedMinor' in p ? p.fixedMinor : 0n), 0n);
  let num = 0n;
  let den = 1n;
  let extra = 0n;
  const rounded: number[] = [];
  parts.forEach((part, i) => {
    const got = result[i]!.amountMinor;
    if ('fixedMinor' in part) expect(got).toBe(part.fixedMinor);
    if (!('share' in part)) return;
    const [n, d] = exact(part.share);
    [num, den] = [num * d + n * den, den * d];
    const floor = (remaining * n) / d;
    expect(got === floor || got === floor + 1n).toBe(true);
    if ((remaining * n) % d !== 0n) rounded.push(i);
    else expect(got).toBe(floor);
    extra += got - floor;
  });
  // The leftover units went to the earliest rounded shares, one each.
  rounded.forEach((i, k) => {
    const part = parts[i]! as { share: Share };
    const [n, d] = exact(part.share);
    expect(result[i]!.amountMinor - (remaining * n) / d).toBe(BigInt(k) < extra ? 1n : 0n);
  });
  const restIndex = parts.findIndex((p) => 'rest' in p);
  if (restIndex >= 0) expect(result[restIndex]!.amountMinor).toBe(remaining - (remaining * num) / den);
  return new Map(result.map((p) => [p.name, p.amountMinor]));
}

describe('allocation properties', () => {
  it('allocate adds up exactly and follows the remainder rule', () => {
    fc.assert(fc.property(spec, ({ total, parts }) => void check(total, parts)), options);
  });

  it('reordering moves at most one unit per share, and never a fixed or rest part', () => {
    fc.assert(
      fc.property(spec.chain((s) => fc.shuffledSubarray(s.parts, { minLength: s.parts.length, maxLength: s.parts.length }).map((shuffled) => ({ ...s, shuffled }))), ({ total, parts, shuffled }) => {
        const before = check(total, parts);
        const after = check(total, shuffled);
        for (const part of parts) {
          const difference = before.get(part.name)! - after.get(part.name)!;
          if ('share' in part) expect(difference >= -1n && difference <= 1n).toBe(true);
          else expect(difference).toBe(0n);
        }
      }),
      options,
    );
  });

  it('equal shares get the same amounts in any order, up to which of them takes a leftover unit', () => {
    fc.assert(
      fc.property(amount, fc.integer({ min: 1, max: 12 }), (total, count) => {
        const parts: AllocationPart[] = Array.from({ length: count }, (_, i) => ({ name: `r${i}`, share: { ratio: new Big(1).div(count).toFixed(12, 0) } }));
        parts.push({ name: 'rest', rest: true });
        const result = check(total, parts);
        const values = [...result].filter(([name]) => name !== 'rest').map(([, v]) => v);
        expect(values.every((v, i) => i === 0 || v <= values[i - 1]!)).toBe(true); // earlier shares never get less
        expect(values[0]! - values[values.length - 1]!).toBeLessThanOrEqual(1n);
      }),
      options,
    );
  });

  it('feeOf is fixed + round(amount × rate) held between floor and cap', () => {
    const modes = { half_up: 1, half_even: 2, down: 0, up: 3 } as const;
    fc.assert(
      fc.property(amount, share, fc.constantFrom(...(Object.keys(modes) as (keyof typeof modes)[])), fc.bigInt({ min: 0n, max: 500n }), fc.option(fc.bigInt({ min: 0n, max: 10n ** 6n })), fc.option(fc.bigInt({ min: 0n, max: 10n ** 9n })), (amountMinor, rate, mode, fixedMinor, floor, cap) => {
        const floorMinor = floor ?? undefined;
        const capMinor = cap === null ? undefined : floorMinor !== undefined && cap < floorMinor ? floorMinor : cap;
        const fee = feeOf(amountMinor, { rate, mode, fixedMinor, floorMinor, capMinor });
        const [n, d] = exact(rate);
        const raw = BigInt(new Big(amountMinor.toString()).times(n.toString()).div(d.toString()).round(0, modes[mode]).toFixed(0)) + fixedMinor;
        let expected = floorMinor !== undefined && raw < floorMinor ? floorMinor : raw;
        if (capMinor !== undefined && expected > capMinor) expected = capMinor;
        expect(fee).toBe(expected);
        if (floorMinor !== undefined) expect(fee >= floorMinor).toBe(true);
        if (capMinor !== undefined) expect(fee <= capMinor).toBe(true);
      }),
      options,
    );
  });

  it('waterfall adds up, respects caps, and fills tranches in order', () => {
    const tranche = fc.option(fc.bigInt({ min: 0n, max: 10n ** 9n }));
    fc.assert(
      fc.property(amount, fc.array(tranche, { minLength: 1, maxLength: 10 }), fc.boolean(), (total, caps, lastUncapped) => {
        const tranches = caps.map((cap, i) => ({ name: `t${i}`, capMinor: (lastUncapped && i === caps.length - 1) || cap === null ? undefined : cap }));
        tranches.forEach((t, i) => {
          if (t.capMinor === undefined && i < tranches.length - 1) tranches[i] = { name: t.name, capMinor: 0n };
        });
        const { parts, restMinor } = waterfall(total, tranches);
        expect(parts.reduce((sum, p) => sum + p.amountMinor, restMinor)).toBe(total);
        parts.forEach((part, i) => {
          const cap = tranches[i]!.capMinor;
          if (cap !== undefined) expect(part.amountMinor <= cap).toBe(true);
          if (cap === undefined || part.amountMinor < cap) {
            expect(parts.slice(i + 1).every((later) => later.amountMinor === 0n)).toBe(true);
            expect(restMinor).toBe(0n);
          }
        });
      }),
      options,
    );
  });

  it('shareProfit adds up to the payment, and the merchant gets the same in any receiver order', () => {
    fc.assert(
      fc.property(amount, fc.bigInt({ min: 0n, max: 1000n }), fc.array(share, { maxLength: 6 }), (payment, feePermille, shares) => {
        const fee = (payment * feePermille) / 1000n;
        const receivers = shares.map((s, i) => ({ receiver: `r${i}`, share: { bps: 'bps' in s ? Math.floor(s.bps / 10) : 100 } }));
        const forward = shareProfit(payment, fee, receivers, 'merchant');
        const backward = shareProfit(payment, fee, [...receivers].reverse(), 'merchant');
        expect(forward.parts.reduce((sum, p) => sum + p.amountMinor, forward.feeMinor)).toBe(payment);
        expect(forward.parts.at(-1)).toEqual(backward.parts.at(-1));
      }),
      options,
    );
  });
});
