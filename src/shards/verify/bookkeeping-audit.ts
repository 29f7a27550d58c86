// Check 4 of tally verify: the bookkeeping shard's store against the shards' journals. Every stored voucher
// (shard, seq) must be the voucher the bookkeeper derives from that journal entry (bookEntry/storedVoucherOf,
// its own code), with no voucher missing below its shard's progress and none past the journal; the general
// ledger the bookkeeper rebuilds from the journals through its progress must hold, per ledger and leaf
// subject, what the stored vouchers sum to; the books the bookkeeper stored beside its vouchers (what its
// start resumes from) must be that general ledger's rows and the account codes its journals taught; every
// stored day report must name cuts the shards made, and one that passed must come out the same when rebuilt
// (buildDayReport) from the replayed closings.

import type { ChartOfAccounts, SubjectTotals } from '../../core/books/chart-of-accounts.js';
import type { ShardDayClose } from '../../core/books/day-close.js';
import { buildDayReport, type DayReport, type InFlightAmount } from '../../core/books/day-report.js';
import { GeneralLedger, type DayTotalsRow, type ShardProgressRow } from '../../core/books/general-ledger.js';
import { AccountCodes, type SubjectVoucher } from '../../core/books/vouchers.js';
import { bookEntry, storedVoucherOf } from '../bookkeeping/bookkeeper.js';
import type { BookkeepingStore, StoredVoucher } from '../bookkeeping/bookkeeping-store.js';
import { firstJsonDifference } from './json-difference.js';
import { messageOf, type Problems } from './problems.js';

/** Per shard: how far the bookkeeper booked (its last stored voucher) against the journal. */
export interface BookkeepingProgress {
  shard: number;
  booked: number;
  journaled: number;
}

export interface BookkeepingSummary {
  shards: BookkeepingProgress[];
  vouchersChecked: number;
  reports: { day: number; passed: boolean; rechecked: boolean }[];
}

interface ShardCursor {
  shard: number;
  /** The last voucher stored for the shard: how far the bookkeeper booked it. */
  progress: number;
  vouchers: Iterator<{ seq: number; text: string }>;
  next: { seq: number; text: string } | undefined;
  /** The general ledger refused one of the shard's entries: nothing after it can be booked. */
  journalStopped: boolean;
  /** A stored voucher was missing or refused: the sums of the stored vouchers stop there. */
  vouchersStopped: boolean;
}

/** The stored voucher of `seq` if it is the next one (advancing past it), else undefined. */
function takeStored(cursor: ShardCursor, seq: number): { seq: number; text: string } | undefined {
  const stored = cursor.next;
  if (stored === undefined || stored.seq !== seq) return undefined;
  const step = cursor.vouchers.next();
  cursor.next = step.done === true ? undefined : step.value;
  return stored;
}

const chartHint = 'if the server ran with another chart of accounts, pass it with --chart';

export class BookkeepingAudit {
  readonly #store: BookkeepingStore;
  readonly #chart: ChartOfAccounts;
  readonly #shardCount: number;
  readonly #problems: Problems;
  readonly #warnings: string[];
  /** The general ledger as the bookkeeper rebuilds it from the journals, and as the stored vouchers sum. */
  readonly #fromJournals: GeneralLedger;
  readonly #fromVouchers: GeneralLedger;
  readonly #codes: AccountCodes;
  /** Set when either ledger stopped short (a refused or missing voucher): comparing them would only repeat that problem. */
  #broken = false;
  #cursor: ShardCursor | null = null;
  readonly #progress: BookkeepingProgress[] = [];
  /** Shards whose journal the general ledger booked through the bookkeeper's progress (day reports need it). */
  readonly #bookedThrough = new Set<number>();
  vouchersChecked = 0;

