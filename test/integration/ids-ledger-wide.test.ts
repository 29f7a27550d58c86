// Issue #14: transfer ids are unique ledger-wide. The same id sent with a debit account on another shard answers
// exists_with_different_fields, as one shard answers it, and posts nothing — whether the id was posted or refused
// there, sent at the same moment, earlier in the same request, or taken before a restart (read back from the
// id index on disk). A caller cannot forge the router's mark. Account-operation ids are unique ledger-wide the same way.

import { describe, expect, it } from 'vitest';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, decodeResults, decodeTransferStates, encodeAccountOperations, encodeIds, encodeTransfers, type AccountOperationInput, type TransferInput } from '../../src/core/wire/records.js';
import { AccountFlags, TransferFlags, accountOperationIdTakenElsewhere, transferIdTakenElsewhere } from '../../src/core/types.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { fastTransit, idsOnShard, openAccounts, useShardSets } from '../support/shard-set-fixture.js';

const ledger = 1;
const two = useShardSets('tally-ids-wide-', { shardCount: 2, transit: fastTransit });
const one = useShardSets('tally-ids-one-', { shardCount: 1, transit: fastTransit });

async function results(set: ShardSet, transfers: TransferInput[]): Promise<string[]> {
  return decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(transfers))).map((r) => r.result as string);
}

async function balances(set: ShardSet, id: bigint): Promise<{ debits: bigint; credits: bigint }> {
  const [state] = decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds([id])));
  return { debits: state!.debitsPosted, credits: state!.creditsPosted };
}

/** Payers on shard 0 and shard 1, a payee, and an empty no-overdraft payer on shard 0. */
async function accounts(set: ShardSet): Promise<{ a: bigint; c: bigint; payee: bigint; poor: bigint }> {
  const [a, poor] = idsOnShard(0, 2, 10n, 2);
  const [c, payee] = idsOnShard(1, 2, 10n, 2);
  await openAccounts(set, [
    { id: a!, ledger, code: 1 },
    { id: poor!, ledger, code: 1, flags: AccountFlags.debits_must_not_exceed_credits },
    { id: c!, ledger, code: 1 },
    { id: payee!, ledger, code: 1 },
  ]);
  return { a: a!, c: c!, payee: payee!, poor: poor! };
}

const pay = (id: bigint, debitAccountId: bigint, creditAccountId: bigint, amount = 10n, flags = 0): TransferInput => ({ id, debitAccountId, creditAccountId, amount, ledger, code: 1, flags });

describe('a transfer id reused with a debit account on another shard', () => {
  it('answers exists_with_different_fields and posts nothing, whether the id was posted or refused there', async () => {
    const set = await two.start();
    const { a, c, payee, poor } = await accounts(set);
    expect(await results(set, [pay(100n, a, payee)])).toEqual(['ok']);
    expect(await results(set, [pay(100n, c, payee)])).toEqual(['exists_with_different_fields']);
    expect(await results(set, [pay(100n, a, payee)])).toEqual(['exists']); // the holder still answers its retry
    expect(await balances(set, c)).toEqual({ debits: 0n, credits: 0n });
    const [found] = decodeTransferStates(await set.execute(Operation.lookup_transfers, encodeIds([100n])));
    expect(found!.debitAccountId).toBe(a);

    // A refusal that is remembered takes the id too (one shard answers the same for it).
    expect(await results(set, [pay(101n, poor, payee)])).toEqual(['insufficient_funds']);
    expect(await results(set, [pay(101n, c, payee)])).toEqual(['exists_with_different_fields']);
    expect(await results(set, [pay(101n, poor, payee)])).toEqual(['insufficient_funds']);
    expect(await balances(set, c)).toEqual({ debits: 0n, credits: 0n });
  });

  it('posts once when both are sent at the same moment, and once when both are in one request', async () => {
    const set = await two.start();
    const { a, c, payee } = await accounts(set);
    for (let id = 200n; id < 240n; id++) {
      const answers = await Promise.all([results(set, [pay(id, a, payee)]), results(set, [pay(id, c, payee)])]);
      expect(answers.flat().sort()).toEqual(['exists_with_different_fields', 'ok']);
    }
    expect(await results(set, [pay(300n, a, payee), pay(300n, c, payee), pay(301n, c, payee)])).toEqual(['ok', 'exists_with_different_fields', 'ok']);
    const total = (await balances(set, a)).debits + (await balances(set, c)).debits;
    expect(total).toBe(41n * 10n + 10n);
  });

  it('fails the linked chain it is in, as one shard does, and still answers after a restart', async () => {
    const set = await two.start();
    const { a, c, payee } = await accounts(set);
    expect(await results(set, [pay(400n, a, payee)])).toEqual(['ok']);
    expect(await results(set, [pay(401n, c, payee, 10n, TransferFlags.linked), pay(400n, c, payee)])).toEqual(['linked_event_failed', 'exists_with_different_fields']);
    expect(await balances(set, c)).toEqual({ debits: 0n, credits: 0n });
    const restarted = await two.restart(set);
    expect(await results(restarted, [pay(400n, c, payee)])).toEqual(['exists_with_different_fields']);
    expect(await results(restarted, [pay(401n, c, payee)])).toEqual(['ok']); // the chain's refusal took no id
  });
});

