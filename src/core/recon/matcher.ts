// Two-way matching of a channel's statement rows with our postings on the channel's clearing account for one
// business day (issue #17): a hash join on the configured key, never a query per row. Rows sharing a key and a
// direction are compared as one group (several channel rows for one posting — split settlement — or one row for
// several postings): our sum against theirs, our status against theirs, our fee postings against their fees. What
// no key finds is looked for among earlier days' postings the channel had not stated (the pending pool) and our
// postings of the days after within the date window (paid before midnight, posted after); then, where configured,
// by amount and value date where that pairs rows one-to-one. What is left is an exception on its side: missing on
// the platform (漏单) or missing at the channel (pending, an error once older than pendingDaysMax).

import { assert } from '../assert.js';
import type { OurStatus } from './channel-config.js';
import { isMatchedOutcome, ReconOutcome, type ReconOutcomeName } from './outcomes.js';
import type { RowDirection, RowStatus, RowType, StatementRow } from './statement-row.js';
import { asRowSource, type StatementRowSource } from './statement-row-table.js';

export type LedgerCodeClass = 'payment' | 'refund' | 'fee' | 'other';

/** One of our postings on the clearing account, as the matcher needs it. */
export interface LedgerRow {
  transferId: bigint;
  /** The configured ledger field (user_data_128 …) as the key; 0n = none. */
  key128: bigint;
  amountMinor: bigint;
  /** As the channel would book it (for an asset clearing account our debit is their credit). */
  direction: RowDirection;
  codeClass: LedgerCodeClass;
  timestampMs: number;
  /** yyyymmdd of the day the posting belongs to. */
  businessDay: number;
  status: Exclude<OurStatus, 'none'>;
}

/** Our postings as the matcher reads them, by index: fields one at a time, a whole row only for a record (packed-ledger-rows.ts). */
export interface LedgerRowSource {
  readonly length: number;
  row(i: number): LedgerRow;
  key128(i: number): bigint;
  amountMinor(i: number): bigint;
  direction(i: number): RowDirection;
  codeClass(i: number): LedgerCodeClass;
  status(i: number): Exclude<OurStatus, 'none'>;
}

/** Postings held as objects. */
export function ledgerRowSourceOf(rows: readonly LedgerRow[]): LedgerRowSource {
  return {
    length: rows.length,
    row: (i) => rows[i]!,
    key128: (i) => rows[i]!.key128,
    amountMinor: (i) => rows[i]!.amountMinor,
    direction: (i) => rows[i]!.direction,
    codeClass: (i) => rows[i]!.codeClass,
    status: (i) => rows[i]!.status,
  };
}

type Postings = readonly LedgerRow[] | LedgerRowSource;

function ledgerSourceOf(postings: Postings): LedgerRowSource {
  return Array.isArray(postings) ? ledgerRowSourceOf(postings as readonly LedgerRow[]) : (postings as LedgerRowSource);
}

export interface MatchInput {
  /** The statement's rows: objects, or a table (statement-row-table.ts) whose rows are made whole only when a record needs them. */
  rows: readonly StatementRow[] | StatementRowSource;
  /** Our postings of the business day. */
  ledger: Postings;
  /** Earlier days' postings the channel had not stated yet. */
  pool: Postings;
  /** Our postings of the days after, within the date window. */
  later: Postings;
  businessDay: number;
  currency: string;
  tolerance: { amountMinor: bigint; feeMinor: bigint };
  /** Compare fees only when the channel's fee postings are ours to compare (ledgerCodes.fee configured). */
  compareFees: boolean;
  pendingDaysMax: number;
  fallback: 'amount+valueDate' | null;
  /**
   * Whether records of matched groups are returned (default true). Callers that want only the exceptions say false:
   * a million matched records are counted in the totals, not kept (their heap was most of a big import's matching).
   */
  keepMatched?: boolean;
}

export type DifferenceField = 'duplicate' | 'currency' | 'direction' | 'status' | 'amount' | 'fee';

export interface Difference {
  field: DifferenceField;
  ours: string;
  theirs: string;
  /** Theirs − ours in minor units: for amounts; for fees, as fee taken by the channel (a fee paid back negative). */
  differenceMinor?: bigint;
}

