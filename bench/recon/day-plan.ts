// The reconciliation bench's business day (issue #17), drawn from a seed before anything is posted: N transfers on
// the channel's clearing account — payments, ~2% of them followed by a partial refund — and, for ~1% of the
// payments without a refund, one injected difference between what we post and what the channel's bill states. From
// the plan alone come the transfers to post, the bill's rows and the exact set of exceptions reconciling must find;
// nothing here touches the server or a file. Per payment the plan holds a few typed-array cells, never an object.

import { assert } from '../../src/core/assert.js';
import { mulberry32 } from '../../test/support/prng.js';
import type { BillRow } from '../../test/support/wechat-bill.js';

/** The differences injected, in equal shares; each is the exception outcome reconciling must report for it. */
export const differenceKinds = ['amount_mismatch', 'status_mismatch', 'missing_at_channel', 'missing_on_platform', 'duplicate_at_channel'] as const;
export type DifferenceKind = (typeof differenceKinds)[number];

/** Fen of a payment: 1.00 .. 999.99 yuan. */
const paymentFenMin = 100;
const paymentFenMax = 99_999;
/** Fen a stated amount differs by (either way), at most. */
const amountDriftFenMax = 500;
const secondsPerDay = 86_400;

export interface DayPlanOptions {
  /** Transfers to post: payments and refunds together. */
  transfers: number;
  seed: number;
  /** Share of payments refunded in part on the same day. */
  refundShare: number;
  /** Share of unrefunded payments with an injected difference. */
  differenceShare: number;
}

export interface DayPlan {
  transfers: number;
  payments: number;
  /** Per payment: what we post. */
  amountFen: Int32Array;
  /** Per payment: the refund's fen, 0 for none. */
  refundFen: Int32Array;
  /** Per payment: what the channel states as settled (differs from amountFen for amount_mismatch). */
  statedFen: Int32Array;
  /** Per payment: 0 for none, else 1 + the index of its kind in differenceKinds. */
  difference: Uint8Array;
  /** Per transfer in posting order: its payment, and whether it is that payment's refund. */
  slotPayment: Int32Array;
  slotIsRefund: Uint8Array;
}

export function planDay(options: DayPlanOptions): DayPlan {
  assert(Number.isSafeInteger(options.transfers) && options.transfers >= 1, 'planDay: transfers is a positive integer');
  assert(options.refundShare >= 0 && options.refundShare < 1 && options.differenceShare >= 0 && options.differenceShare < 1, 'planDay: shares are in [0, 1)');
  const draw = mulberry32(options.seed);
  const slotPayment = new Int32Array(options.transfers);
  const slotIsRefund = new Uint8Array(options.transfers);
  // At most one payment per transfer: the arrays are cut to the payments drawn at the end.
  const amountFen = new Int32Array(options.transfers);
  const refundFen = new Int32Array(options.transfers);
  const statedFen = new Int32Array(options.transfers);
  const difference = new Uint8Array(options.transfers);
  let payments = 0;
  for (let slot = 0; slot < options.transfers; slot++) {
    const p = payments++;
    slotPayment[slot] = p;
    const amount = paymentFenMin + Math.floor(draw() * (paymentFenMax - paymentFenMin + 1));
    amountFen[p] = amount;
    statedFen[p] = amount;
    // Draws happen in the same order whatever is kept, so a seed gives the same day at every size's prefix.
    const refunded = draw() < options.refundShare;
    const refund = 1 + Math.floor(draw() * (amount - 1));
    const injected = draw() < options.differenceShare;
    const kind = Math.floor(draw() * differenceKinds.length);
    const drift = 1 + Math.floor(draw() * amountDriftFenMax);
    const up = draw() < 0.5;
    if (refunded && slot + 1 < options.transfers) {
      refundFen[p] = refund;
      slotPayment[++slot] = p;
      slotIsRefund[slot] = 1;
    } else if (injected) {
      difference[p] = kind + 1;
      if (differenceKinds[kind] === 'amount_mismatch') statedFen[p] = up || amount - drift < 1 ? amount + drift : amount - drift;
    }
  }
  return {
    transfers: options.transfers, payments,
    amountFen: amountFen.slice(0, payments), refundFen: refundFen.slice(0, payments), statedFen: statedFen.slice(0, payments), difference: difference.slice(0, payments),
    slotPayment, slotIsRefund,
  };
}

