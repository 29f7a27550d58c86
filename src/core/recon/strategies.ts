// What reconciliation does about an exception by itself (issue #17): the channel's strategy table keyed by
// (transaction type, our status, their status) picks an action — the most specific rule wins (fewest `*`), ties by
// order in the file; above a rule's amountMaxMinor the action becomes hold — and the action becomes transfers the
// ledger posts through its normal path: a missing credit (补单) to the unidentified account, the post or void of our
// hold the channel settled or failed, a refund the channel paid out as a reversal of the payment it refunds, a fee
// difference to the fees account. Nothing here posts: the recon service
// does, with ids derived from the statement row (src/recon/recon-actions.ts), so re-running never posts twice.

import { TransferFlags } from '../types.js';
import type { ChannelConfig, OurStatus, StrategyAction, StrategyRule } from './channel-config.js';
import type { ReconRecord } from './matcher.js';
import type { RowStatus, RowType } from './statement-row.js';

/** The rule deciding for (type, ours, theirs), or null when none applies (then: hold). */
export function ruleFor(rules: readonly StrategyRule[], type: RowType, ours: OurStatus, theirs: RowStatus): StrategyRule | null {
  let best: StrategyRule | null = null;
  let bestWildcards = 4;
  for (const rule of rules) {
    if ((rule.type !== '*' && rule.type !== type) || (rule.ours !== '*' && rule.ours !== ours) || (rule.theirs !== '*' && rule.theirs !== theirs)) continue;
    const wildcards = (rule.type === '*' ? 1 : 0) + (rule.ours === '*' ? 1 : 0) + (rule.theirs === '*' ? 1 : 0);
    if (wildcards < bestWildcards) {
      best = rule;
      bestWildcards = wildcards;
    }
  }
  return best;
}

/** What to do about one exception: an action, or hold with why. */
export type Decision = { action: Exclude<StrategyAction, 'hold'> } | { action: 'hold'; reason: string };

/** Which outcomes an action can answer: the table decides only where the action fits what matching found. */
const actionFits: Readonly<Record<Exclude<StrategyAction, 'hold'>, (record: ReconRecord) => boolean>> = {
  post_missing_credit: (record) => record.outcome === 'missing_on_platform' && record.direction === 'credit',
  post_pending: (record) => record.outcome === 'status_mismatch' && record.ours === 'pending' && (record.theirs === 'success' || record.theirs === 'refund') && oneHold(record),
  void_pending: (record) => record.outcome === 'status_mismatch' && record.ours === 'pending' && (record.theirs === 'failed' || record.theirs === 'closed') && oneHold(record),
  post_refund: (record) => record.outcome === 'missing_on_platform' && record.direction === 'debit',
  post_fee_difference: (record) => record.outcome === 'fee_mismatch',
};

/** One hold of ours in the record (its first transfer), its fee postings apart: what post_pending and void_pending settle. */
function oneHold(record: ReconRecord): boolean {
  return record.transferIds.length - record.feeTransfers === 1;
}

export function decide(rules: readonly StrategyRule[], record: ReconRecord): Decision {
  if (record.rowNos.length === 0 || record.theirs === null) return { action: 'hold', reason: 'no statement row: nothing for the table to decide' };
  const rule = ruleFor(rules, record.type ?? 'other', record.ours, record.theirs);
  if (rule === null || rule.action === 'hold') return { action: 'hold', reason: rule === null ? 'no strategy rule applies' : 'the strategy says hold' };
  if (!actionFits[rule.action](record)) return { action: 'hold', reason: `${rule.action} does not fit a ${record.outcome}` };
  const amount = rule.action === 'post_fee_difference' ? feeDifference(record) : record.theirsMinor;
  if (rule.amountMaxMinor !== null && (amount < 0n ? -amount : amount) > rule.amountMaxMinor) return { action: 'hold', reason: `${amount} is above the rule's amountMaxMinor ${rule.amountMaxMinor}` };
  return { action: rule.action };
}

