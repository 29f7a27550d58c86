// The settlement bench's work, phase by phase, through the pure core (src/core/settle): load and check the
// strategy documents and terms; clear each channel's day (every item's fee by its strategy); split the matched
// payments of 分账 merchants; then one settlement run per run date — previewed, then run — each starting from the
// state the run before it left. No timing and no printing here: bench/settle.ts times each call, the unit test
// runs the same calls small.

import { shareProfit, type Allocated } from '../../src/core/settle/allocation.js';
import { clearChannelDay, type ChannelDayClearing } from '../../src/core/settle/clearing.js';
import { buildFeeSchedule, type FeeSchedule, type MerchantFeeStrategies } from '../../src/core/settle/fee-schedule.js';
import { loadStrategy } from '../../src/core/settle/rule-check.js';
import { previewSettlementRun, settleRun, type EarlierRuns, type SettlementPreview, type SettlementRun } from '../../src/core/settle/settlement-run.js';
import { buildTermsTable, type MerchantTerms } from '../../src/core/settle/settlement-terms.js';
import { buildStrategyHistory, type StrategyHistory } from '../../src/core/settle/strategy-versions.js';
import { buildWorkingCalendar } from '../../src/core/settle/working-calendar.js';
import type { BusinessDay } from '../../src/core/business-day.js';
import { calendarSpec, channelNames, tradeDay, type SettlePlan } from './plan.js';

export interface LoadedRules {
  readonly schedule: FeeSchedule;
  readonly terms: ReadonlyMap<string, MerchantTerms>;
  /** Strategy documents parsed and checked (every version counts). */
  readonly documents: number;
}

/** Parses and checks every strategy document, builds the histories, the fee schedule, the calendar and the terms. */
export function loadRules(plan: SettlePlan): LoadedRules {
  const byMerchant = new Map<string, { byProduct: Map<string, StrategyHistory>; otherProducts: StrategyHistory | undefined }>();
  let documents = 0;
  for (const source of plan.strategies) {
    const history = buildStrategyHistory(source.versions.map((version) => ({ effectiveFromNs: version.effectiveFromNs, strategy: loadStrategy(version.document) })));
    documents += source.versions.length;
    let entry = byMerchant.get(source.merchantId);
    if (entry === undefined) byMerchant.set(source.merchantId, (entry = { byProduct: new Map(), otherProducts: undefined }));
    if (source.product === undefined) entry.otherProducts = history;
    else entry.byProduct.set(source.product, history);
  }
  const schedule = buildFeeSchedule([...byMerchant].map(([merchantId, entry]): MerchantFeeStrategies => ({ merchantId, ...entry })));
  const calendar = buildWorkingCalendar(calendarSpec);
  const terms = buildTermsTable(
    plan.merchants.map((m) => ({ merchantId: m.merchantId, cycle: m.cycle, calendar, minimumPayoutMinor: m.minimumPayoutMinor, reserveBps: m.reserveBps, reserveDays: m.reserveDays, ...(m.split === undefined ? {} : { split: m.split }) })),
  );
  return { schedule, terms, documents };
}

/** One channel's day cleared: clearChannelDay, the call the 10 s target is about. */
export function clearChannel(plan: SettlePlan, channel: string, schedule: FeeSchedule): ChannelDayClearing {
  return clearChannelDay(channel, tradeDay, plan.items.get(channel) ?? [], schedule);
}

export function clearDay(plan: SettlePlan, schedule: FeeSchedule): ChannelDayClearing[] {
  return channelNames.map((channel) => clearChannel(plan, channel, schedule));
}

export interface SplitTotals {
  payments: number;
  /** Receiver name → minor units over the day (the merchants' own parts under their ids). */
  readonly byReceiver: Map<string, bigint>;
  /** Σ (payment − fee) of the payments split: what the parts must add up to. */
  splitMinor: bigint;
}

/**
 * 分账 of every payment a split merchant is paid for (matched or resolved): the fee first, then the receivers'
 * shares of the rest, the merchant taking what is left. shareProfit asserts each split adds up to its payment.
 */
export function splitPayments(plan: SettlePlan, clearings: readonly ChannelDayClearing[]): SplitTotals {
  const totals: SplitTotals = { payments: 0, byReceiver: new Map(), splitMinor: 0n };
  for (const clearing of clearings) {
    for (const line of clearing.lines) {
      const { item } = line;
      if (item.kind !== 'payment' || item.reconciliation === 'unresolved') continue;
      const receivers = plan.merchantsById.get(item.merchantId)?.split;
      if (receivers === undefined) continue;
      const { parts } = shareProfit(item.amountMinor, line.fee.feeMinor, receivers, item.merchantId);
      addParts(totals.byReceiver, parts);
      totals.payments++;
      totals.splitMinor += item.amountMinor - line.fee.feeMinor;
    }
  }
  return totals;
}

function addParts(byReceiver: Map<string, bigint>, parts: readonly Allocated[]): void {
  for (const part of parts) byReceiver.set(part.name, (byReceiver.get(part.name) ?? 0n) + part.amountMinor);
}

export interface RunDay {
  readonly runDate: BusinessDay;
  readonly preview: SettlementPreview;
  readonly run: SettlementRun;
}

/** Runs `work` and answers its result; bench/settle.ts passes one that times it. */
export type Measure = <T>(what: string, work: () => T) => T;
const unmeasured: Measure = (_what, work) => work();

/** One preview and one run per run date, in order, each from the state the previous run left. */
export function settleRunDates(clearings: readonly ChannelDayClearing[], terms: ReadonlyMap<string, MerchantTerms>, earlier: EarlierRuns, runDates: readonly BusinessDay[], measure: Measure = unmeasured): RunDay[] {
  const days: RunDay[] = [];
  let state = earlier;
  for (const runDate of runDates) {
    const input = { runDate, clearings, terms, earlier: state };
    const preview = measure(`preview ${runDate}`, () => previewSettlementRun(input));
    const run = measure(`run ${runDate}`, () => settleRun(input));
    days.push({ runDate, preview, run });
    state = run.next;
  }
  return days;
}

/** The last run date again, from the state the last run left: what a retried run would post (nothing). */
export function rerunLast(clearings: readonly ChannelDayClearing[], terms: ReadonlyMap<string, MerchantTerms>, days: readonly RunDay[]): SettlementRun {
  const last = days[days.length - 1]!;
  return settleRun({ runDate: last.runDate, clearings, terms, earlier: last.run.next });
}
