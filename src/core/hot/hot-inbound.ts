// Hot inbound accounts (缓冲入账). A merchant or transit account that every payment credits is marked
// hot-inbound (by an account operation, or automatically when its credit rate crosses a threshold).
// A credit to it is accepted as usual — its transfer journaled, durable before the reply, in the
// account's history — but its balance change goes into the account's buffer, with a sequence number,
// instead of onto creditsPosted. A summary posting (one apply_hot_inbound journal entry per interval,
// one record per account) moves each buffer onto the balance. Buffered credits count in the ledger's
// totals (conservation holds at every entry) and in every limit on credits, but are not spendable
// until applied. A day cut applies every buffer first, so closing balances hold every credit.
//
// Why buffer at all in a single-writer shard: applying is cheap here, but the buffer is what lets a hot
// account's balance (and its history's balances-after) be one summary per interval — the shape
// downstream reconciliation and the bookkeeping shard expect — and it bounds what a hot account costs.

import { assert } from '../assert.js';
import { StatusBits, accountStaticBytes } from '../accounts/account-table.js';
import { isSystemIdAt } from '../accounts/system-accounts.js';

/** Hot marks of an account (AccountTable.hotOf), shown in lookups at AccountLayout.hot. */
export const HotBits = {
  inbound: 1,
  /** Set with inbound when the mark came from the credit-rate threshold (only those are un-marked automatically). */
  inboundAuto: 2,
} as const;

/** One account's credits waiting to be applied. */
export class InboundBuffer {
  amount = 0n;
  /** Sequence number of the newest credit taken in (1, 2, … per account, never reused). */
  seqLast = 0;
  /** Sequence number through which credits were applied. */
  seqApplied = 0;
  /** Timestamps (ns, as doubles: for delay figures only, never money) of the credits waiting. */
  readonly creditTimes: number[] = [];

  get waiting(): number {
    return this.seqLast - this.seqApplied;
  }
}

/** Records of an apply_hot_inbound entry (128 bytes each, in the event slots of a journal entry). */
export const HotRecordLayout = {
  accountId: 0, // u128
  amount: 16, // u64: what the record moves onto creditsPosted (apply)
  seqThrough: 24, // u64: the buffer's sequence number applied through (apply)
  kind: 32, // u16 HotRecordKind
} as const;

export const HotRecordKind = {
  /** The buffer through seqThrough moves onto creditsPosted. */
  apply: 1,
  /** The credit-rate threshold marked the account hot-inbound. */
  autoMark: 2,
  /** The account stayed quiet long enough: its auto mark ends (its buffer was applied by the record before). */
  autoUnmark: 3,
} as const;

/** When the shard marks and un-marks accounts by themselves. */
export interface HotInboundPolicy {
  /** Credits per second to one account that mark it hot-inbound; 0 turns automatic marking off. */
  autoMarkCreditsPerSecond: number;
  /** An auto-marked account below half the threshold for this many consecutive seconds is un-marked. */
  unmarkQuietSeconds: number;
}

export const hotInboundPolicyDefault: HotInboundPolicy = { autoMarkCreditsPerSecond: 1000, unmarkQuietSeconds: 60 };

/** The rate window of the automatic marking. */
export const creditRateWindowNs = 1_000_000_000n;

/** Where the credits of each account slot in the current window are counted (AccountTable: in the slot's record). */
export interface CreditCounts {
  creditsInWindow(slot: number): number;
  setCreditsInWindow(slot: number, credits: number): void;
}

/**
 * Credits per account in the current rate window: a counter per slot and the list of slots touched, so
 * a window ends in O(accounts credited) and a credit costs one increment in a record posting touches anyway.
 */
export class CreditRates {
  #touched: number[] = [];
  /** Auto-marked slots → consecutive quiet windows. */
  readonly quietWindows = new Map<number, number>();
  windowStartNs = -1n;

  constructor(private readonly counts: CreditCounts) {}

  record(slot: number): void {
    const credits = this.counts.creditsInWindow(slot);
    this.counts.setCreditsInWindow(slot, credits + 1);
    if (credits === 0) this.#touched.push(slot);
  }

  /** The slots credited in this window, in first-credit order (endWindow reports them so). Do not modify. */
  get touched(): readonly number[] {
    return this.#touched;
  }

