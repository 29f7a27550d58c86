// Per-ledger running totals of posted and pending debits and credits: what the conservation check compares
// after every batch. Exact: BigInt totals, plus one number that gathers the amounts of plain postings (each
// below 2^53, on the debit and the credit side alike) and is folded into the BigInts before every read and
// before it could reach 2^53. Must never be read without folding: only `byLedger` reads.

import { assert } from '../assert.js';
import { exactNumberLimit } from '../u64-words.js';

export interface LedgerTotals {
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

export class RunningTotals {
  readonly #byLedger = new Map<number, LedgerTotals>();
  #ledgerLast = -1;
  #totalsLast: LedgerTotals | null = null;
  /** Posted on both sides of ledger #unfoldedLedger and not yet in its totals (a safe integer). */
  #unfoldedPosted = 0;
  #unfoldedLedger = -1;

  /** The totals of `ledger` (created at zero), for BigInt changes. Reads go through `byLedger`. */
  of(ledger: number): LedgerTotals {
    // Batches are usually one currency: the last ledger's totals skip the Map lookup.
    if (ledger === this.#ledgerLast && this.#totalsLast !== null) return this.#totalsLast;
    let totals = this.#byLedger.get(ledger);
    if (totals === undefined) {
      totals = { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n };
      this.#byLedger.set(ledger, totals);
    }
    this.#ledgerLast = ledger;
    this.#totalsLast = totals;
    return totals;
  }

  /** A plain posting of `amount` (an integer in 1..2^53 − 1) in `ledger`: its debits and credits posted both rise by it. */
  addPosted(ledger: number, amount: number): void {
    assert(Number.isSafeInteger(amount) && amount > 0, 'a posted amount added as a number is an integer in 1..2^53 − 1');
    if (ledger !== this.#unfoldedLedger) {
      this.#fold();
      this.of(ledger); // created now, as a BigInt move would: the ledgers keep their order in `byLedger`
      this.#unfoldedLedger = ledger;
    }
    // Both terms are below 2^53, so their sum reaches 2^53 exactly when the rounded sum does.
    if (this.#unfoldedPosted + amount >= exactNumberLimit) this.#fold();
    this.#unfoldedPosted += amount;
  }

  /** The exact totals of `ledger` (created at zero), to read. */
  exactOf(ledger: number): Readonly<LedgerTotals> {
    this.#fold();
    return this.of(ledger);
  }

  /** Every ledger's exact totals, in the order the ledgers were first moved. */
  get byLedger(): ReadonlyMap<number, LedgerTotals> {
    this.#fold();
    return this.#byLedger;
  }

  /** A fresh RunningTotals takes a checkpoint's totals, in their ledgers' order. */
  restore(byLedger: readonly [number, LedgerTotals][]): void {
    assert(this.#byLedger.size === 0 && this.#unfoldedPosted === 0, 'totals are restored while empty');
    for (const [ledger, totals] of byLedger) this.#byLedger.set(ledger, { ...totals });
  }

  #fold(): void {
    if (this.#unfoldedPosted === 0) return;
    const totals = this.of(this.#unfoldedLedger);
    const amount = BigInt(this.#unfoldedPosted);
    totals.debitsPosted += amount;
    totals.creditsPosted += amount;
    this.#unfoldedPosted = 0;
  }
}
