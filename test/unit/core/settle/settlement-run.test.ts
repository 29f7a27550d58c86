// Settlement runs as specs: what falls due on a run date, the postings and their directions, re-runs that post
// nothing twice, the minimum payout carried forward, the rolling reserve held and released, a D1 and a T+1
// merchant around the Dragon Boat holiday (Sat 2025-05-31 to Mon 06-02), unresolved items held back and released
// once resolved, the day-end check finding a tampered cent, and every refusal of a run.

import { describe, expect, it } from 'vitest';
import { clearChannelDay, type ChannelDayClearing, type ClearedItem } from '../../../../src/core/settle/clearing.js';
import { SettleError } from '../../../../src/core/settle/settle-errors.js';
import { checkRunBalance, refuseUnbalanced } from '../../../../src/core/settle/settlement-balance.js';
import { transferOf, type PostingSpec } from '../../../../src/core/settle/settlement-postings.js';
import { noEarlierRuns, previewSettlementRun, settleRun, type EarlierRuns, type SettlementRun } from '../../../../src/core/settle/settlement-run.js';
import type { MerchantTerms } from '../../../../src/core/settle/settlement-terms.js';
import { TransferFlags } from '../../../../src/core/types.js';
import { checkReserveContract, checkRunStrategyContract } from '../../../../src/core/settle/run-strategies.js';
import { loadStrategy } from '../../../../src/core/settle/rule-check.js';
import { buildStrategyHistory } from '../../../../src/core/settle/strategy-versions.js';
import { refusal } from './refusal.js';
import { accountConfig, item, schedule, terms, termsSpec } from './settle-fixtures.js';

const refused = (run: () => unknown): SettleError => refusal(SettleError, run);
const tuesday = 20250527;

function clear(day: number, items: readonly ClearedItem[], channel = 'wx'): ChannelDayClearing {
  return clearChannelDay(channel, day, items, schedule);
}

function run(runDate: number, clearings: readonly ChannelDayClearing[], table: ReadonlyMap<string, MerchantTerms>, earlier: EarlierRuns = noEarlierRuns): SettlementRun {
  const result = settleRun({ runDate, clearings, terms: table, earlier });
  expect(result.check.balanced).toBe(true);
  return result;
}

/** role: debit role → credit role amount, for reading chains at a glance. */
const shown = (postings: readonly PostingSpec[]): string[] =>
  postings.map((p) => `${p.merchantId} ${p.role}: ${p.debit.role}(${p.debit.owner}) → ${p.credit.role}(${p.credit.owner}) ${p.amountMinor}${p.linked ? ' linked' : ''}`);

