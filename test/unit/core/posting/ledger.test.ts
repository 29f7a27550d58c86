// The Ledger as a whole: idempotency, linked chains, timestamps, recovery by replay, shard
// ownership and the operating errors of execute. Transfers, account operations, history and
// validation have their own spec files beside this one.

import { describe, expect, test } from 'vitest';
import { TallyError } from '../../../../src/core/errors.js';
import { batchEventsMax, recentEntriesMax } from '../../../../src/core/limits.js';
import { Operation } from '../../../../src/core/operations.js';
import { encodeTransfers } from '../../../../src/core/wire/records.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { AccountFlags } from '../../../../src/core/types.js';
import {
  account,
  aliceFunds,
  block,
  close,
  freeze,
  ids,
  ledgerMain,
  linked,
  pending,
  post,
  reversal,
  standardWorld,
  transfer,
  unfreeze,
} from '../../../support/ledger-fixtures.js';
import { LedgerHarness, nsPerSecond } from '../../../support/ledger-harness.js';

const { bank, alice, bob, merchant, empty } = ids;

function newWorld(): LedgerHarness {
  const h = new LedgerHarness();
  standardWorld(h);
  return h;
}

describe('idempotency', () => {
  const payment = transfer(100n, alice, bob, 30n, { userData128: 5n, userData64: 6n, userData32: 7 });

  test('the same transfer twice is applied once; the retry answers exists', () => {
    const h = newWorld();
    expect(h.createTransfers([payment])).toEqual(['ok']);
    expect(h.createTransfers([payment])).toEqual(['exists']);
    expect(h.createTransfers([payment, payment])).toEqual(['exists', 'exists']);
    expect(h.account(alice).debitsPosted).toBe(30n);
    expect(h.history({ accountId: alice })).toHaveLength(2);
  });

  test.each([
    ['amount', { amount: 31n }],
    ['debit account', { debitAccountId: merchant }],
    ['credit account', { creditAccountId: merchant }],
    ['userData128', { userData128: 1n }],
    ['userData64', { userData64: 1n }],
    ['userData32', { userData32: 1 }],
    ['code', { code: 11 }],
    ['ledger', { ledger: 2 }],
  ])('the same id with another %s answers exists_with_different_fields', (_field, change) => {
    const h = newWorld();
    h.createTransfers([payment]);
    expect(h.createTransfers([{ ...payment, ...change }])).toEqual(['exists_with_different_fields']);
    expect(h.account(alice).debitsPosted).toBe(30n);
  });

  test('the same id with other flags outside a chain answers exists_with_different_fields', () => {
    const h = newWorld();
    h.createTransfers([payment]);
    expect(h.createTransfers([linked({ ...payment }), transfer(101n, alice, bob, 1n)])).toEqual(['exists_with_different_fields', 'linked_event_failed']);
  });

  test('a failed id retried answers its original failure, never a late success, even after a restart', () => {
    const h = newWorld();
    const tooMuch = transfer(100n, alice, bob, aliceFunds + 1n);
    expect(h.createTransfers([tooMuch])).toEqual(['insufficient_funds']);
    h.createTransfers([transfer(101n, bank, alice, 1000n)]); // the reason for the failure is gone
    expect(h.createTransfers([tooMuch])).toEqual(['insufficient_funds']);
    h.restart();
    expect(h.createTransfers([tooMuch])).toEqual(['insufficient_funds']);
    expect(h.createTransfers([{ ...tooMuch, amount: 1n }])).toEqual(['exists_with_different_fields']);
    expect(h.lookupTransfers([100n])).toEqual([]);
  });

  test('within one batch too: a retry after a failure fails the same way, a retry after a success exists', () => {
    const h = newWorld();
    const tooMuch = transfer(100n, alice, bob, aliceFunds + 1n);
    const fine = transfer(101n, alice, bob, 1n);
    // The funding between the two attempts would make the second one succeed if it were new.
    expect(h.createTransfers([tooMuch, transfer(102n, bank, alice, 1000n), tooMuch, fine, fine])).toEqual([
      'insufficient_funds',
      'ok',
      'insufficient_funds',
      'ok',
      'exists',
    ]);
  });

  test('a failed account id is remembered: the same fields fail again, other fields conflict', () => {
    const h = newWorld();
    const noCode = account(50n, { code: 0 });
    expect(h.createAccounts([noCode])).toEqual(['code_invalid']);
    expect(h.createAccounts([noCode])).toEqual(['code_invalid']);
    expect(h.createAccounts([account(50n)])).toEqual(['exists_with_different_fields']);
    expect(h.lookupAccounts([50n])).toEqual([]);
  });

  test('accounts: same fields exist, other fields conflict', () => {
    const h = newWorld();
    expect(h.createAccounts([account(alice, { flags: AccountFlags.debits_must_not_exceed_credits })])).toEqual(['exists']);
    expect(h.createAccounts([account(alice)])).toEqual(['exists_with_different_fields']);
    expect(h.createAccounts([account(alice, { flags: AccountFlags.debits_must_not_exceed_credits, userData32: 1 })])).toEqual([
      'exists_with_different_fields',
    ]);
  });

  test('account operations: a retried freeze freezes once; a retried refusal keeps its reason', () => {
    const h = newWorld();
    expect(h.accountOperations([freeze(700n, alice, 10n), freeze(700n, alice, 10n)])).toEqual(['ok', 'exists']);
    expect(h.accountOperations([freeze(700n, alice, 11n)])).toEqual(['exists_with_different_fields']);
    expect(h.account(alice).frozen).toBe(10n);
    expect(h.accountOperations([close(701n, alice)])).toEqual(['close_refused:frozen_balance']);
    h.accountOperations([unfreeze(702n, alice, 700n)]);
    h.restart();
    expect(h.accountOperations([close(701n, alice)])).toEqual(['close_refused:frozen_balance']);
  });

  test('id_invalid is never remembered, whatever else is wrong with the event', () => {
    const h = newWorld();
    expect(h.createTransfers([transfer(0n, alice, bob, 1n, { timestamp: 1n }), transfer(0n, alice, bob, 1n)])).toEqual([
      'timestamp_must_be_zero',
      'id_invalid',
    ]);
    h.restart();
  });
});

