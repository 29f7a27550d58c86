// Spec of the bookkeeper's stop: it waits for the write in flight and writes nothing after it, because the
// bookkeeping thread is ended right after (ending a thread inside an lmdb-js write aborts the process).
// And of a voucher store that fails (a full disk): the poll keeps its vouchers and retries them after a
// back-off, books nothing new meanwhile, answers queries, and a day report asked meanwhile fails at once.
// And of a journal entry it cannot book (a day cut naming no date, as an earlier version journaled): it halts,
// says so once, stores nothing more, answers its status and refuses reports and books queries naming the entry.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultChart } from '../../../../src/core/books/chart-of-accounts.js';
import type { ShardDayClose } from '../../../../src/core/books/day-close.js';
import { errors } from '../../../../src/core/errors.js';
import { JournalHeader } from '../../../../src/core/posting/journal-entry.js';
import { Bookkeeper, bookkeepingPollMs, type JournalReader } from '../../../../src/shards/bookkeeping/bookkeeper.js';
import type { BookkeepingStore, StoredVoucher } from '../../../../src/shards/bookkeeping/bookkeeping-store.js';
import { storageRetryMs } from '../../../../src/shards/storage/storage-health.js';
import { ids, standardWorld, transfer } from '../../../support/ledger-fixtures.js';
import { LedgerHarness } from '../../../support/ledger-harness.js';

/** A store whose commits stay in flight until the test lets them end; it counts them. */
function storeWithHeldCommits() {
  const held: (() => void)[] = [];
  let appends = 0;
  const store = {
    lastBooked: () => undefined,
    books: () => undefined,
    report: () => undefined,
    append: () => {
      appends++;
      return new Promise<void>((resolve) => held.push(resolve));
    },
  };
  return { store: store as unknown as BookkeepingStore, held, appends: () => appends };
}

const emptyJournal: JournalReader = { entries: () => [], entry: () => undefined, lastCommittedSeq: () => 0 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Bookkeeper.stop', () => {
  it('resolves only after the poll in flight committed, and no poll writes after it', async () => {
    const { store, held, appends } = storeWithHeldCommits();
    const bookkeeper = new Bookkeeper(defaultChart(), store, [emptyJournal], () => {});
    await bookkeeper.start();
    void bookkeeper.poll();
    expect(appends()).toBe(1);

    let stopped = false;
    const stopping = bookkeeper.stop().then(() => (stopped = true));
    await sleep(bookkeepingPollMs * 3);
    expect(stopped).toBe(false); // its commit is still in flight
    held.splice(0).forEach((release) => release());
    await stopping;

    await bookkeeper.poll(); // asked directly, and by the (stopped) timer: nothing is written any more
    await sleep(bookkeepingPollMs * 3);
    expect(appends()).toBe(1);
  });
});

/** A voucher store whose next `failures` commits fail storage_failed; it records the seqs of every commit tried. */
function storeFailingCommits() {
  const tried: number[][] = [];
  const stored: number[] = [];
  const state = { failures: 0 };
  const store = {
    lastBooked: () => undefined,
    books: () => undefined,
    report: () => undefined,
    append: (vouchers: readonly { shard: number; voucher: StoredVoucher }[]) => {
      if (vouchers.length === 0) return Promise.resolve();
      tried.push(vouchers.map((v) => v.voucher.seq));
      if (state.failures > 0) {
        state.failures--;
        return Promise.reject(errors.storageFailed('bookkeeping store: storing vouchers: No space left on device (code 28)'));
      }
      stored.push(...vouchers.map((v) => v.voucher.seq));
      return Promise.resolve();
    },
  };
  return { store: store as unknown as BookkeepingStore, tried, stored, state };
}

/** A shard journal as the harness keeps it. */
function readerOf(h: LedgerHarness): JournalReader {
  return {
    *entries(fromSeq) {
      for (let seq = fromSeq; h.journal.has(seq); seq++) yield [seq, h.journal.get(seq)!];
    },
    entry: (seq) => h.journal.get(seq),
    lastCommittedSeq: () => h.journal.size,
  };
}