describe('a D1 run', () => {
  const table = terms(termsSpec('m-a'), termsSpec('m-b'));
  const day = clear(tuesday, [
    item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 100_050n }), // fee 600
    item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 5_000n }), // fee 100 (the floor)
    item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 20_000n, kind: 'refund' }), // fee −120
    item({ merchantId: 'm-b', tradeDay: tuesday, amountMinor: 10_000n }), // fee 38
  ]);

  it('pays nothing before the settlement date', () => {
    const early = run(tuesday, [day], table);
    expect(early.merchants).toEqual([]);
    expect(early.postings).toEqual([]);
    expect(early.next.settledDays.size).toBe(0);
  });

  it('posts fee, settle and payout as one linked chain per merchant', () => {
    const paid = run(20250528, [day], table);
    expect(shown(paid.postings)).toEqual([
      'm-a fee: settlement_in_transit(wx) → fee_income(wx) 580 linked',
      'm-a settle: settlement_in_transit(wx) → merchant_available(m-a) 84470 linked',
      'm-a payout: merchant_available(m-a) → channel_payout(wx) 84470',
      'm-b fee: settlement_in_transit(wx) → fee_income(wx) 38 linked',
      'm-b settle: settlement_in_transit(wx) → merchant_available(m-b) 9962 linked',
      'm-b payout: merchant_available(m-b) → channel_payout(wx) 9962',
    ]);
    expect(paid.merchants.map((m) => [m.merchantId, m.grossMinor, m.feesMinor, m.netMinor, m.settledMinor])).toEqual([
      ['m-a', 85_050n, 580n, 84_470n, 84_470n],
      ['m-b', 10_000n, 38n, 9_962n, 9_962n],
    ]);
    expect(paid.check.channels).toEqual([
      {
        channel: 'wx', clearedMinor: 95_050n, settledMinor: 94_432n, feesMinor: 618n, sharesMinor: 0n, reservesHeldMinor: 0n, reservesReleasedMinor: 0n,
        heldBackChangeMinor: 0n, carriedForwardChangeMinor: 0n, payoutsMinor: 94_432n, differenceMinor: 0n, payoutDifferenceMinor: 0n,
      },
    ]);
  });

  it('resolves roles to ledger transfers with codes, the linked flag and the run in user data', () => {
    const paid = run(20250528, [day], table);
    const transfers = paid.postings.map((posting) => transferOf(posting, accountConfig(['wx'], ['m-a', 'm-b'])));
    expect(transfers[1]).toEqual({
      id: paid.postings[1]!.id, debitAccountId: 100n, creditAccountId: 1000n, amount: 84_470n, pendingId: 0n, userData128: 0n,
      userData64: 20250528n, userData32: 1, timeoutSeconds: 0, ledger: 1, code: 804, flags: TransferFlags.linked, timestamp: 0n,
    });
    expect(transfers[2]).toMatchObject({ debitAccountId: 1000n, creditAccountId: 300n, code: 805, flags: 0 });
    const missing = refused(() => transferOf(paid.postings[4]!, accountConfig(['wx'], ['m-a'])));
    expect(missing.code).toBe('account_missing');
    expect(missing.message).toContain('no merchant_available account is configured for merchant m-b');
  });

  it('re-run with the same earlier runs yields the same postings and ids; with the state after, posts nothing', () => {
    const first = run(20250528, [day], table);
    expect(run(20250528, [day], table).postings).toEqual(first.postings);
    const again = run(20250528, [day], table, first.next);
    expect(again.postings).toEqual([]);
    const later = run(20250529, [day], table, first.next);
    expect(later.postings).toEqual([]);
    expect(later.next.settledDays).toEqual(first.next.settledDays);
  });

  it('previews the amounts, explanations and check, and nothing else', () => {
    const preview = previewSettlementRun({ runDate: 20250528, clearings: [day], terms: table, earlier: noEarlierRuns });
    expect(Object.keys(preview).sort()).toEqual(['check', 'merchants', 'runDate']);
    expect(preview.merchants[1]!.explanation).toEqual([
      'merchant m-b on wx, cycle D1, batch 1: trade days due 2025-05-27',
      '  cleared 10000 over 1 items; held back 0 (0 unresolved); released 0 (0 resolved since)',
      '  gross 10000 − fees 38 = net 9962',
      '  payable = 9962 − 0 + 0 + carried in 0 = 9962',
      '  paid out 9962 (minimum 1)',
    ]);
  });
});

