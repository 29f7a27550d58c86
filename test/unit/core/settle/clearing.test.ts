// Clearing one channel's business day: per merchant payments, refunds, fees and net (轧差), unresolved items apart;
// per channel the total cleared, channel cost and margin; the fee version in force at each item's accounting time,
// each fee explained again; and every refusal of a bad item or fee strategy.

import { describe, expect, it } from 'vitest';
import { clearChannelDay, type ClearedItem } from '../../../../src/core/settle/clearing.js';
import { buildFeeSchedule, explainFee, feeOfItem } from '../../../../src/core/settle/fee-schedule.js';
import { loadStrategy } from '../../../../src/core/settle/rule-check.js';
import { SettleError } from '../../../../src/core/settle/settle-errors.js';
import { buildStrategyHistory } from '../../../../src/core/settle/strategy-versions.js';
import { refusal } from './refusal.js';
import { history, item, jan1Ns, percentFee, schedule } from './settle-fixtures.js';

const refused = (run: () => unknown): SettleError => refusal(SettleError, run);
const day = 20250530;

const items: ClearedItem[] = [
  item({ merchantId: 'm-a', tradeDay: day, amountMinor: 100_050n, channelCostMinor: 250n }), // fee 600.3 → 600
  item({ merchantId: 'm-a', tradeDay: day, amountMinor: 5_000n, channelCostMinor: 13n }), // 30 → the floor, 100
  item({ merchantId: 'm-a', tradeDay: day, amountMinor: 20_000n, kind: 'refund', channelCostMinor: -50n }), // gives back 120
  item({ merchantId: 'm-b', tradeDay: day, amountMinor: 10_000n, channelCostMinor: 25n }), // 38
  item({ merchantId: 'm-b', tradeDay: day, amountMinor: 7_000n, reconciliation: 'unresolved', channelCostMinor: 18n }), // 26.6 → 27, held
  item({ merchantId: 'm-c', tradeDay: day, amountMinor: 150n, reconciliation: 'resolved' }), // fixed 200, cut to the amount
];

describe('clearChannelDay', () => {
  const clearing = clearChannelDay('wx', day, items, schedule);

  it('gives each merchant its payments, refunds, fees and net, unresolved items apart', () => {
    expect(clearing.merchants).toEqual([
      { merchantId: 'm-a', payable: { items: 3, paymentsMinor: 105_050n, refundsMinor: 20_000n, feesMinor: 580n, netMinor: 84_470n }, held: { items: 0, paymentsMinor: 0n, refundsMinor: 0n, feesMinor: 0n, netMinor: 0n } },
      { merchantId: 'm-b', payable: { items: 1, paymentsMinor: 10_000n, refundsMinor: 0n, feesMinor: 38n, netMinor: 9_962n }, held: { items: 1, paymentsMinor: 7_000n, refundsMinor: 0n, feesMinor: 27n, netMinor: 6_973n } },
      { merchantId: 'm-c', payable: { items: 1, paymentsMinor: 150n, refundsMinor: 0n, feesMinor: 150n, netMinor: 0n }, held: { items: 0, paymentsMinor: 0n, refundsMinor: 0n, feesMinor: 0n, netMinor: 0n } },
    ]);
  });

  it('gives the channel day its total cleared, cost and margin', () => {
    expect(clearing.totals).toEqual({
      clearedMinor: 102_200n,
      paymentsMinor: 122_200n,
      refundsMinor: 20_000n,
      merchantFeesMinor: 795n,
      channelCostMinor: 256n,
      marginMinor: 539n,
      heldMinor: 7_000n,
    });
  });

  it('keeps the strategy version of every fee and explains it again', () => {
    const refund = clearing.lines.find((line) => line.item.kind === 'refund')!;
    expect(refund.fee).toEqual({ feeMinor: -120n, strategyId: 'fee/m-a', strategyVersion: 1 });
    expect(refund.grossMinor).toBe(-20_000n);
    expect(explainFee(schedule, refund.item, refund.fee)).toEqual([
      `order ${refund.item.orderId} (refund of 20000): fee -120`,
      'strategy fee/m-a v1',
      '  [0] charged = round(min(max((amount × 0.006), 100), 100000000), 0, half_up) = 120',
      '  [1] fee = charged = 120',
      '  [2] fee = (0 − charged) when refund = 1 = -120',
      '  outputs: fee = -120',
    ]);
  });

  it('does not depend on the order items come in', () => {
    expect(clearChannelDay('wx', day, [...items].reverse(), schedule)).toEqual(clearing);
  });

  it('clears an empty day to zeros', () => {
    const empty = clearChannelDay('wx', day, [], schedule);
    expect(empty.merchants).toEqual([]);
    expect(empty.totals.clearedMinor).toBe(0n);
  });
});

