// A merchant's run decided by strategies (issue #18: "a fee, a settlement amount, a reserve" as data), each under
// maker–checker, the version in force at the start of the run date (00:00 UTC) applying: a run is one instant.
//  - reserve: what each run holds back, in place of the terms' basis points. Inputs it may read:
//      kept  — what the merchant keeps of the run (net − 分账 shares), minor units, may be negative;
//      gross — payments − refunds of the items paid, minor units, may be negative;
//      fees  — the fees of those items, minor units, may be negative;
//    output reserve: 0 ≤ reserve ≤ max(kept, 0) — a reserve never holds more than is kept.
//  - settlement (the settlement amount): how much of the payable to pay out now, in place of the minimum payout rule;
//    what it leaves carries to the next run. Inputs: payable (kept − reserve + released + carried in) and the three
//    above; output settle: 0 ≤ settle ≤ max(payable, 0).

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
export const settleStrategyInputs: ReadonlyMap<string, readonly InputKind[]> = new Map([...reserveStrategyInputs, ['payable', ['integer', 'decimal']]]);
export const settleStrategyOutput = 'settle';

/** The kinds of run strategy: what each may read and must give. */
export type RunStrategyKind = 'reserve' | 'settlement';
const contracts: Record<RunStrategyKind, { inputs: ReadonlyMap<string, readonly InputKind[]>; output: string }> = {
  reserve: { inputs: reserveStrategyInputs, output: reserveStrategyOutput },
  settlement: { inputs: settleStrategyInputs, output: settleStrategyOutput },
};

/** Refuses a strategy that reads another input, declares one narrower than its values, or gives no output of its kind. */
export function checkRunStrategyContract(kind: RunStrategyKind, merchantId: string, strategy: CheckedStrategy): void {
  const label = strategyLabel(strategy);
  const { inputs, output } = contracts[kind];
  for (const [name, inputKind] of strategy.inputs) {
    const kinds = inputs.get(name);
    if (kinds === undefined) throw new SettleError('run_strategy_invalid', `merchant ${merchantId}: ${label} reads input "${name}"; a ${kind} strategy may read only ${[...inputs.keys()].join(', ')}`);
    if (!kinds.includes(inputKind)) throw new SettleError('run_strategy_invalid', `merchant ${merchantId}: ${label} declares "${name}" as ${inputKind}, which its values (negative too) do not all fit`);
  }
  if (!strategy.outputs.includes(output)) throw new SettleError('run_strategy_invalid', `merchant ${merchantId}: ${label} gives no output "${output}"`);
}

/** The reserve strategy's contract (checkRunStrategyContract of kind reserve). */
export function checkReserveContract(merchantId: string, strategy: CheckedStrategy): void {
  checkRunStrategyContract('reserve', merchantId, strategy);
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

function evaluateInForce(merchantId: string, history: StrategyHistory, runDate: BusinessDay, inputs: Record<string, bigint>) {
  const { strategy } = versionInForce(history, runInstantNs(runDate));
  try {
    return evaluateStrategy(strategy, inputs, { explain: true });
  } catch (error) {
    if (error instanceof StrategyError) throw new SettleError('run_strategy_failed', `merchant ${merchantId}: ${error.message}`);
    throw error;
  }
}

/** What the settlement strategy in force pays out of `payableMinor`, and how it came about. */
export function settledByStrategy(merchantId: string, history: StrategyHistory, runDate: BusinessDay, figures: ReserveFigures, payableMinor: bigint): { settledMinor: bigint; explanation: string[] } {
  const evaluation = evaluateInForce(merchantId, history, runDate, { kept: figures.keptMinor, gross: figures.grossMinor, fees: figures.feesMinor, payable: payableMinor });
  const settledMinor = evaluation.outputs.get(settleStrategyOutput)!;
  const most = payableMinor > 0n ? payableMinor : 0n;
  if (settledMinor < 0n || settledMinor > most) {
    throw new SettleError('run_strategy_out_of_range', `merchant ${merchantId}: ${strategyLabel(evaluation)} pays ${settledMinor} of ${payableMinor} payable; a settlement is 0 to what is payable`);
  }
  return { settledMinor, explanation: explainEvaluation(evaluation) };
}

/** The reserve held by the version in force on the run date, and the explanation of how it came about. */
export function reserveByStrategy(merchantId: string, history: StrategyHistory, runDate: BusinessDay, figures: ReserveFigures): { reserveMinor: bigint; explanation: string[] } {
  const evaluation = evaluateInForce(merchantId, history, runDate, { kept: figures.keptMinor, gross: figures.grossMinor, fees: figures.feesMinor });
  const reserveMinor = evaluation.outputs.get(reserveStrategyOutput)!;
  const most = figures.keptMinor > 0n ? figures.keptMinor : 0n;
  if (reserveMinor < 0n || reserveMinor > most) {
    throw new SettleError('run_strategy_out_of_range', `merchant ${merchantId}: ${strategyLabel(evaluation)} holds ${reserveMinor} of ${figures.keptMinor} kept; a reserve is 0 to what the merchant keeps`);
  }
  return { reserveMinor, explanation: explainEvaluation(evaluation) };
}
