// Decimal strings ⇄ integer minor units (bigint) at the edge of the system, with big.js.
// Money is never rounded silently: parsing refuses more decimals than the scale, and formatting is exact.

import Big from 'big.js';
import { amountScaleMax } from '../core/limits.js';

// A private Big constructor: strict (strings only, no silent precision loss) with an explicit rounding
// mode, so settings made on the shared Big by other code cannot change ours.
const Decimal = Big();
Decimal.strict = true;
Decimal.RM = Decimal.roundDown;
Decimal.DP = amountScaleMax;

/** Plain decimal notation only: an optional minus sign, digits, optionally a point and more digits. */
const decimalPattern = /^-?\d+(\.\d+)?$/;

function checkScale(scale: number, what: string): void {
  if (!Number.isInteger(scale) || scale < 0 || scale > amountScaleMax) {
    throw new RangeError(`${what}: scale must be an integer in 0..${amountScaleMax}, got ${String(scale)}`);
  }
}

/** "12.34" at scale 2 → 1234n. Throws if the string is not a plain decimal or has more than `scale` decimals. */
export function parseAmount(decimal: string, scale: number): bigint {
  checkScale(scale, 'parseAmount');
  if (typeof decimal !== 'string' || !decimalPattern.test(decimal)) {
    throw new TypeError(`parseAmount: ${JSON.stringify(decimal)} is not a plain decimal like "12.34"`);
  }
  const decimals = decimal.includes('.') ? decimal.length - decimal.indexOf('.') - 1 : 0;
  if (decimals > scale) {
    throw new RangeError(`parseAmount: ${decimal} has ${decimals} decimals but the scale is ${scale}; refusing to round money`);
  }
  const minor = new Decimal(decimal).times(new Decimal('10').pow(scale));
  return BigInt(minor.toFixed(0, Decimal.roundDown));
}

/** 1234n at scale 2 → "12.34"; always exactly `scale` decimals. */
export function formatAmount(minor: bigint, scale: number): string {
  checkScale(scale, 'formatAmount');
  if (typeof minor !== 'bigint') throw new TypeError(`formatAmount: minor must be a bigint, got ${typeof minor}`);
  // Shifting the exponent is exact: no division, so nothing to round.
  return new Decimal(`${minor}e-${scale}`).toFixed(scale, Decimal.roundDown);
}
