// Vouchers (记账凭证): the posted money one journal entry moved, as debit and credit lines summed per
// account and side (a summary voucher, 汇总凭证), plus the accounts it opened and the day it begins.
// Invariant: every voucher balances per ledger. Pure: reads entry bytes only, never changes them.

import type { AccountCodes } from './account-codes.js';
import { assert } from '../assert.js';
import { isBusinessDay } from '../business-day.js';
import { eventOffset, isCreditHalfResult, readJournalHeader, resultsOffset, trailerOffset, type JournalEntryHeader } from '../posting/journal-entry.js';
import { AccountLayout as A, TransferLayout as T, resultBytes } from '../layout.js';
import { eventBytes, shardCountMax } from '../limits.js';
import { JournalEntryKind } from '../operations.js';
import { shardOfIdAt } from '../routing.js';
import { SystemAccountCode, SystemAccountKind, systemAccountId, type SystemAccountKindNumber } from '../accounts/system-accounts.js';
import { InstructionKind, InstructionLayout as I, instructionMovesMoney } from '../transit/transit.js';
import { TransferFlags, transferKindFlags } from '../types.js';
import { idKey, idKeyAt, readU128 } from '../u128.js';

export { AccountCodes } from './account-codes.js';

export type VoucherSide = 'debit' | 'credit';

export interface VoucherLine {
  accountId: bigint;
  ledger: number;
  side: VoucherSide;
  /** Sum over the entry's postings to this account on this side; always positive. */
  amount: bigint;
}

export interface CreatedAccount {
  id: bigint;
  ledger: number;
  code: number;
}

export interface Voucher {
  seq: number;
  operation: number;
  /** The header's business day: the day the entry's postings belong to (0 before the first cut). */
  businessDay: number;
  /** Day-cut entries only: the business day that begins at this entry (yyyymmdd). */
  businessDayBegins?: number;
  /** Accounts this entry opened (create_accounts events that succeeded), in event order. */
  accountsCreated: CreatedAccount[];
  /** Debit lines in the order their accounts first appear, then credit lines likewise. */
  lines: VoucherLine[];
}

/** A running sum for one (account, side) while an entry is read; the id stays a string key until the end. */
interface LineSum {
  ledger: number;
  amount: bigint;
}

/** Reserved high word of system account ids (see system-accounts.ts): callers can never create them. */
const systemIdHighWord = 0xffffffffn;
const systemKindShift = 48n;
const systemShardShift = 32n;
/** Distinct system ids remembered: ledgers × shard pairs in use stay far below; past it the cache restarts. */
const systemKeyCacheMax = 65_536;

/** System id keys computed so far for the current shard count (finding an id's nonce costs hash rounds). */
const systemKeyCache = new Map<number, string>();
let systemKeyCacheShardCount = 0;

/** The map key of a system account id; the same key idKeyAt gives over its bytes. */
function systemKey(kind: SystemAccountKindNumber, ledger: number, from: number, to: number, shardCount: number): string {
  if (shardCount !== systemKeyCacheShardCount || systemKeyCache.size >= systemKeyCacheMax) {
    systemKeyCache.clear();
    systemKeyCacheShardCount = shardCount;
  }
  // kind < 4, from and to < shardCountMax (64): at most 2 + 32 + 6 + 6 = 46 bits, exact in a double.
  const cacheKey = ((kind * 0x1_0000_0000 + ledger) * shardCountMax + from) * shardCountMax + to;
  let key = systemKeyCache.get(cacheKey);
  if (key === undefined) {
    key = idKey(systemAccountId(kind, ledger, from, to, shardCount));
    systemKeyCache.set(cacheKey, key);
  }
  return key;
}

/** The id whose idKeyAt key is `key` (eight little-endian u16 code units). */
function idOfKey(key: string): bigint {
  assert(key.length === 8, 'an id key has eight code units');
  let id = 0n;
  for (let i = 7; i >= 0; i--) id = (id << 16n) | BigInt(key.charCodeAt(i));
  return id;
}

