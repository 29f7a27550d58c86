// The settlement bench (bench/settle.ts, issue #18) run small: its day is the same for a seed; every kind of fee,
// cycle, reserve, minimum payout and split it promises is drawn; its strategy documents compute what its bigint
// oracle computes, ties included; the whole pipeline at 2,000 items of 50 merchants passes every check; the checks
// fail when a fee, a posting or the re-run state is wrong; and --post's requests keep linked chains whole, each kind of chain apart.

import { describe, expect, it } from 'vitest';
import { checkClearing, checkRuns, checkSplits, runTotals, type Check } from '../../../bench/settle/check.js';
import { clearDay, loadRules, rerunLast, settleRunDates, splitPayments } from '../../../bench/settle/pipeline.js';
import { feeByParams, feeDocument, planSettlement, rateText, runDates, type FeeParams } from '../../../bench/settle/plan.js';
import { chainsOf, packChains, requestsOf } from '../../../src/core/settle/posting-requests.js';
import { evaluateStrategy } from '../../../src/core/settle/rule-eval.js';
import { loadStrategy } from '../../../src/core/settle/rule-check.js';
import { settleRun } from '../../../src/core/settle/settlement-run.js';

const small = { orders: 2_000, merchants: 50, seed: 18 };

function runSmall() {
  const plan = planSettlement(small);
  const rules = loadRules(plan);
  const clearings = clearDay(plan, rules.schedule);
  const split = splitPayments(plan, clearings);
  const days = settleRunDates(clearings, rules.terms, plan.earlier, runDates);
  const rerun = rerunLast(clearings, rules.terms, days);
  return { plan, rules, clearings, split, days, rerun };
}

const failed = (checks: readonly Check[]): string[] => checks.filter((check) => !check.passed).map((check) => check.name);

describe('planSettlement', () => {
  it('draws the same day for the same seed, another for another', () => {
    const plan = planSettlement(small);
    expect(planSettlement(small).items).toEqual(plan.items);
    expect(planSettlement({ ...small, seed: 19 }).items).not.toEqual(plan.items);
    expect([...plan.items.values()].reduce((n, items) => n + items.length, 0)).toBe(small.orders);
  });

  it('draws every fee kind, cycle, reserve, minimum payout, split and reconciliation state it describes', () => {
    const { mix } = planSettlement({ orders: 20_000, merchants: 1_000, seed: 18 });
    for (const n of [...Object.values(mix.feeKinds), ...Object.values(mix.cycles), mix.qrStrategies, mix.rateChanges, mix.minimumPayouts, mix.reserves, mix.splits]) expect(n).toBeGreaterThan(20);
    expect(mix.refunds / 20_000).toBeCloseTo(0.03, 2);
    expect(mix.unresolved).toBeGreaterThan(50);
    expect(mix.resolved).toBeGreaterThan(20);
    expect(mix.reserveHoldsDue).toBe(mix.reserves);
    expect(mix.carried).toBeGreaterThan(10);
  });
});

describe('the strategy documents', () => {
  const kinds: FeeParams[] = [
    { kind: 'percent', rateE5: 500, fixedMinor: 0n, floorMinor: 0n, capMinor: 0n },
    { kind: 'fixed_percent', rateE5: 500, fixedMinor: 30n, floorMinor: 0n, capMinor: 0n },
    { kind: 'capped', rateE5: 500, fixedMinor: 0n, floorMinor: 100n, capMinor: 2_500n },
  ];
  // 100 × 0.5% = 0.5 and 300 × 0.5% = 1.5 are ties; 70 is below the floor; 1,000,000 is above the cap.
  const amounts = [70n, 100n, 101n, 300n, 12_345n, 1_000_000n];

  it.each(kinds)('$kind computes what the bigint oracle computes, payments and refunds', (params) => {
    const strategy = loadStrategy(feeDocument(`fee/${params.kind}`, 1, params));
    for (const amount of amounts) {
      for (const refund of [false, true]) {
        const fee = evaluateStrategy(strategy, { amount, refund: refund ? 1n : 0n }).outputs.get('fee');
        expect(fee, `${amount} ${refund ? 'refund' : 'payment'}`).toBe(feeByParams(params, amount, refund));
      }
    }
  });

  it('rounds ties as each kind says: half up, half even, up', () => {
    expect(feeByParams(kinds[0]!, 100n, false)).toBe(1n);
    expect(feeByParams(kinds[1]!, 100n, true)).toBe(0n); // 0.5 rounds half even to 0: nothing to give back
    expect(feeByParams(kinds[1]!, 300n, true)).toBe(-2n);
    expect(feeByParams(kinds[2]!, 101n, false)).toBe(100n);
    expect(rateText(550)).toBe('0.0055');
    expect(rateText(600)).toBe('0.006');
  });
});

