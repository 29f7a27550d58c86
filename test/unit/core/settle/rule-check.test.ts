// Loading a strategy, the proofs: every refusal rule-check.ts makes (unknown or possibly unassigned variables,
// assigning an input, division by a possible zero, outputs not proved whole minor units), and the guards that
// prove a divisor non-zero. Each refusal names its instruction and JSON path.

import { describe, expect, it } from 'vitest';
import { loadStrategy } from '../../../../src/core/settle/rule-check.js';
import { StrategyError } from '../../../../src/core/settle/rules.js';
import { refusal } from './refusal.js';

interface Line {
  let: string;
  expr: unknown;
  when?: unknown;
}

const strategy = (instructions: Line[], outputs = ['fee']): object => ({
  id: 'fee/test',
  version: 1,
  inputs: { amount: 'positive_integer', count: 'integer', rate: 'decimal', fx: 'positive_decimal' },
  outputs,
  instructions,
});

const refused = (document: object): StrategyError => refusal(StrategyError, () => loadStrategy(document));

const fee = (expr: unknown, when?: unknown): Line => (when === undefined ? { let: 'fee', expr } : { let: 'fee', expr, when });
const whole = (expr: unknown): unknown => ['round', expr, 0, 'half_up'];

describe('checkStrategy refuses', () => {
  // what, instructions, outputs, instruction index, path, words the reason contains
  const table: [string, Line[], string[], number | undefined, string, string][] = [
    ['a variable never assigned', [fee(['+', 'amount', 'bonus'])], ['fee'], 0, '$.instructions[0].expr[2]', 'unknown variable "bonus": not an input and never assigned'],
    ['a variable used before it is assigned', [fee(['+', 'amount', 'extra']), { let: 'extra', expr: '1' }], ['fee'], 0, '$.instructions[0].expr[2]', 'unknown variable "extra": not an input, and first assigned by instruction 1'],
    ['a variable assigned only under when', [{ let: 'extra', expr: '5', when: ['>', 'amount', '100'] }, fee(['+', 'amount', 'extra'])], ['fee'], 1, '$.instructions[1].expr[2]', 'variable "extra" may be unassigned here: instruction 0 assigns it only under "when"'],
    ['an unknown variable in a guard', [fee('1', ['>', 'amont', '0'])], ['fee'], 0, '$.instructions[0].when[1]', 'unknown variable "amont"'],
    ['an unknown variable in an untaken branch', [fee(['if', ['>', 'amount', '0'], '1', 'other'])], ['fee'], 0, '$.instructions[0].expr[3]', 'unknown variable "other"'],
    ['assigning an input', [{ let: 'amount', expr: '1' }, fee('1')], ['fee'], 0, '$.instructions[0].let', 'assigns the input "amount": inputs are read-only'],
    ['division by a decimal input', [fee(whole(['/', 'amount', 'rate']))], ['fee'], 0, '$.instructions[0].expr[1][2]', 'division by a possible zero: the divisor rate may be 0'],
    ['division by an integer input', [fee(whole(['/', 'amount', 'count']))], ['fee'], 0, '$.instructions[0].expr[1][2]', 'the divisor count may be 0'],
    ['division by the literal 0', [fee(whole(['/', 'amount', '0.00']))], ['fee'], 0, '$.instructions[0].expr[1][2]', 'the divisor 0.00 may be 0'],
    ['division by a difference of positives', [fee(whole(['/', 'amount', ['-', 'amount', 'fx']]))], ['fee'], 0, '$.instructions[0].expr[1][2]', 'the divisor (amount − fx) may be 0'],
    ['division by a product with a possible zero', [fee(whole(['/', 'amount', ['*', 'fx', 'count']]))], ['fee'], 0, '$.instructions[0].expr[1][2]', 'the divisor (fx × count) may be 0'],
    ['division by a value rounded towards zero', [{ let: 'unit', expr: ['round', ['*', 'amount', '0.001'], 0, 'half_up'] }, fee(['/', 'amount', 'unit'])], ['fee'], 1, '$.instructions[1].expr[2]', 'the divisor unit may be 0'],
    ['division by min(x, positive)', [fee(whole(['/', 'amount', ['min', 'rate', '1']]))], ['fee'], 0, '$.instructions[0].expr[1][2]', 'the divisor min(rate, 1) may be 0'],
    ['division by a variable that a guard may have zeroed', [{ let: 'd', expr: '2' }, { let: 'd', expr: '0', when: ['>', 'amount', '5'] }, fee(whole(['/', 'amount', 'd']))], ['fee'], 2, '$.instructions[2].expr[1][2]', 'the divisor d may be 0'],
    ['division guarded by an or', [fee(['if', ['or', ['>', 'rate', '0'], ['>', 'amount', '5']], whole(['/', 'amount', 'rate']), '0'])], ['fee'], 0, '$.instructions[0].expr[2][1][2]', 'the divisor rate may be 0'],
    ['division guarded on a compound expression', [fee(['if', ['>', ['+', 'rate', '0'], '0'], whole(['/', 'amount', ['+', 'rate', '0']]), '0'])], ['fee'], 0, '$.instructions[0].expr[2][1][2]', 'may be 0'],
    ['division in a guard', [fee('1', ['>', ['/', 'amount', 'rate'], '1'])], ['fee'], 0, '$.instructions[0].when[1][2]', 'the divisor rate may be 0'],
    ['an output never assigned', [fee('1')], ['fee', 'reserve'], undefined, '$.outputs[1]', 'output "reserve" is never assigned'],
    ['an output assigned only under when', [fee('1', ['>', 'amount', '100'])], ['fee'], undefined, '$.outputs[0]', 'output "fee" may be left unassigned: every assignment to it (instruction 0) has a "when" guard'],
    ['an output not rounded', [fee(['*', 'amount', 'rate'])], ['fee'], 0, '$.instructions[0].expr', 'output "fee" must be whole minor units, but (amount × rate) may have a fraction: round it'],
    ['an output rounded to scale 2', [fee(['round', ['*', 'amount', 'rate'], 2, 'half_up'])], ['fee'], 0, '$.instructions[0].expr', 'round((amount × rate), 2, half_up) may have a fraction'],
    ['an output whose guarded override is not rounded', [fee(whole('rate')), fee(['/', 'amount', '3'], ['>', 'amount', '1'])], ['fee'], 1, '$.instructions[1].expr', '(amount ÷ 3) may have a fraction'],
    ['an output of a decimal input', [fee('rate')], ['fee'], 0, '$.instructions[0].expr', 'but rate may have a fraction'],
    ['an output with a fractional literal', [fee(['max', 'amount', '0.5'])], ['fee'], 0, '$.instructions[0].expr', 'max(amount, 0.5) may have a fraction'],
    ['an output with one fractional branch', [fee(['if', ['>', 'amount', '5'], 'amount', 'rate'])], ['fee'], 0, '$.instructions[0].expr', 'may have a fraction'],
  ];

  it.each(table)('%s', (_what, instructions, outputs, index, path, reason) => {
    const error = refused(strategy(instructions, outputs));
    expect(error.stage).toBe('check');
    expect(error.index).toBe(index);
    expect(error.path).toBe(path);
    expect(error.reason).toContain(reason);
    expect(error.message).toMatch(/^strategy fee\/test v1: /);
  });
});

