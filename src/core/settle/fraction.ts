// Exact numbers for settlement rules: fractions of two bigints, always in lowest terms with a positive denominator.
// Addition, subtraction, multiplication, division and comparison are exact, so the only rounding a fee ever gets
// is the round(value, scale, mode) its strategy names (DOMAIN.md §8: "rounding is explicit"); a quotient is
// never cut to some hidden precision first, which would make round(a ÷ b, 2, half_up) wrong near ties.
// Written by hand because src/core imports no package (big.js lives at the edge, in src/client, and the tests
// use it as an oracle). Never touches a JS number: no floats anywhere.

import { assert } from '../assert.js';
import { decimalTextCharsMax, fractionBitsMax } from './settle-limits.js';

/** num / den, in lowest terms, den > 0. Zero is 0 / 1. */
export interface Fraction {
  readonly num: bigint;
  readonly den: bigint;
}

/**
 * How round() breaks the value's extra digits, for positive and negative values alike (symmetric about zero):
 * half_up rounds ties away from zero (−2.5 → −3), half_even rounds ties to the even neighbour, down cuts towards
 * zero (truncation), up moves away from zero. These are big.js's ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_DOWN
 * and ROUND_UP, and Java BigDecimal's modes of the same names.
 */
export type RoundingMode = 'half_up' | 'half_even' | 'down' | 'up';
export const roundingModes: readonly RoundingMode[] = ['half_up', 'half_even', 'down', 'up'];

export const zero: Fraction = { num: 0n, den: 1n };

const decimalPattern = /^-?(0|[1-9]\d*)(\.\d+)?$/;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** The fraction num / den in lowest terms; den must not be zero (callers prove that first). */
export function fraction(num: bigint, den: bigint): Fraction {
  assert(den !== 0n, 'a fraction has a non-zero denominator');
  const divisor = gcd(num, den);
  const sign = den < 0n ? -1n : 1n;
  return { num: (sign * num) / divisor, den: (sign * den) / divisor };
}

export function fractionOfInteger(value: bigint): Fraction {
  return { num: value, den: 1n };
}

/** The exact value of a decimal text ('-12.340', '7'), or undefined when it is no plain decimal. */
export function parseDecimal(text: string): Fraction | undefined {
  if (text.length > decimalTextCharsMax || !decimalPattern.test(text)) return undefined;
  const point = text.indexOf('.');
  if (point < 0) return fractionOfInteger(BigInt(text));
  return fraction(BigInt(text.slice(0, point) + text.slice(point + 1)), 10n ** BigInt(text.length - point - 1));
}

/** Whether both parts fit fractionBitsMax; evaluation refuses a value that does not, rather than slowing down. */
/** 2^fractionBitsMax: a numerator or denominator below it fits (compared, not printed: this runs at every operation). */
const fractionBound = 1n << BigInt(fractionBitsMax);

export function fitsBits(value: Fraction): boolean {
  const magnitude = value.num < 0n ? -value.num : value.num;
  return magnitude < fractionBound && value.den < fractionBound;
}

export function add(a: Fraction, b: Fraction): Fraction {
  return fraction(a.num * b.den + b.num * a.den, a.den * b.den);
}

export function subtract(a: Fraction, b: Fraction): Fraction {
  return fraction(a.num * b.den - b.num * a.den, a.den * b.den);
}

export function multiply(a: Fraction, b: Fraction): Fraction {
  return fraction(a.num * b.num, a.den * b.den);
}

/** a ÷ b, exactly. The rule checker proves b is never zero; the assertion is the second line of defence. */
export function divide(a: Fraction, b: Fraction): Fraction {
  assert(b.num !== 0n, 'a checked strategy never divides by zero');
  return fraction(a.num * b.den, a.den * b.num);
}

/** −1, 0 or 1. */
export function signOf(a: Fraction): -1 | 0 | 1 {
  return a.num < 0n ? -1 : a.num > 0n ? 1 : 0;
}

/** −1, 0 or 1 as a is less than, equal to or greater than b. */
export function compare(a: Fraction, b: Fraction): -1 | 0 | 1 {
  return signOf(subtract(a, b));
}

export function isInteger(a: Fraction): boolean {
  return a.den === 1n;
}

/**
 * n ÷ d as an integer, rounded by `mode`. The magnitude is rounded and the sign put back, which makes every
 * mode symmetric about zero as RoundingMode describes.
 */
export function divideRounded(n: bigint, d: bigint, mode: RoundingMode): bigint {
  assert(d !== 0n, 'divideRounded divides by a non-zero integer');
  const negative = n < 0n !== d < 0n && n !== 0n;
  const nAbs = n < 0n ? -n : n;
  const dAbs = d < 0n ? -d : d;
  const quotient = nAbs / dAbs;
  const remainder = nAbs % dAbs;
  let magnitude = quotient;
  if (remainder !== 0n) {
    const twice = 2n * remainder;
    if (mode === 'up') magnitude += 1n;
    else if (mode === 'half_up' && twice >= dAbs) magnitude += 1n;
    else if (mode === 'half_even' && (twice > dAbs || (twice === dAbs && quotient % 2n === 1n))) magnitude += 1n;
  }
  return negative ? -magnitude : magnitude;
}

/**
 * a rounded to `scale` decimal places (a negative scale rounds to tens, hundreds, …), exactly: the result is a
 * multiple of 10^−scale. round(a, 0, mode) is an integer.
 */
export function round(a: Fraction, scale: number, mode: RoundingMode): Fraction {
  assert(Number.isSafeInteger(scale), 'a rounding scale is an integer');
  if (scale >= 0) {
    const unit = 10n ** BigInt(scale);
    return fraction(divideRounded(a.num * unit, a.den, mode), unit);
  }
  const unit = 10n ** BigInt(-scale);
  return fractionOfInteger(divideRounded(a.num, a.den * unit, mode) * unit);
}

/** The integer a is; callers have proved it is one (a checked output, a rounded value). */
export function toInteger(a: Fraction): bigint {
  assert(a.den === 1n, 'toInteger takes an integer');
  return a.num;
}

/** Digits shown of a value with no finite decimal form, in traces: enough to see it, marked inexact by '…'. */
const traceDigits = 20;

/**
 * The value as people read it in a trace: the exact decimal when it has one ('0.006', '-12.5'), else the first
 * 20 decimals cut towards zero followed by '…' ('0.33333333333333333333…'). For explanations only, never parsed.
 */
export function formatFraction(a: Fraction): string {
  let den = a.den;
  // den has a finite decimal form exactly when it is 2^i·5^j; counting the larger power gives the places.
  let twos = 0;
  let fives = 0;
  while (den % 2n === 0n) [den, twos] = [den / 2n, twos + 1];
  while (den % 5n === 0n) [den, fives] = [den / 5n, fives + 1];
  const exact = den === 1n;
  const places = exact ? Math.max(twos, fives) : traceDigits;
  const scaled = divideRounded(a.num * 10n ** BigInt(places), a.den, 'down');
  const negative = scaled < 0n || (scaled === 0n && a.num < 0n);
  const digits = (scaled < 0n ? -scaled : scaled).toString().padStart(places + 1, '0');
  const text = places === 0 ? digits : `${digits.slice(0, digits.length - places)}.${digits.slice(digits.length - places)}`;
  return `${negative ? '-' : ''}${text}${exact ? '' : '…'}`;
}
