// A merchant's settlement terms as configured, checked into the form a run reads: the cycle (D0, D1, Dn, T+n as
// working-calendar.ts parses them), the working calendar its T cycles count on, the minimum payout (below it the
// amount carries to the next run), and the rolling reserve (basis points of each run's net amount held for a
// number of calendar days, then released), and its profit sharing (分账: receivers taking a fixed amount or a share
// of each payment after its fee, the merchant keeping the rest). Terms apply to every channel the merchant is paid
// through.

import { shareProfit, type ProfitReceiver } from './allocation.js';
import { parseSettlementCycle, type SettlementCycle, type WorkingCalendar } from './working-calendar.js';
import { SettleError } from './settle-errors.js';
import { nameCharsMax, reserveDaysMax } from './settle-limits.js';

export interface MerchantTermsSpec {
  readonly merchantId: string;
  /** 'D0', 'D1', 'D3', 'T+1', … */
  readonly cycle: string;
  readonly calendar: WorkingCalendar;
  /** A payable amount below this (and any amount of zero or less) is not paid out but carried to the next run. */
  readonly minimumPayoutMinor: bigint;
  /** The rolling reserve: basis points (0 to 10000) of a run's positive net amount held back. */
  readonly reserveBps: number;
  /** Calendar days a reserve is held: a hold made on run date R is released by the first run on or after R + days. */
  readonly reserveDays: number;
  /** 分账 receivers of each paid payment (after its fee), in order; none: the merchant keeps all. */
  readonly split?: readonly ProfitReceiver[];
}

export interface MerchantTerms extends MerchantTermsSpec {
  readonly parsedCycle: SettlementCycle;
  /** The cycle written canonically ('D1', 'T+1'): part of every posting id, so 'T1' and 'T+1' give the same ids. */
  readonly cycleText: string;
}

const bpsPerWhole = 10_000;

/** Checks one merchant's terms; throws SettleError (terms_invalid, or cycle_invalid from the parser) naming the field. */
export function buildMerchantTerms(spec: MerchantTermsSpec): MerchantTerms {
  const refuse = (why: string): never => {
    throw new SettleError('terms_invalid', `merchant ${spec.merchantId}: ${why}`);
  };
  if (typeof spec.merchantId !== 'string' || spec.merchantId === '' || spec.merchantId.length > nameCharsMax) refuse(`merchantId must be 1 to ${nameCharsMax} characters`);
  const parsedCycle = parseSettlementCycle(spec.cycle);
  if (typeof spec.minimumPayoutMinor !== 'bigint' || spec.minimumPayoutMinor < 0n) refuse(`minimumPayoutMinor ${String(spec.minimumPayoutMinor)} must be a bigint, not negative`);
  if (!Number.isSafeInteger(spec.reserveBps) || spec.reserveBps < 0 || spec.reserveBps > bpsPerWhole) refuse(`reserveBps ${spec.reserveBps} must be a whole number from 0 to ${bpsPerWhole}`);
  if (!Number.isSafeInteger(spec.reserveDays) || spec.reserveDays < 0 || spec.reserveDays > reserveDaysMax) refuse(`reserveDays ${spec.reserveDays} must be a whole number from 0 to ${reserveDaysMax}`);
  if (spec.reserveBps > 0 && spec.reserveDays === 0) refuse('reserveDays must be at least 1 when a reserve is held: a reserve released the day it is held is no reserve');
  if (spec.split !== undefined) checkSplit(spec.merchantId, spec.split, refuse);
  const cycleText = parsedCycle.kind === 'D' ? `D${parsedCycle.days}` : `T+${parsedCycle.days}`;
  return { ...spec, parsedCycle, cycleText };
}

/** Receivers in one merchant's split. */
const splitReceiversMax = 32;

function checkSplit(merchantId: string, split: readonly ProfitReceiver[], refuse: (why: string) => never): void {
  if (split.length === 0 || split.length > splitReceiversMax) refuse(`split names 1 to ${splitReceiversMax} receivers, got ${split.length}`);
  const names = new Set<string>();
  for (const receiver of split) {
    if (typeof receiver.receiver !== 'string' || receiver.receiver === '' || receiver.receiver.length > nameCharsMax) refuse(`a split receiver is named by 1 to ${nameCharsMax} characters`);
    if (receiver.receiver === merchantId) refuse(`split receiver ${receiver.receiver} is the merchant itself: the merchant takes what the receivers do not`);
    if (names.has(receiver.receiver)) refuse(`split receiver ${receiver.receiver} is given twice`);
    // A fixed part could exceed a small payment, and a run would then have to refuse the day: shares only.
    if (!('share' in receiver)) refuse(`split receiver ${receiver.receiver} takes a fixed amount; a split in settlement terms takes shares only`);
    names.add(receiver.receiver);
  }
  // The shares are checked the way every payment will split: over a whole, with the fixed parts first.
  try {
    shareProfit(1_000_000_000_000n, 0n, split, merchantId);
  } catch (error) {
    if (error instanceof SettleError) refuse(`split: ${error.message}`);
    throw error;
  }
}

/** Every merchant's terms by id; a merchant given twice is refused. */
export function buildTermsTable(specs: readonly MerchantTermsSpec[]): ReadonlyMap<string, MerchantTerms> {
  const table = new Map<string, MerchantTerms>();
  for (const spec of specs) {
    if (table.has(spec.merchantId)) throw new SettleError('terms_invalid', `merchant ${spec.merchantId} is given twice`);
    table.set(spec.merchantId, buildMerchantTerms(spec));
  }
  return table;
}
