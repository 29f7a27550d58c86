// Per-ledger running totals (core/posting/ledger-totals.ts). Invariants: what plain postings add as numbers is in
// the BigInt totals at every read, exactly, even when the sum passes 2^53 many times over; ledgers keep
// the order in which they were first moved.

import { describe, expect, test } from 'vitest';
import { AssertionError } from '../../../../src/core/assert.js';
import { RunningTotals } from '../../../../src/core/posting/ledger-totals.js';

const largest = 2 ** 53 - 1;

describe('running totals', () => {
  test('numbers added to a ledger are in its totals, on both posted sides', () => {
    const totals = new RunningTotals();
    totals.addPosted(1, 30);
    totals.addPosted(1, 12);
    expect(totals.byLedger.get(1)).toEqual({ debitsPosted: 42n, creditsPosted: 42n, debitsPending: 0n, creditsPending: 0n });
  });

  test('sums past 2^53 stay exact', () => {
    const totals = new RunningTotals();
    for (let i = 0; i < 5; i++) totals.addPosted(1, largest);
    totals.addPosted(1, 3);
    expect(totals.exactOf(1).debitsPosted).toBe(5n * BigInt(largest) + 3n);
    expect(totals.exactOf(1).creditsPosted).toBe(5n * BigInt(largest) + 3n);
  });

  test('BigInt changes and numbers add up, across ledgers', () => {
    const totals = new RunningTotals();
    totals.addPosted(7, 5);
    totals.of(7).debitsPosted += 2n ** 64n;
    totals.of(7).creditsPosted += 2n ** 64n;
    totals.addPosted(3, 1);
    totals.addPosted(7, 4);
    totals.of(3).debitsPending += 9n;
    expect(totals.exactOf(7).debitsPosted).toBe(2n ** 64n + 9n);
    expect(totals.exactOf(3)).toEqual({ debitsPosted: 1n, creditsPosted: 1n, debitsPending: 9n, creditsPending: 0n });
  });

  test('ledgers are listed in the order they were first moved, as a BigInt move would create them', () => {
    const totals = new RunningTotals();
    totals.addPosted(5, 1);
    totals.of(2).debitsPending += 1n;
    totals.addPosted(9, 1);
    expect([...totals.byLedger.keys()]).toEqual([5, 2, 9]);
  });

  test.each([0, -1, 2 ** 53, 0.5])('a number amount of %s is refused (only 1..2^53 − 1)', (amount) => {
    expect(() => new RunningTotals().addPosted(1, amount)).toThrow(AssertionError);
  });
});
