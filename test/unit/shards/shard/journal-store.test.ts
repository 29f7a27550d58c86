// Spec of the shard journal store: durable appends in seq order, synchronous reads, ordered recovery,
// and a store that refuses to open under a different shard layout.

import { randomFillSync } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventBytes, journalCacheEntriesMax } from '../../../../src/core/limits.js';
import { JournalEntryKind } from '../../../../src/core/operations.js';
import {
  balancesAfterBytes,
  balancesAfterOffset,
  eventOffset,
  journalEntryBytes,
  journalHeaderBytes,
  readJournalHeader,
  recordSliceMax,
  recordSliceOf,
  RecordParts,
  RecordSlice,
  resultsOffset,
  writeJournalHeader,
} from '../../../../src/core/posting/journal-entry.js';
import { JournalStore, journalFormatVersion } from '../../../../src/shards/shard/journal-store.js';
import { piecesFormat1, piecesFormat2 } from '../../../../src/shards/shard/entry-pieces.js';
import { open } from 'lmdb';

let dataDir: string;
const opened: JournalStore[] = [];

/** `createFormat`: the format of a store created by this call (an existing store keeps its own). */
function openStore(shardIndex = 0, shardCount = 2, createFormat?: number): JournalStore {
  const store = JournalStore.open({ dataDir, shardIndex, shardCount, createFormat });
  opened.push(store);
  return store;
}

/** An entry whose bytes say which seq it belongs to, so reads can be checked. */
function entryOf(seq: number, bytes = 64): Uint8Array {
  const entry = new Uint8Array(bytes);
  new DataView(entry.buffer).setUint32(0, seq, true);
  entry.fill(seq & 0xff, 4);
  return entry;
}

