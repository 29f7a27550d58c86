// Spec of the LMDB stores on a disk that fills up — a real one: a tmpfs mounted for the spec and filled by a
// file (test/support/full-disk.ts). A commit that fails in LMDB is answered storage_failed naming the cause,
// never with an unhandled rejection (which ends a worker thread, or on the main thread the process); under
// the disk's free-space reserve the stores refuse writes themselves, before LMDB is tried; what was
// committed stays, and writes pass again once space returns, without reopening.
// Needs a tmpfs (statfs must see the space; a file size limit would not do): where mounting is refused the
// spec fails, it never skips. LMDB is made to fail only with a short write (EIO): a write that fails outright
// (ENOSPC) may overflow lmdb-js 3.5.6's error-message buffer and abort the process (docs/ARCHITECTURE.md).

import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BookkeepingStore, type BooksChanges, type StoredVoucher } from '../../../../src/shards/bookkeeping/bookkeeping-store.js';
import { AdminStore } from '../../../../src/admin/admin-store.js';
import { ChainLog } from '../../../../src/shards/chains/chain-log.js';
import { isCommitFailureEcho } from '../../../../src/shards/storage/commit-failures.js';
import { JournalStore } from '../../../../src/shards/shard/journal-store.js';
import { lowSpace, spaceOf, storageProbeBytes } from '../../../../src/shards/storage/storage-health.js';
import { prepareFullDisk, type FullDisk } from '../../../support/full-disk.js';

const tmpfsBytes = 32 * 1024 * 1024;
const underReserve = /under its reserve of \d+/;

let disk: FullDisk;
let fillLeaving: (freeBytes: number) => void;
let dirs = 0;
/** Unhandled rejections seen during a spec, sorted as a shard worker's handler sorts them. */
const unhandled = { echoes: 0, others: [] as unknown[] };
let savedListeners: NodeJS.UnhandledRejectionListener[] = [];
const onUnhandled = (reason: unknown): void => {
  if (isCommitFailureEcho(reason)) unhandled.echoes++;
  else unhandled.others.push(reason);
};

beforeAll(() => {
  disk = prepareFullDisk(tmpfsBytes, { tmpfsOnly: true });
  fillLeaving = disk.fillLeaving!;
});

afterAll(() => {
  disk?.dispose();
});

// The runner's own listener would report lmdb-js's echo of a failed commit (its event-turn batch promise)
// as an error of this file: the spec stands in for the shard worker's handler, and fails on anything else.
beforeEach(() => {
  savedListeners = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', onUnhandled);
  unhandled.echoes = 0;
  unhandled.others = [];
});

afterEach(() => {
  process.removeListener('unhandledRejection', onUnhandled);
  for (const listener of savedListeners) process.on('unhandledRejection', listener);
  expect(unhandled.others, 'unhandled rejections other than lmdb-js batch echoes').toEqual([]);
});

function freshDir(name: string): string {
  const dir = join(disk.dir, `${name}-${++dirs}`);
  mkdirSync(dir);
  return dir;
}

/** Runs `body` with only `freeBytes` left on the disk; the space returns afterwards whatever happens. */
async function withFree<T>(freeBytes: number, body: () => Promise<T>): Promise<T> {
  fillLeaving(freeBytes);
  try {
    return await body();
  } finally {
    disk.free(process.pid);
  }
}

