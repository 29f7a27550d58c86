// The bookkeeping shard's own LMDB store at `${dataDir}/bookkeeping`: one summary voucher per shard
// journal entry (key: shard, seq) and the immutable day reports. The vouchers ARE its progress: the last
// stored voucher of a shard is how far it has booked that shard, and the general ledger is rebuilt by
// applying them in order. A voucher batch and nothing else commits per poll, so a batch is booked once.

import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { assert } from '../core/assert.js';
import type { Voucher } from '../core/vouchers.js';

/** A voucher as stored: bigints as decimal strings, plus what identifies the journal entry it came from. */
interface StoredVoucher {
  voucher: Omit<Voucher, 'lines' | 'accountsCreated'> & {
    lines: { accountId: string; ledger: number; side: 'debit' | 'credit'; amount: string }[];
    accountsCreated: { id: string; ledger: number; code: number }[];
  };
  /** The entry's timestamp base and length: after a crash, a stored voucher must match the shard's entry. */
  entryTimestamp: string;
  entryBytes: number;
}

export class BookkeepingStore {
  readonly #root: RootDatabase;
  readonly #vouchers: Database<string, number[]>;
  readonly #reports: Database<string, number>;

  private constructor(root: RootDatabase, vouchers: Database<string, number[]>, reports: Database<string, number>) {
    this.#root = root;
    this.#vouchers = vouchers;
    this.#reports = reports;
  }

  static open(dataDir: string): BookkeepingStore {
    const root = open({
      path: join(dataDir, 'bookkeeping'),
      overlappingSync: false, // a committed batch is on disk before the next poll builds on it
      noSync: false,
      useWritemap: false,
      maxDbs: 2,
      compression: false,
      cache: false,
    });
    const vouchers = root.openDB<string, number[]>({ name: 'vouchers', encoding: 'string', keyEncoding: 'ordered-binary', cache: false });
    const reports = root.openDB<string, number>({ name: 'reports', encoding: 'string', keyEncoding: 'ordered-binary', cache: false });
    return new BookkeepingStore(root, vouchers, reports);
  }

  /** Every stored voucher in (shard, seq) order. */
  *vouchers(): Generator<{ shard: number; voucher: Voucher; entryTimestamp: bigint; entryBytes: number }> {
    for (const { key, value } of this.#vouchers.getRange({})) {
      const [shard] = key;
      yield { shard: shard!, ...decode(value) };
    }
  }

  /** Drops the vouchers of `shard` from `seq` on (they were booked from entries a crash took back). */
  async dropFrom(shard: number, seq: number): Promise<void> {
    const keys = [...this.#vouchers.getKeys({ start: [shard, seq], end: [shard + 1, 0] })];
    await this.#root.transaction(() => {
      for (const key of keys) void this.#vouchers.remove(key);
    });
  }

  /** Commits one poll's vouchers together; resolves once durable. */
  async append(vouchers: readonly { shard: number; voucher: Voucher; entryTimestamp: bigint; entryBytes: number }[]): Promise<void> {
    if (vouchers.length === 0) return;
    await this.#root.transaction(() => {
      for (const { shard, voucher, entryTimestamp, entryBytes } of vouchers) {
        void this.#vouchers.put([shard, voucher.seq], encode(voucher, entryTimestamp, entryBytes));
      }
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
    await this.#reports.put(day, report);
    assert(this.#reports.get(day) === report, 'the day report is stored');
    return report;
  }

  reportDays(): number[] {
    return [...this.#reports.getKeys({})];
  }

  close(): Promise<void> {
    return this.#root.close();
  }
}

function encode(voucher: Voucher, entryTimestamp: bigint, entryBytes: number): string {
  const stored: StoredVoucher = {
    voucher: {
      ...voucher,
      lines: voucher.lines.map((l) => ({ ...l, accountId: l.accountId.toString(), amount: l.amount.toString() })),
      accountsCreated: voucher.accountsCreated.map((a) => ({ ...a, id: a.id.toString() })),
    },
    entryTimestamp: entryTimestamp.toString(),
    entryBytes,
  };
  return JSON.stringify(stored);
}

function decode(text: string): { voucher: Voucher; entryTimestamp: bigint; entryBytes: number } {
  const stored = JSON.parse(text) as StoredVoucher;
  return {
    voucher: {
      ...stored.voucher,
      lines: stored.voucher.lines.map((l) => ({ ...l, accountId: BigInt(l.accountId), amount: BigInt(l.amount) })),
      accountsCreated: stored.voucher.accountsCreated.map((a) => ({ ...a, id: BigInt(a.id) })),
    },
    entryTimestamp: BigInt(stored.entryTimestamp),
    entryBytes: stored.entryBytes,
  };
}
