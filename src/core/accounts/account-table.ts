// Every account of one shard: id → slot, and one 64-byte record per slot holding everything posting
// reads or writes for that account — balances, ledger, flags, status, hot bits, history head, credits
// in the rate window — so an account touched at random costs one cache line, not eight.
// Balances are u64 minor units; status is a bit set.
// Invariant: a slot, once given, is never reused; only create-undo inside a failed chain frees the last one.

import { assert } from '../assert.js';
import { AccountHistory } from './account-history.js';
import { IdTable } from './id-table.js';
import { setU64Number, u64Number } from '../u64-words.js';
import { AccountStatus, type AccountStatusName } from '../types.js';

/** Status bits: blocks combine; closed overrides everything. */
export const StatusBits = {
  debitBlocked: 1,
  creditBlocked: 2,
  closed: 4,
} as const;

/** Position of each balance (u64) at the start of a slot's record; the first four are the history balances. */
export const Balance = {
  debitsPosted: 0,
  creditsPosted: 1,
  debitsPending: 2,
  creditsPending: 3,
  frozen: 4,
} as const;
export type BalanceField = keyof typeof Balance;
/** Balances per slot: the stride of closing balances (ClosedDay.balances, stored closings). */
export const balanceStride = 5;

export function statusName(bits: number): AccountStatusName {
  if (bits & StatusBits.closed) return 'closed';
  const debit = (bits & StatusBits.debitBlocked) !== 0;
  const credit = (bits & StatusBits.creditBlocked) !== 0;
  if (debit && credit) return 'blocked';
  if (debit) return 'debit_blocked';
  if (credit) return 'credit_blocked';
  return 'active';
}

export function statusNumber(bits: number): number {
  return AccountStatus[statusName(bits)];
}

const capacityInitial = 1024;
export const accountStaticBytes = 64;

/** Bytes of one account's record: one cache line. */
export const accountRecordBytes = 64;
/**
 * Byte offsets inside a record. Balances fill bytes 0..39 (u64 each, Balance order); the history head is a
 * double (a journal seq); the rest are the narrow per-slot fields. Bytes 60..63 are unused.
 */
export const AccountRecordLayout = {
  balances: 0,
  ledger: 40, // u32
  flags: 44, // u16 AccountFlags
  status: 46, // u8 StatusBits
  hot: 47, // u8 HotBits (core/hot/hot-inbound.ts)
  historyHead: 48, // f64: epoch (flush_history seq) of the newest stored history run, or -1
  creditsInWindow: 56, // u32: credits in the current rate window (core/hot/hot-inbound.ts)
} as const;
const R = AccountRecordLayout;
/** u32 words per record: the stride of `words`, where a balance is the pair (low, high) at 2 × field. */
export const recordWords = accountRecordBytes / 4;

/** Index in AccountTable.words of the low word of balance `field` (a Balance value) of `slot`; the high word follows. */
export function balanceWordIndex(slot: number, field: number): number {
  return slot * recordWords + field * 2;
}
const recordWords64 = accountRecordBytes / 8;

export class AccountTable {
  private readonly slots = new IdTable();
  count = 0;
  /**
   * Slots ever given (≥ count): a slot a create-undo freed keeps words that matter when it is given again
   * (its credits in the rate window), so a checkpoint copies the records through here, not through count.
   */
  slotsGiven = 0;
  capacity = capacityInitial;
  /** The records, as u32 words: slot s starts at s * recordWords. Balance words are read without creating BigInts. */
  words = new Uint32Array(capacityInitial * recordWords);
  private records64 = new BigUint64Array(this.words.buffer);
  private doubles = new Float64Array(this.words.buffer);
  private halves = new Uint16Array(this.words.buffer);
  private bytes = new Uint8Array(this.words.buffer);
  /** The account record's caller-set fields and timestamp (bytes 0..63), so lookups never read the journal. */
  statics = new Uint8Array(capacityInitial * accountStaticBytes);
  /** A view of `statics`, replaced with it when the table grows (ids read in place: no view per lookup). */
  staticsView = new DataView(this.statics.buffer);
  /** Journal locations of the transfers that touched each account, in posting order. */
  readonly history = new AccountHistory(this);

  /** The slot of the account whose id is at `at`, or -1. */
  slotAt(view: DataView, at: number): number {
    return this.slots.getAt(view, at);
  }

  balance(field: BalanceField, slot: number): bigint {
    return this.records64[slot * recordWords64 + Balance[field]]!;
  }

  /** Only LedgerState changes balances (it keeps the totals and the undo). */
  setBalance(field: BalanceField, slot: number, value: bigint): void {
    this.records64[slot * recordWords64 + Balance[field]] = value;
  }

  /** Balance `field` (a Balance value) as an exact number, or Infinity when it is 2^53 or more (core/u64-words.ts). */
  balanceNumber(field: number, slot: number): number {
    return u64Number(this.words, balanceWordIndex(slot, field));
  }

  /** Sets balance `field` (a Balance value) to `value`, an integer in 0..2^53 − 1. Only LedgerState changes balances. */
  setBalanceNumber(field: number, slot: number, value: number): void {
    setU64Number(this.words, balanceWordIndex(slot, field), value);
  }

