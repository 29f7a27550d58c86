// Closed holds leave memory (core/posting/hold-outcomes.ts): only open holds stay in LedgerState.pendings, and a
// hold posted, voided or expired is read back from its resolution (or its absence) — with id caches so small that
// most answers come from the id index beside the journal, before and after a restart.

import { describe, expect, test } from 'vitest';
import { ids, linked, pending, post, standardWorld, transfer, voidHold } from '../../../support/ledger-fixtures.js';
import { LedgerHarness } from '../../../support/ledger-harness.js';
import type { TransferInput } from '../../../../src/core/wire/records.js';

const { bank, merchant, empty } = ids;
const payments = 40;

/** A world with tiny id caches (two ids per generation), or with every id in memory (the reference). */
function newWorld(bounded: boolean): LedgerHarness {
  const h = new LedgerHarness(bounded ? { idCache: { transferIds: 2, idsOther: 2 } } : {});
  standardWorld(h);
  return h;
}

interface Payment {
  hold: TransferInput;
  close: TransferInput | null; // null: left to expire
  closeAgain: TransferInput; // a second post of the same hold, under a new id
}

/** Auth then capture (partial), void, or expiry, one payment per batch: `payments` of them. */
function runPayments(h: LedgerHarness, count = payments, idBase = 10_000n): Payment[] {
  const done: Payment[] = [];
  for (let i = 0; i < count; i++) {
    const id = idBase + BigInt(i) * 10n;
    const hold = pending(id, bank, merchant, 100n + BigInt(i), i % 4 === 3 ? 5 : 0);
    expect(h.createTransfers([hold])).toEqual(['ok']);
    const close = i % 4 === 3 ? null : i % 4 === 2 ? voidHold(id + 1n, hold) : post(id + 1n, hold, i % 4 === 1 ? 0n : 7n);
    if (close === null) {
      h.advanceSeconds(6);
      h.expireDue();
    } else expect(h.createTransfers([close])).toEqual(['ok']);
    done.push({ hold, close, closeAgain: post(id + 2n, hold) });
  }
  return done;
}

function expectedRefusal(p: Payment): string {
  if (p.close === null) return 'pending_expired';
  return p.close.flags === voidHold(0n, p.hold).flags ? 'pending_already_voided' : 'pending_already_posted';
}

function answers(h: LedgerHarness, done: readonly Payment[]): unknown[] {
  return done.map((p) => [h.transfer(p.hold.id), p.close === null ? null : h.transfer(p.close.id)]);
}

describe('closed holds are not kept in memory', () => {
  test('after auth and capture, void or expiry, no hold stays open and every answer is the one kept in memory', () => {
    const bounded = newWorld(true);
    const reference = newWorld(false);
    const done = runPayments(bounded);
    runPayments(reference);
    expect(bounded.ledger.state.pendings.size).toBe(0);
    expect(reference.ledger.state.pendings.size).toBe(0);
    // Bounded: the resolutions cache holds two generations of two, plus the ids of entries in flight.
    expect(bounded.ledger.state.resolutions.size).toBeLessThanOrEqual(4);
    expect(bounded.idStore.reads).toBeGreaterThan(0);
    expect(answers(bounded, done)).toEqual(answers(reference, done));
    // The answers themselves: status and amount posted as each payment ended.
    for (const p of done) {
      const status = p.close === null ? 'pending_expired' : expectedRefusal(p) === 'pending_already_voided' ? 'pending_voided' : 'pending_posted';
      const amountPosted = p.close === null || status === 'pending_voided' ? 0n : p.close.amount === 0n ? p.hold.amount : p.close.amount;
      expect(bounded.transfer(p.hold.id)).toMatchObject({ status, amountPosted });
    }
  });

  test('a retry of a closing event, or a second close of a closed hold, answers as before, across a restart', () => {
    const h = newWorld(true);
    const done = runPayments(h);
    const retries = (): void => {
      for (const p of done) {
        expect(h.createTransfers([p.closeAgain])).toEqual([expectedRefusal(p)]);
        if (p.close !== null) expect(h.createTransfers([p.close])).toEqual(['exists']);
        expect(h.createTransfers([p.hold])).toEqual(['exists']);
      }
    };
    retries();
    h.checkpoint();
    // Payments after the checkpoint: the restart replays them, and their resolutions, from the tail.
    done.push(...runPayments(h, 8, 90_000n));
    h.restart();
    expect(h.ledger.state.pendings.size).toBe(0);
    retries();
    expect(h.ledger.state.pendings.size).toBe(0);
  });

  test('a chain that fails after closing a hold restores it, open and unresolved', () => {
    const h = newWorld(true);
    const hold = pending(500n, bank, merchant, 50n);
    expect(h.createTransfers([hold])).toEqual(['ok']);
    // The post closes the hold, then the chain fails on a transfer to another ledger: the post is undone.
    const failing = transfer(502n, empty, merchant, 1n, { ledger: 99 });
    expect(h.createTransfers([linked(post(501n, hold, 20n)), failing])).toEqual(['linked_event_failed', 'ledger_mismatch']);
    expect(h.ledger.state.pendings.size).toBe(1);
    expect(h.transfer(500n)).toMatchObject({ status: 'pending', amountPosted: 0n });
    // Open again: a post under another id takes it, and the hold is then found posted.
    expect(h.createTransfers([post(503n, hold, 20n)])).toEqual(['ok']);
    expect(h.ledger.state.pendings.size).toBe(0);
    expect(h.transfer(500n)).toMatchObject({ status: 'pending_posted', amountPosted: 20n });
    expect(h.createTransfers([voidHold(504n, hold)])).toEqual(['pending_already_posted']);
    h.restart();
    expect(h.transfer(500n)).toMatchObject({ status: 'pending_posted', amountPosted: 20n });
  });
});
