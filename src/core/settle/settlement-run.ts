// A settlement run (结算) for one run date, as a function over data: which cleared merchant days fall due, what each
// merchant is paid per channel, the rolling reserve held and released, amounts carried below the minimum payout,
// items held back until reconciliation resolves them — and the linked postings that would do it, checked by the
// day-end identity (settlement-balance.ts) before anything is returned. Nothing here reads a clock or stores
// anything: what earlier runs did comes in as EarlierRuns and what this one did goes out as `next`, so re-running
// with the same EarlierRuns yields the same postings and ids, and running again with `next` posts nothing twice.
//
// The unit of settlement is a merchant on one channel: reserve, carry and postings are per (merchant, channel),
// because each channel has its own 在途 account. Within a merchant's cleared day (merchant, channel, trade day):
//  - matched items are settled together when the day falls due (settlementDate of the trade day on the merchant's
//    cycle ≤ run date) and the day was not settled by an earlier run; the day's key then joins settledDays;
//  - unresolved items are held back (they stay in 在途);
//  - resolved items (an exception reconciliation closed) are paid one by one, each under its own release key: in
//    the run the day falls due if they are resolved by then, else in the first run after they resolve.
// Payable = net (payments − refunds − fees) − reserve held + reserve released + carried in; it is paid when it
// reaches the merchant's minimum payout (and is positive), else carried forward whole, negative amounts included
// (refunds the merchant owes are netted against later days).

import { assert } from '../assert.js';
import { formatBusinessDay, isBusinessDay, nextBusinessDay, type BusinessDay } from '../business-day.js';
import { allocate, shareProfit } from './allocation.js';
import { reserveByStrategy, settledByStrategy } from './run-strategies.js';
import type { StrategyHistory } from './strategy-versions.js';
import { figuresOf, type ChannelDayClearing, type ClearedLine } from './clearing.js';
import { checkRunBalance, refuseUnbalanced, type BalanceCheck, type RunFigures } from './settlement-balance.js';
import { PostingIds } from './settlement-ids.js';
import { merchantPostings, type PostingSpec, type ReceiverShare } from './settlement-postings.js';
import type { MerchantTerms } from './settlement-terms.js';
import { settlementDate } from './working-calendar.js';
import { SettleError } from './settle-errors.js';
import { reserveHoldsOpenMax, runClearingsMax, runMerchantChannelsMax } from './settle-limits.js';

/** A rolling reserve held by a run, released by the first run on or after `releaseOn`. */
export interface ReserveHold {
  readonly merchantId: string;
  readonly channel: string;
  readonly heldOn: BusinessDay;
  readonly releaseOn: BusinessDay;
  readonly amountMinor: bigint;
}

/**
 * What earlier runs did, as the next run needs it. Storage may drop settledDays and releasedItems keys of trade
 * days older than the oldest day any clearing given to a run can still hold.
 */
export interface EarlierRuns {
  /** The last run date; runs go forward (a run may repeat its date, never go back). */
  readonly lastRunDate: BusinessDay | undefined;
  /** Batches each merchant and channel posted on lastRunDate (unitKeyOf → count): a second run that day takes the next batch. */
  readonly lastRunBatches: ReadonlyMap<string, number>;
  /** dayKeyOf → payments − refunds of the matched items settled then; a clearing that later differs is refused. */
  readonly settledDays: ReadonlyMap<string, bigint>;
  /** releaseKeyOf of every resolved item paid. */
  readonly releasedItems: ReadonlySet<string>;
  /** Reserve holds not yet released. */
  readonly reserves: readonly ReserveHold[];
  /** Amounts carried forward, at most one per merchant and channel, never zero (negative when the merchant owes). */
  readonly carried: readonly CarriedAmount[];
}

export interface CarriedAmount {
  readonly merchantId: string;
  readonly channel: string;
  readonly amountMinor: bigint;
}

export const noEarlierRuns: EarlierRuns = {
  lastRunDate: undefined,
  lastRunBatches: new Map(),
  settledDays: new Map(),
  releasedItems: new Set(),
  reserves: [],
  carried: [],
};