async function appendRange(store: JournalStore, from: number, to: number): Promise<void> {
  const appends: Promise<void>[] = [];
  for (let seq = from; seq <= to; seq++) appends.push(store.append(seq, entryOf(seq)));
  await Promise.all(appends);
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'tally-journal-'));
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('JournalStore', () => {
  it('starts empty', () => {
    const store = openStore();
    expect(store.seqLast).toBe(0);
    expect(store.entry(1)).toBeUndefined();
    expect([...store.entries(1)]).toEqual([]);
  });

  it('appends, reads back synchronously (before and after durability) and iterates in seq order', async () => {
    const store = openStore();
    const pending = store.append(1, entryOf(1));
    expect(store.entry(1)).toEqual(entryOf(1)); // from the cache while the commit is in flight
    await pending;
    await appendRange(store, 2, 300);
    expect(store.seqLast).toBe(300);
    expect(store.seqDurable).toBe(300);
    expect(store.entry(3)).toEqual(entryOf(3)); // evicted from the cache: read from LMDB
    expect(store.entry(300)).toEqual(entryOf(300));
    expect(store.entry(301)).toBeUndefined();
    const seqs = [...store.entries(250)].map(([seq, entry]) => {
      expect(entry).toEqual(entryOf(seq));
      return seq;
    });
    expect(seqs).toEqual(Array.from({ length: 51 }, (_, i) => 250 + i));
  });

  it('reads entries in place (entryViews) with the bytes entries() copies, small and large, through the last', async () => {
    const store = openStore();
    // Sizes around lmdb-js's reused read buffer and LMDB's overflow pages, up to a full batch's 1.6 MB.
    const sizes = [64, 4_000, 40_000, 70_000, 1_700_000, 64, 300_000, 32];
    for (const [i, bytes] of sizes.entries()) await store.append(i + 1, entryOf(i + 1, bytes));
    const copies = new Map([...store.entries(1)].map(([seq, entry]) => [seq, entry.slice()]));
    const seqs: number[] = [];
    for (const [seq, view] of store.entryViews(2)) {
      // A view is valid only until the next step: compare it here.
      expect(view.byteLength).toBe(sizes[seq - 1]);
      expect(view).toEqual(copies.get(seq));
      seqs.push(seq);
    }
    expect(seqs).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect([...store.entryViews(9)]).toEqual([]);
  });

  it('keeps its entries across close and reopen', async () => {
    const first = openStore();
    await appendRange(first, 1, 10);
    await first.close();
    const second = openStore();
    expect(second.seqLast).toBe(10);
    expect([...second.entries(1)].map(([seq]) => seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(second.entry(7)).toEqual(entryOf(7));
    await second.append(11, entryOf(11));
  });

  it('numeric seq order survives past single digits and byte boundaries', async () => {
    const store = openStore();
    await appendRange(store, 1, 1100);
    const seqs = [...store.entries(1)].map(([seq]) => seq);
    expect(seqs.length).toBe(1100);
    expect(seqs.every((seq, i) => seq === i + 1)).toBe(true);
  });

  it.each([
    { name: 'a different shardCount', shardIndex: 0, shardCount: 3, message: /created with shardCount 2, not 3/ },
    { name: 'a different shard index', shardIndex: 1, shardCount: 2, message: /holds shard 0, not shard 1/ },
  ])('refuses to open a store made for $name', async ({ shardIndex, shardCount, message }) => {
    const first = openStore(0, 2);
    await appendRange(first, 1, 2);
    await first.close();
    // Shard 1 of the same layout finds shard 0's files in its place.
    const dir = dataDir;
    if (shardIndex !== 0) renameSync(join(dataDir, 'shard-0'), join(dataDir, `shard-${shardIndex}`));
    expect(() => JournalStore.open({ dataDir: dir, shardIndex, shardCount })).toThrow(message);
    try {
      JournalStore.open({ dataDir: dir, shardIndex, shardCount });
    } catch (error) {
      expect((error as { code: string }).code).toBe('storage_failed');
    }
  });

  it.each([
    { seq: 3, why: 'a gap' },
    { seq: 1, why: 'a repeat' },
    { seq: 0, why: 'zero' },
  ])('asserts on the append of a wrong seq ($why)', async ({ seq }) => {
    const store = openStore();
    await appendRange(store, 1, 1);
    expect(() => store.append(seq, entryOf(seq))).toThrow(/assertion failed: journal append of seq/);
    await store.append(2, entryOf(2));
  });

  it('never overwrites an entry another writer made durable (e.g. the last commit of a dead worker)', async () => {
    const ghost = openStore();
    const current = openStore(); // opened before the ghost's commit: it believes the journal is empty
    await ghost.append(1, entryOf(1));
    await expect(current.append(1, entryOf(99))).rejects.toMatchObject({ code: 'storage_failed', message: expect.stringMatching(/already exists/) });
    expect(current.entry(1)).toEqual(entryOf(99)); // its memory is ahead of disk: the worker must exit
    await ghost.close();
    const reopened = openStore();
    expect(reopened.entry(1)).toEqual(entryOf(1));
  });

  it.each([
    { options: { shardIndex: 0, shardCount: 0 }, message: /options.shardCount/ },
    { options: { shardIndex: 0, shardCount: 65 }, message: /options.shardCount/ },
    { options: { shardIndex: 2, shardCount: 2 }, message: /options.shardIndex/ },
    { options: { shardIndex: 0, shardCount: 1.5 }, message: /options.shardCount/ },
  ])('checks its options ($options)', ({ options, message }) => {
    expect(() => JournalStore.open({ dataDir, ...options })).toThrow(message);
  });

  it('reads every entry while more appends are in flight than it caches', async () => {
    const store = openStore();
    const appends: Promise<void>[] = [];
    for (let seq = 1; seq <= journalCacheEntriesMax * 2; seq++) appends.push(store.append(seq, entryOf(seq)));
    for (let seq = 1; seq <= journalCacheEntriesMax * 2; seq++) expect(store.entry(seq)).toEqual(entryOf(seq));
    await Promise.all(appends);
    for (let seq = 1; seq <= journalCacheEntriesMax * 2; seq++) expect(store.entry(seq)).toEqual(entryOf(seq));
  });

  it('discards entries after a given seq durably (entries past a gap were never acknowledged)', async () => {
    const first = openStore();
    await appendRange(first, 1, 5);
    expect(await first.discardAfter(3)).toBe(2);
    expect(first.seqLast).toBe(3);
    await first.append(4, entryOf(40));
    await first.close();
    const second = openStore();
    expect(second.seqLast).toBe(4);
    expect(second.entry(4)).toEqual(entryOf(40));
    expect(second.entry(5)).toBeUndefined();
  });
});

/** A day-close summary as a shard with accounts on `ledgers` ledgers writes it: one row per ledger and code. */
function summaryOf(day: number, ledgers: number): string {
  const codes = Array.from({ length: ledgers }, (_, i) => ({ ledger: i + 1, code: 1, accounts: 1, debitsPosted: '10', creditsPosted: '0' }));
  return JSON.stringify({ shard: 0, day, dayBegun: day + 1, cutSeq: 7, cutTimestamp: '1', codes, systemAccounts: [], transitIssued: [0, 3], transitApplied: [0, 0] });
}

describe('JournalStore closed days: nothing stored grows into a key-sized slot', () => {
  // Regression (issue #20): summaries were meta values, which lmdb-js encodes like keys (≤ 1,978 bytes), so a
  // day cut with accounts on ~10+ ledgers failed "Key of size … was too large", and every write after it too.
  it.each([1, 150, 300, 5_000])('stores and reads back the summary of a day with %i ledgers', async (ledgers) => {
    const store = openStore();
    const balances = new BigUint64Array(5 * (ledgers * 2)).fill(7n);
    const summary = summaryOf(20261204, ledgers);
    expect(await store.writeClosedDay(20261204, 7, balances, null, summary)).toBe(Math.ceil((ledgers * 2) / 4096)); // chunks written
    expect(store.isDayClosed(20261204)).toBe(true);
    expect(store.daySummary(20261204)).toBe(summary);
    expect(store.closedDaysStored()).toEqual([{ day: 20261204, cutSeq: 7 }]);
    expect(store.closingAt(0, 20261204)).toEqual(new BigUint64Array(5).fill(7n));
    await store.close();
    const reopened = openStore();
    expect(reopened.daySummary(20261204)).toBe(summary);
  });

  // Regression (issue #20, 8c: verify found "no summary is stored"): lmdb-js remembers the value it encodes
  // last before encoding it, so after an oversized summary failed, writing the same summary again stored the
  // value encoded before it (a number) in its place, and the day counted as closed without a summary.
  it('rewrites a day after other writes with the very summary it was given', async () => {
    const store = openStore();
    const balances = new BigUint64Array(10).fill(3n);
    const summary = summaryOf(20261205, 300);
    store.recordOutboxAcknowledged(1, 42); // a number encoded by the same thread just before
    await store.writeClosedDay(20261205, 9, balances, null, summary).catch(() => undefined);
    await store.writeClosedDay(20261205, 9, balances, null, summary); // replay rewrites what a crash may have cut short
    expect(store.daySummary(20261205)).toBe(summary);
    expect(store.closedDaysStored()).toEqual([{ day: 20261205, cutSeq: 9 }]);
  });

  it('keeps summaries apart from closing chunks: a balance lookup never meets one', async () => {
    const store = openStore();
    const day1 = new BigUint64Array(5 * 3).fill(1n);
    const day2 = day1.slice();
    day2[5] = 9n; // the second account moved
    await store.writeClosedDay(20261201, 4, day1, null, summaryOf(20261201, 200));
    await store.writeClosedDay(20261202, 8, day2, day1, summaryOf(20261202, 200));
    expect(store.closingAt(1, 20261202)![0]).toBe(9n);
    expect(store.closingAt(1, 20261201)![0]).toBe(1n);
    expect(store.closingAt(1, 20991231)![0]).toBe(9n); // the latest chunk at or before the day
    expect(store.closingAt(2, 20261130)).toBeNull(); // before any closed day
    expect(store.closingChunkAt(1, 20261202)).toBeNull(); // one chunk of 4,096 slots holds all three accounts
    expect(store.daySummary(20261201)).toBe(summaryOf(20261201, 200));
  });
});

describe('JournalStore.recordSlice: one record out of an old entry, not the whole entry', () => {
  /** A well-formed entry of `count` events of `operation` whose every byte past the header is random. */
  function recordsEntry(seq: number, operation: number, count: number): Uint8Array {
    const entry = new Uint8Array(journalEntryBytes(operation, count));
    for (let at = journalHeaderBytes; at < entry.byteLength; at += 65_536) randomFillSync(entry.subarray(at, Math.min(at + 65_536, entry.byteLength)));
    writeJournalHeader(new DataView(entry.buffer), { operation, count, timestampBase: 1n, seq, businessDay: 0 });
    return entry;
  }

  it('cuts the event, result and balances after from memory, from a small stored entry and from a full-batch one', async () => {
    const transfers = JournalEntryKind.create_transfers;
    const entries = [recordsEntry(1, transfers, 3), recordsEntry(2, transfers, 8_190), recordsEntry(3, JournalEntryKind.create_accounts, 5)];
    let store = openStore();
    for (const [i, entry] of entries.entries()) await store.append(i + 1, entry);
    const expectSlices = (from: JournalStore) => {
      for (const [i, entry] of entries.entries()) {
        const count = readJournalHeader(entry).count;
        for (const index of [0, count - 1, count >> 1]) {
          const slice = from.recordSlice(i + 1, index)!;
          expect(slice).toEqual(recordSliceOf(entry, index));
          expect(slice.subarray(RecordSlice.event, RecordSlice.event + eventBytes)).toEqual(entry.subarray(eventOffset(index), eventOffset(index) + eventBytes));
          expect(slice.subarray(RecordSlice.result, RecordSlice.result + 4)).toEqual(entry.subarray(resultsOffset(count) + index * 4, resultsOffset(count) + index * 4 + 4));
          const keeps = i < 2;
          expect(slice.byteLength).toBe(RecordSlice.balances + (keeps ? balancesAfterBytes : 0));
          if (keeps) expect(slice.subarray(RecordSlice.balances)).toEqual(entry.subarray(balancesAfterOffset(count, index), balancesAfterOffset(count, index) + balancesAfterBytes));
        }
      }
    };
    expectSlices(store); // entries held in memory
    await store.close();
    opened.splice(0);
    store = openStore(); // nothing in memory: every slice comes out of LMDB
    expectSlices(store);
    expect(store.recordSlice(4, 0)).toBeUndefined();
    expect(store.recordSlice(1, 3)).toBeUndefined(); // entry 1 has events 0..2
  });
});

/** Byte equality of large arrays (a deep toEqual walks them element by element: seconds per MB). */
function expectSameBytes(actual: Uint8Array | undefined, expected: Uint8Array | undefined): void {
  expect(actual).toBeDefined();
  expect(actual!.byteLength).toBe(expected!.byteLength);
  expect(Buffer.compare(actual!, expected!)).toBe(0);
}

describe.each([
  { format: 1, pieceBytes: piecesFormat1.pieceBytes },
  { format: 2, pieceBytes: piecesFormat2.pieceBytes },
])('JournalStore entry pieces, format $format: a large entry stored as a head and pieces reads back whole', ({ format, pieceBytes: entryPieceBytes }) => {
  it('keeps the format it was created with', async () => {
    await openStore(0, 2, format).close();
    opened.splice(0);
    const raw = open({ path: join(dataDir, 'shard-0'), maxDbs: 16 });
    expect(raw.openDB({ name: 'meta', encoding: 'ordered-binary' }).get('formatVersion')).toBe(format);
    await raw.close();
    const other = format === 1 ? 2 : 1;
    const reopened = openStore(0, 2, other); // createFormat applies to new stores only
    const entry = entryOf(1, 3 * entryPieceBytes + 5);
    await reopened.append(1, entry);
    await reopened.close();
    opened.splice(0);
    expectSameBytes(openStore().entry(1), entry);
  });

  it('stores past the first piece apart and reads entries, views and records across piece boundaries', async () => {
    const store = openStore(0, 2, format);
    const sizes = [entryPieceBytes - 1, entryPieceBytes, entryPieceBytes + 1, 3 * entryPieceBytes + 17, 1_700_000];
    const entries = sizes.map((bytes, i) => {
      const entry = entryOf(i + 1, bytes);
      randomFillSync(entry.subarray(4));
      return entry;
    });
    for (const [i, entry] of entries.entries()) await store.append(i + 1, entry);
    await store.close();
    opened.splice(0);
    const reopened = openStore();
    for (const [i, entry] of entries.entries()) expectSameBytes(reopened.entry(i + 1), entry);
    [...reopened.entries(1)].forEach(([, entry], i) => expectSameBytes(entry, entries[i]));
    expect([...reopened.entries(1)]).toHaveLength(entries.length);
    const views: Uint8Array[] = [];
    for (const [, view] of reopened.entryViews(1)) views.push(view.slice());
    expect(views).toHaveLength(entries.length);
    views.forEach((view, i) => expectSameBytes(view, entries[i]));
  });

  it('cuts records that straddle a piece boundary out of the pieces alone', async () => {
    const transfers = JournalEntryKind.create_transfers;
    const count = 8_190;
    const entry = new Uint8Array(journalEntryBytes(transfers, count));
    for (let at = 0; at < entry.byteLength; at += 65_536) randomFillSync(entry.subarray(at, Math.min(at + 65_536, entry.byteLength)));
    writeJournalHeader(new DataView(entry.buffer), { operation: transfers, count, timestampBase: 1n, seq: 1, businessDay: 0 });
    let store = openStore(0, 2, format);
    await store.append(1, entry);
    await store.close();
    opened.splice(0);
    store = openStore();
    // Every event whose bytes cross a piece boundary, and the records around them.
    const straddling = Array.from({ length: count }, (_, i) => i).filter((i) => Math.floor(eventOffset(i) / entryPieceBytes) !== Math.floor((eventOffset(i) + eventBytes - 1) / entryPieceBytes));
    expect(straddling.length).toBeGreaterThan(5);
    for (const index of [...straddling, 0, count - 1]) expect(store.recordSlice(1, index)).toEqual(recordSliceOf(entry, index));
    // The parts asked for, and only those: a lookup reads its event's piece alone, the rest of the slice stays zero.
    const whole = recordSliceOf(entry, count - 1);
    const eventOnly = store.recordSlice(1, count - 1, RecordParts.event)!;
    expect(eventOnly.subarray(0, RecordSlice.result)).toEqual(whole.subarray(0, RecordSlice.result));
    expect(eventOnly.subarray(RecordSlice.result).every((byte) => byte === 0)).toBe(true);
    const balancesOnly = store.recordSlice(1, 7, RecordParts.balances)!;
    expect(balancesOnly.subarray(RecordSlice.balances)).toEqual(recordSliceOf(entry, 7).subarray(RecordSlice.balances));
    expect(balancesOnly.subarray(0, RecordSlice.balances).every((byte) => byte === 0)).toBe(true);
    // Into a caller's scratch (a query's page reads each record into one): the same bytes, and the parts not asked
    // for zero even where the scratch held another record before.
    const scratch = new Uint8Array(recordSliceMax).fill(0xee);
    for (const index of [...straddling.slice(0, 3), 0, count - 1]) expect(store.recordSlice(1, index, RecordParts.all, scratch)).toEqual(recordSliceOf(entry, index));
    const eventInto = store.recordSlice(1, count - 1, RecordParts.event, scratch)!;
    expect(eventInto.buffer).toBe(scratch.buffer);
    expect(eventInto).toEqual(eventOnly);
    expect(() => store.recordSlice(1, 0, RecordParts.all, new Uint8Array(recordSliceMax - 1))).toThrow(/scratch/);
  });

  it('drops the pieces of entries past a gap with their heads', async () => {
    const store = openStore(0, 2, format);
    const big = entryOf(1, 3 * entryPieceBytes);
    await store.append(1, big);
    await store.append(2, entryOf(2, 2 * entryPieceBytes + 5));
    await store.close();
    opened.splice(0);
    const reopened = openStore();
    expect(await reopened.discardAfter(1)).toBe(1);
    await reopened.append(2, entryOf(2, 100));
    expect(reopened.entry(2)).toEqual(entryOf(2, 100));
    await reopened.close();
    opened.splice(0);
    expect(openStore().entry(2)).toEqual(entryOf(2, 100)); // no piece of the discarded entry 2 left to join it
  });

  it('reads a store written before pieces, whose entries are whole under their seq', async () => {
    const whole = entryOf(1, 1_700_000);
    randomFillSync(whole.subarray(4));
    await openStore(0, 2, format).close();
    opened.splice(0);
    const raw = open({ path: join(dataDir, 'shard-0'), maxDbs: 8 });
    const journal = raw.openDB<Uint8Array, number>({ name: 'journal', encoding: 'binary', keyEncoding: 'ordered-binary' });
    await journal.put(1, whole);
    await raw.close();
    const store = openStore();
    expect(store.seqLast).toBe(1);
    expectSameBytes(store.entry(1), whole);
    expect([...store.entryViews(1)].map(([, view]) => view.byteLength)).toEqual([whole.byteLength]);
  });
});

describe('JournalStore formats', () => {
  it('creates stores in this build\'s format and refuses one it does not know', async () => {
    await openStore().close();
    opened.splice(0);
    const raw = open({ path: join(dataDir, 'shard-0'), maxDbs: 16 });
    const meta = raw.openDB<number, string>({ name: 'meta', encoding: 'ordered-binary' });
    expect(meta.get('formatVersion')).toBe(journalFormatVersion);
    await meta.put('formatVersion', 9);
    await raw.close();
    expect(() => openStore()).toThrow(/has journal format 9; this build reads formats 1, 2/);
  });
});
