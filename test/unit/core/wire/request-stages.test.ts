// Where a create_transfers request is cut into stages (core/wire/request-stages.ts): only where a later event needs an
// earlier one's effect through another shard, never inside a linked chain, around chains across shards.

import { describe, expect, it } from 'vitest';
import { shardOfId } from '../../../../src/core/routing.js';
import { AccountFlags, DirectoryMarks, TransferFlags } from '../../../../src/core/types.js';
import { encodeTransfers, type TransferInput } from '../../../../src/core/wire/records.js';
import { stageStartsOf, type AccountFlagsSource } from '../../../../src/core/wire/request-stages.js';
import { readU128 } from '../../../../src/core/u128.js';

const shardCount = 2;
const onShard = (shard: number, count: number, from: bigint): bigint[] => {
  const ids: bigint[] = [];
  for (let id = from; ids.length < count; id++) if (shardOfId(id, shardCount) === shard) ids.push(id);
  return ids;
};
const [a, c] = onShard(0, 2, 100n) as [bigint, bigint];
const [b, e] = onShard(1, 2, 100n) as [bigint, bigint];

/** b cannot overdraw, e is capped; every other account has no rule. */
function directory(flags: Map<bigint, number> = new Map([[b, AccountFlags.debits_must_not_exceed_credits], [e, AccountFlags.credits_must_not_exceed_debits]])): AccountFlagsSource {
  let any = 0;
  for (const f of flags.values()) any |= f;
  return {
    flagsAt: (view, at) => flags.get(readU128(view, at)) ?? 0,
    holdsAnyWith: (f) => (any & f) !== 0,
    mayHoldWith: (_view, _at, f) => (any & f) !== 0,
  };
}

let nextId = 1n;
const pay = (debitAccountId: bigint, creditAccountId: bigint, flags = 0, pendingId = 0n, id = nextId++): TransferInput => ({
  id,
  debitAccountId,
  creditAccountId,
  amount: 1n,
  ledger: 1,
  code: 1,
  flags,
  pendingId,
});
const starts = (transfers: TransferInput[], accounts = directory(), shards = shardCount) => stageStartsOf(encodeTransfers(transfers), shards, accounts);

describe('stageStartsOf', () => {
  it('cuts before a no-overdraft payer spends what an earlier event credited it from another shard', () => {
    expect(starts([pay(a, b), pay(b, c)])).toEqual([1]);
    expect(starts([pay(a, b), pay(c, a), pay(b, c), pay(b, a)])).toEqual([2]);
    // Credited from its own shard, or able to overdraw: no cut.
    expect(starts([pay(e, b), pay(b, c)])).toEqual([]);
    expect(starts([pay(a, b), pay(b, c)], directory(new Map()))).toEqual([]);
    // One shard never cuts.
    expect(starts([pay(a, b), pay(b, c)], directory(), 1)).toEqual([]);
  });

  it('cuts before an event that names an earlier event made on another shard', () => {
    const original = pay(a, c);
    expect(starts([original, pay(c, a, TransferFlags.reversal, original.id)])).toEqual([]); // same shard
    const across = pay(a, e);
    expect(starts([across, pay(e, a, TransferFlags.reversal, across.id)])).toEqual([1]);
    const hold = pay(a, c, TransferFlags.pending);
    // The post named with b (shard 1) needs the hold's shard asked after it exists; the void, on the hold's own shard, does not.
    expect(starts([hold, pay(b, c, TransferFlags.post_pending, hold.id), pay(a, c, TransferFlags.void_pending, hold.id)])).toEqual([1]);
  });

  it('cuts before a credit to a judged account the stage touched, when either credit comes from another shard', () => {
    expect(starts([pay(e, b), pay(a, e)])).toEqual([1]);
    expect(starts([pay(a, e), pay(c, e)])).toEqual([1]);
    // From its own shard after one from elsewhere: posted there before the earlier credit lands, it would take the
    // room that credit was judged to have.
    expect(starts([pay(a, e), pay(b, e)])).toEqual([1]);
    // Both from its own shard: judged in order there.
    expect(starts([pay(b, e), pay(b, e)])).toEqual([]);
    // An account marked for the overflow rule is judged like a capped one.
    const marked = directory(new Map([[e, DirectoryMarks.creditsHigh]]));
    expect(starts([pay(a, e), pay(c, e)], marked)).toEqual([1]);
    expect(starts([pay(a, e), pay(c, b)], marked)).toEqual([]);
  });

  it('never cuts inside a linked chain; cuts around a chain whose debits span shards', () => {
    const linked = TransferFlags.linked;
    // The dependency lies inside one chain: left as it is.
    expect(starts([pay(a, b, linked), pay(b, c)])).toEqual([]);
    // The dependency reaches into a chain on one shard: the cut goes before the chain.
    expect(starts([pay(a, b), pay(e, b, linked), pay(b, c)])).toEqual([1]);
    // A chain across shards runs in its place: cut before and after it.
    expect(starts([pay(c, a), pay(a, c, linked), pay(b, c), pay(c, a)])).toEqual([1, 3]);
    expect(starts([pay(a, c, linked), pay(b, c)])).toEqual([]);
    // Chains across shards one after another share a stage: the coordinator decides them in one group, in order.
    expect(starts([pay(c, a), pay(a, c, linked), pay(b, c), pay(b, c, linked), pay(a, c), pay(c, a)])).toEqual([1, 5]);
  });

  it('leaves a request of unrelated payments whole', () => {
    const transfers = Array.from({ length: 500 }, (_, i) => pay(i % 2 === 0 ? a : c, i % 3 === 0 ? b : e));
    expect(starts(transfers, directory(new Map([[b, AccountFlags.debits_must_not_exceed_credits]])))).toEqual([]);
  });
});
