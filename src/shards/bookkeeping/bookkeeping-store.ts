// The bookkeeping shard's own LMDB store at `${dataDir}/bookkeeping`: one summary voucher per shard journal
// entry, by subject (汇总凭证: per ledger, account code and side), keyed (shard, seq), and the immutable
// day reports. The vouchers ARE its progress: the last stored voucher of a shard is how far it has booked
// that shard. One poll's vouchers commit in one transaction, so an entry is booked once.

import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { assert } from '../../core/assert.js';
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

export class BookkeepingStore {
  readonly #root: RootDatabase;
  readonly #vouchers: Database<string, number[]>;
  readonly #reports: Database<string, number>;

  /** Where the store writes (null when opened read-only): below the disk's free-space reserve it writes nothing. */
  #path: string | null = null;

  private constructor(root: RootDatabase, vouchers: Database<string, number[]>, reports: Database<string, number>) {
    this.#root = root;
    this.#vouchers = vouchers;
    this.#reports = reports;
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
      maxDbs: 2,
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
    const root = openEnvironmentReadOnly(join(dataDir, 'bookkeeping'), scratchDir, 2);
    try {
      return BookkeepingStore.#withDatabases(root);
    } catch (error) {
      void root.close();
      throw error;
    }
  }

  static #withDatabases(root: RootDatabase): BookkeepingStore {
    const vouchers = root.openDB<string, number[]>({ name: 'vouchers', encoding: 'string', keyEncoding: 'ordered-binary', cache: false });
    const reports = root.openDB<string, number>({ name: 'reports', encoding: 'string', keyEncoding: 'ordered-binary', cache: false });
    return new BookkeepingStore(root, vouchers, reports);
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

  /** Commits one poll's vouchers together; resolves once durable. */
  async append(vouchers: readonly { shard: number; voucher: StoredVoucher }[]): Promise<void> {
    if (vouchers.length === 0) return;
    await this.#commit(`storing ${vouchers.length} vouchers`, () => {
      for (const { shard, voucher } of vouchers) void this.#vouchers.put([shard, voucher.seq], JSON.stringify(voucher));
    });
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