describe('the day-end check (总账平衡)', () => {
  const table = terms(termsSpec('m-a'), termsSpec('m-b', { reserveBps: 1000, reserveDays: 3 }));
  const day = clear(tuesday, [item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 100_050n }), item({ merchantId: 'm-b', tradeDay: tuesday, amountMinor: 10_000n })]);
  const paid = run(20250528, [day], table);

  it.each([
    ['settle', -1n, -1n],
    ['fee', -1n, 0n],
    ['reserve_hold', -1n, 0n],
    ['payout', 0n, 1n],
  ])('finds one cent added to a %s posting, exactly', (role, difference, payoutDifference) => {
    const at = paid.postings.findIndex((posting) => posting.role === role);
    const tampered = paid.postings.map((posting, i) => (i === at ? { ...posting, amountMinor: posting.amountMinor + 1n } : posting));
    const check = checkRunBalance(paid.merchants, tampered);
    expect(check.balanced).toBe(false);
    expect(check.channels[0]).toMatchObject({ differenceMinor: difference, payoutDifferenceMinor: payoutDifference });
    const error = refused(() => refuseUnbalanced(check));
    expect(error.code).toBe('run_unbalanced');
    expect(error.message).toContain(`channel wx: cleared − accounted = ${difference}, payouts − settled = ${payoutDifference}`);
  });

  it('finds a posting dropped from the run', () => {
    const check = checkRunBalance(paid.merchants, paid.postings.filter((posting) => posting.role !== 'fee' || posting.merchantId !== 'm-a'));
    expect(check.channels[0]!.differenceMinor).toBe(600n);
  });
});

describe('the minimum payout', () => {
  const table = terms(termsSpec('m-c', { minimumPayoutMinor: 10_000n }));

  it('carries an amount below it forward, fees still booked, and pays it with the next day that reaches it', () => {
    const first = run(20250528, [clear(tuesday, [item({ merchantId: 'm-c', tradeDay: tuesday, amountMinor: 5_000n })])], table);
    expect(shown(first.postings)).toEqual(['m-c fee: settlement_in_transit(wx) → fee_income(wx) 200']);
    expect(first.merchants[0]).toMatchObject({ payableMinor: 4_800n, settledMinor: 0n, carriedOutMinor: 4_800n });
    expect(first.merchants[0]!.explanation.at(-1)).toBe('  carried forward 4800: below the minimum payout of 10000');
    expect(first.next.carried).toEqual([{ merchantId: 'm-c', channel: 'wx', amountMinor: 4_800n }]);

    const quiet = run(20250529, [], table, first.next);
    expect(quiet.postings).toEqual([]);
    expect(quiet.next.carried).toEqual(first.next.carried);

    const second = run(20250530, [clear(20250529, [item({ merchantId: 'm-c', tradeDay: 20250529, amountMinor: 6_000n })])], table, quiet.next);
    expect(second.merchants[0]).toMatchObject({ carriedInMinor: 4_800n, netMinor: 5_800n, payableMinor: 10_600n, settledMinor: 10_600n, carriedOutMinor: 0n });
    expect(second.next.carried).toEqual([]);
  });

  it('carries a negative net (refunds over payments) and nets it against the next day', () => {
    const table = terms(termsSpec('m-a'));
    const refundDay = run(20250528, [clear(tuesday, [item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 20_000n, kind: 'refund' })])], table);
    expect(shown(refundDay.postings)).toEqual(['m-a fee: fee_income(wx) → settlement_in_transit(wx) 120']);
    expect(refundDay.merchants[0]).toMatchObject({ netMinor: -19_880n, carriedOutMinor: -19_880n, settledMinor: 0n });
    const next = run(20250529, [clear(20250528, [item({ merchantId: 'm-a', tradeDay: 20250528, amountMinor: 100_050n })])], table, refundDay.next);
    expect(next.merchants[0]).toMatchObject({ netMinor: 99_450n, carriedInMinor: -19_880n, settledMinor: 79_570n });
  });
});

