// Spec of the bookkeeper's restart: its books (general-ledger rows, progress, account codes) are stored in
// the same commit as the vouchers that changed them, so a start reads no journal entry at or below its
// marks, and its books after a restart equal those before. A kill between two commits books nothing twice
// and misses nothing: vouchers and books equal a full rebuild from the journals. Vouchers of entries a crash
// took back, and a store written before the books were kept, are rebuilt from the journals once.

import { describe, expect, it } from 'vitest';
import { defaultChart } from '../../../../src/core/books/chart-of-accounts.js';
import { GeneralLedger } from '../../../../src/core/books/general-ledger.js';
import { AccountCodes } from '../../../../src/core/books/vouchers.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { Bookkeeper, bookEntry, bookkeepingEntriesPerPollMax, storedVoucherOf, type JournalReader } from '../../../../src/shards/bookkeeping/bookkeeper.js';
import { BookkeepingStore, type StoredVoucher } from '../../../../src/shards/bookkeeping/bookkeeping-store.js';
import { account, ledgerMain, ledgerOther, transfer } from '../../../support/ledger-fixtures.js';
import { LedgerHarness } from '../../../support/ledger-harness.js';
import { mulberry32 } from '../../../support/prng.js';
import { useTempDirs } from '../../../support/temp-dirs.js';

const tempDir = useTempDirs();
const shardCount = 2;
const nsPerDay = 86_400n * 1_000_000_000n;

/** Two shards, each with accounts that live on it (ledgers 1 and 2, codes 1..3), posting random transfers and cutting days together. */
class World {
  readonly shards = Array.from({ length: shardCount }, (_, shardIndex) => new LedgerHarness({ shardIndex, shardCount, verifyEachWrite: false }));
  readonly #accounts: { id: bigint; ledger: number }[][] = [[], []];
  readonly #random = mulberry32(20261205);
  #nextTransferId = 1_000_000n;
  #day = 20231115;

  constructor() {
    for (let id = 1n; id <= 40n; id++) {
      const shard = shardOfId(id, shardCount);
      const ledger = id % 4n === 0n ? ledgerOther : ledgerMain;
      this.#accounts[shard]!.push({ id, ledger });
      expect(this.shards[shard]!.createAccounts([account(id, { ledger, code: 1 + Number(id % 3n) })])).toEqual(['ok']);
    }
  }