/** One group of rows and postings and what matching found for it. */
export interface ReconRecord {
  outcome: ReconOutcomeName;
  key128: bigint;
  direction: RowDirection;
  type: RowType | null;
  rowNos: number[];
  /** Our postings, then the key's fee postings (the last `feeTransfers` of them). */
  transferIds: bigint[];
  feeTransfers: number;
  theirsMinor: bigint;
  oursMinor: bigint;
  theirs: RowStatus | null;
  ours: OurStatus;
  differences: Difference[];
}

export interface OutcomeTotals {
  count: number;
  amountMinor: bigint;
}

export interface MatchOutput {
  records: ReconRecord[];
  /** Postings for the pending pool: missing at the channel and still young enough to wait. */
  carried: LedgerRow[];
  /** Statement rows that move nothing (status info, amount 0): read, not matched. */
  ignored: number;
  totals: Record<ReconOutcomeName, OutcomeTotals>;
}

/**
 * Postings of one source (the day, the pool, the days after) by key, each taken at most once. A key's postings are
 * chained in order through `next` from the key's first: no array per key (a million of them was most of building).
 */
class KeyedPostings {
  private readonly first = new Map<bigint, number>();
  private readonly next: Int32Array;
  readonly taken: Uint8Array;
  /** Whether any posting is a fee (none where the channel's fees are not ours to compare). */
  readonly hasFees: boolean;

  constructor(readonly postings: LedgerRowSource) {
    this.taken = new Uint8Array(postings.length);
    this.next = new Int32Array(postings.length).fill(-1);
    let hasFees = false;
    // Backwards, each posting put before the key's chain so far: the chain ends up in the postings' order.
    for (let i = postings.length - 1; i >= 0; i--) {
      if (!hasFees && postings.codeClass(i) === 'fee') hasFees = true;
      const key = postings.key128(i);
      if (key === 0n) continue;
      const after = this.first.get(key);
      if (after !== undefined) this.next[i] = after;
      this.first.set(key, i);
    }
    this.hasFees = hasFees;
  }

  /** Untaken postings of the key: those in the direction (fees apart), and its fee postings. */
  find(key: bigint, direction: RowDirection | null): { moves: number[]; fees: number[] } {
    const moves: number[] = [];
    const fees: number[] = [];
    for (let i = this.first.get(key) ?? -1; i >= 0; i = this.next[i]!) {
      if (this.taken[i] === 1) continue;
      if (this.postings.codeClass(i) === 'fee') fees.push(i);
      else if (direction === null || this.postings.direction(i) === direction) moves.push(i);
    }
    return { moves, fees };
  }

  /** The key's one untaken posting when it has exactly one and that is a move in `direction`; else −1. */
  soleMove(key: bigint, direction: RowDirection): number {
    let sole = -1;
    for (let i = this.first.get(key) ?? -1; i >= 0; i = this.next[i]!) {
      if (this.taken[i] === 1) continue;
      if (sole >= 0) return -1;
      sole = i;
    }
    if (sole < 0) return -1;
    return this.postings.codeClass(sole) !== 'fee' && this.postings.direction(sole) === direction ? sole : -1;
  }

  take(indexes: readonly number[]): LedgerRow[] {
    return indexes.map((i) => this.takeOne(i));
  }

  takeOne(i: number): LedgerRow {
    assert(this.taken[i] === 0, 'a posting is matched at most once');
    this.taken[i] = 1;
    return this.postings.row(i);
  }
}

const nothingMoved: ReadonlySet<RowStatus> = new Set(['failed', 'closed', 'reversed']);
const oursUndone: ReadonlySet<OurStatus> = new Set(['voided', 'expired', 'reversed']);

/** Whether their status and ours say the same about the money. */
function statusAgrees(theirs: RowStatus, ours: OurStatus): boolean {
  if (theirs === 'success' || theirs === 'refund') return ours === 'posted';
  if (theirs === 'pending') return ours === 'pending';
  return ours === 'none' || oursUndone.has(ours);
}