describe('the rolling reserve', () => {
  const table = terms(termsSpec('m-b', { reserveBps: 1000, reserveDays: 3 }));
  const day = clear(tuesday, [item({ merchantId: 'm-b', tradeDay: tuesday, amountMinor: 10_000n })]);

  it('holds its share of the net, rounded down, and releases it on the first run N days later', () => {
    const held = run(20250528, [day], table);
    expect(held.merchants[0]).toMatchObject({ netMinor: 9_962n, reserveHeldMinor: 996n, reserveReleaseOn: 20250531, settledMinor: 8_966n });
    expect(held.merchants[0]!.explanation).toContain('  reserve 1000 bps of 9962 = 996, held until 2025-05-31');
    expect(held.next.reserves).toEqual([{ merchantId: 'm-b', channel: 'wx', heldOn: 20250528, releaseOn: 20250531, amountMinor: 996n }]);

    let earlier = held.next;
    for (const runDate of [20250529, 20250530]) {
      const waiting = run(runDate, [day], table, earlier);
      expect(waiting.postings).toEqual([]);
      earlier = waiting.next;
    }
    const released = run(20250531, [day], table, earlier);
    expect(shown(released.postings)).toEqual([
      'm-b reserve_release: merchant_reserve(m-b) → settlement_in_transit(wx) 996 linked',
      'm-b settle: settlement_in_transit(wx) → merchant_available(m-b) 996 linked',
      'm-b payout: merchant_available(m-b) → channel_payout(wx) 996',
    ]);
    expect(released.merchants[0]!.explanation).toContain('  reserve of 996 held on 2025-05-28 released (due 2025-05-31)');
    expect(released.next.reserves).toEqual([]);
    expect(run(20250531, [day], table, released.next).postings).toEqual([]);
  });

  it('releases a hold in a later run when no run falls on its date', () => {
    const held = run(20250528, [day], table);
    expect(run(20250603, [day], table, held.next).merchants[0]!.reserveReleasedMinor).toBe(996n);
  });
});

describe('a D1 and a T+1 merchant, Friday trades before the three-day Dragon Boat holiday', () => {
  const friday = 20250530;
  const table = terms(termsSpec('m-a', { cycle: 'D1' }), termsSpec('m-b', { cycle: 'T+1' }));
  const day = clear(friday, [item({ merchantId: 'm-a', tradeDay: friday, amountMinor: 50_000n }), item({ merchantId: 'm-b', tradeDay: friday, amountMinor: 50_000n })]);

  it('pays D1 on the holiday Saturday and T+1 on Tuesday, running every day', () => {
    let earlier = noEarlierRuns;
    const paidOn: Record<string, number> = {};
    for (const runDate of [20250530, 20250531, 20250601, 20250602, 20250603, 20250604]) {
      const result = run(runDate, [day], table, earlier);
      for (const m of result.merchants) if (m.settledMinor > 0n) paidOn[m.merchantId] = runDate;
      earlier = result.next;
    }
    expect(paidOn).toEqual({ 'm-a': 20250531, 'm-b': 20250603 });
  });
});

describe('reconciliation', () => {
  const table = terms(termsSpec('m-b'));
  const matched = item({ merchantId: 'm-b', tradeDay: tuesday, amountMinor: 10_000n });
  const open = item({ merchantId: 'm-b', tradeDay: tuesday, amountMinor: 7_000n, reconciliation: 'unresolved' });
  const resolved = { ...open, reconciliation: 'resolved' as const };

  it('holds unresolved items back, then pays them in the run after they resolve, once', () => {
    const first = run(20250528, [clear(tuesday, [matched, open])], table);
    expect(first.merchants[0]).toMatchObject({ clearedMinor: 17_000n, heldBackMinor: 7_000n, settledMinor: 9_962n });
    expect(first.check.channels[0]!.heldBackChangeMinor).toBe(7_000n);
    const stillOpen = run(20250529, [clear(tuesday, [matched, open])], table, first.next);
    expect(stillOpen.merchants).toEqual([]);

    const released = run(20250530, [clear(tuesday, [matched, resolved])], table, stillOpen.next);
    expect(released.merchants[0]).toMatchObject({ clearedMinor: 0n, releasedFromHoldMinor: 7_000n, feesMinor: 27n, settledMinor: 6_973n, daysDue: [] });
    expect(released.merchants[0]!.released.map((line) => line.item.orderId)).toEqual([open.orderId]);
    expect(released.check.channels[0]!.heldBackChangeMinor).toBe(-7_000n);
    expect(run(20250531, [clear(tuesday, [matched, resolved])], table, released.next).postings).toEqual([]);
  });

  it('pays an item resolved before its day falls due with the day, and never again', () => {
    const first = run(20250528, [clear(tuesday, [matched, resolved])], table);
    expect(first.merchants[0]).toMatchObject({ heldBackMinor: 0n, settledMinor: 9_962n + 6_973n });
    expect(run(20250529, [clear(tuesday, [matched, resolved])], table, first.next).postings).toEqual([]);
  });

  it('posts a second batch with new ids when an item resolves after the run date has run', () => {
    const first = run(20250528, [clear(tuesday, [matched, open])], table);
    const second = run(20250528, [clear(tuesday, [matched, resolved])], table, first.next);
    expect(second.merchants[0]!.batch).toBe(2);
    expect(second.postings.map((p) => p.batch)).toEqual([2, 2, 2]);
    const firstIds = new Set(first.postings.map((p) => p.id));
    expect(second.postings.some((p) => firstIds.has(p.id))).toBe(false);
    expect(second.next.lastRunBatches.get(JSON.stringify(['m-b', 'wx']))).toBe(2);
  });
});

