// Account operations through the Ledger (DOMAIN.md §3): freezing and unfreezing amounts,
// blocking an account for debits, credits or both, and closing it.

import { describe, expect, test } from 'vitest';
import {
  aliceFunds,
  availableOf,
  block,
  close,
  freeze,
  ids,
  pending,
  post,
  standardWorld,
  transfer,
  unblock,
  unfreeze,
  voidHold,
  type Sides,
} from '../../../support/ledger-fixtures.js';
import { LedgerHarness, type Outcome } from '../../../support/ledger-harness.js';
import type { AccountStatusName } from '../../../../src/core/types.js';

const { bank, alice, bob, merchant, empty } = ids;

function newWorld(): LedgerHarness {
  const h = new LedgerHarness();
  standardWorld(h);
  return h;
}

describe('freezing amounts', () => {
  test('a freeze takes part of the available balance out of use', () => {
    const h = newWorld();
    expect(h.accountOperations([freeze(700n, alice, 30n)])).toEqual(['ok']);
    expect(h.account(alice)).toMatchObject({ frozen: 30n, creditsPosted: aliceFunds, debitsPosted: 0n });
    expect(availableOf(h, alice)).toBe(aliceFunds - 30n);
    expect(h.createTransfers([transfer(100n, alice, bob, 71n), transfer(101n, alice, bob, 70n)])).toEqual(['insufficient_funds', 'ok']);
  });

  test('a freeze beyond what is available (after holds and other freezes) is refused: insufficient_funds', () => {
    const h = newWorld();
    h.createTransfers([pending(200n, alice, bob, 40n)]);
    expect(h.accountOperations([freeze(700n, alice, 50n), freeze(701n, alice, 11n), freeze(702n, alice, 10n)])).toEqual([
      'ok',
      'insufficient_funds',
      'ok',
    ]);
    expect(availableOf(h, alice)).toBe(0n);
  });

  test('an account that never received money has nothing to freeze', () => {
    expect(newWorld().accountOperations([freeze(700n, empty, 1n)])).toEqual(['insufficient_funds']);
  });

  test.each([
    ['all that remains (amount 0)', [unfreeze(701n, alice, 700n)], 0n],
    ['in part', [unfreeze(701n, alice, 700n, 10n)], 20n],
    ['in parts, to the end', [unfreeze(701n, alice, 700n, 10n), unfreeze(702n, alice, 700n, 20n)], 0n],
  ])('unfreezing %s', (_how, operations, frozenAfter) => {
    const h = newWorld();
    h.accountOperations([freeze(700n, alice, 30n)]);
    expect(h.accountOperations(operations)).toEqual(operations.map(() => 'ok'));
    expect(h.account(alice).frozen).toBe(frozenAfter);
    expect(availableOf(h, alice)).toBe(aliceFunds - frozenAfter);
  });

  test.each<[string, ReturnType<typeof unfreeze>[], Outcome[]]>([
    ['more than remains', [unfreeze(701n, alice, 700n, 31n)], ['exceeds_frozen_amount']],
    ['a freeze already released', [unfreeze(701n, alice, 700n), unfreeze(702n, alice, 700n)], ['ok', 'exceeds_frozen_amount']],
    ['an unknown freeze', [unfreeze(701n, alice, 999n)], ['freeze_not_found']],
    ['a freeze of another account', [unfreeze(701n, bob, 700n)], ['accounts_mismatch']],
    ['an unknown account', [unfreeze(701n, 77n, 700n)], ['account_not_found']],
  ])('unfreezing %s is refused', (_what, operations, expected) => {
    const h = newWorld();
    h.accountOperations([freeze(700n, alice, 30n)]);
    expect(h.accountOperations(operations)).toEqual(expected);
    expect(h.account(alice).frozen).toBe(expected[0] === 'ok' ? 0n : 30n);
  });

  test('a transfer id is not a freeze id', () => {
    const h = newWorld();
    expect(h.accountOperations([unfreeze(701n, alice, 1000n)])).toEqual(['freeze_not_found']);
  });
});