  ledgerOf(slot: number): number {
    return this.words[slot * recordWords + R.ledger / 4]!;
  }

  /** AccountFlags, as created (they never change). */
  flagsOf(slot: number): number {
    return this.halves[slot * (accountRecordBytes / 2) + R.flags / 2]!;
  }

  /** StatusBits. */
  statusOf(slot: number): number {
    return this.bytes[slot * accountRecordBytes + R.status]!;
  }

  setStatus(slot: number, bits: number): void {
    this.bytes[slot * accountRecordBytes + R.status] = bits;
  }

  /** HotBits (core/hot/hot-inbound.ts). */
  hotOf(slot: number): number {
    return this.bytes[slot * accountRecordBytes + R.hot]!;
  }

  setHot(slot: number, bits: number): void {
    this.bytes[slot * accountRecordBytes + R.hot] = bits;
  }

  /** The epoch of the account's newest stored history run, or -1 (kept by AccountHistory). */
  historyHead(slot: number): number {
    return this.doubles[slot * recordWords64 + R.historyHead / 8]!;
  }

  setHistoryHead(slot: number, epoch: number): void {
    this.doubles[slot * recordWords64 + R.historyHead / 8] = epoch;
  }

  /** Credits to the account in the current rate window (kept by CreditRates). */
  creditsInWindow(slot: number): number {
    return this.words[slot * recordWords + R.creditsInWindow / 4]!;
  }

  setCreditsInWindow(slot: number, credits: number): void {
    this.words[slot * recordWords + R.creditsInWindow / 4] = credits;
  }

  /** Every slot's balances in Balance order, balanceStride per slot (the closing balances of a day). */
  balancesBySlot(): BigUint64Array {
    const balances = new BigUint64Array(this.count * balanceStride);
    const to = new Uint32Array(balances.buffer);
    const wordsPerSlot = balanceStride * 2;
    // Copied as raw words: no BigInt per balance, no view per slot.
    for (let slot = 0; slot < this.count; slot++) {
      for (let w = 0; w < wordsPerSlot; w++) to[slot * wordsPerSlot + w] = this.words[slot * recordWords + w]!;
    }
    return balances;
  }

  /** `at` is the start of the account record (its id). */
  add(view: DataView, at: number, ledger: number, flags: number): number {
    assert(this.slots.getAt(view, at) === -1, 'account added twice');
    if (this.count === this.capacity) this.grow();
    const slot = this.count++;
    if (this.count > this.slotsGiven) this.slotsGiven = this.count;
    this.slots.setAt(view, at, slot);
    // A slot freed by a create-undo may be given again. Its balances are zero (removeLast asserts it) and
    // its credits in the rate window stay: a chain's credits are counted even when the chain is undone.
    this.words[slot * recordWords + R.ledger / 4] = ledger;
    this.halves[slot * (accountRecordBytes / 2) + R.flags / 2] = flags;
    this.setStatus(slot, 0);
    this.setHot(slot, 0);
    this.setHistoryHead(slot, -1);
    this.statics.set(new Uint8Array(view.buffer, view.byteOffset + at, accountStaticBytes), slot * accountStaticBytes);
    return slot;
  }

  /** Undo of the most recent add (a failed linked chain). */
  removeLast(view: DataView, at: number): void {
    const slot = this.slots.getAt(view, at);
    assert(slot === this.count - 1, 'only the newest account can be removed');
    for (let f = 0; f < balanceStride; f++) assert(this.records64[slot * recordWords64 + f] === 0n, 'removed account has balances');
    this.slots.deleteAt(view, at);
    this.count--;
  }

  /**
   * A fresh table takes a checkpoint's records: `words` (recordWords per slot) and `statics` of the slots given,
   * of which the first `count` are accounts; the id → slot table is rebuilt from the statics (the id leads them).
   */
  restore(count: number, slotsGiven: number, words: Uint32Array, statics: Uint8Array): void {
    assert(this.count === 0 && this.slotsGiven === 0, 'records are restored into an empty table');
    assert(count <= slotsGiven && words.length === slotsGiven * recordWords && statics.length === slotsGiven * accountStaticBytes, 'restored records cover the slots given');
    while (this.capacity < slotsGiven) this.grow();
    this.words.set(words);
    this.statics.set(statics);
    for (let slot = 0; slot < count; slot++) this.slots.setAt(this.staticsView, slot * accountStaticBytes, slot);
    this.count = count;
    this.slotsGiven = slotsGiven;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const words = new Uint32Array(capacity * recordWords);
    words.set(this.words);
    this.words = words;
    this.records64 = new BigUint64Array(words.buffer);
    this.doubles = new Float64Array(words.buffer);
    this.halves = new Uint16Array(words.buffer);
    this.bytes = new Uint8Array(words.buffer);
    const statics = new Uint8Array(capacity * accountStaticBytes);
    statics.set(this.statics);
    this.statics = statics;
    this.staticsView = new DataView(statics.buffer);
    this.capacity = capacity;
  }
}
