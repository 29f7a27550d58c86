// Splitting money into parts that always add up to the whole (issue #18): percentage splits, fees with caps and
// floors, waterfalls and profit sharing (分账). Integer minor units in bigint, shares as exact fractions: nothing
// is lost or made up, and every function asserts its parts sum to its total. Impossible specs are refused with an
// SettleError (settle-errors.ts, a stable `code`); a valid spec always allocates.
//
// The remainder rule of allocate(), deterministic and order-dependent on purpose:
//  1. fixed parts are taken first, exactly as given (a fixed amount is never rounded);
//  2. each share gets floor(remaining × share) of what is left after the fixed parts;
//  3. the shares together are owed floor(remaining × sum of shares); the minor units that flooring each share
//     lost against that (fewer than the number of shares) go one each to the earliest shares, in the order
//     given, whose exact amount was not whole — so every share gets its exact amount rounded down or up, never
//     further off, and a share whose amount was exact (a 0% share included) never gets an extra unit;
//  4. the `rest` part, if any, gets what is left; with shares under 100% a rest part is required.
// So reordering receivers can move single minor units among the shares that were rounded, and nothing else.

import { assert } from '../assert.js';
import { add, compare, divideRounded, fraction, fractionOfInteger, multiply, parseDecimal, round, toInteger, type Fraction, type RoundingMode } from './fraction.js';
import { SettleError } from './settle-errors.js';
import { allocationPartsMax, nameCharsMax, shareScaleMax, waterfallTranchesMax } from './settle-limits.js';

/** A share of a whole: basis points (an integer, 10000 is all), or a decimal ratio ('0.25' is a quarter). */
export type Share = { readonly bps: number } | { readonly ratio: string };

export type AllocationPart =
  | { readonly name: string; readonly fixedMinor: bigint }
  | { readonly name: string; readonly share: Share }
  | { readonly name: string; readonly rest: true };

export interface Allocated {
  readonly name: string;
  readonly amountMinor: bigint;
}

const whole: Fraction = fractionOfInteger(1n);
const bpsPerWhole = 10_000;

function checkAmount(what: string, amountMinor: bigint): void {
  if (amountMinor < 0n) throw new SettleError('amount_negative', `${what} is ${amountMinor}: amounts are never negative (allocate a refund's size, then negate)`);
}

/** The exact fraction a share stands for; refuses what is not a share of 0 to 1. */
export function shareFraction(share: Share, what: string): Fraction {
  let value: Fraction | undefined;
  if ('bps' in share) {
    if (!Number.isSafeInteger(share.bps) || share.bps < 0 || share.bps > bpsPerWhole) {
      throw new SettleError('share_invalid', `${what}: ${share.bps} basis points must be a whole number from 0 to ${bpsPerWhole}`);
    }
    value = fraction(BigInt(share.bps), BigInt(bpsPerWhole));
  } else {
    const point = share.ratio.indexOf('.');
    value = point >= 0 && share.ratio.length - point - 1 > shareScaleMax ? undefined : parseDecimal(share.ratio);
    if (value === undefined || value.num < 0n || compare(value, whole) > 0) {
      throw new SettleError('share_invalid', `${what}: ratio ${JSON.stringify(share.ratio)} must be a decimal from 0 to 1 with at most ${shareScaleMax} decimals`);
    }
  }
  return value;
}

