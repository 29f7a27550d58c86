// The rule language of fee and settlement strategies (DOMAIN.md §8, issue #18): the parsed shape every later step
// reads, and the one error every refusal is. A strategy is a flat list of instructions over named exact numbers;
// each instruction assigns one variable, so an instruction's index in the list is its "line" in every message.
//
// The JSON a strategy is written in (parsed by rule-parse.ts, checked by rule-check.ts, run by rule-eval.ts):
//
//   {
//     "id": "fee/card/m-1001", "version": 3,
//     "inputs": { "amount": "positive_integer", "rate": "decimal" },
//     "outputs": ["fee", "settle_amount"],
//     "instructions": [
//       { "let": "raw", "expr": ["*", "amount", "rate"] },
//       { "let": "fee", "expr": ["round", ["min", ["max", "raw", "100"], "2500"], 0, "half_up"] },
//       { "let": "fee", "expr": "0", "when": ["<", "amount", "1000"] },
//       { "let": "settle_amount", "expr": ["-", "amount", "fee"] }
//     ]
//   }
//
// Money is in integer minor units throughout (100 is 1.00 CNY): inputs such as `amount` are minor units, and every
// output must be an integer, so an output's value must be proved integral — the usual way is
// ["round", value, 0, mode]. Rates and other decimals are strings ("0.006"), never JSON numbers, so no float ever
// holds one; the only JSON numbers are round's scale. A string is a decimal literal if it looks like one, else a
// variable name. Expressions are arrays [operator, ...arguments]:
//   values:     ["+", a, b]  ["-", a, b]  ["*", a, b]  ["/", a, b]  ["min", a, b, ...]  ["max", a, b, ...]
//               ["round", a, scale, mode]  (mode: half_up | half_even | down | up; |scale| ≤ 18)
//               ["if", condition, a, b]
//   conditions: ["=", a, b]  ["!=", a, b]  ["<", a, b]  ["<=", a, b]  [">", a, b]  [">=", a, b]
//               ["and", c, d, ...]  ["or", c, d, ...]  ["not", c]
// The symbols ≠ ≤ ≥ × ÷ − are accepted for != <= >= * / -. An instruction may carry "when": condition, in which
// case it assigns only when the condition holds (a guarded assignment; the variable keeps its earlier value).
// Strategies branch on numbers only: which product or merchant a strategy serves is decided by which strategy
// is selected, not by string comparisons inside it.

import type { Fraction, RoundingMode } from './fraction.js';

export type ArithmeticOperator = '+' | '-' | '*' | '/';
export type CompareOperator = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** Every node knows its JSON path in the strategy document (`$.instructions[2].expr[1]`), for messages. */
interface Node {
  readonly path: string;
}

export type Expr = Node &
  (
    | { readonly kind: 'literal'; readonly value: Fraction; readonly text: string }
    | { readonly kind: 'variable'; readonly name: string }
    | { readonly kind: 'arithmetic'; readonly op: ArithmeticOperator; readonly left: Expr; readonly right: Expr }
    | { readonly kind: 'extreme'; readonly op: 'min' | 'max'; readonly args: readonly Expr[] }
    | { readonly kind: 'round'; readonly value: Expr; readonly scale: number; readonly mode: RoundingMode }
    | { readonly kind: 'if'; readonly condition: Condition; readonly then: Expr; readonly otherwise: Expr }
  );

export type Condition = Node &
  (
    | { readonly kind: 'compare'; readonly op: CompareOperator; readonly left: Expr; readonly right: Expr }
    | { readonly kind: 'all' | 'any'; readonly args: readonly Condition[] }
    | { readonly kind: 'not'; readonly arg: Condition }
  );

/**
 * What an input is. Integers are minor units or counts; a positive kind is checked when the strategy runs, and
 * lets the checker accept the input as a divisor.
 */
export type InputKind = 'integer' | 'decimal' | 'positive_integer' | 'positive_decimal';
export const inputKinds: readonly InputKind[] = ['integer', 'decimal', 'positive_integer', 'positive_decimal'];

export interface Instruction {
  /** Position in the strategy's `instructions` array, from 0: the "line" every message and trace step names. */
  readonly index: number;
  readonly target: string;
  readonly expr: Expr;
  readonly when: Condition | undefined;
}

/** A parsed strategy: shapes are right, names and proofs not yet checked (rule-check.ts does that). */
export interface Strategy {
  readonly id: string;
  readonly version: number;
  readonly inputs: ReadonlyMap<string, InputKind>;
  readonly outputs: readonly string[];
  readonly instructions: readonly Instruction[];
}

/** A strategy rule-check.ts accepted: the only kind rule-eval.ts runs. The brand keeps unchecked ones out. */
export interface CheckedStrategy extends Strategy {
  readonly checked: true;
}

/** Which step refused: loading (parse or check) or running with given inputs. */
export type StrategyStage = 'parse' | 'check' | 'evaluate';

/**
 * A strategy or its inputs refused, with where and why. `path` is a JSON path into the strategy document
 * (`$.instructions[2].expr[1]`) or into the inputs (`inputs.amount`); `index` is the instruction, if one is to blame.
 */
export class StrategyError extends Error {
  override name = 'StrategyError';
  constructor(
    readonly stage: StrategyStage,
    readonly strategy: string,
    readonly index: number | undefined,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`strategy ${strategy}: ${index === undefined ? '' : `instruction ${index}, `}${path}: ${reason}`);
  }
}

/** 'fee/card v3': how messages and traces name a strategy version. */
export function strategyLabel(strategy: { readonly id: string; readonly version: number }): string {
  return `${strategy.id} v${strategy.version}`;
}

const shownOperators: Record<ArithmeticOperator | CompareOperator, string> = {
  '+': '+', '-': '−', '*': '×', '/': '÷', '=': '=', '!=': '≠', '<': '<', '<=': '≤', '>': '>', '>=': '≥',
};

/** An expression as people read it in messages and traces: 'round(max(amount × rate, 100), 0, half_up)'. */
export function exprText(expr: Expr): string {
  switch (expr.kind) {
    case 'literal':
      return expr.text;
    case 'variable':
      return expr.name;
    case 'arithmetic':
      return `(${exprText(expr.left)} ${shownOperators[expr.op]} ${exprText(expr.right)})`;
    case 'extreme':
      return `${expr.op}(${expr.args.map(exprText).join(', ')})`;
    case 'round':
      return `round(${exprText(expr.value)}, ${expr.scale}, ${expr.mode})`;
    case 'if':
      return `if(${conditionText(expr.condition)}, ${exprText(expr.then)}, ${exprText(expr.otherwise)})`;
  }
}

export function conditionText(condition: Condition): string {
  switch (condition.kind) {
    case 'compare':
      return `${exprText(condition.left)} ${shownOperators[condition.op]} ${exprText(condition.right)}`;
    case 'all':
    case 'any':
      return `(${condition.args.map(conditionText).join(condition.kind === 'all' ? ' and ' : ' or ')})`;
    case 'not':
      return `not (${conditionText(condition.arg)})`;
  }
}
