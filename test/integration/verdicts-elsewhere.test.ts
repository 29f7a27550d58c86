// Issue #14: what another shard answers for an event. Items 20 and 21: a post, void, reversal or unfreeze_and_pay
// named with the wrong accounts runs on the shard of the debit account it names, and the hold, original or freeze it
// names may live on another shard. One shard finds the reference and answers accounts_mismatch (or that the hold is
// closed, the original not reversible); two shards must answer the same, not pending_not_found / original_not_found
// / freeze_not_found — for the first answer, a retry, a linked chain and after a restart. Item 4: a payee with
// credits_must_not_exceed_debits on another shard refuses a credit without room before `ok`
// (credits_exceed_debits), as one shard does, instead of taking it back as a `returned` transfer afterwards.
// A caller cannot forge the router's marks.

import { describe, expect, it } from 'vitest';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, decodeResults, decodeTransferStates, encodeAccountOperations, encodeIds, type AccountOperationInput } from '../../src/core/wire/records.js';
import { AccountFlags, TransferFlags, transferPayeeRefusesElsewhere, transferReferenceElsewhere } from '../../src/core/types.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { fastTransit, idsOnShard, onOneAndTwo, openAccounts, transferOn, transferResults, useShardSets } from '../support/shard-set-fixture.js';

const ledger = 1;
const two = useShardSets('tally-verdicts-two-', { shardCount: 2, transit: fastTransit });
const one = useShardSets('tally-verdicts-one-', { shardCount: 1, transit: fastTransit });

const pay = transferOn(ledger);

const results = transferResults;

async function operations(set: ShardSet, ops: AccountOperationInput[]): Promise<string[]> {
  return decodeResults(await set.execute(Operation.account_operations, encodeAccountOperations(ops))).map((r) => r.result as string);
}

async function balances(set: ShardSet, id: bigint): Promise<{ debits: bigint; credits: bigint; pending: bigint; frozen: bigint }> {
  const [state] = decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds([id])));
  return { debits: state!.debitsPosted, credits: state!.creditsPosted, pending: state!.debitsPending, frozen: state!.frozen };
}

/**
 * Payer `a` and its payee on shard 0, another account `c` on shard 1 (the wrong debit account), and a funding
 * account. With one shard the same ids all live together.
 */
async function accounts(set: ShardSet): Promise<{ a: bigint; payee: bigint; c: bigint; bank: bigint }> {
  const [a, payee] = idsOnShard(0, 2, 10n, 2);
  const [c, bank] = idsOnShard(1, 2, 10n, 2);
  await openAccounts(set, [a!, payee!, c!, bank!].map((id) => ({ id, ledger, code: 1 })));
  expect(await results(set, [pay(1n, bank!, a!, 1000n), pay(2n, bank!, c!, 1000n)])).toEqual(['ok', 'ok']);
  return { a: a!, payee: payee!, c: c!, bank: bank! };
}

/** The same steps on one shard and on two: every answer must be equal (and is written out for the reader). */
const onBoth = onOneAndTwo(one, two);

