// The classic ledger's two tables, the funded accounts, and the server facts the result records.
// Loaded in one statement, then ANALYZEd (an empty or unanalysed ledger plans badly and measures
// low) and CHECKPOINTed (so the first measured window does not pay for writing out the load).

import type { Client } from 'pg';

/** What each account starts with, in minor units: far above what any run can debit from it. */
export const balanceMinorInitial = 1_000_000_000n;
/** The hot account (id 1) starts with more: every hot-debit transfer draws on it, and none may bounce. */
export const hotBalanceMinorInitial = 1_000_000_000_000_000n;

const schemaSql = `
  CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    balance bigint NOT NULL,
    debits bigint NOT NULL DEFAULT 0,
    credits bigint NOT NULL DEFAULT 0
  );
  CREATE TABLE journal (
    id bigserial PRIMARY KEY,
    transfer_id bigint NOT NULL UNIQUE,
    debit_id bigint NOT NULL,
    credit_id bigint NOT NULL,
    amount bigint NOT NULL,
    created_at timestamptz DEFAULT now()
  );`;

/** Σ of every account's opening balance. */
export function fundedTotalMinor(accountCount: number): bigint {
  return hotBalanceMinorInitial + BigInt(accountCount - 1) * balanceMinorInitial;
}

export async function createLedger(db: Client, accountCount: number): Promise<void> {
  await db.query(schemaSql);
  await db.query(
    `INSERT INTO accounts (id, balance)
     SELECT g, CASE WHEN g = 1 THEN $2::bigint ELSE $3::bigint END FROM generate_series(1, $1::bigint) AS g`,
    [accountCount, String(hotBalanceMinorInitial), String(balanceMinorInitial)],
  );
  await db.query('ANALYZE accounts; ANALYZE journal');
  await db.query('CHECKPOINT');
}

/** Server version and the settings that decide the figures, read back from the running server. */
export async function serverFacts(db: Client): Promise<Record<string, string>> {
  const names = ['server_version', 'fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_connections', 'max_wal_size', 'checkpoint_timeout', 'wal_level'];
  const { rows } = await db.query<{ name: string; setting: string }>(`SELECT name, current_setting(name) AS setting FROM unnest($1::text[]) AS name`, [names]);
  return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
}
