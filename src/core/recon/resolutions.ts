// Manual resolution of reconciliation exceptions (issue #17): an exception's difference booked between the channel's
// clearing account and an account a person names (unidentified money, a write-off, a receivable), as the transfers of
// a maker–checker adjustment — a person submits, another approves, the ledger posts. The difference is theirs −
// ours; money the channel holds beyond our books raises the clearing account (an asset: a debit), money it holds
// less lowers it. An exception whose amounts agree (a status difference) books nothing.

import type { ReconException } from './batches.js';
import type { ChannelConfig } from './channel-config.js';

export interface ResolutionTransfer {
  debitAccountId: bigint;
  creditAccountId: bigint;
  amount: bigint;
  ledger: number;
  code: number;
}

/** Exact minor units of a signed decimal amount as exceptions state them ('-12.50' at scale 2 → -1250n). */
export function minorOfAmount(text: string, scale: number): bigint {
  const match = /^(-?)([0-9]+)(?:\.([0-9]+))?$/.exec(text);
  if (match === null || (match[3] ?? '').length > scale) throw new RangeError(`not an amount at scale ${scale}: ${JSON.stringify(text)}`);
  const minor = BigInt(match[2]! + (match[3] ?? '').padEnd(scale, '0'));
  return match[1] === '-' ? -minor : minor;
}

export function resolutionTransfer(exception: ReconException, channel: ChannelConfig, against: bigint, code: number, scale: number): ResolutionTransfer | null {
  const difference = minorOfAmount(exception.theirs, scale) - minorOfAmount(exception.ours, scale);
  if (difference === 0n) return null;
  // Seen from the channel: more money in (their credit) or less money out (their debit) both mean it holds more.
  const channelHoldsMore = (difference > 0n) === (exception.direction === 'credit');
  const clearingUp = channelHoldsMore === (channel.direction === 'asset');
  const clearing = channel.accounts.clearing;
  return {
    debitAccountId: clearingUp ? clearing : against,
    creditAccountId: clearingUp ? against : clearing,
    amount: difference < 0n ? -difference : difference,
    ledger: channel.ledger,
    code,
  };
}
