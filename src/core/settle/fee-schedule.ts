// Which fee strategy a cleared item pays, and the fee it gives: each merchant has a strategy history per product
// (and optionally one for every other product); the version in force at the item's accounting time applies, so
// re-clearing an old day charges that day's fees. Never rounds or caps a fee itself: the strategy says how.
//
// The contract of a fee strategy (checked when the schedule is built, so a wrong one is refused before any day
// is cleared): it may read only these inputs —
//   amount: the item's amount in minor units, always positive (a refund's amount is positive too);
//   refund: 1 when the item is a refund, 0 when it is a payment;
// and it must give the output `fee`: minor units charged to the merchant for the item. A refund that gives back
// part of the payment's fee says so with a negative fee. |fee| may not exceed the item's amount.

import { assert } from '../assert.js';
import { explainEvaluation, evaluateStrategy, type Evaluation } from './rule-eval.js';
import { strategyLabel, StrategyError, type InputKind } from './rules.js';
import { SettleError } from './settle-errors.js';
import { versionInForce, type StrategyHistory } from './strategy-versions.js';

/** The inputs a fee strategy may declare, and the kinds it may declare them with. */
export const feeStrategyInputs: ReadonlyMap<string, readonly InputKind[]> = new Map([
  ['amount', ['integer', 'positive_integer', 'decimal', 'positive_decimal']],
  ['refund', ['integer', 'decimal']],
]);

/** The output a fee strategy must give. */
export const feeStrategyOutput = 'fee';

export interface MerchantFeeStrategies {
  readonly merchantId: string;
  /** product → the fee strategy of that product. */
  readonly byProduct: ReadonlyMap<string, StrategyHistory>;
  /** The strategy of every product not in byProduct; without it such an item is refused. */
  readonly otherProducts: StrategyHistory | undefined;
}

export interface FeeSchedule {
  readonly merchants: ReadonlyMap<string, MerchantFeeStrategies>;
}

/** What an item is charged, and which strategy version charged it (enough to explain it again: explainFee). */
export interface FeeCharge {
  readonly feeMinor: bigint;
  readonly strategyId: string;
  readonly strategyVersion: number;
}

/** What fee-schedule needs of an item; clearing.ts's ClearedItem is one. */
export interface FeeItem {
  readonly orderId: string;
  readonly merchantId: string;
  readonly product: string;
  readonly kind: 'payment' | 'refund';
  readonly accountingTimeNs: bigint;
  readonly amountMinor: bigint;
}

/** Checks every version of every strategy against the fee contract above; throws SettleError on the first misfit. */
export function buildFeeSchedule(merchants: readonly MerchantFeeStrategies[]): FeeSchedule {
  const byMerchant = new Map<string, MerchantFeeStrategies>();
  for (const merchant of merchants) {
    if (byMerchant.has(merchant.merchantId)) throw new SettleError('fee_strategy_invalid', `merchant ${merchant.merchantId} is given twice`);
    byMerchant.set(merchant.merchantId, merchant);
    const histories = [...merchant.byProduct.values(), ...(merchant.otherProducts === undefined ? [] : [merchant.otherProducts])];
    for (const history of histories) for (const version of history.versions) checkFeeContract(merchant.merchantId, version.strategy);
  }
  return { merchants: byMerchant };
}

function checkFeeContract(merchantId: string, strategy: StrategyHistory['versions'][number]['strategy']): void {
  const label = strategyLabel(strategy);
  for (const [name, kind] of strategy.inputs) {
    const kinds = feeStrategyInputs.get(name);
    if (kinds === undefined) {
      throw new SettleError('fee_strategy_invalid', `merchant ${merchantId}: ${label} reads input "${name}"; a fee strategy may read only ${[...feeStrategyInputs.keys()].join(', ')}`);
    }
    if (!kinds.includes(kind)) throw new SettleError('fee_strategy_invalid', `merchant ${merchantId}: ${label} declares "${name}" as ${kind}, which its values do not all fit`);
  }
  if (!strategy.outputs.includes(feeStrategyOutput)) {
    throw new SettleError('fee_strategy_invalid', `merchant ${merchantId}: ${label} gives no output "${feeStrategyOutput}"`);
  }
}

function historyOf(schedule: FeeSchedule, item: FeeItem): StrategyHistory {
  const merchant = schedule.merchants.get(item.merchantId);
  const history = merchant?.byProduct.get(item.product) ?? merchant?.otherProducts;
  if (history === undefined) {
    throw new SettleError('fee_strategy_missing', `order ${item.orderId}: merchant ${item.merchantId} has no fee strategy for product ${item.product}`);
  }
  return history;
}

function evaluateFee(schedule: FeeSchedule, item: FeeItem, explain: boolean): Evaluation {
  const { strategy } = versionInForce(historyOf(schedule, item), item.accountingTimeNs);
  try {
    return evaluateStrategy(strategy, { amount: item.amountMinor, refund: item.kind === 'refund' ? 1n : 0n }, { explain });
  } catch (error) {
    // A strategy refusing these inputs is a fault of the rule, not of the day: name the order it stopped at.
    if (error instanceof StrategyError) throw new SettleError('fee_evaluation_failed', `order ${item.orderId}: ${error.message}`);
    throw error;
  }
}

/** The fee of one item by the merchant's strategy in force at its accounting time. */
export function feeOfItem(schedule: FeeSchedule, item: FeeItem): FeeCharge {
  const evaluation = evaluateFee(schedule, item, false);
  const feeMinor = evaluation.outputs.get(feeStrategyOutput);
  assert(feeMinor !== undefined, 'a fee strategy in a built schedule gives a fee');
  const magnitude = feeMinor < 0n ? -feeMinor : feeMinor;
  if (magnitude > item.amountMinor) {
    throw new SettleError('fee_out_of_range', `order ${item.orderId}: ${strategyLabel(evaluation)} charges ${feeMinor} on an amount of ${item.amountMinor}; a fee never exceeds the money it is on`);
  }
  return { feeMinor, strategyId: evaluation.id, strategyVersion: evaluation.version };
}

/**
 * The fee of one item explained step by step (strategy version, each instruction and its value), by running the
 * same version again: clearing keeps only the charge, so a day of a million items does not hold a million traces.
 */
export function explainFee(schedule: FeeSchedule, item: FeeItem, charge: FeeCharge): string[] {
  const evaluation = evaluateFee(schedule, item, true);
  // Explaining by another version than the one that charged the fee would mislead: refuse instead.
  if (evaluation.id !== charge.strategyId || evaluation.version !== charge.strategyVersion) {
    const charged = strategyLabel({ id: charge.strategyId, version: charge.strategyVersion });
    throw new SettleError('fee_strategy_missing', `order ${item.orderId} was charged by ${charged}, but this schedule applies ${strategyLabel(evaluation)} to it`);
  }
  return [`order ${item.orderId} (${item.kind} of ${item.amountMinor}): fee ${charge.feeMinor}`, ...explainEvaluation(evaluation)];
}