function groupStatus(postings: readonly LedgerRow[]): OurStatus {
  if (postings.length === 0) return 'none';
  return postings.find((posting) => posting.status !== 'posted')?.status ?? 'posted';
}

const sum = (amounts: Iterable<bigint>): bigint => {
  let total = 0n;
  for (const amount of amounts) total += amount;
  return total;
};
const abs = (value: bigint): bigint => (value < 0n ? -value : value);

function dayIndex(yyyymmdd: number): number {
  return Date.UTC(Math.floor(yyyymmdd / 10_000), (Math.floor(yyyymmdd / 100) % 100) - 1, yyyymmdd % 100) / 86_400_000;
}

export function matchStatement(input: MatchInput): MatchOutput {
  const kept: ReconRecord[] = [];
  const totals = emptyTotals();
  const keepMatched = input.keepMatched ?? true;
  // Every record goes through here: counted, and kept unless it is a match the caller does not want.
  const records = {
    push(...added: ReconRecord[]): void {
      for (const record of added) {
        const total = totals[record.outcome];
        total.count++;
        total.amountMinor += record.rowNos.length > 0 ? record.theirsMinor : record.oursMinor;
        if (keepMatched || !isMatchedOutcome(record.outcome)) kept.push(record);
      }
    },
  };
  const day = new KeyedPostings(ledgerSourceOf(input.ledger));
  const pool = new KeyedPostings(ledgerSourceOf(input.pool));
  const later = new KeyedPostings(ledgerSourceOf(input.later));
  let ignored = 0;

  // Rows that move nothing are read, not matched; a serial number stated twice is the channel's duplicate. Rows are
  // read by index, field by field: the whole row is made only for a record that names it (a table keeps rows packed).
  const source = asRowSource(input.rows);
  const live: number[] = [];
  // By direction, and apart for rows with a refund number: a payment's identity is its serial number alone, with no
  // text made per row.
  const seenPayments = { credit: new Map<string, number>(), debit: new Map<string, number>() };
  const seenRefunds = { credit: new Map<string, number>(), debit: new Map<string, number>() };
  for (let i = 0; i < source.length; i++) {
    if (source.status(i) === 'info' || source.amountMinor(i) === 0n) {
      ignored++;
      continue;
    }
    const serial = source.channelSerialNo(i);
    if (serial !== '') {
      const refundNo = source.refundNo(i);
      const seen = (refundNo === '' ? seenPayments : seenRefunds)[source.direction(i)];
      const identity = refundNo === '' ? serial : `${serial}\u0000${refundNo}`;
      const first = seen.get(identity);
      if (first !== undefined) {
        records.push(statementOnly('duplicate_at_channel', [source.row(i)], [{ field: 'duplicate', ours: '', theirs: `row ${first} states it too` }]));
        continue;
      }
      seen.set(identity, i + 1);
    }
    const currency = source.currency(i);
    if (currency !== input.currency) {
      records.push(statementOnly('currency_mismatch', [source.row(i)], [{ field: 'currency', ours: input.currency, theirs: currency }]));
      continue;
    }
    live.push(i);
  }

  // Groups by (key, direction), in the order their first row came: each group's rows chained from its first row
  // through `nextInGroup` (indexes into live), one map per direction keyed by the bigint itself (a decimal string
  // per row cost 3× as much at a million rows), no array per group unless one is needed.
  const nextInGroup = new Int32Array(live.length).fill(-1);
  const lastInGroup = new Int32Array(live.length);
  const isFirstInGroup = new Uint8Array(live.length);
  const byDirection = { credit: new Map<bigint, number>(), debit: new Map<bigint, number>() };
  const unkeyed: StatementRow[] = [];
  for (let i = 0; i < live.length; i++) {
    const key = source.key128(live[i]!);
    if (key === 0n) {
      unkeyed.push(source.row(live[i]!));
      continue;
    }
    const keyed = byDirection[source.direction(live[i]!)];
    const first = keyed.get(key);
    if (first === undefined) {
      keyed.set(key, i);
      isFirstInGroup[i] = 1;
      lastInGroup[i] = i;
    } else {
      nextInGroup[lastInGroup[first]!] = i;
      lastInGroup[first] = i;
    }
  }
  const groupOf = (first: number): StatementRow[] => {
    const rows: StatementRow[] = [];
    for (let i = first; i >= 0; i = nextInGroup[i]!) rows.push(source.row(live[i]!));
    return rows;
  };

  // Keys whose fee postings a group took already (a key's fees go with its first group). With no fee posting in any
  // source there is nothing to take: the set stays empty (a million keys in it were a tenth of matching).
  const anyFees = day.hasFees || pool.hasFees || later.hasFees;
  const feesChecked = new Set<bigint>();
  const compare = (rows: StatementRow[], source: KeyedPostings, late: boolean): boolean => {
    const { key128, direction } = rows[0]!;
    const found = source.find(key128, direction);
    if (found.moves.length === 0) return false;
    const postings = source.take(found.moves);
    const fees = feesChecked.has(key128) ? [] : source.take(found.fees);
    if (anyFees) feesChecked.add(key128);
    records.push(judgeGroup(rows, postings, fees, input, late));
    return true;
  };
  /**
   * The common case, when matches are only counted: one row, one posting of its key (nothing else untaken under
   * it), same amount, statuses agreeing, no fee to compare. judgeGroup would call it matched; it is counted as
   * such without building the record. The property test holds both ways to the same output.
   */
  const quickMatch = (first: number, postings: KeyedPostings): boolean => {
    if (keepMatched || nextInGroup[first] !== -1) return false;
    const i = live[first]!;
    const key = source.key128(i);
    const sole = postings.soleMove(key, source.direction(i));
    if (sole < 0) return false;
    const amount = source.amountMinor(i);
    if (postings.postings.amountMinor(sole) !== amount || !statusAgrees(source.status(i), postings.postings.status(sole)) || (input.compareFees && source.feeMinor(i) !== 0n)) return false;
    postings.takeOne(sole);
    if (anyFees) feesChecked.add(key);
    totals.matched.count++;
    totals.matched.amountMinor += amount;
    return true;
  };

  const unfound: StatementRow[][] = [];
  for (let first = 0; first < live.length; first++) {
    if (isFirstInGroup[first] === 0 || quickMatch(first, day)) continue;
    const rows = groupOf(first);
    if (!compare(rows, day, false)) unfound.push(rows);
  }
  const stillUnfound: StatementRow[][] = [];
  for (const rows of unfound) if (!compare(rows, pool, true) && !compare(rows, later, true)) stillUnfound.push(rows);

  // A key found only in the other direction: the channel and we disagree on which way the money went.
  const leftover: StatementRow[] = [...unkeyed];
  for (const rows of stillUnfound) {
    const { key128, direction } = rows[0]!;
    const other = day.find(key128, direction === 'credit' ? 'debit' : 'credit');
    if (other.moves.length === 0) {
      leftover.push(...rows);
      continue;
    }
    const postings = day.take(other.moves);
    const record = recordOf('direction_mismatch', rows, postings);
    if (!feesChecked.has(key128)) {
      const fees = day.take(other.fees);
      record.transferIds.push(...fees.map((fee) => fee.transferId));
      record.feeTransfers = fees.length;
    }
    if (anyFees) feesChecked.add(key128);
    record.differences.push({ field: 'direction', ours: postings[0]!.direction, theirs: direction });
    records.push(record);
  }

  const unmatchedRows = input.fallback === 'amount+valueDate' ? matchByAmountAndDate(leftover, day, records) : leftover;
  for (const row of unmatchedRows) {
    records.push(nothingMoved.has(row.status) ? statementOnly('matched', [row], []) : statementOnly('missing_on_platform', [row], [{ field: 'amount', ours: '0', theirs: String(row.amountMinor), differenceMinor: row.amountMinor }]));
  }

  // Our postings the channel did not state: pending while young, an error once older than the channel allows.
  const carried: LedgerRow[] = [];
  const today = dayIndex(input.businessDay);
  for (const keyed of [day, pool]) {
    // A posting and its fee postings (one key) are one record; postings without a key, one each.
    const byKey = new Map<bigint, LedgerRow[]>();
    const alone: LedgerRow[][] = [];
    for (let i = 0; i < keyed.postings.length; i++) {
      if (keyed.taken[i] === 1 || oursUndone.has(keyed.postings.status(i))) continue; // a void or an expiry moved nothing, on either side
      const posting = keyed.postings.row(i);
      const group = posting.key128 === 0n ? undefined : byKey.get(posting.key128);
      if (group !== undefined) group.push(posting);
      else if (posting.key128 === 0n) alone.push([posting]);
      else byKey.set(posting.key128, [posting]);
    }
    for (const postings of [...byKey.values(), ...alone]) {
      const moves = postings.filter((posting) => posting.codeClass !== 'fee');
      const first = moves[0] ?? postings[0]!;
      const expired = today - dayIndex(first.businessDay) >= input.pendingDaysMax;
      if (!expired) carried.push(...postings);
      const oursMinor = sum((moves.length > 0 ? moves : postings).map((posting) => posting.amountMinor));
      records.push({
        outcome: expired ? 'pending_expired' : 'missing_at_channel', key128: first.key128, direction: first.direction, type: null,
        rowNos: [], transferIds: postings.map((posting) => posting.transferId), feeTransfers: 0, theirsMinor: 0n, oursMinor, theirs: null,
        ours: groupStatus(moves.length > 0 ? moves : postings), differences: [{ field: 'amount', ours: String(oursMinor), theirs: '0', differenceMinor: -oursMinor }],
      });
    }
  }
  return { records: kept, carried, ignored, totals };
}

