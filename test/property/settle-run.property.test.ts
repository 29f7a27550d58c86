// Issue #18, clearing and settlement runs. A random month of trades (merchants on D0…D2 and T+0…T+2 cycles with
// random minimum payouts and rolling reserves, payments and refunds on two channels, some items unresolved and
// resolved days later, some never) is cleared and settled by runs on random dates, each from the state the last
// left. Invariants:
//  1. Every run balances (总账平衡): settleRun refuses one that does not, and its check says balanced.
//  2. Re-running a run from the same earlier state yields the same postings, ids included; running again from
//     the state after it posts nothing; no id is posted twice across all runs.
//  3. Results do not depend on order: items within a channel day, channel days, reserve holds and carried amounts
//     shuffled give the same settlements and postings.
//  4. Conservation across runs, after every run: payments − refunds of every item of a settled merchant day =
//     Σ settle postings + Σ fees (signed) + open reserves + items still held back + amounts carried forward; at
//     the end no reserve is open and only never-resolved items are held.
//  5. One cent added to any posting is found by the check, with the exact difference its role and direction give.
// fast-check prints the seed and the shrunk counterexample on failure; TALLY_PROPERTY_SEED and
// TALLY_PROPERTY_RUNS replay or widen a run.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextBusinessDay } from '../../src/core/business-day.js';
import { clearChannelDay, type ChannelDayClearing, type ClearedItem } from '../../src/core/settle/clearing.js';
import { checkRunBalance } from '../../src/core/settle/settlement-balance.js';
import type { PostingSpec } from '../../src/core/settle/settlement-postings.js';
import { dayKeyOf, noEarlierRuns, releaseKeyOf, settleRun, type EarlierRuns, type SettlementRunInput } from '../../src/core/settle/settlement-run.js';
import { buildTermsTable, type MerchantTermsSpec } from '../../src/core/settle/settlement-terms.js';
import { cn2025, jan1Ns, schedule } from '../unit/core/settle/settle-fixtures.js';

const runs = Number(process.env.TALLY_PROPERTY_RUNS ?? 60);
const seed = process.env.TALLY_PROPERTY_SEED === undefined ? undefined : Number(process.env.TALLY_PROPERTY_SEED);
const options = { numRuns: runs, seed };

const merchants = ['m-a', 'm-b', 'm-c'] as const;
const channels = ['wx', 'ali'] as const;
const firstDay = 20250526; // Monday before the Dragon Boat holiday (Sat 05-31 to Mon 06-02)
const tradeDaysCount = 11;
const runDaysCount = 26; // through 2025-06-20: every cycle, resolution and reserve of the trades has come due

function addDays(day: number, days: number): number {
  let result = day;
  for (let i = 0; i < days; i++) result = nextBusinessDay(result);
  return result;
}

interface Trade {
  readonly item: ClearedItem;
  /** Days after its trade day the item's reconciliation resolves; null when it is matched or never resolves. */
  readonly resolvesAfterDays: number | null;
}

const termsArb = fc.record({
  cycle: fc.constantFrom('D0', 'D1', 'D2', 'T+0', 'T+1', 'T+2'),
  minimumPayoutMinor: fc.constantFrom(0n, 1_000n, 50_000n),
  reserveBps: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })),
  reserveDays: fc.integer({ min: 1, max: 4 }),
  // 分账: none, or one or two receivers taking shares of each payment after its fee.
  split: fc.option(
    fc.oneof(
      fc.tuple(fc.integer({ min: 1, max: 5000 })).map(([bps]) => [{ receiver: 'agent-1', share: { bps } }]),
      fc.tuple(fc.integer({ min: 1, max: 4000 }), fc.constantFrom('0.015', '0.333', '0.0001')).map(([bps, ratio]) => [{ receiver: 'agent-1', share: { bps } }, { receiver: 'platform', share: { ratio } }]),
    ),
    { nil: undefined },
  ),
});

