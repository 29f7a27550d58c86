// Issue #16: query_transfers and query_accounts on real shards and stores. The same queries give the same pages on
// one shard and on two (issue #14: one answer wherever accounts live) — by user data, ledger and code through the
// transfer index, by account through its history with the state of credits other shards posted, with status and
// direction filters, paged by cursor — and again after a restart, read from the index on disk.

import { describe, expect, it } from 'vitest';
import { Operation } from '../../src/core/operations.js';
import { TransferFlags } from '../../src/core/types.js';
import { decodeAccountQueryPage, decodeTransferQueryPage, encodeQueryFilter, type QueryFilterInput, type TransferInput } from '../../src/core/wire/records.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { fastTransit, idsOnShard, onOneAndTwo, openAccounts, transferResults, useShardSets } from '../support/shard-set-fixture.js';

const ledger = 3;
const one = useShardSets('tally-queries-one-', { shardCount: 1, transit: fastTransit });
const two = useShardSets('tally-queries-two-', { shardCount: 2, transit: fastTransit });
const both = onOneAndTwo(one, two);

/**
 * Every row of a query, page by page: each once, in (timestamp, id) order. Returned by id: which shard stamped a
 * transfer first is timing (each shard has its own clock), the rows themselves are the answer.
 */
async function allRows(set: ShardSet, filter: QueryFilterInput, limit: number): Promise<string[]> {
  const rows: { id: bigint; timestamp: bigint; status: string }[] = [];
  let after: QueryFilterInput['after'];
  for (let pages = 0; pages < 500; pages++) {
    const page = decodeTransferQueryPage(await set.execute(Operation.query_transfers, encodeQueryFilter({ ...filter, limit, after }, 'transfers')));
    expect(page.rows.length).toBeLessThanOrEqual(limit);
    rows.push(...page.rows);
    if (page.next !== null) {
      after = page.next;
      continue;
    }
    const ordered = [...rows].sort((x, y) => (x.timestamp === y.timestamp ? Number(x.id - y.id) : x.timestamp < y.timestamp ? -1 : 1));
    if (filter.reversed === true) ordered.reverse();
    expect(rows).toEqual(ordered);
    expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
    return rows.map((row) => `${row.id}:${row.status}`).sort();
  }
  throw new Error('paging did not end');
}

const [a0, b0] = idsOnShard(0, 2, 100n, 2);
const [a1, b1] = idsOnShard(1, 2, 100n, 2);
const accountIds = [a0!, b0!, a1!, b1!];

/** Transfers among accounts of both shards: order ids in user_data_128, merchants in user_data_32, two codes, holds. */
async function story(set: ShardSet): Promise<void> {
  await openAccounts(set, accountIds.map((id, i) => ({ id, ledger, code: 40 + (i % 2), userData32: i })));
  const transfers: TransferInput[] = [];
  for (let i = 0; i < 24; i++) {
    const payer = accountIds[i % 4]!;
    const payee = accountIds[(i + 1 + (i % 3)) % 4]!;
    transfers.push({ id: 5000n + BigInt(i), debitAccountId: payer, creditAccountId: payee, amount: 7n, ledger, code: i % 2 === 0 ? 71 : 72, userData128: 900n + BigInt(i % 10), userData32: i % 3 });
  }
  for (let i = 0; i < transfers.length; i += 6) expect(await transferResults(set, transfers.slice(i, i + 6))).toEqual(transfers.slice(i, i + 6).map(() => 'ok'));
  const holds: TransferInput[] = [
    { id: 6000n, debitAccountId: a0!, creditAccountId: b1!, amount: 3n, ledger, code: 73, flags: TransferFlags.pending },
    { id: 6001n, debitAccountId: a1!, creditAccountId: b1!, amount: 3n, ledger, code: 73, flags: TransferFlags.pending },
    { id: 6002n, debitAccountId: a0!, creditAccountId: b0!, amount: 3n, ledger, code: 73, flags: TransferFlags.pending },
  ];
  expect(await transferResults(set, holds)).toEqual(['ok', 'ok', 'ok']);
  expect(await transferResults(set, [{ id: 6003n, debitAccountId: a0!, creditAccountId: b1!, amount: 0n, ledger, code: 74, flags: TransferFlags.post_pending, pendingId: 6000n }])).toEqual(['ok']);
}

async function queries(set: ShardSet): Promise<unknown[]> {
  const answers: unknown[] = [];
  for (const limit of [1, 5, 100]) {
    answers.push(await allRows(set, { code: 71 }, limit));
    answers.push(await allRows(set, { ledger, code: 72, reversed: true }, limit));
    answers.push(await allRows(set, { userData128: 903n }, limit));
    answers.push(await allRows(set, { userData32: 2, ledger }, limit));
    answers.push(await allRows(set, { accountId: b1!, direction: 'credits' }, limit));
    answers.push(await allRows(set, { accountId: b1!, status: 'pending' }, limit));
    answers.push(await allRows(set, { accountId: b1!, status: 'pending_posted', reversed: true }, limit));
    answers.push(await allRows(set, { accountId: a0!, direction: 'debits', code: 73 }, limit));
    // Two indexed fields: the merchant's runs, each narrowed by the code's run of the same entry.
    answers.push(await allRows(set, { userData32: 1, code: 72 }, limit));
  }
  const accounts = decodeAccountQueryPage(await set.execute(Operation.query_accounts, encodeQueryFilter({ ledger, code: 41 }, 'accounts')));
  // By id, as transfers: accounts come in creation-timestamp order, and which shard's clock stamped first is timing.
  const byId = [...accounts.rows].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  answers.push(byId.map((account) => [account.id, account.creditsPosted, account.creditsPending]), accounts.next);
  return answers;
}

describe('queries answer the same at any shard count', () => {
  it('by index, by account with states from other shards, paged, and again after a restart', async () => {
    const answers = await both(async (set, restart) => {
      await story(set);
      const before = await queries(set);
      const after = await queries(await restart(set));
      expect(after).toEqual(before);
      return before;
    });
    // Spot checks of what both shard counts agreed on.
    expect(answers[2]).toEqual(['5003:posted', '5013:posted', '5023:posted']);
    expect((answers[4] as string[]).filter((row) => row.startsWith('60'))).toEqual(['6000:pending_posted', '6001:pending', '6003:posted']);
    expect(answers[5]).toEqual(['6001:pending']);
    expect(answers[6]).toEqual(['6000:pending_posted']);
    expect((answers[0] as string[]).length).toBe(12);
    // i % 3 === 1 and i odd (code 72), of the 24: 1, 7, 13, 19.
    expect(answers[8]).toEqual(['5001:posted', '5007:posted', '5013:posted', '5019:posted']);
  });
});
