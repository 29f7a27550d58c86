// The per-account rate limit on create_transfers: at most N events per account (debit or credit) per second,
// whole linked chains admitted or refused, refused events kept away from the ledger, and bounded memory.

import { describe, expect, it } from 'vitest';
import { AccountRateLimiter, mergeAccountRateReply, type AccountRateDecision } from '../../../../src/core/rate-limits/account-rate-limit.js';
import { eventBytes } from '../../../../src/core/limits.js';
import { decodeResults, decodeTransfer, encodeResults, encodeTransfers, type ResultInput } from '../../../../src/core/wire/records.js';
import type { ResultName } from '../../../../src/core/result-codes.js';
import { linked, transfer } from '../../../support/ledger-fixtures.js';

const [a, b, c, d, e] = [1n, 2n, 3n, 4n, 5n];
let nextId = 1000n;
const pay = (from: bigint, to: bigint) => transfer(nextId++, from, to, 1n);

/** Results of a decision, with the ledger answering every admitted event `ok` (or as `ledger` says). */
function answer(limited: AccountRateDecision | null, count: number, ledger: (index: number) => ResultName = () => 'ok'): ResultName[] {
  if (limited === null) return Array.from({ length: count }, (_, i) => ledger(i));
  const reply = limited.admitted === null ? null : encodeResults(limited.admittedIndexes.map((i): ResultInput => ({ result: ledger(i) })));
  return decodeResults(mergeAccountRateReply(limited, reply)).map((r) => r.result);
}

describe('AccountRateLimiter', () => {
  it('lets a batch under the limit through untouched (null: nothing to merge)', () => {
    const limiter = new AccountRateLimiter(3);
    expect(limiter.admit(encodeTransfers([pay(a, b), pay(a, c), pay(a, d)]), 0)).toBeNull();
  });

  it("refuses an account's events past the limit and lets the other accounts' events of the batch go on", () => {
    const limiter = new AccountRateLimiter(2);
    const batch = [pay(a, b), pay(c, d), pay(a, e), pay(a, e), pay(d, c), pay(a, b)];
    const limited = limiter.admit(encodeTransfers(batch), 0)!;
    expect(limited.admittedIndexes).toEqual([0, 1, 2, 4]);
    const admitted = new DataView(limited.admitted!.buffer);
    expect([0, 1, 2, 3].map((k) => decodeTransfer(admitted, k * eventBytes).id)).toEqual([0, 1, 2, 4].map((i) => batch[i]!.id));
    expect(limited.admitted!.byteLength).toBe(4 * eventBytes);
    expect(answer(limited, batch.length)).toEqual(['ok', 'ok', 'ok', 'rate_limited', 'ok', 'rate_limited']);
  });

  it('counts an account as credit as well as debit, and once when it is both', () => {
    const limiter = new AccountRateLimiter(2);
    const batch = [pay(b, a), pay(a, c), pay(d, d), pay(d, e), pay(e, a)];
    // a: debit+credit twice → third refused; d→d counts d once, so d→e still fits.
    expect(answer(limiter.admit(encodeTransfers(batch), 0), batch.length)).toEqual(['ok', 'ok', 'ok', 'ok', 'rate_limited']);
  });

  it('keeps counting across batches in the same second and starts again the next second', () => {
    const limiter = new AccountRateLimiter(2);
    expect(limiter.admit(encodeTransfers([pay(a, b)]), 5_000)).toBeNull();
    expect(answer(limiter.admit(encodeTransfers([pay(a, c), pay(a, d)]), 5_999), 2)).toEqual(['ok', 'rate_limited']);
    expect(limiter.admit(encodeTransfers([pay(a, c), pay(a, d)]), 6_000)).toBeNull();
  });

  it('refuses a linked chain whole: rate_limited where it passed the limit, linked_event_failed on the rest', () => {
    const limiter = new AccountRateLimiter(2);
    const batch = [pay(a, b), linked(pay(c, d)), linked(pay(a, e)), linked(pay(a, c)), pay(c, e), pay(a, d)];
    // The chain (1..4) would charge a a third time at 3: refused whole, and its charges are given back, so
    // a's last event (5) fits again and so do c's.
    const limited = limiter.admit(encodeTransfers(batch), 0);
    expect(limited?.admittedIndexes).toEqual([0, 5]);
    expect(answer(limited, batch.length)).toEqual(['ok', 'linked_event_failed', 'linked_event_failed', 'rate_limited', 'linked_event_failed', 'ok']);
    expect(limiter.admit(encodeTransfers([pay(c, d), pay(c, e)]), 0)).toBeNull();
  });

  it('passes a chain left open at the end of the batch on, uncharged: the ledger refuses it whole', () => {
    const limiter = new AccountRateLimiter(1);
    const batch = [pay(a, b), linked(pay(a, c)), linked(pay(a, d))];
    const limited = limiter.admit(encodeTransfers(batch), 0);
    expect(limited).toBeNull();
    expect(answer(limiter.admit(encodeTransfers([pay(c, d)]), 0), 1)).toEqual(['ok']);
  });

  it('answers every event itself when all are refused: nothing reaches the ledger', () => {
    const limiter = new AccountRateLimiter(1);
    limiter.admit(encodeTransfers([pay(a, b)]), 0);
    const limited = limiter.admit(encodeTransfers([pay(a, c), pay(b, d)]), 0)!;
    expect(limited.admitted).toBeNull();
    expect(answer(limited, 2)).toEqual(['rate_limited', 'rate_limited']);
  });

  it("puts the ledger's own results back in their places", () => {
    const limiter = new AccountRateLimiter(1);
    const batch = [pay(a, b), pay(a, c), pay(d, e)];
    const ledger = (i: number): ResultName => (i === 2 ? 'insufficient_funds' : 'ok');
    expect(answer(limiter.admit(encodeTransfers(batch), 0), 3, ledger)).toEqual(['ok', 'rate_limited', 'insufficient_funds']);
  });

  it('tracks at most trackedMax accounts a second; later ones go uncounted until the window turns', () => {
    const limiter = new AccountRateLimiter(1, 4);
    expect(limiter.admit(encodeTransfers([pay(a, b), pay(c, d)]), 0)).toBeNull();
    expect(limiter.trackedAccounts).toBe(4);
    expect(limiter.admit(encodeTransfers([pay(e, 6n), pay(e, 6n), pay(e, 6n)]), 0)).toBeNull(); // untracked: fail open
    expect(limiter.trackedAccounts).toBe(4);
    expect(answer(limiter.admit(encodeTransfers([pay(a, e)]), 0), 1)).toEqual(['rate_limited']); // tracked ones still count
    expect(answer(limiter.admit(encodeTransfers([pay(e, 6n), pay(e, 6n)]), 1_000), 2)).toEqual(['ok', 'rate_limited']);
  });

  it('asserts on a ragged body and on a bad rate', () => {
    expect(() => new AccountRateLimiter(1).admit(new Uint8Array(eventBytes + 1), 0)).toThrow(/assertion failed/);
    expect(() => new AccountRateLimiter(0)).toThrow(/assertion failed/);
  });
});
