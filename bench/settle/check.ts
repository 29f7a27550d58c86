// What the settlement bench checks after it ran (issue #18): every fee is what its merchant's fee parameters give
// (the plan's bigint oracle, line by line); the day's fee total is the sum of its lines' fees; every split adds up;
// each run balances (总账平衡) and its preview says the same; the fee postings carry exactly the fees settled;
// across the runs every item of the day is settled or held back exactly once; posting ids never repeat; and the
// last run again, from the state it left, posts nothing. Pure: the bench and its unit test call the same checks.

import type { ChannelDayClearing } from '../../src/core/settle/clearing.js';
import type { PostingRole, PostingSpec } from '../../src/core/settle/settlement-postings.js';
import type { MerchantSettlement, SettlementRun } from '../../src/core/settle/settlement-run.js';
import type { RunDay, SplitTotals } from './pipeline.js';
import { expectedFeeOf, type SettlePlan } from './plan.js';

export interface Check {
  readonly name: string;
  readonly passed: boolean;
  /** What was compared, or the first thing that differed. */
  readonly detail: string;
}

const sum = <T>(values: readonly T[], of: (value: T) => bigint): bigint => values.reduce((total, value) => total + of(value), 0n);

export function checkClearing(plan: SettlePlan, clearings: readonly ChannelDayClearing[]): Check[] {
  let lines = 0;
  let wrong = 0;
  let firstWrong = '';
  const totalsOff: string[] = [];
  for (const clearing of clearings) {
    let lineFees = 0n;
    for (const line of clearing.lines) {
      lines++;
      lineFees += line.fee.feeMinor;
      const expected = expectedFeeOf(plan, line.item);
      if (line.fee.feeMinor === expected) continue;
      if (wrong++ === 0) firstWrong = `; first: ${line.item.kind} ${line.item.orderId} of ${line.item.amountMinor} charged ${line.fee.feeMinor} by ${line.fee.strategyId} v${line.fee.strategyVersion}, expected ${expected}`;
    }
    const merchantFees = sum(clearing.merchants, (m) => m.payable.feesMinor + m.held.feesMinor);
    if (clearing.totals.merchantFeesMinor !== lineFees || merchantFees !== lineFees) {
      totalsOff.push(`${clearing.channel}: total ${clearing.totals.merchantFeesMinor}, merchants ${merchantFees}, lines ${lineFees}`);
    }
  }
  const planned = [...plan.items.values()].reduce((n, items) => n + items.length, 0);
  const feeTotal = sum(clearings, (c) => c.totals.merchantFeesMinor);
  return [
    { name: 'every item cleared once', passed: lines === planned, detail: `${lines} lines of ${planned} items` },
    { name: 'every fee as its strategy document says', passed: wrong === 0, detail: `${lines - wrong} of ${lines} lines equal the bigint oracle${firstWrong}` },
    { name: 'Σ fees = Σ per-line fees', passed: totalsOff.length === 0, detail: totalsOff.length === 0 ? `${feeTotal} minor units, per channel and per merchant alike` : totalsOff.join('; ') },
  ];
}

export function checkSplits(split: SplitTotals): Check {
  const parts = [...split.byReceiver.values()].reduce((a, b) => a + b, 0n);
  return { name: '分账 parts add up', passed: parts === split.splitMinor, detail: `${split.payments} payments: parts ${parts} = payments − fees ${split.splitMinor}` };
}

/** Σ of fee postings as money leaves 在途 (a fee given back enters it: negative). */
function feePostingsMinor(postings: readonly PostingSpec[]): bigint {
  return sum(postings, (p) => (p.role !== 'fee' ? 0n : p.debit.role === 'settlement_in_transit' ? p.amountMinor : -p.amountMinor));
}

/** What a merchant's part of a run comes to, as text: preview and run must give the same. */
function figuresText(merchants: readonly MerchantSettlement[]): string {
  return merchants.map((m) => `${m.merchantId} ${m.channel} ${m.feesMinor} ${m.reserveHeldMinor} ${m.reserveReleasedMinor} ${m.settledMinor} ${m.carriedOutMinor}`).join('\n');
}