  /** A fresh CreditRates takes a checkpoint's window (the counts live in the account records). */
  restoreWindow(touched: readonly number[], windowStartNs: bigint, quietWindows: readonly [number, number][]): void {
    assert(this.#touched.length === 0 && this.quietWindows.size === 0, 'a rate window is restored while empty');
    this.#touched = [...touched];
    this.windowStartNs = windowStartNs;
    for (const [slot, windows] of quietWindows) this.quietWindows.set(slot, windows);
  }

  count(slot: number): number {
    return this.counts.creditsInWindow(slot);
  }

  /** The slots credited in this window; clears the window. */
  endWindow(nowNs: bigint): { slot: number; credits: number }[] {
    const seen = this.#touched.map((slot) => ({ slot, credits: this.counts.creditsInWindow(slot) }));
    for (const slot of this.#touched) this.counts.setCreditsInWindow(slot, 0);
    this.#touched = [];
    this.windowStartNs = nowNs;
    return seen;
  }
}

/** One record of an apply_hot_inbound entry, before it is written. */
export interface HotRecord {
  slot: number;
  kind: number; // HotRecordKind
  amount: bigint;
  seqThrough: number;
}

/** What the state must offer the planner (LedgerState does). */
export interface HotState {
  readonly buffers: ReadonlyMap<number, InboundBuffer>;
  readonly creditRates: CreditRates;
  readonly accounts: { hotOf(slot: number): number; statusOf(slot: number): number; readonly staticsView: DataView };
}

/**
 * Transit and suspense accounts are never marked by the threshold: their posted balances are what the
 * in-flight and day-end checks read, and every cross-shard payment credits a transit account.
 */
function isSystemSlot(state: HotState, slot: number): boolean {
  return isSystemIdAt(state.accounts.staticsView, slot * accountStaticBytes);
}

/**
 * The records the next apply_hot_inbound entry should carry at `nowNs`: every non-empty buffer applied,
 * and — once a rate window ended — accounts over the threshold marked, quiet auto-marked ones un-marked
 * (after their buffer's apply). Empty when nothing is due. Ends the rate window when it is over.
 */
export function planHotRecords(state: HotState, nowNs: bigint, policy: HotInboundPolicy): HotRecord[] {
  const rates = state.creditRates;
  const marks: number[] = [];
  const unmarks: number[] = [];
  // The first tick opens the first window: credits counted before it (a replay) are not a rate.
  if (rates.windowStartNs < 0n) rates.endWindow(nowNs);
  const elapsedNs = nowNs - rates.windowStartNs;
  if (elapsedNs >= creditRateWindowNs) {
    const seen = rates.endWindow(nowNs);
    const threshold = policy.autoMarkCreditsPerSecond;
    if (threshold > 0) {
      const perSecond = (credits: number): number => (credits * 1e9) / Number(elapsedNs);
      const busy = new Set<number>();
      for (const { slot, credits } of seen) {
        const rate = perSecond(credits);
        if (rate >= threshold / 2) busy.add(slot);
        const hot = state.accounts.hotOf(slot);
        if (rate >= threshold && (hot & HotBits.inbound) === 0 && (state.accounts.statusOf(slot) & StatusBits.closed) === 0 && !isSystemSlot(state, slot)) marks.push(slot);
      }
      for (const [slot, quiet] of rates.quietWindows) {
        // Marked by hand since (or un-marked): no longer the threshold's to end.
        if ((state.accounts.hotOf(slot) & HotBits.inboundAuto) === 0) {
          rates.quietWindows.delete(slot);
          continue;
        }
        const windows = busy.has(slot) ? 0 : quiet + 1;
        rates.quietWindows.set(slot, windows);
        if (windows >= policy.unmarkQuietSeconds) unmarks.push(slot);
      }
    }
  }
  const records: HotRecord[] = [];
  for (const [slot, buffer] of state.buffers) {
    // Sequence numbers only rise, and every credit taken in is positive: a buffer is never negative.
    assert(buffer.seqApplied <= buffer.seqLast && buffer.amount >= 0n, 'a hot-inbound buffer never runs backwards or below zero');
    assert((buffer.waiting > 0) === (buffer.amount > 0n), 'a hot-inbound buffer holds money exactly while credits wait');
    if (buffer.waiting > 0) records.push({ slot, kind: HotRecordKind.apply, amount: buffer.amount, seqThrough: buffer.seqLast });
  }
  for (const slot of marks) records.push({ slot, kind: HotRecordKind.autoMark, amount: 0n, seqThrough: 0 });
  for (const slot of unmarks) records.push({ slot, kind: HotRecordKind.autoUnmark, amount: 0n, seqThrough: 0 });
  return records;
}
