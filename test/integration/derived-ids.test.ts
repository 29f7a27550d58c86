// Ids the ledger derives for itself (hot-outbound slices, transit and suspense accounts) on real worker
// threads (run `npm run build` first: the workers load dist/). Issue #20, defect 1: a caller who creates
// an account at a hot account's future slice id, without the no-overdraft rule, must not be able to pay
// out of a hot account that was never funded. Callers cannot open accounts in either derived range, nor
// freeze, block, close or mark them; a suspense account pays out at most what it holds. A caller's reads answer
// them as unknown accounts (they exist only with more than one shard: issue #14, item 31); operators read them
// with lookup_ledger_accounts.

import { describe, expect, it } from 'vitest';
import { sliceAccountId } from '../../src/core/hot/hot-outbound.js';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, decodeResults, encodeAccountOperations, encodeAccounts, encodeHistoryFilter, encodeIds, encodeTransfers } from '../../src/core/wire/records.js';
import { shardOfId } from '../../src/core/routing.js';
import { SystemAccountKind, systemAccountId } from '../../src/core/accounts/system-accounts.js';
import { AccountFlags, AccountOperationFlags, TransferFlags, transferNamesLedgerAccount } from '../../src/core/types.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { fastTransit, idsOnShard, onOneAndTwo, useShardSets } from '../support/shard-set-fixture.js';

const shardCount = 2;
const ledger = 7;
const hotOutbound = { refillMs: 20, compensateMs: 60_000 };
const sets = useShardSets('tally-derived-ids-', { shardCount, transit: fastTransit, hotOutbound });
const oneShard = useShardSets('tally-derived-ids-one-', { shardCount: 1, transit: fastTransit, hotOutbound });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function results(set: ShardSet, operation: number, body: Uint8Array): Promise<string[]> {
  return decodeResults(await set.execute(operation, body)).map((r) => r.result as string);
}

/** The account as an operator reads it (lookup_ledger_accounts: slices, transit and suspense accounts too). */
async function account(set: ShardSet, id: bigint) {
  return decodeAccountStates(await set.execute(Operation.lookup_ledger_accounts, encodeIds([id])))[0];
}