describe('a reference named with the accounts of another shard (issue #14, items 20 and 21)', () => {
  it('a post or void of a hold on another shard answers accounts_mismatch, then that the hold is closed', async () => {
    const answers = await onBoth(async (set, restart) => {
      const { a, payee, c } = await accounts(set);
      const out = [...(await results(set, [pay(100n, a, payee, 50n, TransferFlags.pending)]))];
      out.push(...(await results(set, [pay(101n, c, payee, 0n, TransferFlags.post_pending, 100n)])));
      out.push(...(await results(set, [pay(102n, c, payee, 0n, TransferFlags.void_pending, 100n)])));
      out.push(...(await results(set, [pay(101n, c, payee, 0n, TransferFlags.post_pending, 100n)]))); // the retry: remembered
      // The wrong post changed nothing: the hold is whole, and c moved no money.
      expect(await balances(set, a)).toMatchObject({ pending: 50n });
      expect(await balances(set, c)).toMatchObject({ debits: 0n, credits: 1000n });
      out.push(...(await results(set, [pay(103n, a, payee, 0n, TransferFlags.post_pending, 100n)])));
      out.push(...(await results(set, [pay(104n, c, payee, 0n, TransferFlags.void_pending, 100n)])));
      const restarted = await restart(set);
      out.push(...(await results(restarted, [pay(101n, c, payee, 0n, TransferFlags.post_pending, 100n)])));
      out.push(...(await results(restarted, [pay(104n, c, payee, 0n, TransferFlags.void_pending, 100n)])));
      return out;
    });
    expect(answers).toEqual(['ok', 'accounts_mismatch', 'accounts_mismatch', 'accounts_mismatch', 'ok', 'pending_already_posted', 'accounts_mismatch', 'pending_already_posted']);
  });

  it('a reversal naming the wrong accounts answers accounts_mismatch, or original_not_reversible', async () => {
    const answers = await onBoth(async (set, restart) => {
      const { a, payee, c } = await accounts(set);
      const out = [...(await results(set, [pay(200n, a, payee, 40n), pay(201n, a, payee, 40n, TransferFlags.pending)]))];
      // Right would be payee → a; c → a names the wrong payer.
      out.push(...(await results(set, [pay(202n, c, a, 5n, TransferFlags.reversal, 200n)])));
      out.push(...(await results(set, [pay(203n, c, a, 5n, TransferFlags.reversal, 201n)]))); // a hold: not reversible
      out.push(...(await results(set, [pay(204n, payee, a, 5n, TransferFlags.reversal, 200n)]))); // the right one
      expect(await balances(set, c)).toMatchObject({ debits: 0n, credits: 1000n });
      const restarted = await restart(set);
      out.push(...(await results(restarted, [pay(202n, c, a, 5n, TransferFlags.reversal, 200n)])));
      return out;
    });
    expect(answers).toEqual(['ok', 'ok', 'accounts_mismatch', 'original_not_reversible', 'ok', 'accounts_mismatch']);
  });

  it('an unfreeze_and_pay naming another account than the freeze answers accounts_mismatch', async () => {
    const answers = await onBoth(async (set) => {
      const { a, payee, c } = await accounts(set);
      const out = await operations(set, [{ id: 300n, accountId: a, kind: 'freeze', amount: 30n }]);
      out.push(...(await results(set, [pay(301n, c, payee, 0n, TransferFlags.unfreeze_and_pay, 300n)])));
      out.push(...(await results(set, [pay(302n, a, payee, 0n, TransferFlags.unfreeze_and_pay, 300n)])));
      expect(await balances(set, c)).toMatchObject({ debits: 0n, frozen: 0n });
      return out;
    });
    expect(answers).toEqual(['ok', 'accounts_mismatch', 'ok']);
  });

  it('an unfreeze naming another account than its freeze answers accounts_mismatch, also after a restart', async () => {
    const answers = await onBoth(async (set, restart) => {
      const { a, c } = await accounts(set);
      const out = await operations(set, [{ id: 350n, accountId: a, kind: 'freeze', amount: 30n }]);
      out.push(...(await operations(set, [{ id: 351n, accountId: c, kind: 'unfreeze', freezeId: 350n, amount: 0n }])));
      out.push(...(await operations(set, [{ id: 351n, accountId: c, kind: 'unfreeze', freezeId: 350n, amount: 0n }]))); // remembered
      out.push(...(await operations(set, [{ id: 352n, accountId: c, kind: 'unfreeze', freezeId: 399n, amount: 0n }]))); // no such freeze
      expect(await balances(set, a)).toMatchObject({ frozen: 30n });
      const restarted = await restart(set);
      out.push(...(await operations(restarted, [{ id: 351n, accountId: c, kind: 'unfreeze', freezeId: 350n, amount: 0n }])));
      out.push(...(await operations(restarted, [{ id: 353n, accountId: a, kind: 'unfreeze', freezeId: 350n, amount: 0n }])));
      return out;
    });
    expect(answers).toEqual(['ok', 'accounts_mismatch', 'accounts_mismatch', 'freeze_not_found', 'accounts_mismatch', 'ok']);
  });

  it('fails a linked chain at that event, as one shard does', async () => {
    const answers = await onBoth(async (set) => {
      const { a, payee, c } = await accounts(set);
      const out = [...(await results(set, [pay(400n, a, payee, 20n, TransferFlags.pending)]))];
      out.push(...(await results(set, [pay(401n, c, payee, 5n, TransferFlags.linked), pay(402n, c, payee, 0n, TransferFlags.post_pending, 400n)])));
      expect(await balances(set, c)).toMatchObject({ debits: 0n });
      return out;
    });
    expect(answers).toEqual(['ok', 'linked_event_failed', 'accounts_mismatch']);
  });

  it('keeps the failure of a chain across shards as the caller sent it: a resend answers it again', async () => {
    const answers = await onBoth(async (set, restart) => {
      const { a, payee, c } = await accounts(set);
      const out = [...(await results(set, [pay(410n, a, payee, 20n)]))];
      // The chain debits a (shard 0) and c (shard 1); its reversal of 410 names c, not the payee.
      const wrongReversal = pay(412n, c, a, 5n, TransferFlags.reversal, 410n);
      out.push(...(await results(set, [pay(411n, a, payee, 1n, TransferFlags.linked), wrongReversal])));
      out.push(...(await results(set, [wrongReversal]))); // found by differential seed 1300: exists_with_different_fields
      out.push(...(await results(await restart(set), [wrongReversal])));
      return out;
    });
    expect(answers).toEqual(['ok', 'linked_event_failed', 'accounts_mismatch', 'accounts_mismatch', 'accounts_mismatch']);
  });

  it("the router's marks cannot be sent by a caller: flags_invalid", async () => {
    await onBoth(async (set) => {
      const { a, payee } = await accounts(set);
      const out = [...(await results(set, [pay(500n, a, payee, 20n, TransferFlags.pending)]))];
      out.push(...(await results(set, [pay(501n, a, payee, 0n, TransferFlags.post_pending | transferReferenceElsewhere, 500n)])));
      out.push(...(await results(set, [pay(502n, a, payee, 5n, transferPayeeRefusesElsewhere)])));
      expect(out).toEqual(['ok', 'flags_invalid', 'flags_invalid']);
      return out;
    });
  });
});