const tradeArb = fc
  .record({
    merchant: fc.constantFrom(...merchants),
    channel: fc.constantFrom(...channels),
    dayOffset: fc.integer({ min: 0, max: tradeDaysCount - 1 }),
    refund: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    // At least 100: m-a's fee floor is 100 and a fee never exceeds its amount.
    amountMinor: fc.bigInt({ min: 100n, max: 200_000n }),
    channelCostMinor: fc.bigInt({ min: 0n, max: 500n }),
    reconciliation: fc.constantFrom('matched', 'matched', 'matched', 'unresolved'),
    resolvesAfterDays: fc.option(fc.integer({ min: 0, max: 8 }), { nil: null }),
  })
  .map((t): Trade => {
    const unresolved = t.reconciliation === 'unresolved';
    return {
      item: {
        orderId: '', // numbered with the accounting time once the trades are drawn
        merchantId: t.merchant,
        product: 'card',
        channel: t.channel,
        kind: t.refund ? 'refund' : 'payment',
        accountingTimeNs: jan1Ns,
        tradeDay: addDays(firstDay, t.dayOffset),
        amountMinor: t.amountMinor,
        channelCostMinor: t.channelCostMinor,
        reconciliation: unresolved ? 'unresolved' : 'matched',
      },
      resolvesAfterDays: unresolved ? t.resolvesAfterDays : null,
    };
  });

const scenarioArb = fc.record({
  terms: fc.tuple(termsArb, termsArb, termsArb),
  trades: fc.array(tradeArb, { maxLength: 40 }).map((trades) => trades.map((t, i) => ({ ...t, item: { ...t.item, orderId: `o-${i}`, accountingTimeNs: jan1Ns + BigInt(i) } }))),
  // Which dates a run happens on (the last always does); and a seed for the shuffles of invariant 3.
  runOn: fc.array(fc.boolean(), { minLength: runDaysCount, maxLength: runDaysCount }),
  shuffleSeed: fc.integer({ min: 1, max: 2 ** 30 }),
  tamperAt: fc.nat(),
});

/** The trades as clearing sees them on `runDate`: each day up to it, with reconciliation states as of then. */
function clearingsOn(trades: readonly Trade[], runDate: number): ChannelDayClearing[] {
  const byChannelDay = new Map<string, ClearedItem[]>();
  for (const trade of trades) {
    if (trade.item.tradeDay > runDate) continue;
    const resolved = trade.resolvesAfterDays !== null && addDays(trade.item.tradeDay, trade.resolvesAfterDays) <= runDate;
    const key = `${trade.item.channel} ${trade.item.tradeDay}`;
    byChannelDay.set(key, [...(byChannelDay.get(key) ?? []), resolved ? { ...trade.item, reconciliation: 'resolved' } : trade.item]);
  }
  return [...byChannelDay.values()].map((items) => clearChannelDay(items[0]!.channel, items[0]!.tradeDay, items, schedule));
}

