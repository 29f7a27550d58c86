// Reply shapes of the books operations (JSON on the wire): the bookkeeping shard's lag per shard, subject
// balances and the trial balance. Amounts are decimal strings: JSON has no integers past 2^53.

import type { BalanceSide, TrialBalance } from './chart-of-accounts.js';

export interface ShardLag {
  shard: number;
  /** Last journal seq booked. */
  booked: number;
  /** Last journal seq committed by the shard. */
  journaled: number;
  /** Entries not yet booked. */
  lag: number;
  businessDay: number;
}

export interface SubjectBalanceRow {
  code: string;
  name: string;
  level: number;
  side: string;
  debits: string;
  credits: string;
  balance: string;
}

/** One leaf subject of a trial balance (试算平衡). */
export interface TrialBalanceRow {
  code: string;
  level: number;
  /** The subject's normal side. */
  side: BalanceSide;
  debits: string;
  credits: string;
  /** Signed on the normal side: debits − credits for a debit subject, credits − debits otherwise. */
  balance: string;
}

/** get_trial_balance's reply: totals over every leaf of one ledger, and the leaves sorted by code. */
export interface TrialBalanceReply {
  debitsTotal: string;
  creditsTotal: string;
  /** Sum of leaves' debits − credits where positive. */
  debitBalancesTotal: string;
  /** Sum of leaves' credits − debits where positive. */
  creditBalancesTotal: string;
  /** Debits equal credits, and debit balances equal credit balances. */
  balanced: boolean;
  rows: TrialBalanceRow[];
}

export function trialBalanceReply(trial: TrialBalance): TrialBalanceReply {
  return {
    debitsTotal: trial.debitsTotal.toString(),
    creditsTotal: trial.creditsTotal.toString(),
    debitBalancesTotal: trial.debitBalancesTotal.toString(),
    creditBalancesTotal: trial.creditBalancesTotal.toString(),
    balanced: trial.balanced,
    rows: trial.rows.map((r) => ({ code: r.code, level: r.level, side: r.side, debits: r.debits.toString(), credits: r.credits.toString(), balance: r.balance.toString() })),
  };
}