describe('linked chains', () => {
  const a = transfer(100n, alice, bob, 10n);
  const b = transfer(101n, bob, merchant, 5n);
  const c = transfer(102n, alice, merchant, 20n);
  const tooMuch = transfer(103n, alice, merchant, 1000n);

  test('a chain that succeeds applies every event', () => {
    const h = newWorld();
    expect(h.createTransfers([linked(a), linked(b), c])).toEqual(['ok', 'ok', 'ok']);
    expect(h.account(merchant).creditsPosted).toBe(25n);
  });

  test.each([
    ['first', [linked(tooMuch), linked(a), b], ['insufficient_funds', 'linked_event_failed', 'linked_event_failed']],
    ['middle', [linked(a), linked(tooMuch), b], ['linked_event_failed', 'insufficient_funds', 'linked_event_failed']],
    ['last', [linked(a), linked(b), tooMuch], ['linked_event_failed', 'linked_event_failed', 'insufficient_funds']],
  ])('a failure in the %s place undoes the whole chain', (_where, events, expected) => {
    const h = newWorld();
    const before = [h.account(alice), h.account(bob), h.account(merchant)];
    expect(h.createTransfers(events)).toEqual(expected);
    expect([h.account(alice), h.account(bob), h.account(merchant)]).toEqual(before);
    expect(h.lookupTransfers([100n, 101n, 102n, 103n])).toEqual([]);
    expect(h.history({ accountId: bob })).toEqual([]);
  });

  test('events around a failed chain are independent of it', () => {
    const h = newWorld();
    expect(h.createTransfers([c, linked(a), tooMuch, b])).toEqual(['ok', 'linked_event_failed', 'insufficient_funds', 'insufficient_funds']);
    expect(h.createTransfers([linked(a), linked(transfer(104n, bob, merchant, 5n)), transfer(105n, alice, bob, 1n)])).toEqual(['ok', 'ok', 'ok']);
  });

  test('a batch that ends inside a chain applies none of it: linked_event_chain_open', () => {
    const h = newWorld();
    expect(h.createTransfers([c, linked(a), linked(b)])).toEqual(['ok', 'linked_event_failed', 'linked_event_chain_open']);
    expect(h.lookupTransfers([100n, 101n])).toEqual([]);
    expect(h.createTransfers([linked(a)])).toEqual(['linked_event_chain_open']);
  });

  test('the event left open is not checked, and its id stays free', () => {
    const h = newWorld();
    expect(h.createTransfers([linked(a), linked(tooMuch)])).toEqual(['linked_event_failed', 'linked_event_chain_open']);
    expect(h.createTransfers([{ ...tooMuch, amount: 1n }])).toEqual(['ok']);
  });

  test('an earlier failure outranks the open end', () => {
    const h = newWorld();
    expect(h.createTransfers([linked(tooMuch), linked(a)])).toEqual(['insufficient_funds', 'linked_event_failed']);
  });

  test('exists inside a chain counts as success', () => {
    const h = newWorld();
    const earlier = linked(transfer(104n, alice, bob, 1n));
    expect(h.createTransfers([earlier, transfer(105n, alice, bob, 1n)])).toEqual(['ok', 'ok']);
    expect(h.createTransfers([linked(a), earlier, c])).toEqual(['ok', 'exists', 'ok']);
  });

  test('a failed chain leaves no trace: the ids of its other events can be used again, with other fields', () => {
    const h = newWorld();
    expect(h.createTransfers([linked(a), linked(b), tooMuch])).toEqual(['linked_event_failed', 'linked_event_failed', 'insufficient_funds']);
    expect(h.createTransfers([{ ...a, amount: 1n }, { ...b, debitAccountId: bank }])).toEqual(['ok', 'ok']);
    // The failing event's own id is remembered like any failed id.
    expect(h.createTransfers([tooMuch])).toEqual(['insufficient_funds']);
  });

  test('a chain that creates accounts creates none of them when one fails', () => {
    const h = newWorld();
    expect(h.createAccounts([linked(account(50n)), linked(account(51n)), account(52n, { ledger: 0 })])).toEqual([
      'linked_event_failed',
      'linked_event_failed',
      'ledger_invalid',
    ]);
    expect(h.lookupAccounts([50n, 51n, 52n])).toEqual([]);
    expect(h.createAccounts([account(50n), account(51n, { code: 99 })])).toEqual(['ok', 'ok']);
  });

  test('a chain undoes holds, posts and reversals together', () => {
    const h = newWorld();
    const hold = pending(110n, alice, bob, 30n);
    h.createTransfers([c]);
    expect(h.createTransfers([linked(hold), linked(post(111n, hold, 10n)), linked(reversal(112n, c, 20n)), tooMuch])).toEqual([
      'linked_event_failed',
      'linked_event_failed',
      'linked_event_failed',
      'insufficient_funds',
    ]);
    expect(h.account(alice)).toMatchObject({ debitsPosted: 20n, debitsPending: 0n });
    expect(h.transfer(102n).amountReversed).toBe(0n);
    expect(h.lookupTransfers([110n])).toEqual([]);
  });

  test('a chain of account operations undoes freezes, blocks and closes', () => {
    const h = newWorld();
    expect(
      h.accountOperations([linked(freeze(700n, alice, 10n)), linked(block(701n, bob, 'both')), linked(close(702n, empty)), freeze(703n, alice, 1000n)]),
    ).toEqual(['linked_event_failed', 'linked_event_failed', 'linked_event_failed', 'insufficient_funds']);
    expect(h.account(alice).frozen).toBe(0n);
    expect(h.account(bob).status).toBe('active');
    expect(h.account(empty).status).toBe('active');
    expect(h.accountOperations([freeze(700n, alice, 10n)])).toEqual(['ok']);
  });
});

