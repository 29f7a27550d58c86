// A hot-outbound account answers its payments as one shard does (issue #14, item 24), on real worker threads
// (run `npm run build` first). Its money is split over its home and its slices; a payment routed to a slice
// that holds too little used to be refused insufficient_funds while the account as a whole covered it. The shard
// set now brings the shortfall to the slice first (a gather), so the answers match one shard's, request by request.

import { describe, expect, it } from 'vitest';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, decodeHistoryEntries, decodeResults, decodeTransferStates, encodeAccounts, encodeHistoryFilter, encodeIds, encodeTransfers } from '../../src/core/wire/records.js';
import { AccountFlags, TransferFlags } from '../../src/core/types.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { fastTransit, idsOnShard, onOneAndTwo, useShardSets } from '../support/shard-set-fixture.js';
import { mulberry32 } from '../support/prng.js';

const ledger = 3;
// Long periods: no round moves money by itself during a step; only gathers do.
const hotOutbound = { refillMs: 60_000, compensateMs: 600_000 };
const one = useShardSets('tally-hot-one-answer-1-', { shardCount: 1, transit: fastTransit, hotOutbound });
const two = useShardSets('tally-hot-one-answer-2-', { shardCount: 2, transit: fastTransit, hotOutbound });

const [funder, hot] = idsOnShard(0, 2, 2_000n, 2);
const [payeeFar, payeeFar2] = idsOnShard(1, 2, 2_100n, 2);
const [payeeNear] = idsOnShard(0, 1, 2_200n, 2);

async function results(set: ShardSet, transfers: Parameters<typeof encodeTransfers>[0]): Promise<string[]> {
  return decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(transfers))).map((r) => r.result as string);
}

describe('a hot-outbound account answers as on one shard', () => {
  it('pays what the account covers wherever its money sits, and refuses what it does not, in request order', async () => {
    let next = 40_000n;
    const pay = (creditAccountId: bigint, amount: bigint, flags = 0) => ({ id: next++, debitAccountId: hot!, creditAccountId, amount, ledger, code: 1, flags });
    const answers = await onOneAndTwo(one, two)(async (set) => {
      next = 40_000n;
      const steps: unknown[] = [];
      steps.push(decodeResults(await set.execute(Operation.create_accounts, encodeAccounts([
        { id: funder!, ledger, code: 1 },
        { id: hot!, ledger, code: 1, flags: AccountFlags.hot_outbound | AccountFlags.debits_must_not_exceed_credits },
        { id: payeeFar!, ledger, code: 1 },
        { id: payeeFar2!, ledger, code: 1 },
        { id: payeeNear!, ledger, code: 1 },
      ]))).map((r) => r.result));
      steps.push(await results(set, [{ id: next++, debitAccountId: funder!, creditAccountId: hot!, amount: 1_000n, ledger, code: 1 }]));
      // Right after the funding: the slice on shard 1 holds nothing yet.
      steps.push(await results(set, [pay(payeeFar!, 300n)]));
      // In one request: 500 and 150 from the 700 left, then 100 more than is left, then what is left.
      steps.push(await results(set, [pay(payeeFar!, 500n), pay(payeeFar2!, 150n), pay(payeeFar!, 100n), pay(payeeFar2!, 50n)]));
      steps.push(await results(set, [pay(payeeFar!, 1n)]));
      // Funded again, paid from home and from the slice in one request, then a hold at home.
      steps.push(await results(set, [{ id: next++, debitAccountId: funder!, creditAccountId: hot!, amount: 400n, ledger, code: 1 }]));
      steps.push(await results(set, [pay(payeeNear!, 100n), pay(payeeFar!, 250n), pay(payeeFar2!, 60n)]));
      steps.push(await results(set, [pay(payeeNear!, 50n, TransferFlags.pending)]));
      const accounts = decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds([payeeFar!, payeeFar2!, payeeNear!])));
      steps.push(accounts.map((a) => `${a.creditsPosted}/${a.creditsPending}`));
      // Records name the account that paid, not the slice that served it (item 26), in lookups and histories.
      const first = decodeTransferStates(await set.execute(Operation.lookup_transfers, encodeIds([40_002n])));
      steps.push(first.map((t) => `${t.debitAccountId} → ${t.creditAccountId}`));
      const page = decodeHistoryEntries(await set.execute(Operation.get_account_transfers, encodeHistoryFilter({ accountId: payeeFar! })));
      steps.push(page.map((e) => `${e.transfer.debitAccountId}`));
      return steps;
    });
    expect(answers).toEqual([
      ['ok', 'ok', 'ok', 'ok', 'ok'],
      ['ok'],
      ['ok'],
      ['ok', 'ok', 'insufficient_funds', 'ok'],
      ['insufficient_funds'],
      ['ok'],
      ['ok', 'ok', 'insufficient_funds'],
      ['ok'],
      ['1050/0', '200/0', '100/50'],
      [`${hot} → ${payeeFar}`],
      [`${hot}`, `${hot}`, `${hot}`],
    ]);
  });

  // Random requests (payments to payees on either shard, holds, top-ups, amounts near what is left), the same at one
  // shard and at two: every answer and the account's whole available money agree after each request.
  const seeds = (process.env.TALLY_HOT_ONE_ANSWER_SEEDS ?? '11,12,13').split(',').map(Number);
  it.each(seeds)('random requests from one hot-outbound account answer alike at one shard and at two (seed %i)', async (seed) => {
    const payees = [payeeFar!, payeeFar2!, payeeNear!];
    const answers = await onOneAndTwo(one, two)(async (set) => {
      const random = mulberry32(seed);
      let next = 50_000n;
      const steps: unknown[] = [];
      steps.push(decodeResults(await set.execute(Operation.create_accounts, encodeAccounts([
        { id: funder!, ledger, code: 1 },
        { id: hot!, ledger, code: 1, flags: AccountFlags.hot_outbound | AccountFlags.debits_must_not_exceed_credits },
        ...payees.map((id) => ({ id, ledger, code: 1 })),
      ]))).map((r) => r.result));
      for (let request = 0; request < 25; request++) {
        const events = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
          const roll = random();
          if (roll < 0.15) return { id: next++, debitAccountId: funder!, creditAccountId: hot!, amount: BigInt(1 + Math.floor(random() * 400)), ledger, code: 1 };
          const flags = roll < 0.25 ? TransferFlags.pending : 0;
          return { id: next++, debitAccountId: hot!, creditAccountId: payees[Math.floor(random() * payees.length)]!, amount: BigInt(1 + Math.floor(random() * 200)), ledger, code: 1, flags };
        });
        steps.push(await results(set, events));
        const [account] = decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds([hot!])));
        steps.push(`available ${account!.creditsPosted - account!.debitsPosted - account!.debitsPending + (account!.sliceBalances ?? 0n)}`);
      }
      return steps;
    });
    expect(answers.some((step) => Array.isArray(step) && step.includes('insufficient_funds'))).toBe(true);
  });
});
