// One transfer, the classic way: a transaction that locks both account rows in id order (so two
// transfers over the same pair, in either direction, cannot deadlock), checks funds, debits first
// and credits after, writes the journal row, and commits (the COMMIT waits for its WAL fsync).
// Domain outcomes are returned as data; database errors are thrown after the transaction is rolled back.

import type { Client } from 'pg';
import { assert } from '../../src/core/assert.js';
import type { TransferPick } from './workload.js';

/** Outcomes in precedence order; numbers fixed, never reused. */
export const transferOutcomes = {
  committed: 0,
  insufficient_funds: 1,
} as const;
export type TransferOutcome = keyof typeof transferOutcomes;

/**
 * Named statements: node-postgres prepares each once per connection and then only binds, as a
 * careful application would. ORDER BY sits below the row locking, so rows are locked in id order.
 */
const lockPair = { name: 'lock-pair', text: 'SELECT id, balance FROM accounts WHERE id IN ($1, $2) ORDER BY id FOR UPDATE' };
const debitAccount = { name: 'debit', text: 'UPDATE accounts SET balance = balance - $2, debits = debits + $2 WHERE id = $1' };
const creditAccount = { name: 'credit', text: 'UPDATE accounts SET balance = balance + $2, credits = credits + $2 WHERE id = $1' };
const journalRow = { name: 'journal', text: 'INSERT INTO journal (transfer_id, debit_id, credit_id, amount) VALUES ($1, $2, $3, $4)' };

/** int8 columns arrive as strings (node-postgres keeps them exact); ids here are safe integers. */
interface LockedRow {
  id: string;
  balance: string;
}

export async function classicTransfer(db: Client, transferId: number, pick: TransferPick): Promise<TransferOutcome> {
  assert(pick.debitId !== pick.creditId && pick.amountMinor > 0, 'a transfer moves a positive amount between two accounts');
  await db.query('BEGIN');
  try {
    const { rows } = await db.query<LockedRow>({ ...lockPair, values: [pick.debitId, pick.creditId] });
    assert(rows.length === 2, `both accounts of transfer ${transferId} exist (locked ${rows.length})`);
    const debit = rows.find((row) => Number(row.id) === pick.debitId)!;
    if (BigInt(debit.balance) < BigInt(pick.amountMinor)) {
      await db.query('ROLLBACK');
      return 'insufficient_funds';
    }
    await db.query({ ...debitAccount, values: [pick.debitId, pick.amountMinor] });
    await db.query({ ...creditAccount, values: [pick.creditId, pick.amountMinor] });
    await db.query({ ...journalRow, values: [transferId, pick.debitId, pick.creditId, pick.amountMinor] });
    await db.query('COMMIT');
    return 'committed';
  } catch (error) {
    // The connection may be gone; the server rolls back on its own then, and the first error is the one to report.
    await db.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** The transaction as it runs, for the JSON record. */
export const classicTransactionSteps = [
  'BEGIN',
  lockPair.text,
  'client: ROLLBACK (insufficient_funds) when the debit balance < amount',
  debitAccount.text,
  creditAccount.text,
  journalRow.text,
  'COMMIT (synchronous_commit=on: waits for the WAL fsync)',
] as const;
