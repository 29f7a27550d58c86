// Runs a checked strategy on one set of inputs, in exact fractions (fraction.ts), and explains itself: the result
// carries the strategy version and, per instruction, its index, its expression, whether its guard held and the
// value assigned. Outputs come back as bigint minor units. Inputs are refused (StrategyError, stage 'evaluate')
// when missing, malformed or of the wrong kind; nothing is coerced. Never rounds except where the strategy says.

import { assert } from '../assert.js';
import {
  add,
  compare,
  divide,
  fitsBits,
  formatFraction,
  fractionOfInteger,
  isInteger,
  multiply,
  parseDecimal,
  round,
  subtract,
  toInteger,
  type Fraction,
} from './fraction.js';
import { conditionText, exprText, strategyLabel, StrategyError, type CheckedStrategy, type Condition, type Expr } from './rules.js';
import { fractionBitsMax } from './settle-limits.js';

/** An input: bigint for integers (minor units), or decimal text ('0.006'). Never a JS number. */
export type InputValue = bigint | string;

/** One instruction as it ran. */
export interface TraceStep {
  readonly index: number;
  readonly target: string;
  readonly expr: string;
  /** The guard's text, when the instruction has one. */
  readonly when: string | undefined;
  /** False when the guard did not hold: nothing was assigned and `value` is absent. */
  readonly applied: boolean;
  /** The value assigned, exact: a decimal, or 20 decimals and '…' when it has no finite decimal form. */
  readonly value: string | undefined;
}

export interface Evaluation {
  readonly id: string;
  readonly version: number;
  readonly outputs: ReadonlyMap<string, bigint>;
  readonly trace: readonly TraceStep[];
}

/**
 * Runs `strategy` on `inputs`. Inputs the strategy does not declare are ignored (callers pass one bag to many).
 * `explain: false` leaves the trace empty: a day's clearing evaluates a million fees and explains one on request
 * (fee-schedule.ts explainFee runs it again), and the trace's text was a fifth of each evaluation.
 */
export function evaluateStrategy(strategy: CheckedStrategy, inputs: Readonly<Record<string, InputValue>>, options: { explain?: boolean } = {}): Evaluation {
  assert(strategy.checked, 'only a checked strategy runs');
  // The label names the strategy in a refusal only: made when one is thrown.
  const labelOf = (): string => strategyLabel(strategy);
  const values = readInputs(labelOf, strategy, inputs);
  const trace: TraceStep[] = [];
  const explain = options.explain ?? true;
  for (const instruction of strategy.instructions) {
    const run = { labelOf, index: instruction.index, values };
    const applied = instruction.when === undefined || holds(run, instruction.when);
    const value = applied ? evaluate(run, instruction.expr) : undefined;
    if (value !== undefined) values.set(instruction.target, value);
    if (explain) trace.push({
      index: instruction.index,
      target: instruction.target,
      expr: exprText(instruction.expr),
      when: instruction.when === undefined ? undefined : conditionText(instruction.when),
      applied,
      value: value === undefined ? undefined : formatFraction(value),
    });
  }
  const outputs = new Map<string, bigint>();
  for (const name of strategy.outputs) {
    const value = values.get(name);
    // The checker proved every output assigned on every path and a whole number; these hold or the checker is wrong.
    assert(value !== undefined, 'a checked strategy assigns every output');
    assert(isInteger(value), 'a checked strategy gives whole minor units for every output');
    outputs.set(name, toInteger(value));
  }
  return { id: strategy.id, version: strategy.version, outputs, trace };
}

/** The evaluation as lines a person reads: the strategy version, each step, then the outputs. */
export function explainEvaluation(evaluation: Evaluation): string[] {
  const lines = [`strategy ${strategyLabel(evaluation)}`];
  for (const step of evaluation.trace) {
    const guard = step.when === undefined ? '' : ` when ${step.when}`;
    const result = step.applied ? ` = ${step.value}` : ': skipped, the condition is false';
    lines.push(`  [${step.index}] ${step.target} = ${step.expr}${guard}${result}`);
  }
  lines.push(`  outputs: ${[...evaluation.outputs].map(([name, value]) => `${name} = ${value}`).join(', ')}`);
  return lines;
}

function readInputs(labelOf: () => string, strategy: CheckedStrategy, inputs: Readonly<Record<string, InputValue>>): Map<string, Fraction> {
  const values = new Map<string, Fraction>();
  for (const [name, kind] of strategy.inputs) {
    const refuse = (reason: string): never => {
      throw new StrategyError('evaluate', labelOf(), undefined, `inputs.${name}`, reason);
    };
    const given = Object.hasOwn(inputs, name) ? inputs[name] : undefined;
    let value: Fraction | undefined;
    if (typeof given === 'bigint') value = fractionOfInteger(given);
    else if (typeof given === 'string') value = parseDecimal(given);
    else refuse(given === undefined ? 'missing' : `${typeof given} given: pass a bigint or decimal text, never a JS number`);
    if (value === undefined) return refuse(`${JSON.stringify(given)} is no decimal`);
    if (kind.endsWith('integer') && !isInteger(value)) refuse(`${formatFraction(value)} is not a whole number, and the input is ${kind}`);
    if (kind.startsWith('positive') && value.num <= 0n) refuse(`${formatFraction(value)} is not positive, and the input is ${kind}`);
    if (!fitsBits(value)) refuse(`${formatFraction(value)} is larger than ${fractionBitsMax} bits`);
    values.set(name, value);
  }
  return values;
}

interface Run {
  readonly labelOf: () => string;
  readonly index: number;
  readonly values: ReadonlyMap<string, Fraction>;
}

function evaluate(run: Run, expr: Expr): Fraction {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'variable': {
      const value = run.values.get(expr.name);
      assert(value !== undefined, 'a checked strategy reads only assigned variables');
      return value;
    }
    case 'arithmetic':
      return bounded(run, expr, arithmetic[expr.op](evaluate(run, expr.left), evaluate(run, expr.right)));
    case 'extreme': {
      const args = expr.args.map((arg) => evaluate(run, arg));
      const wanted = expr.op === 'min' ? -1 : 1;
      return args.reduce((best, value) => (compare(value, best) === wanted ? value : best));
    }
    case 'round':
      return round(evaluate(run, expr.value), expr.scale, expr.mode);
    case 'if':
      return holds(run, expr.condition) ? evaluate(run, expr.then) : evaluate(run, expr.otherwise);
  }
}

const arithmetic = { '+': add, '-': subtract, '*': multiply, '/': divide } as const;

/** Exact values can grow; one that outgrows fractionBitsMax is refused here rather than slowing the run down. */
function bounded(run: Run, expr: Expr, value: Fraction): Fraction {
  if (!fitsBits(value)) {
    throw new StrategyError('evaluate', run.labelOf(), run.index, expr.path, `${exprText(expr)} grew past ${fractionBitsMax} bits`);
  }
  return value;
}

function holds(run: Run, condition: Condition): boolean {
  switch (condition.kind) {
    case 'compare': {
      const order = compare(evaluate(run, condition.left), evaluate(run, condition.right));
      return comparisons[condition.op](order);
    }
    case 'all':
      return condition.args.every((arg) => holds(run, arg));
    case 'any':
      return condition.args.some((arg) => holds(run, arg));
    case 'not':
      return !holds(run, condition.arg);
  }
}

const comparisons = {
  '=': (order: number) => order === 0,
  '!=': (order: number) => order !== 0,
  '<': (order: number) => order < 0,
  '<=': (order: number) => order <= 0,
  '>': (order: number) => order > 0,
  '>=': (order: number) => order >= 0,
} as const;