describe('blocking accounts', () => {
  // For each block: [Alice pays Bob, Bob pays Alice] with Alice blocked.
  const cases: [Sides, AccountStatusName, Outcome, Outcome][] = [
    ['debits', 'debit_blocked', 'account_blocked', 'ok'],
    ['credits', 'credit_blocked', 'ok', 'account_blocked'],
    ['both', 'blocked', 'account_blocked', 'account_blocked'],
  ];

  test.each(cases)('blocked for %s: status %s; money out %s, money in %s', (sides, status, out, into) => {
    const h = newWorld();
    h.createTransfers([transfer(100n, bank, bob, 50n)]);
    expect(h.accountOperations([block(700n, alice, sides)])).toEqual(['ok']);
    expect(h.account(alice).status).toBe(status);
    expect(h.createTransfers([transfer(101n, alice, bob, 1n), transfer(102n, bob, alice, 1n)])).toEqual([out, into]);
    expect(h.createTransfers([pending(103n, alice, bob, 1n), pending(104n, bob, alice, 1n)])).toEqual([out, into]);
  });

  test.each<[Sides, AccountStatusName]>([
    ['debits', 'credit_blocked'],
    ['credits', 'debit_blocked'],
    ['both', 'active'],
  ])('unblocking %s of a fully blocked account leaves it %s', (sides, status) => {
    const h = newWorld();
    h.accountOperations([block(700n, alice, 'both'), unblock(701n, alice, sides)]);
    expect(h.account(alice).status).toBe(status);
  });

  test('blocks add up, and unblocking what is not blocked is harmless', () => {
    const h = newWorld();
    expect(h.accountOperations([block(700n, alice, 'debits'), block(701n, alice, 'credits'), unblock(702n, bob, 'both')])).toEqual(['ok', 'ok', 'ok']);
    expect([h.account(alice).status, h.account(bob).status]).toEqual(['blocked', 'active']);
    expect(h.accountOperations([unblock(703n, alice, 'debits')])).toEqual(['ok']);
    expect(h.createTransfers([transfer(100n, alice, bob, 1n)])).toEqual(['ok']);
  });

  test('a blocked account can still freeze, unfreeze and be closed', () => {
    const h = newWorld();
    h.accountOperations([block(700n, alice, 'both'), block(701n, empty, 'both')]);
    expect(h.accountOperations([freeze(702n, alice, 5n), unfreeze(703n, alice, 702n), close(704n, empty)])).toEqual(['ok', 'ok', 'ok']);
  });
});

describe('closing accounts', () => {
  test('an account with nothing on it closes; afterwards it is closed to money and to operations', () => {
    const h = newWorld();
    expect(h.accountOperations([close(700n, empty)])).toEqual(['ok']);
    expect(h.account(empty).status).toBe('closed');
    expect(h.createTransfers([transfer(100n, bank, empty, 1n), transfer(101n, empty, bank, 1n), pending(102n, bank, empty, 1n)])).toEqual([
      'account_closed',
      'account_closed',
      'account_closed',
    ]);
    expect(h.accountOperations([freeze(701n, empty, 1n), block(702n, empty, 'debits'), unblock(703n, empty, 'both'), close(704n, empty)])).toEqual([
      'account_closed',
      'account_closed',
      'account_closed',
      'account_closed',
    ]);
    expect(h.accountOperations([unfreeze(705n, empty, 999n)])).toEqual(['freeze_not_found']);
  });

  test('an account whose money came and went back (debits = credits) closes', () => {
    const h = newWorld();
    h.createTransfers([transfer(100n, bank, merchant, 5n), transfer(101n, merchant, bank, 5n)]);
    expect(h.accountOperations([close(700n, merchant)])).toEqual(['ok']);
  });

  test.each<[string, (h: LedgerHarness) => void, Outcome]>([
    ['a hold from it', (h) => h.createTransfers([pending(200n, alice, bob, 100n)]), 'close_refused:pending_balance'],
    ['a hold to it', (h) => h.createTransfers([transfer(100n, alice, bob, 100n), pending(200n, bank, alice, 1n)]), 'close_refused:pending_balance'],
    ['a freeze', (h) => h.accountOperations([freeze(701n, alice, 100n)]), 'close_refused:frozen_balance'],
    ['a balance', () => undefined, 'close_refused:nonzero_balance'],
    ['a hold and a freeze (holds are named first)', (h) => [h.createTransfers([pending(200n, alice, bob, 50n)]), h.accountOperations([freeze(701n, alice, 50n)])], 'close_refused:pending_balance'],
  ])('an account with %s is not closed: %s', (_what, setup, expected) => {
    const h = newWorld();
    setup(h);
    expect(h.accountOperations([close(700n, alice)])).toEqual([expected]);
    expect(h.lastResults[0]).toMatchObject({ result: 'close_refused', reason: expected.split(':')[1] });
    expect(h.account(alice).status).toBe('active');
  });

  test('once the hold is closed, the freeze released and the money gone, the account closes', () => {
    const h = newWorld();
    const hold = pending(200n, alice, bob, 30n);
    h.createTransfers([hold]);
    h.accountOperations([freeze(701n, alice, 20n)]);
    expect(h.createTransfers([post(201n, hold)])).toEqual(['ok']);
    expect(h.accountOperations([unfreeze(702n, alice, 701n), close(703n, alice)])).toEqual(['ok', 'close_refused:nonzero_balance']);
    h.createTransfers([transfer(100n, alice, bank, 70n)]);
    expect(h.accountOperations([close(704n, alice)])).toEqual(['ok']);
  });

  test('a hold against a closed account can never exist, so voids never meet one', () => {
    const h = newWorld();
    const hold = pending(200n, bank, empty, 1n);
    h.createTransfers([hold, voidHold(201n, hold)]);
    expect(h.accountOperations([close(700n, empty)])).toEqual(['ok']);
    h.restart();
    expect(h.account(empty).status).toBe('closed');
  });

  test('operations on an unknown account: account_not_found', () => {
    expect(newWorld().accountOperations([freeze(700n, 77n, 1n), block(701n, 77n, 'both'), close(702n, 77n)])).toEqual([
      'account_not_found',
      'account_not_found',
      'account_not_found',
    ]);
  });
});