  constructor(store: BookkeepingStore, chart: ChartOfAccounts, shardCount: number, problems: Problems, warnings: string[]) {
    this.#store = store;
    this.#chart = chart;
    this.#shardCount = shardCount;
    this.#codes = new AccountCodes(shardCount, { keepLearnt: true });
    this.#problems = problems;
    this.#warnings = warnings;
    this.#fromJournals = new GeneralLedger(chart);
    this.#fromVouchers = new GeneralLedger(chart);
  }

  beginShard(shard: number): void {
    const vouchers = this.#store.vouchersOf(shard);
    const first = vouchers.next();
    const next = first.done === true ? undefined : first.value;
    this.#cursor = { shard, progress: this.#store.lastBooked(shard)?.seq ?? 0, vouchers, next, journalStopped: false, vouchersStopped: false };
  }

  /** Entry `seq` of the shard as stored; entries come in seq order from 1, without gaps. */
  onEntry(seq: number, entry: Uint8Array): void {
    const cursor = this.#cursor!;
    if (seq > cursor.progress || cursor.journalStopped) return;
    const where = `bookkeeping voucher of shard ${cursor.shard} seq ${seq}`;
    let expected: StoredVoucher;
    try {
      expected = storedVoucherOf(bookEntry(this.#fromJournals, this.#codes, cursor.shard, this.#shardCount, entry), entry);
    } catch (error) {
      // The shard's general ledger stops here (the next entry would not follow): so do its voucher checks.
      this.#problems.add('bookkeeping', `${where}: the bookkeeper cannot book the journal entry: ${messageOf(error)}`);
      this.#broken = cursor.journalStopped = true;
      return;
    }
    const stored = takeStored(cursor, seq);
    if (stored === undefined) {
      this.#problems.add('bookkeeping', `${where} is missing, although the store holds vouchers of that shard through seq ${cursor.progress}`);
      this.#broken = cursor.vouchersStopped = true;
      return;
    }
    this.vouchersChecked++;
    let found: StoredVoucher;
    try {
      found = JSON.parse(stored.text) as StoredVoucher;
    } catch (error) {
      this.#problems.add('bookkeeping', `${where} is not JSON: ${messageOf(error)}`);
      this.#broken = cursor.vouchersStopped = true;
      return;
    }
    const differences = voucherDifferences(found, expected);
    for (const difference of differences) this.#problems.add('bookkeeping', `${where}: ${difference}`);
    if (cursor.vouchersStopped) return;
    try {
      this.#fromVouchers.applySubjectVoucher(cursor.shard, subjectVoucherOfStored(found));
    } catch (error) {
      // A refused voucher leaves that ledger half-booked: stop summing the stored vouchers (the difference above says why).
      if (differences.length === 0) this.#problems.add('bookkeeping', `${where} cannot be booked as stored: ${messageOf(error)}`);
      this.#broken = cursor.vouchersStopped = true;
    }
  }

  /** The shard's journal ends at `seqLast` and was read through `seqRead`: vouchers past what was read are not checked. */
  endShard(seqLast: number, seqRead: number): void {
    const cursor = this.#cursor!;
    this.#progress.push({ shard: cursor.shard, booked: cursor.progress, journaled: seqLast });
    if (cursor.progress > seqLast) {
      this.#problems.add('bookkeeping', `shard ${cursor.shard}: the bookkeeping store holds vouchers through seq ${cursor.progress}, but the journal ends at seq ${seqLast}`);
      this.#broken = true;
    } else if (cursor.progress > seqRead) {
      this.#warnings.push(`shard ${cursor.shard}: bookkeeping vouchers ${seqRead + 1}..${cursor.progress} not checked: the journal was read only through seq ${seqRead}`);
      this.#broken = true;
    } else if (!cursor.journalStopped) {
      this.#bookedThrough.add(cursor.shard);
    }
    this.#cursor = null;
  }

  /** After every shard: vouchers of shards that do not exist, the two general ledgers, the day reports. */
  finish(closes: ReadonlyMap<number, readonly ShardDayClose[]>): BookkeepingSummary {
    const extra = this.#store.voucherShards().filter((shard) => shard >= this.#shardCount);
    if (extra.length > 0) this.#problems.add('bookkeeping', `the bookkeeping store holds vouchers of shards ${extra.join(', ')}, which this ${this.#shardCount}-shard data directory does not have`);
    if (!this.#broken) {
      this.#compareLedgers();
      this.#compareBooks();
    } else this.#warnings.push('bookkeeping: the general ledger rebuilt from the journals was not compared with the stored vouchers and books (see the problems above)');
    const reports = [...this.#store.reports()].map(({ day, text }) => {
      try {
        return this.#checkReport(day, text, closes);
      } catch (error) {
        this.#problems.add('bookkeeping', `day report ${day} cannot be checked (not a report this version writes?): ${messageOf(error)}`);
        return { day, passed: false, rechecked: false };
      }
    });
    return { shards: this.#progress, vouchersChecked: this.vouchersChecked, reports };
  }

  #compareLedgers(): void {
    const ledgers = [...new Set([...this.#fromJournals.ledgers(), ...this.#fromVouchers.ledgers()])].sort((a, b) => a - b);
    for (const ledger of ledgers) {
      const journals = this.#fromJournals.subjectTotalsThrough(ledger, Number.MAX_SAFE_INTEGER);
      const vouchers = this.#fromVouchers.subjectTotalsThrough(ledger, Number.MAX_SAFE_INTEGER);
      for (const subject of [...new Set([...journals.keys(), ...vouchers.keys()])].sort()) {
        const fromJournals = journals.get(subject) ?? zero();
        const fromVouchers = vouchers.get(subject) ?? zero();
        if (fromJournals.debits === fromVouchers.debits && fromJournals.credits === fromVouchers.credits) continue;
        this.#problems.add(
          'bookkeeping',
          `ledger ${ledger} subject ${subject}: the stored vouchers sum to debits ${fromVouchers.debits}, credits ${fromVouchers.credits}, but the journals through the bookkeeper's progress give debits ${fromJournals.debits}, credits ${fromJournals.credits}`,
        );
      }
    }
  }

  /**
   * The books a start resumes from must be the rebuilt general ledger's rows (progress, per ledger × day ×
   * code totals) and the account codes the journals taught. Books stored through other seqs than the
   * vouchers are not resumed from (the bookkeeper rebuilds them at its next start): only a warning.
   */
  #compareBooks(): void {
    const stored = this.#store.books();
    const rebuilt = this.#fromJournals.toJSON();
    const progress = (rows: readonly ShardProgressRow[]) => [...rows].filter((r) => r.seqLast > 0).sort((a, b) => a.shard - b.shard);
    if (stored === undefined || stored.shardCount !== this.#shardCount || firstJsonDifference(progress(stored.shards).map((r) => r.seqLast), progress(rebuilt.shards).map((r) => r.seqLast)) !== null) {
      this.#warnings.push('bookkeeping: no books are stored through the vouchers\' progress (an earlier version, or a crash before they were stored): the bookkeeper rebuilds them from the journals at its next start');
      return;
    }
    const days = (rows: readonly DayTotalsRow[]) => [...rows].sort((a, b) => a.ledger - b.ledger || a.day - b.day || a.code - b.code);
    const difference = firstJsonDifference({ shards: progress(stored.shards), days: days(stored.days) }, { shards: progress(rebuilt.shards), days: days(rebuilt.days) });
    if (difference !== null) this.#problems.add('bookkeeping', `the stored books (what a bookkeeper start resumes from) differ from the general ledger rebuilt from the journals: ${difference}`);
    const learnt = new Map(this.#codes.takeLearnt().map(({ id, word }) => [idHex(id), word] as const));
    const wrong = stored.accounts.filter(({ id, word }) => learnt.get(idHex(id)) !== word);
    if (wrong.length > 0 || stored.accounts.length !== learnt.size) {
      const first = wrong[0] === undefined ? '' : `: account ${idHex(wrong[0].id)} is stored with word ${wrong[0].word}, the journals give ${learnt.get(idHex(wrong[0].id)) ?? 'none'}`;
      this.#problems.add('bookkeeping', `the stored account codes (${stored.accounts.length}) differ from those the journals teach (${learnt.size})${first}`);
    }
  }

  #checkReport(day: number, text: string, closes: ReadonlyMap<number, readonly ShardDayClose[]>): { day: number; passed: boolean; rechecked: boolean } {
    const where = `day report ${day}`;
    let report: DayReport;
    try {
      report = JSON.parse(text) as DayReport;
    } catch (error) {
      this.#problems.add('bookkeeping', `${where} is not JSON: ${messageOf(error)}`);
      return { day, passed: false, rechecked: false };
    }
    if (report.day !== day) this.#problems.add('bookkeeping', `${where} is stored under day ${day} but reports day ${report.day}`);
    const shardCloses = this.#closesOf(report, closes.get(report.day) ?? []);
    if (shardCloses === null) return { day, passed: report.passed, rechecked: false };
    this.#checkInFlightAtCut(report, shardCloses);
    if (!report.passed) {
      this.#warnings.push(`${where} was stored FAILED: ${report.failures?.[0] ?? '(no failure given)'}`);
      return { day, passed: false, rechecked: false };
    }
    const behind = shardCloses.filter((c) => !this.#bookedThrough.has(c.shard) || this.#progressOf(c.shard) < c.cutSeq);
    if (behind.length > 0) {
      this.#warnings.push(`${where} not rebuilt: the bookkeeping store was not read through every shard's cut of that day`);
      return { day, passed: true, rechecked: false };
    }
    const inFlight: InFlightAmount[] = report.checks.transit.pairs
      .filter((p) => p.inFlightAtCut !== '0')
      .map((p) => ({ ledger: p.ledger, from: p.from, to: p.to, amount: BigInt(p.inFlightAtCut) }));
    try {
      // The general ledger here is booked through the bookkeeper's progress, past the cut where postings
      // followed it: buildDayReport reads it through the day only, which holds exactly what was booked
      // through each shard's cut seq (a shard's entries after its cut belong to later days).
      const rebuilt = buildDayReport({ day: report.day, dayBegun: report.dayBegun, closes: [...shardCloses], inFlight, chart: this.#chart, generalLedger: this.#fromJournals });
      if (!rebuilt.passed) {
        this.#problems.add('bookkeeping', `${where} is stored as passed, but rebuilt from the journals and closings it fails: ${rebuilt.failures[0]!} (${chartHint})`);
      } else {
        const difference = firstJsonDifference(report, JSON.parse(JSON.stringify(rebuilt)) as unknown);
        if (difference !== null) this.#problems.add('bookkeeping', `${where} differs from the report rebuilt from the journals and closings: ${difference} (${chartHint})`);
      }
    } catch (error) {
      this.#problems.add('bookkeeping', `${where} cannot be rebuilt: ${messageOf(error)}`);
    }
    return { day, passed: true, rechecked: true };
  }

  /** The replayed closing of each shard for the report's day, matching the cuts it names; null (with problems) when they do not. */
  #closesOf(report: DayReport, replayed: readonly ShardDayClose[]): ShardDayClose[] | null {
    const where = `day report ${report.day}`;
    const named = new Map((report.shards ?? []).map((s) => [s.shard, s] as const));
    const closes: ShardDayClose[] = [];
    let matches = true;
    for (let shard = 0; shard < this.#shardCount; shard++) {
      const close = replayed.find((c) => c.shard === shard);
      const cut = named.get(shard);
      if (close === undefined) {
        this.#problems.add('bookkeeping', `${where} names a cut of shard ${shard} (seq ${String(cut?.cutSeq)}) that its journal does not hold: it never closed day ${report.day}`);
        matches = false;
      } else if (cut === undefined || cut.cutSeq !== close.cutSeq || cut.cutTimestamp !== close.cutTimestamp || close.dayBegun !== report.dayBegun) {
        const says = cut === undefined ? 'names no cut' : `names the cut at seq ${cut.cutSeq} (timestamp ${cut.cutTimestamp}) beginning ${report.dayBegun}`;
        this.#problems.add('bookkeeping', `${where} ${says} of shard ${shard}, whose journal closed day ${report.day} at seq ${close.cutSeq} (timestamp ${close.cutTimestamp}) beginning ${close.dayBegun}`);
        matches = false;
      } else {
        closes.push(close);
      }
    }
    return matches ? closes : null;
  }

  /**
   * The money in flight at the cut comes from the relay, which verify cannot replay; but where every shard's
   * marks at the cut show nothing issued and unapplied between two shards, the report must say zero there.
   */
  #checkInFlightAtCut(report: DayReport, closes: readonly ShardDayClose[]): void {
    const byShard = new Map(closes.map((c) => [c.shard, c] as const));
    for (const pair of report.checks?.transit?.pairs ?? []) {
      if (pair.inFlightAtCut === '0') continue;
      const payer = byShard.get(pair.from);
      const payee = byShard.get(pair.to);
      if (payer === undefined || payee === undefined) continue;
      const creditsOpen = (payer.transitIssued[pair.to] ?? 0) > (payee.transitApplied[pair.from] ?? 0);
      const returnsOpen = (payee.transitIssued[pair.from] ?? 0) > (payer.transitApplied[pair.to] ?? 0);
      if (creditsOpen || returnsOpen) continue;
      this.#problems.add(
        'bookkeeping',
        `day report ${report.day}: ledger ${pair.ledger} transit ${pair.from}→${pair.to} says ${pair.inFlightAtCut} was in flight at the cut, but the shards' marks at their cuts show nothing issued and unapplied between them`,
      );
    }
  }

  #progressOf(shard: number): number {
    return this.#progress.find((p) => p.shard === shard)?.booked ?? 0;
  }
}

/** An id's 16 bytes as the journal holds them, in hex: a map key. */
function idHex(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

function zero(): SubjectTotals {
  return { debits: 0n, credits: 0n };
}

/** A stored voucher as the general ledger books it (amounts back to bigints). */
function subjectVoucherOfStored(stored: StoredVoucher): SubjectVoucher {
  const voucher: SubjectVoucher = {
    seq: stored.seq,
    operation: 0,
    businessDay: stored.businessDay,
    lines: stored.lines.map((l) => ({ ledger: l.ledger, code: l.code, side: l.side, amount: BigInt(l.amount) })),
  };
  if (stored.businessDayBegins !== undefined) voucher.businessDayBegins = stored.businessDayBegins;
  return voucher;
}

/** What differs between a stored voucher and the one its journal entry gives (lines compared as a set). */
function voucherDifferences(found: StoredVoucher, expected: StoredVoucher): string[] {
  const differences: string[] = [];
  for (const field of ['seq', 'businessDay', 'businessDayBegins', 'entryTimestamp', 'entryBytes'] as const) {
    if (found[field] !== expected[field]) differences.push(`${field} is ${String(found[field])} in the store, ${String(expected[field])} from the journal entry`);
  }
  const key = (l: StoredVoucher['lines'][number]) => `ledger ${l.ledger} code ${l.code} ${l.side}`;
  const foundLines = new Map((found.lines ?? []).map((l) => [key(l), l.amount] as const));
  const expectedLines = new Map(expected.lines.map((l) => [key(l), l.amount] as const));
  for (const line of new Set([...expectedLines.keys(), ...foundLines.keys()])) {
    const foundAmount = foundLines.get(line);
    const expectedAmount = expectedLines.get(line);
    if (foundAmount !== expectedAmount) differences.push(`${line} amount is ${foundAmount ?? 'absent'} in the store, ${expectedAmount ?? 'absent'} from the journal entry`);
  }
  return differences;
}
