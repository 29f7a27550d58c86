// A hot-outbound account's status holds for the money in its slices: once its debits are blocked (or it is closed),
// a payment to a payee on any shard is refused as on one shard, never paid from a slice; retries answer as they
// first did (the slice's shard decides: core/posting/slice-owner.ts), across a restart too.

import { describe, expect, it } from 'vitest';
import { sliceAccountId } from '../../src/core/hot/hot-outbound.js';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, decodeResults, encodeAccountOperations, encodeAccounts, encodeIds, encodeTransfers } from '../../src/core/wire/records.js';
import { AccountFlags, AccountOperationFlags } from '../../src/core/types.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { fastTransit, idsOnShard, useShardSets } from '../support/shard-set-fixture.js';

const shardCount = 2;
const ledger = 1;
const sets = useShardSets('tally-hot-out-status-', { shardCount, transit: fastTransit, hotOutbound: { refillMs: 20, compensateMs: 60_000 } });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function results(set: ShardSet, operation: number, body: Uint8Array): Promise<string[]> {
  return decodeResults(await set.execute(operation, body)).map((r) => r.result as string);
}

/**
 * A funder, a hot-outbound no-overdraft account on shard 0 funded with 10,000 (its slice on shard 1 is the payee
 * shard's), and a payee on each shard; ids from `base`.
 */
async function fundedHotAccount(set: ShardSet, base: bigint): Promise<{ hot: bigint; payeeHome: bigint; payeeOther: bigint; slice: bigint }> {
  const funder = idsOnShard(0, 1, 1n, shardCount)[0]!;
  const hot = idsOnShard(0, 1, base, shardCount)[0]!;
  const payeeHome = idsOnShard(0, 1, base * 10n, shardCount)[0]!;
  const payeeOther = idsOnShard(1, 1, base * 10n, shardCount)[0]!;
  expect(await results(set, Operation.create_accounts, encodeAccounts([
    { id: funder, ledger, code: 1 },
    { id: hot, ledger, code: 1, flags: AccountFlags.hot_outbound | AccountFlags.debits_must_not_exceed_credits },
    { id: payeeHome, ledger, code: 1 },
    { id: payeeOther, ledger, code: 1 },
  ]))).toEqual(['ok', 'ok', 'ok', 'ok']);
  expect(await results(set, Operation.create_transfers, encodeTransfers([{ id: 1n, debitAccountId: funder, creditAccountId: hot, amount: 10_000n, ledger, code: 1 }]))).toEqual(['ok']);
  return { hot, payeeHome, payeeOther, slice: sliceAccountId(hot, 1, shardCount) };
}

describe('a hot-outbound account blocked for debits', () => {
  it('pays no payee on any shard, from home or from a slice, until unblocked', async () => {
    const set = await sets.start();
    const { hot, payeeHome, payeeOther, slice } = await fundedHotAccount(set, 100n);
    for (let i = 0; i < 200; i++) {
      const [state] = decodeAccountStates(await set.execute(Operation.lookup_ledger_accounts, encodeIds([slice])));
      if (state !== undefined && state.creditsPosted > 0n) break;
      await sleep(20);
    }
    const pay = (id: bigint, to: bigint) => results(set, Operation.create_transfers, encodeTransfers([{ id, debitAccountId: hot, creditAccountId: to, amount: 10n, ledger, code: 1 }]));
    expect(await pay(10n, payeeOther)).toEqual(['ok']); // from the slice on the payee's shard

    const block = (id: bigint, kind: 'block' | 'unblock') => results(set, Operation.account_operations, encodeAccountOperations([{ id, accountId: hot, kind, flags: AccountOperationFlags.debits }]));
    expect(await block(20n, 'block')).toEqual(['ok']);
    expect(await pay(11n, payeeHome)).toEqual(['account_blocked']);
    expect(await pay(12n, payeeOther)).toEqual(['account_blocked']);
    expect(await pay(10n, payeeOther)).toEqual(['exists']); // paid from the slice before the block: a retry finds it
    // The slice kept its money; a restart fills the directory from the shards' accounts, the block with it.
    const sliceBefore = decodeAccountStates(await set.execute(Operation.lookup_ledger_accounts, encodeIds([slice])))[0]!;
    const restarted = await sets.restart(set);
    const payAfter = (id: bigint, to: bigint) => results(restarted, Operation.create_transfers, encodeTransfers([{ id, debitAccountId: hot, creditAccountId: to, amount: 10n, ledger, code: 1 }]));
    expect(await payAfter(13n, payeeOther)).toEqual(['account_blocked']);
    const sliceAfter = decodeAccountStates(await restarted.execute(Operation.lookup_ledger_accounts, encodeIds([slice])))[0]!;
    expect(sliceAfter.debitsPosted).toBe(sliceBefore.debitsPosted);
    expect(await results(restarted, Operation.account_operations, encodeAccountOperations([{ id: 21n, accountId: hot, kind: 'unblock', flags: AccountOperationFlags.debits }]))).toEqual(['ok']);
    expect(await payAfter(14n, payeeOther)).toEqual(['ok']); // from the slice again
    expect(await payAfter(12n, payeeOther)).toEqual(['account_blocked']); // refused during the block: for good
    const sliceUnblocked = decodeAccountStates(await restarted.execute(Operation.lookup_ledger_accounts, encodeIds([slice])))[0]!;
    expect(sliceUnblocked.debitsPosted).toBe(sliceBefore.debitsPosted + 10n);
  });
});

