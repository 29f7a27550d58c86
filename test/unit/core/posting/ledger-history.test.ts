// Account history (the cashflow, 流水): every transfer that touched an account with that account's
// balances right after it, paged oldest or newest first and bounded by timestamps.

import { describe, expect, test } from 'vitest';
import { TallyError } from '../../../../src/core/errors.js';
import { HistoryFilterLayout } from '../../../../src/core/layout.js';
import { Operation } from '../../../../src/core/operations.js';
import { encodeHistoryFilter } from '../../../../src/core/wire/records.js';
import { aliceFunds, fundingId, ids, pending, post, reversal, standardWorld, transfer, voidHold } from '../../../support/ledger-fixtures.js';
import { LedgerHarness } from '../../../support/ledger-harness.js';

const { bank, alice, bob, merchant } = ids;

/** Alice's life: funded (1000), pays Bob 10 (100), holds 20 for Bob (200), posts 15 of it (201), gets 5 back (300), fails once (400). */
function aliceStory(): LedgerHarness {
  const h = new LedgerHarness();
  standardWorld(h);
  const hold = pending(200n, alice, bob, 20n);
  const payment = transfer(100n, alice, bob, 10n);
  h.createTransfers([payment]);
  h.advanceSeconds(1);
  h.createTransfers([hold]);
  h.advanceSeconds(1);
  h.createTransfers([post(201n, hold, 15n), transfer(400n, alice, bob, 1000n)]);
  h.advanceSeconds(1);
  h.createTransfers([reversal(300n, payment, 5n), transfer(500n, bank, merchant, 1n)]);
  return h;
}

