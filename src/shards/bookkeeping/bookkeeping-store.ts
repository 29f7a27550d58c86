// The bookkeeping shard's own LMDB store at `${dataDir}/bookkeeping`: one summary voucher per shard journal
// entry, by subject (汇总凭证: per ledger, account code and side), keyed (shard, seq), and the immutable
// day reports. The vouchers ARE its progress: the last stored voucher of a shard is how far it has booked
// that shard. Beside them, its books: the general ledger's rows (per shard its progress and day, per
// ledger × day × code its totals) and every account's code, written in the same transaction as the
// vouchers that changed them, so a restart loads them and reads only the journal entries after its
// progress. One poll's vouchers commit in one transaction, so an entry is booked once.

import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { assert } from '../../core/assert.js';
import type { LearntAccount } from '../../core/books/account-codes.js';
import type { DayTotalsRow, ShardProgressRow } from '../../core/books/general-ledger.js';
import { openEnvironmentReadOnly } from '../storage/read-only-env.js';
import { storageFailure } from '../storage/commit-failures.js';
import { lowSpaceError } from '../storage/storage-health.js';

/** A stored voucher: amounts as decimal strings, plus what identifies the journal entry it came from. */
export interface StoredVoucher {
  seq: number;
  businessDay: number;
  businessDayBegins?: number;
  lines: { ledger: number; code: number; side: 'debit' | 'credit'; amount: string }[];
  /** The entry's timestamp base and length: after a crash, the last stored voucher must match the shard's entry. */
  entryTimestamp: string;
  entryBytes: number;
}

/** The books a restart resumes from: the general ledger's rows and every account's code, for `shardCount` shards. */
export interface StoredBooks {
  shardCount: number;
  shards: ShardProgressRow[];
  days: DayTotalsRow[];
  accounts: LearntAccount[];
}

/** What one commit changes in the stored books: rows written anew, accounts added; `replace` first drops every row (a rebuild). */
export interface BooksChanges extends StoredBooks {
  replace: boolean;
}

/** The books database's keys: fixed, or (ledger, day, code) and shard numbers. */
const formatKey = ['format'];
const shardKey = (shard: number): [string, number] => ['shard', shard];
const dayKey = (row: DayTotalsRow): [string, number, number, number] => ['day', row.ledger, row.day, row.code];
/** Bumped when what the books database holds changes meaning: a store of another format is rebuilt. */
const booksFormatVersion = 1;

type BooksDatabase = Database<string, (string | number)[]>;
type AccountsDatabase = Database<number, Uint8Array>;

const databaseNames = { vouchers: 'vouchers', reports: 'reports', books: 'books', accounts: 'accounts' } as const;

export class BookkeepingStore {
  readonly #root: RootDatabase;
  readonly #vouchers: Database<string, number[]>;
  readonly #reports: Database<string, number>;
  /** null only when opened read-only on a store written before the books were kept. */
  readonly #books: BooksDatabase | null;
  readonly #accounts: AccountsDatabase | null;

  /** Where the store writes (null when opened read-only): below the disk's free-space reserve it writes nothing. */
  #path: string | null = null;

  private constructor(root: RootDatabase, vouchers: Database<string, number[]>, reports: Database<string, number>, books: BooksDatabase | null, accounts: AccountsDatabase | null) {
    this.#root = root;
    this.#vouchers = vouchers;
    this.#reports = reports;
    this.#books = books;
    this.#accounts = accounts;
  }

  static open(dataDir: string): BookkeepingStore {
    const path = join(dataDir, 'bookkeeping');
    const root = open({
      path,
      overlappingSync: false, // a committed batch is on disk before the next poll builds on it
      noSync: false,
      useWritemap: false,
      // Each write here is one awaited transaction; without event-turn batching a failed commit rejects only
      // that transaction's promise (with it, lmdb-js also rejects a batch promise nobody can await).
      eventTurnBatching: false,
      maxDbs: Object.keys(databaseNames).length,
      compression: false,
      cache: false,
    });
    const store = BookkeepingStore.#withDatabases(root);
    store.#path = path;
    return store;
  }

