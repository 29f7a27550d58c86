// The settlement bench's business day (issue #18), drawn from a seed before anything runs: M merchants, each with
// its fee strategies written as the strategy documents an operator would load (percentage rounded half up; a fixed
// fee plus a percentage rounded half even; a percentage rounded up between a floor and a cap; a product with its
// own rate; a rate lowered at noon as version 2; refunds giving the fee back), settlement terms mixing D0, D1 and
// T+1 cycles, minimum payouts and rolling reserves, and for a few merchants a profit split (分账). Then N cleared
// items of one business day on two channels — ~3% refunds, ~0.5% with reconciliation unresolved, ~0.3% resolved —
// and what earlier runs left behind (reserve holds falling due in the bench's runs, amounts carried forward).
// Beside the documents the plan keeps each merchant's fee parameters, so expectedFeeOf() computes every fee again
// with plain bigint arithmetic: an oracle the strategies' results are compared with, line by line.

import { assert } from '../../src/core/assert.js';
import { previousBusinessDay, type BusinessDay } from '../../src/core/business-day.js';
import type { ClearedItem, ReconciliationState } from '../../src/core/settle/clearing.js';
import type { ProfitReceiver } from '../../src/core/settle/allocation.js';
import type { RoundingMode } from '../../src/core/settle/fraction.js';
import type { CarriedAmount, EarlierRuns, ReserveHold } from '../../src/core/settle/settlement-run.js';
import type { WorkingCalendarSpec } from '../../src/core/settle/working-calendar.js';
import { mulberry32 } from '../../test/support/prng.js';
import { ZipfTable } from '../load/zipf.js';

/** Channels in name order, and the share of orders each takes. */
export const channelNames = ['ali', 'wx'] as const;
const wxShare = 0.6;
/** What each channel charges us, in 1/100,000 of the amount, rounded half up; given back on a refund. */
const channelCostE5: Record<(typeof channelNames)[number], bigint> = { ali: 220n, wx: 200n };
export const productNames = ['app', 'card', 'qr'] as const;

/** Friday 2026-12-11: D0 is paid that day, D1 on Saturday, T+1 on Monday 12-14, so runs span a weekend. */
export const tradeDay: BusinessDay = 20261211;
/** One run per calendar day from the trade day to the last day any cycle of the mix falls due. */
export const runDates: readonly BusinessDay[] = [20261211, 20261212, 20261213, 20261214];
/** The working calendar T cycles count on: weekends only, over the dates the bench can touch. */
export const calendarSpec: WorkingCalendarSpec = { name: 'bench', firstDay: '2026-01-01', lastDay: '2027-12-31', weekendDays: [6, 7], holidays: ['2027-01-01'], workingWeekendDays: [] };

const nsPerDay = 86_400_000_000_000n;
/** 2026-12-11T00:00:00Z in ns: the bench's day is the UTC day. */
export const dayStartNs = BigInt(Date.UTC(2026, 11, 11)) * 1_000_000n;
/** Version 2 of a lowered rate applies from noon. */
export const rateChangeNs = dayStartNs + nsPerDay / 2n;

const e5 = 100_000n;
const paymentFenMin = 100;
const paymentFenMax = 500_000;
const refundFenMax = 100_000;
const refundShare = 0.03;
const unresolvedShare = 0.005;
const resolvedShare = 0.003;

export type FeeKind = 'percent' | 'fixed_percent' | 'capped';

/** One fee strategy's parameters: the document is written from these and the oracle computes from them. */
export interface FeeParams {
  readonly kind: FeeKind;
  /** The rate in 1/100,000 (600 is 0.6%). */
  readonly rateE5: number;
  readonly fixedMinor: bigint;
  readonly floorMinor: bigint;
  readonly capMinor: bigint;
}

