// The books kept from vouchers: per account its running posted totals (明细账, the detail ledger) and
// per ledger, business day and account code the day's totals, rolled into chart subjects on demand
// (总账, the general ledger). Invariants: each shard's vouchers apply once and in seq order; per
// ledger Σ debits = Σ credits after every voucher. Pure and in memory; persisting is the caller's job.

import { assert } from '../assert.js';
import { trialBalance, type ChartOfAccounts, type SubjectBalance, type SubjectTotals, type TrialBalance } from './chart-of-accounts.js';
import { shardCountMax } from '../limits.js';
import { SystemAccountCode } from '../accounts/system-accounts.js';
import { accountCodeOfSystemId, homeShardOfSystemId, type SubjectVoucher, type Voucher, type VoucherLine } from './vouchers.js';

/** The pseudo-subject of postings whose account code the chart maps to no leaf. */
export const unmappedSubject = 'unmapped';

/** Day 0 holds everything a shard posted before its first day cut (the opening). */
export const openingDay = 0;

export interface AccountDetail extends SubjectTotals {
  code: number;
  ledger: number;
}

/** The detail ledger's row of one account, with the shard whose journal posts to it. */
interface AccountRow extends AccountDetail {
  home: number;
}

interface ShardProgress {
  /** Seq of the last voucher applied (0: none). */
  seqLast: number;
  /** The business day the shard's postings currently belong to. */
  day: number;
}

export interface GeneralLedgerTrialBalance extends TrialBalance {
  /** What the trial balance leaves out: postings on accounts whose code maps to no leaf. */
  unmapped: SubjectTotals;
}

/** Checkpoint shape: bigints (ids and amounts) as decimal strings. */
export interface GeneralLedgerJson {
  version: 1;
  shards: ShardProgressRow[];
  accounts: { id: string; code: number; ledger: number; home: number; debits: string; credits: string }[];
  /** Per ledger, business day and account code: that day's posted totals. */
  days: DayTotalsRow[];
}

const generalLedgerJsonVersion = 1;

/** One shard's progress as the bookkeeper stores it: the last voucher booked and the day its postings belong to. */
export interface ShardProgressRow {
  shard: number;
  seqLast: number;
  day: number;
}

/** One (ledger, business day, account code)'s posted totals as stored: amounts as decimal strings. */
export interface DayTotalsRow {
  ledger: number;
  day: number;
  code: number;
  debits: string;
  credits: string;
}

function zero(): SubjectTotals {
  return { debits: 0n, credits: 0n };
}

function totalsAt<K>(map: Map<K, SubjectTotals>, key: K): SubjectTotals {
  let totals = map.get(key);
  if (totals === undefined) map.set(key, (totals = zero()));
  return totals;
}

function mapAt<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  return value;
}

export class GeneralLedger {
  readonly #chart: ChartOfAccounts;
  /** The detail ledger: every account seen, by id. */
  readonly #accounts = new Map<bigint, AccountRow>();
  readonly #shards = new Map<number, ShardProgress>();
  /**
   * ledger → day → account code → totals. Kept per account code rather than per leaf so that a
   * checkpoint does not depend on the chart: a corrected chart re-maps history when it is loaded.
   */
  readonly #days = new Map<number, Map<number, Map<number, SubjectTotals>>>();
  /** Per ledger over all days: the conservation check after each voucher. */
  readonly #ledgerTotals = new Map<number, SubjectTotals>();

  constructor(chart: ChartOfAccounts) {
    assert(!chart.subjects.has(unmappedSubject), `the chart has no subject coded "${unmappedSubject}"`);
    this.#chart = chart;
  }

