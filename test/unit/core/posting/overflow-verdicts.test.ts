// The overflow check a payee's shard answers for a payee on it (core/posting/verdicts-elsewhere.ts overflowAnswer),
// in process: two shards (ClusterHarness, settled after each request) against one (LedgerHarness), same requests.
// Only a payee marked for overflow is judged; the sums take an amount only the payer's shard knows as the most it
// could be, so an unmarked payee must never be judged (questions about references carry every cross-shard post).

import { describe, expect, it } from 'vitest';
import { shardOfId } from '../../../../src/core/routing.js';
import { TransferFlags } from '../../../../src/core/types.js';
import type { TransferInput } from '../../../../src/core/wire/records.js';
import { ClusterHarness } from '../../../support/cluster-harness.js';
import { LedgerHarness } from '../../../support/ledger-harness.js';

const onShard = (shard: number, count: number): bigint[] => {
  const ids: bigint[] = [];
  for (let id = 1n; ids.length < count; id++) if (shardOfId(id, 2) === shard) ids.push(id);
  return ids;
};
const [payer, otherPayer] = onShard(0, 2) as [bigint, bigint];
const [payee] = onShard(1, 1) as [bigint];
const max = (1n << 63n) - 1n;

function both(): { one: LedgerHarness; two: ClusterHarness; run: (transfers: TransferInput[]) => { one: string[]; two: string[] } } {
  const one = new LedgerHarness({ verifyEachWrite: true });
  const two = new ClusterHarness(2, { verifyEachWrite: true, directory: true });
  const accounts = [payer, otherPayer, payee].map((id) => ({ id, ledger: 1, code: 1 }));
  one.createAccounts(accounts);
  two.createAccounts(accounts);
  return {
    one,
    two,
    run: (transfers) => {
      const answers = { one: one.createTransfers(transfers), two: two.createTransfers(transfers) };
      two.settle();
      return answers;
    },
  };
}

let nextId = 100n;
const t = (debitAccountId: bigint, amount: bigint, flags = 0, pendingId = 0n): TransferInput => ({ id: nextId++, debitAccountId, creditAccountId: payee, amount, ledger: 1, code: 1, flags, pendingId });

describe('overflow verdicts', () => {
  it('posts several whole holds to one unmarked payee in one request, as one shard does', () => {
    const { run } = both();
    const holds = [t(payer, 10n, TransferFlags.pending), t(payer, 20n, TransferFlags.pending), t(otherPayer, 30n, TransferFlags.pending)];
    expect(run(holds)).toEqual({ one: ['ok', 'ok', 'ok'], two: ['ok', 'ok', 'ok'] });
    const posts = holds.map((hold) => t(hold.debitAccountId, 0n, TransferFlags.post_pending, hold.id));
    const answers = run([...posts, t(payer, 5n)]);
    expect(answers.one).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(answers.two).toEqual(answers.one);
  });

  it('refuses a whole hold posted past a marked payee room, from the amount shown on it', () => {
    const { run } = both();
    expect(run([t(payer, max), t(otherPayer, max - 10n)])).toEqual({ one: ['ok', 'ok'], two: ['ok', 'ok'] }); // room 11
    const small = t(payer, 11n, TransferFlags.pending);
    const big = t(payer, 12n, TransferFlags.pending);
    expect(run([small, big])).toEqual({ one: ['ok', 'ok'], two: ['ok', 'ok'] });
    const answers = run([t(payer, 0n, TransferFlags.post_pending, big.id), t(payer, 0n, TransferFlags.post_pending, small.id)]);
    expect(answers.one).toEqual(['balance_overflow', 'ok']);
    expect(answers.two).toEqual(answers.one);
  });
});