  /**
   * Opens the existing store for reading only (tally verify): never creates or writes a file of `dataDir`
   * (see read-only-env.ts; `scratchDir` takes LMDB's lock file). NotAStoreError when there is none.
   */
  static openReadOnly(dataDir: string, scratchDir: string): BookkeepingStore {
    const root = openEnvironmentReadOnly(join(dataDir, 'bookkeeping'), scratchDir, Object.keys(databaseNames).length);
    try {
      return BookkeepingStore.#withDatabases(root, true);
    } catch (error) {
      void root.close();
      throw error;
    }
  }

  static #withDatabases(root: RootDatabase, readOnly = false): BookkeepingStore {
    const vouchers = root.openDB<string, number[]>({ name: databaseNames.vouchers, encoding: 'string', keyEncoding: 'ordered-binary', cache: false });
    const reports = root.openDB<string, number>({ name: databaseNames.reports, encoding: 'string', keyEncoding: 'ordered-binary', cache: false });
    // A read-only environment cannot create a database (and fails opening a missing one): a store written
    // before the books were kept has vouchers and reports only. The names are the root database's keys.
    const names = readOnly ? new Set([...root.getKeys({})].map(String)) : null;
    const has = (name: string): boolean => names === null || names.has(name);
    const books = has(databaseNames.books) ? root.openDB<string, (string | number)[]>({ name: databaseNames.books, encoding: 'string', keyEncoding: 'ordered-binary', cache: false }) : null;
    const accounts = has(databaseNames.accounts) ? root.openDB<number, Uint8Array>({ name: databaseNames.accounts, encoding: 'ordered-binary', keyEncoding: 'binary', cache: false }) : null;
    return new BookkeepingStore(root, vouchers, reports, books, accounts);
  }

  /**
   * The books as last committed, or undefined when none are stored (a new store, or one an earlier version
   * wrote: the bookkeeper then rebuilds them from the journals once and stores them).
   */
  books(): StoredBooks | undefined {
    const format = this.#books?.get(formatKey);
    if (format === undefined || this.#accounts === null) return undefined;
    const { version, shardCount } = JSON.parse(format) as { version: number; shardCount: number };
    if (version !== booksFormatVersion) return undefined;
    const shards: ShardProgressRow[] = [];
    for (const { value } of this.#books!.getRange({ start: ['shard'], end: ['shard', Number.MAX_SAFE_INTEGER] })) shards.push(JSON.parse(value) as ShardProgressRow);
    const days: DayTotalsRow[] = [];
    for (const { value } of this.#books!.getRange({ start: ['day'], end: ['day', Number.MAX_SAFE_INTEGER] })) days.push(JSON.parse(value) as DayTotalsRow);
    const accounts: LearntAccount[] = [];
    for (const { key, value } of this.#accounts.getRange({})) accounts.push({ id: Uint8Array.from(key), word: value });
    return { shardCount, shards, days, accounts };
  }

  /** The last voucher stored for `shard`, or undefined when none is. */
  lastBooked(shard: number): StoredVoucher | undefined {
    for (const { value } of this.#vouchers.getRange({ start: [shard, Number.MAX_SAFE_INTEGER], end: [shard, 0], reverse: true, limit: 1 })) {
      return JSON.parse(value) as StoredVoucher;
    }
    return undefined;
  }

  /** The stored voucher of (shard, seq), or undefined. */
  voucher(shard: number, seq: number): StoredVoucher | undefined {
    const text = this.#vouchers.get([shard, seq]);
    return text === undefined ? undefined : (JSON.parse(text) as StoredVoucher);
  }

  /** The stored vouchers of `shard` as stored (JSON text), in seq order. */
  *vouchersOf(shard: number): Generator<{ seq: number; text: string }> {
    for (const { key, value } of this.#vouchers.getRange({ start: [shard, 0], end: [shard + 1, 0] })) yield { seq: key[1]!, text: value };
  }

  /** The shards that have stored vouchers, ascending. */
  voucherShards(): number[] {
    const shards: number[] = [];
    for (let next = 0; ; ) {
      let found: number | undefined;
      for (const key of this.#vouchers.getKeys({ start: [next, 0], limit: 1 })) found = key[0];
      if (found === undefined) return shards;
      shards.push(found);
      next = found + 1;
    }
  }

  /** Every stored day report (JSON text), by day. */
  *reports(): Generator<{ day: number; text: string }> {
    for (const { key, value } of this.#reports.getRange({})) yield { day: key, text: value };
  }

  /** Drops the vouchers of `shard` from `seq` on (they were booked from entries a crash took back). */
  async dropFrom(shard: number, seq: number): Promise<void> {
    const keys = [...this.#vouchers.getKeys({ start: [shard, seq], end: [shard + 1, 0] })];
    await this.#commit(`dropping the vouchers of shard ${shard} from seq ${seq}`, () => {
      for (const key of keys) void this.#vouchers.remove(key);
    });
  }

  /**
   * Commits one poll's vouchers and the books they changed together (one transaction: the stored books are
   * always those of the stored vouchers); resolves once durable. Nothing to store, nothing written.
   */
  async append(vouchers: readonly { shard: number; voucher: StoredVoucher }[], books: BooksChanges): Promise<void> {
    const changed = books.replace || books.shards.length + books.days.length + books.accounts.length > 0;
    if (vouchers.length === 0 && !changed) return;
    assert(vouchers.length === 0 || books.shards.length > 0, 'vouchers come with the progress they make');
    const [rows, accounts] = [this.#books!, this.#accounts!];
    // Read before the transaction (as dropFrom does): only this thread writes the store.
    const dropped = books.replace ? { rows: [...rows.getKeys({})], accounts: [...accounts.getKeys({})] } : null;
    await this.#commit(`storing ${vouchers.length} vouchers`, () => {
      for (const { shard, voucher } of vouchers) void this.#vouchers.put([shard, voucher.seq], JSON.stringify(voucher));
      if (dropped !== null) {
        for (const key of dropped.rows) void rows.remove(key);
        for (const key of dropped.accounts) void accounts.remove(key);
        void rows.put(formatKey, JSON.stringify({ version: booksFormatVersion, shardCount: books.shardCount }));
      }
      this.#putBooks(books);
    });
  }

  /** The books' rows of one commit (inside its transaction), after any rows it replaces were removed. */
  #putBooks(books: BooksChanges): void {
    const [rows, accounts] = [this.#books!, this.#accounts!];
    for (const row of books.shards) void rows.put(shardKey(row.shard), JSON.stringify(row));
    for (const row of books.days) void rows.put(dayKey(row), JSON.stringify(row));
    for (const { id, word } of books.accounts) void accounts.put(id, word);
  }

  /** The report of `day`, or undefined. */
  report(day: number): string | undefined {
    return this.#reports.get(day);
  }

  /** Stores a day report once; an existing report is never replaced (a closed day never changes). Returns the stored one. */
  async putReport(day: number, report: string): Promise<string> {
    // Only the bookkeeping thread writes reports, one at a time: check-then-put cannot race.
    const existing = this.#reports.get(day);
    if (existing !== undefined) return existing;
    this.#checkSpace(`storing the report of day ${day}`);
    try {
      // Written only where none is: a report stored meanwhile (a second close of the same day) is never replaced.
      await this.#reports.ifNoExists(day, () => void this.#reports.put(day, report));
    } catch (error) {
      throw await storageFailure(error, `bookkeeping store: storing the report of day ${day}`);
    }
    // Read back in a write transaction: right after a commit lmdb-js's shared read transaction can still show
    // the state before it (kriszyp/lmdb-js#250), which once failed this check on a stored report.
    const stored = this.#root.transactionSync(() => this.#reports.get(day));
    assert(stored !== undefined, 'the day report is stored');
    return stored;
  }

  close(): Promise<void> {
    return this.#root.close();
  }

  /** One transaction of `writes`, resolved once durable; a failure (a full disk) rejects storage_failed naming `what`. */
  async #commit(what: string, writes: () => void): Promise<void> {
    this.#checkSpace(what);
    try {
      await this.#root.transaction(writes);
    } catch (error) {
      throw await storageFailure(error, `bookkeeping store: ${what}`);
    }
  }

  /** Refuses a write (storage_failed) while the disk is under its free-space reserve: LMDB is not even tried. */
  #checkSpace(what: string): void {
    const low = this.#path === null ? null : lowSpaceError(this.#path, `bookkeeping store: ${what}`);
    if (low !== null) throw low;
  }
}