async function ids(set: ShardSet, operation: number, accountIds: bigint[]): Promise<bigint[]> {
  return decodeAccountStates(await set.execute(operation, encodeIds(accountIds))).map((a) => a.id);
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

  it("a caller's reads answer the ledger's own accounts as unknown; lookup_ledger_accounts shows them", async () => {
    const set = await sets.start();
    const [payer, hot] = idsOnShard(0, 2, 1_100n, shardCount);
    const payee = idsOnShard(1, 1, 1_300n, shardCount)[0]!;
    expect(await results(set, Operation.create_accounts, encodeAccounts([
      { id: payer!, ledger, code: 1 },
      { id: hot!, ledger, code: 1, flags: AccountFlags.hot_outbound | AccountFlags.debits_must_not_exceed_credits },
      { id: payee, ledger, code: 1 },
    ]))).toEqual(['ok', 'ok', 'ok']);
    expect(await results(set, Operation.create_transfers, encodeTransfers([{ id: 20_000n, debitAccountId: payer!, creditAccountId: payee, amount: 40n, ledger, code: 1 }]))).toEqual(['ok']);
    const transitOut = systemAccountId(SystemAccountKind.transitOut, ledger, 0, 1, shardCount);
    const transitIn = systemAccountId(SystemAccountKind.transitIn, ledger, 0, 1, shardCount);
    const slice = sliceAccountId(hot!, 1, shardCount);
    const asked = [payer!, transitOut, transitIn, slice, hot!];
    expect(await ids(set, Operation.lookup_accounts, [payee])).toEqual([payee]); // waits for the credit to land

    // One shard has no transit account and no slice: a caller's lookup leaves them out at every shard count.
    expect(await ids(set, Operation.lookup_accounts, asked)).toEqual([payer!, hot!]);
    expect(await ids(set, Operation.lookup_ledger_accounts, asked)).toEqual(asked);
    expect((await account(set, transitOut))?.creditsPosted).toBe(40n);

    const history = (accountId: bigint) => set.execute(Operation.get_account_transfers, encodeHistoryFilter({ accountId }));
    expect((await history(payer!)).byteLength).toBeGreaterThan(0);
    for (const id of [transitOut, transitIn, slice]) expect((await history(id)).byteLength).toBe(0);

    // Closed days: a balance or statement of one answers as for an account that does not exist.
    const report = JSON.parse(new TextDecoder().decode(await set.execute(Operation.close_day, new Uint8Array(0)))) as { day: number };
    const dayQuery = (operation: number, accountId: bigint) => {
      const body = new Uint8Array(32);
      const view = new DataView(body.buffer);
      encodeIds([accountId]).forEach((byte, i) => (body[i] = byte));
      view.setUint32(16, report.day, true);
      if (operation === Operation.get_account_statement) {
        view.setUint32(20, report.day, true);
        view.setUint32(24, 10, true);
      }
      return set.execute(operation, body);
    };
    expect((await dayQuery(Operation.get_balance_at_day, payer!)).byteLength).toBe(40);
    expect((await dayQuery(Operation.get_account_statement, payer!)).byteLength).toBeGreaterThan(0);
    for (const id of [transitOut, transitIn, slice]) {
      expect((await dayQuery(Operation.get_balance_at_day, id)).byteLength).toBe(0);
      expect((await dayQuery(Operation.get_account_statement, id)).byteLength).toBe(0);
    }
  });

  it("refuses a caller's transfer naming a slice or a suspense account account_id_invalid, at one shard and at two", async () => {
    const [payer, hot] = idsOnShard(0, 2, 1_500n, shardCount);
    const payee = idsOnShard(1, 1, 1_700n, shardCount)[0]!;
    const slice = sliceAccountId(hot!, 1, shardCount);
    const suspense = systemAccountId(SystemAccountKind.suspense, ledger, 1, 1, shardCount);
    const pay = (id: bigint, debitAccountId: bigint, creditAccountId: bigint, flags = 0) => ({ id, debitAccountId, creditAccountId, amount: 3n, ledger, code: 1, flags });
    const answers = await onOneAndTwo(oneShard, sets)(async (set) => [
      await results(set, Operation.create_accounts, encodeAccounts([
        { id: payer!, ledger, code: 1 },
        { id: hot!, ledger, code: 1, flags: AccountFlags.hot_outbound | AccountFlags.debits_must_not_exceed_credits },
        { id: payee, ledger, code: 1 },
      ])),
      // Funded: at two shards the keeper grants the slice some of it.
      await results(set, Operation.create_transfers, encodeTransfers([pay(30_000n, payer!, hot!)])),
      await results(set, Operation.create_transfers, encodeTransfers([
        pay(30_010n, payer!, slice), pay(30_011n, slice, payee), pay(30_012n, payer!, suspense), pay(30_013n, suspense, payee), pay(30_014n, payer!, payee),
      ])),
      // A linked chain fails whole; a resend answers the original failure; a caller's copy of the mark is flags_invalid.
      await results(set, Operation.create_transfers, encodeTransfers([pay(30_020n, payer!, payee, TransferFlags.linked), pay(30_021n, slice, payee)])),
      await results(set, Operation.create_transfers, encodeTransfers([pay(30_011n, slice, payee), pay(30_022n, payer!, payee, transferNamesLedgerAccount)])),
    ]);
    expect(answers).toEqual([
      ['ok', 'ok', 'ok'],
      ['ok'],
      ['account_id_invalid', 'account_id_invalid', 'account_id_invalid', 'account_id_invalid', 'ok'],
      ['linked_event_failed', 'account_id_invalid'],
      ['account_id_invalid', 'flags_invalid'],
    ]);
  });
});
