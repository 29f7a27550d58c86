// Checks a parsed strategy before it may run, by walking its instructions in order with what is known of each
// variable: whether it surely holds a value, whether it is surely a whole number, and which signs it can have.
// Refusals (StrategyError, stage 'check', naming the instruction and JSON path):
//  - a variable read before it surely holds a value (not an input, not assigned yet, or assigned only under
//    "when"), and an instruction that assigns an input;
//  - division by a possible zero: the divisor's possible signs must exclude zero (see Signs below);
//  - an output never assigned, assigned only under "when", or that may not be a whole number of minor units
//    (see integral below) — the usual fix is ["round", value, 0, mode].
// Sound but conservative: it may refuse a strategy that could never divide by zero, never the reverse.

import { signOf } from './fraction.js';
import { parseStrategy } from './rule-parse.js';
import {
  exprText,
  strategyLabel,
  StrategyError,
  type CheckedStrategy,
  type CompareOperator,
  type Condition,
  type Expr,
  type Instruction,
  type Strategy,
} from './rules.js';

/**
 * The signs a value may have, as bits: negative, zero, positive. Literals have one sign; an input has every sign
 * unless its kind is positive_*; + − × ÷ combine signs case by case (positive + positive is positive, positive −
 * positive may be anything); min and max take the least and greatest signs (sign is monotone); round may turn a
 * non-zero value into zero unless its mode is `up`; if(c, a, b) has the signs of both branches. Inside a branch
 * of `if`, or an instruction guarded by `when`, a comparison of a variable with a literal narrows that variable:
 * under [">", "x", "0"], x is positive, so dividing by x is accepted. Nothing else narrows: [">", ["-", "a", "b"],
 * "0"] proves nothing about a − b, so write the guard on a variable of its own.
 */
type Signs = number;
const negative = 1;
const zeroSign = 2;
const positive = 4;
const anySign = negative | zeroSign | positive;

interface Known {
  /** Assigned on every path to here (an input, or an unguarded assignment). */
  readonly definite: boolean;
  /** Surely a whole number on every path that assigned it. */
  readonly integral: boolean;
  readonly signs: Signs;
  /** Instructions whose assignment may reach here without being a whole number: what an output refusal names. */
  readonly fractionalAt: readonly number[];
  /** The instructions that assigned it so far, for messages. */
  readonly assignedAt: readonly number[];
}

type Knowledge = ReadonlyMap<string, Known>;

interface Facts {
  readonly integral: boolean;
  readonly signs: Signs;
}

/** Checks `strategy`; returns it marked as checked, or throws a StrategyError naming the first problem. */
export function checkStrategy(strategy: Strategy): CheckedStrategy {
  const label = strategyLabel(strategy);
  let knowledge: Map<string, Known> = new Map();
  for (const [name, kind] of strategy.inputs) {
    const integral = kind === 'integer' || kind === 'positive_integer';
    const signs = kind.startsWith('positive') ? positive : anySign;
    knowledge.set(name, { definite: true, integral, signs, fractionalAt: [], assignedAt: [] });
  }
  for (const instruction of strategy.instructions) {
    knowledge = checkInstruction(label, strategy, knowledge, instruction);
  }
  strategy.outputs.forEach((name, i) => checkOutput(label, strategy, knowledge.get(name), name, i));
  return { ...strategy, checked: true };
}

function checkInstruction(label: string, strategy: Strategy, knowledge: Map<string, Known>, instruction: Instruction): Map<string, Known> {
  const { index, target } = instruction;
  const path = `$.instructions[${index}]`;
  if (strategy.inputs.has(target)) refuseCheck(label, index, `${path}.let`, `assigns the input "${target}": inputs are read-only, assign a new variable`);
  const scope: Scope = { label, strategy, index, knowledge };
  if (instruction.when !== undefined) checkCondition(scope, instruction.when);
  const guarded = instruction.when === undefined ? scope : narrowed(scope, instruction.when, true);
  const facts = analyse(guarded, instruction.expr);
  const before = knowledge.get(target);
  const fractionalHere = facts.integral ? [] : [index];
  const assignedAt = [...(before?.assignedAt ?? []), index];
  const after: Known =
    instruction.when === undefined || before === undefined
      ? { definite: instruction.when === undefined, integral: facts.integral, signs: facts.signs, fractionalAt: fractionalHere, assignedAt }
      : {
          definite: before.definite,
          integral: before.integral && facts.integral,
          signs: before.signs | facts.signs,
          fractionalAt: [...before.fractionalAt, ...fractionalHere],
          assignedAt,
        };
  return new Map(knowledge).set(target, after);
}