export interface SettlementRunInput {
  readonly runDate: BusinessDay;
  /** The channel days that may hold something due: each (channel, day) at most once; old ones are skipped by key. */
  readonly clearings: readonly ChannelDayClearing[];
  /** merchant id → terms (settlement-terms.ts's buildTermsTable). */
  readonly terms: ReadonlyMap<string, MerchantTerms>;
  readonly earlier: EarlierRuns;
  /** merchant id → its reserve strategy (run-strategies.ts), which replaces the terms' basis points. */
  readonly reserveStrategies?: ReadonlyMap<string, StrategyHistory>;
  /** merchant id → its settlement strategy (run-strategies.ts), which replaces the minimum payout rule. */
  readonly settlementStrategies?: ReadonlyMap<string, StrategyHistory>;
}

/** One merchant on one channel in a run: the amounts, the lines behind them and their explanation. */
export interface MerchantSettlement extends RunFigures {
  readonly merchantId: string;
  readonly cycle: string;
  readonly batch: number;
  /** Trade days whose matched items fall due in this run. */
  readonly daysDue: readonly BusinessDay[];
  /** Matched and resolved lines of those days, paid now. */
  readonly paid: readonly ClearedLine[];
  /** Unresolved lines of those days, held back now. */
  readonly heldBack: readonly ClearedLine[];
  /** Lines held by earlier runs whose reconciliation has resolved, paid now. */
  readonly released: readonly ClearedLine[];
  readonly grossMinor: bigint;
  readonly feesMinor: bigint;
  readonly netMinor: bigint;
  /** 分账: each receiver's shares of the payments paid in this run; sharesMinor their sum. */
  readonly shares: readonly ReceiverShare[];
  readonly sharesMinor: bigint;
  readonly reserveHeldMinor: bigint;
  readonly reserveReleaseOn: BusinessDay | undefined;
  readonly reserveReleasedMinor: bigint;
  readonly payableMinor: bigint;
  readonly settledMinor: bigint;
  readonly explanation: readonly string[];
}

/** A dry run: amounts, explanations and the check, nothing to post. */
export interface SettlementPreview {
  readonly runDate: BusinessDay;
  readonly merchants: readonly MerchantSettlement[];
  readonly check: BalanceCheck;
}

export interface SettlementRun extends SettlementPreview {
  /** The linked transfer specs, merchant by merchant (by merchant id, then channel), each chain in role order. */
  readonly postings: readonly PostingSpec[];
  /** EarlierRuns for the next run, once these postings are posted. */
  readonly next: EarlierRuns;
}

// Keys are JSON arrays: unambiguous whatever characters the names hold.

export function unitKeyOf(merchantId: string, channel: string): string {
  return JSON.stringify([merchantId, channel]);
}

export function dayKeyOf(merchantId: string, channel: string, tradeDay: BusinessDay): string {
  return JSON.stringify([merchantId, channel, tradeDay]);
}

export function releaseKeyOf(line: ClearedLine): string {
  const { item } = line;
  return JSON.stringify([item.merchantId, item.channel, item.tradeDay, item.kind, item.orderId]);
}

/** What one merchant and channel bring to the run, gathered from clearings and earlier runs. */
interface Unit {
  readonly merchantId: string;
  readonly channel: string;
  readonly terms: MerchantTerms;
  readonly daysDue: { day: BusinessDay; matchedMinor: bigint }[];
  readonly paid: ClearedLine[];
  readonly heldBack: ClearedLine[];
  readonly released: ClearedLine[];
  readonly reservesDue: ReserveHold[];
  clearedMinor: bigint;
  carriedInMinor: bigint;
}

interface Plan {
  readonly units: readonly Unit[];
  readonly merchants: readonly MerchantSettlement[];
  readonly postings: readonly PostingSpec[];
  readonly check: BalanceCheck;
}

/** The run's amounts, postings and balance check, refused or not. */
function planRun(input: SettlementRunInput): Plan {
  checkRunInput(input);
  const units = gatherUnits(input);
  const batches = input.earlier.lastRunDate === input.runDate ? input.earlier.lastRunBatches : new Map<string, number>();
  const ids = new PostingIds();
  const merchants: MerchantSettlement[] = [];
  const postings: PostingSpec[] = [];
  for (const unit of units) {
    const strategies = { reserve: input.reserveStrategies?.get(unit.merchantId), settlement: input.settlementStrategies?.get(unit.merchantId) };
    const settlement = settleUnit(unit, input.runDate, (batches.get(unitKeyOf(unit.merchantId, unit.channel)) ?? 0) + 1, strategies);
    merchants.push(settlement);
    postings.push(...merchantPostings({ ...settlement, cycleText: settlement.cycle, runDate: input.runDate }, ids));
  }
  return { units, merchants, postings, check: checkRunBalance(merchants, postings) };
}