export interface MerchantPlan {
  readonly merchantId: string;
  /** Every product but those in byProduct. */
  readonly fee: FeeParams;
  /** From rateChangeNs: version 2 of `fee`, at a lower rate. */
  readonly feeFromNoon: FeeParams | undefined;
  /** A product with its own strategy ('qr'), when the merchant has one. */
  readonly qrFee: FeeParams | undefined;
  readonly cycle: 'D0' | 'D1' | 'T+1';
  readonly minimumPayoutMinor: bigint;
  readonly reserveBps: number;
  readonly reserveDays: number;
  /** 分账 receivers of each matched payment, after the fee; the merchant takes the rest. */
  readonly split: readonly ProfitReceiver[] | undefined;
}

/** A fee strategy as loaded: which merchant and product it serves, and its versions' documents. */
export interface StrategySource {
  readonly merchantId: string;
  /** undefined: every other product. */
  readonly product: string | undefined;
  readonly versions: readonly { readonly effectiveFromNs: bigint; readonly document: unknown }[];
}

export interface SettlePlan {
  readonly orders: number;
  readonly seed: number;
  readonly merchants: readonly MerchantPlan[];
  readonly merchantsById: ReadonlyMap<string, MerchantPlan>;
  readonly strategies: readonly StrategySource[];
  /** Channel → that channel's items of the trade day, in the order drawn. */
  readonly items: ReadonlyMap<string, readonly ClearedItem[]>;
  readonly earlier: EarlierRuns;
  readonly mix: PlanMix;
}

/** Counts of what was drawn, for the bench's description of its day. */
export interface PlanMix {
  feeKinds: Record<FeeKind, number>;
  qrStrategies: number;
  rateChanges: number;
  cycles: Record<MerchantPlan['cycle'], number>;
  minimumPayouts: number;
  reserves: number;
  splits: number;
  payments: number;
  refunds: number;
  unresolved: number;
  resolved: number;
  byChannel: Record<string, number>;
  reserveHoldsDue: number;
  carried: number;
}

export interface SettlePlanOptions {
  orders: number;
  merchants: number;
  seed: number;
  /** Hears how many items have been drawn, now and then. */
  onProgress?: (drawn: number) => void;
}

const progressEvery = 100_000;

export function planSettlement(options: SettlePlanOptions): SettlePlan {
  assert(Number.isSafeInteger(options.orders) && options.orders >= 1, 'planSettlement: orders is a positive integer');
  assert(Number.isSafeInteger(options.merchants) && options.merchants >= 1 && options.merchants <= 999_999, 'planSettlement: merchants in 1..999999');
  // Merchants and items draw from separate streams, so the merchants of a seed do not depend on the order count.
  const merchants = drawMerchants(options.merchants, mulberry32(options.seed));
  const merchantsById = new Map(merchants.map((m) => [m.merchantId, m]));
  const mix = mixOfMerchants(merchants);
  const items = drawItems(options, merchants, mulberry32(options.seed ^ 0x5e771e), mix);
  const earlier = drawEarlierRuns(merchants, mulberry32(options.seed ^ 0xea51e5), mix);
  return { orders: options.orders, seed: options.seed, merchants, merchantsById, strategies: merchants.flatMap(strategySourcesOf), items, earlier, mix };
}

/** 'm-000042': fixed width, so id order is draw order. */
export const merchantIdOf = (index: number): string => `m-${String(index).padStart(6, '0')}`;

function pick<T>(draw: () => number, values: readonly T[]): T {
  return values[Math.floor(draw() * values.length)]!;
}

