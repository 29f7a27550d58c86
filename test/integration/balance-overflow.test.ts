// Issue #14, items 5 and 27: a credit that would take a payee's balance past 2^64 − 1 is refused before `ok`
// (balance_overflow, as on one shard), never answered `ok` and returned afterwards. Payees whose credits run high,
// or to which a big credit is on its way, are judged by their own shard (judged-payee-fences.ts). Specs, on real
// workers (run `npm run build` first), each compared with one shard:
//  1. three payments of 2^63 − 1 to one payee, from the other shard: ok, ok, balance_overflow; nothing returned;
//  2. four requests of 2^62 + 1 to one fresh payee sent at once from both shards: three ok, one balance_overflow,
//     and the payee holds exactly the three; nothing returned; the router's marks are cleared afterwards;
//  3. one request crediting a payee 2^63 − 1 twice from the other shard: ok, balance_overflow;
//  4. a whole freeze paid to a payee without room for it, and a hold posted whole past the room: balance_overflow.

import { expect, it } from 'vitest';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, decodeResults, encodeAccountOperations, encodeAccounts, encodeIds, encodeTransfers, type TransferInput } from '../../src/core/wire/records.js';
import { TransferFlags } from '../../src/core/types.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { fastTransit, idsOnShard, useShardSets } from '../support/shard-set-fixture.js';

const ledger = 3;
const max = (1n << 63n) - 1n;
const quarter = (1n << 62n) + 1n;
const two = useShardSets('tally-overflow-2-', { shardCount: 2, transit: fastTransit });
const one = useShardSets('tally-overflow-1-', { shardCount: 1, transit: fastTransit });
const [on0, on1] = [idsOnShard(0, 12, 1n, 2), idsOnShard(1, 12, 1n, 2)] as [bigint[], bigint[]];
let transferId = 1n;

function transfer(debitAccountId: bigint, creditAccountId: bigint, amount: bigint, extra: Partial<TransferInput> = {}): TransferInput {
  return { id: transferId++, debitAccountId, creditAccountId, amount, ledger, code: 1, ...extra };
}

async function results(set: ShardSet, transfers: TransferInput[]): Promise<string[]> {
  return decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(transfers))).map((r) => r.result as string);
}

async function credits(set: ShardSet, id: bigint): Promise<[bigint, bigint]> {
  const [state] = decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds([id])));
  return [state!.creditsPosted, state!.creditsPending];
}

/** Both sets with the same accounts; `scenario` runs on each (same ids), its answers compared. */
async function onBoth<T>(scenario: (set: ShardSet) => Promise<T>): Promise<{ one: T; two: T; set: ShardSet }> {
  const sets = [await one.start(), await two.start()];
  const answers: T[] = [];
  for (const set of sets) {
    transferId = 1n;
    const created = decodeResults(await set.execute(Operation.create_accounts, encodeAccounts([...on0, ...on1].map((id) => ({ id, ledger, code: 1 })))));
    expect(created.every((r) => r.result === 'ok')).toBe(true);
    answers.push(await scenario(set));
    await set.transit.idle(10_000);
    expect(set.transitStats().returned).toBe(0);
  }
  return { one: answers[0]!, two: answers[1]!, set: sets[1]! };
}

it('refuses the third payment of 2^63 − 1 to one payee across shards before ok', async () => {
  const { one: a, two: b } = await onBoth(async (set) => {
    const replies = [];
    for (const payer of on0.slice(0, 3)) replies.push(...(await results(set, [transfer(payer, on1[0]!, max)])));
    await set.transit.idle(10_000);
    return { replies, credits: await credits(set, on1[0]!) };
  });
  expect(a).toEqual({ replies: ['ok', 'ok', 'balance_overflow'], credits: [2n * max, 0n] });
  expect(b).toEqual(a);
});

it('judges concurrent big credits to one fresh payee in one order: three fit, the fourth is refused', async () => {
  const { two: b, set } = await onBoth(async (set) => {
    const payers = [on0[3]!, on1[3]!, on0[4]!, on1[4]!];
    const replies = (await Promise.all(payers.map((payer) => results(set, [transfer(payer, on0[5]!, quarter)])))).flat();
    await set.transit.idle(10_000);
    return { sorted: [...replies].sort(), credits: await credits(set, on0[5]!) };
  });
  expect(b).toEqual({ sorted: ['balance_overflow', 'ok', 'ok', 'ok'], credits: [3n * quarter, 0n] });
  // The marks the router set for the big credits go once they landed: a small credit runs unjudged again.
  expect(set.judgedPayeesMarked).toBe(0);
});

it('refuses a second credit of 2^63 − 1 to one payee in the same request, as one shard does', async () => {
  const { one: a, two: b } = await onBoth(async (set) => {
    const replies = await results(set, [transfer(on0[6]!, on1[6]!, max), transfer(on1[7]!, on1[6]!, 5n), transfer(on0[7]!, on1[6]!, max)]);
    await set.transit.idle(10_000);
    return { replies, credits: await credits(set, on1[6]!) };
  });
  expect(a.replies).toEqual(['ok', 'ok', 'balance_overflow']);
  expect(b).toEqual(a);
});

it('refuses a whole freeze and a whole hold posted past the payee room, as one shard does', async () => {
  const { one: a, two: b } = await onBoth(async (set) => {
    const [payee, payer, filler] = [on1[8]!, on0[8]!, on0[9]!];
    const answers: string[] = [];
    answers.push(...(await results(set, [transfer(filler, payee, max), transfer(on0[10]!, payee, max - 10n)]))); // room 11
    answers.push(...(await results(set, [transfer(on1[9]!, payer, 100n)])));
    const frozen = encodeAccountOperations([{ id: 900n, accountId: payer, kind: 'freeze', amount: 50n }]);
    answers.push(...decodeResults(await set.execute(Operation.account_operations, frozen)).map((r) => r.result as string));
    answers.push(...(await results(set, [transfer(payer, payee, 0n, { flags: TransferFlags.unfreeze_and_pay, pendingId: 900n })])));
    const hold = transfer(payer, payee, 12n, { flags: TransferFlags.pending });
    answers.push(...(await results(set, [hold])));
    answers.push(...(await results(set, [transfer(payer, payee, 0n, { flags: TransferFlags.post_pending, pendingId: hold.id })])));
    answers.push(...(await results(set, [transfer(payer, payee, 11n)])));
    await set.transit.idle(10_000);
    return { answers, credits: await credits(set, payee) };
  });
  expect(a.answers).toEqual(['ok', 'ok', 'ok', 'ok', 'balance_overflow', 'ok', 'balance_overflow', 'ok']);
  expect(b).toEqual(a);
});
