// The bookkeeping shard (会计) inside its worker: follows every shard's journal (read from the shard's own
// LMDB store, so posting never waits for it), turns each entry into one balanced summary voucher, books
// it into the general ledger by subject, and answers subject balances, the trial balance, its lag behind
// each shard, and the day report. Its progress per shard is the last voucher it stored for that shard; its
// books (the general ledger's rows and every account's code) are stored in the same commit as the vouchers
// that changed them, so a start loads them and reads only the journal entries after its progress (a store
// without them, or whose books disagree with its vouchers, is rebuilt from the journals once).
// A voucher commit that fails (a full disk) is retried with back-off and nothing new is booked meanwhile;
// queries go on (the general ledger only holds what durable journal entries say). An entry it cannot book
// (a failed check: a journal no ledger of this version writes) halts it: one error line, nothing more is
// booked or stored, reports and books queries are refused naming the entry, the lag keeps growing in view.

import { assert } from '../../core/assert.js';
import { TallyError, errors, hasErrorCode } from '../../core/errors.js';
import type { ChartOfAccounts, SubjectBalance } from '../../core/books/chart-of-accounts.js';
import type { ShardDayClose } from '../../core/books/day-close.js';
import { buildDayReport, type DayReport, type InFlightAmount } from '../../core/books/day-report.js';
import { GeneralLedger, type DayTotalsRow, type ShardProgressRow } from '../../core/books/general-ledger.js';
import { readJournalHeader } from '../../core/posting/journal-entry.js';
import { AccountCodes, subjectVoucherOf, type SubjectVoucher } from '../../core/books/vouchers.js';
import { trialBalanceReply, type ShardLag, type SubjectBalanceRow, type TrialBalanceReply } from '../../core/books/books-replies.js';
import type { BookkeepingStore, BooksChanges, StoredBooks, StoredVoucher } from './bookkeeping-store.js';
import { storageRetryMs } from '../storage/storage-health.js';

export type { ShardLag, SubjectBalanceRow } from '../../core/books/books-replies.js';

/** What the bookkeeper reads of a shard's journal (JournalStore satisfies it). */
export interface JournalReader {
  /** Entries from `fromSeq` in seq order up to the first gap. The bookkeeper is done with each before the next: it may be a view valid only until then. */
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

/** What one start read: whether it resumed from the stored books, and how many journal entries it read. */
export interface BookkeeperStartStats {
  resumed: boolean;
  entriesRead: number;
}

/** Vouchers booked but not yet committed, and the books they changed: stored together or not at all. */
interface Unstored {
  vouchers: { shard: number; voucher: StoredVoucher }[];
  books: BooksChanges;
}

export class Bookkeeper {
  #gl: GeneralLedger;
  readonly #chart: ChartOfAccounts;
  readonly #store: BookkeepingStore;
  readonly #journals: readonly JournalReader[];
  readonly #log: (line: string) => void;
  #codes: AccountCodes;
  #startStats: BookkeeperStartStats = { resumed: false, entriesRead: 0 };
  #polling: Promise<void> | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #stopped = false;
  /** Report writes in flight (a poll's writes are #polling): stop() waits for them. */
  readonly #reportWrites = new Set<Promise<string>>();
  /** Vouchers in the general ledger not yet stored (their commit failed, or a rebuild's books): stored before or with any new entry. */
  #unstored: Unstored | null = null;
  /** Failed voucher commits in a row, the last one's error, and when (performance.now() ms) the next may run. */
  #storeFailing = { count: 0, error: null as TallyError | null, retryAtMs: 0 };
  /** The entry being booked now: named when booking it fails. */
  #booking: { shard: number; seq: number } | null = null;
  /** Why booking stopped for good (see #halt), or null. */
  #halted: Error | null = null;

  constructor(chart: ChartOfAccounts, store: BookkeepingStore, journals: readonly JournalReader[], log: (line: string) => void) {
    this.#chart = chart;
    this.#gl = new GeneralLedger(chart);
    this.#store = store;
    this.#journals = journals;
    this.#codes = new AccountCodes(journals.length, { keepLearnt: true });
    this.#log = log;
  }