/** The chart's account code of a system account id (transit 9100, suspense 9200), or undefined for any other id. */
export function accountCodeOfSystemId(id: bigint): number | undefined {
  if (id >> 96n !== systemIdHighWord) return undefined;
  const kind = Number((id >> systemKindShift) & 0xffn);
  if (kind === SystemAccountKind.transitOut || kind === SystemAccountKind.transitIn) return SystemAccountCode.transit;
  if (kind === SystemAccountKind.suspense) return SystemAccountCode.suspense;
  return undefined;
}

/** The shard a system account lives on (transit-out and suspense: `from`; transit-in: `to`), or undefined. */
export function homeShardOfSystemId(id: bigint): number | undefined {
  if (accountCodeOfSystemId(id) === undefined) return undefined;
  const kind = Number((id >> systemKindShift) & 0xffn);
  const from = Number((id >> systemShardShift) & 0xffn);
  const to = Number((id >> (systemShardShift + 8n)) & 0xffn);
  return kind === SystemAccountKind.transitIn ? to : from;
}

/** Sums of one entry's lines, keyed by account id key: one map per side. */
class LineSums {
  readonly debits = new Map<string, LineSum>();
  readonly credits = new Map<string, LineSum>();

  add(sums: Map<string, LineSum>, key: string, ledger: number, amount: bigint): void {
    const sum = sums.get(key);
    if (sum === undefined) {
      sums.set(key, { ledger, amount });
      return;
    }
    // Accounts on two ledgers share no transfer, so one key always carries one ledger.
    assert(sum.ledger === ledger, 'an account posts on one ledger');
    sum.amount += amount;
  }

  lines(): VoucherLine[] {
    const lines: VoucherLine[] = [];
    for (const [key, sum] of this.debits) lines.push({ accountId: idOfKey(key), ledger: sum.ledger, side: 'debit', amount: sum.amount });
    for (const [key, sum] of this.credits) lines.push({ accountId: idOfKey(key), ledger: sum.ledger, side: 'credit', amount: sum.amount });
    return lines;
  }
}

function isOk(view: DataView, count: number, index: number): boolean {
  // The low 16 bits are the result code; the high 16 a detail (e.g. where a return went).
  return view.getUint16(resultsOffset(count) + index * resultBytes, true) === 0;
}

/** Kinds that move posted money; a hold (pending) and its void move only pending balances. */
/** Whether event `index` is the credit half of another shard's transfer (core/chains/prepared-chains.ts). */
function isCreditHalfAt(view: DataView, count: number, index: number): boolean {
  return isCreditHalfResult(view.getUint32(resultsOffset(count) + index * resultBytes, true));
}

function movesPostedMoney(kind: number): boolean {
  return kind === 0 || kind === TransferFlags.post_pending || kind === TransferFlags.reversal || kind === TransferFlags.unfreeze_and_pay;
}

/** create_transfers: payer debited; payee credited here, or this shard's transit-out half when the payee lives elsewhere. */
function addTransferLines(sums: LineSums, view: DataView, count: number, shardIndex: number, shardCount: number): void {
  for (let i = 0; i < count; i++) {
    const at = eventOffset(i);
    if (!isOk(view, count, i) || !movesPostedMoney(view.getUint16(at + T.flags, true) & transferKindFlags)) continue;
    const ledger = view.getUint32(at + T.ledger, true);
    const amount = view.getBigUint64(at + T.amountEffective, true);
    assert(amount > 0n, 'a posted transfer moves a positive amount');
    if (isCreditHalfAt(view, count, i)) {
      // Another shard's transfer whose credit this shard carried in a chain group: booked as its credit landing.
      const from = shardOfIdAt(view, at + T.debitAccountId, shardCount);
      sums.add(sums.debits, systemKey(SystemAccountKind.transitIn, ledger, from, shardIndex, shardCount), ledger, amount);
      sums.add(sums.credits, idKeyAt(view, at + T.creditAccountId), ledger, amount);
      continue;
    }
    sums.add(sums.debits, idKeyAt(view, at + T.debitAccountId), ledger, amount);
    const creditShard = shardCount === 1 ? shardIndex : shardOfIdAt(view, at + T.creditAccountId, shardCount);
    const creditKey =
      creditShard === shardIndex ? idKeyAt(view, at + T.creditAccountId) : systemKey(SystemAccountKind.transitOut, ledger, shardIndex, creditShard, shardCount);
    sums.add(sums.credits, creditKey, ledger, amount);
  }
}