describe('timestamps', () => {
  test('events of a batch are stamped base + index, base being the clock', () => {
    const h = newWorld();
    h.nowNs += 1000n * nsPerSecond;
    h.createTransfers([transfer(100n, alice, bob, 1n), transfer(101n, alice, bob, 1n)]);
    expect(h.lookupTransfers([100n, 101n]).map((t) => t.timestamp)).toEqual([h.nowNs, h.nowNs + 1n]);
  });

  test('timestamps strictly increase even when the clock stands still or goes backwards', () => {
    const h = newWorld();
    const stamps: bigint[] = [];
    const clock = [0, 0, -5, -5, 3, -100];
    clock.forEach((seconds, i) => {
      h.advanceSeconds(seconds);
      h.createTransfers([transfer(BigInt(100 + i * 2), alice, bob, 1n), transfer(BigInt(101 + i * 2), alice, bob, 1n)]);
      stamps.push(...h.lookupTransfers([BigInt(100 + i * 2), BigInt(101 + i * 2)]).map((t) => t.timestamp));
    });
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]).toBeGreaterThan(stamps[i - 1]!);
    h.restart();
  });

  test('accounts carry the time they were created', () => {
    const h = new LedgerHarness();
    h.createAccounts([account(50n)]);
    expect(h.account(50n).timestamp).toBe(h.nowNs);
  });
});