function recordOf(outcome: ReconOutcomeName, rows: readonly StatementRow[], postings: readonly LedgerRow[]): ReconRecord {
  const first = rows[0];
  return {
    outcome, key128: first?.key128 ?? postings[0]?.key128 ?? 0n, direction: first?.direction ?? postings[0]!.direction, type: first?.type ?? null,
    rowNos: rows.map((row) => row.rowNo), transferIds: postings.map((posting) => posting.transferId), feeTransfers: 0,
    theirsMinor: sum(rows.map((row) => row.amountMinor)), oursMinor: sum(postings.map((posting) => posting.amountMinor)),
    theirs: first?.status ?? null, ours: groupStatus(postings), differences: [],
  };
}

function statementOnly(outcome: ReconOutcomeName, rows: readonly StatementRow[], differences: Difference[]): ReconRecord {
  return { ...recordOf(outcome, rows, []), differences };
}

/**
 * A group's fees, ours against theirs, as money the channel took (positive) or paid back (negative). Our fee
 * postings count by direction: out of our account at the channel (their debit) is a fee taken, into it a fee paid
 * back — a fee difference posted back the other way (strategies.ts) lowers what we booked, so the next run agrees.
 * A row states its fee by its size; it is a fee paid back where ours are (net) paid back, or, with none of ours, on
 * a refund (WeChat and Alipay return a refunded payment's fee). `differenceMinor` is theirs − ours in those terms.
 */
