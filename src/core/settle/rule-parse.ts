// Reads a strategy document (JSON already decoded, shape in rules.ts) into a Strategy: every field checked by hand,
// operators and their arity, rounding modes and scales, literal syntax. Names and proofs (defined before use, no
// division by a possible zero, integral outputs) are rule-check.ts's job. Refuses with a StrategyError naming the
// instruction and the JSON path; never guesses, never coerces a JSON number into a decimal.

import { parseDecimal, roundingModes, type RoundingMode } from './fraction.js';
import {
  inputKinds,
  StrategyError,
  type ArithmeticOperator,
  type CompareOperator,
  type Condition,
  type Expr,
  type InputKind,
  type Instruction,
  type Strategy,
} from './rules.js';
import { expressionDepthMax, nameCharsMax, roundScaleMax, strategyInstructionsMax, strategyVariablesMax } from './settle-limits.js';

const namePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const idPattern = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$/;
const decimalLike = /^-?[0-9.]/;

const arithmetic: Record<string, ArithmeticOperator> = { '+': '+', '-': '-', '−': '-', '*': '*', '×': '*', '/': '/', '÷': '/' };
const comparisons: Record<string, CompareOperator> = { '=': '=', '!=': '!=', '≠': '!=', '<': '<', '<=': '<=', '≤': '<=', '>': '>', '>=': '>=', '≥': '>=' };
const logical = new Set(['and', 'or', 'not']);
const values = new Set(['min', 'max', 'round', 'if']);

/** Where parsing is: which strategy and instruction, for the error it may raise. */
interface Site {
  readonly label: string;
  readonly index: number | undefined;
}

function refuse(site: Site, path: string, reason: string): never {
  throw new StrategyError('parse', site.label, site.index, path, reason);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(site: Site, path: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) refuse(site, `${path}.${key}`, `unknown field "${key}" (expected ${allowed.join(', ')})`);
  }
}

function readName(site: Site, path: string, value: unknown, what: string): string {
  if (typeof value !== 'string' || !namePattern.test(value) || value.length > nameCharsMax) {
    refuse(site, path, `${what} ${JSON.stringify(value)} must be a name of letters, digits and _ (at most ${nameCharsMax}), not starting with a digit`);
  }
  return value;
}

/** Parses a strategy document. The result's shapes are right; run checkStrategy before evaluating it. */
export function parseStrategy(document: unknown): Strategy {
  const start: Site = { label: '(unnamed)', index: undefined };
  if (!isRecord(document)) refuse(start, '$', 'a strategy is a JSON object with id, version, inputs, outputs and instructions');
  checkKeys(start, '$', document, ['id', 'version', 'inputs', 'outputs', 'instructions']);
  const { id, version } = document;
  if (typeof id !== 'string' || !idPattern.test(id) || id.length > nameCharsMax) {
    refuse(start, '$.id', `id ${JSON.stringify(id)} must be letters, digits and _ . : / - (at most ${nameCharsMax})`);
  }
  const named: Site = { label: id, index: undefined };
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    refuse(named, '$.version', `version ${JSON.stringify(version)} must be a whole number from 1`);
  }
  const site: Site = { label: `${id} v${version}`, index: undefined };
  const inputs = readInputs(site, document.inputs);
  const outputs = readOutputs(site, document.outputs, inputs);
  const list = document.instructions;
  if (!Array.isArray(list) || list.length === 0 || list.length > strategyInstructionsMax) {
    refuse(site, '$.instructions', `instructions must be a list of 1 to ${strategyInstructionsMax} instructions`);
  }
  const instructions = list.map((item: unknown, index) => readInstruction({ label: site.label, index }, item));
  return { id, version, inputs, outputs, instructions };
}

function readInputs(site: Site, value: unknown): Map<string, InputKind> {
  if (!isRecord(value)) refuse(site, '$.inputs', `inputs must be an object of name → kind (${inputKinds.join(', ')})`);
  const entries = Object.entries(value);
  if (entries.length > strategyVariablesMax) refuse(site, '$.inputs', `at most ${strategyVariablesMax} inputs`);
  const inputs = new Map<string, InputKind>();
  for (const [name, kind] of entries) {
    readName(site, `$.inputs.${name}`, name, 'input');
    if (!inputKinds.includes(kind as InputKind)) {
      refuse(site, `$.inputs.${name}`, `input kind ${JSON.stringify(kind)} must be one of ${inputKinds.join(', ')}`);
    }
    inputs.set(name, kind as InputKind);
  }
  return inputs;
}

function readOutputs(site: Site, value: unknown, inputs: ReadonlyMap<string, InputKind>): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > strategyVariablesMax) {
    refuse(site, '$.outputs', `outputs must be a list of 1 to ${strategyVariablesMax} names`);
  }
  const outputs: string[] = [];
  value.forEach((item: unknown, i) => {
    const name = readName(site, `$.outputs[${i}]`, item, 'output');
    if (outputs.includes(name)) refuse(site, `$.outputs[${i}]`, `output "${name}" is declared twice`);
    if (inputs.has(name)) refuse(site, `$.outputs[${i}]`, `"${name}" is both an input and an output`);
    outputs.push(name);
  });
  return outputs;
}