function checkOutput(label: string, strategy: Strategy, known: Known | undefined, name: string, i: number): void {
  if (known === undefined) refuseCheck(label, undefined, `$.outputs[${i}]`, `output "${name}" is never assigned`);
  if (!known.definite) {
    const at = known.assignedAt.join(', ');
    const reason = `output "${name}" may be left unassigned: every assignment to it (instruction ${at}) has a "when" guard; assign it without one first`;
    refuseCheck(label, undefined, `$.outputs[${i}]`, reason);
  }
  if (!known.integral) {
    const index = known.fractionalAt[known.fractionalAt.length - 1]!;
    const shown = exprText(strategy.instructions[index]!.expr);
    const reason = `output "${name}" must be whole minor units, but ${shown} may have a fraction: round it, e.g. ["round", value, 0, "half_up"]`;
    refuseCheck(label, index, `$.instructions[${index}].expr`, reason);
  }
}

function refuseCheck(label: string, index: number | undefined, path: string, reason: string): never {
  throw new StrategyError('check', label, index, path, reason);
}

interface Scope {
  readonly label: string;
  readonly strategy: Strategy;
  readonly index: number;
  readonly knowledge: Knowledge;
}

function refuseAt(scope: Scope, path: string, reason: string): never {
  return refuseCheck(scope.label, scope.index, path, reason);
}

function analyse(scope: Scope, expr: Expr): Facts {
  switch (expr.kind) {
    case 'literal':
      return { integral: expr.value.den === 1n, signs: signBit(signOf(expr.value)) };
    case 'variable':
      return readVariable(scope, expr.name, expr.path);
    case 'arithmetic':
      return analyseArithmetic(scope, expr);
    case 'extreme': {
      const all = expr.args.map((arg) => analyse(scope, arg));
      const pick = expr.op === 'min' ? minSigns : maxSigns;
      return { integral: all.every((f) => f.integral), signs: all.map((f) => f.signs).reduce(pick) };
    }
    case 'round': {
      const value = analyse(scope, expr.value);
      const signs = expr.mode === 'up' || value.signs === zeroSign ? value.signs : value.signs | zeroSign;
      return { integral: expr.scale <= 0 || value.integral, signs };
    }
    case 'if': {
      checkCondition(scope, expr.condition);
      const then = analyse(narrowed(scope, expr.condition, true), expr.then);
      const otherwise = analyse(narrowed(scope, expr.condition, false), expr.otherwise);
      return { integral: then.integral && otherwise.integral, signs: then.signs | otherwise.signs };
    }
  }
}

function analyseArithmetic(scope: Scope, expr: Extract<Expr, { kind: 'arithmetic' }>): Facts {
  const left = analyse(scope, expr.left);
  const right = analyse(scope, expr.right);
  if (expr.op === '/' && (right.signs & zeroSign) !== 0) {
    refuseAt(scope, expr.right.path,
      `division by a possible zero: the divisor ${exprText(expr.right)} may be 0; divide by a non-zero literal, a positive_* input, ` +
      `max(value, "0.01"), or guard it with [">", variable, "0"] in "when" or "if"`);
  }
  const integral = expr.op !== '/' && left.integral && right.integral;
  if (expr.op === '+') return { integral, signs: combine(left.signs, right.signs, addSigns) };
  if (expr.op === '-') return { integral, signs: combine(left.signs, negateSigns(right.signs), addSigns) };
  return { integral, signs: combine(left.signs, right.signs, (a, b) => signBit(signNumber(a) * signNumber(b))) };
}

function readVariable(scope: Scope, name: string, path: string): Facts {
  const known = scope.knowledge.get(name);
  if (known === undefined) {
    const later = scope.strategy.instructions.find((instruction) => instruction.target === name && instruction.index >= scope.index);
    const why = later === undefined ? 'not an input and never assigned' : `not an input, and first assigned by instruction ${later.index}`;
    refuseAt(scope, path, `unknown variable "${name}": ${why}`);
  }
  if (!known.definite) {
    refuseAt(scope, path, `variable "${name}" may be unassigned here: instruction ${known.assignedAt.join(', ')} assigns it only under "when"`);
  }
  return { integral: known.integral, signs: known.signs };
}

