// Loading a strategy, the shapes: every refusal rule-parse.ts makes, each with the instruction and JSON path it
// names and the reason people read. Names and proofs are rule-check.test.ts's.

import { describe, expect, it } from 'vitest';
import { parseStrategy } from '../../../../src/core/settle/rule-parse.js';
import { StrategyError } from '../../../../src/core/settle/rules.js';
import { refusal } from './refusal.js';

const base = {
  id: 'fee/card/m-1001',
  version: 3,
  inputs: { amount: 'positive_integer', rate: 'decimal' },
  outputs: ['fee'],
  instructions: [{ let: 'fee', expr: ['round', ['*', 'amount', 'rate'], 0, 'half_up'] }],
};

const withExpr = (expr: unknown, extra: object = {}): object => ({ ...base, instructions: [{ let: 'x', expr: '1' }, { let: 'fee', expr, ...extra }] });

const refused = (document: unknown): StrategyError => refusal(StrategyError, () => parseStrategy(document));

describe('parseStrategy refuses', () => {
  // what, document, instruction index, path, words the reason contains
  const table: [string, unknown, number | undefined, string, string][] = [
    ['a non-object', [], undefined, '$', 'a strategy is a JSON object'],
    ['an unknown field', { ...base, note: 'x' }, undefined, '$.note', 'unknown field "note"'],
    ['a bad id', { ...base, id: 'fee card' }, undefined, '$.id', 'id "fee card" must be'],
    ['version 0', { ...base, version: 0 }, undefined, '$.version', 'version 0 must be a whole number from 1'],
    ['a version as text', { ...base, version: '3' }, undefined, '$.version', 'version "3"'],
    ['inputs as a list', { ...base, inputs: ['amount'] }, undefined, '$.inputs', 'inputs must be an object'],
    ['an unknown input kind', { ...base, inputs: { amount: 'money' } }, undefined, '$.inputs.amount', 'input kind "money" must be one of integer, decimal'],
    ['a bad input name', { ...base, inputs: { '2x': 'integer' } }, undefined, '$.inputs.2x', 'input "2x" must be a name'],
    ['no outputs', { ...base, outputs: [] }, undefined, '$.outputs', 'outputs must be a list of 1 to 64 names'],
    ['an output twice', { ...base, outputs: ['fee', 'fee'] }, undefined, '$.outputs[1]', 'output "fee" is declared twice'],
    ['an output that is an input', { ...base, outputs: ['amount'] }, undefined, '$.outputs[0]', '"amount" is both an input and an output'],
    ['no instructions', { ...base, instructions: [] }, undefined, '$.instructions', 'a list of 1 to 256 instructions'],
    ['257 instructions', { ...base, instructions: Array(257).fill({ let: 'fee', expr: '1' }) }, undefined, '$.instructions', '1 to 256'],
    ['an instruction that is no object', { ...base, instructions: ['fee = 1'] }, 0, '$.instructions[0]', 'an instruction is an object'],
    ['an unknown instruction field', { ...base, instructions: [{ let: 'fee', expr: '1', if: 'x' }] }, 0, '$.instructions[0].if', 'unknown field "if"'],
    ['an instruction without let', { ...base, instructions: [{ expr: '1' }] }, 0, '$.instructions[0].let', 'the assigned variable undefined must be a name'],
    ['an instruction without expr', { ...base, instructions: [{ let: 'fee' }] }, 0, '$.instructions[0].expr', 'needs an expression'],
    ['a JSON number', withExpr(['*', 'amount', 0.006]), 1, '$.instructions[1].expr[2]', 'write the number 0.006 as a string ("0.006")'],
    ['an unknown operator', withExpr(['%', 'amount', '2']), 1, '$.instructions[1].expr', 'unknown operator "%"'],
    ['an unknown condition operator', withExpr('1', { when: ['xor', 'a', 'b'] }), 1, '$.instructions[1].when', 'unknown operator "xor"'],
    ['+ with one argument', withExpr(['+', 'amount']), 1, '$.instructions[1].expr', '"+" takes 2 arguments, got 1'],
    ['/ with three arguments', withExpr(['/', 'amount', '2', '3']), 1, '$.instructions[1].expr', '"/" takes 2 arguments, got 3'],
    ['min with one argument', withExpr(['min', 'amount']), 1, '$.instructions[1].expr', '"min" takes at least 2 arguments, got 1'],
    ['round without a mode', withExpr(['round', 'amount', 0]), 1, '$.instructions[1].expr', '"round" takes 3 arguments, got 2'],
    ['if with two arguments', withExpr(['if', ['<', 'x', '1'], '1']), 1, '$.instructions[1].expr', '"if" takes 3 arguments, got 2'],
    ['not with two arguments', withExpr('1', { when: ['not', ['<', 'x', '1'], ['<', 'x', '2']] }), 1, '$.instructions[1].when', '"not" takes 1 argument, got 2'],
    ['= with one argument', withExpr('1', { when: ['=', 'x'] }), 1, '$.instructions[1].when', '"=" takes 2 arguments, got 1'],
    ['an unknown rounding mode', withExpr(['round', 'amount', 0, 'half_down']), 1, '$.instructions[1].expr[3]', 'rounding mode "half_down" must be one of half_up, half_even, down, up'],
    ['a rounding scale past 18', withExpr(['round', 'amount', 19, 'up']), 1, '$.instructions[1].expr[2]', 'rounding scale 19 must be a whole JSON number from -18 to 18'],
    ['a fractional rounding scale', withExpr(['round', 'amount', 1.5, 'up']), 1, '$.instructions[1].expr[2]', 'rounding scale 1.5'],
    ['a rounding scale as text', withExpr(['round', 'amount', '2', 'up']), 1, '$.instructions[1].expr[2]', 'rounding scale "2"'],
    ['a malformed literal', withExpr(['*', 'amount', '0.0.6']), 1, '$.instructions[1].expr[2]', '"0.0.6" is no decimal literal'],
    ['a literal with an exponent', withExpr(['*', 'amount', '6e-3']), 1, '$.instructions[1].expr[2]', '"6e-3" is no decimal literal'],
    ['a malformed variable name', withExpr(['*', 'amount', 'fee-rate']), 1, '$.instructions[1].expr[2]', 'variable "fee-rate" must be a name'],
    ['a condition as a value', withExpr(['<', 'amount', '100']), 1, '$.instructions[1].expr', '"<" makes a condition, which is allowed only in "when" or as the first argument of "if"'],
    ['a value as a condition', withExpr('1', { when: ['+', 'amount', '1'] }), 1, '$.instructions[1].when', '"+" makes a value, not a condition'],
    ['a value as the condition of if', withExpr(['if', 'amount', '1', '2']), 1, '$.instructions[1].expr[1]', 'expected [operator, ...arguments], got "amount"'],
    ['an empty expression', withExpr([]), 1, '$.instructions[1].expr', 'expected [operator, ...arguments], got []'],
    ['an object as an expression', withExpr({ op: '+' }), 1, '$.instructions[1].expr', 'expected [operator, ...arguments]'],
    ['an inherited name as an operator', withExpr(['toString', 'amount', '1']), 1, '$.instructions[1].expr', 'unknown operator "toString"'],
    ['nesting past 32', withExpr(Array.from({ length: 33 }).reduce<unknown>((inner) => ['+', inner, '1'], 'amount')), 1, '$.instructions[1].expr' + '[1]'.repeat(32), 'nested deeper than 32'],
  ];

  it.each(table)('%s', (_what, document, index, path, reason) => {
    const error = refused(document);
    expect(error.stage).toBe('parse');
    expect(error.index).toBe(index);
    expect(error.path).toBe(path);
    expect(error.reason).toContain(reason);
    expect(error.message).toContain(index === undefined ? `: ${path}: ` : `instruction ${index}, ${path}: `);
  });

  it('names the strategy version in the message once it has read them', () => {
    expect(refused(withExpr(['%', 'a', 'b'])).message).toMatch(/^strategy fee\/card\/m-1001 v3: instruction 1, /);
    expect(refused({ ...base, version: 0 }).message).toMatch(/^strategy fee\/card\/m-1001: /);
    expect(refused([]).message).toMatch(/^strategy \(unnamed\): /);
  });
});

describe('parseStrategy reads', () => {
  it('operator aliases and guards into one shape', () => {
    const strategy = parseStrategy(withExpr(['×', 'amount', '0.006'], { when: ['≥', 'amount', '100'] }));
    const fee = strategy.instructions[1]!;
    expect(fee).toMatchObject({ index: 1, target: 'fee', expr: { kind: 'arithmetic', op: '*' }, when: { kind: 'compare', op: '>=' } });
    expect(strategy.inputs).toEqual(new Map([['amount', 'positive_integer'], ['rate', 'decimal']]));
  });
});