/** A deterministic Fisher–Yates by a small LCG, so a failing case replays from fast-check's seed alone. */
function shuffled<T>(values: readonly T[], seedValue: number): T[] {
  const result = [...values];
  let state = seedValue;
  for (let i = result.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

function shuffledInput(input: SettlementRunInput, seedValue: number): SettlementRunInput {
  const clearings = shuffled(input.clearings, seedValue).map((c) => clearChannelDay(c.channel, c.businessDay, shuffled(c.lines.map((line) => line.item), seedValue + 1), schedule));
  const earlier: EarlierRuns = { ...input.earlier, reserves: shuffled(input.earlier.reserves, seedValue + 2), carried: shuffled(input.earlier.carried, seedValue + 3) };
  return { ...input, clearings, earlier };
}

/** The in-transit money of a posting: + when it leaves 在途, − when it comes back (a fee given back, a release). */
function outOfTransit(posting: PostingSpec): bigint {
  if (posting.debit.role === 'settlement_in_transit') return posting.amountMinor;
  if (posting.credit.role === 'settlement_in_transit') return -posting.amountMinor;
  return 0n;
}

/** Invariant 4 after a run: what settled days cleared, against where it went. */
function checkConservation(clearings: readonly ChannelDayClearing[], state: EarlierRuns, postedSoFar: readonly PostingSpec[]): { heldMinor: bigint; reservedMinor: bigint } {
  let clearedMinor = 0n;
  let heldMinor = 0n;
  for (const line of clearings.flatMap((c) => c.lines)) {
    if (!state.settledDays.has(dayKeyOf(line.item.merchantId, line.item.channel, line.item.tradeDay))) continue;
    clearedMinor += line.grossMinor;
    if (line.item.reconciliation !== 'matched' && !state.releasedItems.has(releaseKeyOf(line))) heldMinor += line.grossMinor;
  }
  const settledMinor = postedSoFar.filter((p) => p.role === 'settle').reduce((sum, p) => sum + p.amountMinor, 0n);
  const feesMinor = postedSoFar.filter((p) => p.role === 'fee').reduce((sum, p) => sum + outOfTransit(p), 0n);
  const sharesMinor = postedSoFar.filter((p) => p.role === 'share').reduce((sum, p) => sum + p.amountMinor, 0n);
  const reservedMinor = state.reserves.reduce((sum, hold) => sum + hold.amountMinor, 0n);
  const carriedMinor = state.carried.reduce((sum, carried) => sum + carried.amountMinor, 0n);
  const netOutOfTransit = postedSoFar.reduce((sum, p) => sum + outOfTransit(p), 0n);
  expect(netOutOfTransit).toBe(settledMinor + feesMinor + sharesMinor + reservedMinor);
  expect(clearedMinor).toBe(settledMinor + feesMinor + sharesMinor + reservedMinor + heldMinor + carriedMinor);
  return { heldMinor, reservedMinor };
}

/** Invariant 5: one cent added to posting `at` shows as the difference its role and direction give. */
function checkTamper(merchantsRun: ReturnType<typeof settleRun>['merchants'], postings: readonly PostingSpec[], at: number): void {
  const target = postings[at]!;
  const tampered = postings.map((p, i) => (i === at ? { ...p, amountMinor: p.amountMinor + 1n } : p));
  const line = checkRunBalance(merchantsRun, tampered).channels.find((c) => c.channel === target.channel)!;
  const expected: Record<PostingSpec['role'], [bigint, bigint]> = {
    settle: [-1n, -1n],
    payout: [0n, 1n],
    reserve_hold: [-1n, 0n],
    reserve_release: [1n, 0n],
    share: [-1n, 0n],
    fee: [-outOfTransit({ ...target, amountMinor: 1n }), 0n],
  };
  expect([line.differenceMinor, line.payoutDifferenceMinor]).toEqual(expected[target.role]);
}

describe('settlement runs over a random month', () => {
  it('balance, never pay twice, ignore order, conserve money and find a tampered cent', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const terms = buildTermsTable(merchants.map((merchantId, i): MerchantTermsSpec => {
          const { split, ...rest } = scenario.terms[i]!;
          return { merchantId, calendar: cn2025, ...rest, ...(split === undefined ? {} : { split }) };
        }));
        let earlier = noEarlierRuns;
        const posted: PostingSpec[] = [];
        const ids = new Set<bigint>();
        let last = { heldMinor: 0n, reservedMinor: 0n };
        for (let d = 0; d < runDaysCount; d++) {
          if (!scenario.runOn[d] && d < runDaysCount - 1) continue;
          const runDate = addDays(firstDay, d);
          const input: SettlementRunInput = { runDate, clearings: clearingsOn(scenario.trades, runDate), terms, earlier };
          const result = settleRun(input);
          expect(result.check.balanced).toBe(true);
          expect(settleRun(input).postings).toEqual(result.postings);
          const reordered = settleRun(shuffledInput(input, scenario.shuffleSeed + d));
          expect(reordered.postings).toEqual(result.postings);
          expect(reordered.merchants).toEqual(result.merchants);
          expect(settleRun({ ...input, earlier: result.next }).postings).toEqual([]);
          for (const posting of result.postings) {
            expect(ids.has(posting.id)).toBe(false);
            ids.add(posting.id);
          }
          if (result.postings.length > 0) checkTamper(result.merchants, result.postings, scenario.tamperAt % result.postings.length);
          posted.push(...result.postings);
          earlier = result.next;
          last = checkConservation(input.clearings, earlier, posted);
        }
        const neverResolvedMinor = scenario.trades
          .filter((t) => t.item.reconciliation === 'unresolved' && t.resolvesAfterDays === null)
          .reduce((sum, t) => sum + (t.item.kind === 'payment' ? t.item.amountMinor : -t.item.amountMinor), 0n);
        // Reserves still held at the end are those not due by the last run (one held on it, or days before it with
        // more reserve days than the month has left): no run ever passes a due reserve by.
        const lastRunDate = addDays(firstDay, runDaysCount - 1);
        expect(earlier.reserves.every((hold) => hold.releaseOn > lastRunDate)).toBe(true);
        expect(last).toEqual({ heldMinor: neverResolvedMinor, reservedMinor: earlier.reserves.reduce((sum, hold) => sum + hold.amountMinor, 0n) });
      }),
      options,
    );
  });
});
