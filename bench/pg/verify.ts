// The end-of-run checks, with the load stopped: money is conserved (Σ balances = Σ opening balances),
// the journal holds exactly one row per committed transfer and the amounts the clients committed,
// Σ debits = Σ credits, and every account's balance = opening − debits + credits.

import type { Client } from 'pg';
import { balanceMinorInitial, fundedTotalMinor, hotBalanceMinorInitial } from './schema.js';
import { hotAccountId } from './workload.js';

export interface PgVerification {
  passed: boolean;
  accounts: number;
  /** As decimal strings: JSON has no bigint. */
  balanceMinorSumExpected: string;
  balanceMinorSum: string;
  conserved: boolean;
  journalRowsExpected: number;
  journalRows: number;
  journalAmountMinorExpected: string;
  journalAmountMinor: string;
  debitsMinorSum: string;
  creditsMinorSum: string;
  debitsEqualCredits: boolean;
  /** Accounts whose balance is not opening − debits + credits. */
  accountsMismatched: number;
}

export async function verifyLedger(db: Client, accountCount: number, committedTotal: number, amountCommittedMinorTotal: bigint): Promise<PgVerification> {
  // Sums of bigint come back as numeric text; BigInt() reads them exactly.
  const totals = await db.query<{ accounts: string; balances: string; debits: string; credits: string; mismatched: string }>(
    `SELECT count(*) AS accounts, sum(balance) AS balances, sum(debits) AS debits, sum(credits) AS credits,
            count(*) FILTER (WHERE balance <> CASE WHEN id = $1 THEN $2::bigint ELSE $3::bigint END - debits + credits) AS mismatched
     FROM accounts`,
    [hotAccountId, String(hotBalanceMinorInitial), String(balanceMinorInitial)],
  );
  const journal = await db.query<{ rows: string; amount: string }>('SELECT count(*) AS rows, coalesce(sum(amount), 0) AS amount FROM journal');
  const t = totals.rows[0];
  const j = journal.rows[0];
  const expectedSum = fundedTotalMinor(accountCount);
  const v: Omit<PgVerification, 'passed'> = {
    accounts: Number(t.accounts),
    balanceMinorSumExpected: String(expectedSum),
    balanceMinorSum: t.balances,
    conserved: BigInt(t.balances) === expectedSum,
    journalRowsExpected: committedTotal,
    journalRows: Number(j.rows),
    journalAmountMinorExpected: String(amountCommittedMinorTotal),
    journalAmountMinor: j.amount,
    debitsMinorSum: t.debits,
    creditsMinorSum: t.credits,
    debitsEqualCredits: BigInt(t.debits) === BigInt(t.credits) && BigInt(t.debits) === BigInt(j.amount),
    accountsMismatched: Number(t.mismatched),
  };
  const passed =
    v.accounts === accountCount &&
    v.conserved &&
    v.journalRows === committedTotal &&
    BigInt(j.amount) === amountCommittedMinorTotal &&
    v.debitsEqualCredits &&
    v.accountsMismatched === 0;
  return { passed, ...v };
}
