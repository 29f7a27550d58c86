// SliceFunds: what the shard set knows of the money at each place of a hot-outbound account (issue #14, item 24).
// Promises never exceed what a place holds; a read counts only when it cannot be stale; an unseen outcome makes
// the place promise nothing until read again.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SliceFunds } from '../../../../src/core/hot/slice-funds.js';

const slice = 7n;

describe('SliceFunds', () => {
  it('promises nothing before a read, then what the read found, and settles what payments took', () => {
    const funds = new SliceFunds();
    expect(funds.reserve(slice, 1n)).toBe(false);
    expect(funds.read(slice, 100n, funds.mark(slice))).toBe(true);
    expect(funds.reserve(slice, 60n)).toBe(true);
    expect(funds.reserve(slice, 50n)).toBe(false);
    expect(funds.reserveAll(slice)).toBe(40n);
    funds.settle(slice, 60n, 60n);
    funds.settle(slice, 40n, 0n);
    expect(funds.unreserved(slice)).toBe(40n);
  });

  it('takes a read whole only at a quiet moment, and as a floor only when nothing was spent since it was asked', () => {
    const funds = new SliceFunds();
    funds.read(slice, 100n, funds.mark(slice));
    // A payment settled after the read was asked: the read (100) would forget it.
    const mark = funds.mark(slice);
    funds.reserve(slice, 30n);
    funds.settle(slice, 30n, 30n);
    funds.read(slice, 100n, mark);
    expect(funds.unreserved(slice)).toBe(70n);
    // A caller's credit the set did not see (home): a later read raises the floor, even with a promise out.
    funds.reserve(slice, 20n);
    funds.read(slice, 90n, funds.mark(slice));
    expect(funds.unreserved(slice)).toBe(70n);
    funds.settle(slice, 20n, 0n);
  });

  it('counts a grant once it landed, never twice, and forgets what an unseen outcome may have changed', () => {
    const funds = new SliceFunds();
    funds.read(slice, 10n, funds.mark(slice));
    const through = funds.granted(slice, 50n);
    expect(funds.unreserved(slice)).toBe(10n);
    expect(funds.grantsLanding(slice)).toBe(true);
    funds.landedThrough(slice, through);
    funds.landedThrough(slice, through);
    expect(funds.unreserved(slice)).toBe(60n);
    funds.reserve(slice, 25n);
    funds.unsettled(slice, 25n);
    expect(funds.isKnown(slice)).toBe(false);
    expect(funds.unreserved(slice)).toBe(0n);
    expect(funds.read(slice, 35n, funds.mark(slice))).toBe(true);
    expect(funds.unreserved(slice)).toBe(35n);
  });

  it('never promises more than the place holds, whatever the order of payments, grants and reads (property)', () => {
    type Step = { kind: 'pay'; amount: number; refused: boolean } | { kind: 'grant'; amount: number } | { kind: 'land' } | { kind: 'read' } | { kind: 'answer' } | { kind: 'credit'; amount: number };
    const step = fc.oneof(
      fc.record({ kind: fc.constant('pay' as const), amount: fc.integer({ min: 1, max: 50 }), refused: fc.boolean() }),
      fc.record({ kind: fc.constant('grant' as const), amount: fc.integer({ min: 1, max: 50 }) }),
      fc.record({ kind: fc.constant('land' as const) }),
      fc.record({ kind: fc.constant('read' as const) }),
      fc.record({ kind: fc.constant('answer' as const) }),
      fc.record({ kind: fc.constant('credit' as const), amount: fc.integer({ min: 1, max: 50 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.array(step, { maxLength: 60 }), (start, steps: Step[]) => {
        const funds = new SliceFunds();
        let held = BigInt(start); // what the place really holds
        let inFlight = 0n; // granted, not landed
        funds.read(slice, held, funds.mark(slice));
        const reads: { mark: ReturnType<SliceFunds['mark']>; value: bigint }[] = [];
        for (const s of steps) {
          if (s.kind === 'pay') {
            const amount = BigInt(s.amount);
            if (!funds.reserve(slice, amount)) continue;
            const takes = !s.refused && held >= amount;
            if (takes) held -= amount;
            funds.settle(slice, amount, takes ? amount : 0n);
          } else if (s.kind === 'grant') {
            funds.granted(slice, BigInt(s.amount));
            inFlight += BigInt(s.amount);
          } else if (s.kind === 'land') {
            const through = funds.grantedTotal(slice);
            held += inFlight;
            inFlight = 0n;
            funds.landedThrough(slice, through);
          } else if (s.kind === 'credit') held += BigInt(s.amount);
          else if (s.kind === 'read') reads.push({ mark: funds.mark(slice), value: held }); // asked now, answered later
          else if (reads.length > 0) {
            const answered = reads.shift()!;
            funds.read(slice, answered.value, answered.mark);
          }
          expect(funds.unreserved(slice)).toBeLessThanOrEqual(held);
        }
      }),
    );
  });
});
