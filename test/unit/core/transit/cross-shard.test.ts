// Cross-shard transfers in the core: debit first on the payer's shard (payer → transit-out, plus a
// credit instruction), credit after on the payee's shard (transit-in → payee), exactly once and in
// order per shard pair; a refused credit comes back as a return. Driven by the in-process cluster.

import { describe, expect, test } from 'vitest';
import { shardOfId } from '../../../../src/core/routing.js';
import { SystemAccountKind, systemAccountId } from '../../../../src/core/accounts/system-accounts.js';
import { InboundStatus } from '../../../../src/core/transit/transit.js';
import { AccountFlags, AccountOperationFlags, TransferFlags } from '../../../../src/core/types.js';
import { ClusterHarness } from '../../../support/cluster-harness.js';
import { account, ledgerMain, pending, post, transfer, voidHold } from '../../../support/ledger-fixtures.js';

const shardCount = 2;

function idOnShard(shard: number, from: bigint): bigint {
  let id = from;
  while (shardOfId(id, shardCount) !== shard) id++;
  return id;
}

const bank = idOnShard(0, 1n);
const payer = idOnShard(0, bank + 1n);
const payee = idOnShard(1, 1n);
const payee2 = idOnShard(1, payee + 1n);
const transitOut = systemAccountId(SystemAccountKind.transitOut, ledgerMain, 0, 1, shardCount);
const transitIn = systemAccountId(SystemAccountKind.transitIn, ledgerMain, 0, 1, shardCount);

/** Two shards; the payer (no overdraft) holds 100 from the bank, both on shard 0; payees on shard 1. */
function world(): ClusterHarness {
  const c = new ClusterHarness(shardCount, { verifyEachWrite: true });
  expect(c.createAccounts([account(bank), account(payer, { flags: AccountFlags.debits_must_not_exceed_credits }), account(payee), account(payee2)])).toEqual([
    'ok',
    'ok',
    'ok',
    'ok',
  ]);
  expect(c.createTransfers([transfer(1n, bank, payer, 100n)])).toEqual(['ok']);
  return c;
}

function balance(c: ClusterHarness, id: bigint): bigint {
  const a = c.account(id);
  return a.creditsPosted - a.debitsPosted;
}

/** Transit-out credits minus returns, minus what the receiver took in: zero when nothing is in flight. */
function inFlight(c: ClusterHarness): bigint {
  const out = c.account(transitOut);
  const inHalf = c.shards[1]!.lookupLedgerAccounts([transitIn])[0];
  return out.creditsPosted - out.debitsPosted - ((inHalf?.debitsPosted ?? 0n) - (inHalf?.creditsPosted ?? 0n));
}

/** A payment to a payee closed meanwhile, whose payer closed too: its return lands in shard 0's suspense account (5). */
function returnedToSuspense(): { c: ClusterHarness; spender: bigint; suspense: bigint } {
  const c = world();
  const spender = idOnShard(0, payer + 1n);
  expect(c.createAccounts([account(spender)])).toEqual(['ok']);
  expect(c.createTransfers([transfer(9n, bank, spender, 5n)])).toEqual(['ok']);
  expect(c.accountOperations([{ id: 500n, accountId: payee, kind: 'close' }])).toEqual(['ok']);
  expect(c.createTransfers([transfer(10n, spender, payee, 5n)])).toEqual(['ok']);
  expect(c.accountOperations([{ id: 501n, accountId: spender, kind: 'close' }])).toEqual(['ok']);
  c.settle();
  return { c, spender, suspense: systemAccountId(SystemAccountKind.suspense, ledgerMain, 0, 0, shardCount) };
}