/** apply_inbound: a credit debits transit-in (from → here), a return debits transit-out (here → from); the record's credit account is credited. */
function addInboundLines(sums: LineSums, view: DataView, count: number, shardIndex: number, shardCount: number): void {
  for (let i = 0; i < count; i++) {
    if (!isOk(view, count, i)) continue;
    const at = eventOffset(i);
    // InstructionLayout offsets count from the record's start; the journal keeps trailers apart.
    const trailer = trailerOffset(count, i) - eventBytes;
    const from = view.getUint16(trailer + I.fromShard, true);
    const kind = view.getUint16(trailer + I.kind, true);
    if (!instructionMovesMoney(kind)) continue; // a hold shown or taken off here moves no money
    assert(view.getUint16(trailer + I.toShard, true) === shardIndex, 'an inbound instruction was addressed to this shard');
    assert(from !== shardIndex && from < shardCount, 'an inbound instruction comes from another shard');
    const ledger = view.getUint32(at + T.ledger, true);
    const amount = view.getBigUint64(at + T.amountEffective, true);
    assert(amount > 0n, 'an instruction moves a positive amount');
    let transitKey: string;
    if (kind === InstructionKind.credit) transitKey = systemKey(SystemAccountKind.transitIn, ledger, from, shardIndex, shardCount);
    else {
      assert(kind === InstructionKind.return, 'instruction kind is credit or return');
      transitKey = systemKey(SystemAccountKind.transitOut, ledger, shardIndex, from, shardCount);
    }
    sums.add(sums.debits, transitKey, ledger, amount);
    // A return diverted to suspense was journaled with the suspense id as its credit account.
    sums.add(sums.credits, idKeyAt(view, at + T.creditAccountId), ledger, amount);
  }
}

function accountsCreatedOf(view: DataView, count: number): CreatedAccount[] {
  const created: CreatedAccount[] = [];
  for (let i = 0; i < count; i++) {
    if (!isOk(view, count, i)) continue;
    const at = eventOffset(i);
    created.push({ id: readU128(view, at + A.id), ledger: view.getUint32(at + A.ledger, true), code: view.getUint16(at + A.code, true) });
  }
  return created;
}

/** Σ debit lines = Σ credit lines on every ledger the voucher touches. */
function assertBalanced(lines: readonly VoucherLine[], seq: number): void {
  const net = new Map<number, bigint>();
  for (const line of lines) {
    assert(line.amount > 0n, 'a voucher line moves a positive amount');
    const signed = line.side === 'debit' ? line.amount : -line.amount;
    net.set(line.ledger, (net.get(line.ledger) ?? 0n) + signed);
  }
  for (const [ledger, difference] of net) assert(difference === 0n, `voucher ${seq} balances on ledger ${ledger}`);
}

/** For an entry that moves no posted money: the day a day_cut begins, else undefined (after checking the operation). */
function dayBegun({ operation, count, seq, businessDay }: JournalEntryHeader): number | undefined {
  if (operation === JournalEntryKind.day_cut) {
    assert(count === 0 && isBusinessDay(businessDay), `day cut ${seq} names a business day`);
    return businessDay;
  }
  // Account operations move frozen and status only; expiry releases pending balances only; a vote on
  // cross-shard chains and its abort move nothing (a commit is an ordinary entry of its operation).
  const movesNoPostedMoney =
    operation === JournalEntryKind.account_operations ||
    operation === JournalEntryKind.expire_pending ||
    operation === JournalEntryKind.prepare_chains ||
    operation === JournalEntryKind.abort_chains ||
    // A hot-inbound summary applies credits whose transfers were booked when they were accepted.
    operation === JournalEntryKind.apply_hot_inbound ||
    // A history flush moves the shard's history index to disk: no money at all.
    operation === JournalEntryKind.flush_history;
  assert(movesNoPostedMoney, `journal operation ${operation} is known`);
  return undefined;
}

