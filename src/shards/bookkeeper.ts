// The bookkeeping shard (会计) inside its worker: follows every shard's journal (read from the shard's own
// LMDB store, so posting never waits for it), turns each entry into one balanced summary voucher, books
// it into the general ledger by subject, and answers subject balances, the trial balance, its lag behind
// each shard, and the day report. Its progress per shard is the last voucher it stored for that shard.

import { assert } from '../core/assert.js';
import type { ChartOfAccounts, SubjectBalance } from '../core/chart-of-accounts.js';
import type { ShardDayClose } from '../core/day-close.js';
import { buildDayReport, type DayReport, type InFlightAmount } from '../core/day-report.js';
import { GeneralLedger } from '../core/general-ledger.js';
import { readJournalHeader } from '../core/journal-entry.js';
import { voucherOf, type Voucher } from '../core/vouchers.js';
import type { ShardLag, SubjectBalanceRow } from '../core/books-replies.js';
import type { BookkeepingStore } from './bookkeeping-store.js';

export type { ShardLag, SubjectBalanceRow } from '../core/books-replies.js';

/** What the bookkeeper reads of a shard's journal (JournalStore satisfies it). */
export interface JournalReader {
  entries(fromSeq: number): Iterable<[seq: number, entry: Uint8Array]>;
  entry(seq: number): Uint8Array | undefined;
  lastCommittedSeq(): number;
}

/** Journal entries booked per shard per poll: bounds the work (and the commit) of one poll. */
export const bookkeepingEntriesPerPollMax = 256;
/** How often the bookkeeper looks for new journal entries. */
export const bookkeepingPollMs = 10;
/** Longest a day report waits for the bookkeeper to reach every shard's cut. */
export const dayReportWaitMsMax = 60_000;