describe('refusals', () => {
  const table = terms(termsSpec('m-a'));
  const day = clear(tuesday, [item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 1_000n })]);
  const input = (change: Partial<Parameters<typeof settleRun>[0]>) => ({ runDate: 20250528, clearings: [day], terms: table, earlier: noEarlierRuns, ...change });

  it('refuses a settled day whose matched items changed', () => {
    const first = run(20250528, [day], table);
    const changed = clear(tuesday, [...day.lines.map((line) => line.item), item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 5_000n })]);
    const error = refused(() => settleRun(input({ runDate: 20250529, clearings: [changed], earlier: first.next })));
    expect(error.code).toBe('settled_day_changed');
    expect(error.message).toContain('merchant m-a channel wx day 2025-05-27 was settled with matched items of 1000, but its clearing now has 6000');
  });

  it.each([
    ['a run date before the last run', () => input({ runDate: 20250527, earlier: { ...noEarlierRuns, lastRunDate: 20250528 } }), 'run_date_order'],
    ['a channel day given twice', () => input({ clearings: [day, day] }), 'clearing_duplicate'],
    ['a merchant without terms', () => input({ terms: terms(termsSpec('m-b')) }), 'terms_missing'],
    ['no date', () => input({ runDate: 20250532 }), 'date_invalid'],
    ['a merchant carrying two amounts', () => input({ earlier: { ...noEarlierRuns, carried: [{ merchantId: 'm-a', channel: 'wx', amountMinor: 1n }, { merchantId: 'm-a', channel: 'wx', amountMinor: 2n }] } }), 'state_invalid'],
  ])('refuses %s', (_what, make, code) => {
    expect(refused(() => settleRun(make())).code).toBe(code);
    expect(refused(() => previewSettlementRun(make())).code).toBe(code);
  });
});