describe('Bookkeeper on a voucher store that fails', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps the vouchers of a failed commit and retries them after a back-off, booking nothing new meanwhile', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
    const h = new LedgerHarness();
    standardWorld(h); // journal entries 1 (accounts) and 2 (funding)
    const { store, tried, stored, state } = storeFailingCommits();
    const logged: string[] = [];
    const bookkeeper = new Bookkeeper(defaultChart(), store, [readerOf(h)], (line) => logged.push(line));
    await bookkeeper.start();
    state.failures = 2;

    await bookkeeper.poll();
    expect(tried).toEqual([[1, 2]]);
    expect(bookkeeper.status()[0]).toMatchObject({ booked: 2, journaled: 2 }); // queries go on from memory
    expect(logged.filter((line) => line.includes('cannot store vouchers'))).toHaveLength(1);

    h.createTransfers([transfer(5001n, ids.bank, ids.merchant, 7n)]); // entry 3
    await vi.advanceTimersByTimeAsync(storageRetryMs(0) - bookkeepingPollMs);
    expect(tried).toEqual([[1, 2]]); // still backing off: no commit tried, nothing new booked
    expect(bookkeeper.status()[0]).toMatchObject({ booked: 2, journaled: 3, lag: 1 });
    const cut = { shard: 0, day: 20260101, cutSeq: 3 } as unknown as ShardDayClose;
    await expect(bookkeeper.dayReport([cut], [])).rejects.toMatchObject({ code: 'storage_failed', message: expect.stringMatching(/cannot reach the cut of day 20260101/) });

    await vi.advanceTimersByTimeAsync(storageRetryMs(0) + storageRetryMs(1) + bookkeepingPollMs * 3);
    expect(tried).toEqual([[1, 2], [1, 2], [1, 2], [3]]); // the same vouchers twice more, then the new entry
    expect(stored).toEqual([1, 2, 3]);
    expect(logged.filter((line) => line.includes('stores vouchers again'))).toHaveLength(1);
    await bookkeeper.stop();
  });
});

describe('Bookkeeper on an entry it cannot book', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // Regression (issue #20, 3): a journaled cut to day 20261301 failed an assertion on every poll, the worker
  // restarted and failed again: thousands of error lines, and GET /metrics (which asks for the lag) answered 500.
  it('halts at it: one error line however many polls, nothing more stored, status answers, reports are refused naming it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
    const h = new LedgerHarness();
    standardWorld(h); // entries 1 (accounts) and 2 (funding)
    const cut = h.ledger.cutDay(20261204, h.nowNs); // entry 3, stored as an earlier version wrote it: day 20261301
    const stored = cut.entry.slice();
    new DataView(stored.buffer).setUint32(JournalHeader.businessDay, 20261301, true);
    h.journal.set(cut.seq, stored);
    h.createTransfers([transfer(5001n, ids.bank, ids.merchant, 7n)]); // entry 4
    const { store, tried } = storeFailingCommits();
    const logged: string[] = [];
    const bookkeeper = new Bookkeeper(defaultChart(), store, [readerOf(h)], (line) => logged.push(line));
    await bookkeeper.start();

    await expect(bookkeeper.poll()).resolves.toBeUndefined();
    await vi.advanceTimersByTimeAsync(bookkeepingPollMs * 200);
    await bookkeeper.poll();
    const halted = logged.filter((line) => line.includes('bookkeeping halted'));
    expect(halted).toHaveLength(1);
    expect(JSON.parse(halted[0]!)).toMatchObject({ level: 'error', shard: 0, seq: 3, error: expect.stringContaining('day cut 3 names a business day') });
    expect(tried).toEqual([]); // the entries booked before it in that poll are not stored either: a restart rebuilds from the store
    expect(bookkeeper.status()[0]).toMatchObject({ journaled: 4 });
    expect(bookkeeper.status()[0]!.lag).toBeGreaterThan(0);
    const close = { shard: 0, day: 20261204, cutSeq: 3 } as unknown as ShardDayClose;
    await expect(bookkeeper.dayReport([close], [])).rejects.toThrow(/bookkeeping halted at shard 0 entry 3/);
    expect(() => bookkeeper.subjectBalances(1)).toThrow(/bookkeeping halted at shard 0 entry 3/);
    expect(() => bookkeeper.trialBalance(1)).toThrow(/bookkeeping halted/);
    await bookkeeper.stop();
  });
});