/** Splits `totalMinor` among `parts` by the remainder rule above; the result is in the order of `parts`. */
export function allocate(totalMinor: bigint, parts: readonly AllocationPart[]): Allocated[] {
  checkAmount('the total', totalMinor);
  checkParts(parts);
  const fixedMinor = parts.reduce((sum, part) => sum + ('fixedMinor' in part ? part.fixedMinor : 0n), 0n);
  if (fixedMinor > totalMinor) {
    throw new SettleError('fixed_over_total', `fixed parts of ${fixedMinor} exceed the total of ${totalMinor}`);
  }
  const remainingMinor = totalMinor - fixedMinor;
  const shares = parts.map((part) => ('share' in part ? shareFraction(part.share, `share "${part.name}"`) : undefined));
  const sharesSum = shares.reduce<Fraction>((sum, share) => (share === undefined ? sum : add(sum, share)), fractionOfInteger(0n));
  const hasRest = parts.some((part) => 'rest' in part);
  if (compare(sharesSum, whole) > 0) throw new SettleError('shares_over_whole', `shares add up to more than 100%`);
  if (compare(sharesSum, whole) < 0 && !hasRest) {
    throw new SettleError('shares_under_whole', `shares add up to less than 100% and no part takes the rest`);
  }
  const shareAmounts = splitShares(remainingMinor, shares, sharesSum);
  const sharesMinor = shareAmounts.reduce<bigint>((sum, amount) => sum + (amount ?? 0n), 0n);
  const result = parts.map((part, i): Allocated => {
    const amountMinor = 'fixedMinor' in part ? part.fixedMinor : 'share' in part ? shareAmounts[i]! : remainingMinor - sharesMinor;
    return { name: part.name, amountMinor };
  });
  assert(result.reduce((sum, part) => sum + part.amountMinor, 0n) === totalMinor, 'an allocation adds up to its total');
  return result;
}

function checkParts(parts: readonly AllocationPart[]): void {
  if (parts.length === 0 || parts.length > allocationPartsMax) {
    throw new SettleError('parts_invalid', `an allocation has 1 to ${allocationPartsMax} parts, not ${parts.length}`);
  }
  const names = new Set<string>();
  let rests = 0;
  for (const part of parts) {
    if (typeof part.name !== 'string' || part.name === '' || part.name.length > nameCharsMax) {
      throw new SettleError('parts_invalid', `part name ${JSON.stringify(part.name)} must be 1 to ${nameCharsMax} characters`);
    }
    if (names.has(part.name)) throw new SettleError('parts_invalid', `part "${part.name}" is given twice`);
    names.add(part.name);
    if ('fixedMinor' in part) checkAmount(`fixed part "${part.name}"`, part.fixedMinor);
    if ('rest' in part) rests++;
  }
  if (rests > 1) throw new SettleError('parts_invalid', `${rests} parts take the rest; at most one may`);
}

/** Step 2 and 3 of the remainder rule: each share's amount (undefined where the part is no share). */
function splitShares(remainingMinor: bigint, shares: readonly (Fraction | undefined)[], sharesSum: Fraction): (bigint | undefined)[] {
  const owedMinor = divideRounded(remainingMinor * sharesSum.num, sharesSum.den, 'down');
  const amounts = shares.map((share) => (share === undefined ? undefined : divideRounded(remainingMinor * share.num, share.den, 'down')));
  let leftoverMinor = owedMinor - amounts.reduce<bigint>((sum, amount) => sum + (amount ?? 0n), 0n);
  assert(leftoverMinor >= 0n && leftoverMinor <= BigInt(shares.length), 'flooring loses less than one unit a share');
  for (let i = 0; i < shares.length && leftoverMinor > 0n; i++) {
    const share = shares[i];
    if (share === undefined || (remainingMinor * share.num) % share.den === 0n) continue;
    amounts[i]! += 1n;
    leftoverMinor -= 1n;
  }
  assert(leftoverMinor === 0n, 'enough shares were rounded down to take every leftover unit');
  return amounts;
}

/** A fee: a fixed part plus a rounded percentage of the amount, then held between a floor and a cap. */
export interface FeeSpec {
  readonly rate: Share;
  /** Rounding of the percentage part to whole minor units; the fixed part is never rounded. */
  readonly mode: RoundingMode;
  readonly fixedMinor?: bigint;
  readonly floorMinor?: bigint;
  readonly capMinor?: bigint;
}

/**
 * fixed + round(amount × rate, 0, mode), raised to the floor, lowered to the cap. The floor and cap bound the whole
 * fee. A floor may exceed a small payment's amount; the fee is not cut to the amount here, because whether the
 * merchant then owes the difference is the settlement policy's decision, not arithmetic's.
 */
