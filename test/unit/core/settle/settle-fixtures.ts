// Shared data of the clearing and settlement tests: China's 2025 working calendar (国务院办公厅 notice, with its 调休
// weekend working days), fee strategies, merchant terms, an account configuration and an item builder.

import type { ClearedItem } from '../../../../src/core/settle/clearing.js';
import { buildFeeSchedule, type FeeSchedule } from '../../../../src/core/settle/fee-schedule.js';
import { loadStrategy } from '../../../../src/core/settle/rule-check.js';
import type { PostingRole, SettlementAccountConfig } from '../../../../src/core/settle/settlement-postings.js';
import { buildTermsTable, type MerchantTermsSpec } from '../../../../src/core/settle/settlement-terms.js';
import { buildStrategyHistory, type StrategyHistory } from '../../../../src/core/settle/strategy-versions.js';
import { buildWorkingCalendar } from '../../../../src/core/settle/working-calendar.js';

/** China's public holidays of 2025 and the weekend days worked in their place (调休), as the State Council set them. */
export const cnHolidays2025 = [
  '2025-01-01',
  '2025-01-28', '2025-01-29', '2025-01-30', '2025-01-31', '2025-02-01', '2025-02-02', '2025-02-03', '2025-02-04',
  '2025-04-04', '2025-04-05', '2025-04-06',
  '2025-05-01', '2025-05-02', '2025-05-03', '2025-05-04', '2025-05-05',
  '2025-05-31', '2025-06-01', '2025-06-02',
  '2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05', '2025-10-06', '2025-10-07', '2025-10-08',
];
export const cnWorkingWeekends2025 = ['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11'];

export const cn2025 = buildWorkingCalendar({
  name: 'CN',
  firstDay: '2025-01-01',
  lastDay: '2025-12-31',
  weekendDays: [6, 7],
  holidays: cnHolidays2025,
  workingWeekendDays: cnWorkingWeekends2025,
});

/**
 * `rate` of the amount, rounded half up, between `floor` and `cap` minor units; a refund gives back the fee its
 * amount would have been charged, as a negative fee.
 */
export function percentFee(id: string, version: number, rate: string, floor = '0', cap = '100000000'): ReturnType<typeof loadStrategy> {
  return loadStrategy({
    id,
    version,
    inputs: { amount: 'positive_integer', refund: 'integer' },
    outputs: ['fee'],
    instructions: [
      { let: 'charged', expr: ['round', ['min', ['max', ['*', 'amount', rate], floor], cap], 0, 'half_up'] },
      { let: 'fee', expr: 'charged' },
      { let: 'fee', expr: ['-', '0', 'charged'], when: ['=', 'refund', '1'] },
    ],
  });
}

/** A fixed fee per payment; refunds give nothing back. */
export function fixedFee(id: string, version: number, fixedMinor: string): ReturnType<typeof loadStrategy> {
  return loadStrategy({
    id,
    version,
    inputs: { amount: 'positive_integer', refund: 'integer' },
    outputs: ['fee'],
    instructions: [
      { let: 'fee', expr: ['min', fixedMinor, 'amount'] },
      { let: 'fee', expr: '0', when: ['=', 'refund', '1'] },
    ],
  });
}

export const fromStart = 0n;
export const history = (strategy: ReturnType<typeof loadStrategy>, effectiveFromNs = fromStart): StrategyHistory => buildStrategyHistory([{ effectiveFromNs, strategy }]);

/** m-a: 0.6% (floor 1.00); m-b: 0.38% on every product; m-c: a fixed 2.00 per payment. */
export const schedule: FeeSchedule = buildFeeSchedule([
  { merchantId: 'm-a', byProduct: new Map(), otherProducts: history(percentFee('fee/m-a', 1, '0.006', '100')) },
  { merchantId: 'm-b', byProduct: new Map(), otherProducts: history(percentFee('fee/m-b', 1, '0.0038')) },
  { merchantId: 'm-c', byProduct: new Map(), otherProducts: history(fixedFee('fee/m-c', 1, '200')) },
]);

export const termsSpec = (merchantId: string, change: Partial<MerchantTermsSpec> = {}): MerchantTermsSpec => ({
  merchantId,
  cycle: 'D1',
  calendar: cn2025,
  minimumPayoutMinor: 0n,
  reserveBps: 0,
  reserveDays: 0,
  ...change,
});

export const terms = (...specs: MerchantTermsSpec[]) => buildTermsTable(specs);

/** Accounts: in-transit 1xx, fee income 2xx, payout 3xx per channel; available 1xxx, reserve 2xxx per merchant. */
export function accountConfig(channels: readonly string[], merchants: readonly string[]): SettlementAccountConfig {
  const codes: Record<PostingRole, number> = { reserve_release: 801, fee: 802, share: 806, reserve_hold: 803, settle: 804, payout: 805 };
  return {
    ledger: 1,
    transferCodes: codes,
    channels: new Map(channels.map((channel, i) => [channel, { inTransitAccountId: BigInt(100 + i), feeIncomeAccountId: BigInt(200 + i), payoutAccountId: BigInt(300 + i) }])),
    merchants: new Map(merchants.map((merchant, i) => [merchant, { availableAccountId: BigInt(1000 + i), reserveAccountId: BigInt(2000 + i) }])),
    receivers: new Map([['agent-1', 3001n], ['platform', 3002n]]),
  };
}

const nsPerSecond = 1_000_000_000n;
/** 2025-01-01T00:00:00Z in ns: accounting times are a few seconds past it unless a test needs a later one. */
export const jan1Ns = 1_735_689_600n * nsPerSecond;

let sequence = 0;
export function item(change: Partial<ClearedItem> & Pick<ClearedItem, 'merchantId' | 'tradeDay' | 'amountMinor'>): ClearedItem {
  sequence++;
  return {
    orderId: `o-${sequence}`,
    product: 'card',
    channel: 'wx',
    kind: 'payment',
    accountingTimeNs: jan1Ns + BigInt(sequence) * nsPerSecond,
    channelCostMinor: 0n,
    reconciliation: 'matched',
    ...change,
  };
}
