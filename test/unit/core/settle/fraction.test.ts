// Exact fractions and the four rounding modes, as a spec: ties and negatives for every mode, negative scales,
// the trace format, and agreement with big.js (the library the edge of the system uses) on decimals it holds exactly.

import Big from 'big.js';
import { describe, expect, it } from 'vitest';
import { add, divide, formatFraction, fraction, multiply, parseDecimal, round, subtract, type Fraction, type RoundingMode } from '../../../../src/core/settle/fraction.js';

const of = (text: string): Fraction => parseDecimal(text)!;
const shown = (value: Fraction): string => formatFraction(value);

describe('round', () => {
  // value, scale, half_up, half_even, down, up
  const table: [string, number, string, string, string, string][] = [
    ['2.5', 0, '3', '2', '2', '3'],
    ['3.5', 0, '4', '4', '3', '4'],
    ['-2.5', 0, '-3', '-2', '-2', '-3'],
    ['-3.5', 0, '-4', '-4', '-3', '-4'],
    ['2.4', 0, '2', '2', '2', '3'],
    ['-2.6', 0, '-3', '-3', '-2', '-3'],
    ['0.125', 2, '0.13', '0.12', '0.12', '0.13'],
    ['0.135', 2, '0.14', '0.14', '0.13', '0.14'],
    ['-0.125', 2, '-0.13', '-0.12', '-0.12', '-0.13'],
    ['7', 0, '7', '7', '7', '7'],
    ['-0.4', 0, '0', '0', '0', '-1'],
    ['1250', -2, '1300', '1200', '1200', '1300'],
    ['-1350', -2, '-1400', '-1400', '-1300', '-1400'],
    ['1.5', 3, '1.5', '1.5', '1.5', '1.5'],
  ];
  const modes: RoundingMode[] = ['half_up', 'half_even', 'down', 'up'];
  it.each(table)('%s at scale %i: half_up %s, half_even %s, down %s, up %s', (value, scale, ...expected) => {
    modes.forEach((mode, i) => expect(shown(round(of(value), scale, mode)), mode).toBe(expected[i]));
  });

  it('rounds an exact quotient, never a pre-rounded one: 1/8 − 10^-30 is below the tie', () => {
    const justBelow = subtract(fraction(1n, 8n), fraction(1n, 10n ** 30n));
    expect(shown(round(justBelow, 2, 'half_up'))).toBe('0.12');
    expect(shown(round(fraction(1n, 8n), 2, 'half_up'))).toBe('0.13');
  });

  it('agrees with big.js on the same decimals and modes', () => {
    const bigModes: Record<RoundingMode, 0 | 1 | 2 | 3> = { down: 0, half_up: 1, half_even: 2, up: 3 };
    for (const [value, scale] of table) {
      for (const mode of modes) {
        const ours = new Big(shown(round(of(value), scale, mode)));
        expect(ours.eq(new Big(value).round(scale, bigModes[mode])), `${value} ${scale} ${mode}`).toBe(true);
      }
    }
  });
});

describe('arithmetic and text', () => {
  it('adds, subtracts, multiplies and divides exactly', () => {
    expect(shown(add(of('0.1'), of('0.2')))).toBe('0.3');
    expect(shown(subtract(of('1'), of('1.005')))).toBe('-0.005');
    expect(shown(multiply(of('100050'), of('0.006')))).toBe('600.3');
    expect(shown(divide(of('1'), of('4')))).toBe('0.25');
    expect(shown(multiply(divide(of('1'), of('3')), of('3')))).toBe('1');
  });

  it('shows a value without a finite decimal as 20 decimals and …', () => {
    expect(shown(fraction(1n, 3n))).toBe('0.33333333333333333333…');
    expect(shown(fraction(-2n, 3n))).toBe('-0.66666666666666666666…');
    expect(shown(fraction(-1n, 10n ** 25n * 3n))).toBe('-0.00000000000000000000…');
  });

  it('parses plain decimals only', () => {
    for (const bad of ['', '.5', '5.', '+1', '1e3', '01', '1.2.3', ' 1', '0x10', '1'.repeat(41)]) expect(parseDecimal(bad), bad).toBeUndefined();
    expect(parseDecimal('-0.50')).toEqual({ num: -1n, den: 2n });
  });
});