/** The voucher of one journal entry of shard `shardIndex` (of `shardCount`). */
export function voucherOf(entry: Uint8Array, shardIndex: number, shardCount: number): Voucher {
  assert(Number.isInteger(shardCount) && shardCount >= 1 && shardCount <= shardCountMax, 'shardCount within 1..shardCountMax');
  assert(Number.isInteger(shardIndex) && shardIndex >= 0 && shardIndex < shardCount, 'shardIndex within the shard count');
  const header = readJournalHeader(entry);
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const { operation, count, seq, businessDay } = header;
  const voucher: Voucher = { seq, operation, businessDay, accountsCreated: [], lines: [] };
  if (operation === JournalEntryKind.create_accounts) voucher.accountsCreated = accountsCreatedOf(view, count);
  else if (operation === JournalEntryKind.create_transfers || operation === JournalEntryKind.apply_inbound) {
    const sums = new LineSums();
    if (operation === JournalEntryKind.create_transfers) addTransferLines(sums, view, count, shardIndex, shardCount);
    else addInboundLines(sums, view, count, shardIndex, shardCount);
    voucher.lines = sums.lines();
    assertBalanced(voucher.lines, seq);
  } else {
    const begins = dayBegun(header);
    if (begins !== undefined) voucher.businessDayBegins = begins;
  }
  return voucher;
}

// ---- vouchers by subject: the bookkeeping shard's fast path -------------------------------------

/** One line of a voucher summed per ledger, account code (→ subject) and side. */
export interface SubjectLine {
  ledger: number;
  code: number;
  side: VoucherSide;
  amount: bigint;
}

export interface SubjectVoucher {
  seq: number;
  operation: number;
  businessDay: number;
  businessDayBegins?: number;
  lines: SubjectLine[];
}

/**
 * Events one entry may sum into a subject line: each adds at most 2^32 − 1 to a limb, so a limb stays
 * below 2^53 (exact in a double) through 2^21 events; a batch holds far fewer (batchEventsMax).
 */
const limbEventsMax = 2 ** 21;
const limbBase = 0x1_0000_0000;
/** Up to this many keys a scan finds a key sooner than the map does (measured); an entry's keys are usually a handful. */
const subjectKeysScannedMax = 16;

/**
 * Sums keyed by ledger, code and side packed into one number (ledger < 2^32, code < 2^16, side 1 bit), in
 * the order each key first appears. Amounts are summed as two number limbs (the low and high 32 bits of
 * each u64), joined into one bigint per line at the end: no bigint per event. A batch usually names one
 * ledger and few codes, so each side remembers its last key and looks a key up only when it changes.
 */
class SubjectSums {
  readonly #indexOfKey = new Map<number, number>();
  readonly #keys: number[] = [];
  readonly #lows: number[] = [];
  readonly #highs: number[] = [];
  readonly #lastKey = [-1, -1];
  readonly #lastIndex = [-1, -1];

  constructor(count: number) {
    assert(count <= limbEventsMax, 'an entry small enough for exact number limbs');
  }

  /** Adds the u64 `high` × 2^32 + `low` (each a u32) to the line of (ledger, code, side). */
  add(ledger: number, code: number, side: 0 | 1, low: number, high: number): void {
    const key = (ledger * 0x1_0000 + code) * 2 + side;
    let index = this.#lastIndex[side]!;
    if (this.#lastKey[side] !== key) {
      index = this.#indexOf(key);
      this.#lastKey[side] = key;
      this.#lastIndex[side] = index;
    }
    this.#lows[index] += low;
    this.#highs[index] += high;
  }

  lines(): SubjectLine[] {
    return this.#keys.map((key, index) => {
      const side = key % 2;
      const code = Math.floor(key / 2) % 0x1_0000;
      const ledger = Math.floor(key / 2 / 0x1_0000);
      const amount = BigInt(this.#highs[index]!) * BigInt(limbBase) + BigInt(this.#lows[index]!);
      return { ledger, code, side: side === 0 ? 'debit' : 'credit', amount };
    });
  }

  #indexOf(key: number): number {
    const keys = this.#keys;
    if (keys.length <= subjectKeysScannedMax) {
      for (let index = 0; index < keys.length; index++) if (keys[index] === key) return index;
    } else {
      const known = this.#indexOfKey.get(key);
      if (known !== undefined) return known;
    }
    const index = this.#keys.length;
    this.#indexOfKey.set(key, index);
    this.#keys.push(key);
    this.#lows.push(0);
    this.#highs.push(0);
    return index;
  }
}

