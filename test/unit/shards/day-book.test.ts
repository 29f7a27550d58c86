// Spec of the day book's recovery on a store that fails (a full disk): closed days replayed from the journal
// are stored in order, and a write that failed is retried by the next recover() — compared with the day
// before it, so that no chunk it never wrote is skipped as "unchanged".

import { describe, expect, it } from 'vitest';
import { BusinessCalendar, parseDayCutSchedule } from '../../../src/core/business-day.js';
import { errors } from '../../../src/core/errors.js';
import { DayBook, type DayStore } from '../../../src/shards/day-book.js';
import { LedgerHarness } from '../../support/ledger-harness.js';
import { ids, standardWorld, transfer } from '../../support/ledger-fixtures.js';

/** Closing balances by day as written, and the day each write was compared with; fails the writes it is told to. */
class FailingDayStore implements DayStore {
  readonly written = new Map<number, { balances: BigUint64Array; previous: BigUint64Array | null }>();
  failures = 0;
  isDayClosed(day: number): boolean {
    return this.written.has(day);
  }
  writeClosedDay(day: number, _cutSeq: number, balances: BigUint64Array, previous: BigUint64Array | null): Promise<number> {
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(errors.storageFailed(`storing the closing balances of day ${day}: No space left on device (code 28)`));
    }
    this.written.set(day, { balances: balances.slice(), previous: previous?.slice() ?? null });
    return Promise.resolve(1);
  }
  closingAt(): BigUint64Array | null {
    return null;
  }
  daySummary(): string | undefined {
    return undefined;
  }
}

/** A journal with two cuts, days 20260101 and 20260102 each with a transfer, replayed by a fresh ledger. */
function replayedWithTwoClosedDays(): LedgerHarness {
  const h = new LedgerHarness();
  standardWorld(h);
  for (const [day, id] of [
    [20260101, 5001n],
    [20260102, 5002n],
  ] as const) {
    const cut = h.ledger.cutDay(day, h.nowNs);
    h.journal.set(cut.seq, cut.entry);
    h.advanceSeconds(1);
    expect(h.createTransfers([transfer(id, ids.bank, ids.merchant, 7n)])).toEqual(['ok']);
  }
  const cut = h.ledger.cutDay(20260103, h.nowNs);
  h.journal.set(cut.seq, cut.entry);
  h.restart(); // the new ledger holds the closed days its replay found, as a restarted shard's does
  return h;
}

describe('DayBook.recover on a store that fails', () => {
  it('stores the replayed closed days in order; after a failed write the next recover() resumes at that day', async () => {
    const h = replayedWithTwoClosedDays();
    const store = new FailingDayStore();
    const days = new DayBook(h.ledger, store, new BusinessCalendar(parseDayCutSchedule('00:00', 'UTC')));
    store.failures = 1;
    await expect(days.recover()).rejects.toMatchObject({ code: 'storage_failed' });
    expect([...store.written.keys()]).toEqual([]);
    // The disk is still full for day 20260101's first retry, then space returns.
    store.failures = 1;
    await expect(days.recover()).rejects.toMatchObject({ code: 'storage_failed' });
    expect(await days.recover()).toBe(3); // day 0 (before the first cut), 20260101, 20260102
    expect([...store.written.keys()]).toEqual([0, 20260101, 20260102]);
    // Each day is compared with the day before it, never with itself.
    expect(store.written.get(20260101)!.previous).toEqual(store.written.get(0)!.balances);
    expect(store.written.get(20260102)!.previous).toEqual(store.written.get(20260101)!.balances);
    expect(await days.recover()).toBe(0); // nothing left to store
  });
});
