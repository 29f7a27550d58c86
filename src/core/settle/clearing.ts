// Clearing (清算) of one channel's business day: from the day's cleared items, what each merchant is owed — gross
// receivable, refunds, the merchant fee of each item, the net amount (轧差: payments − refunds − fees) — and what
// the channel day comes to: the total cleared, the channel's cost and the company's margin (merchant fees −
// channel cost). Every figure is exact bigint minor units and every fee names the strategy version that charged it.
// Items whose reconciliation is unresolved are cleared (their fee is known) but counted apart as held: they are
// not payable until reconciliation resolves them. The result does not depend on the order items are given in.

import { assert } from '../assert.js';
import { formatBusinessDay, isBusinessDay, type BusinessDay } from '../business-day.js';
import { feeOfItem, type FeeCharge, type FeeSchedule } from './fee-schedule.js';
import { SettleError } from './settle-errors.js';
import { clearingItemsMax, nameCharsMax, orderIdCharsMax } from './settle-limits.js';

/** matched: our posting and the channel's row agree; unresolved: an open reconciliation exception; resolved: one that was closed. */
export type ReconciliationState = 'matched' | 'unresolved' | 'resolved';
export const reconciliationStates: readonly ReconciliationState[] = ['matched', 'unresolved', 'resolved'];

export type ClearedItemKind = 'payment' | 'refund';

/** One posting of the day as clearing reads it (from the day cut and the account statements). */
export interface ClearedItem {
  /** The payment's order id, or for a refund its own refund id (one order may be refunded several times). */
  readonly orderId: string;
  readonly merchantId: string;
  readonly product: string;
  readonly channel: string;
  readonly kind: ClearedItemKind;
  /** The posting's accounting success time (账务成功时间), ns since the Unix epoch: picks the fee version in force. */
  readonly accountingTimeNs: bigint;
  /** The business day (日切 day, yyyymmdd) the posting belongs to: the trade day settlement cycles count from. */
  readonly tradeDay: BusinessDay;
  /** Positive minor units for payments and refunds alike; `kind` gives the direction. */
  readonly amountMinor: bigint;
  /** What the channel charged us for the item, as it charged it; negative when it gave its cost back on a refund. */
  readonly channelCostMinor: bigint;
  readonly reconciliation: ReconciliationState;
}

/** An item with its fee: the unit settlement pays, holds and releases. */
export interface ClearedLine {
  readonly item: ClearedItem;
  readonly fee: FeeCharge;
  /** The item's signed effect on what the merchant is owed before fees: +amount for a payment, −amount for a refund. */
  readonly grossMinor: bigint;
}

export interface ClearingFigures {
  readonly items: number;
  readonly paymentsMinor: bigint;
  readonly refundsMinor: bigint;
  readonly feesMinor: bigint;
  /** 轧差: payments − refunds − fees. Negative when refunds and fees exceed the day's payments. */
  readonly netMinor: bigint;
}

export interface MerchantClearing {
  readonly merchantId: string;
  /** Matched and resolved items: settlement may pay these. */
  readonly payable: ClearingFigures;
  /** Unresolved items: held back until reconciliation resolves them. */
  readonly held: ClearingFigures;
}

export interface ChannelClearingTotals {
  /** Payments − refunds of every item, held ones included: the money the day put in the channel's 在途 account. */
  readonly clearedMinor: bigint;
  readonly paymentsMinor: bigint;
  readonly refundsMinor: bigint;
  readonly merchantFeesMinor: bigint;
  readonly channelCostMinor: bigint;
  /** merchant fees − channel cost: what the company earns on the day (negative when the channel costs more). */
  readonly marginMinor: bigint;
  /** Payments − refunds of the unresolved items. */
  readonly heldMinor: bigint;
}

export interface ChannelDayClearing {
  readonly channel: string;
  readonly businessDay: BusinessDay;
  /** Every item with its fee, by merchant, then kind, then order id. */
  readonly lines: readonly ClearedLine[];
  /** One per merchant with items, by merchant id. */
  readonly merchants: readonly MerchantClearing[];
  readonly totals: ChannelClearingTotals;
}

/** Canonical item order (merchant, kind, order id; code unit order): what makes clearing independent of input order. */
export function compareLines(a: ClearedLine, b: ClearedLine): number {
  const x = a.item;
  const y = b.item;
  if (x.merchantId !== y.merchantId) return x.merchantId < y.merchantId ? -1 : 1;
  if (x.kind !== y.kind) return x.kind < y.kind ? -1 : 1;
  if (x.orderId !== y.orderId) return x.orderId < y.orderId ? -1 : 1;
  return 0;
}

/**
 * Sorts lines into the canonical order: by merchant first (a map, then the merchants' ids sorted), then each
 * merchant's few lines by compareLines — the same order as one sort by compareLines, with a third of its
 * comparisons at a million lines (a tenth of clearing's time was that sort).
 */