export function feeOf(amountMinor: bigint, spec: FeeSpec): bigint {
  checkAmount('the amount', amountMinor);
  const fixedMinor = spec.fixedMinor ?? 0n;
  checkAmount('the fixed fee', fixedMinor);
  if (spec.floorMinor !== undefined) checkAmount('the fee floor', spec.floorMinor);
  if (spec.capMinor !== undefined) checkAmount('the fee cap', spec.capMinor);
  if (spec.floorMinor !== undefined && spec.capMinor !== undefined && spec.floorMinor > spec.capMinor) {
    throw new SettleError('floor_over_cap', `the fee floor ${spec.floorMinor} is above the cap ${spec.capMinor}`);
  }
  const percentage = round(multiply(fractionOfInteger(amountMinor), shareFraction(spec.rate, 'the fee rate')), 0, spec.mode);
  let feeMinor = fixedMinor + toInteger(percentage);
  if (spec.floorMinor !== undefined && feeMinor < spec.floorMinor) feeMinor = spec.floorMinor;
  if (spec.capMinor !== undefined && feeMinor > spec.capMinor) feeMinor = spec.capMinor;
  assert(feeMinor >= 0n, 'a fee is never negative');
  return feeMinor;
}

/** A tranche of a waterfall: takes up to its cap of what is left, in order; no cap takes all that is left. */
export interface Tranche {
  readonly name: string;
  readonly capMinor?: bigint;
}

/**
 * Pays `totalMinor` down `tranches` in order, each up to its cap; `restMinor` is what no tranche took (zero when
 * the last tranche is uncapped). Only the last tranche may be uncapped: one before it would leave the rest nothing.
 */
export function waterfall(totalMinor: bigint, tranches: readonly Tranche[]): { parts: Allocated[]; restMinor: bigint } {
  checkAmount('the total', totalMinor);
  if (tranches.length === 0 || tranches.length > waterfallTranchesMax) {
    throw new SettleError('parts_invalid', `a waterfall has 1 to ${waterfallTranchesMax} tranches, not ${tranches.length}`);
  }
  let leftMinor = totalMinor;
  const parts = tranches.map((tranche, i): Allocated => {
    if (tranche.capMinor === undefined && i < tranches.length - 1) {
      throw new SettleError('parts_invalid', `tranche "${tranche.name}" has no cap but is not last: the tranches after it would get nothing`);
    }
    if (tranche.capMinor !== undefined) checkAmount(`the cap of tranche "${tranche.name}"`, tranche.capMinor);
    const amountMinor = tranche.capMinor === undefined || tranche.capMinor > leftMinor ? leftMinor : tranche.capMinor;
    leftMinor -= amountMinor;
    return { name: tranche.name, amountMinor };
  });
  assert(parts.reduce((sum, part) => sum + part.amountMinor, 0n) + leftMinor === totalMinor, 'a waterfall adds up to its total');
  return { parts, restMinor: leftMinor };
}

/** One receiver of profit sharing: a fixed amount or a share of what is left after the fee. */
export type ProfitReceiver = { readonly receiver: string; readonly fixedMinor: bigint } | { readonly receiver: string; readonly share: Share };

/**
 * 分账: one payment of `amountMinor` split into the fee (taken first, whole), the receivers (by allocate's rule, on
 * the amount after the fee) and `restTo` (usually the merchant), who gets what the receivers do not.
 */
export function shareProfit(
  amountMinor: bigint,
  feeMinor: bigint,
  receivers: readonly ProfitReceiver[],
  restTo: string,
): { feeMinor: bigint; parts: Allocated[] } {
  checkAmount('the payment', amountMinor);
  checkAmount('the fee', feeMinor);
  if (feeMinor > amountMinor) throw new SettleError('fee_over_amount', `the fee ${feeMinor} exceeds the payment ${amountMinor}`);
  const parts = receivers.map((item): AllocationPart =>
    'fixedMinor' in item ? { name: item.receiver, fixedMinor: item.fixedMinor } : { name: item.receiver, share: item.share },
  );
  const allocated = allocate(amountMinor - feeMinor, [...parts, { name: restTo, rest: true }]);
  assert(allocated.reduce((sum, part) => sum + part.amountMinor, feeMinor) === amountMinor, 'profit sharing adds up to the payment');
  return { feeMinor, parts: allocated };
}