/** The run, its postings and the state after it; refuses (run_unbalanced) a run whose day-end check fails. */
export function settleRun(input: SettlementRunInput): SettlementRun {
  const { units, merchants, postings, check } = planRun(input);
  refuseUnbalanced(check);
  return { runDate: input.runDate, merchants, check, postings, next: nextEarlierRuns(input, units, merchants, postings) };
}

/** A dry run: the amounts, their explanations and the check (balanced or not, with its differences); nothing else. */
export function previewSettlementRun(input: SettlementRunInput): SettlementPreview {
  const { merchants, check } = planRun(input);
  return { runDate: input.runDate, merchants, check };
}

function checkRunInput(input: SettlementRunInput): void {
  const { runDate, earlier } = input;
  if (!isBusinessDay(runDate)) throw new SettleError('date_invalid', `run date ${runDate} is no yyyymmdd date`);
  if (earlier.lastRunDate !== undefined && runDate < earlier.lastRunDate) {
    throw new SettleError('run_date_order', `run date ${formatBusinessDay(runDate)} is before the last run, ${formatBusinessDay(earlier.lastRunDate)}: runs never go back`);
  }
  if (input.clearings.length > runClearingsMax) throw new SettleError('run_too_large', `${input.clearings.length} channel days exceed ${runClearingsMax} in one run`);
  if (earlier.reserves.length > reserveHoldsOpenMax) throw new SettleError('run_too_large', `${earlier.reserves.length} open reserve holds exceed ${reserveHoldsOpenMax}`);
  const seen = new Set<string>();
  for (const clearing of input.clearings) {
    const key = JSON.stringify([clearing.channel, clearing.businessDay]);
    if (seen.has(key)) throw new SettleError('clearing_duplicate', `channel ${clearing.channel} day ${formatBusinessDay(clearing.businessDay)} is given twice`);
    seen.add(key);
  }
}

function termsOf(input: SettlementRunInput, merchantId: string): MerchantTerms {
  const terms = input.terms.get(merchantId);
  if (terms === undefined) throw new SettleError('terms_missing', `merchant ${merchantId} has no settlement terms`);
  return terms;
}

