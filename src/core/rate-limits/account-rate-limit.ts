// The per-account rate limit on create_transfers: at most `eventsPerSecond` transfer events per account
// (as debit or credit) in each one-second window, so one hot or abusive account cannot starve the rest.
// Decides before the ledger sees a batch: refused events never reach it, so they are not remembered as
// failed ids and a later retry can succeed. A linked chain is admitted or refused whole. Pure: the caller
// passes the time; memory is bounded by accountRateTrackedMax accounts per window.

import { assert } from '../assert.js';
import { TransferLayout, resultBytes } from '../layout.js';
import { accountRateTrackedMax, eventBytes, eventsPerSecondMax } from '../limits.js';
import { ResultCode } from '../result-codes.js';
import { TransferFlags } from '../types.js';
import { idKeyAt } from '../u128.js';

/** A batch some of whose events were refused: what goes on to the ledger, and how to answer the caller. */
export interface AccountRateDecision {
  /** The admitted events (whole chains, in request order), or null when every event was refused. */
  readonly admitted: Uint8Array | null;
  /** Index in the request of each admitted event, in order. */
  readonly admittedIndexes: readonly number[];
  /** N × 4 B results: `rate_limited` / `linked_event_failed` for refused events; admitted slots are filled by merge. */
  readonly results: Uint8Array;
}

export class AccountRateLimiter {
  /** Events counted this window per account key (core/u128 idKeyAt). Cleared when the second changes. */
  readonly #counts = new Map<string, number>();
  #windowSecond = Number.NEGATIVE_INFINITY;
  /** Accounts charged by the chain being decided, so a refused chain gives its charges back. */
  readonly #charged: string[] = [];

  constructor(
    readonly eventsPerSecond: number,
    readonly trackedMax = accountRateTrackedMax,
  ) {
    assert(Number.isInteger(eventsPerSecond) && eventsPerSecond >= 1 && eventsPerSecond <= eventsPerSecondMax, 'an account rate is in 1..eventsPerSecondMax');
    assert(Number.isInteger(trackedMax) && trackedMax >= 1, 'the window tracks at least one account');
  }

  /** Accounts counted in the current window (for tests: the bound holds). */
  get trackedAccounts(): number {
    return this.#counts.size;
  }

  /**
   * Charges the events of a create_transfers body (N × 128 B, already size-checked) and returns null when
   * every event may go on, else which events go on and the refusals. A chain left open at the end of the
   * batch is passed on uncharged: the ledger refuses it whole anyway (linked_event_chain_open).
   */
  admit(body: Uint8Array, nowMs: number): AccountRateDecision | null {
    assert(body.byteLength % eventBytes === 0 && body.byteLength > 0, 'a create_transfers body is whole records');
    this.#enterWindow(nowMs);
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const count = body.byteLength / eventBytes;
    let results: Uint8Array | null = null;
    let chainStart = 0;
    for (let i = 0; i < count; i++) {
      const linked = (view.getUint16(i * eventBytes + TransferLayout.flags, true) & TransferFlags.linked) !== 0;
      if (linked && i < count - 1) continue;
      if (linked) break; // an open chain: the ledger's to refuse
      const refusedAt = this.#chargeChain(view, chainStart, i);
      if (refusedAt >= 0) {
        results ??= new Uint8Array(count * resultBytes);
        refuseChain(results, chainStart, i, refusedAt);
      }
      chainStart = i + 1;
    }
    return results === null ? null : decision(body, results);
  }

  /** Starts a new window when the second has changed (a clock stepping back starts one too). */
  #enterWindow(nowMs: number): void {
    assert(Number.isFinite(nowMs), 'time is a finite number of ms');
    const second = Math.floor(nowMs / 1000);
    if (second === this.#windowSecond) return;
    this.#counts.clear();
    this.#windowSecond = second;
  }

  /** Charges events first..last; returns -1, or the index of the first event over the limit (the chain's charges given back). */
  #chargeChain(view: DataView, first: number, last: number): number {
    this.#charged.length = 0;
    for (let i = first; i <= last; i++) {
      const at = i * eventBytes;
      const debit = idKeyAt(view, at + TransferLayout.debitAccountId);
      const credit = idKeyAt(view, at + TransferLayout.creditAccountId);
      if (this.#over(debit) || (credit !== debit && this.#over(credit))) {
        for (const key of this.#charged) this.#counts.set(key, this.#counts.get(key)! - 1);
        return i;
      }
      this.#charge(debit);
      if (credit !== debit) this.#charge(credit);
    }
    return -1;
  }

  #over(key: string): boolean {
    return (this.#counts.get(key) ?? 0) >= this.eventsPerSecond;
  }

  /** Counts one event for `key`; an account first seen once the window is full goes uncounted (see accountRateTrackedMax). */
  #charge(key: string): void {
    const counted = this.#counts.get(key);
    if (counted === undefined && this.#counts.size >= this.trackedMax) return;
    const next = (counted ?? 0) + 1;
    assert(next <= this.eventsPerSecond, 'an account is charged only below its limit');
    this.#counts.set(key, next);
    this.#charged.push(key);
  }
}

/** The first event over the limit gets rate_limited, the chain's others linked_event_failed (what the ledger does for a failed chain). */
function refuseChain(results: Uint8Array, first: number, last: number, refusedAt: number): void {
  const view = new DataView(results.buffer, results.byteOffset, results.byteLength);
  for (let i = first; i <= last; i++) view.setUint16(i * resultBytes, i === refusedAt ? ResultCode.rate_limited : ResultCode.linked_event_failed, true);
}

/** Copies the admitted events out (whole records, request order) beside the refusals. */
function decision(body: Uint8Array, results: Uint8Array): AccountRateDecision {
  const view = new DataView(results.buffer, results.byteOffset, results.byteLength);
  const count = body.byteLength / eventBytes;
  const admittedIndexes: number[] = [];
  for (let i = 0; i < count; i++) if (view.getUint16(i * resultBytes, true) === ResultCode.ok) admittedIndexes.push(i);
  if (admittedIndexes.length === 0) return { admitted: null, admittedIndexes, results };
  const admitted = new Uint8Array(admittedIndexes.length * eventBytes);
  admittedIndexes.forEach((from, to) => admitted.set(body.subarray(from * eventBytes, (from + 1) * eventBytes), to * eventBytes));
  return { admitted, admittedIndexes, results };
}

/** The reply to the whole request: the ledger's results for the admitted events put back in their places. */
export function mergeAccountRateReply(limited: AccountRateDecision, reply: Uint8Array | null): Uint8Array {
  const admitted = limited.admittedIndexes.length;
  assert((reply?.byteLength ?? 0) === admitted * resultBytes, 'the ledger answers every admitted event once');
  if (reply === null) return limited.results;
  limited.admittedIndexes.forEach((to, from) => limited.results.set(reply.subarray(from * resultBytes, (from + 1) * resultBytes), to * resultBytes));
  return limited.results;
}