function drawMerchants(count: number, draw: () => number): MerchantPlan[] {
  const merchants: MerchantPlan[] = [];
  for (let i = 0; i < count; i++) {
    // Every merchant takes the same number of draws whatever it keeps, so merchant i is the same at every count.
    const u = Array.from({ length: 12 }, draw);
    const kind: FeeKind = u[0]! < 0.45 ? 'percent' : u[0]! < 0.7 ? 'fixed_percent' : 'capped';
    const fee = feeParams(kind, u[1]!, u[2]!, u[11]!);
    const cycle = u[3]! < 0.2 ? 'D0' : u[3]! < 0.6 ? 'D1' : 'T+1';
    const hasReserve = u[6]! < 0.15;
    merchants.push({
      merchantId: merchantIdOf(i + 1),
      fee,
      feeFromNoon: u[4]! < 0.1 ? { ...fee, rateE5: fee.rateE5 - 50 } : undefined,
      qrFee: u[5]! < 0.3 ? { kind: 'percent', rateE5: 200, fixedMinor: 0n, floorMinor: 0n, capMinor: 0n } : undefined,
      cycle,
      minimumPayoutMinor: u[7]! < 0.7 ? 0n : u[7]! < 0.9 ? 10_000n : 100_000n,
      reserveBps: hasReserve ? pick(() => u[8]!, [500, 1000]) : 0,
      reserveDays: hasReserve ? pick(() => u[9]!, [30, 90, 180]) : 0,
      split: u[10]! < 0.05 ? [{ receiver: `agent-${1 + Math.floor(u[2]! * 20)}`, share: { bps: 300 } }, { receiver: 'platform', share: { ratio: '0.015' } }] : undefined,
    });
  }
  return merchants;
}

function feeParams(kind: FeeKind, rateDraw: number, extraDraw: number, capDraw: number): FeeParams {
  const none = { fixedMinor: 0n, floorMinor: 0n, capMinor: 0n };
  switch (kind) {
    case 'percent':
      return { kind, rateE5: pick(() => rateDraw, [600, 550, 380, 300]), ...none };
    case 'fixed_percent':
      return { kind, rateE5: pick(() => rateDraw, [250, 200, 125]), ...none, fixedMinor: BigInt(10 + Math.floor(extraDraw * 41)) };
    case 'capped':
      return { kind, rateE5: pick(() => rateDraw, [780, 600, 500]), ...none, floorMinor: pick(() => extraDraw, [50n, 100n]), capMinor: pick(() => capDraw, [2_000n, 2_500n, 5_000n]) };
  }
}

/** '0.0055' for 550: decimal text with no trailing zeros, as strategy documents want rates. */
export function rateText(rateE5: number): string {
  assert(Number.isSafeInteger(rateE5) && rateE5 > 0 && rateE5 < 100_000, 'a bench rate is below 100%');
  return `0.${String(rateE5).padStart(5, '0')}`.replace(/0+$/, '');
}

/** The strategy document of one fee: refunds give back what the formula would charge their amount. */
export function feeDocument(id: string, version: number, params: FeeParams): unknown {
  const rate = rateText(params.rateE5);
  const giveBack = (what: string) => ({ let: 'fee', expr: ['-', '0', what], when: ['=', 'refund', '1'] });
  const header = { id, version, inputs: { amount: 'positive_integer', refund: 'integer' }, outputs: ['fee'] };
  switch (params.kind) {
    case 'percent':
      return { ...header, instructions: [{ let: 'charged', expr: ['round', ['*', 'amount', rate], 0, 'half_up'] }, { let: 'fee', expr: 'charged' }, giveBack('charged')] };
    case 'fixed_percent':
      // The fixed part is kept on a refund; only the percentage is given back.
      return {
        ...header,
        instructions: [
          { let: 'percentage', expr: ['round', ['*', 'amount', rate], 0, 'half_even'] },
          { let: 'fee', expr: ['min', ['+', String(params.fixedMinor), 'percentage'], 'amount'] },
          giveBack('percentage'),
        ],
      };
    case 'capped':
      return {
        ...header,
        instructions: [
          { let: 'raw', expr: ['round', ['*', 'amount', rate], 0, 'up'] },
          { let: 'charged', expr: ['min', ['max', 'raw', String(params.floorMinor)], String(params.capMinor), 'amount'] },
          { let: 'fee', expr: 'charged' },
          giveBack('charged'),
        ],
      };
  }
}

