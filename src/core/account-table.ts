// Every account of one shard: id → slot, and per-slot balances in typed arrays (compact and
// fast at millions of accounts). Balances are u64 minor units; status is a bit set.
// Invariant: a slot, once given, is never reused; only create-undo inside a failed chain frees the last one.

import { assert } from './assert.js';
import { IdMap } from './id-map.js';
import { AccountStatus, type AccountStatusName } from './types.js';

/** Status bits: blocks combine; closed overrides everything. */
export const StatusBits = {
  debitBlocked: 1,
  creditBlocked: 2,
  closed: 4,
} as const;

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

export class AccountTable {
  private readonly slots = new IdMap<number>();
  count = 0;
  capacity = capacityInitial;
  debitsPosted = new BigUint64Array(capacityInitial);
  creditsPosted = new BigUint64Array(capacityInitial);
  debitsPending = new BigUint64Array(capacityInitial);
  creditsPending = new BigUint64Array(capacityInitial);
  frozen = new BigUint64Array(capacityInitial);
  ledger = new Uint32Array(capacityInitial);
  flags = new Uint16Array(capacityInitial);
  status = new Uint8Array(capacityInitial);
  /** Journal location of the event that created the account (its static fields live there). */
  location = new Float64Array(capacityInitial);
  /** Journal locations of the transfers that touched each account, in posting order. */
  history: number[][] = [];

  slotOf(key: string): number | undefined {
    return this.slots.get(key);
  }

  add(key: string, ledger: number, flags: number, location: number): number {
    assert(!this.slots.has(key), 'account added twice');
    if (this.count === this.capacity) this.grow();
    const slot = this.count++;
    this.slots.set(key, slot);
    this.ledger[slot] = ledger;
    this.flags[slot] = flags;
    this.status[slot] = 0;
    this.location[slot] = location;
    this.history[slot] = [];
    return slot;
  }

  /** Undo of the most recent add (a failed linked chain). */
  removeLast(key: string): void {
    const slot = this.slots.get(key);
    assert(slot === this.count - 1, 'only the newest account can be removed');
    assert(this.debitsPosted[slot] === 0n && this.creditsPosted[slot] === 0n, 'removed account has balances');
    assert(this.debitsPending[slot] === 0n && this.creditsPending[slot] === 0n, 'removed account has pending');
    this.slots.delete(key);
    this.history.pop();
    this.count--;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const big = (old: BigUint64Array) => {
      const next = new BigUint64Array(capacity);
      next.set(old);
      return next;
    };
    this.debitsPosted = big(this.debitsPosted);
    this.creditsPosted = big(this.creditsPosted);
    this.debitsPending = big(this.debitsPending);
    this.creditsPending = big(this.creditsPending);
    this.frozen = big(this.frozen);
    const ledger = new Uint32Array(capacity);
    ledger.set(this.ledger);
    this.ledger = ledger;
    const flags = new Uint16Array(capacity);
    flags.set(this.flags);
    this.flags = flags;
    const status = new Uint8Array(capacity);
    status.set(this.status);
    this.status = status;
    const location = new Float64Array(capacity);
    location.set(this.location);
    this.location = location;
    this.capacity = capacity;
  }
}