/** Conditions need their operands defined; their own value is true or false, never a number. */
function checkCondition(scope: Scope, condition: Condition): void {
  if (condition.kind === 'compare') {
    analyse(scope, condition.left);
    analyse(scope, condition.right);
  } else if (condition.kind === 'not') checkCondition(scope, condition.arg);
  else for (const arg of condition.args) checkCondition(scope, arg);
}

/** What is known where `condition` has the value `truth`: variables compared with literals get narrower signs. */
function narrowed(scope: Scope, condition: Condition, truth: boolean): Scope {
  if (condition.kind === 'not') return narrowed(scope, condition.arg, !truth);
  if (condition.kind !== 'compare') {
    // Every part of an `and` holds when it is true; every part of an `or` fails when it is false.
    const each = (condition.kind === 'all') === truth;
    return each ? condition.args.reduce((inner, arg) => narrowed(inner, arg, truth), scope) : scope;
  }
  const { left, right } = condition;
  const op = truth ? condition.op : negated[condition.op];
  if (left.kind === 'variable' && right.kind === 'literal') return restrict(scope, left.name, allowedSigns(op, signOf(right.value)));
  if (left.kind === 'literal' && right.kind === 'variable') return restrict(scope, right.name, allowedSigns(flipped[op], signOf(left.value)));
  return scope;
}

const negated: Record<CompareOperator, CompareOperator> = { '=': '!=', '!=': '=', '<': '>=', '<=': '>', '>': '<=', '>=': '<' };
const flipped: Record<CompareOperator, CompareOperator> = { '=': '=', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** The signs x can have when `x op c` holds and c has sign `c`. */
function allowedSigns(op: CompareOperator, c: -1 | 0 | 1): Signs {
  switch (op) {
    case '=':
      return signBit(c);
    case '!=':
      return c === 0 ? negative | positive : anySign;
    case '>':
      return c >= 0 ? positive : anySign;
    case '>=':
      return c > 0 ? positive : c === 0 ? zeroSign | positive : anySign;
    case '<':
      return c <= 0 ? negative : anySign;
    case '<=':
      return c < 0 ? negative : c === 0 ? negative | zeroSign : anySign;
  }
}

function restrict(scope: Scope, name: string, signs: Signs): Scope {
  const known = scope.knowledge.get(name);
  if (known === undefined || !known.definite) return scope; // checkCondition refuses the read itself.
  return { ...scope, knowledge: new Map(scope.knowledge).set(name, { ...known, signs: known.signs & signs }) };
}

function signBit(sign: number): Signs {
  return sign < 0 ? negative : sign > 0 ? positive : zeroSign;
}

function signNumber(bit: Signs): -1 | 0 | 1 {
  return bit === negative ? -1 : bit === positive ? 1 : 0;
}

function negateSigns(signs: Signs): Signs {
  return (signs & zeroSign) | (signs & negative ? positive : 0) | (signs & positive ? negative : 0);
}

/** Applies `op` to every pair of single signs from `a` and `b` and collects the results. */
function combine(a: Signs, b: Signs, op: (x: Signs, y: Signs) => Signs): Signs {
  let result = 0;
  for (const x of [negative, zeroSign, positive]) {
    for (const y of [negative, zeroSign, positive]) if (a & x && b & y) result |= op(x, y);
  }
  return result;
}

function addSigns(x: Signs, y: Signs): Signs {
  if (x === zeroSign) return y;
  if (y === zeroSign || x === y) return x;
  return anySign;
}

function minSigns(a: Signs, b: Signs): Signs {
  return combine(a, b, (x, y) => Math.min(x, y));
}

function maxSigns(a: Signs, b: Signs): Signs {
  return combine(a, b, (x, y) => Math.max(x, y));
}

/** Parses and checks a strategy document in one step: what a loader calls. */
export function loadStrategy(document: unknown): CheckedStrategy {
  return checkStrategy(parseStrategy(document));
}