export function differenceOf(plan: DayPlan, p: number): DifferenceKind | null {
  const code = plan.difference[p]!;
  return code === 0 ? null : differenceKinds[code - 1]!;
}

/** The merchant order number (商户订单号) of payment `p` on day `day` (yyyymmdd); referenceOf of it is the key we post. */
export const orderNo = (day: number, p: number): string => `P${day}${String(p).padStart(8, '0')}`;
/** The order of the row the channel states for payment `p` that we never posted (missing on the platform). */
export const strayOrderNo = (day: number, p: number): string => `X${day}${String(p).padStart(8, '0')}`;
const serialOf = (day: number, p: number, stray: boolean): string => `${stray ? '4201' : '4200'}0009${day}${String(p).padStart(10, '0')}`;

/** The payment's local time of day, spread evenly over the day. */
function timeOf(plan: DayPlan, p: number): string {
  const second = Math.floor((p * secondsPerDay) / plan.payments);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(second / 3600))}:${pad(Math.floor(second / 60) % 60)}:${pad(second % 60)}`;
}

/** The rows the channel's bill states for payment `p` (none, one, or two), its difference applied. */
export function billRowsOf(plan: DayPlan, day: number, p: number): BillRow[] {
  const time = timeOf(plan, p);
  const row: BillRow = { serial: serialOf(day, p, false), order: orderNo(day, p), status: 'SUCCESS', settled: plan.statedFen[p]!, time };
  const rows: BillRow[] = [row];
  if (plan.refundFen[p] !== 0) rows.push({ ...row, status: 'REFUND', settled: plan.amountFen[p]!, refund: plan.refundFen[p]! });
  switch (differenceOf(plan, p)) {
    case null:
    case 'amount_mismatch':
      return rows;
    case 'status_mismatch':
      return [{ ...row, status: 'REVOKED' }];
    case 'missing_at_channel':
      return [];
    case 'missing_on_platform':
      return [row, { serial: serialOf(day, p, true), order: strayOrderNo(day, p), status: 'SUCCESS', settled: plan.amountFen[p]!, time }];
    case 'duplicate_at_channel':
      return [row, row];
  }
}

/** An exception as the set compares it: its outcome, then the rows' order numbers or (none stated) our transfer ids. */
export function exceptionKey(outcome: string, orderNos: readonly string[], transferIds: readonly string[]): string {
  return `${outcome} ${orderNos.length > 0 ? orderNos.join('+') : `#${transferIds.join('+')}`}`;
}

/** Every exception reconciling the day must report, and nothing else; `paymentId` names the transfer of payment `p`. */
export function expectedExceptions(plan: DayPlan, day: number, paymentId: (p: number) => bigint): string[] {
  const keys: string[] = [];
  for (let p = 0; p < plan.payments; p++) {
    const kind = differenceOf(plan, p);
    if (kind === null) continue;
    if (kind === 'missing_at_channel') keys.push(exceptionKey(kind, [], [String(paymentId(p))]));
    else keys.push(exceptionKey(kind, [kind === 'missing_on_platform' ? strayOrderNo(day, p) : orderNo(day, p)], []));
  }
  return keys;
}

export interface SetComparison {
  /** Expected and not found. */
  missed: string[];
  /** Found and not expected. */
  unexpected: string[];
}

/** The difference both ways between what was expected and what was found (each a multiset of keys). */
export function compareKeys(expected: readonly string[], found: readonly string[]): SetComparison {
  const left = new Map<string, number>();
  for (const key of expected) left.set(key, (left.get(key) ?? 0) + 1);
  const unexpected: string[] = [];
  for (const key of found) {
    const count = left.get(key) ?? 0;
    if (count === 0) unexpected.push(key);
    else left.set(key, count - 1);
  }
  const missed = [...left].flatMap(([key, count]) => Array<string>(count).fill(key));
  return { missed, unexpected };
}

/** Count per outcome (the first word of each key), in differenceKinds' order then any other outcome. */
export function countsByOutcome(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>(differenceKinds.map((kind) => [kind, 0]));
  for (const key of keys) {
    const outcome = key.slice(0, key.indexOf(' '));
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  }
  return counts;
}