describe('account history', () => {
  test('lists every transfer that touched the account, oldest first, with its balances after each', () => {
    const h = aliceStory();
    const entries = h.history({ accountId: alice });
    expect(entries.map((e) => e.transfer.id)).toEqual([fundingId, 100n, 200n, 201n, 300n]);
    expect(entries.map((e) => e.balanceAfter)).toEqual([
      { debitsPosted: 0n, creditsPosted: aliceFunds, debitsPending: 0n, creditsPending: 0n },
      { debitsPosted: 10n, creditsPosted: aliceFunds, debitsPending: 0n, creditsPending: 0n },
      { debitsPosted: 10n, creditsPosted: aliceFunds, debitsPending: 20n, creditsPending: 0n },
      { debitsPosted: 25n, creditsPosted: aliceFunds, debitsPending: 0n, creditsPending: 0n },
      { debitsPosted: 25n, creditsPosted: aliceFunds + 5n, debitsPending: 0n, creditsPending: 0n },
    ]);
  });

  test("the other side's entries carry the other side's balances", () => {
    const h = aliceStory();
    expect(h.history({ accountId: bob }).map((e) => [e.transfer.id, e.balanceAfter])).toEqual([
      [100n, { debitsPosted: 0n, creditsPosted: 10n, debitsPending: 0n, creditsPending: 0n }],
      [200n, { debitsPosted: 0n, creditsPosted: 10n, debitsPending: 0n, creditsPending: 20n }],
      [201n, { debitsPosted: 0n, creditsPosted: 25n, debitsPending: 0n, creditsPending: 0n }],
      [300n, { debitsPosted: 5n, creditsPosted: 25n, debitsPending: 0n, creditsPending: 0n }],
    ]);
  });

  test('entries carry the transfer as posted: effective amount and assigned timestamp', () => {
    const h = aliceStory();
    const entries = h.history({ accountId: alice });
    expect(entries.map((e) => e.transfer.amount)).toEqual([aliceFunds, 10n, 20n, 15n, 5n]);
    expect(entries.map((e) => e.transfer)).toEqual(h.lookupTransfers(entries.map((e) => e.transfer.id)).map(({ status, amountPosted, amountReversed, ...t }) => t));
  });

  test('newest first when reversed', () => {
    const h = aliceStory();
    expect(h.history({ accountId: alice, reversed: true }).map((e) => e.transfer.id)).toEqual([300n, 201n, 200n, 100n, fundingId]);
  });

  test('limit keeps the first entries in the chosen order', () => {
    const h = aliceStory();
    expect(h.history({ accountId: alice, limit: 2 }).map((e) => e.transfer.id)).toEqual([fundingId, 100n]);
    expect(h.history({ accountId: alice, limit: 2, reversed: true }).map((e) => e.transfer.id)).toEqual([300n, 201n]);
  });

  test('pages follow each other by timestamp, forwards and backwards, and cover everything once', () => {
    const h = aliceStory();
    const forward: bigint[] = [];
    for (let min = 0n; ; ) {
      const page = h.history({ accountId: alice, limit: 2, timestampMin: min });
      forward.push(...page.map((e) => e.transfer.id));
      if (page.length < 2) break;
      min = page.at(-1)!.transfer.timestamp + 1n;
    }
    expect(forward).toEqual([fundingId, 100n, 200n, 201n, 300n]);
    const backward: bigint[] = [];
    for (let max = 0n; ; ) {
      const page = h.history({ accountId: alice, limit: 2, timestampMax: max, reversed: true });
      backward.push(...page.map((e) => e.transfer.id));
      if (page.length < 2) break;
      max = page.at(-1)!.transfer.timestamp - 1n;
    }
    expect(backward).toEqual([...forward].reverse());
  });

  test('timestamp bounds are inclusive', () => {
    const h = aliceStory();
    const [, payment, hold, posted] = h.history({ accountId: alice });
    const window = h.history({ accountId: alice, timestampMin: payment!.transfer.timestamp, timestampMax: posted!.transfer.timestamp });
    expect(window.map((e) => e.transfer.id)).toEqual([100n, 200n, 201n]);
    expect(h.history({ accountId: alice, timestampMin: hold!.transfer.timestamp, timestampMax: hold!.transfer.timestamp }).map((e) => e.transfer.id)).toEqual([200n]);
    expect(h.history({ accountId: alice, timestampMin: posted!.transfer.timestamp + 1n, timestampMax: posted!.transfer.timestamp + 1n })).toEqual([]);
  });

  test('failed transfers, failed chains and expiries leave no entry; voids do', () => {
    const h = new LedgerHarness();
    standardWorld(h);
    const hold = pending(200n, alice, bob, 20n, 5);
    const voided = pending(210n, alice, bob, 1n);
    h.createTransfers([hold, voided, voidHold(211n, voided), transfer(300n, alice, bob, 1000n)]);
    h.advanceSeconds(10);
    expect(h.expireDue()).toBe(true);
    expect(h.history({ accountId: alice }).map((e) => e.transfer.id)).toEqual([fundingId, 200n, 210n, 211n]);
    expect(h.history({ accountId: alice }).at(-1)!.balanceAfter.debitsPending).toBe(20n);
  });

  test('an unknown account has no history', () => {
    expect(aliceStory().history({ accountId: 77n })).toEqual([]);
  });

  test('a malformed filter is an operating error', () => {
    const h = aliceStory();
    const zeroLimit = encodeHistoryFilter({ accountId: alice });
    new DataView(zeroLimit.buffer).setUint32(HistoryFilterLayout.limit, 0, true);
    const unknownFlag = encodeHistoryFilter({ accountId: alice });
    new DataView(unknownFlag.buffer).setUint32(HistoryFilterLayout.flags, 2, true);
    const reservedSet = encodeHistoryFilter({ accountId: alice });
    reservedSet[HistoryFilterLayout.bytes - 1] = 1;
    for (const body of [zeroLimit, unknownFlag, reservedSet, new Uint8Array(63)]) {
      expect(() => h.ledger.query(Operation.get_account_transfers, body)).toThrow(TallyError);
    }
  });

  test('history is the same after a restart', () => {
    const h = aliceStory();
    const before = h.history({ accountId: alice });
    h.restart();
    expect(h.history({ accountId: alice })).toEqual(before);
  });
});
