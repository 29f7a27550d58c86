// Spec of the day book: which days a cut may begin (a real date, at most a day ahead, refused without a
// change otherwise), and a store that fails (a full disk, or a write that can never pass): the cut stands
// and answers, the closed day stays owed and is stored later, in order — compared with the day before it,
// so that no chunk it never wrote is skipped as "unchanged" — and closed-day queries wait for it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { BusinessCalendar, parseDayCutSchedule } from '../../../../src/core/business-day.js';
import { errors } from '../../../../src/core/errors.js';
import { BalanceAtDayLayout, StatementLayout, StatementReplyLayout } from '../../../../src/core/layout.js';
import { writeU128 } from '../../../../src/core/u128.js';
import { DayBook, DayQuery, type DayStore, type OwedDaysRetry } from '../../../../src/shards/shard/day-book.js';
import { JournalStore } from '../../../../src/shards/shard/journal-store.js';
import { storageRetryMs } from '../../../../src/shards/storage/storage-health.js';
import { LedgerHarness, nsPerSecond } from '../../../support/ledger-harness.js';
import { ids, standardWorld, transfer } from '../../../support/ledger-fixtures.js';

/** Closing balances by day as written, and the day each write was compared with; fails the writes it is told to. */
class FailingDayStore implements DayStore {
  readonly written = new Map<number, { balances: BigUint64Array; previous: BigUint64Array | null; summary: string }>();
  failures = 0;
  isDayClosed(day: number): boolean {
    return this.written.has(day);
  }
  writeClosedDay(day: number, _cutSeq: number, balances: BigUint64Array, previous: BigUint64Array | null, summary: string): Promise<number> {
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(errors.storageFailed(`storing the closing balances of day ${day}: No space left on device (code 28)`));
    }
    this.written.set(day, { balances: balances.slice(), previous: previous?.slice() ?? null, summary });
    return Promise.resolve(1);
  }
  /** As the journal store: the latest day written at or before `day`. */
  closingAt(slot: number, day: number): BigUint64Array | null {
    const latest = Math.max(-1, ...[...this.written.keys()].filter((d) => d <= day));
    const balances = this.written.get(latest)?.balances;
    return balances === undefined || balances.length < (slot + 1) * 5 ? null : balances.slice(slot * 5, slot * 5 + 5);
  }
  daySummary(day: number): string | undefined {
    return this.written.get(day)?.summary;
  }
}

const utc = (): BusinessCalendar => new BusinessCalendar(parseDayCutSchedule('00:00', 'UTC'));
const nsPerDay = 86_400n * nsPerSecond;
/** The harness's clock starts at 2023-11-14T22:13:20Z: the calendar's day is 20231114. */
const today = 20231114;

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

/** A retry whose disk is never full, that records what it logs and the failures it is told to stop for. */
function recordingRetry(): OwedDaysRetry & { lines: string[]; fatal: unknown[]; stop: boolean } {
  const retry = {
    shardIndex: 0,
    lines: [] as string[],
    fatal: [] as unknown[],
    stop: false,
    lowSpace: () => null,
    stopped: () => retry.stop,
    fail: (error: unknown) => void retry.fatal.push(error),
    log: (line: string) => void retry.lines.push(line),
  };
  return retry;
}

/** A shard with the standard world whose store opened its first day (the calendar's) by a cut. */
async function openedShard(store: DayStore = new FailingDayStore(), retry: OwedDaysRetry | null = null): Promise<{ h: LedgerHarness; days: DayBook }> {
  const h = new LedgerHarness();
  standardWorld(h);
  const days = new DayBook(h.ledger, store, utc(), retry);
  await cut(h, days, days.openingDay(h.nowNs)!);
  return { h, days };
}

/** A cut as the shard loop runs it: plan, journal the entry (it is durable), then the rest. Answers the summary. */
async function cut(h: LedgerHarness, days: DayBook, day: number, follows = false): Promise<{ day: number; dayBegun: number; cutSeq: number }> {
  const plan = days.cut(day, h.nowNs, follows);
  if (plan.entry !== null) h.journal.set(plan.entry.seq, plan.entry.entry);
  h.advanceSeconds(1);
  return JSON.parse(new TextDecoder().decode(await plan.afterDurable())) as { day: number; dayBegun: number; cutSeq: number };
}

function balanceAtDay(days: DayBook, id: bigint, day: number): Uint8Array {
  const body = new Uint8Array(BalanceAtDayLayout.bytes);
  const view = new DataView(body.buffer);
  writeU128(view, BalanceAtDayLayout.accountId, id);
  view.setUint32(BalanceAtDayLayout.day, day, true);
  return days.query(DayQuery.balanceAtDay, body);
}