/** Every merchant and channel with something for this run, in (merchant, channel) order. */
function gatherUnits(input: SettlementRunInput): Unit[] {
  const units = new Map<string, Unit>();
  const unitOf = (merchantId: string, channel: string): Unit => {
    const key = unitKeyOf(merchantId, channel);
    let unit = units.get(key);
    if (unit === undefined) {
      if (units.size >= runMerchantChannelsMax) throw new SettleError('run_too_large', `more than ${runMerchantChannelsMax} merchant–channel pairs in one run`);
      const terms = termsOf(input, merchantId);
      unit = { merchantId, channel, terms, daysDue: [], paid: [], heldBack: [], released: [], reservesDue: [], clearedMinor: 0n, carriedInMinor: 0n };
      units.set(key, unit);
    }
    return unit;
  };
  // Clearings in (channel, day) order, so each unit's lines come out in day order whatever order they were given in.
  const clearings = [...input.clearings].sort((a, b) => compareText(a.channel, b.channel) || a.businessDay - b.businessDay);
  for (const clearing of clearings) {
    for (const slice of merchantSlices(clearing.lines)) gatherMerchantDay(input, clearing, slice, unitOf);
  }
  for (const hold of [...input.earlier.reserves].sort(compareHolds)) {
    if (hold.releaseOn <= input.runDate) unitOf(hold.merchantId, hold.channel).reservesDue.push(hold);
  }
  const carriedSeen = new Set<string>();
  for (const carried of input.earlier.carried) {
    const key = unitKeyOf(carried.merchantId, carried.channel);
    if (carriedSeen.has(key)) throw new SettleError('state_invalid', `merchant ${carried.merchantId} channel ${carried.channel} carries two amounts forward`);
    carriedSeen.add(key);
    unitOf(carried.merchantId, carried.channel).carriedInMinor = carried.amountMinor;
  }
  return [...units.values()].sort((a, b) => compareText(a.merchantId, b.merchantId) || compareText(a.channel, b.channel));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reserve holds in (merchant, channel, held on, release on, amount) order: the order of explanations and of `next`. */
function compareHolds(a: ReserveHold, b: ReserveHold): number {
  return (
    compareText(a.merchantId, b.merchantId) ||
    compareText(a.channel, b.channel) ||
    a.heldOn - b.heldOn ||
    a.releaseOn - b.releaseOn ||
    (a.amountMinor < b.amountMinor ? -1 : a.amountMinor > b.amountMinor ? 1 : 0)
  );
}

/** A clearing's lines are sorted by merchant: one slice per merchant. */
function merchantSlices(lines: readonly ClearedLine[]): ClearedLine[][] {
  const slices: ClearedLine[][] = [];
  for (const line of lines) {
    const last = slices[slices.length - 1];
    if (last !== undefined && last[0]!.item.merchantId === line.item.merchantId) last.push(line);
    else slices.push([line]);
  }
  return slices;
}

function gatherMerchantDay(input: SettlementRunInput, clearing: ChannelDayClearing, lines: readonly ClearedLine[], unitOf: (merchantId: string, channel: string) => Unit): void {
  const merchantId = lines[0]!.item.merchantId;
  const { channel, businessDay } = clearing;
  const matchedMinor = lines.reduce((sum, line) => (line.item.reconciliation === 'matched' ? sum + line.grossMinor : sum), 0n);
  const settledMinor = input.earlier.settledDays.get(dayKeyOf(merchantId, channel, businessDay));
  const releasable = (line: ClearedLine): boolean => line.item.reconciliation === 'resolved' && !input.earlier.releasedItems.has(releaseKeyOf(line));
  if (settledMinor !== undefined) {
    if (settledMinor !== matchedMinor) {
      throw new SettleError('settled_day_changed', `merchant ${merchantId} channel ${channel} day ${formatBusinessDay(businessDay)} was settled with matched items of ${settledMinor}, but its clearing now has ${matchedMinor}: a settled day's matched items never change`);
    }
    const released = lines.filter(releasable);
    if (released.length > 0) unitOf(merchantId, channel).released.push(...released);
    return;
  }
  const terms = termsOf(input, merchantId);
  if (settlementDate(terms.calendar, businessDay, terms.parsedCycle) > input.runDate) return;
  const unit = unitOf(merchantId, channel);
  unit.daysDue.push({ day: businessDay, matchedMinor });
  for (const line of lines) {
    unit.clearedMinor += line.grossMinor;
    if (line.item.reconciliation === 'unresolved') unit.heldBack.push(line);
    else if (line.item.reconciliation === 'matched' || releasable(line)) unit.paid.push(line);
  }
}

/** run date + days, in calendar days. */
function addCalendarDays(day: BusinessDay, days: number): BusinessDay {
  let result = day;
  for (let i = 0; i < days; i++) result = nextBusinessDay(result);
  return result;
}

function settleUnit(unit: Unit, runDate: BusinessDay, batch: number, strategies: { reserve: StrategyHistory | undefined; settlement: StrategyHistory | undefined }): MerchantSettlement {
  const { terms } = unit;
  const paidFigures = figuresOf([...unit.paid, ...unit.released]);
  const grossMinor = paidFigures.paymentsMinor - paidFigures.refundsMinor;
  const netMinor = paidFigures.netMinor;
  const shares = sharesOf(unit);
  const sharesMinor = shares.reduce((sum, share) => sum + share.amountMinor, 0n);
  const keptMinor = netMinor - sharesMinor;
  // The reserve: the merchant's reserve strategy where it has one; else a share of what it keeps, when positive,
  // rounded down by allocate's rule.
  const figures = { keptMinor, grossMinor, feesMinor: paidFigures.feesMinor };
  const byStrategy = strategies.reserve === undefined ? undefined : reserveByStrategy(unit.merchantId, strategies.reserve, runDate, figures);
  const reserveHeldMinor =
    byStrategy !== undefined ? byStrategy.reserveMinor : keptMinor > 0n && terms.reserveBps > 0 ? allocate(keptMinor, [{ name: 'reserve', share: { bps: terms.reserveBps } }, { name: 'merchant', rest: true }])[0]!.amountMinor : 0n;
  const reserveDays = byStrategy !== undefined ? Math.max(terms.reserveDays, 1) : terms.reserveDays;
  const reserveReleasedMinor = unit.reservesDue.reduce((sum, hold) => sum + hold.amountMinor, 0n);
  const payableMinor = keptMinor - reserveHeldMinor + reserveReleasedMinor + unit.carriedInMinor;
  const thresholdMinor = terms.minimumPayoutMinor > 1n ? terms.minimumPayoutMinor : 1n;
  // What is paid now: the merchant's settlement strategy where it has one, else all of it from the minimum payout on.
  const bySettlement = strategies.settlement === undefined ? undefined : settledByStrategy(unit.merchantId, strategies.settlement, runDate, figures, payableMinor);
  const settledMinor = bySettlement !== undefined ? bySettlement.settledMinor : payableMinor >= thresholdMinor ? payableMinor : 0n;
  const heldBackMinor = unit.heldBack.reduce((sum, line) => sum + line.grossMinor, 0n);
  const releasedFromHoldMinor = unit.released.reduce((sum, line) => sum + line.grossMinor, 0n);
  const settlement: Omit<MerchantSettlement, 'explanation'> = {
    merchantId: unit.merchantId,
    channel: unit.channel,
    cycle: terms.cycleText,
    batch,
    daysDue: unit.daysDue.map((due) => due.day),
    paid: unit.paid,
    heldBack: unit.heldBack,
    released: unit.released,
    clearedMinor: unit.clearedMinor,
    heldBackMinor,
    releasedFromHoldMinor,
    carriedInMinor: unit.carriedInMinor,
    carriedOutMinor: payableMinor - settledMinor,
    grossMinor,
    feesMinor: paidFigures.feesMinor,
    netMinor,
    shares,
    sharesMinor,
    reserveHeldMinor,
    reserveReleaseOn: reserveHeldMinor > 0n ? addCalendarDays(runDate, reserveDays) : undefined,
    reserveReleasedMinor,
    payableMinor,
    settledMinor,
  };
  assert(settlement.clearedMinor - heldBackMinor + releasedFromHoldMinor === grossMinor, 'what is paid is what fell due less what is held, plus what is released');
  return { ...settlement, explanation: explainSettlement(settlement, unit, thresholdMinor, byStrategy?.explanation, bySettlement?.explanation) };
}

/**
 * 分账 of the payments the unit pays in this run (matched and resolved, its due days' and released ones): each split
 * by shareProfit after its own fee (a fee below zero counts as none), the receivers' parts summed in split order.
 * Refunds are the merchant's alone: they reduce what it keeps, never a receiver's share.
 */
function sharesOf(unit: Unit): ReceiverShare[] {
  const split = unit.terms.split;
  if (split === undefined) return [];
  const byReceiver = new Map<string, bigint>(split.map((receiver) => [receiver.receiver, 0n]));
  for (const line of [...unit.paid, ...unit.released]) {
    if (line.item.kind !== 'payment') continue;
    const fee = line.fee.feeMinor > 0n ? line.fee.feeMinor : 0n;
    for (const part of shareProfit(line.item.amountMinor, fee, split, unit.merchantId).parts) {
      if (part.name !== unit.merchantId) byReceiver.set(part.name, byReceiver.get(part.name)! + part.amountMinor);
    }
  }
  return [...byReceiver].filter(([, amountMinor]) => amountMinor > 0n).map(([receiver, amountMinor]) => ({ receiver, amountMinor }));
}

function explainSettlement(
  s: Omit<MerchantSettlement, 'explanation'>,
  unit: Unit,
  thresholdMinor: bigint,
  reserveSteps: readonly string[] | undefined,
  settlementSteps: readonly string[] | undefined,
): string[] {
  const days = s.daysDue.map(formatBusinessDay).join(', ') || 'none';
  const lines = [
    `merchant ${s.merchantId} on ${s.channel}, cycle ${s.cycle}, batch ${s.batch}: trade days due ${days}`,
    `  cleared ${s.clearedMinor} over ${s.paid.length + s.heldBack.length} items; held back ${s.heldBackMinor} (${s.heldBack.length} unresolved); released ${s.releasedFromHoldMinor} (${s.released.length} resolved since)`,
    `  gross ${s.grossMinor} − fees ${s.feesMinor} = net ${s.netMinor}`,
  ];
  for (const share of s.shares) lines.push(`  分账 to ${share.receiver}: ${share.amountMinor}`);
  const keptMinor = s.netMinor - s.sharesMinor;
  if (reserveSteps !== undefined) {
    lines.push(`  reserve by strategy: ${s.reserveHeldMinor} of ${keptMinor} kept${s.reserveHeldMinor > 0n ? `, held until ${formatBusinessDay(s.reserveReleaseOn!)}` : ''}`, ...reserveSteps.map((step) => `    ${step}`));
  } else if (s.reserveHeldMinor > 0n) {
    lines.push(`  reserve ${unit.terms.reserveBps} bps of ${keptMinor} = ${s.reserveHeldMinor}, held until ${formatBusinessDay(s.reserveReleaseOn!)}`);
  }
  for (const hold of unit.reservesDue) lines.push(`  reserve of ${hold.amountMinor} held on ${formatBusinessDay(hold.heldOn)} released (due ${formatBusinessDay(hold.releaseOn)})`);
  const sharesText = s.sharesMinor === 0n ? '' : ` − shares ${s.sharesMinor}`;
  lines.push(`  payable = ${s.netMinor}${sharesText} − ${s.reserveHeldMinor} + ${s.reserveReleasedMinor} + carried in ${s.carriedInMinor} = ${s.payableMinor}`);
  if (settlementSteps !== undefined) {
    lines.push(`  settlement by strategy: paid out ${s.settledMinor}, carried forward ${s.carriedOutMinor}`, ...settlementSteps.map((step) => `    ${step}`));
  } else {
    lines.push(
      s.settledMinor > 0n
        ? `  paid out ${s.settledMinor} (minimum ${thresholdMinor})`
        : `  carried forward ${s.carriedOutMinor}: below the minimum payout of ${thresholdMinor}`,
    );
  }
  return lines;
}

function nextEarlierRuns(input: SettlementRunInput, units: readonly Unit[], merchants: readonly MerchantSettlement[], postings: readonly PostingSpec[]): EarlierRuns {
  const { earlier, runDate } = input;
  const lastRunBatches = new Map(earlier.lastRunDate === runDate ? earlier.lastRunBatches : []);
  for (const posting of postings) lastRunBatches.set(unitKeyOf(posting.merchantId, posting.channel), posting.batch);
  const settledDays = new Map(earlier.settledDays);
  const releasedItems = new Set(earlier.releasedItems);
  const carried: CarriedAmount[] = [];
  const reserves = earlier.reserves.filter((hold) => hold.releaseOn > runDate);
  units.forEach((unit, i) => {
    const settlement = merchants[i]!;
    assert(settlement.merchantId === unit.merchantId && settlement.channel === unit.channel, 'settlements are in unit order');
    for (const due of unit.daysDue) settledDays.set(dayKeyOf(unit.merchantId, unit.channel, due.day), due.matchedMinor);
    for (const line of [...unit.paid, ...unit.released]) if (line.item.reconciliation === 'resolved') releasedItems.add(releaseKeyOf(line));
    if (settlement.carriedOutMinor !== 0n) carried.push({ merchantId: unit.merchantId, channel: unit.channel, amountMinor: settlement.carriedOutMinor });
    if (settlement.reserveHeldMinor > 0n) {
      reserves.push({ merchantId: unit.merchantId, channel: unit.channel, heldOn: runDate, releaseOn: settlement.reserveReleaseOn!, amountMinor: settlement.reserveHeldMinor });
    }
  });
  if (reserves.length > reserveHoldsOpenMax) throw new SettleError('run_too_large', `${reserves.length} open reserve holds would exceed ${reserveHoldsOpenMax}`);
  reserves.sort(compareHolds);
  return { lastRunDate: runDate, lastRunBatches, settledDays, releasedItems, reserves, carried };
}