/**
 * The voucher of one journal entry summed by subject: the same money as voucherOf, without per-account
 * lines (the shards keep the detail accounts; 总分核对 compares the two). Learns accounts as it goes.
 */
export function subjectVoucherOf(entry: Uint8Array, shardIndex: number, shardCount: number, codes: AccountCodes): SubjectVoucher {
  assert(codes.shardCount === shardCount, 'account codes made for this shard count');
  const header = readJournalHeader(entry);
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const { operation, count, seq, businessDay } = header;
  const voucher: SubjectVoucher = { seq, operation, businessDay, lines: [] };
  if (operation === JournalEntryKind.create_accounts) codes.learn(entry);
  else if (operation === JournalEntryKind.create_transfers || operation === JournalEntryKind.apply_inbound) {
    const sums = new SubjectSums(count);
    if (operation === JournalEntryKind.create_transfers) addTransferSubjects(sums, view, count, shardIndex, codes);
    else addInboundSubjects(sums, view, count, codes);
    voucher.lines = sums.lines();
    assertSubjectsBalanced(voucher.lines, seq);
  } else {
    const begins = dayBegun(header);
    if (begins !== undefined) voucher.businessDayBegins = begins;
  }
  return voucher;
}

/** create_transfers: the payer's code debited; the payee's code credited here, or transit when the payee lives on another shard (codes knows the shard count). */
function addTransferSubjects(sums: SubjectSums, view: DataView, count: number, shardIndex: number, codes: AccountCodes): void {
  for (let i = 0; i < count; i++) {
    const at = eventOffset(i);
    if (!isOk(view, count, i) || !movesPostedMoney(view.getUint16(at + T.flags, true) & transferKindFlags)) continue;
    const ledger = view.getUint32(at + T.ledger, true);
    const low = view.getUint32(at + T.amountEffective, true);
    const high = view.getUint32(at + T.amountEffective + 4, true);
    // A credit half carried for another shard's transfer (chain groups): its credit landing, from transit.
    const debitCode = isCreditHalfAt(view, count, i) ? SystemAccountCode.transit : codes.codeAt(view, at + T.debitAccountId);
    sums.add(ledger, debitCode, 0, low, high);
    sums.add(ledger, codes.codeIfOnShardAt(view, at + T.creditAccountId, shardIndex, SystemAccountCode.transit), 1, low, high);
  }
}

/** apply_inbound: a credit debits transit-in, a return transit-out (both transit halves); the record's credit account is credited. */
function addInboundSubjects(sums: SubjectSums, view: DataView, count: number, codes: AccountCodes): void {
  for (let i = 0; i < count; i++) {
    if (!isOk(view, count, i)) continue;
    // InstructionLayout offsets count from the record's start; the journal keeps trailers apart.
    if (!instructionMovesMoney(view.getUint16(trailerOffset(count, i) - eventBytes + I.kind, true))) continue; // holds move no money
    const at = eventOffset(i);
    const ledger = view.getUint32(at + T.ledger, true);
    const low = view.getUint32(at + T.amountEffective, true);
    const high = view.getUint32(at + T.amountEffective + 4, true);
    sums.add(ledger, SystemAccountCode.transit, 0, low, high);
    sums.add(ledger, codes.codeAt(view, at + T.creditAccountId), 1, low, high);
  }
}

function assertSubjectsBalanced(lines: readonly SubjectLine[], seq: number): void {
  const net = new Map<number, bigint>();
  for (const line of lines) net.set(line.ledger, (net.get(line.ledger) ?? 0n) + (line.side === 'debit' ? line.amount : -line.amount));
  for (const [ledger, difference] of net) assert(difference === 0n, `voucher ${seq} balances on ledger ${ledger}`);
}