describe('DayBook.recover on a store that fails', () => {
  it('stores the replayed closed days in order; after a failed write the next recover() resumes at that day', async () => {
    const h = replayedWithTwoClosedDays();
    const store = new FailingDayStore();
    const days = new DayBook(h.ledger, store, utc());
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

describe('DayBook.recover on a store an earlier version damaged', () => {
  // Issue #20 (8c): after a failed oversized summary, a retry stored another value in its place: the day
  // counted as closed with no summary (tally verify: "no summary is stored"). The next start writes it again.
  it('writes a closed day again when its summary cannot be read', async () => {
    const h = replayedWithTwoClosedDays();
    const store = new FailingDayStore();
    const first = new DayBook(h.ledger, store, utc());
    expect(await first.recover()).toBe(3);
    const damaged = store.written.get(20260101)!;
    store.written.set(20260101, { ...damaged, summary: undefined as unknown as string });
    h.restart();
    const days = new DayBook(h.ledger, store, utc());
    expect(await days.recover()).toBe(1);
    expect(JSON.parse(store.written.get(20260101)!.summary)).toMatchObject({ day: 20260101, dayBegun: 20260102 });
    expect(store.written.get(20260101)!.previous).toEqual(store.written.get(0)!.balances);
  });
});

describe('DayBook.cut: the day a cut may begin', () => {
  // Regression (issue #20, 3): close_day 20261301 was journaled, and the bookkeeper failed on it in a loop.
  it.each([
    ['month 13', 20231301],
    ['February 30', 20240230],
    ['February 29 of a common year', 20250229],
    ['November 31', 20231131],
    ['day 0 of a month', 20231200],
    ['a year before 1900', 18991231],
    ['not eight digits', 4_294_967_295],
    ['two days ahead of the current day and the calendar', 20231116],
    ['years ahead', 20991231],
  ])('refuses %s (body_invalid) and changes nothing', async (_name, day) => {
    const { h, days } = await openedShard();
    const seqBefore = h.ledger.seqLast;
    expect(() => days.cut(day, h.nowNs, false)).toThrow(expect.objectContaining({ code: 'body_invalid' }));
    expect(h.ledger.seqLast).toBe(seqBefore);
    expect(h.ledger.businessDay).toBe(today);
    expect(h.ledger.takeClosedDays()).toEqual([]);
    // The next day is still there to begin.
    expect(await cut(h, days, 20231115)).toMatchObject({ day: today, dayBegun: 20231115 });
  });

  it('begins the next day, a leap day, a day catching up with the calendar, and any next day by 0', async () => {
    const { h, days } = await openedShard();
    expect((await cut(h, days, 0)).dayBegun).toBe(20231115); // ahead of the calendar by one: closing today early
    expect((await cut(h, days, 0)).dayBegun).toBe(20231116); // 0 is always the day after the current one
    h.nowNs += 105n * nsPerDay; // the calendar says 2024-02-27: days went by without a cut
    expect(() => days.cut(20240229, h.nowNs, false)).toThrow(expect.objectContaining({ code: 'body_invalid' }));
    expect((await cut(h, days, 20240228)).dayBegun).toBe(20240228); // catching up: at most the calendar's next day
    expect((await cut(h, days, 20240229)).dayBegun).toBe(20240229); // a leap year's 29th: the next day
    expect((await cut(h, days, 0)).dayBegun).toBe(20240301);
  });

  it('takes the day the first shard began as it is when it follows (the bound is the first shard’s to check)', async () => {
    const { h, days } = await openedShard();
    expect((await cut(h, days, 20231120, true)).dayBegun).toBe(20231120);
    expect(() => days.cut(20231131, h.nowNs, true)).toThrow(expect.objectContaining({ code: 'body_invalid' })); // a real date all the same
  });

  it('answers a day already begun with the stored summary of the day that ended, journaling nothing', async () => {
    const { h, days } = await openedShard();
    const closed = await cut(h, days, 20231115);
    const seqBefore = h.ledger.seqLast;
    expect(days.cut(20231115, h.nowNs, false).entry).toBeNull();
    expect(await cut(h, days, 20231115)).toEqual(closed);
    expect(await cut(h, days, 20231101)).toMatchObject({ day: 0 }); // before the first day: the opening's
    expect(h.ledger.seqLast).toBe(seqBefore);
  });
});

describe('DayBook.cut on a store that fails', () => {
  // Regression (issue #20, 2): a closing write that failed failed the cut, stopped the shard's worker, and
  // the next one refused every write until the store took it — forever, for a write that could never pass.
  it('answers the cut, keeps the day owed, and stores it (and the days after it) in order once the store takes writes', async () => {
    const store = new FailingDayStore();
    const { h, days } = await openedShard(store);
    expect(h.createTransfers([transfer(9001n, ids.bank, ids.merchant, 40n)])).toEqual(['ok']);
    store.failures = 2;
    const summary = await cut(h, days, 20231115);
    expect(summary).toMatchObject({ day: today, dayBegun: 20231115 });
    expect(days.owedDays).toBe(1);
    // Postings go on; the owed day answers its summary from memory to a retried cut.
    expect(h.createTransfers([transfer(9002n, ids.bank, ids.merchant, 2n)])).toEqual(['ok']);
    expect(await cut(h, days, 20231115)).toEqual(summary);
    // Its balances are not answered until stored (a lookup would find the day before's); earlier days are.
    expect(() => balanceAtDay(days, ids.merchant, today)).toThrow(expect.objectContaining({ code: 'storage_failed' }));
    expect(balanceAtDay(days, ids.merchant, 0).byteLength).toBe(40);
    await expect(days.storeOwed()).rejects.toMatchObject({ code: 'storage_failed' }); // still failing
    // The next cut stores both days, the owed one first, each compared with the day before it.
    expect(await cut(h, days, 20231116)).toMatchObject({ day: 20231115 });
    expect(days.owedDays).toBe(0);
    expect([...store.written.keys()]).toEqual([0, today, 20231115]);
    expect(store.written.get(today)!.previous).toEqual(store.written.get(0)!.balances);
    expect(store.written.get(20231115)!.previous).toEqual(store.written.get(today)!.balances);
    expect(JSON.parse(store.written.get(today)!.summary)).toEqual(summary);
    const merchantAtToday = new DataView(balanceAtDay(days, ids.merchant, today).buffer);
    expect(merchantAtToday.getBigUint64(8, true)).toBe(40n); // credits posted at the end of the day
  });
});

describe('DayBook.storeOwedLater', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries a failed closing write with back-off until it passes: one error line, one info line, one loop', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const store = new FailingDayStore();
    const retry = recordingRetry();
    const { h, days } = await openedShard(store, retry);
    store.failures = 4; // the cut's own try, then three retries
    await cut(h, days, 20231115);
    days.storeOwedLater(errors.storageFailed('again')); // a second failure joins the loop running
    expect(days.owedDays).toBe(1);
    await vi.advanceTimersByTimeAsync(storageRetryMs(0) + storageRetryMs(1) + storageRetryMs(2) - 1);
    expect(days.owedDays).toBe(1);
    await vi.advanceTimersByTimeAsync(storageRetryMs(3) + 1);
    expect(days.owedDays).toBe(0);
    expect([...store.written.keys()]).toEqual([0, today]);
    expect(retry.lines.map((line) => JSON.parse(line) as { level: string; failedTries?: number })).toEqual([
      expect.objectContaining({ level: 'error', msg: expect.stringContaining('could not be stored'), owedDays: 1 }),
      expect.objectContaining({ level: 'info', msg: 'closing balances stored', failedTries: 3 }),
    ]);
    expect(retry.fatal).toEqual([]);
  });

  it('writes nothing while the disk is under its reserve, and stops with the shard', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const store = new FailingDayStore();
    const retry = recordingRetry();
    let low = true;
    retry.lowSpace = () => (low ? errors.storageFailed('the disk is under its reserve') : null);
    const { h, days } = await openedShard(store, retry);
    store.failures = 1;
    await cut(h, days, 20231115);
    await vi.advanceTimersByTimeAsync(storageRetryMs(0) * 40);
    expect([...store.written.keys()]).toEqual([0]); // never tried (a try would have passed: the store fails no more)
    retry.stop = true;
    low = false;
    await vi.advanceTimersByTimeAsync(storageRetryMs(99) * 2);
    expect(days.owedDays).toBe(1);
    expect(retry.lines).toHaveLength(1);
  });
});

describe('DayBook statements (on a journal store)', () => {
  it('opens a statement from day 0 (before the first cut) with nothing, not with the latest closing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tally-day-book-'));
    const store = JournalStore.open({ dataDir, shardIndex: 0, shardCount: 1 });
    onTestFinished(async () => {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const { h, days } = await openedShard(store);
    expect(h.createTransfers([transfer(9101n, ids.bank, ids.merchant, 25n)])).toEqual(['ok']);
    await cut(h, days, 20231115);
    const body = new Uint8Array(StatementLayout.bytes);
    const view = new DataView(body.buffer);
    writeU128(view, StatementLayout.accountId, ids.merchant);
    view.setUint32(StatementLayout.fromDay, 0, true);
    view.setUint32(StatementLayout.toDay, today, true);
    view.setUint32(StatementLayout.limit, 10, true);
    const reply = new DataView(days.query(DayQuery.statement, body).buffer);
    expect(reply.getBigUint64(StatementReplyLayout.opening + 8, true)).toBe(0n); // credits posted before day 0: none
    expect(reply.getBigUint64(StatementReplyLayout.closing + 8, true)).toBe(25n);
  });
});
