// Issue #18, the rule language. Invariants, for random values and random strategies:
//  1. Exact arithmetic: +, −, × and round(value, scale, mode) agree with big.js on random decimals, and
//     round(a ÷ b, scale, mode) agrees with big.js dividing at 80 decimals (exact enough for 20-digit operands,
//     whose quotients repeat with periods too short to hide a tie past the 80th digit).
//  2. The checker is sound: a random strategy it accepts never divides by zero and always gives whole minor units
//     for its outputs, on any inputs of the declared kinds (an assertion in rule-eval.ts would fire otherwise).
//     Enough random strategies are accepted for this to mean something.
// fast-check prints the seed and the shrunk counterexample on failure; TALLY_PROPERTY_SEED and
// TALLY_PROPERTY_RUNS replay or widen a run.

import Big from 'big.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { add, divide, formatFraction, multiply, parseDecimal, round, subtract, type RoundingMode } from '../../src/core/settle/fraction.js';
import { loadStrategy } from '../../src/core/settle/rule-check.js';
import { evaluateStrategy } from '../../src/core/settle/rule-eval.js';
import { StrategyError, type CheckedStrategy } from '../../src/core/settle/rules.js';

const runs = Number(process.env.TALLY_PROPERTY_RUNS ?? 300);
const seed = process.env.TALLY_PROPERTY_SEED === undefined ? undefined : Number(process.env.TALLY_PROPERTY_SEED);
const options = { numRuns: runs, seed };

const bigModes: Record<RoundingMode, 0 | 1 | 2 | 3> = { down: 0, half_up: 1, half_even: 2, up: 3 };
const mode = fc.constantFrom<RoundingMode>('half_up', 'half_even', 'down', 'up');
const decimal = fc
  .tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 8 }))
  .map(([digits, scale]) => new Big(digits.toString()).div(new Big(10).pow(scale)).toFixed(scale));

const of = (text: string) => parseDecimal(text)!;
const same = (ours: string, theirs: Big): boolean => new Big(ours.replace('…', '')).eq(theirs);

describe('exact arithmetic against big.js', () => {
  it('+, −, × and round agree', () => {
    fc.assert(
      fc.property(decimal, decimal, fc.integer({ min: -4, max: 10 }), mode, (a, b, scale, m) => {
        expect(same(formatFraction(add(of(a), of(b))), new Big(a).plus(b))).toBe(true);
        expect(same(formatFraction(subtract(of(a), of(b))), new Big(a).minus(b))).toBe(true);
        expect(same(formatFraction(multiply(of(a), of(b))), new Big(a).times(b))).toBe(true);
        expect(same(formatFraction(round(of(a), scale, m)), new Big(a).round(scale, bigModes[m]))).toBe(true);
      }),
      options,
    );
  });

  it('round(a ÷ b) agrees with big.js dividing at 80 decimals', () => {
    fc.assert(
      fc.property(decimal, decimal.filter((b) => !new Big(b).eq(0)), fc.integer({ min: 0, max: 10 }), mode, (a, b, scale, m) => {
        const Precise = Big();
        Precise.DP = 80;
        Precise.RM = Big.roundDown;
        const theirs = new Precise(a).div(b).round(scale, bigModes[m]);
        expect(same(formatFraction(round(divide(of(a), of(b)), scale, m)), theirs)).toBe(true);
      }),
      options,
    );
  });
});

// Random strategies over inputs of every kind: v0, v1, … each assigned from inputs and earlier variables, some
// reassigned under a random "when", then `out` rounded to a random scale (so scales above 0 are refused as
// fractional). Divisions are frequent and their divisors random, so the checker both accepts and refuses plenty.
const inputs = { a: 'integer', b: 'decimal', p: 'positive_integer', q: 'positive_decimal' } as const;
const literal = fc.constantFrom('0', '1', '-1', '2', '0.5', '-0.25', '100');
const compareOp = fc.constantFrom('=', '!=', '<', '<=', '>', '>=');

function conditionOver(names: readonly string[], depth: number): fc.Arbitrary<unknown> {
  const variable = fc.constantFrom(...names);
  const leaf = fc.oneof(fc.tuple(compareOp, variable, literal), fc.tuple(compareOp, literal, variable));
  if (depth === 0) return leaf;
  const inner = conditionOver(names, depth - 1);
  return fc.oneof(leaf, leaf, fc.tuple(fc.constantFrom('and', 'or'), inner, inner), fc.tuple(fc.constant('not'), inner));
}

function valueOver(names: readonly string[], depth: number): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(literal, fc.constantFrom(...names));
  if (depth === 0) return leaf;
  const inner = valueOver(names, depth - 1);
  return fc.oneof(
    leaf,
    fc.tuple(fc.constantFrom('+', '-', '*', '/', '/'), inner, inner),
    fc.tuple(fc.constantFrom('min', 'max'), inner, inner),
    fc.tuple(fc.constant('round'), inner, fc.integer({ min: -2, max: 2 }), mode),
    fc.tuple(fc.constant('if'), conditionOver(names, 1), inner, inner),
  );
}

const document = fc.integer({ min: 1, max: 4 }).chain((count) => {
  const steps: fc.Arbitrary<object>[] = [];
  const names = Object.keys(inputs);
  for (let i = 0; i < count; i++) {
    const known = [...names];
    steps.push(
      fc.record({ expr: valueOver(known, 2), guard: fc.option(conditionOver(known, 1)), again: fc.nat() }).map(({ expr, guard, again }) => {
        const assigned = known.filter((name) => name.startsWith('v'));
        // A guarded instruction reassigns an earlier variable, so the variables read later stay surely assigned.
        return guard === null || assigned.length === 0 ? { let: `v${i}`, expr } : { let: assigned[again % assigned.length]!, expr, when: guard };
      }),
    );
    names.push(`v${i}`);
  }
  const out = fc.tuple(valueOver(names, 2), fc.integer({ min: -1, max: 1 }), mode).map(([expr, scale, m]) => ({ let: 'out', expr: ['round', expr, scale, m] }));
  return fc.tuple(...steps, out).map((instructions) => ({ id: 'fuzz', version: 1, inputs, outputs: ['out'], instructions }));
});
const inputValues = fc.record({
  a: fc.bigInt({ min: -1000n, max: 1000n }),
  b: decimal,
  p: fc.bigInt({ min: 1n, max: 1000n }),
  q: decimal.map((text) => new Big(text).abs().plus('0.001').toString()),
});

describe('the checker is sound', () => {
  it('accepted strategies never divide by zero and give whole outputs', () => {
    let accepted = 0;
    let evaluated = 0;
    fc.assert(
      fc.property(document, fc.array(inputValues, { minLength: 1, maxLength: 5 }), (doc, inputSets) => {
        let strategy: CheckedStrategy;
        try {
          strategy = loadStrategy(doc);
        } catch (error) {
          if (error instanceof StrategyError) return;
          throw error;
        }
        accepted++;
        for (const inputSet of inputSets) {
          try {
            const out = evaluateStrategy(strategy, inputSet).outputs.get('out');
            expect(typeof out).toBe('bigint');
            evaluated++;
          } catch (error) {
            // Only the size bound may refuse a checked strategy's run; a failed assertion is a checker bug.
            if (!(error instanceof StrategyError && error.reason.includes('grew past'))) throw error;
          }
        }
      }),
      { ...options, numRuns: runs * 10 },
    );
    expect(accepted).toBeGreaterThan(runs / 2);
    expect(evaluated).toBeGreaterThan(runs / 2);
  });
});