describe('分账 in a run', () => {
  const split = [{ receiver: 'agent-1', share: { bps: 300 } }, { receiver: 'platform', share: { ratio: '0.015' } }];
  const table = terms(termsSpec('m-a', { split, reserveBps: 1000, reserveDays: 30 }));
  const day = clear(tuesday, [
    item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 100_050n }), // fee 600: shares of 99,450
    item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 5_000n }), // fee 100: shares of 4,900
    item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 20_000n, kind: 'refund' }), // the merchant's alone
  ]);

  it('pays each receiver its shares of the payments after their fees, before the reserve and the merchant', () => {
    const paid = run(20250528, [day], table);
    // 99,450: agent-1 2,983.5, platform 1,491.75 — floored, and the one whole unit their fractions make goes to the
    // earliest share (allocate's rule): 2,984 and 1,491. 4,900: 147 and 73. Kept: net 84,470 − 4,695 = 79,775;
    // reserve 10% = 7,977 (floored); settled 71,798.
    expect(shown(paid.postings)).toEqual([
      'm-a fee: settlement_in_transit(wx) → fee_income(wx) 580 linked',
      'm-a share: settlement_in_transit(wx) → receiver(agent-1) 3131 linked',
      'm-a share: settlement_in_transit(wx) → receiver(platform) 1564 linked',
      'm-a reserve_hold: settlement_in_transit(wx) → merchant_reserve(m-a) 7977 linked',
      'm-a settle: settlement_in_transit(wx) → merchant_available(m-a) 71798 linked',
      'm-a payout: merchant_available(m-a) → channel_payout(wx) 71798',
    ]);
    const [merchant] = paid.merchants;
    expect(merchant!.shares).toEqual([{ receiver: 'agent-1', amountMinor: 3_131n }, { receiver: 'platform', amountMinor: 1_564n }]);
    expect(merchant!.explanation).toContain('  分账 to agent-1: 3131');
    expect(paid.check.channels[0]).toMatchObject({ sharesMinor: 4_695n, differenceMinor: 0n });
    // Each receiver's posting has an id of its own, its account from the configuration.
    const shares = paid.postings.filter((p) => p.role === 'share');
    expect(new Set(shares.map((p) => p.id)).size).toBe(2);
    expect(shares.map((p) => transferOf(p, accountConfig(['wx'], ['m-a'])).creditAccountId)).toEqual([3001n, 3002n]);
    // A re-run from the state the run left posts no share again.
    expect(settleRun({ runDate: 20250528, clearings: [day], terms: table, earlier: paid.next }).postings).toEqual([]);
  });

  it('refuses a split that takes a fixed amount, names the merchant itself, or shares more than the whole', () => {
    expect(refused(() => terms(termsSpec('m-a', { split: [{ receiver: 'agent-1', fixedMinor: 100n }] }))).message).toContain('shares only');
    expect(refused(() => terms(termsSpec('m-a', { split: [{ receiver: 'm-a', share: { bps: 10 } }] }))).message).toContain('the merchant itself');
    expect(refused(() => terms(termsSpec('m-a', { split: [{ receiver: 'agent-1', share: { bps: 6000 } }, { receiver: 'platform', share: { ratio: '0.5' } }] }))).code).toBe('terms_invalid');
  });
});

describe('a reserve strategy', () => {
  const table = terms(termsSpec('m-a', { reserveDays: 30 }));
  const day = clear(tuesday, [
    item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 100_050n }), // fee 600
    item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 5_000n }), // fee 100
    item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 20_000n, kind: 'refund' }), // fee −120
  ]);
  /** 5% of what is kept, rounded down, at most 30.00, never below zero. */
  const capped = loadStrategy({
    id: 'reserve/m-a', version: 1, inputs: { kept: 'integer' }, outputs: ['reserve'],
    instructions: [{ let: 'reserve', expr: ['max', '0', ['min', ['round', ['*', 'kept', '0.05'], 0, 'down'], '3000']] }],
  });
  const strategies = (strategy: ReturnType<typeof loadStrategy>) => new Map([['m-a', buildStrategyHistory([{ effectiveFromNs: 0n, strategy }])]]);

  it('holds what the strategy in force on the run date says, instead of the terms\' basis points', () => {
    const paid = settleRun({ runDate: 20250528, clearings: [day], terms: table, earlier: noEarlierRuns, reserveStrategies: strategies(capped) });
    expect(paid.check.balanced).toBe(true);
    const [merchant] = paid.merchants;
    // Kept 84,470: 5% is 4,223, capped at 3,000; held 30 days.
    expect([merchant!.reserveHeldMinor, merchant!.settledMinor, merchant!.reserveReleaseOn]).toEqual([3_000n, 81_470n, 20250627]);
    expect(merchant!.explanation.some((line) => line.includes('reserve by strategy: 3000 of 84470 kept'))).toBe(true);
    expect(shown(paid.postings)).toContain('m-a reserve_hold: settlement_in_transit(wx) → merchant_reserve(m-a) 3000 linked');
  });

  it('refuses a reserve above what the merchant keeps, and a strategy that misses the contract', () => {
    const greedy = loadStrategy({ id: 'reserve/greedy', version: 1, inputs: { kept: 'integer' }, outputs: ['reserve'], instructions: [{ let: 'reserve', expr: ['+', 'kept', '1'] }] });
    expect(refused(() => settleRun({ runDate: 20250528, clearings: [day], terms: table, earlier: noEarlierRuns, reserveStrategies: strategies(greedy) })).code).toBe('run_strategy_out_of_range');
    const tip = loadStrategy({ id: 'reserve/tip', version: 1, inputs: { tip: 'integer' }, outputs: ['reserve'], instructions: [{ let: 'reserve', expr: 'tip' }] });
    expect(refused(() => checkReserveContract('m-a', tip)).code).toBe('run_strategy_invalid');
    const narrow = loadStrategy({ id: 'reserve/narrow', version: 1, inputs: { kept: 'positive_integer' }, outputs: ['reserve'], instructions: [{ let: 'reserve', expr: '0' }] });
    expect(refused(() => checkReserveContract('m-a', narrow)).message).toContain('negative too');
  });
});

