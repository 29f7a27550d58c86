// A merchant's rolling reserve as a strategy (issue #18: "a fee, a settlement amount, a reserve" as data): where a
// merchant has an approved reserve strategy, it decides what each run holds back instead of the terms' basis points.
// The contract, checked when the strategy is approved:
//   inputs it may read: kept  — what the merchant keeps of the run (net − 分账 shares), minor units, may be negative;
//                       gross — payments − refunds of the items paid, minor units, may be negative;
//                       fees  — the fees of those items, minor units, may be negative;
//   output: reserve — minor units held back, 0 ≤ reserve ≤ max(kept, 0): a reserve never holds more than is kept.
// The version in force at the start of the run date (00:00 UTC) applies: a run is one instant, whatever its items.

import { evaluateStrategy, explainEvaluation } from './rule-eval.js';
import { strategyLabel, StrategyError, type CheckedStrategy, type InputKind } from './rules.js';
import { SettleError } from './settle-errors.js';
import { versionInForce, type StrategyHistory } from './strategy-versions.js';
import type { BusinessDay } from '../business-day.js';

export const reserveStrategyInputs: ReadonlyMap<string, readonly InputKind[]> = new Map([
  ['kept', ['integer', 'decimal']],
  ['gross', ['integer', 'decimal']],
  ['fees', ['integer', 'decimal']],
]);
export const reserveStrategyOutput = 'reserve';

/** Refuses a strategy that reads another input, declares one narrower than its values, or gives no reserve. */
export function checkReserveContract(merchantId: string, strategy: CheckedStrategy): void {
  const label = strategyLabel(strategy);
  for (const [name, kind] of strategy.inputs) {
    const kinds = reserveStrategyInputs.get(name);
    if (kinds === undefined) throw new SettleError('reserve_strategy_invalid', `merchant ${merchantId}: ${label} reads input "${name}"; a reserve strategy may read only ${[...reserveStrategyInputs.keys()].join(', ')}`);
    if (!kinds.includes(kind)) throw new SettleError('reserve_strategy_invalid', `merchant ${merchantId}: ${label} declares "${name}" as ${kind}, which its values (negative too) do not all fit`);
  }
  if (!strategy.outputs.includes(reserveStrategyOutput)) throw new SettleError('reserve_strategy_invalid', `merchant ${merchantId}: ${label} gives no output "${reserveStrategyOutput}"`);
}

/** What a run's figures give to a reserve strategy. */
export interface ReserveFigures {
  readonly keptMinor: bigint;
  readonly grossMinor: bigint;
  readonly feesMinor: bigint;
}

/** The run date's start, 00:00 UTC, in ns: the instant whose strategy version a run applies. */
export function runInstantNs(runDate: BusinessDay): bigint {
  const year = Math.floor(runDate / 10_000);
  const month = Math.floor(runDate / 100) % 100;
  const day = runDate % 100;
  return BigInt(Date.UTC(year, month - 1, day)) * 1_000_000n;
}

/** The reserve held by the version in force on the run date, and the explanation of how it came about. */
export function reserveByStrategy(merchantId: string, history: StrategyHistory, runDate: BusinessDay, figures: ReserveFigures): { reserveMinor: bigint; explanation: string[] } {
  const { strategy } = versionInForce(history, runInstantNs(runDate));
  let evaluation;
  try {
    evaluation = evaluateStrategy(strategy, { kept: figures.keptMinor, gross: figures.grossMinor, fees: figures.feesMinor }, { explain: true });
  } catch (error) {
    if (error instanceof StrategyError) throw new SettleError('reserve_evaluation_failed', `merchant ${merchantId}: ${error.message}`);
    throw error;
  }
  const reserveMinor = evaluation.outputs.get(reserveStrategyOutput)!;
  const most = figures.keptMinor > 0n ? figures.keptMinor : 0n;
  if (reserveMinor < 0n || reserveMinor > most) {
    throw new SettleError('reserve_out_of_range', `merchant ${merchantId}: ${strategyLabel(evaluation)} holds ${reserveMinor} of ${figures.keptMinor} kept; a reserve is 0 to what the merchant keeps`);
  }
  return { reserveMinor, explanation: explainEvaluation(evaluation) };
}