describe('closing a hot-outbound account', () => {
  it('is refused while its slices hold money, as one shard refuses an account that holds money, and leaves none stranded', async () => {
    const set = await sets.start();
    const { hot, payeeHome, payeeOther, slice } = await fundedHotAccount(set, 200n);
    const lookup = async (id: bigint) => {
      const state = decodeAccountStates(await set.execute(Operation.lookup_ledger_accounts, encodeIds([id])))[0]!;
      return { ...state, sliceBalances: state.sliceBalances ?? 0n };
    };
    for (let i = 0; i < 200 && (await lookup(slice)).creditsPosted === 0n; i++) await sleep(20);
    // Pay the home account's own part out to a payee on its shard (never served by a slice): the home account is
    // left empty while the slice still holds the rest of the money.
    let nextId = 100n;
    for (let i = 0; i < 50; i++) {
      const home = await lookup(hot);
      const homeAvailable = home.creditsPosted - home.debitsPosted;
      if (homeAvailable === 0n) break;
      await results(set, Operation.create_transfers, encodeTransfers([{ id: nextId++, debitAccountId: hot, creditAccountId: payeeHome, amount: homeAvailable, ledger, code: 1 }]));
    }
    const before = await lookup(hot);
    expect(before.creditsPosted - before.debitsPosted).toBe(0n);
    expect(before.sliceBalances).toBeGreaterThan(0n);
    const total = before.sliceBalances;

    const close = (id: bigint) => set.execute(Operation.account_operations, encodeAccountOperations([{ id, accountId: hot, kind: 'close' }]));
    expect(decodeResults(await close(300n))).toMatchObject([{ index: 0, result: 'close_refused', reason: 'nonzero_balance' }]);
    // Nothing of the account's money moved out of it: it is all at home now, and still all there.
    const refused = await lookup(hot);
    expect(refused.status).toBe('active');
    expect(refused.creditsPosted - refused.debitsPosted + refused.sliceBalances).toBe(total);

    // Paid out in full (a payee on the home shard is paid from home, one on the other shard from the slice, which the
    // keeper may have refilled since), the account closes; its slices hold nothing.
    for (let i = 0; i < 100; i++) {
      const now = await lookup(hot);
      const homeAvailable = now.creditsPosted - now.debitsPosted;
      if (homeAvailable + now.sliceBalances === 0n) break;
      const pay = homeAvailable > 0n ? { to: payeeHome, amount: homeAvailable } : { to: payeeOther, amount: now.sliceBalances };
      await results(set, Operation.create_transfers, encodeTransfers([{ id: nextId++, debitAccountId: hot, creditAccountId: pay.to, amount: pay.amount, ledger, code: 1 }]));
    }
    const empty = await lookup(hot);
    expect(empty.creditsPosted - empty.debitsPosted + empty.sliceBalances).toBe(0n);
    expect(decodeResults(await close(301n))).toMatchObject([{ index: 0, result: 'ok' }]);
    const sliceState = await lookup(slice);
    expect(sliceState.creditsPosted - sliceState.debitsPosted).toBe(0n);
    expect(await results(set, Operation.create_transfers, encodeTransfers([{ id: nextId++, debitAccountId: hot, creditAccountId: payeeOther, amount: 1n, ledger, code: 1 }]))).toEqual(['account_closed']);
  });
});