function sortLines(lines: ClearedLine[]): void {
  const byMerchant = new Map<string, ClearedLine[]>();
  for (const line of lines) {
    const group = byMerchant.get(line.item.merchantId);
    if (group === undefined) byMerchant.set(line.item.merchantId, [line]);
    else group.push(line);
  }
  const merchantIds = [...byMerchant.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let at = 0;
  for (const merchantId of merchantIds) {
    const group = byMerchant.get(merchantId)!.sort(compareLines);
    for (const line of group) lines[at++] = line;
  }
}

function checkText(orderId: string, what: string, value: unknown, charsMax: number): void {
  if (typeof value !== 'string' || value === '' || value.length > charsMax) {
    throw new SettleError('item_invalid', `order ${orderId}: ${what} ${JSON.stringify(value)} must be 1 to ${charsMax} characters`);
  }
}

/** A flat run of one-line checks; every refusal names the order and the field. */
function checkItem(item: ClearedItem, channel: string, businessDay: BusinessDay): void {
  checkText(String(item.orderId), 'order id', item.orderId, orderIdCharsMax);
  const refuse = (why: string): never => {
    throw new SettleError('item_invalid', `order ${item.orderId}: ${why}`);
  };
  checkText(item.orderId, 'merchant id', item.merchantId, nameCharsMax);
  checkText(item.orderId, 'product', item.product, nameCharsMax);
  if (item.channel !== channel) refuse(`channel ${JSON.stringify(item.channel)} is not the channel cleared, ${channel}`);
  if (item.kind !== 'payment' && item.kind !== 'refund') refuse(`kind ${JSON.stringify(item.kind)} must be payment or refund`);
  if (typeof item.accountingTimeNs !== 'bigint' || item.accountingTimeNs < 0n) refuse('accounting time must be a bigint of ns, not negative');
  if (item.tradeDay !== businessDay) refuse(`trade day ${item.tradeDay} is not the day cleared, ${formatBusinessDay(businessDay)}`);
  if (typeof item.amountMinor !== 'bigint' || item.amountMinor <= 0n) refuse(`amount ${String(item.amountMinor)} must be a positive bigint (a refund is its own kind)`);
  if (typeof item.channelCostMinor !== 'bigint') refuse(`channel cost ${String(item.channelCostMinor)} must be a bigint`);
  if (!reconciliationStates.includes(item.reconciliation)) refuse(`reconciliation ${JSON.stringify(item.reconciliation)} must be one of ${reconciliationStates.join(', ')}`);
}

/** Clears `items`, all of `channel` on `businessDay`, charging each its fee by `schedule`. */
export function clearChannelDay(channel: string, businessDay: BusinessDay, items: readonly ClearedItem[], schedule: FeeSchedule): ChannelDayClearing {
  if (typeof channel !== 'string' || channel === '' || channel.length > nameCharsMax) {
    throw new SettleError('item_invalid', `channel ${JSON.stringify(channel)} must be 1 to ${nameCharsMax} characters`);
  }
  if (!isBusinessDay(businessDay)) throw new SettleError('date_invalid', `${businessDay} is no yyyymmdd date`);
  if (items.length > clearingItemsMax) throw new SettleError('clearing_too_large', `${items.length} items exceed ${clearingItemsMax} in one channel day`);
  const lines = items.map((item): ClearedLine => {
    checkItem(item, channel, businessDay);
    const grossMinor = item.kind === 'payment' ? item.amountMinor : -item.amountMinor;
    return { item, fee: feeOfItem(schedule, item), grossMinor };
  });
  sortLines(lines);
  // An item given twice sorts next to itself (the canonical order is by its key): no set of a million keys.
  for (let i = 1; i < lines.length; i++) {
    if (compareLines(lines[i - 1]!, lines[i]!) !== 0) continue;
    const { item } = lines[i]!;
    throw new SettleError('item_duplicate', `${item.kind} ${item.orderId} of merchant ${item.merchantId} is given twice`);
  }
  const merchants = merchantsOf(lines);
  const totals = totalsOf(lines);
  assert(merchants.reduce((sum, m) => sum + m.payable.netMinor + m.held.netMinor, 0n) === totals.clearedMinor - totals.merchantFeesMinor, 'merchant nets add up to the channel day');
  return { channel, businessDay, lines, merchants, totals };
}

/** Figures of a run of lines; the sums of clearing and of a settlement run alike. */
export function figuresOf(lines: readonly ClearedLine[]): ClearingFigures {
  let paymentsMinor = 0n;
  let refundsMinor = 0n;
  let feesMinor = 0n;
  for (const line of lines) {
    if (line.item.kind === 'payment') paymentsMinor += line.item.amountMinor;
    else refundsMinor += line.item.amountMinor;
    feesMinor += line.fee.feeMinor;
  }
  const netMinor = paymentsMinor - refundsMinor - feesMinor;
  return { items: lines.length, paymentsMinor, refundsMinor, feesMinor, netMinor };
}

/** Lines are sorted by merchant, so each merchant's lines are one slice. */
function merchantsOf(lines: readonly ClearedLine[]): MerchantClearing[] {
  const merchants: MerchantClearing[] = [];
  let start = 0;
  for (let end = 1; end <= lines.length; end++) {
    if (end < lines.length && lines[end]!.item.merchantId === lines[start]!.item.merchantId) continue;
    const slice = lines.slice(start, end);
    merchants.push({
      merchantId: lines[start]!.item.merchantId,
      payable: figuresOf(slice.filter((line) => line.item.reconciliation !== 'unresolved')),
      held: figuresOf(slice.filter((line) => line.item.reconciliation === 'unresolved')),
    });
    start = end;
  }
  return merchants;
}

function totalsOf(lines: readonly ClearedLine[]): ChannelClearingTotals {
  const all = figuresOf(lines);
  let channelCostMinor = 0n;
  let heldMinor = 0n;
  for (const line of lines) {
    channelCostMinor += line.item.channelCostMinor;
    if (line.item.reconciliation === 'unresolved') heldMinor += line.grossMinor;
  }
  return {
    clearedMinor: all.paymentsMinor - all.refundsMinor,
    paymentsMinor: all.paymentsMinor,
    refundsMinor: all.refundsMinor,
    merchantFeesMinor: all.feesMinor,
    channelCostMinor,
    marginMinor: all.feesMinor - channelCostMinor,
    heldMinor,
  };
}
