// Every account of one shard: id → slot, and per-slot balances interleaved in one typed array
// (compact at millions of accounts, and the four posted/pending balances of a slot can be
// copied as raw words). Balances are u64 minor units; status is a bit set.
// Invariant: a slot, once given, is never reused; only create-undo inside a failed chain frees the last one.

import { assert } from './assert.js';
import { AccountHistory } from './account-history.js';
import { IdTable } from './id-table.js';
import { AccountStatus, type AccountStatusName } from './types.js';

/** Status bits: blocks combine; closed overrides everything. */
export const StatusBits = {
  debitBlocked: 1,
  creditBlocked: 2,
  closed: 4,
} as const;

/** Position of each balance inside a slot's stride; the first four are the history balances. */
export const Balance = {
  debitsPosted: 0,
  creditsPosted: 1,
  debitsPending: 2,
  creditsPending: 3,
  frozen: 4,
} as const;
export type BalanceField = keyof typeof Balance;
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

export class AccountTable {
  private readonly slots = new IdTable();
  count = 0;
  capacity = capacityInitial;
  /** Balances of slot s at [s * balanceStride + Balance.field]. */
  balances = new BigUint64Array(capacityInitial * balanceStride);
  /** The same bytes as u32 words, for copying balances without creating BigInts. */
  balanceWords = new Uint32Array(this.balances.buffer);
  ledger = new Uint32Array(capacityInitial);
  flags = new Uint16Array(capacityInitial);
  status = new Uint8Array(capacityInitial);
  /** HotBits (core/hot-inbound.ts) per slot. */
  hot = new Uint8Array(capacityInitial);
  /** The account record's caller-set fields and timestamp (bytes 0..63), so lookups never read the journal. */
  statics = new Uint8Array(capacityInitial * accountStaticBytes);
  /** Journal locations of the transfers that touched each account, in posting order. */
  readonly history = new AccountHistory();

  /** The slot of the account whose id is at `at`, or -1. */
  slotAt(view: DataView, at: number): number {
    return this.slots.getAt(view, at);
  }

  balance(field: BalanceField, slot: number): bigint {
    return this.balances[slot * balanceStride + Balance[field]]!;
  }

  /** `at` is the start of the account record (its id). */
  add(view: DataView, at: number, ledger: number, flags: number): number {
    assert(this.slots.getAt(view, at) === -1, 'account added twice');
    if (this.count === this.capacity) this.grow();
    const slot = this.count++;
    this.slots.setAt(view, at, slot);
    this.ledger[slot] = ledger;
    this.flags[slot] = flags;
    this.status[slot] = 0;
    this.hot[slot] = 0;
    this.statics.set(new Uint8Array(view.buffer, view.byteOffset + at, accountStaticBytes), slot * accountStaticBytes);
    return slot;
  }

  /** Undo of the most recent add (a failed linked chain). */
  removeLast(view: DataView, at: number): void {
    const slot = this.slots.getAt(view, at);
    assert(slot === this.count - 1, 'only the newest account can be removed');
    for (let f = 0; f < balanceStride; f++) assert(this.balances[slot * balanceStride + f] === 0n, 'removed account has balances');
    this.slots.deleteAt(view, at);
    this.count--;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const balances = new BigUint64Array(capacity * balanceStride);
    balances.set(this.balances);
    this.balances = balances;
    this.balanceWords = new Uint32Array(balances.buffer);
    const ledger = new Uint32Array(capacity);
    ledger.set(this.ledger);
    this.ledger = ledger;
    const flags = new Uint16Array(capacity);
    flags.set(this.flags);
    this.flags = flags;
    const status = new Uint8Array(capacity);
    status.set(this.status);
    this.status = status;
    const hot = new Uint8Array(capacity);
    hot.set(this.hot);
    this.hot = hot;
    const statics = new Uint8Array(capacity * accountStaticBytes);
    statics.set(this.statics);
    this.statics = statics;
    this.capacity = capacity;
  }
}