  /** `count` journal entries on each shard: batches of a few random transfers, and now and then a day cut on every shard. */
  post(count: number): void {
    for (let k = 0; k < count; k++) {
      if (this.#random() < 0.02) {
        this.#cutDay();
        continue;
      }
      for (const [shard, h] of this.shards.entries()) {
        const batch = Array.from({ length: 1 + Math.floor(this.#random() * 4) }, () => this.#transferOn(shard));
        h.createTransfers(batch);
      }
    }
  }

  #transferOn(shard: number) {
    const accounts = this.#accounts[shard]!;
    const debit = accounts[Math.floor(this.#random() * accounts.length)]!;
    const sameLedger = accounts.filter((a) => a.ledger === debit.ledger && a.id !== debit.id);
    const credit = sameLedger[Math.floor(this.#random() * sameLedger.length)]!;
    return transfer(this.#nextTransferId++, debit.id, credit.id, BigInt(1 + Math.floor(this.#random() * 1000)), { ledger: debit.ledger });
  }

  #cutDay(): void {
    this.#day++;
    for (const h of this.shards) {
      h.nowNs += nsPerDay;
      const cut = h.ledger.cutDay(this.#day, h.nowNs);
      h.journal.set(cut.seq, cut.entry);
    }
  }
}

/** A shard's journal as the harness keeps it, counting the entries read and noting the first seq each read starts at. */
function readerOf(h: LedgerHarness, reads: { entries: number; fromSeqs: number[] }): JournalReader {
  return {
    *entries(fromSeq) {
      reads.fromSeqs.push(fromSeq);
      for (let seq = fromSeq; h.journal.has(seq); seq++) {
        reads.entries++;
        yield [seq, h.journal.get(seq)!];
      }
    },
    entry: (seq) => h.journal.get(seq),
    lastCommittedSeq: () => h.journal.size,
  };
}

function newReads() {
  return { entries: 0, fromSeqs: [] as number[] };
}

function bookkeeperOn(world: World, store: BookkeepingStore, reads = newReads()): Bookkeeper {
  return new Bookkeeper(defaultChart(), store, world.shards.map((h) => readerOf(h, reads)), () => {});
}

/** Polls until every shard is booked through its journal. */
async function catchUp(bookkeeper: Bookkeeper): Promise<void> {
  for (let polls = 0; bookkeeper.status().some((s) => s.lag > 0); polls++) {
    expect(polls).toBeLessThan(1000);
    await bookkeeper.poll();
  }
}

/** Everything the bookkeeper answers: its progress, and per ledger its trial balance and subject balances (all days and each day). */
function booksOf(bookkeeper: Bookkeeper, days: readonly number[]) {
  return {
    status: bookkeeper.status().map(({ shard, booked, businessDay }) => ({ shard, booked, businessDay })),
    ledgers: bookkeeper.ledgers().map((ledger) => ({
      ledger,
      trial: bookkeeper.trialBalance(ledger),
      subjects: bookkeeper.subjectBalances(ledger),
      byDay: days.map((day) => bookkeeper.trialBalance(ledger, day)),
    })),
  };
}

/** The days cut since the last call, and day 0 (takeClosedDays hands each over once). */
function daysOf(world: World): number[] {
  const days = new Set<number>();
  for (const h of world.shards) for (const day of [0, ...h.ledger.takeClosedDays().map((d) => d.day)]) days.add(day);
  return [...days].sort((a, b) => a - b);
}

/** The full rebuild: every journal entry booked from the first, with the bookkeeper's own step. */
function fullRebuild(world: World): { gl: GeneralLedger; vouchers: StoredVoucher[][] } {
  const gl = new GeneralLedger(defaultChart());
  const codes = new AccountCodes(shardCount);
  const vouchers = world.shards.map((h, shard) => [...h.journal.keys()].sort((a, b) => a - b).map((seq) => storedVoucherOf(bookEntry(gl, codes, shard, shardCount, h.journal.get(seq)!), h.journal.get(seq)!)));
  return { gl, vouchers };
}

/** The stored books as rows in a canonical order. */
function storedRows(store: BookkeepingStore) {
  const books = store.books()!;
  return { shards: books.shards, days: [...books.days].sort((a, b) => a.ledger - b.ledger || a.day - b.day || a.code - b.code) };
}

function rebuiltRows(gl: GeneralLedger) {
  const { shards, days } = gl.toJSON();
  return { shards: [...shards].sort((a, b) => a.shard - b.shard), days: [...days].sort((a, b) => a.ledger - b.ledger || a.day - b.day || a.code - b.code) };
}

/** Every stored voucher equals the one its entry gives, each entry has exactly one, and the stored books equal the full rebuild's. */
function expectEqualToFullRebuild(world: World, store: BookkeepingStore): void {
  const { gl, vouchers } = fullRebuild(world);
  for (const [shard, expected] of vouchers.entries()) {
    const stored = [...store.vouchersOf(shard)];
    expect(stored.map((v) => v.seq)).toEqual(expected.map((v) => v.seq));
    expect(stored.map((v) => v.text)).toEqual(expected.map((v) => JSON.stringify(v)));
  }
  expect(storedRows(store)).toEqual(rebuiltRows(gl));
  const accounts = store.books()!.accounts;
  expect(accounts).toHaveLength(40);
}

/** A store whose commits after the first `commitsLeft` never happen: the process died before them. */
function storeDyingAfter(store: BookkeepingStore, commitsLeft: number): BookkeepingStore {
  let left = commitsLeft;
  const dying: Pick<BookkeepingStore, 'lastBooked' | 'voucher' | 'books' | 'dropFrom' | 'append' | 'report'> = {
    lastBooked: (shard) => store.lastBooked(shard),
    voucher: (shard, seq) => store.voucher(shard, seq),
    books: () => store.books(),
    dropFrom: (shard, seq) => store.dropFrom(shard, seq),
    report: (day) => store.report(day),
    append: (vouchers, books) => {
      if (vouchers.length === 0 && !books.replace) return store.append(vouchers, books); // nothing to store: not a commit
      if (left === 0) return new Promise<void>(() => {});
      left--;
      return store.append(vouchers, books);
    },
  };
  return dying as BookkeepingStore;
}

describe('Bookkeeper restart', () => {
  it('reads only the journal entries after its marks, and its books after the restart equal those before', async () => {
    const world = new World();
    world.post(700);
    const dir = tempDir('bookkeeping-restart-');
    const first = BookkeepingStore.open(dir);
    const before = bookkeeperOn(world, first);
    await before.start();
    await catchUp(before);
    const days = daysOf(world);
    const booksBefore = booksOf(before, days);
    const marks = before.status().map((s) => s.booked);
    expect(marks.every((seq) => seq > 2 * bookkeepingEntriesPerPollMax)).toBe(true);
    await before.stop();
    await first.close();

    const store = BookkeepingStore.open(dir);
    const reads = newReads();
    const after = bookkeeperOn(world, store, reads);
    await after.start();
    expect(after.startStats()).toEqual({ resumed: true, entriesRead: 0 });
    expect(reads.entries).toBe(0);
    expect(booksOf(after, days)).toEqual(booksBefore);

    world.post(30);
    await catchUp(after);
    const added = world.shards.reduce((sum, h) => sum + h.journal.size, 0) - marks.reduce((a, b) => a + b, 0);
    expect(reads.entries).toBe(added);
    expect(Math.min(...reads.fromSeqs)).toBe(Math.min(...marks) + 1);
    await after.stop();
    expectEqualToFullRebuild(world, store);
    await store.close();
  });

  it.each([0, 1, 2, 3, 5])('killed after %i commits: nothing booked twice, nothing missed (equal to a full rebuild)', async (commits) => {
    const world = new World();
    world.post(300);
    const dir = tempDir('bookkeeping-kill-');
    const store = BookkeepingStore.open(dir);
    const killed = bookkeeperOn(world, storeDyingAfter(store, commits));
    await killed.start();
    // `commits` polls commit (entries keep coming meanwhile), then one hangs in the commit that never happens.
    for (let k = 0; k < commits; k++) {
      world.post(20);
      await killed.poll();
    }
    world.post(20);
    void killed.poll();
    expect(killed.status().some((s) => s.booked > 0)).toBe(true); // booked in memory, not stored
    void killed.stop(); // its timer only: the commit in flight never ends
    await store.close();

    const reopened = BookkeepingStore.open(dir);
    const restarted = bookkeeperOn(world, reopened);
    await restarted.start();
    expect(restarted.startStats().resumed).toBe(commits > 0);
    await catchUp(restarted);
    await restarted.stop();
    expectEqualToFullRebuild(world, reopened);
    // And a further restart resumes from what it stored, reading nothing.
    const reads = newReads();
    const again = bookkeeperOn(world, reopened, reads);
    await again.start();
    expect([again.startStats(), reads.entries]).toEqual([{ resumed: true, entriesRead: 0 }, 0]);
    const days = daysOf(world);
    expect(booksOf(again, days)).toEqual(booksOf(restarted, days));
    await again.stop();
    await reopened.close();
  });

  it('drops vouchers of entries a crash took back and rebuilds its books from the journals, once', async () => {
    const world = new World();
    world.post(120);
    const dir = tempDir('bookkeeping-lost-');
    const store = BookkeepingStore.open(dir);
    const before = bookkeeperOn(world, store);
    await before.start();
    await catchUp(before);
    await before.stop();
    // A power loss took back shard 1's last 5 entries (its readers had seen them committed).
    const lost = world.shards[1]!;
    for (let k = 0; k < 5; k++) lost.journal.delete(lost.journal.size);

    const reads = newReads();
    const after = bookkeeperOn(world, store, reads);
    await after.start();
    const remaining = world.shards.reduce((sum, h) => sum + h.journal.size, 0);
    expect(after.startStats()).toEqual({ resumed: false, entriesRead: remaining });
    await catchUp(after);
    await after.poll(); // the rebuilt books are stored with the first commit after the start
    await after.stop();
    expectEqualToFullRebuild(world, store);
    const again = bookkeeperOn(world, store);
    await again.start();
    expect(again.startStats()).toEqual({ resumed: true, entriesRead: 0 });
    await again.stop();
    await store.close();
  });

  it('rebuilds the books of a store an earlier version wrote (vouchers only) once, then resumes from them', async () => {
    const world = new World();
    world.post(50);
    const dir = tempDir('bookkeeping-upgrade-');
    const store = BookkeepingStore.open(dir);
    // What an earlier version left: the vouchers of shard 0's first 30 entries, and no books.
    const { vouchers } = fullRebuild(world);
    await store.append(vouchers[0]!.slice(0, 30).map((voucher) => ({ shard: 0, voucher })), { replace: false, shardCount, shards: [{ shard: 0, seqLast: 30, day: 0 }], days: [], accounts: [] });
    expect(store.books()).toBeUndefined();

    const upgraded = bookkeeperOn(world, store);
    await upgraded.start();
    expect(upgraded.startStats()).toEqual({ resumed: false, entriesRead: 30 });
    await catchUp(upgraded);
    await upgraded.stop();
    expectEqualToFullRebuild(world, store);
    const again = bookkeeperOn(world, store);
    await again.start();
    expect(again.startStats()).toEqual({ resumed: true, entriesRead: 0 });
    await again.stop();
    await store.close();
  });
});