function strategySourcesOf(m: MerchantPlan): StrategySource[] {
  const otherId = `fee/${m.merchantId}`;
  const versions = [{ effectiveFromNs: 0n, document: feeDocument(otherId, 1, m.fee) }];
  if (m.feeFromNoon !== undefined) versions.push({ effectiveFromNs: rateChangeNs, document: feeDocument(otherId, 2, m.feeFromNoon) });
  const sources: StrategySource[] = [{ merchantId: m.merchantId, product: undefined, versions }];
  if (m.qrFee !== undefined) sources.push({ merchantId: m.merchantId, product: 'qr', versions: [{ effectiveFromNs: 0n, document: feeDocument(`${otherId}/qr`, 1, m.qrFee) }] });
  return sources;
}

/** n × rateE5 / 100,000 rounded by `mode`, for n ≥ 0. */
function rateOf(n: bigint, rateE5: number, mode: RoundingMode): bigint {
  const product = n * BigInt(rateE5);
  const quotient = product / e5;
  const twice = 2n * (product % e5);
  if (twice === 0n) return quotient;
  if (mode === 'up') return quotient + 1n;
  if (mode === 'down') return quotient;
  if (twice > e5 || (twice === e5 && (mode === 'half_up' || quotient % 2n === 1n))) return quotient + 1n;
  return quotient;
}

function minOf(...values: bigint[]): bigint {
  return values.reduce((a, b) => (b < a ? b : a));
}

/** The fee `params` give an amount: what the strategy document is meant to compute, without the rule engine. */
export function feeByParams(params: FeeParams, amountMinor: bigint, refund: boolean): bigint {
  switch (params.kind) {
    case 'percent': {
      const charged = rateOf(amountMinor, params.rateE5, 'half_up');
      return refund ? -charged : charged;
    }
    case 'fixed_percent': {
      const percentage = rateOf(amountMinor, params.rateE5, 'half_even');
      return refund ? -percentage : minOf(params.fixedMinor + percentage, amountMinor);
    }
    case 'capped': {
      const raw = rateOf(amountMinor, params.rateE5, 'up');
      const charged = minOf(raw > params.floorMinor ? raw : params.floorMinor, params.capMinor, amountMinor);
      return refund ? -charged : charged;
    }
  }
}

/** The fee an item should be charged: the oracle every cleared line is compared with. */
export function expectedFeeOf(plan: SettlePlan, item: ClearedItem): bigint {
  const merchant = plan.merchantsById.get(item.merchantId);
  assert(merchant !== undefined, 'every item is of a planned merchant');
  const params = item.product === 'qr' && merchant.qrFee !== undefined ? merchant.qrFee : merchant.feeFromNoon !== undefined && item.accountingTimeNs >= rateChangeNs ? merchant.feeFromNoon : merchant.fee;
  return feeByParams(params, item.amountMinor, item.kind === 'refund');
}

/** The merchants' side of the mix; drawItems and drawEarlierRuns count the rest as they draw. */
function mixOfMerchants(merchants: readonly MerchantPlan[]): PlanMix {
  const count = (test: (m: MerchantPlan) => boolean) => merchants.filter(test).length;
  return {
    feeKinds: { percent: count((m) => m.fee.kind === 'percent'), fixed_percent: count((m) => m.fee.kind === 'fixed_percent'), capped: count((m) => m.fee.kind === 'capped') },
    qrStrategies: count((m) => m.qrFee !== undefined),
    rateChanges: count((m) => m.feeFromNoon !== undefined),
    cycles: { D0: count((m) => m.cycle === 'D0'), D1: count((m) => m.cycle === 'D1'), 'T+1': count((m) => m.cycle === 'T+1') },
    minimumPayouts: count((m) => m.minimumPayoutMinor > 0n),
    reserves: count((m) => m.reserveBps > 0),
    splits: count((m) => m.split !== undefined),
    payments: 0, refunds: 0, unresolved: 0, resolved: 0,
    byChannel: Object.fromEntries(channelNames.map((c) => [c, 0])),
    reserveHoldsDue: 0, carried: 0,
  };
}