describe('the pipeline at 2,000 items of 50 merchants', () => {
  const { plan, clearings, split, days, rerun, rules } = runSmall();

  it('passes every check and posts in every run a cycle falls due', () => {
    const checks = [...checkClearing(plan, clearings), checkSplits(split), ...checkRuns(clearings, days, rerun)];
    expect(failed(checks)).toEqual([]);
    expect(checks.length).toBeGreaterThanOrEqual(11);
    const totals = runTotals(days.map((d) => d.run));
    expect(totals.postings).toBeGreaterThan(100);
    for (const role of Object.values(totals.byRole)) expect(role).toBeGreaterThan(0);
    // Friday pays D0, Saturday D1, Monday T+1; Sunday only releases reserves.
    expect(days.map((d) => d.run.merchants.filter((m) => m.daysDue.length > 0).map((m) => m.cycle)).map((cycles) => [...new Set(cycles)].sort())).toEqual([['D0'], ['D1'], [], ['T+1']]);
    expect(rules.documents).toBe(plan.strategies.reduce((n, s) => n + s.versions.length, 0));
  });

  it('finds a fee one cent off', () => {
    const line = clearings[0]!.lines[0]!;
    const tampered = [{ ...clearings[0]!, lines: [{ ...line, fee: { ...line.fee, feeMinor: line.fee.feeMinor + 1n } }, ...clearings[0]!.lines.slice(1)] }, ...clearings.slice(1)];
    expect(failed(checkClearing(plan, tampered))).toEqual(['every fee as its strategy document says', 'Σ fees = Σ per-line fees']);
  });

  it('finds a fee posting one cent off, and a re-run that pays again', () => {
    const day = days[1]!;
    const at = day.run.postings.findIndex((p) => p.role === 'fee');
    const postings = day.run.postings.map((p, i) => (i === at ? { ...p, amountMinor: p.amountMinor + 1n } : p));
    const tampered = days.map((d) => (d === day ? { ...d, run: { ...d.run, postings } } : d));
    expect(failed(checkRuns(clearings, tampered, rerun))).toEqual(['fee postings carry the fees settled']);
    const again = settleRun({ runDate: day.runDate, clearings, terms: rules.terms, earlier: days[0]!.run.next });
    expect(failed(checkRuns(clearings, days, again))).toEqual(['re-run from `next` posts nothing']);
  });
});

describe('the requests of --post', () => {
  // Chains of 3, 2, 1, 3 transfers: 'l' is linked to the next, 'e' ends a chain; '+' marks a chain across shards.
  const transfers = ['l', 'l', 'e', 'l+', 'e+', 'e', 'l+', 'l+', 'e+'];
  const isLinked = (t: string) => t.startsWith('l');

  it('fill requests up to the size without splitting a chain', () => {
    expect(packChains(chainsOf(transfers, isLinked), 4)).toEqual([['l', 'l', 'e'], ['l+', 'e+', 'e'], ['l+', 'l+', 'e+']]);
    expect(packChains(chainsOf(transfers, isLinked), 9)).toEqual([transfers]);
  });

  it('keep chains within a shard apart from chains across shards, so each request is one stage', () => {
    expect(requestsOf(transfers, 5, isLinked, (chain) => chain.some((t) => t.endsWith('+')))).toEqual({
      within: [['l', 'l', 'e', 'e']],
      across: [['l+', 'e+', 'l+', 'l+', 'e+']],
    });
  });
});
