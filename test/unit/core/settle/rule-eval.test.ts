// Running a strategy: exact results as bigint minor units, the explanation (strategy version, each instruction's
// index, expression, guard and value), and the refusals of bad inputs.

import { describe, expect, it } from 'vitest';
import { loadStrategy } from '../../../../src/core/settle/rule-check.js';
import { evaluateStrategy, explainEvaluation } from '../../../../src/core/settle/rule-eval.js';
import { StrategyError } from '../../../../src/core/settle/rules.js';
import { refusal } from './refusal.js';

// 0.6% with a floor of 1.00 and a cap of 25.00 (minor units), waived under 10.00; the merchant gets the rest.
const cardFee = loadStrategy({
  id: 'fee/card/m-1001',
  version: 3,
  inputs: { amount: 'positive_integer', rate: 'decimal' },
  outputs: ['fee', 'settle_amount'],
  instructions: [
    { let: 'raw', expr: ['*', 'amount', 'rate'] },
    { let: 'fee', expr: ['round', ['min', ['max', 'raw', '100'], '2500'], 0, 'half_up'] },
    { let: 'fee', expr: '0', when: ['<', 'amount', '1000'] },
    { let: 'settle_amount', expr: ['-', 'amount', 'fee'] },
  ],
});

const refused = (run: () => unknown): StrategyError => refusal(StrategyError, run);

describe('evaluateStrategy', () => {
  it.each([
    [100_050n, 600n, 99_450n], // 600.3 rounds half up to 600
    [100_084n, 601n, 99_483n], // 600.504 → 601
    [5_000n, 100n, 4_900n], // 30 → the floor
    [1_000_000n, 2_500n, 997_500n], // 6000 → the cap
    [999n, 0n, 999n], // waived
  ])('charges %s: fee %s, settles %s', (amount, fee, settle) => {
    const { outputs } = evaluateStrategy(cardFee, { amount, rate: '0.006' });
    expect(outputs).toEqual(new Map([['fee', fee], ['settle_amount', settle]]));
  });

  it('explains every step: version, index, expression, guard and exact value', () => {
    const evaluation = evaluateStrategy(cardFee, { amount: 100_050n, rate: '0.006', product: 'ignored' });
    expect(evaluation).toMatchObject({ id: 'fee/card/m-1001', version: 3 });
    expect(evaluation.trace).toEqual([
      { index: 0, target: 'raw', expr: '(amount × rate)', when: undefined, applied: true, value: '600.3' },
      { index: 1, target: 'fee', expr: 'round(min(max(raw, 100), 2500), 0, half_up)', when: undefined, applied: true, value: '600' },
      { index: 2, target: 'fee', expr: '0', when: 'amount < 1000', applied: false, value: undefined },
      { index: 3, target: 'settle_amount', expr: '(amount − fee)', when: undefined, applied: true, value: '99450' },
    ]);
    expect(explainEvaluation(evaluation)).toEqual([
      'strategy fee/card/m-1001 v3',
      '  [0] raw = (amount × rate) = 600.3',
      '  [1] fee = round(min(max(raw, 100), 2500), 0, half_up) = 600',
      '  [2] fee = 0 when amount < 1000: skipped, the condition is false',
      '  [3] settle_amount = (amount − fee) = 99450',
      '  outputs: fee = 600, settle_amount = 99450',
    ]);
  });

  it('divides exactly and rounds once, where the strategy says', () => {
    const thirds = loadStrategy({
      id: 'split/thirds',
      version: 1,
      inputs: { amount: 'integer' },
      outputs: ['even', 'up', 'down'],
      instructions: [
        { let: 'third', expr: ['/', 'amount', '3'] },
        { let: 'even', expr: ['round', 'third', 0, 'half_even'] },
        { let: 'up', expr: ['round', 'third', 0, 'up'] },
        { let: 'down', expr: ['round', ['*', 'third', '3'], 0, 'down'] },
      ],
    });
    const evaluation = evaluateStrategy(thirds, { amount: -100n });
    expect(evaluation.outputs).toEqual(new Map([['even', -33n], ['up', -34n], ['down', -100n]]));
    expect(evaluation.trace[0]!.value).toBe('-33.33333333333333333333…');
  });

  it('takes the branch of if and the guards of and, or, not as written', () => {
    const tiers = loadStrategy({
      id: 'fee/tiers',
      version: 1,
      inputs: { amount: 'integer' },
      outputs: ['fee'],
      instructions: [
        { let: 'fee', expr: ['if', ['and', ['>=', 'amount', '0'], ['<', 'amount', '100']], '1', '2'] },
        { let: 'fee', expr: '3', when: ['or', ['=', 'amount', '7'], ['not', ['!=', 'amount', '8']]] },
      ],
    });
    const feeOf = (amount: bigint): bigint | undefined => evaluateStrategy(tiers, { amount }).outputs.get('fee');
    expect([feeOf(-1n), feeOf(0n), feeOf(99n), feeOf(100n), feeOf(7n), feeOf(8n)]).toEqual([2n, 1n, 1n, 2n, 3n, 3n]);
  });

  it.each([
    ['missing', {}, 'inputs.amount', 'missing'],
    ['a JS number', { amount: 100, rate: '0.006' }, 'inputs.amount', 'number given: pass a bigint or decimal text, never a JS number'],
    ['not a decimal', { amount: 100n, rate: '0,006' }, 'inputs.rate', '"0,006" is no decimal'],
    ['a fraction for an integer', { amount: '100.5', rate: '0.006' }, 'inputs.amount', '100.5 is not a whole number, and the input is positive_integer'],
    ['zero for a positive input', { amount: 0n, rate: '0.006' }, 'inputs.amount', '0 is not positive, and the input is positive_integer'],
  ])('refuses an input that is %s', (_what, inputs, path, reason) => {
    const error = refused(() => evaluateStrategy(cardFee, inputs as never));
    expect(error).toMatchObject({ stage: 'evaluate', index: undefined, path });
    expect(error.reason).toContain(reason);
  });

  it('refuses a value that outgrows the bound, naming the instruction', () => {
    const squares = loadStrategy({
      id: 'grow',
      version: 1,
      inputs: { x: 'integer' },
      outputs: ['x2'],
      instructions: [{ let: 'x2', expr: 'x' }, ...Array.from({ length: 8 }, () => ({ let: 'x2', expr: ['*', 'x2', 'x2'] }))],
    });
    expect(evaluateStrategy(squares, { x: 3n }).outputs.get('x2')).toBe(3n ** 256n);
    const error = refused(() => evaluateStrategy(squares, { x: 123_456_789n }));
    expect(error).toMatchObject({ stage: 'evaluate', index: 6, path: '$.instructions[6].expr' });
    expect(error.reason).toBe('(x2 × x2) grew past 1024 bits');
  });
});