export class Bookkeeper {
  readonly #gl: GeneralLedger;
  readonly #chart: ChartOfAccounts;
  readonly #store: BookkeepingStore;
  readonly #journals: readonly JournalReader[];
  readonly #log: (line: string) => void;
  #polling: Promise<void> | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(chart: ChartOfAccounts, store: BookkeepingStore, journals: readonly JournalReader[], log: (line: string) => void) {
    this.#chart = chart;
    this.#gl = new GeneralLedger(chart);
    this.#store = store;
    this.#journals = journals;
    this.#log = log;
  }

  /** Rebuilds the general ledger from the stored vouchers, then follows the journals. */
  async start(): Promise<void> {
    await this.#dropVouchersOfLostEntries();
    for (const { shard, voucher } of this.#store.vouchers()) this.#gl.applyVoucher(shard, voucher);
    this.#timer = setInterval(() => void this.poll(), bookkeepingPollMs);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
  }

  /** Books whatever the shards committed since the last poll (one poll at a time). */
  poll(): Promise<void> {
    this.#polling ??= this.#poll().finally(() => (this.#polling = null));
    return this.#polling;
  }

  status(): ShardLag[] {
    return this.#journals.map((journal, shard) => {
      const booked = this.#gl.seqLast(shard);
      const journaled = Math.max(journal.lastCommittedSeq(), booked);
      return { shard, booked, journaled, lag: journaled - booked, businessDay: this.#gl.businessDay(shard) };
    });
  }

  /** Every subject's balance for a ledger, through a business day (default: everything booked). */
  subjectBalances(ledger: number, day?: number): SubjectBalanceRow[] {
    const balances = this.#gl.subjectBalances(ledger, day);
    return [...balances.values()].sort((a, b) => (a.code < b.code ? -1 : 1)).map((b) => this.#row(b));
  }

  trialBalance(ledger: number, day?: number): unknown {
    const t = this.#gl.trialBalance(ledger, day);
    return JSON.parse(JSON.stringify(t, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
  }

  ledgers(): number[] {
    return this.#gl.ledgers();
  }

  /**
   * Builds, stores (once, immutably) and returns the report of the day the shards just closed. Waits
   * until every shard's journal is booked through its cut, so the general ledger holds all of day T.
   */
  async dayReport(closes: readonly ShardDayClose[], inFlight: readonly InFlightAmount[]): Promise<string> {
    assert(closes.length === this.#journals.length, 'one day close per shard');
    const day = closes[0]!.day;
    assert(closes.every((c) => c.day === day), 'every shard closed the same day');
    const stored = this.#store.report(day);
    if (stored !== undefined) return stored;
    const deadline = performance.now() + dayReportWaitMsMax;
    while (closes.some((c) => this.#gl.seqLast(c.shard) < c.cutSeq)) {
      if (performance.now() > deadline) throw new Error(`bookkeeping did not reach the cut of day ${day} within ${dayReportWaitMsMax} ms`);
      await this.poll();
      await new Promise((resolve) => setTimeout(resolve, bookkeepingPollMs));
    }
    const report: DayReport = buildDayReport({ day, dayBegun: closes[0]!.dayBegun, closes: [...closes], inFlight: [...inFlight], chart: this.#chart, generalLedger: this.#gl });
    const text = await this.#store.putReport(day, JSON.stringify(report));
    // Loud on failure: one JSON log line naming every failed check (the caller also gets passed=false).
    if (!report.passed) this.#log(JSON.stringify({ level: 'error', msg: 'day report checks failed', day, failures: report.failures }));
    return text;
  }

  report(day: number): string | undefined {
    return this.#store.report(day);
  }

  async #poll(): Promise<void> {
    const booked: { shard: number; voucher: Voucher; entryTimestamp: bigint; entryBytes: number }[] = [];
    for (const [shard, journal] of this.#journals.entries()) {
      let taken = 0;
      for (const [seq, entry] of journal.entries(this.#gl.seqLast(shard) + 1)) {
        const voucher = voucherOf(entry, shard, this.#journals.length);
        assert(voucher.seq === seq, 'a voucher carries its entry seq');
        this.#gl.applyVoucher(shard, voucher);
        booked.push({ shard, voucher, entryTimestamp: readJournalHeader(entry).timestampBase, entryBytes: entry.byteLength });
        if (++taken >= bookkeepingEntriesPerPollMax) break;
      }
    }
    await this.#store.append(booked);
  }

  /**
   * A shard acknowledges nothing before its commit is durable, yet LMDB readers may see a commit a moment
   * before its fsync ends: if the machine died then, the shard's journal lost entries this store booked.
   * The last booked voucher of each shard must still match its entry; otherwise those vouchers go.
   */
  async #dropVouchersOfLostEntries(): Promise<void> {
    const last = new Map<number, { seq: number; entryTimestamp: bigint; entryBytes: number }>();
    for (const { shard, voucher, entryTimestamp, entryBytes } of this.#store.vouchers()) last.set(shard, { seq: voucher.seq, entryTimestamp, entryBytes });
    for (const [shard, booked] of last) {
      const entry = this.#journals[shard]?.entry(booked.seq);
      const same = entry !== undefined && entry.byteLength === booked.entryBytes && readJournalHeader(entry).timestampBase === booked.entryTimestamp;
      if (same) continue;
      this.#log(JSON.stringify({ level: 'warn', msg: 'bookkeeping drops vouchers of journal entries that are gone', shard, fromSeq: booked.seq }));
      await this.#store.dropFrom(shard, firstMismatch(this.#journals[shard]!, this.#store, shard));
    }
  }

  #row(b: SubjectBalance): SubjectBalanceRow {
    const subject = this.#chart.subjects.get(b.code);
    return {
      code: b.code,
      name: subject?.name ?? b.code,
      level: b.level,
      side: b.side,
      debits: b.debits.toString(),
      credits: b.credits.toString(),
      balance: b.balance.toString(),
    };
  }
}

/** The first booked seq of `shard` whose voucher no longer matches the journal. */
function firstMismatch(journal: JournalReader, store: BookkeepingStore, shard: number): number {
  for (const { shard: s, voucher, entryTimestamp, entryBytes } of store.vouchers()) {
    if (s !== shard) continue;
    const entry = journal.entry(voucher.seq);
    if (entry === undefined || entry.byteLength !== entryBytes || readJournalHeader(entry).timestampBase !== entryTimestamp) return voucher.seq;
  }
  return Number.MAX_SAFE_INTEGER;
}
