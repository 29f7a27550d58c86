// The bookkeeping shard's fast path: vouchers summed by subject straight from journal entries must carry
// exactly the money of the per-account vouchers, summed per ledger, account code and side.

import { describe, expect, test } from 'vitest';
import { shardOfId } from '../../../../src/core/routing.js';
import { AccountOperationFlags, TransferFlags } from '../../../../src/core/types.js';
import { AccountCodes, accountCodeOfSystemId, subjectVoucherOf, voucherOf } from '../../../../src/core/books/vouchers.js';
import { ClusterHarness } from '../../../support/cluster-harness.js';
import { account, transfer } from '../../../support/ledger-fixtures.js';

const shardCount = 3;

function idsOn(shard: number, count: number, from: bigint): bigint[] {
  const ids: bigint[] = [];
  for (let id = from; ids.length < count; id++) if (shardOfId(id, shardCount) === shard) ids.push(id);
  return ids;
}

describe('vouchers by subject', () => {
  test('carry the same money as the per-account vouchers, per ledger, code and side', () => {
    const c = new ClusterHarness(shardCount);
    const banks = [0, 1, 2].map((s) => idsOn(s, 1, 1n)[0]!);
    const customers = [0, 1, 2].flatMap((s) => idsOn(s, 2, 1000n));
    const codeOf = new Map<bigint, number>([...banks.map((id) => [id, 5] as const), ...customers.map((id, i) => [id, 1 + (i % 2)] as const)]);
    expect(c.createAccounts([...codeOf].map(([id, code]) => account(id, { code })))).toEqual([...codeOf].map(() => 'ok'));
    let id = 10_000n;
    expect(c.createTransfers(customers.map((to, i) => transfer(id++, banks[i % 3]!, to, 1_000n)))).toEqual(customers.map(() => 'ok'));
    c.accountOperations([{ id: 1n, accountId: customers[5]!, kind: 'block', flags: AccountOperationFlags.credits }]);
    for (let round = 0; round < 5; round++) {
      c.createTransfers(customers.map((from, i) => transfer(id++, from, customers[(i + round + 1) % customers.length]!, BigInt(3 + i))));
      c.createTransfers([transfer(id++, customers[0]!, customers[3]!, 7n, { flags: TransferFlags.pending })]);
      c.deliver(round % 2 === 0 ? 2 : Infinity);
    }
    c.settle();
    for (const [shard, harness] of c.shards.entries()) {
      const codes = new AccountCodes(shardCount);
      for (const seq of [...harness.journal.keys()].sort((a, b) => a - b)) {
        const entry = harness.journal.get(seq)!;
        const fast = subjectVoucherOf(entry, shard, shardCount, codes);
        const slow = voucherOf(entry, shard, shardCount);
        const expected = new Map<string, bigint>();
        for (const line of slow.lines) {
          const code = accountCodeOfSystemId(line.accountId) ?? codeOf.get(line.accountId)!;
          const key = `${line.ledger}:${code}:${line.side}`;
          expected.set(key, (expected.get(key) ?? 0n) + line.amount);
        }
        const got = new Map(fast.lines.map((l) => [`${l.ledger}:${l.code}:${l.side}`, l.amount]));
        expect(got).toEqual(expected);
        expect(fast.businessDayBegins).toBe(slow.businessDayBegins);
      }
    }
  });
});
