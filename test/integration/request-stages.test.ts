// Issue #14, item 11 inside one request (and items 12, 13): one shard applies a request's events in index order, so a
// later event sees an earlier one's credit, hold or transfer. Across shards the router runs such a request in stages
// (core/wire/request-stages.ts). Every scenario runs on one shard and on two and must answer the same, balances
// included; each fails without the stages (two shards answered insufficient_funds, original_not_found,
// pending_not_found or credits_exceed_debits, or ran a cross-shard chain after the events behind it).

import { describe, expect, it } from 'vitest';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, encodeIds, encodeTransfers, type TransferInput } from '../../src/core/wire/records.js';
import { requestStagesMax } from '../../src/core/limits.js';
import { AccountFlags, TransferFlags } from '../../src/core/types.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { fastTransit, idsOnShard, onOneAndTwo, openAccounts, transferOn, transferResults, useShardSets } from '../support/shard-set-fixture.js';

const ledger = 1;
const two = useShardSets('tally-stages-two-', { shardCount: 2, transit: fastTransit });
const one = useShardSets('tally-stages-one-', { shardCount: 1, transit: fastTransit });

const pay = transferOn(ledger);
const linked = (transfer: TransferInput): TransferInput => ({ ...transfer, flags: (transfer.flags ?? 0) | TransferFlags.linked });

const results = transferResults;

async function net(set: ShardSet, id: bigint): Promise<{ debits: bigint; credits: bigint; pendingDebits: bigint }> {
  const [state] = decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds([id])));
  return { debits: state!.debitsPosted, credits: state!.creditsPosted, pendingDebits: state!.debitsPending };
}

/**
 * On shard 0: a funded payer `a`, a second funded payer `d`, an account `c`. On shard 1: `b`, no-overdraft and empty,
 * `e` funded, and `capped` with credits_must_not_exceed_debits. `bank` funds them. One shard holds them all.
 */
async function accounts(set: ShardSet) {
  const [a, d, c, bank] = idsOnShard(0, 4, 10n, 2);
  const [b, e, capped, f] = idsOnShard(1, 4, 10n, 2);
  await openAccounts(set, [
    ...[a!, d!, c!, bank!, e!, f!].map((id) => ({ id, ledger, code: 1 })),
    { id: b!, ledger, code: 1, flags: AccountFlags.debits_must_not_exceed_credits },
    { id: capped!, ledger, code: 1, flags: AccountFlags.credits_must_not_exceed_debits },
  ]);
  expect(await results(set, [pay(1n, bank!, a!, 1000n), pay(2n, bank!, d!, 1000n), pay(3n, bank!, e!, 1000n)])).toEqual(['ok', 'ok', 'ok']);
  return { a: a!, b: b!, c: c!, d: d!, e: e!, f: f!, capped: capped! };
}

/** The same steps on one shard and on two: every answer must be equal (and is written out for the reader). */
const onBoth = onOneAndTwo(one, two);