/** A log-uniform amount of fen in min..max: small orders common, large ones rare. */
function amountFen(u: number, min: number, max: number): bigint {
  return BigInt(Math.min(max, Math.floor(min * Math.exp(u * Math.log(max / min)))));
}

function drawItems(options: SettlePlanOptions, merchants: readonly MerchantPlan[], draw: () => number, mix: PlanMix): Map<string, ClearedItem[]> {
  const zipf = new ZipfTable(merchants.length, 1);
  const items = new Map<string, ClearedItem[]>(channelNames.map((c) => [c, []]));
  const stepNs = nsPerDay / BigInt(options.orders);
  for (let i = 0; i < options.orders; i++) {
    const merchant = merchants[zipf.rankAt(draw())]!;
    const channel = draw() < wxShare ? 'wx' : 'ali';
    const u = draw();
    const product = u < 0.4 ? 'card' : u < 0.8 ? 'qr' : 'app';
    const refund = draw() < refundShare;
    const amountMinor = amountFen(draw(), paymentFenMin, refund ? refundFenMax : paymentFenMax);
    const r = draw();
    const reconciliation: ReconciliationState = r < unresolvedShare ? 'unresolved' : r < unresolvedShare + resolvedShare ? 'resolved' : 'matched';
    const cost = rateOf(amountMinor, Number(channelCostE5[channel]), 'half_up');
    items.get(channel)!.push({
      // Refunds are of earlier days' orders: each has its own refund id.
      orderId: `${refund ? 'R' : 'P'}${tradeDay}${String(i).padStart(8, '0')}`,
      merchantId: merchant.merchantId,
      product,
      channel,
      kind: refund ? 'refund' : 'payment',
      accountingTimeNs: dayStartNs + BigInt(i) * stepNs,
      tradeDay,
      amountMinor,
      channelCostMinor: refund ? -cost : cost,
      reconciliation,
    });
    if (refund) mix.refunds++;
    else mix.payments++;
    if (reconciliation === 'unresolved') mix.unresolved++;
    if (reconciliation === 'resolved') mix.resolved++;
    mix.byChannel[channel]!++;
    if ((i + 1) % progressEvery === 0) options.onProgress?.(i + 1);
  }
  return items;
}

function daysBefore(day: BusinessDay, days: number): BusinessDay {
  let result = day;
  for (let i = 0; i < days; i++) result = previousBusinessDay(result);
  return result;
}

/**
 * What runs before the trade day left: every reserve merchant a hold on wx made reserveDays before one of the
 * bench's run dates (so it is released in that run), and ~3% of merchants an amount carried on ali — below their
 * minimum payout, or negative (refunds they owe) for those without one.
 */
function drawEarlierRuns(merchants: readonly MerchantPlan[], draw: () => number, mix: PlanMix): EarlierRuns {
  const reserves: ReserveHold[] = [];
  const carried: CarriedAmount[] = [];
  for (const m of merchants) {
    const [when, amount, carries, carry] = [draw(), draw(), draw(), draw()];
    if (m.reserveBps > 0) {
      const releaseOn = runDates[Math.floor(when * runDates.length)]!;
      reserves.push({ merchantId: m.merchantId, channel: 'wx', heldOn: daysBefore(releaseOn, m.reserveDays), releaseOn, amountMinor: BigInt(1_000 + Math.floor(amount * 200_000)) });
    }
    if (carries < 0.03) {
      const amountMinor = m.minimumPayoutMinor > 1n ? 1n + BigInt(Math.floor(carry * Number(m.minimumPayoutMinor - 1n))) : -1n - BigInt(Math.floor(carry * 5_000));
      carried.push({ merchantId: m.merchantId, channel: 'ali', amountMinor });
    }
  }
  mix.reserveHoldsDue = reserves.length;
  mix.carried = carried.length;
  return { lastRunDate: previousBusinessDay(tradeDay), lastRunBatches: new Map(), settledDays: new Map(), releasedItems: new Set(), reserves, carried };
}
