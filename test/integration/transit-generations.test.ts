// A transit account carries the turnover of every caller of its shard pair, in u64 balances: two payments of
// 2^63 − 1 across shards, from accounts without a rule, used to fill it, and every later transfer between those
// shards answered balance_overflow for good (a hostile caller stopping cross-shard writes for everyone). The shard
// now moves to an older generation of the transit account with room, or opens the next (system-accounts.ts). Specs,
// two shards on real workers (run `npm run build` first):
//  1. after two such payments a small transfer between the same shards is `ok` and lands; nothing is returned;
//  2. holds of 2^63 − 1 opened and voided again and again reuse the generations they emptied (the count stays 2);
//  3. a hold taken on an older generation posts there after the pair moved on, and its credit lands;
//  4. the day report passes, a restart (from checkpoints) keeps every balance and goes on, and verify passes.

import { afterEach, expect, it } from 'vitest';
import { BusinessCalendar, parseDayCutSchedule } from '../../src/core/business-day.js';
import { defaultChart } from '../../src/core/books/chart-of-accounts.js';
import { SystemAccountKind, systemAccountId } from '../../src/core/accounts/system-accounts.js';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, decodeResults, encodeAccounts, encodeIds, encodeTransfers, type TransferInput } from '../../src/core/wire/records.js';
import { TransferFlags } from '../../src/core/types.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { verifyDataDir } from '../../src/shards/verify/store-verify.js';
import { fastTransit, idsOnShard, useShardSets } from '../support/shard-set-fixture.js';

const shardCount = 2;
const ledger = 7;
const max = (1n << 63n) - 1n;
const fixture = useShardSets('tally-transit-generations-', {
  shardCount,
  transit: fastTransit,
  dayCut: { cutTime: '00:00', timeZone: 'UTC', scheduled: false },
  checkpoint: { entries: 3, seconds: 3600 },
});
const [on0, on1] = [idsOnShard(0, 10, 1n, shardCount), idsOnShard(1, 10, 1n, shardCount)] as [bigint[], bigint[]];
const today = (): number => new BusinessCalendar(parseDayCutSchedule('00:00', 'UTC')).dayOf(BigInt(Date.now()) * 1_000_000n);
let transferId = 1n;

afterEach(() => {
  transferId = 1n;
});

function transfer(debitAccountId: bigint, creditAccountId: bigint, amount: bigint, extra: Partial<TransferInput> = {}): TransferInput {
  return { id: transferId++, debitAccountId, creditAccountId, amount, ledger, code: 1, ...extra };
}

async function results(set: ShardSet, transfers: TransferInput[]): Promise<string[]> {
  return decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(transfers))).map((r) => r.result as string);
}

async function postedBalances(set: ShardSet, ids: bigint[]): Promise<string[]> {
  const states = decodeAccountStates(await set.execute(Operation.lookup_ledger_accounts, encodeIds(ids)));
  return states.map((a) => `${a.id}: ${a.debitsPosted}/${a.creditsPosted} pending ${a.debitsPending}/${a.creditsPending}`);
}

/** How many generations of the transit-out account `from → to` exist (looked up by id, generation by generation). */
async function transitOutGenerations(set: ShardSet, from: number, to: number): Promise<number> {
  const ids = Array.from({ length: 4 }, (_, g) => systemAccountId(SystemAccountKind.transitOut, ledger, from, to, shardCount, g));
  return decodeAccountStates(await set.execute(Operation.lookup_ledger_accounts, encodeIds(ids))).length;
}

it('keeps cross-shard transfers going past a transit account filled by hostile amounts, and audits the generations', async () => {
  let set = await fixture.start();
  const created = decodeResults(await set.execute(Operation.create_accounts, encodeAccounts([...on0, ...on1].map((id) => ({ id, ledger, code: 1 })))));
  expect(created.every((r) => r.result === 'ok')).toBe(true);

  // 1. Two payments of 2^63 − 1 from shard 0 to shard 1, then a small one between the same shards.
  expect(await results(set, [transfer(on0[0]!, on1[0]!, max)])).toEqual(['ok']);
  expect(await results(set, [transfer(on0[1]!, on1[1]!, max)])).toEqual(['ok']);
  expect(await results(set, [transfer(on0[2]!, on1[2]!, 5n)])).toEqual(['ok']);
  expect(await transitOutGenerations(set, 0, 1)).toBe(2);

  // 2. Holds of 2^63 − 1 from shard 1 to shard 0, opened and voided three times over, with a small payment between.
  for (let round = 0; round < 3; round++) {
    const holds = [transfer(on1[3]!, on0[3]!, max, { flags: TransferFlags.pending }), transfer(on1[4]!, on0[4]!, max, { flags: TransferFlags.pending })];
    expect(await results(set, holds)).toEqual(['ok', 'ok']);
    expect(await results(set, [transfer(on1[5]!, on0[5]!, 7n)])).toEqual(['ok']);
    const voids = holds.map((hold) => transfer(hold.debitAccountId, hold.creditAccountId, 0n, { flags: TransferFlags.void_pending, pendingId: hold.id }));
    expect(await results(set, voids)).toEqual(['ok', 'ok']);
  }
  expect(await transitOutGenerations(set, 1, 0)).toBe(2);

  // 3. A hold on one generation, a second that moves the pair on, then the first posted whole.
  const first = transfer(on1[6]!, on0[6]!, max, { flags: TransferFlags.pending });
  expect(await results(set, [first, transfer(on1[7]!, on0[7]!, max, { flags: TransferFlags.pending })])).toEqual(['ok', 'ok']);
  expect(await results(set, [transfer(on1[6]!, on0[6]!, 0n, { flags: TransferFlags.post_pending, pendingId: first.id })])).toEqual(['ok']);
  await set.transit.idle(10_000);

  const accounts = [...on0.slice(0, 8), ...on1.slice(0, 8)];
  const before = await postedBalances(set, accounts);
  expect(before).toContain(`${on1[2]}: 0/5 pending 0/0`);
  expect(before).toContain(`${on0[5]}: 0/21 pending 0/0`);
  expect(before).toContain(`${on0[6]}: 0/${max} pending 0/0`);
  expect(before).toContain(`${on0[7]}: 0/0 pending 0/${max}`);
  expect(set.transitStats().returned).toBe(0);

  // 4. The day report, a restart, one more transfer each way, and verify.
  expect(JSON.parse(await set.closeDayReport(today()))).toMatchObject({ passed: true });
  set = await fixture.restart(set);
  expect(await postedBalances(set, accounts)).toEqual(before);
  expect(await results(set, [transfer(on0[2]!, on1[2]!, 1n), transfer(on1[5]!, on0[5]!, 1n)])).toEqual(['ok', 'ok']);
  await set.transit.idle(10_000);
  await fixture.close(set);
  const report = await verifyDataDir({ dataDir: fixture.dataDir, chart: defaultChart() });
  expect(report.problems).toEqual([]);
  expect(report.passed).toBe(true);
});