describe('a payee on another shard with credits_must_not_exceed_debits (issue #14, item 4)', () => {
  /** `capped` on shard 1, lent 100 to `bank` (its debits: its room for credits); `a`, the payer, on shard 0. */
  async function capped(set: ShardSet): Promise<{ a: bigint; capped: bigint; bank: bigint }> {
    const [a] = idsOnShard(0, 1, 10n, 2);
    const [cappedId, bank] = idsOnShard(1, 2, 10n, 2);
    await openAccounts(set, [
      { id: a!, ledger, code: 1 },
      { id: cappedId!, ledger, code: 1, flags: AccountFlags.credits_must_not_exceed_debits },
      { id: bank!, ledger, code: 1 },
    ]);
    expect(await results(set, [pay(1n, cappedId!, bank!, 100n), pay(2n, bank!, a!, 1000n)])).toEqual(['ok', 'ok']);
    return { a: a!, capped: cappedId!, bank: bank! };
  }

  it('refuses a credit without room before ok, one request after another and within one, and returns nothing', async () => {
    const answers = await onBoth(async (set, restart) => {
      const { a, capped: payee } = await capped(set);
      const out = [...(await results(set, [pay(10n, a, payee, 60n)]))];
      out.push(...(await results(set, [pay(11n, a, payee, 50n)]))); // 60 + 50 > 100
      out.push(...(await results(set, [pay(12n, a, payee, 30n, TransferFlags.pending)]))); // a hold takes room too
      out.push(...(await results(set, [pay(13n, a, payee, 20n), pay(14n, a, payee, 10n), pay(15n, a, payee, 1n)]))); // 60 + 30 + 10 = 100
      out.push(...(await results(set, [pay(11n, a, payee, 50n)]))); // the retry: remembered
      const [state] = decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds([payee])));
      expect([state!.creditsPosted, state!.creditsPending]).toEqual([70n, 30n]);
      const statuses = decodeTransferStates(await set.execute(Operation.lookup_transfers, encodeIds([10n, 12n, 14n]))).map((t) => t.status);
      expect(statuses).toEqual(['posted', 'pending', 'posted']); // never `returned`
      const restarted = await restart(set);
      out.push(...(await results(restarted, [pay(11n, a, payee, 50n), pay(16n, a, payee, 1n)])));
      return out;
    });
    expect(answers).toEqual(['ok', 'credits_exceed_debits', 'ok', 'credits_exceed_debits', 'ok', 'credits_exceed_debits', 'credits_exceed_debits', 'credits_exceed_debits', 'credits_exceed_debits']);
  });

  it('judges a whole freeze paid to it against its room, as one shard does', async () => {
    const answers = await onBoth(async (set) => {
      const { a, capped: payee } = await capped(set);
      const out = [...(await results(set, [pay(40n, a, payee, 60n)]))];
      out.push(...(await operations(set, [{ id: 41n, accountId: a, kind: 'freeze', amount: 50n }, { id: 42n, accountId: a, kind: 'freeze', amount: 30n }])));
      out.push(...(await results(set, [pay(43n, a, payee, 0n, TransferFlags.unfreeze_and_pay, 41n)]))); // 60 + 50 > 100
      out.push(...(await results(set, [pay(44n, a, payee, 0n, TransferFlags.unfreeze_and_pay, 42n)]))); // 60 + 30 ≤ 100
      const [state] = decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds([payee])));
      expect(state!.creditsPosted).toBe(90n);
      return out;
    });
    expect(answers).toEqual(['ok', 'ok', 'ok', 'credits_exceed_debits', 'ok']);
  });

  it('judges credits sent at the same moment from both shards one after another: none comes back returned', async () => {
    const set = await two.start();
    const { a, capped: payee, bank } = await capped(set);
    // Room 100; 12 credits of 15 at once, half from a (the other shard), half from bank (the payee's own shard).
    const sends = Array.from({ length: 12 }, (_, i) => results(set, [pay(30n + BigInt(i), i % 2 === 0 ? a : bank, payee, 15n)]));
    const answers = (await Promise.all(sends)).flat();
    expect(answers.filter((r) => r === 'ok')).toHaveLength(6); // 6 × 15 = 90 ≤ 100 < 105
    expect(answers.filter((r) => r === 'credits_exceed_debits')).toHaveLength(6);
    await set.transit.idle(10_000);
    expect(set.transitStats().returned).toBe(0);
    const [state] = decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds([payee])));
    expect(state!.creditsPosted).toBe(90n);
  });

  it("answers the payer's own refusal first, as one shard checks the debit side first", async () => {
    const answers = await onBoth(async (set) => {
      const { capped: payee } = await capped(set);
      const [poor] = idsOnShard(0, 2, 500n, 2);
      await openAccounts(set, [{ id: poor!, ledger, code: 1, flags: AccountFlags.debits_must_not_exceed_credits }]);
      return results(set, [pay(20n, poor!, payee, 500n)]);
    });
    expect(answers).toEqual(['insufficient_funds']);
  });
});