describe('a request whose later events need its earlier ones, across shards (issue #14, items 11, 12 and 13)', () => {
  it('a no-overdraft account pays on what the same request credited it from another shard', async () => {
    const answers = await onBoth(async (set, restart) => {
      const { a, b, c } = await accounts(set);
      const out: unknown[] = [await results(set, [pay(100n, a, b, 30n), pay(101n, b, c, 30n), pay(102n, b, c, 1n)])];
      out.push(await net(set, b), await net(set, c));
      // The retry answers as one shard's does (exists), after a restart too; nothing moves twice.
      out.push(await results(set, [pay(100n, a, b, 30n), pay(101n, b, c, 30n), pay(102n, b, c, 1n)]));
      const restarted = await restart(set);
      out.push(await results(restarted, [pay(100n, a, b, 30n), pay(101n, b, c, 30n), pay(102n, b, c, 1n)]));
      out.push(await net(restarted, b));
      return out;
    });
    expect(answers).toEqual([
      ['ok', 'ok', 'insufficient_funds'],
      { debits: 30n, credits: 30n, pendingDebits: 0n },
      { debits: 0n, credits: 30n, pendingDebits: 0n },
      ['exists', 'exists', 'insufficient_funds'],
      ['exists', 'exists', 'insufficient_funds'],
      { debits: 30n, credits: 30n, pendingDebits: 0n },
    ]);
  });

  it('a reversal, and a hold named with the wrong accounts, of a transfer earlier in the request', async () => {
    const answers = await onBoth(async (set) => {
      const { a, b, c, e } = await accounts(set);
      const out: unknown[] = [await results(set, [pay(200n, a, b, 40n), pay(201n, b, a, 15n, TransferFlags.reversal, 200n)])];
      out.push(await net(set, b));
      // The hold lives on a's shard; the post names e (another shard's account): one shard says accounts_mismatch.
      out.push(await results(set, [pay(210n, a, c, 50n, TransferFlags.pending), pay(211n, e, c, 0n, TransferFlags.post_pending, 210n), pay(212n, a, c, 0n, TransferFlags.post_pending, 210n)]));
      out.push(await net(set, a), await net(set, e));
      return out;
    });
    expect(answers).toEqual([
      ['ok', 'ok'],
      { debits: 15n, credits: 40n, pendingDebits: 0n },
      ['ok', 'accounts_mismatch', 'ok'],
      { debits: 40n + 50n, credits: 1000n + 15n, pendingDebits: 0n },
      { debits: 0n, credits: 1000n, pendingDebits: 0n },
    ]);
  });

  it('a capped payee takes a credit the same request made room for', async () => {
    const answers = await onBoth(async (set) => {
      const { a, b, capped, f } = await accounts(set);
      // capped pays 25 (room 25), then a pays it 20 and 10 from another shard: 20 fits, 10 does not.
      const out: unknown[] = [await results(set, [pay(300n, capped, f, 25n), pay(301n, a, capped, 20n), pay(302n, a, capped, 10n)])];
      // A credit its payer refuses (b is empty) leaves the room to the next one: 5 fits.
      out.push(await results(set, [pay(310n, b, capped, 5n), pay(311n, a, capped, 5n)]));
      // Inside one linked chain (no stage can cut it): capped pays 7, then a pays it 7 from the other shard.
      out.push(await results(set, [linked(pay(320n, capped, f, 7n)), pay(321n, a, capped, 7n)]));
      out.push(await net(set, capped));
      return out;
    });
    expect(answers).toEqual([['ok', 'ok', 'credits_exceed_debits'], ['insufficient_funds', 'ok'], ['ok', 'ok'], { debits: 32n, credits: 32n, pendingDebits: 0n }]);
  });

  it('a request of many stages holds no other request back', async () => {
    const set = await two.start();
    const { a, b, c, d } = await accounts(set);
    // b is empty: each payment from b needs the credit just before it, so each is a stage of its own.
    const staged = Array.from({ length: 20 }, (_, k) => [pay(600n + 2n * BigInt(k), a, b, 1n), pay(601n + 2n * BigInt(k), b, c, 1n)]).flat();
    let stagedDone = false;
    const long = results(set, staged).finally(() => (stagedDone = true));
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(await results(set, [pay(700n, d, c, 1n)])).toEqual(['ok']);
    // Held behind all 20 stages it would be answered with the last of them; it is answered with the second or so.
    expect(stagedDone).toBe(false);
    expect((await long).every((r) => r === 'ok')).toBe(true);
    expect(await net(set, b)).toEqual({ debits: 20n, credits: 20n, pendingDebits: 0n });
  });

  it('a request that would need more than requestStagesMax stages is refused whole, nothing applied', async () => {
    const set = await two.start();
    const { a, b, c } = await accounts(set);
    // Each payment from b (empty, no-overdraft) starts a stage: requestStagesMax + 2 stages in all.
    const staged = Array.from({ length: requestStagesMax + 1 }, (_, k) => [pay(800n + 2n * BigInt(k), a, b, 1n), pay(801n + 2n * BigInt(k), b, c, 1n)]).flat();
    await expect(set.execute(Operation.create_transfers, encodeTransfers(staged))).rejects.toThrow(/body_invalid.*stages.*split it/);
    expect(await net(set, b)).toEqual({ debits: 0n, credits: 0n, pendingDebits: 0n });
    // Within the bound it runs (and answers as one shard).
    expect((await results(set, staged.slice(0, 2 * 10))).every((r) => r === 'ok')).toBe(true);
  });

  it('a chain left open whose last event lives on another shard answers as one shard: the failing event, kept by id', async () => {
    const answers = await onBoth(async (set) => {
      const { a, b, c, d } = await accounts(set);
      // The last event's account (b) lives on shard 1, the others' on shard 0; the first pays an account never opened.
      const open = [linked(pay(500n, a, 424_242n, 5n)), linked(pay(501n, d, c, 1n)), linked(pay(502n, b, c, 1n))];
      const out: unknown[] = [await results(set, open)];
      out.push(await results(set, open)); // resent: the failure was kept by id
      out.push(await results(set, [linked(pay(510n, a, c, 5n)), linked(pay(511n, b, c, 1n))])); // nothing fails: left open
      out.push(await results(set, [pay(510n, a, c, 5n)])); // nothing was kept of it
      out.push(await net(set, c));
      return out;
    });
    expect(answers).toEqual([
      ['account_not_found', 'linked_event_failed', 'linked_event_failed'],
      ['account_not_found', 'linked_event_failed', 'linked_event_failed'],
      ['linked_event_failed', 'linked_event_chain_open'],
      ['ok'],
      { debits: 0n, credits: 5n, pendingDebits: 0n },
    ]);
  });

  it('a chain left open whose applied events span shards is decided by votes, as one shard decides it', async () => {
    const answers = await onBoth(async (set) => {
      const { a, c, d, e } = await accounts(set);
      // a and d on shard 0, e on shard 1: the events before the last span shards.
      const failing = [linked(pay(520n, a, 424_242n, 5n)), linked(pay(521n, e, c, 1n)), linked(pay(522n, d, c, 1n))];
      const out: unknown[] = [await results(set, failing), await results(set, failing)];
      const passing = [linked(pay(530n, a, c, 5n)), linked(pay(531n, e, c, 1n)), linked(pay(532n, d, c, 1n))];
      out.push(await results(set, passing));
      out.push(await results(set, [pay(530n, a, c, 5n), pay(531n, e, c, 1n)])); // nothing of it was kept or applied
      out.push(await net(set, c));
      return out;
    });
    expect(answers).toEqual([
      ['account_not_found', 'linked_event_failed', 'linked_event_failed'],
      ['account_not_found', 'linked_event_failed', 'linked_event_failed'],
      ['linked_event_failed', 'linked_event_failed', 'linked_event_chain_open'],
      ['ok', 'ok'],
      { debits: 0n, credits: 6n, pendingDebits: 0n },
    ]);
  });

  it('a linked chain across shards runs in its place among the other events', async () => {
    const answers = await onBoth(async (set) => {
      const { a, b, c, d, e } = await accounts(set);
      // Before the chain: a credits b, which the chain (debiting b and d: two shards) then spends.
      const out: unknown[] = [await results(set, [pay(400n, a, b, 20n), linked(pay(401n, b, c, 20n)), pay(402n, d, c, 1n)])];
      // After the chain: the chain credits b, which the next event spends.
      out.push(await results(set, [linked(pay(410n, a, b, 5n)), pay(411n, e, c, 1n), pay(412n, b, c, 5n)]));
      out.push(await net(set, b), await net(set, c));
      return out;
    });
    expect(answers).toEqual([
      ['ok', 'ok', 'ok'],
      ['ok', 'ok', 'ok'],
      { debits: 25n, credits: 25n, pendingDebits: 0n },
      { debits: 0n, credits: 27n, pendingDebits: 0n },
    ]);
  });
  it('a linked chain spends, in a later event, what an earlier one credited from another shard (item 14)', async () => {
    const answers = await onBoth(async (set, restart) => {
      const { a, b, c, e, capped } = await accounts(set);
      const out: unknown[] = [];
      // b (shard 1, no overdraft, empty) is paid by a (shard 0) and pays c (shard 0) in the same chain; e's payment
      // makes the chain's debits span shards. Read at once: the credit landed with the commit.
      const chain = [linked(pay(300n, a, b, 40n)), linked(pay(301n, b, c, 40n)), pay(302n, e, c, 1n)];
      out.push(await results(set, chain), await net(set, b), await net(set, c));
      // Beyond the credit: refused where one shard refuses, nothing moved; and again after a restart.
      const over = [linked(pay(310n, a, b, 10n)), linked(pay(311n, b, c, 11n)), pay(312n, e, c, 1n)];
      out.push(await results(set, over), await net(set, a), await net(set, b));
      // A capped payee judges the chain's own credits: 25 of debits, two credits of 20.
      out.push(await results(set, [pay(320n, capped, c, 25n)]));
      out.push(await results(set, [linked(pay(321n, a, capped, 20n)), linked(pay(322n, e, capped, 20n)), pay(323n, e, c, 1n)]));
      out.push(await net(set, capped));
      const restarted = await restart(set);
      out.push(await results(restarted, chain), await results(restarted, over), await net(restarted, b), await net(restarted, capped));
      return out;
    });
    expect(answers[0]).toEqual(['ok', 'ok', 'ok']);
    expect(answers[3]).toEqual(['linked_event_failed', 'insufficient_funds', 'linked_event_failed']);
    expect(answers[7]).toEqual(['linked_event_failed', 'credits_exceed_debits', 'linked_event_failed']);
  });
});