  /**
   * Loads the books stored with the last voucher of each shard, then follows the journals from there. When
   * they cannot be loaded (none stored yet, vouchers dropped, another shard count), rebuilds them from the
   * shards' journals up to the last voucher stored for each (the journals are the source of truth; the
   * vouchers record what was booked) and stores them with the next commit.
   */
  async start(): Promise<void> {
    const booked: number[] = [];
    for (const [shard, journal] of this.#journals.entries()) booked.push(await this.#lastBookedStillInJournal(shard, journal));
    const stored = this.#store.books();
    const why = stored === undefined ? 'no books are stored' : this.#whyNotResumable(stored, booked) ?? this.#resume(stored);
    if (why !== null) this.#rebuild(booked, why);
    this.#timer = setInterval(() => void this.poll(), bookkeepingPollMs);
  }

  /** What this start read (tests, the worker's log line). */
  startStats(): BookkeeperStartStats {
    return { ...this.#startStats };
  }

  /** Why the stored books cannot be resumed from (they are not those of the stored vouchers), or null. */
  #whyNotResumable(stored: StoredBooks, booked: readonly number[]): string | null {
    if (stored.shardCount !== this.#journals.length) return `the books were stored for ${stored.shardCount} shards`;
    const progress = new Map(stored.shards.map((row) => [row.shard, row.seqLast]));
    if (stored.shards.some((row) => row.shard >= booked.length)) return 'the books name a shard this data directory does not have';
    const behind = booked.findIndex((seq, shard) => (progress.get(shard) ?? 0) !== seq);
    return behind < 0 ? null : `shard ${behind}: the books were stored through seq ${progress.get(behind) ?? 0}, the vouchers through ${booked[behind]}`;
  }

  /** Takes the stored books as the general ledger and account codes; returns why it could not (then nothing is taken), or null. */
  #resume(stored: StoredBooks): string | null {
    try {
      const gl = GeneralLedger.fromSubjectRows(this.#chart, stored.shards, stored.days);
      const codes = new AccountCodes(this.#journals.length, { keepLearnt: true });
      codes.restore(stored.accounts);
      [this.#gl, this.#codes] = [gl, codes];
    } catch (error) {
      // The journals are the truth: books that fail their own checks are rebuilt from them, not trusted.
      return `the stored books fail a check: ${error instanceof Error ? error.message : String(error)}`;
    }
    this.#startStats = { resumed: true, entriesRead: 0 };
    return null;
  }

  /** Books every shard's journal from its first entry through `booked`; the books go to the store with the next commit. */
  #rebuild(booked: readonly number[], why: string): void {
    this.#gl = new GeneralLedger(this.#chart);
    this.#codes = new AccountCodes(this.#journals.length, { keepLearnt: true });
    let entriesRead = 0;
    for (const [shard, journal] of this.#journals.entries()) {
      if (booked[shard] === 0) continue;
      for (const [seq, entry] of journal.entries(1)) {
        entriesRead++;
        bookEntry(this.#gl, this.#codes, shard, this.#journals.length, entry);
        if (seq === booked[shard]) break;
      }
      assert(this.#gl.seqLast(shard) === booked[shard], `shard ${shard}: its journal holds every booked entry`);
    }
    const { shards, days } = this.#gl.toJSON();
    this.#unstored = { vouchers: [], books: { replace: true, shardCount: this.#journals.length, shards, days, accounts: this.#codes.takeLearnt() } };
    this.#startStats = { resumed: false, entriesRead };
    if (entriesRead > 0) this.#log(JSON.stringify({ level: 'info', msg: 'bookkeeping rebuilt its books from the journals; it stores them with its next commit', why, entriesRead }));
  }

  /**
   * Stops following the journals and waits for the poll in flight, so that no store write is left
   * running: the thread may be ended (and its stores closed) once this resolves.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    await Promise.allSettled([this.#polling, ...this.#reportWrites]);
  }

  /** Books whatever the shards committed since the last poll (one poll at a time; none once stopped). */
  poll(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
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
    this.#refuseIfHalted();
    const balances = this.#gl.subjectBalances(ledger, day);
    return [...balances.values()].sort((a, b) => (a.code < b.code ? -1 : 1)).map((b) => this.#row(b));
  }

  trialBalance(ledger: number, day?: number): TrialBalanceReply {
    this.#refuseIfHalted();
    return trialBalanceReply(this.#gl.trialBalance(ledger, day));
  }

  ledgers(): number[] {
    this.#refuseIfHalted();
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
    this.#refuseIfHalted();
    const deadline = performance.now() + dayReportWaitMsMax;
    while (closes.some((c) => this.#gl.seqLast(c.shard) < c.cutSeq)) {
      if (performance.now() > deadline) throw new Error(`bookkeeping did not reach the cut of day ${day} within ${dayReportWaitMsMax} ms`);
      if (this.#stopped) throw new Error(`bookkeeping stopped before it reached the cut of day ${day}`);
      this.#refuseIfHalted();
      const failing = this.#storeFailing.error;
      if (failing !== null) throw errors.storageFailed(`bookkeeping cannot reach the cut of day ${day}: ${failing.message}`);
      await this.poll();
      await new Promise((resolve) => setTimeout(resolve, bookkeepingPollMs));
    }
    const report: DayReport = buildDayReport({ day, dayBegun: closes[0]!.dayBegun, closes: [...closes], inFlight: [...inFlight], chart: this.#chart, generalLedger: this.#gl });
    if (this.#stopped) throw new Error(`bookkeeping stopped before it stored the report of day ${day}`);
    const writing = this.#store.putReport(day, JSON.stringify(report));
    this.#reportWrites.add(writing);
    const text = await writing.finally(() => this.#reportWrites.delete(writing));
    // Loud on failure: one JSON log line naming every failed check (the caller also gets passed=false).
    if (!report.passed) this.#log(JSON.stringify({ level: 'error', msg: 'day report checks failed', day, failures: report.failures }));
    return text;
  }

  report(day: number): string | undefined {
    return this.#store.report(day);
  }

  /**
   * Stores the vouchers of the last poll whose commit failed, or else books and stores new entries. A failed
   * commit (storage_failed) is kept for the next poll after a back-off; the poll itself resolves. Any other
   * failure halts booking (#halt): the poll resolves then too, so no timer turns it into a stream of errors.
   */
  async #poll(): Promise<void> {
    if (this.#halted !== null) return;
    try {
      await this.#bookAndStore();
    } catch (error) {
      this.#halt(error);
    }
  }

  async #bookAndStore(): Promise<void> {
    if (this.#storeFailing.count === 0) this.#unstored = joined(this.#unstored, this.#bookNew());
    else if (performance.now() < this.#storeFailing.retryAtMs) return;
    const { vouchers, books } = this.#unstored!;
    try {
      await this.#store.append(vouchers, books);
    } catch (error) {
      if (!hasErrorCode(error, 'storage_failed')) throw error;
      const count = this.#storeFailing.count + 1;
      this.#storeFailing = { count, error, retryAtMs: performance.now() + storageRetryMs(count - 1) };
      if (count === 1) this.#log(JSON.stringify({ level: 'error', msg: 'bookkeeping cannot store vouchers; it retries and books nothing new meanwhile', error: error.message }));
      return;
    }
    if (this.#storeFailing.count > 0) this.#log(JSON.stringify({ level: 'info', msg: 'bookkeeping stores vouchers again', failedTries: this.#storeFailing.count }));
    this.#unstored = null;
    this.#storeFailing = { count: 0, error: null, retryAtMs: 0 };
  }

  /**
   * Booking failed a check (an assertion: a journal entry no ledger of this version writes, or a bug). The
   * general ledger may be half way through that entry, so nothing more is booked or stored: the store keeps
   * the last commit, from which a restart rebuilds. Restarting at once would only fail on the same entry
   * again, and again, so the bookkeeper stays up — status still answers (the lag shows the halt), day
   * reports and books queries are refused naming the entry — and says so in one error line.
   */
  #halt(error: unknown): void {
    const where = this.#booking === null ? 'while storing vouchers' : `at shard ${this.#booking.shard} entry ${this.#booking.seq}`;
    const why = error instanceof Error ? error.message : String(error);
    this.#halted = new Error(`bookkeeping halted ${where}: ${why}`);
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#log(JSON.stringify({ level: 'error', msg: 'bookkeeping halted: it books nothing more until the cause is fixed and the server restarted', ...this.#booking, error: why }));
  }

  #refuseIfHalted(): void {
    if (this.#halted !== null) throw this.#halted;
  }

  /**
   * Books up to bookkeepingEntriesPerPollMax new entries of each shard into the general ledger; returns their
   * vouchers and the books they changed: each shard's progress, the totals of every (ledger, day, code) a
   * line moved, the accounts learnt.
   */
  #bookNew(): Unstored {
    const vouchers: { shard: number; voucher: StoredVoucher }[] = [];
    const shards: ShardProgressRow[] = [];
    const touched = new Map<string, [ledger: number, day: number, code: number]>();
    for (const [shard, journal] of this.#journals.entries()) {
      let taken = 0;
      for (const [seq, entry] of journal.entries(this.#gl.seqLast(shard) + 1)) {
        this.#booking = { shard, seq };
        const voucher = bookEntry(this.#gl, this.#codes, shard, this.#journals.length, entry);
        assert(voucher.seq === seq, 'a voucher carries its entry seq');
        vouchers.push({ shard, voucher: storedVoucherOf(voucher, entry) });
        for (const line of voucher.lines) touched.set(`${line.ledger}:${voucher.businessDay}:${line.code}`, [line.ledger, voucher.businessDay, line.code]);
        if (++taken >= bookkeepingEntriesPerPollMax) break;
      }
      if (taken > 0) shards.push(this.#gl.progressRow(shard));
    }
    this.#booking = null;
    const days: DayTotalsRow[] = [...touched.values()].map(([ledger, day, code]) => this.#gl.dayTotalsRow(ledger, day, code));
    return { vouchers, books: { replace: false, shardCount: this.#journals.length, shards, days, accounts: this.#codes.takeLearnt() } };
  }

  /**
   * A shard acknowledges nothing before its commit is durable, yet LMDB readers may see a commit a moment
   * before its fsync ends: if the machine died then, the shard's journal lost entries this store booked.
   * Booked vouchers whose entry is gone or different are dropped, newest first. Returns the last booked seq.
   */
  async #lastBookedStillInJournal(shard: number, journal: JournalReader): Promise<number> {
    let last = this.#store.lastBooked(shard);
    let dropFrom = 0;
    while (last !== undefined && !sameEntry(journal.entry(last.seq), last)) {
      dropFrom = last.seq;
      last = last.seq > 1 ? this.#store.voucher(shard, last.seq - 1) : undefined;
    }
    if (dropFrom > 0) {
      this.#log(JSON.stringify({ level: 'warn', msg: 'bookkeeping drops vouchers of journal entries that are gone', shard, fromSeq: dropFrom }));
      await this.#store.dropFrom(shard, dropFrom);
    }
    return last?.seq ?? 0;
  }

  #row(subjectBalance: SubjectBalance): SubjectBalanceRow {
    const subject = this.#chart.subjects.get(subjectBalance.code);
    return {
      code: subjectBalance.code,
      name: subject?.name ?? subjectBalance.code,
      level: subjectBalance.level,
      side: subjectBalance.side,
      debits: subjectBalance.debits.toString(),
      credits: subjectBalance.credits.toString(),
      balance: subjectBalance.balance.toString(),
    };
  }
}

/**
 * Books one journal entry of shard `shard` (of `shardCount`) into `gl`: its voucher by subject, learning the
 * accounts it opens. The one step of the rebuild at start and of every poll (tally verify repeats it).
 */
export function bookEntry(gl: GeneralLedger, codes: AccountCodes, shard: number, shardCount: number, entry: Uint8Array): SubjectVoucher {
  const voucher = subjectVoucherOf(entry, shard, shardCount, codes);
  gl.applySubjectVoucher(shard, voucher);
  return voucher;
}

/** The stored form of a voucher: its subject lines with amounts as decimal strings, and its entry's identity. */
export function storedVoucherOf(voucher: SubjectVoucher, entry: Uint8Array): StoredVoucher {
  return {
    seq: voucher.seq,
    businessDay: voucher.businessDay,
    ...(voucher.businessDayBegins === undefined ? {} : { businessDayBegins: voucher.businessDayBegins }),
    lines: voucher.lines.map((l) => ({ ledger: l.ledger, code: l.code, side: l.side, amount: l.amount.toString() })),
    entryTimestamp: readJournalHeader(entry).timestampBase.toString(),
    entryBytes: entry.byteLength,
  };
}

/** Two uncommitted batches as one (the later's rows written after the earlier's, so the later wins). */
function joined(earlier: Unstored | null, later: Unstored): Unstored {
  if (earlier === null) return later;
  const [a, b] = [earlier.books, later.books];
  return {
    vouchers: [...earlier.vouchers, ...later.vouchers],
    books: { replace: a.replace || b.replace, shardCount: a.shardCount, shards: [...a.shards, ...b.shards], days: [...a.days, ...b.days], accounts: [...a.accounts, ...b.accounts] },
  };
}

function sameEntry(entry: Uint8Array | undefined, booked: StoredVoucher): boolean {
  return entry !== undefined && entry.byteLength === booked.entryBytes && readJournalHeader(entry).timestampBase.toString() === booked.entryTimestamp;
}