function feeComparison(rows: readonly StatementRow[], fees: readonly LedgerRow[], type: RowType | null): { ours: string; theirs: string; differenceMinor: bigint } {
  let oursTaken = 0n;
  for (const fee of fees) oursTaken += fee.direction === 'debit' ? fee.amountMinor : -fee.amountMinor;
  const theirSize = sum(rows.map((row) => row.feeMinor));
  const paidBack = oursTaken < 0n || (oursTaken === 0n && type === 'refund');
  const theirsTaken = paidBack ? -theirSize : theirSize;
  return { ours: String(abs(oursTaken)), theirs: String(theirSize), differenceMinor: theirsTaken - oursTaken };
}

/** A group of rows with the postings its key found: every difference, and the outcome of the first that counts. */
function judgeGroup(rows: readonly StatementRow[], postings: readonly LedgerRow[], fees: readonly LedgerRow[], input: MatchInput, late: boolean): ReconRecord {
  const record = recordOf('matched', rows, postings);
  record.transferIds.push(...fees.map((fee) => fee.transferId));
  record.feeTransfers = fees.length;
  const theirs = record.theirs!;
  const differences = record.differences;
  let outcome: ReconOutcomeName | null = null;
  const note = (candidate: ReconOutcomeName, difference: Difference): void => {
    differences.push(difference);
    if (outcome === null) outcome = candidate;
  };

  const extra = record.oursMinor - record.theirsMinor;
  if (postings.length > rows.length && extra > 0n && postings.some((posting) => posting.amountMinor === extra)) {
    note('duplicate_on_platform', { field: 'amount', ours: String(record.oursMinor), theirs: String(record.theirsMinor), differenceMinor: -extra });
  }
  if (!statusAgrees(theirs, record.ours)) note('status_mismatch', { field: 'status', ours: record.ours, theirs });
  const moved = !(nothingMoved.has(theirs) && oursUndone.has(record.ours));
  const drift = record.theirsMinor - record.oursMinor;
  let withinTolerance = false;
  if (moved && drift !== 0n && outcome !== 'duplicate_on_platform') {
    if (abs(drift) <= input.tolerance.amountMinor) withinTolerance = true;
    else note('amount_mismatch', { field: 'amount', ours: String(record.oursMinor), theirs: String(record.theirsMinor), differenceMinor: drift });
  }
  if (input.compareFees && fees.length + rows.filter((row) => row.feeMinor !== 0n).length > 0) {
    const fee = feeComparison(rows, fees, record.type);
    if (abs(fee.differenceMinor) > input.tolerance.feeMinor) note('fee_mismatch', { field: 'fee', ...fee });
  }
  record.outcome = outcome ?? (late ? 'matched_late' : withinTolerance ? 'matched_within_tolerance' : 'matched');
  if (withinTolerance) differences.push({ field: 'amount', ours: String(record.oursMinor), theirs: String(record.theirsMinor), differenceMinor: drift });
  return record;
}