describe('checkStrategy accepts', () => {
  // what, instructions: each is a proof the checker must see
  const table: [string, Line[]][] = [
    ['division by a non-zero literal', [fee(whole(['/', 'amount', '-0.5']))]],
    ['division by a positive input', [fee(whole(['/', 'amount', 'fx']))]],
    ['division by max(x, positive literal)', [fee(whole(['/', 'amount', ['max', 'rate', '0.01']]))]],
    ['division by a sum of positives', [fee(whole(['/', 'amount', ['+', 'fx', 'amount']]))]],
    ['division by a product of non-zeros', [fee(whole(['/', 'amount', ['*', 'fx', '-3']])) ]],
    ['division by a value rounded up', [{ let: 'unit', expr: ['round', ['*', 'amount', '0.001'], 0, 'up'] }, fee(['/', 'amount', 'unit']), fee(whole('fee'))]],
    ['division under when x > 0', [fee('0'), fee(whole(['/', 'amount', 'rate']), ['>', 'rate', '0'])]],
    ['division under when 0 < x', [fee('0'), fee(whole(['/', 'amount', 'rate']), ['<', '0', 'rate'])]],
    ['division under when x ≠ 0', [fee('0'), fee(whole(['/', 'amount', 'count']), ['≠', 'count', '0'])]],
    ['division under when x ≥ 0.01', [fee('0'), fee(whole(['/', 'amount', 'rate']), ['>=', 'rate', '0.01'])]],
    ['division under when x < 0', [fee('0'), fee(whole(['/', 'amount', 'rate']), ['<', 'rate', '0'])]],
    ['division under when x ≤ -1', [fee('0'), fee(whole(['/', 'amount', 'rate']), ['<=', 'rate', '-1'])]],
    ['division under when x = 5', [fee('0'), fee(whole(['/', 'amount', 'rate']), ['=', 'rate', '5'])]],
    ['division under not (x = 0)', [fee('0'), fee(whole(['/', 'amount', 'rate']), ['not', ['=', 'rate', '0']])]],
    ['division under an and', [fee('0'), fee(whole(['/', 'amount', 'rate']), ['and', ['>', 'amount', '5'], ['>', 'rate', '0']])]],
    ['division in the then-branch of if', [fee(['if', ['>', 'rate', '0'], whole(['/', 'amount', 'rate']), '0'])]],
    ['division in the else-branch of if', [fee(['if', ['<=', 'rate', '0'], '0', whole(['/', 'amount', 'rate'])])]],
    ['division in the else-branch of an or', [fee(['if', ['or', ['=', 'rate', '0'], ['<', 'amount', '5']], '0', whole(['/', 'amount', 'rate'])])]],
    ['a whole output from whole parts', [fee(whole(['*', 'amount', 'rate'])), { let: 'net', expr: ['-', 'amount', ['*', 'fee', '2']] }]],
    ['a whole output rounded to hundreds', [fee(['round', ['*', 'amount', 'rate'], -2, 'down'])]],
    ['a whole output through min, max and if', [fee(['if', ['>', 'amount', '5'], ['min', 'amount', '100'], ['max', 'count', '-1']])]],
    ['a whole output with a guarded whole override', [fee(whole('rate')), fee('0', ['<', 'amount', '100'])]],
    ['a variable reassigned from itself', [fee('1'), fee(['+', 'fee', 'amount'])]],
  ];

  it.each(table)('%s', (_what, instructions) => {
    const outputs = instructions.some((line) => line.let === 'net') ? ['fee', 'net'] : ['fee'];
    expect(loadStrategy(strategy(instructions, outputs)).checked).toBe(true);
  });
});