describe('cross-shard transfers', () => {
  test('debit first, reply, then the credit: the money is in transit in between', () => {
    const c = world();
    expect(c.createTransfers([transfer(10n, payer, payee, 30n)])).toEqual(['ok']);
    expect(balance(c, payer)).toBe(70n);
    expect(balance(c, payee)).toBe(0n);
    expect(inFlight(c)).toBe(30n);
    c.settle();
    expect(balance(c, payee)).toBe(30n);
    expect(inFlight(c)).toBe(0n);
    expect(c.transfer(10n, payer)).toMatchObject({ status: 'posted', amount: 30n, creditAccountId: payee });
    const line = c.shards[1]!.history({ accountId: payee });
    expect(line.map((e) => [e.transfer.id, e.transfer.debitAccountId, e.balanceAfter.creditsPosted])).toEqual([[10n, payer, 30n]]);
    c.restart(0);
    c.restart(1);
  });

  test('insufficient funds is decided on the payer shard and nothing is sent', () => {
    const c = world();
    expect(c.createTransfers([transfer(10n, payer, payee, 101n)])).toEqual(['insufficient_funds']);
    c.collect();
    expect(c.queued).toBe(0);
  });

  test('a credit the payee cannot take comes back to the payer, and the transfer says why', () => {
    const c = world();
    expect(c.accountOperations([{ id: 500n, accountId: payee, kind: 'block', flags: AccountOperationFlags.credits }])).toEqual(['ok']);
    expect(c.createTransfers([transfer(10n, payer, payee, 30n)])).toEqual(['ok']);
    expect(balance(c, payer)).toBe(70n);
    c.settle();
    expect(balance(c, payer)).toBe(100n);
    expect(balance(c, payee)).toBe(0n);
    expect(inFlight(c)).toBe(0n);
    expect(c.transfer(10n, payer)).toMatchObject({ status: 'returned', returnReason: 'account_blocked' });
    const payerLines = c.shards[0]!.history({ accountId: payer }).map((e) => [e.transfer.id, e.transfer.flags, e.transfer.creditAccountId]);
    expect(payerLines).toEqual([
      [1n, 0, payer],
      [10n, 0, payee],
      [10n, TransferFlags.reversal, payer],
    ]);
    // Money that came back cannot be reversed again: the payer's shard holds the original, returned, and says so to the
    // payee's shard, which holds nothing of it (core/posting/verdicts-elsewhere.ts).
    expect(c.createTransfers([transfer(11n, payee, payer, 30n, { flags: TransferFlags.reversal, pendingId: 10n })])).toEqual(['original_not_reversible']);
    c.restart(0);
    c.restart(1);
  });

  test('a return to a payer that was closed meanwhile lands in the suspense account', () => {
    const { c, spender, suspense } = returnedToSuspense();
    expect(balance(c, suspense)).toBe(5n);
    expect(balance(c, spender)).toBe(0n);
    expect(c.transfer(10n, spender)).toMatchObject({ status: 'returned', returnReason: 'account_closed' });
    expect(inFlight(c)).toBe(0n);
    c.restart(0);
  });

  test('a suspense account pays out what it holds, never more (it is no-overdraft: debiting it cannot make money)', () => {
    const c = world();
    expect(c.accountOperations([{ id: 500n, accountId: payee, kind: 'block', flags: AccountOperationFlags.credits }])).toEqual(['ok']);
    expect(c.accountOperations([{ id: 501n, accountId: payer, kind: 'block', flags: AccountOperationFlags.credits }])).toEqual(['ok']);
    expect(c.createTransfers([transfer(10n, payer, payee, 5n)])).toEqual(['ok']);
    c.settle();
    const suspense = systemAccountId(SystemAccountKind.suspense, ledgerMain, 0, 0, shardCount);
    expect(c.account(suspense).flags).toBe(AccountFlags.debits_must_not_exceed_credits);
    expect(c.createTransfers([transfer(20n, suspense, bank, 6n)])).toEqual(['insufficient_funds']);
    expect(c.createTransfers([transfer(21n, suspense, bank, 5n)])).toEqual(['ok']);
    expect(balance(c, suspense)).toBe(0n);
    c.restart(0);
    expect(balance(c, suspense)).toBe(0n);
  });

  test('several returns diverted to suspense replay the same way (the journal copy names the suspense account)', () => {
    const c = world();
    expect(c.accountOperations([{ id: 500n, accountId: payee, kind: 'block', flags: AccountOperationFlags.credits }])).toEqual(['ok']);
    expect(c.accountOperations([{ id: 501n, accountId: payer, kind: 'block', flags: AccountOperationFlags.credits }])).toEqual(['ok']);
    expect(c.createTransfers([transfer(10n, payer, payee, 5n), transfer(11n, payer, payee, 6n)])).toEqual(['ok', 'ok']);
    c.settle();
    const suspense = systemAccountId(SystemAccountKind.suspense, ledgerMain, 0, 0, shardCount);
    expect(balance(c, suspense)).toBe(11n);
    c.restart(0);
    expect(balance(c, suspense)).toBe(11n);
  });

  test('instructions apply exactly once and in order: duplicates are skipped, a gap stops its pair', () => {
    const c = world();
    expect(c.createTransfers([transfer(10n, payer, payee, 1n), transfer(11n, payer, payee, 2n), transfer(12n, payer, payee2, 3n)])).toEqual(['ok', 'ok', 'ok']);
    const [batch] = c.shards[0]!.outbound;
    const one = (k: number) => batch!.slice(k * 144, (k + 1) * 144);
    expect([...c.shards[1]!.applyInbound(one(1))]).toEqual([InboundStatus.gap]);
    expect([...c.shards[1]!.applyInbound(batch!)]).toEqual([InboundStatus.applied, InboundStatus.applied, InboundStatus.applied]);
    expect([...c.shards[1]!.applyInbound(batch!)]).toEqual([InboundStatus.duplicate, InboundStatus.duplicate, InboundStatus.duplicate]);
    expect(balance(c, payee)).toBe(3n);
    expect(balance(c, payee2)).toBe(3n);
    c.shards[0]!.outbound = [];
    c.reconcile();
    c.settle();
    expect(balance(c, payee)).toBe(3n);
    expect(inFlight(c)).toBe(0n);
  });

  test('a relay that forgets its queues and shards that restart still deliver everything once', () => {
    const c = world();
    expect(c.createTransfers([transfer(10n, payer, payee, 1n), transfer(11n, payer, payee, 2n)])).toEqual(['ok', 'ok']);
    c.loseRelay();
    c.restart(0);
    expect(c.createTransfers([transfer(12n, payer, payee, 4n)])).toEqual(['ok']);
    c.restart(0); // the reply carrying #3 is lost with the worker
    c.deliver(1);
    c.restart(1);
    c.settle();
    expect(balance(c, payee)).toBe(7n);
    expect(inFlight(c)).toBe(0n);
  });

  test('two-phase across shards: the hold shows on the payee as on one shard, the post moves it, the void takes it off', () => {
    const c = world();
    expect(
      c.createTransfers([transfer(10n, payer, payee, 40n, { flags: TransferFlags.pending }), transfer(11n, payer, payee, 20n, { flags: TransferFlags.pending })]),
    ).toEqual(['ok', 'ok']);
    expect(c.account(payer)).toMatchObject({ debitsPending: 60n });
    expect(c.account(transitOut)).toMatchObject({ creditsPending: 60n });
    c.settle();
    // The payee shows both holds; its shard's transit-in half carries them (pending debits = pending credits there).
    expect(c.account(payee)).toMatchObject({ creditsPending: 60n, creditsPosted: 0n });
    expect(c.shards[1]!.lookupLedgerAccounts([transitIn])[0]).toMatchObject({ debitsPending: 60n, debitsPosted: 0n });
    expect(c.shards[1]!.history({ accountId: payee }).map((e) => [e.transfer.id, e.balanceAfter.creditsPending])).toEqual([
      [10n, 40n],
      [11n, 60n],
    ]);
    c.restart(1); // the shown holds replay
    expect(c.account(payee)).toMatchObject({ creditsPending: 60n });
    expect(
      c.createTransfers([
        transfer(12n, payer, payee, 25n, { flags: TransferFlags.post_pending, pendingId: 10n }),
        transfer(13n, payer, payee, 0n, { flags: TransferFlags.void_pending, pendingId: 11n }),
      ]),
    ).toEqual(['ok', 'ok']);
    c.settle();
    expect(balance(c, payer)).toBe(75n);
    expect(balance(c, payee)).toBe(25n);
    expect(c.account(payer)).toMatchObject({ debitsPending: 0n });
    expect(c.account(payee)).toMatchObject({ creditsPending: 0n, creditsPosted: 25n });
    expect(c.shards[1]!.lookupLedgerAccounts([transitIn])[0]).toMatchObject({ debitsPending: 0n, debitsPosted: 25n });
    // The post and the void are in the payee's history with its balances after them, as on one shard.
    expect(c.shards[1]!.history({ accountId: payee }).map((e) => [e.transfer.id, e.balanceAfter.creditsPending, e.balanceAfter.creditsPosted])).toEqual([
      [10n, 40n, 0n],
      [11n, 60n, 0n],
      [12n, 20n, 25n],
      [13n, 0n, 25n],
    ]);
    expect(inFlight(c)).toBe(0n);
    c.restart(0);
    c.restart(1);
  });

  test('a cross-shard hold that expires is taken off its payee too, and never shows in its history', () => {
    const c = world();
    expect(c.createTransfers([pending(10n, payer, payee, 40n, 5)])).toEqual(['ok']);
    c.settle();
    expect(c.account(payee)).toMatchObject({ creditsPending: 40n });
    c.shards[1]!.checkpoint(); // the shown hold is in the checkpoint, and comes back from it
    c.restart(1);
    expect(c.account(payee)).toMatchObject({ creditsPending: 40n });
    for (const shard of c.shards) shard.advanceSeconds(6);
    expect(c.shards[0]!.expireDue()).toBe(true);
    c.settle();
    expect(c.account(payer)).toMatchObject({ debitsPending: 0n });
    expect(c.account(payee)).toMatchObject({ creditsPending: 0n, creditsPosted: 0n });
    expect(c.shards[1]!.lookupLedgerAccounts([transitIn])[0]).toMatchObject({ debitsPending: 0n });
    expect(c.shards[1]!.history({ accountId: payee }).map((e) => e.transfer.id)).toEqual([10n]);
    expect(c.createTransfers([post(11n, pending(10n, payer, payee, 40n, 5))])).toEqual(['pending_expired']);
    c.restart(0);
    c.restart(1);
    expect(c.account(payee)).toMatchObject({ creditsPending: 0n });
  });

  test('a hold expiring on a same-shard system account (a suspense account a caller named) sends nothing anywhere', () => {
    // The return opened shard 0's suspense account; a caller may name it (only transit accounts are refused).
    const { c, suspense } = returnedToSuspense();
    expect(c.createTransfers([pending(20n, bank, suspense, 3n, 5)])).toEqual(['ok']);
    for (const shard of c.shards) shard.advanceSeconds(6);
    expect(c.shards[0]!.expireDue()).toBe(true);
    c.collect();
    expect(c.queued).toBe(0);
    expect(c.account(suspense)).toMatchObject({ creditsPending: 0n, creditsPosted: 5n });
    c.restart(0);
  });

  test('a payee with a shown hold cannot close, and a reversal naming the hold finds it not reversible, as on one shard', () => {
    const c = world();
    const hold = pending(10n, payer, payee, 40n);
    expect(c.createTransfers([hold])).toEqual(['ok']);
    c.settle();
    expect(c.accountOperations([{ id: 500n, accountId: payee, kind: 'close' }])).toEqual(['close_refused:pending_balance']);
    expect(c.createTransfers([transfer(11n, payee, payer, 1n, { flags: TransferFlags.reversal, pendingId: 10n })])).toEqual(['original_not_reversible']);
    expect(c.createTransfers([voidHold(12n, hold)])).toEqual(['ok']);
    c.settle();
    expect(c.accountOperations([{ id: 501n, accountId: payee, kind: 'close' }])).toEqual(['ok']);
  });

  test('a hold the payee refuses on arrival is not shown, and its post lands as a plain credit would', () => {
    const c = world();
    const capped = idOnShard(1, payee2 + 1n);
    expect(c.createAccounts([account(capped, { flags: AccountFlags.credits_must_not_exceed_debits })])).toEqual(['ok']);
    // The credit limit is the payee's balance rule the payer's shard cannot see (issue #14, item 4): refused on arrival.
    const hold = pending(10n, payer, capped, 40n);
    expect(c.createTransfers([hold])).toEqual(['ok']);
    c.settle();
    expect(c.account(capped)).toMatchObject({ creditsPending: 0n });
    expect(c.shards[1]!.lookupLedgerAccounts([transitIn])[0]?.debitsPending ?? 0n).toBe(0n);
    expect(c.createTransfers([post(11n, hold)])).toEqual(['ok']);
    c.settle();
    // Refused again on arrival, so it comes back (the legacy safety net, counted): the payer has its money.
    expect(c.transfer(11n, payer)).toMatchObject({ status: 'returned' });
    expect(balance(c, payer)).toBe(100n);
    expect(inFlight(c)).toBe(0n);
  });

  test('a post or void of a cross-shard hold naming another payee on the payee\'s shard is refused accounts_mismatch', () => {
    const c = world();
    const hold = pending(10n, payer, payee, 40n);
    expect(c.createTransfers([hold])).toEqual(['ok']);
    // payee2 lives on the payee's shard too: both resolve to the same transit account on the payer's shard.
    const elsewhere = { ...hold, creditAccountId: payee2 };
    expect(c.createTransfers([post(12n, elsewhere), voidHold(13n, elsewhere)])).toEqual(['accounts_mismatch', 'accounts_mismatch']);
    c.settle();
    expect(balance(c, payee2)).toBe(0n);
    expect(c.account(payer)).toMatchObject({ debitsPending: 40n });
    // The hold's own payee still posts it; a hold and its post in one request are checked the same way.
    expect(c.createTransfers([post(14n, hold)])).toEqual(['ok']);
    const second = pending(20n, payer, payee, 5n);
    expect(c.createTransfers([second, post(21n, { ...second, creditAccountId: payee2 }), post(22n, second)])).toEqual(['ok', 'accounts_mismatch', 'ok']);
    c.settle();
    expect(balance(c, payee)).toBe(45n);
    expect(balance(c, payee2)).toBe(0n);
    expect(inFlight(c)).toBe(0n);
  });

  test('a reversal of a cross-shard transfer runs on the payee shard and shows on the original', () => {
    const c = world();
    expect(c.createTransfers([transfer(10n, payer, payee, 30n)])).toEqual(['ok']);
    c.settle();
    const reversal = (id: bigint, amount: bigint) => transfer(id, payee, payer, amount, { flags: TransferFlags.reversal, pendingId: 10n });
    expect(c.createTransfers([reversal(20n, 10n), reversal(21n, 25n)])).toEqual(['ok', 'reversal_exceeds_remaining']);
    c.settle();
    expect(balance(c, payer)).toBe(80n);
    expect(balance(c, payee)).toBe(20n);
    expect(c.transfer(10n, payer)).toMatchObject({ status: 'posted', amountReversed: 10n });
    c.restart(0);
    c.restart(1);
  });

  test('a cross-shard reversal that comes back gives the original its reversible amount again', () => {
    const c = world();
    expect(c.createTransfers([transfer(10n, payer, payee, 30n)])).toEqual(['ok']);
    c.settle();
    expect(c.accountOperations([{ id: 500n, accountId: payer, kind: 'block', flags: AccountOperationFlags.credits }])).toEqual(['ok']);
    const reversal = (id: bigint) => transfer(id, payee, payer, 30n, { flags: TransferFlags.reversal, pendingId: 10n });
    expect(c.createTransfers([reversal(20n)])).toEqual(['ok']);
    c.settle();
    expect(c.shards[1]!.transfer(20n)).toMatchObject({ status: 'returned', returnReason: 'account_blocked' });
    expect(balance(c, payee)).toBe(30n);
    expect(c.accountOperations([{ id: 501n, accountId: payer, kind: 'unblock', flags: AccountOperationFlags.credits }])).toEqual(['ok']);
    expect(c.createTransfers([reversal(21n)])).toEqual(['ok']);
    c.settle();
    expect(balance(c, payer)).toBe(100n);
    expect(balance(c, payee)).toBe(0n);
    expect(inFlight(c)).toBe(0n);
    c.restart(1);
  });

  test('a linked chain on one payer shard crediting two shards applies all or nothing, instructions included', () => {
    const c = world();
    const linked = { flags: TransferFlags.linked };
    expect(c.createTransfers([transfer(10n, payer, payee, 60n, linked), transfer(11n, payer, bank, 50n)])).toEqual(['linked_event_failed', 'insufficient_funds']);
    c.collect();
    expect(c.queued).toBe(0);
    expect(c.createTransfers([transfer(12n, payer, payee, 60n, linked), transfer(13n, payer, bank, 40n)])).toEqual(['ok', 'ok']);
    c.settle();
    expect(balance(c, payee)).toBe(60n);
    expect(balance(c, payer)).toBe(0n);
  });

  test('system accounts: reserved ids cannot be created or named in transfers, yet can be looked up', () => {
    const c = world();
    expect(c.createAccounts([account(transitIn)])).toEqual(['id_invalid']);
    expect(c.createTransfers([transfer(10n, transitOut, payer, 1n)])).toEqual(['account_id_invalid']);
    expect(c.createTransfers([transfer(11n, payer, payee, 1n)])).toEqual(['ok']);
    c.settle();
    expect(c.account(transitOut)).toMatchObject({ code: 9100, creditsPosted: 1n });
    expect(c.shards[1]!.account(transitIn)).toMatchObject({ code: 9100, debitsPosted: 1n });
  });
});