describe('the fee version in force', () => {
  const switchNs = jan1Ns + 1_000n;
  const versions = buildFeeSchedule([
    {
      merchantId: 'm-v',
      byProduct: new Map([['qr', history(percentFee('fee/m-v/qr', 1, '0.002'))]]),
      otherProducts: buildStrategyHistory([
        { effectiveFromNs: jan1Ns, strategy: percentFee('fee/m-v', 1, '0.01') },
        { effectiveFromNs: switchNs, strategy: percentFee('fee/m-v', 2, '0.005') },
      ]),
    },
  ]);
  it.each([
    ['the nanosecond before the change', 'card', switchNs - 1n, 100n, 1],
    ['the instant the change takes effect', 'card', switchNs, 50n, 2],
    ['a product with its own strategy', 'qr', switchNs, 20n, 1],
  ])('%s', (_what, product, accountingTimeNs, feeMinor, version) => {
    const charge = feeOfItem(versions, item({ merchantId: 'm-v', tradeDay: day, amountMinor: 10_000n, product, accountingTimeNs }));
    expect(charge.feeMinor).toBe(feeMinor);
    expect(charge.strategyVersion).toBe(version);
  });

  it('refuses an item before the first version, naming the strategy', () => {
    const error = refused(() => feeOfItem(versions, item({ merchantId: 'm-v', tradeDay: day, amountMinor: 1n, accountingTimeNs: 5n })));
    expect(error.code).toBe('no_version_in_force');
  });

  it('refuses to explain a fee by a version other than the one that charged it', () => {
    const line = clearChannelDay('wx', day, [item({ merchantId: 'm-a', tradeDay: day, amountMinor: 1_000n })], schedule).lines[0]!;
    const error = refused(() => explainFee(schedule, line.item, { ...line.fee, strategyVersion: 7 }));
    expect(error.message).toContain('was charged by fee/m-a v7, but this schedule applies fee/m-a v1');
  });
});