/** Lets rejections nobody handled surface (unhandled rejections are reported after the microtask queue). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

function entryOf(seq: number, bytes: number): Uint8Array {
  const entry = new Uint8Array(bytes).fill(seq & 0xff);
  new DataView(entry.buffer).setUint32(0, seq, true);
  return entry;
}

describe('the free-space reserve (lowSpace)', () => {
  it('is met with room to spare, missed once the disk fills, met again when space returns; unknown paths pass', async () => {
    const space = spaceOf(disk.dir)!;
    expect(space.reserveBytes).toBe(tmpfsBytes / 32);
    expect(lowSpace(disk.dir)).toBeNull();
    await withFree(space.reserveBytes / 2, async () => {
      expect(lowSpace(disk.dir)).toMatch(underReserve);
    });
    expect(lowSpace(disk.dir)).toBeNull();
    expect(lowSpace(join(disk.dir, 'no-such-dir'))).toBeNull(); // statfs cannot tell: LMDB's own error decides
  });
});

describe('JournalStore when a commit fails in LMDB', () => {
  it('rejects the failed append storage_failed with the cause, and every later one; the gap it leaves is dropped on reopening', async () => {
    const dataDir = freshDir('journal');
    let store = JournalStore.open({ dataDir, shardIndex: 0, shardCount: 1 });
    for (let seq = 1; seq <= 5; seq++) await store.append(seq, entryOf(seq, 1024));
    await withFree(16 * 1024, async () => {
      // Far more than is left: the data file must grow, and the write comes up short (EIO).
      await expect(store.append(6, entryOf(6, 512 * 1024))).rejects.toMatchObject({
        code: 'storage_failed',
        message: expect.stringMatching(/journal entry 6 was not made durable: (Input\/output error|No space left on device)/),
      });
      expect([...store.entries(1)].map(([seq]) => seq), 'reads while full').toEqual([1, 2, 3, 4, 5]);
    });
    // Space is back and entry 7's own commit passes, yet it is never acknowledged: it follows a failed one.
    await expect(store.append(7, entryOf(7, 1024))).rejects.toMatchObject({ code: 'storage_failed', message: expect.stringMatching(/journal entry 6/) });
    await store.probe(storageProbeBytes); // the same environment takes writes: LMDB aborted the failed transaction, nothing else
    await store.close();

    store = JournalStore.open({ dataDir, shardIndex: 0, shardCount: 1 });
    expect([...store.entries(1)].map(([seq]) => seq)).toEqual([1, 2, 3, 4, 5]); // replay stops at the gap
    expect(await store.discardAfter(5)).toBe(1); // entry 7, past the gap, was never acknowledged
    await store.append(6, entryOf(66, 1024));
    expect(store.entry(6)).toEqual(entryOf(66, 1024));
    await store.close();
    await nextTurn();
    expect(unhandled.echoes, 'lmdb-js rejected its own batch promise too (a shard worker ignores that echo)').toBeGreaterThan(0);
  });

  it('probes without leaving anything behind: no journal entry, no closing balances', async () => {
    const store = JournalStore.open({ dataDir: freshDir('journal'), shardIndex: 0, shardCount: 1 });
    await store.append(1, entryOf(1, 64));
    await store.probe(storageProbeBytes);
    expect([store.seqLast, [...store.entries(1)].length, store.closingAt(0, 0xffff_ffff)]).toEqual([1, 1, null]);
    await store.close();
  });
});

describe('ChainLog under the free-space reserve', () => {
  it('refuses a commit record storage_failed without trying LMDB, and logs again once space returns', async () => {
    const dataDir = freshDir('chains');
    const log = await ChainLog.open(dataDir);
    const group = log.nextGroup();
    const bytesBefore = statSync(join(dataDir, 'chains', 'data.mdb')).size;
    await withFree(spaceOf(disk.dir)!.reserveBytes / 2, async () => {
      await expect(log.logCommit(group)).rejects.toMatchObject({ code: 'storage_failed', message: expect.stringMatching(underReserve) });
    });
    expect(statSync(join(dataDir, 'chains', 'data.mdb')).size).toBe(bytesBefore);
    expect(log.isCommitted(group)).toBe(false);
    await log.logCommit(group);
    expect(log.isCommitted(group)).toBe(true);
    await log.close();
    await nextTurn();
    expect(unhandled.echoes).toBe(0);
  });

  it('opens all the same, and numbers no group until its epoch is stored, which a later request retries', async () => {
    const dataDir = freshDir('chains');
    await (await ChainLog.open(dataDir)).close();
    const log = await withFree(spaceOf(disk.dir)!.reserveBytes / 2, async () => {
      const opened = await ChainLog.open(dataDir);
      expect(() => opened.nextGroup()).toThrow(/storage_failed: chain log: storing epoch 2/);
      return opened;
    });
    // A request after space returns stores the epoch (once its back-off passed); the next numbers a group.
    let group: bigint | null = null;
    for (let tries = 0; group === null && tries < 200; tries++) {
      try {
        group = log.nextGroup();
      } catch (error) {
        expect(error).toMatchObject({ code: 'storage_failed' });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    expect(group).toBe((2n << 32n) | 1n);
    await log.close();
    const again = await ChainLog.open(dataDir);
    expect(again.epoch).toBe(3); // epoch 2 is stored: never handed out twice
    await again.close();
  });
});

describe('BookkeepingStore under the free-space reserve', () => {
  const voucher = (seq: number): StoredVoucher => ({
    seq,
    businessDay: 20260101,
    lines: [{ ledger: 1, code: 1001, side: 'debit', amount: '5' }],
    entryTimestamp: '1',
    entryBytes: 64,
  });
  /** The books a voucher of seq `seq` changes: its shard's progress. */
  const progressThrough = (seq: number): BooksChanges => ({ replace: seq === 1, shardCount: 1, shards: [{ shard: 0, seqLast: seq, day: 20260101 }], days: [], accounts: [] });

  it('refuses vouchers and reports storage_failed, keeps what it stored, and stores again once space returns', async () => {
    const store = BookkeepingStore.open(freshDir('bookkeeping'));
    await store.append([{ shard: 0, voucher: voucher(1) }], progressThrough(1));
    await withFree(spaceOf(disk.dir)!.reserveBytes / 2, async () => {
      await expect(store.append([{ shard: 0, voucher: voucher(2) }], progressThrough(2))).rejects.toMatchObject({ code: 'storage_failed', message: expect.stringMatching(underReserve) });
      await expect(store.putReport(20260101, '{}')).rejects.toMatchObject({ code: 'storage_failed', message: expect.stringMatching(/report of day 20260101/) });
    });
    expect([store.lastBooked(0)?.seq, store.report(20260101)]).toEqual([1, undefined]);
    await store.append([{ shard: 0, voucher: voucher(2) }], progressThrough(2));
    expect(await store.putReport(20260101, '{"day":20260101}')).toBe('{"day":20260101}');
    expect(store.lastBooked(0)?.seq).toBe(2);
    await store.close();
    await nextTurn();
    expect(unhandled.echoes).toBe(0);
  });
});

describe('AdminStore under the free-space reserve', () => {
  it('refuses audit records and adjustments storage_failed without trying LMDB, keeps what it has, and writes again once space returns', async () => {
    const dataDir = freshDir('admin');
    const store = AdminStore.open(dataDir);
    await store.record({ kind: 'admin', keyId: 'ops', operation: 45, code: 'ok', detail: 'before the disk filled' });
    await withFree(spaceOf(disk.dir)!.reserveBytes / 2, async () => {
      await expect(store.record({ kind: 'refused', keyId: null, operation: 2, code: 'unauthenticated', detail: 'no key' })).rejects.toMatchObject({ code: 'storage_failed', message: expect.stringMatching(underReserve) });
    });
    expect(store.auditSeqLast()).toBe(1);
    await store.record({ kind: 'admin', keyId: 'ops', operation: 45, code: 'ok', detail: 'after space returned' });
    expect(store.auditAfter(0, 10).map((r) => r.detail)).toEqual(['before the disk filled', 'after space returned']);
    await store.close();
    await nextTurn();
    expect(unhandled.echoes).toBe(0);
  });
});