/** Theirs − ours of the fee the channel took (a fee paid back counts negative), from the record's fee difference. */
function feeDifference(record: ReconRecord): bigint {
  return record.differences.find((difference) => difference.field === 'fee')?.differenceMinor ?? 0n;
}

/**
 * What an action needs to know of the transfer it names: our hold (post_pending, void_pending) or the payment a
 * refund reverses (post_refund) — its accounts, ledger and code.
 */
export interface HoldFields {
  id: bigint;
  debitAccountId: bigint;
  creditAccountId: bigint;
  ledger: number;
  code: number;
}

export interface ActionTransfer {
  debitAccountId: bigint;
  creditAccountId: bigint;
  amount: bigint;
  ledger: number;
  code: number;
  flags: number;
  pendingId: bigint;
  userData128: bigint;
}

/**
 * The transfer an action posts, or a reason it cannot (a code or account the channel lacks). Money the channel took
 * in (their credit) is, on an asset clearing account, a debit of it; on a liability one, a credit.
 */
export function actionTransfer(action: Exclude<StrategyAction, 'hold'>, record: ReconRecord, channel: ChannelConfig, hold: HoldFields | null): ActionTransfer | { reason: string } {
  const clearing = channel.accounts.clearing;
  const theirCreditIsOurDebit = channel.direction === 'asset';
  const inFlow = (other: bigint): { debitAccountId: bigint; creditAccountId: bigint } => (theirCreditIsOurDebit ? { debitAccountId: clearing, creditAccountId: other } : { debitAccountId: other, creditAccountId: clearing });
  switch (action) {
    case 'post_missing_credit': {
      const unidentified = channel.accounts.unidentified;
      const code = channel.ledgerCodes.payment[0];
      if (unidentified === null || code === undefined) return { reason: 'the channel names no accounts.unidentified or no ledgerCodes.payment' };
      return { ...inFlow(unidentified), amount: record.theirsMinor, ledger: channel.ledger, code, flags: 0, pendingId: 0n, userData128: record.key128 };
    }
    case 'post_pending':
    case 'void_pending': {
      if (hold === null) return { reason: 'our hold was not found' };
      const flags = action === 'post_pending' ? TransferFlags.post_pending : TransferFlags.void_pending;
      return { debitAccountId: hold.debitAccountId, creditAccountId: hold.creditAccountId, amount: 0n, ledger: hold.ledger, code: hold.code, flags, pendingId: hold.id, userData128: record.key128 };
    }
    case 'post_refund': {
      // A reversal mirrors its original's accounts; its code says refund where the channel names one.
      if (hold === null) return { reason: 'no single posted payment of this key to reverse' };
      const code = channel.ledgerCodes.refund[0] ?? hold.code;
      return { debitAccountId: hold.creditAccountId, creditAccountId: hold.debitAccountId, amount: record.theirsMinor, ledger: hold.ledger, code, flags: TransferFlags.reversal, pendingId: hold.id, userData128: record.key128 };
    }
    case 'post_fee_difference': {
      const fees = channel.accounts.fees;
      const code = channel.ledgerCodes.fee[0];
      const difference = feeDifference(record);
      if (fees === null || code === undefined) return { reason: 'the channel names no accounts.fees or no ledgerCodes.fee' };
      if (difference === 0n) return { reason: 'no fee difference' };
      // The channel took more fee than we booked: money at the channel is less (our clearing goes down), fees up.
      const taken = difference > 0n;
      const toFees = theirCreditIsOurDebit ? { debitAccountId: fees, creditAccountId: clearing } : { debitAccountId: clearing, creditAccountId: fees };
      const sides = taken ? toFees : { debitAccountId: toFees.creditAccountId, creditAccountId: toFees.debitAccountId };
      return { ...sides, amount: difference < 0n ? -difference : difference, ledger: channel.ledger, code, flags: 0, pendingId: 0n, userData128: record.key128 };
    }
  }
}