describe("the router's mark", () => {
  it('cannot be sent by a caller: flags_invalid at one shard and at two', async () => {
    for (const set of [await one.start(), await two.start()]) {
      const { a, payee } = await accounts(set);
      expect(await results(set, [pay(500n, a, payee, 10n, transferIdTakenElsewhere)])).toEqual(['flags_invalid']);
      // Remembered as refused, as any flags_invalid: the id is taken by that refusal.
      expect(await results(set, [pay(500n, a, payee)])).toEqual(['exists_with_different_fields']);
      expect(await results(set, [pay(501n, a, payee)])).toEqual(['ok']);
    }
  });
});

describe('an account-operation id reused with an account on another shard (issue #14, item 17)', () => {
  const operations = async (set: ShardSet, ops: AccountOperationInput[]): Promise<string[]> =>
    decodeResults(await set.execute(Operation.account_operations, encodeAccountOperations(ops))).map((r) => r.result as string);
  const freeze = (id: bigint, accountId: bigint, amount = 5n, flags = 0): AccountOperationInput => ({ id, accountId, kind: 'freeze', amount, flags });

  it('answers exists_with_different_fields and changes nothing, also at once and after a restart', async () => {
    const set = await two.start();
    const { a, c, payee } = await accounts(set);
    // Money to freeze; a's comes from the other shard, and a freeze waits for the credits answered before it.
    expect(await results(set, [pay(600n, payee, a, 1000n), pay(601n, payee, c, 1000n)])).toEqual(['ok', 'ok']);
    expect(await operations(set, [freeze(700n, a)])).toEqual(['ok']);
    expect(await operations(set, [freeze(700n, c)])).toEqual(['exists_with_different_fields']);
    expect(await operations(set, [freeze(700n, a)])).toEqual(['exists']);
    const frozen = async (id: bigint) => decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds([id])))[0]!.frozen;
    expect(await frozen(c)).toBe(0n);
    // Sent at the same moment from the two shards: one takes the id, the other is told it is taken.
    for (let id = 710n; id < 730n; id++) {
      const answers = await Promise.all([operations(set, [freeze(id, a)]), operations(set, [freeze(id, c)])]);
      expect(answers.flat().sort()).toEqual(['exists_with_different_fields', 'ok']);
    }
    // In one request: the second is refused, as one shard refuses it.
    expect(await operations(set, [freeze(740n, c), freeze(740n, a)])).toEqual(['ok', 'exists_with_different_fields']);
    const restarted = await two.restart(set);
    expect(await operations(restarted, [freeze(700n, c)])).toEqual(['exists_with_different_fields']);
    expect(await operations(restarted, [freeze(740n, a)])).toEqual(['exists_with_different_fields']);
    // Each id froze once: 700 on a, 740 on c, and each of 710..729 on one of them.
    const states = decodeAccountStates(await restarted.execute(Operation.lookup_accounts, encodeIds([a, c])));
    expect(states[0]!.frozen + states[1]!.frozen).toBe(5n + 20n * 5n + 5n);
  });

  it("cannot carry the router's mark from a caller: flags_invalid at one shard and at two", async () => {
    for (const set of [await one.start(), await two.start()]) {
      const { a, payee } = await accounts(set);
      expect(await results(set, [pay(600n, payee, a, 1000n)])).toEqual(['ok']);
      expect(await operations(set, [freeze(800n, a, 5n, accountOperationIdTakenElsewhere)])).toEqual(['flags_invalid']);
      expect(await operations(set, [freeze(801n, a)])).toEqual(['ok']);
    }
  });
});