describe('refusals', () => {
  const good = item({ merchantId: 'm-a', tradeDay: day, amountMinor: 1_000n });
  it.each([
    ['an empty order id', { orderId: '' }, 'order id "" must be 1 to 64 characters'],
    ['another channel', { channel: 'ali' }, 'channel "ali" is not the channel cleared, wx'],
    ['another day', { tradeDay: 20250531 }, 'trade day 20250531 is not the day cleared, 2025-05-30'],
    ['a zero amount', { amountMinor: 0n }, 'amount 0 must be a positive bigint'],
    ['a negative amount', { amountMinor: -5n }, 'amount -5 must be a positive bigint'],
    ['a number amount', { amountMinor: 5 as unknown as bigint }, 'amount 5 must be a positive bigint'],
    ['an unknown kind', { kind: 'chargeback' as 'refund' }, 'kind "chargeback" must be payment or refund'],
    ['a negative accounting time', { accountingTimeNs: -1n }, 'accounting time must be a bigint of ns'],
    ['a channel cost as number', { channelCostMinor: 1 as unknown as bigint }, 'channel cost 1 must be a bigint'],
    ['an unknown reconciliation state', { reconciliation: 'pending' as 'matched' }, 'reconciliation "pending" must be one of matched, unresolved, resolved'],
    ['an empty product', { product: '' }, 'product "" must be 1 to 64 characters'],
  ])('%s', (_what, change, words) => {
    const error = refused(() => clearChannelDay('wx', day, [{ ...good, ...change }], schedule));
    expect(error.code).toBe('item_invalid');
    expect(error.message).toContain(words);
  });

  it('refuses an item given twice, and a bad channel or day', () => {
    expect(refused(() => clearChannelDay('wx', day, [good, { ...good }], schedule)).code).toBe('item_duplicate');
    expect(clearChannelDay('wx', day, [good, { ...good, kind: 'refund' }], schedule).lines).toHaveLength(2);
    expect(refused(() => clearChannelDay('', day, [], schedule)).code).toBe('item_invalid');
    expect(refused(() => clearChannelDay('wx', 20250532, [], schedule)).code).toBe('date_invalid');
  });

  it('refuses an item of a merchant or product without a fee strategy', () => {
    const error = refused(() => clearChannelDay('wx', day, [{ ...good, merchantId: 'm-x' }], schedule));
    expect(error.code).toBe('fee_strategy_missing');
    expect(error.message).toContain(`order ${good.orderId}: merchant m-x has no fee strategy for product card`);
  });

  it('refuses a fee larger than the amount it is on', () => {
    const greedy = buildFeeSchedule([{ merchantId: 'm-a', byProduct: new Map(), otherProducts: history(percentFee('fee/greedy', 1, '1.5')) }]);
    const error = refused(() => clearChannelDay('wx', day, [good], greedy));
    expect(error.code).toBe('fee_out_of_range');
    expect(error.message).toContain('fee/greedy v1 charges 1500 on an amount of 1000');
  });

  it('names the order a strategy stopped at', () => {
    const squares = Array.from({ length: 8 }, (_, i) => ({ let: `p${i + 1}`, expr: ['*', i === 0 ? 'amount' : `p${i}`, i === 0 ? 'amount' : `p${i}`] }));
    const exploding = loadStrategy({ id: 'fee/huge', version: 1, inputs: { amount: 'positive_integer' }, outputs: ['fee'], instructions: [...squares, { let: 'fee', expr: ['round', ['min', 'p8', '0'], 0, 'down'] }] });
    const error = refused(() => clearChannelDay('wx', day, [good], buildFeeSchedule([{ merchantId: 'm-a', byProduct: new Map(), otherProducts: history(exploding) }])));
    expect(error.code).toBe('fee_evaluation_failed');
    expect(error.message).toContain(`order ${good.orderId}: strategy fee/huge v1: instruction`);
  });

  const strategy = (inputs: Record<string, string>, outputs: string[]) =>
    loadStrategy({ id: 'fee/odd', version: 1, inputs, outputs, instructions: outputs.map((name) => ({ let: name, expr: '0' })) });
  it.each([
    ['an input beyond the contract', strategy({ amount: 'integer', rate: 'decimal' }, ['fee']), 'reads input "rate"; a fee strategy may read only amount, refund'],
    ['a kind the input does not fit', strategy({ refund: 'positive_integer' }, ['fee']), 'declares "refund" as positive_integer'],
    ['no fee output', strategy({ amount: 'integer' }, ['charge']), 'gives no output "fee"'],
  ])('refuses a fee strategy with %s', (_what, odd, words) => {
    const error = refused(() => buildFeeSchedule([{ merchantId: 'm-a', byProduct: new Map([['card', history(odd)]]), otherProducts: undefined }]));
    expect(error.code).toBe('fee_strategy_invalid');
    expect(error.message).toContain(words);
  });

  it('refuses a merchant given twice', () => {
    const entry = { merchantId: 'm-a', byProduct: new Map(), otherProducts: undefined };
    expect(refused(() => buildFeeSchedule([entry, entry])).message).toContain('merchant m-a is given twice');
  });
});