describe('a settlement strategy', () => {
  const table = terms(termsSpec('m-a', { minimumPayoutMinor: 1_000_000n }));
  const day = clear(tuesday, [item({ merchantId: 'm-a', tradeDay: tuesday, amountMinor: 100_050n })]); // fee 600: net 99,450
  /** 90% of the payable now (rounded down), the rest carried; never below zero. */
  const ninety = loadStrategy({
    id: 'settle/m-a', version: 1, inputs: { payable: 'integer' }, outputs: ['settle'],
    instructions: [{ let: 'settle', expr: ['max', '0', ['round', ['*', 'payable', '0.9'], 0, 'down']] }],
  });

  it('pays what the strategy says in place of the minimum payout, carrying the rest', () => {
    const history = buildStrategyHistory([{ effectiveFromNs: 0n, strategy: ninety }]);
    const paid = settleRun({ runDate: 20250528, clearings: [day], terms: table, earlier: noEarlierRuns, settlementStrategies: new Map([['m-a', history]]) });
    expect(paid.check.balanced).toBe(true);
    const [merchant] = paid.merchants;
    // 99,450 payable: 89,505 now (the minimum of 10,000.00 would have paid nothing), 9,945 carried.
    expect([merchant!.settledMinor, merchant!.carriedOutMinor]).toEqual([89_505n, 9_945n]);
    expect(merchant!.explanation).toContain('  settlement by strategy: paid out 89505, carried forward 9945');
    const next = settleRun({ runDate: 20250529, clearings: [day], terms: table, earlier: paid.next, settlementStrategies: new Map([['m-a', history]]) });
    expect(next.merchants.map((m) => [m.carriedInMinor, m.settledMinor, m.carriedOutMinor])).toEqual([[9_945n, 8_950n, 995n]]);
  });

  it('refuses a settlement above the payable', () => {
    const greedy = loadStrategy({ id: 'settle/greedy', version: 1, inputs: { payable: 'integer' }, outputs: ['settle'], instructions: [{ let: 'settle', expr: ['+', 'payable', '1'] }] });
    const run = () => settleRun({ runDate: 20250528, clearings: [day], terms: table, earlier: noEarlierRuns, settlementStrategies: new Map([['m-a', buildStrategyHistory([{ effectiveFromNs: 0n, strategy: greedy }])]]) });
    expect(refused(run).code).toBe('run_strategy_out_of_range');
    checkRunStrategyContract('settlement', 'm-a', ninety);
    expect(refused(() => checkRunStrategyContract('reserve', 'm-a', ninety)).message).toContain('a reserve strategy may read only kept, gross, fees');
  });
});