  /** Books one voucher of shard `shardIndex`; every voucher of that shard must come, in seq order. */
  applyVoucher(shardIndex: number, voucher: Voucher): void {
    assert(Number.isInteger(shardIndex) && shardIndex >= 0 && shardIndex < shardCountMax, 'shardIndex within bounds');
    const progress = mapAt(this.#shards, shardIndex, () => ({ seqLast: 0, day: openingDay }));
    assert(voucher.seq === progress.seqLast + 1, `shard ${shardIndex}: voucher ${voucher.seq} follows ${progress.seqLast}`);
    if (voucher.businessDayBegins !== undefined) {
      assert(voucher.lines.length === 0 && voucher.businessDayBegins > progress.day, `shard ${shardIndex}: a day cut begins a later day`);
      progress.day = voucher.businessDayBegins;
      progress.seqLast = voucher.seq;
      return;
    }
    assert(voucher.businessDay === progress.day, `shard ${shardIndex}: voucher ${voucher.seq} belongs to day ${progress.day}`);
    for (const created of voucher.accountsCreated) this.#open(created.id, created.code, created.ledger, shardIndex);
    // Checked before anything moves, so a refused voucher leaves the books as they were.
    const rows = voucher.lines.map((line) => this.#rowOfLine(shardIndex, line.accountId, line.ledger));
    voucher.lines.forEach((line, k) => this.#post(rows[k]!, line, progress.day));
    for (const line of voucher.lines) {
      const totals = this.#ledgerTotals.get(line.ledger)!;
      if (totals.debits !== totals.credits) assert(false, `ledger ${line.ledger}: debits equal credits after voucher ${voucher.seq} of shard ${shardIndex}`);
    }
    progress.seqLast = voucher.seq;
  }

  /**
   * Books one voucher summed by subject (the bookkeeping shard's fast path): the general ledger only,
   * no per-account detail (the shards keep that, and the day report compares the two).
   */
  applySubjectVoucher(shardIndex: number, voucher: SubjectVoucher): void {
    assert(Number.isInteger(shardIndex) && shardIndex >= 0 && shardIndex < shardCountMax, 'shardIndex within bounds');
    const progress = mapAt(this.#shards, shardIndex, () => ({ seqLast: 0, day: openingDay }));
    assert(voucher.seq === progress.seqLast + 1, `shard ${shardIndex}: voucher ${voucher.seq} follows ${progress.seqLast}`);
    progress.seqLast = voucher.seq;
    if (voucher.businessDayBegins !== undefined) {
      assert(voucher.lines.length === 0 && voucher.businessDayBegins > progress.day, `shard ${shardIndex}: a day cut begins a later day`);
      progress.day = voucher.businessDayBegins;
      return;
    }
    assert(voucher.businessDay === progress.day, `shard ${shardIndex}: voucher ${voucher.seq} belongs to day ${progress.day}`);
    for (const line of voucher.lines) {
      const days = this.#days.get(line.ledger) ?? mapAt(this.#days, line.ledger, () => new Map());
      const codes = days.get(progress.day) ?? mapAt(days, progress.day, () => new Map<number, SubjectTotals>());
      const dayTotals = totalsAt(codes, line.code);
      const ledgerTotals = totalsAt(this.#ledgerTotals, line.ledger);
      if (line.side === 'debit') {
        dayTotals.debits += line.amount;
        ledgerTotals.debits += line.amount;
      } else {
        dayTotals.credits += line.amount;
        ledgerTotals.credits += line.amount;
      }
    }
    for (const line of voucher.lines) {
      const totals = this.#ledgerTotals.get(line.ledger)!;
      assert(totals.debits === totals.credits, `ledger ${line.ledger}: debits equal credits after voucher ${voucher.seq} of shard ${shardIndex}`);
    }
  }

  /** One line into the detail ledger, the day's totals of its account code and its ledger's totals. */
  #post(row: AccountRow, line: VoucherLine, day: number): void {
    const days = this.#days.get(line.ledger) ?? mapAt(this.#days, line.ledger, () => new Map());
    const codes = days.get(day) ?? mapAt(days, day, () => new Map<number, SubjectTotals>());
    const dayTotals = totalsAt(codes, row.code);
    const ledgerTotals = totalsAt(this.#ledgerTotals, line.ledger);
    if (line.side === 'debit') {
      row.debits += line.amount;
      dayTotals.debits += line.amount;
      ledgerTotals.debits += line.amount;
    } else {
      row.credits += line.amount;
      dayTotals.credits += line.amount;
      ledgerTotals.credits += line.amount;
    }
  }

  /** The last voucher seq applied for the shard (0: none): where a restarted reader resumes. */
  seqLast(shardIndex: number): number {
    return this.#shards.get(shardIndex)?.seqLast ?? 0;
  }

  /** The business day the shard's postings currently belong to (0 before its first cut). */
  businessDay(shardIndex: number): number {
    return this.#shards.get(shardIndex)?.day ?? openingDay;
  }

  /** The shard's progress as the bookkeeper stores it beside the vouchers that made it. */
  progressRow(shardIndex: number): ShardProgressRow {
    return { shard: shardIndex, seqLast: this.seqLast(shardIndex), day: this.businessDay(shardIndex) };
  }

  /** The totals one (ledger, day, code) holds now, as stored; zero when nothing was posted there. */
  dayTotalsRow(ledger: number, day: number, code: number): DayTotalsRow {
    const totals = this.#days.get(ledger)?.get(day)?.get(code) ?? zero();
    return { ledger, day, code, debits: totals.debits.toString(), credits: totals.credits.toString() };
  }

  ledgers(): number[] {
    return [...this.#days.keys()].sort((a, b) => a - b);
  }

  /** The account's posted totals so far, or undefined for an account never seen. */
  accountTotals(accountId: bigint): SubjectTotals | undefined {
    const row = this.#accounts.get(accountId);
    return row === undefined ? undefined : { debits: row.debits, credits: row.credits };
  }

  /** Accounts with postings whose code the chart maps to no leaf, ascending. */
  unmappedAccounts(): bigint[] {
    const ids: bigint[] = [];
    for (const [id, row] of this.#accounts) {
      const posted = row.debits !== 0n || row.credits !== 0n;
      if (posted && this.#chart.leafOfAccountCode(row.code) === undefined) ids.push(id);
    }
    return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Per leaf (and `unmapped`), the totals of every business day up to and including `day`. */
  subjectTotalsThrough(ledger: number, day: number): Map<string, SubjectTotals> {
    assert(Number.isInteger(day) && day >= openingDay, 'day is 0 or yyyymmdd');
    const leafTotals = new Map<string, SubjectTotals>();
    for (const [d, codes] of this.#days.get(ledger) ?? []) {
      if (d > day) continue;
      for (const [code, totals] of codes) {
        const subject = totalsAt(leafTotals, this.#chart.leafOfAccountCode(code)?.code ?? unmappedSubject);
        subject.debits += totals.debits;
        subject.credits += totals.credits;
      }
    }
    return leafTotals;
  }

  /**
   * Balances of every subject of the chart through `day` (default: all days); unmapped postings are left out, the
   * transit subject's turnover is netted (transitNetted).
   */
  subjectBalances(ledger: number, day = Number.MAX_SAFE_INTEGER): Map<string, SubjectBalance> {
    return this.#chart.rollUp(this.#mapped(this.#transitNetted(ledger, day)));
  }

  /** The chart's trial balance through `day` (default: all days), with what it leaves out beside it (transit netted). */
  trialBalance(ledger: number, day = Number.MAX_SAFE_INTEGER): GeneralLedgerTrialBalance {
    const leafTotals = this.#transitNetted(ledger, day);
    const unmapped = leafTotals.get(unmappedSubject) ?? zero();
    return { ...trialBalance(this.#chart, this.#mapped(leafTotals)), unmapped: { ...unmapped } };
  }

  /**
   * The detail ledger of the shard's accounts as of now. Taken when the shard's day-cut voucher has
   * just been applied, it is the closing of the day that ended.
   */
  detailSnapshot(shardIndex: number): Map<bigint, AccountDetail> {
    const snapshot = new Map<bigint, AccountDetail>();
    for (const [id, row] of this.#accounts) {
      if (row.home === shardIndex) snapshot.set(id, { code: row.code, ledger: row.ledger, debits: row.debits, credits: row.credits });
    }
    return snapshot;
  }

  toJSON(): GeneralLedgerJson {
    const json: GeneralLedgerJson = { version: generalLedgerJsonVersion, shards: [], accounts: [], days: [] };
    for (const [shard, p] of this.#shards) json.shards.push({ shard, seqLast: p.seqLast, day: p.day });
    for (const [id, r] of this.#accounts) {
      json.accounts.push({ id: id.toString(), code: r.code, ledger: r.ledger, home: r.home, debits: r.debits.toString(), credits: r.credits.toString() });
    }
    for (const [ledger, days] of this.#days) {
      for (const [day, codes] of days) {
        for (const [code, t] of codes) json.days.push({ ledger, day, code, debits: t.debits.toString(), credits: t.credits.toString() });
      }
    }
    return json;
  }

  /** Rebuilds the books from a checkpoint, checking that they still balance; the chart may differ from the one that wrote it. */
  static fromJSON(chart: ChartOfAccounts, json: GeneralLedgerJson): GeneralLedger {
    assert(json.version === generalLedgerJsonVersion, `general ledger checkpoint version ${json.version} is known`);
    const gl = new GeneralLedger(chart);
    for (const s of json.shards) gl.#shards.set(s.shard, { seqLast: s.seqLast, day: s.day });
    for (const a of json.accounts) {
      const row: AccountRow = { code: a.code, ledger: a.ledger, home: a.home, debits: BigInt(a.debits), credits: BigInt(a.credits) };
      assert(!gl.#accounts.has(BigInt(a.id)), `checkpoint names account ${a.id} once`);
      gl.#accounts.set(BigInt(a.id), row);
    }
    for (const d of json.days) {
      const totals = totalsAt(mapAt(mapAt(gl.#days, d.ledger, () => new Map()), d.day, () => new Map<number, SubjectTotals>()), d.code);
      const ledgerTotals = totalsAt(gl.#ledgerTotals, d.ledger);
      for (const t of [totals, ledgerTotals]) {
        t.debits += BigInt(d.debits);
        t.credits += BigInt(d.credits);
      }
    }
    gl.#assertConsistent();
    return gl;
  }

  /**
   * Rebuilds the subject books (no detail ledger: the bookkeeping shard's) from the rows the bookkeeper
   * stored, checking that each ledger balances and no row is named twice.
   */
  static fromSubjectRows(chart: ChartOfAccounts, shards: readonly ShardProgressRow[], days: readonly DayTotalsRow[]): GeneralLedger {
    const gl = new GeneralLedger(chart);
    for (const s of shards) {
      assert(!gl.#shards.has(s.shard) && Number.isInteger(s.seqLast) && s.seqLast >= 0, `stored progress names shard ${s.shard} once, with a seq`);
      gl.#shards.set(s.shard, { seqLast: s.seqLast, day: s.day });
    }
    for (const d of days) {
      const codes = mapAt(mapAt(gl.#days, d.ledger, () => new Map()), d.day, () => new Map<number, SubjectTotals>());
      assert(!codes.has(d.code), `stored books name ledger ${d.ledger} day ${d.day} code ${d.code} once`);
      const [debits, credits] = [BigInt(d.debits), BigInt(d.credits)];
      assert(debits >= 0n && credits >= 0n, 'stored day totals are not negative');
      for (const t of [totalsAt(codes, d.code), totalsAt(gl.#ledgerTotals, d.ledger)]) {
        t.debits += debits;
        t.credits += credits;
      }
    }
    for (const [ledger, t] of gl.#ledgerTotals) assert(t.debits === t.credits, `stored books: ledger ${ledger} balances`);
    return gl;
  }

  /** Checked after a restore: each ledger balances, and the detail ledger sums to the general ledger. */
  #assertConsistent(): void {
    const detail = new Map<number, SubjectTotals>();
    for (const row of this.#accounts.values()) {
      assert(row.debits >= 0n && row.credits >= 0n, 'account totals are not negative');
      const totals = totalsAt(detail, row.ledger);
      totals.debits += row.debits;
      totals.credits += row.credits;
    }
    for (const [ledger, t] of this.#ledgerTotals) {
      assert(t.debits === t.credits, `ledger ${ledger} balances`);
      const d = detail.get(ledger) ?? zero();
      assert(d.debits === t.debits && d.credits === t.credits, `ledger ${ledger}: detail ledger equals general ledger`);
    }
  }

  #open(id: bigint, code: number, ledger: number, home: number): AccountRow {
    if (this.#accounts.has(id)) assert(false, `account ${id} is opened once`);
    const row: AccountRow = { code, ledger, home, debits: 0n, credits: 0n };
    this.#accounts.set(id, row);
    return row;
  }

  /** The row a line posts to; system accounts open on their first line (their creation is not journaled). */
  #rowOfLine(shardIndex: number, id: bigint, ledger: number): AccountRow {
    let row = this.#accounts.get(id);
    if (row === undefined) {
      const code = accountCodeOfSystemId(id);
      if (code === undefined) assert(false, `shard ${shardIndex} posts to account ${id}, which it never opened`);
      row = this.#open(id, code, ledger, homeShardOfSystemId(id)!);
    }
    // Messages are built only on failure: this runs once per line.
    if (row.home !== shardIndex) assert(false, `account ${id} is posted by its own shard ${row.home}, not ${shardIndex}`);
    if (row.ledger !== ledger) assert(false, `account ${id} posts on its ledger ${row.ledger}`);
    return row;
  }

  /**
   * subjectTotalsThrough as a caller reads it (issue #14, item 30): the transit accounts' turnover netted. Transit
   * carries each cross-shard transfer twice — into it on the payer's shard, out of it on the payee's — so its gross
   * turnover depends on where accounts live, and one shard never posts to it. Netted, it shows only what is between
   * shards (nothing at a day cut, made at a quiet instant); each ledger's debits and credits drop by the same amount,
   * so the trial balance still balances. The day report keeps the gross figures: it checks them against the shards'.
   */
  #transitNetted(ledger: number, day: number): Map<string, SubjectTotals> {
    const leafTotals = this.subjectTotalsThrough(ledger, day);
    const transitCodeTotals = zero();
    for (const [d, codes] of this.#days.get(ledger) ?? []) {
      const totals = d > day ? undefined : codes.get(SystemAccountCode.transit);
      if (totals === undefined) continue;
      transitCodeTotals.debits += totals.debits;
      transitCodeTotals.credits += totals.credits;
    }
    const both = transitCodeTotals.debits < transitCodeTotals.credits ? transitCodeTotals.debits : transitCodeTotals.credits;
    if (both === 0n) return leafTotals;
    const leaf = leafTotals.get(this.#chart.leafOfAccountCode(SystemAccountCode.transit)?.code ?? unmappedSubject)!;
    leaf.debits -= both;
    leaf.credits -= both;
    return leafTotals;
  }

  #mapped(leafTotals: Map<string, SubjectTotals>): Map<string, SubjectTotals> {
    const mapped = new Map(leafTotals);
    mapped.delete(unmappedSubject);
    return mapped;
  }
}
