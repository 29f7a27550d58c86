// The day-end check of a settlement run (总账平衡), per channel, in exact minor units. What the run cleared comes
// from the items; what it settled, charged and reserved comes from the postings themselves, so a posting whose
// amount is off by one cent shows up as a difference of exactly one cent. The identity, per channel c:
//
//   cleared(c) = settled(c) + fees(c) + shares(c) + reservesHeld(c) − reservesReleased(c) + heldBackChange(c) + carriedForwardChange(c)
//
//   cleared               payments − refunds of every item of the merchant days that fell due in this run, held ones included
//   settled               Σ settle postings                  (在途 → merchant available)
//   fees                  Σ fee postings out of 在途, minus those into it (a fee given back)
//   shares                Σ share postings                   (在途 → receiver, 分账)
//   reservesHeld          Σ reserve_hold postings            (在途 → reserve)
//   reservesReleased      Σ reserve_release postings         (reserve → 在途)
//   heldBackChange        payments − refunds of the unresolved items of those days, minus those of items held by
//                         earlier runs and released in this one (negative when more is released than held)
//   carriedForwardChange  what the run carries to the next one, minus what earlier runs carried into it
//
// and beside it: payouts(c) = settled(c), since each settle posting is paid out in the same chain.
// Refunds and fees are signed inside the sums, so the identity holds for negative nets too.

import { assert } from '../assert.js';
import type { PostingSpec } from './settlement-postings.js';
import { SettleError } from './settle-errors.js';

/** What a merchant's part of the run says, apart from its postings: the side of the identity not read from postings. */
export interface RunFigures {
  readonly channel: string;
  readonly clearedMinor: bigint;
  readonly heldBackMinor: bigint;
  readonly releasedFromHoldMinor: bigint;
  readonly carriedInMinor: bigint;
  readonly carriedOutMinor: bigint;
}

export interface ChannelBalance {
  readonly channel: string;
  readonly clearedMinor: bigint;
  readonly settledMinor: bigint;
  readonly feesMinor: bigint;
  /** 分账: paid to receivers. */
  readonly sharesMinor: bigint;
  readonly reservesHeldMinor: bigint;
  readonly reservesReleasedMinor: bigint;
  readonly heldBackChangeMinor: bigint;
  readonly carriedForwardChangeMinor: bigint;
  readonly payoutsMinor: bigint;
  /** cleared − (settled + fees + shares + reservesHeld − reservesReleased + heldBackChange + carriedForwardChange); zero when balanced. */
  readonly differenceMinor: bigint;
  /** payouts − settled; zero when balanced. */
  readonly payoutDifferenceMinor: bigint;
}

export interface BalanceCheck {
  readonly balanced: boolean;
  /** By channel name. */
  readonly channels: readonly ChannelBalance[];
}

interface Sums {
  clearedMinor: bigint;
  settledMinor: bigint;
  feesMinor: bigint;
  sharesMinor: bigint;
  reservesHeldMinor: bigint;
  reservesReleasedMinor: bigint;
  heldBackChangeMinor: bigint;
  carriedForwardChangeMinor: bigint;
  payoutsMinor: bigint;
}

function emptySums(): Sums {
  return { clearedMinor: 0n, settledMinor: 0n, feesMinor: 0n, sharesMinor: 0n, reservesHeldMinor: 0n, reservesReleasedMinor: 0n, heldBackChangeMinor: 0n, carriedForwardChangeMinor: 0n, payoutsMinor: 0n };
}

function addPosting(sums: Sums, posting: PostingSpec): void {
  assert(posting.amountMinor > 0n, 'a posting moves a positive amount');
  const amount = posting.amountMinor;
  if (posting.role === 'settle') sums.settledMinor += amount;
  else if (posting.role === 'reserve_hold') sums.reservesHeldMinor += amount;
  else if (posting.role === 'reserve_release') sums.reservesReleasedMinor += amount;
  else if (posting.role === 'payout') sums.payoutsMinor += amount;
  else if (posting.role === 'share') sums.sharesMinor += amount;
  else sums.feesMinor += posting.debit.role === 'settlement_in_transit' ? amount : -amount;
}

/** The identity above for every channel of the run. */
export function checkRunBalance(figures: readonly RunFigures[], postings: readonly PostingSpec[]): BalanceCheck {
  const byChannel = new Map<string, Sums>();
  const sumsOf = (channel: string): Sums => {
    let sums = byChannel.get(channel);
    if (sums === undefined) byChannel.set(channel, (sums = emptySums()));
    return sums;
  };
  for (const figure of figures) {
    const sums = sumsOf(figure.channel);
    sums.clearedMinor += figure.clearedMinor;
    sums.heldBackChangeMinor += figure.heldBackMinor - figure.releasedFromHoldMinor;
    sums.carriedForwardChangeMinor += figure.carriedOutMinor - figure.carriedInMinor;
  }
  for (const posting of postings) addPosting(sumsOf(posting.channel), posting);
  const channels = [...byChannel.keys()].sort().map((channel): ChannelBalance => {
    const s = byChannel.get(channel)!;
    const accountedMinor = s.settledMinor + s.feesMinor + s.sharesMinor + s.reservesHeldMinor - s.reservesReleasedMinor + s.heldBackChangeMinor + s.carriedForwardChangeMinor;
    return { channel, ...s, differenceMinor: s.clearedMinor - accountedMinor, payoutDifferenceMinor: s.payoutsMinor - s.settledMinor };
  });
  const balanced = channels.every((line) => line.differenceMinor === 0n && line.payoutDifferenceMinor === 0n);
  return { balanced, channels };
}

/** Refuses a run whose check does not balance, naming each channel's difference. */
export function refuseUnbalanced(check: BalanceCheck): void {
  if (check.balanced) return;
  const off = check.channels
    .filter((line) => line.differenceMinor !== 0n || line.payoutDifferenceMinor !== 0n)
    .map((line) => `channel ${line.channel}: cleared − accounted = ${line.differenceMinor}, payouts − settled = ${line.payoutDifferenceMinor}`);
  throw new SettleError('run_unbalanced', `the run does not balance (总账平衡): ${off.join('; ')}`);
}