/**
 * The fallback for rows no key found (banks that send NONREF): a row and one of our postings of the day with the
 * same amount, direction and date pair up where each is the only one of its kind on its side; where several share
 * one, a person decides (ambiguous). Returns the rows left unmatched.
 */
function matchByAmountAndDate(rows: readonly StatementRow[], day: KeyedPostings, records: { push(record: ReconRecord): void }): StatementRow[] {
  const shape = (amount: bigint, direction: RowDirection, date: number): string => `${amount}:${direction}:${date}`;
  const ours = new Map<string, number[]>();
  for (let i = 0; i < day.postings.length; i++) {
    if (day.taken[i] === 1 || day.postings.codeClass(i) === 'fee' || oursUndone.has(day.postings.status(i))) continue;
    const posting = day.postings.row(i);
    const id = shape(posting.amountMinor, posting.direction, posting.businessDay);
    const list = ours.get(id);
    if (list === undefined) ours.set(id, [i]);
    else list.push(i);
  }
  const theirs = new Map<string, StatementRow[]>();
  for (const row of rows) {
    const id = shape(row.amountMinor, row.direction, row.valueDate || row.bookingDate);
    const list = theirs.get(id);
    if (list === undefined) theirs.set(id, [row]);
    else list.push(row);
  }
  const left: StatementRow[] = [];
  for (const [id, group] of theirs) {
    const candidates = ours.get(id) ?? [];
    if (candidates.length === 0) {
      left.push(...group);
      continue;
    }
    const postings = day.take(candidates);
    const record = recordOf(group.length === 1 && candidates.length === 1 ? 'matched' : 'ambiguous', group, postings);
    if (record.outcome === 'matched' && !statusAgrees(record.theirs!, record.ours)) {
      record.outcome = 'status_mismatch';
      record.differences.push({ field: 'status', ours: record.ours, theirs: record.theirs! });
    }
    records.push(record);
  }
  return left;
}

function emptyTotals(): Record<ReconOutcomeName, OutcomeTotals> {
  return Object.fromEntries(Object.keys(ReconOutcome).map((name) => [name, { count: 0, amountMinor: 0n }])) as Record<ReconOutcomeName, OutcomeTotals>;
}