function readInstruction(site: Site, value: unknown): Instruction {
  const path = `$.instructions[${site.index}]`;
  if (!isRecord(value)) refuse(site, path, 'an instruction is an object { "let": name, "expr": expression, "when"?: condition }');
  checkKeys(site, path, value, ['let', 'expr', 'when']);
  const target = readName(site, `${path}.let`, value.let, 'the assigned variable');
  if (!('expr' in value)) refuse(site, `${path}.expr`, 'an instruction needs an expression to assign');
  const expr = readExpr(site, value.expr, `${path}.expr`, 1);
  const when = 'when' in value ? readCondition(site, value.when, `${path}.when`, 1) : undefined;
  return { index: site.index!, target, expr, when };
}

function readOperator(site: Site, value: unknown, path: string, depth: number): { name: string; args: unknown[] } {
  if (depth > expressionDepthMax) refuse(site, path, `expression nested deeper than ${expressionDepthMax}`);
  if (!Array.isArray(value) || value.length === 0 || typeof value[0] !== 'string') {
    refuse(site, path, `expected [operator, ...arguments], got ${JSON.stringify(value)}`);
  }
  return { name: value[0] as string, args: value.slice(1) };
}

function arity(site: Site, path: string, name: string, args: readonly unknown[], min: number, max: number): void {
  if (args.length >= min && args.length <= max) return;
  const wanted = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
  refuse(site, path, `"${name}" takes ${wanted} argument${min === 1 && max === 1 ? '' : 's'}, got ${args.length}`);
}

function readExpr(site: Site, value: unknown, path: string, depth: number): Expr {
  if (typeof value === 'string') return readAtom(site, value, path);
  if (typeof value === 'number') {
    refuse(site, path, `write the number ${value} as a string ("${value}"): a JSON number may already have been rounded by a float`);
  }
  const { name, args } = readOperator(site, value, path, depth);
  const at = (i: number): string => `${path}[${i + 1}]`;
  const sub = (i: number): Expr => readExpr(site, args[i], at(i), depth + 1);
  if (Object.hasOwn(arithmetic, name)) {
    arity(site, path, name, args, 2, 2);
    return { kind: 'arithmetic', op: arithmetic[name]!, left: sub(0), right: sub(1), path };
  }
  if (name === 'min' || name === 'max') {
    arity(site, path, name, args, 2, Infinity);
    return { kind: 'extreme', op: name, args: args.map((_, i) => sub(i)), path };
  }
  if (name === 'round') {
    arity(site, path, name, args, 3, 3);
    return { kind: 'round', value: sub(0), scale: readScale(site, args[1], at(1)), mode: readMode(site, args[2], at(2)), path };
  }
  if (name === 'if') {
    arity(site, path, name, args, 3, 3);
    return { kind: 'if', condition: readCondition(site, args[0], at(0), depth + 1), then: sub(1), otherwise: sub(2), path };
  }
  if (Object.hasOwn(comparisons, name) || logical.has(name)) {
    refuse(site, path, `"${name}" makes a condition, which is allowed only in "when" or as the first argument of "if"`);
  }
  return refuse(site, path, `unknown operator "${name}" (values: + - * / min max round if)`);
}

function readAtom(site: Site, text: string, path: string): Expr {
  if (decimalLike.test(text)) {
    const value = parseDecimal(text);
    if (value === undefined) refuse(site, path, `"${text}" is no decimal literal (digits, an optional - and one ".", at most 40 characters)`);
    return { kind: 'literal', value, text, path };
  }
  return { kind: 'variable', name: readName(site, path, text, 'variable'), path };
}

function readScale(site: Site, value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || Math.abs(value) > roundScaleMax) {
    refuse(site, path, `rounding scale ${JSON.stringify(value)} must be a whole JSON number from -${roundScaleMax} to ${roundScaleMax}`);
  }
  return value;
}

function readMode(site: Site, value: unknown, path: string): RoundingMode {
  if (!roundingModes.includes(value as RoundingMode)) {
    refuse(site, path, `rounding mode ${JSON.stringify(value)} must be one of ${roundingModes.join(', ')}`);
  }
  return value as RoundingMode;
}

function readCondition(site: Site, value: unknown, path: string, depth: number): Condition {
  const { name, args } = readOperator(site, value, path, depth);
  const at = (i: number): string => `${path}[${i + 1}]`;
  if (Object.hasOwn(comparisons, name)) {
    arity(site, path, name, args, 2, 2);
    const left = readExpr(site, args[0], at(0), depth + 1);
    return { kind: 'compare', op: comparisons[name]!, left, right: readExpr(site, args[1], at(1), depth + 1), path };
  }
  if (name === 'and' || name === 'or') {
    arity(site, path, name, args, 2, Infinity);
    const conditions = args.map((arg, i) => readCondition(site, arg, at(i), depth + 1));
    return { kind: name === 'and' ? 'all' : 'any', args: conditions, path };
  }
  if (name === 'not') {
    arity(site, path, name, args, 1, 1);
    return { kind: 'not', arg: readCondition(site, args[0], at(0), depth + 1), path };
  }
  if (Object.hasOwn(arithmetic, name) || values.has(name)) {
    refuse(site, path, `"${name}" makes a value, not a condition: compare it, e.g. [">", value, "0"]`);
  }
  return refuse(site, path, `unknown operator "${name}" (conditions: = != < <= > >= and or not)`);
}