describe('recovery by replay', () => {
  test('a restarted ledger answers every lookup and history page as before', () => {
    const h = newWorld();
    const hold = pending(110n, alice, bob, 30n, 60);
    h.createTransfers([hold, transfer(100n, alice, merchant, 5n), linked(transfer(101n, bob, merchant, 1n)), transfer(102n, alice, bob, 1000n)]);
    h.accountOperations([freeze(700n, alice, 10n), block(701n, merchant, 'credits'), close(702n, empty)]);
    h.advanceSeconds(61);
    expect(h.expireDue()).toBe(true);
    h.createTransfers([post(111n, hold)]);
    const before = h.snapshot();
    h.restart(); // asserts byte-equal replies itself; the explicit check keeps the spec readable
    expect(h.snapshot()).toEqual(before);
    expect(h.transfer(110n).status).toBe('pending_expired');
    expect(h.createTransfers([post(111n, hold)])).toEqual(['pending_expired']);
    expect(h.ledger.seqLast).toBe(h.journal.size);
  });

  test('a restart in the middle of a busy life, then more work, then another restart', () => {
    const h = newWorld();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) h.createTransfers([transfer(BigInt(10_000 + round * 100 + i), alice, bob, 1n)]);
      h.restart();
    }
    expect(h.account(bob).creditsPosted).toBe(30n);
  });

  test('records older than the in-memory window are read back through the journal source', () => {
    const h = newWorld();
    const first = transfer(100n, alice, bob, 1n);
    h.createTransfers([first]);
    for (let i = 0; i < recentEntriesMax + 5; i++) h.createTransfers([transfer(BigInt(1_000_000 + i), bank, merchant, 1n)]);
    expect(h.createTransfers([first])).toEqual(['exists']);
    expect(h.createTransfers([reversal(101n, first, 1n)])).toEqual(['ok']);
    expect(h.history({ accountId: alice, limit: 2 }).map((e) => e.transfer.id)).toEqual([1000n, 100n]);
    h.restart();
    expect(h.transfer(100n).amountReversed).toBe(1n);
  });

  test('replay refuses entries out of order', () => {
    const h = newWorld();
    const fresh = new LedgerHarness();
    expect(() => fresh.ledger.replay(2, h.journal.get(2)!)).toThrow(/out of order/);
  });
});

describe('shard ownership (shardCount 2)', () => {
  function idOnShard(shard: number, from: bigint): bigint {
    let id = from;
    while (shardOfId(id, 2) !== shard) id++;
    return id;
  }
  const here = idOnShard(0, 1n);
  const here2 = idOnShard(0, here + 1n);
  const away = idOnShard(1, 1n);

  test('an account routed to another shard is a routing defect: the ledger stops rather than own it', () => {
    const h = new LedgerHarness({ shardIndex: 0, shardCount: 2 });
    expect(h.createAccounts([account(here), account(here2)])).toEqual(['ok', 'ok']);
    expect(() => h.createAccounts([account(away)])).toThrow(/routes to/);
  });

  test('a credit account on another shard makes a cross-shard transfer; an unknown debit account is not found', () => {
    const h = new LedgerHarness({ shardIndex: 0, shardCount: 2 });
    h.createAccounts([account(here), account(here2)]);
    const unknownHere = idOnShard(0, 999_999n);
    expect(
      h.createTransfers([transfer(100n, here, away, 1n), transfer(101n, away, here, 1n), transfer(102n, here, here2, 1n), transfer(103n, here, unknownHere, 1n)]),
    ).toEqual(['ok', 'account_not_found', 'ok', 'account_not_found']);
    expect(h.outbound.length).toBe(1);
    h.restart();
  });
});

describe('operating errors are thrown, never returned as results', () => {
  test.each([
    ['an empty body', Operation.create_transfers, new Uint8Array(0), 'body_invalid'],
    ['a body that is not whole records', Operation.create_transfers, new Uint8Array(129), 'body_invalid'],
    ['too many events', Operation.create_transfers, new Uint8Array((batchEventsMax + 1) * 128), 'batch_too_large'],
    ['a read operation', Operation.lookup_accounts, encodeTransfers([transfer(100n, alice, bob, 1n)]), 'operation_unknown'],
    ['an unknown operation', 99, encodeTransfers([transfer(100n, alice, bob, 1n)]), 'operation_unknown'],
  ])('execute with %s throws %s and writes nothing', (_what, operation, body, code) => {
    const h = newWorld();
    const seqLast = h.ledger.seqLast;
    let thrown: unknown;
    try {
      h.ledger.execute(operation, body, h.nowNs);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TallyError);
    expect((thrown as TallyError).code).toBe(code);
    expect(h.ledger.seqLast).toBe(seqLast);
  });

  test('a full batch of batchEventsMax events is accepted', () => {
    const h = newWorld();
    const events = Array.from({ length: batchEventsMax }, (_, i) => transfer(BigInt(100_000 + i), bank, merchant, 1n, { ledger: ledgerMain }));
    expect(new Set(h.createTransfers(events))).toEqual(new Set(['ok']));
    expect(h.account(merchant).creditsPosted).toBe(BigInt(batchEventsMax));
  });
});
