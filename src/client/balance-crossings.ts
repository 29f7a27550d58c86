// Balance monitors on the change stream (issue #15): which events take a watched account's balance (credits posted
// − debits posted) across a threshold. Each transfer event carries the account's balances right after it, and its
// amount, so the balance right before is known from the event alone: no state, any starting point.

import { TransferFlags, transferKindFlags } from '../core/types.js';
import { shardOfId } from '../core/routing.js';
import type { Balances, ChangeEvent } from './changes.js';

export interface Threshold {
  /** Alert when the balance falls below this (minor units); absent: never. */
  below?: bigint;
  /** Alert when the balance rises above this; absent: never. */
  above?: bigint;
}

export interface BalanceCrossing {
  kind: 'balance_crossed';
  account: bigint;
  direction: 'below' | 'above';
  threshold: bigint;
  /** Credits posted − debits posted, right before and right after the transfer. */
  before: bigint;
  after: bigint;
  transferId: bigint;
  shard: number;
  seq: number;
  index: number;
  /** The transfer's ledger timestamp (ns). */
  timestamp: bigint;
}

/**
 * The crossings `event` causes for the accounts in `watched`. Only posted money counts (holds do not move the
 * balance); an account is judged where its balances are: its own shard (a cross-shard payee on its credit_landed).
 */
export function balanceCrossings(event: ChangeEvent, watched: ReadonlyMap<bigint, Threshold>, shardCount: number): BalanceCrossing[] {
  if ((event.kind !== 'transfer' && event.kind !== 'credit_landed') || event.result !== 'ok') return [];
  const kind = event.transfer.flags & transferKindFlags;
  // A hold or a void moves nothing posted; a credit landing is always posted money.
  const moves = event.kind === 'credit_landed' ? event.amountMoved : kind === TransferFlags.pending || kind === TransferFlags.void_pending ? 0n : event.amountMoved;
  if (moves === 0n) return [];
  const crossings: BalanceCrossing[] = [];
  const judge = (account: bigint, after: Balances, sign: -1n | 1n): void => {
    const threshold = watched.get(account);
    if (threshold === undefined || shardOfId(account, shardCount) !== event.shard) return;
    const balanceAfter = after.creditsPosted - after.debitsPosted;
    const balanceBefore = balanceAfter - sign * moves;
    const base = { kind: 'balance_crossed' as const, account, before: balanceBefore, after: balanceAfter, transferId: event.transfer.id, shard: event.shard, seq: event.seq, index: event.index, timestamp: event.transfer.timestamp };
    if (threshold.below !== undefined && balanceBefore >= threshold.below && balanceAfter < threshold.below) crossings.push({ ...base, direction: 'below', threshold: threshold.below });
    if (threshold.above !== undefined && balanceBefore <= threshold.above && balanceAfter > threshold.above) crossings.push({ ...base, direction: 'above', threshold: threshold.above });
  };
  // On the payer's shard a cross-shard transfer's credit side is the transit account: the payee is judged where it lands.
  if (event.kind === 'transfer') judge(event.transfer.debitAccountId, event.debitAfter, -1n);
  judge(event.transfer.creditAccountId, event.creditAfter, 1n);
  return crossings;
}
