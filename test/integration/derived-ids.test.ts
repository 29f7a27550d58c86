// Ids the ledger derives for itself (hot-outbound slices, transit and suspense accounts) on real worker
// threads (run `npm run build` first: the workers load dist/). Issue #20, defect 1: a caller who creates
// an account at a hot account's future slice id, without the no-overdraft rule, must not be able to pay
// out of a hot account that was never funded. Callers cannot open accounts in either derived range, nor
// freeze, block, close or mark them; a suspense account pays out at most what it holds.

import { describe, expect, it } from 'vitest';
import { sliceAccountId } from '../../src/core/hot/hot-outbound.js';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, decodeResults, encodeAccountOperations, encodeAccounts, encodeIds, encodeTransfers } from '../../src/core/wire/records.js';
import { shardOfId } from '../../src/core/routing.js';
import { SystemAccountKind, systemAccountId } from '../../src/core/accounts/system-accounts.js';
import { AccountFlags, AccountOperationFlags } from '../../src/core/types.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { fastTransit, idsOnShard, useShardSets } from '../support/shard-set-fixture.js';

const shardCount = 2;
const ledger = 7;
const sets = useShardSets('tally-derived-ids-', { shardCount, transit: fastTransit, hotOutbound: { refillMs: 20, compensateMs: 60_000 } });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function results(set: ShardSet, operation: number, body: Uint8Array): Promise<string[]> {
  return decodeResults(await set.execute(operation, body)).map((r) => r.result as string);
}

async function account(set: ShardSet, id: bigint) {
  return decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds([id])))[0];
}

describe('ids the ledger derives for itself', () => {
  it('a pre-created slice cannot make money for an unfunded hot account', async () => {
    const set = await sets.start();
    const hot = idsOnShard(0, 1, 500n, shardCount)[0]!;
    const payee = idsOnShard(1, 1, 900n, shardCount)[0]!;
    const slice = sliceAccountId(hot, 1, shardCount);
    expect(shardOfId(slice, shardCount)).toBe(1);
    // The attack: the slice id first, as an ordinary account with overdraft allowed, naming the hot account.
    expect(await results(set, Operation.create_accounts, encodeAccounts([{ id: slice, ledger, code: 1, userData128: hot }]))).toEqual(['id_invalid']);
    expect(await results(set, Operation.create_accounts, encodeAccounts([
      { id: hot, ledger, code: 1, flags: AccountFlags.hot_outbound | AccountFlags.debits_must_not_exceed_credits },
      { id: payee, ledger, code: 1 },
    ]))).toEqual(['ok', 'ok']);
    // The ledger opened the real slice itself: no overdraft, naming its hot account.
    const opened = await account(set, slice);
    expect(opened?.flags).toBe(AccountFlags.debits_must_not_exceed_credits);
    expect(opened?.userData128).toBe(hot);

    const pay = Array.from({ length: 5 }, (_, i) => ({ id: 10_000n + BigInt(i), debitAccountId: hot, creditAccountId: payee, amount: 1_000n, ledger, code: 1 }));
    for (const transfer of pay) expect(await results(set, Operation.create_transfers, encodeTransfers([transfer]))).toEqual(['insufficient_funds']);
    await sleep(100); // let any credit in flight land before reading the payee
    expect((await account(set, payee))?.creditsPosted).toBe(0n);
    const hotAfter = await account(set, hot);
    expect(hotAfter?.sliceBalances).toBe(0n);
    expect(hotAfter?.debitsPosted).toBe(0n);
  });

  it('refuses callers accounts and account operations in the derived ranges', async () => {
    const set = await sets.start();
    const hot = idsOnShard(0, 1, 700n, shardCount)[0]!;
    const slice = sliceAccountId(hot, 1, shardCount);
    const transit = systemAccountId(SystemAccountKind.transitOut, ledger, 0, 1, shardCount);
    const suspense = systemAccountId(SystemAccountKind.suspense, ledger, 1, 0, shardCount);
    // Exactly what the keeper would open is still the keeper's to open.
    const asKeeper = { id: slice, ledger, code: 1, flags: AccountFlags.debits_must_not_exceed_credits, userData128: hot };
    expect(await results(set, Operation.create_accounts, encodeAccounts([asKeeper]))).toEqual(['id_invalid']);
    expect(await results(set, Operation.create_accounts, encodeAccounts([{ id: suspense, ledger, code: 1 }]))).toEqual(['id_invalid']);

    const operations = [transit, suspense, slice].flatMap((accountId, i) => [
      { id: 50n + BigInt(i) * 4n, accountId, kind: 'freeze' as const, amount: 1n },
      { id: 51n + BigInt(i) * 4n, accountId, kind: 'block' as const, flags: AccountOperationFlags.debits },
      { id: 52n + BigInt(i) * 4n, accountId, kind: 'close' as const },
      { id: 53n + BigInt(i) * 4n, accountId, kind: 'mark_hot' as const, flags: AccountOperationFlags.credits },
    ]);
    expect(await results(set, Operation.account_operations, encodeAccountOperations(operations))).toEqual(operations.map(() => 'account_id_invalid'));
  });
});