export function checkRuns(clearings: readonly ChannelDayClearing[], days: readonly RunDay[], rerun: SettlementRun): Check[] {
  const unbalanced = days.filter((d) => !d.run.check.balanced || !d.preview.check.balanced).map((d) => d.runDate);
  const previewsOff = days.filter((d) => figuresText(d.preview.merchants) !== figuresText(d.run.merchants)).map((d) => d.runDate);
  const feesOff = days.filter((d) => feePostingsMinor(d.run.postings) !== sum(d.run.merchants, (m) => m.feesMinor)).map((d) => d.runDate);
  const postings = days.flatMap((d) => d.run.postings);
  const ids = new Set(postings.map((p) => p.id));
  return [
    { name: 'every run balances (总账平衡)', passed: unbalanced.length === 0, detail: unbalanced.length === 0 ? `${days.length} runs, previews too` : `unbalanced: ${unbalanced.join(', ')}` },
    { name: 'previews say what runs do', passed: previewsOff.length === 0, detail: previewsOff.length === 0 ? 'same amounts per merchant and channel' : `differ on ${previewsOff.join(', ')}` },
    { name: 'fee postings carry the fees settled', passed: feesOff.length === 0, detail: feesOff.length === 0 ? `${sum(days, (d) => feePostingsMinor(d.run.postings))} minor units` : `differ on ${feesOff.join(', ')}` },
    ...dayConserved(clearings, days),
    { name: 'posting ids never repeat', passed: ids.size === postings.length, detail: `${ids.size} ids for ${postings.length} postings` },
    { name: 're-run from `next` posts nothing', passed: rerun.postings.length === 0 && rerun.check.balanced, detail: `${rerun.postings.length} postings, ${rerun.merchants.length} merchants` },
  ];
}

/**
 * Every cycle of the mix falls due within the runs, so per channel the runs together clear the whole day, hold back
 * its unresolved items, and settle or hold back every line's fee.
 */
function dayConserved(clearings: readonly ChannelDayClearing[], days: readonly RunDay[]): Check[] {
  return clearings.map((clearing): Check => {
    const units = days.flatMap((d) => d.run.merchants.filter((m) => m.channel === clearing.channel));
    const cleared = sum(units, (m) => m.clearedMinor);
    const heldBack = sum(units, (m) => m.heldBackMinor);
    const fees = sum(units, (m) => m.feesMinor) + sum(units, (m) => sum(m.heldBack, (line) => line.fee.feeMinor));
    const { clearedMinor, heldMinor, merchantFeesMinor } = clearing.totals;
    const passed = cleared === clearedMinor && heldBack === heldMinor && fees === merchantFeesMinor;
    return {
      name: `channel ${clearing.channel}: the day settled or held back exactly once`,
      passed,
      detail: `cleared ${cleared} / ${clearedMinor}, held back ${heldBack} / ${heldMinor}, fees ${fees} / ${merchantFeesMinor} (runs / clearing)`,
    };
  });
}

export interface RunTotals {
  postings: number;
  byRole: Record<PostingRole, number>;
  /** Linked chains (one per merchant and channel that posted). */
  chains: number;
  settledMinor: bigint;
  feesMinor: bigint;
  reserveHeldMinor: bigint;
  reserveReleasedMinor: bigint;
  /** Carried forward after the last run. */
  carriedOutMinor: bigint;
  paidUnits: number;
  carriedUnits: number;
}

export function runTotals(runs: readonly SettlementRun[]): RunTotals {
  const byRole: Record<PostingRole, number> = { reserve_release: 0, fee: 0, share: 0, reserve_hold: 0, settle: 0, payout: 0 };
  const merchants = runs.flatMap((r) => r.merchants);
  const postings = runs.flatMap((r) => r.postings);
  for (const posting of postings) byRole[posting.role]++;
  return {
    postings: postings.length,
    byRole,
    chains: postings.filter((p) => !p.linked).length,
    settledMinor: sum(merchants, (m) => m.settledMinor),
    feesMinor: sum(merchants, (m) => m.feesMinor),
    reserveHeldMinor: sum(merchants, (m) => m.reserveHeldMinor),
    reserveReleasedMinor: sum(merchants, (m) => m.reserveReleasedMinor),
    carriedOutMinor: runs.length === 0 ? 0n : sum(runs[runs.length - 1]!.next.carried, (c) => c.amountMinor),
    paidUnits: merchants.filter((m) => m.settledMinor > 0n).length,
    carriedUnits: runs.length === 0 ? 0 : runs[runs.length - 1]!.next.carried.length,
  };
}
