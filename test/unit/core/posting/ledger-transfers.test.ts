// Transfers through the Ledger: single-phase postings, two-phase holds (post, void, expiry),
// reversals, and the balance rules (no overdraft, credits within debits, u64 overflow).

import { describe, expect, test } from 'vitest';
import { amountMax, pendingTimeoutSecondsMax } from '../../../../src/core/limits.js';
import { TransferFlags } from '../../../../src/core/types.js';
import {
  account,
  aliceFunds,
  availableOf,
  block,
  freeze,
  fundingId,
  ids,
  ledgerOther,
  pending,
  post,
  reversal,
  standardWorld,
  transfer,
  unfreezeAndPay,
  voidHold,
} from '../../../support/ledger-fixtures.js';
import { LedgerHarness } from '../../../support/ledger-harness.js';

const { bank, alice, bob, merchant, capped, empty, foreign } = ids;

function newWorld(): LedgerHarness {
  const h = new LedgerHarness();
  standardWorld(h);
  return h;
}

describe('single-phase transfers', () => {
  test('money moves from the debit account to the credit account, posted at once', () => {
    const h = newWorld();
    expect(h.createTransfers([transfer(100n, alice, bob, 30n)])).toEqual(['ok']);
    expect(h.account(alice)).toMatchObject({ debitsPosted: 30n, creditsPosted: aliceFunds, debitsPending: 0n });
    expect(h.account(bob)).toMatchObject({ creditsPosted: 30n, debitsPosted: 0n });
    expect(h.transfer(100n)).toMatchObject({ amount: 30n, status: 'posted', amountPosted: 0n, amountReversed: 0n });
  });

  test('every caller field comes back from a lookup', () => {
    const h = newWorld();
    h.advanceSeconds(1);
    const sent = transfer(100n, alice, bob, 30n, { userData128: (1n << 127n) + 3n, userData64: (1n << 63n) + 1n, userData32: 0xffff_ffff, code: 0xffff });
    h.createTransfers([sent]);
    expect(h.transfer(100n)).toEqual({ ...sent, pendingId: 0n, timeoutSeconds: 0, flags: 0, timestamp: h.nowNs, status: 'posted', amountPosted: 0n, amountReversed: 0n });
  });

  test.each([
    ['the debit account is unknown', transfer(100n, 77n, bob, 1n), 'account_not_found'],
    ['the credit account is unknown', transfer(100n, alice, 77n, 1n), 'account_not_found'],
    ['an account is on another ledger', transfer(100n, alice, foreign, 1n), 'ledger_mismatch'],
    ['the transfer names another ledger', transfer(100n, bank, merchant, 1n, { ledger: ledgerOther }), 'ledger_mismatch'],
  ])('refused when %s', (_why, event, expected) => {
    expect(newWorld().createTransfers([event])).toEqual([expected]);
  });

  test('accounts on another ledger transfer among themselves', () => {
    const h = newWorld();
    h.createAccounts([account(60n, { ledger: ledgerOther })]);
    expect(h.createTransfers([transfer(100n, foreign, 60n, 5n, { ledger: ledgerOther })])).toEqual(['ok']);
  });
});

describe('balance rules', () => {
  test('a no-overdraft account may spend exactly what is available, not one unit more', () => {
    const h = newWorld();
    expect(h.createTransfers([transfer(100n, alice, bob, aliceFunds + 1n), transfer(101n, alice, bob, aliceFunds)])).toEqual(['insufficient_funds', 'ok']);
    expect(availableOf(h, alice)).toBe(0n);
  });

  test('holds and freezes count against what a no-overdraft account may spend', () => {
    const h = newWorld();
    h.createTransfers([pending(100n, alice, bob, 30n)]);
    h.accountOperations([freeze(700n, alice, 20n)]);
    expect(availableOf(h, alice)).toBe(50n);
    expect(h.createTransfers([transfer(101n, alice, bob, 51n), pending(102n, alice, bob, 51n), transfer(103n, alice, bob, 50n)])).toEqual([
      'insufficient_funds',
      'insufficient_funds',
      'ok',
    ]);
  });

  test('an account without rules may go below zero', () => {
    const h = newWorld();
    expect(h.createTransfers([transfer(100n, merchant, bob, 1_000_000n)])).toEqual(['ok']);
  });

  test('credits_must_not_exceed_debits: credits (posted and pending) stay within posted debits', () => {
    const h = newWorld();
    expect(h.createTransfers([transfer(100n, capped, bank, 50n)])).toEqual(['ok']);
    expect(h.createTransfers([pending(101n, bank, capped, 30n), transfer(102n, bank, capped, 21n), transfer(103n, bank, capped, 20n)])).toEqual([
      'ok',
      'credits_exceed_debits',
      'ok',
    ]);
    expect(h.createTransfers([post(104n, pending(101n, bank, capped, 30n))])).toEqual(['ok']);
  });

  test.each([
    ['the debit side, posted', [transfer(100n, bank, merchant, amountMax), transfer(101n, bank, bob, amountMax - aliceFunds)], transfer(102n, bank, bob, 2n)],
    ['the credit side, posted', [transfer(100n, bank, merchant, amountMax), transfer(101n, empty, merchant, amountMax)], transfer(102n, alice, merchant, 2n)],
    ['the debit side, pending', [pending(100n, bank, merchant, amountMax), pending(101n, bank, bob, amountMax)], pending(102n, bank, bob, 2n)],
    ['the credit side, pending', [pending(100n, bank, merchant, amountMax), pending(101n, empty, merchant, amountMax)], pending(102n, alice, merchant, 2n)],
  ])('balance_overflow when a u64 balance on %s would pass 2^64 − 1', (_side, setup, last) => {
    const h = newWorld();
    expect(h.createTransfers(setup)).toEqual(['ok', 'ok']);
    expect(h.createTransfers([last])).toEqual(['balance_overflow']);
  });
});

describe('two-phase transfers', () => {
  const hold = pending(200n, alice, bob, 40n);

  test('a hold reduces what is available and shows as pending on both sides', () => {
    const h = newWorld();
    expect(h.createTransfers([hold])).toEqual(['ok']);
    expect(availableOf(h, alice)).toBe(aliceFunds - 40n);
    expect(h.account(alice)).toMatchObject({ debitsPending: 40n, debitsPosted: 0n });
    expect(h.account(bob)).toMatchObject({ creditsPending: 40n, creditsPosted: 0n });
    expect(h.transfer(200n)).toMatchObject({ status: 'pending', amount: 40n, amountPosted: 0n });
  });

  test.each([
    ['in full (amount 0)', 0n, 40n],
    ['in full (the held amount)', 40n, 40n],
    ['in part; the rest is released', 15n, 15n],
  ])('posting a hold %s', (_how, asked, moved) => {
    const h = newWorld();
    h.createTransfers([hold]);
    expect(h.createTransfers([post(201n, hold, asked)])).toEqual(['ok']);
    expect(h.account(alice)).toMatchObject({ debitsPending: 0n, debitsPosted: moved });
    expect(h.account(bob)).toMatchObject({ creditsPending: 0n, creditsPosted: moved });
    expect(h.transfer(200n)).toMatchObject({ status: 'pending_posted', amountPosted: moved });
    expect(h.transfer(201n)).toMatchObject({ status: 'posted', amount: moved });
  });

  test('voiding a hold releases it all', () => {
    const h = newWorld();
    h.createTransfers([hold]);
    expect(h.createTransfers([voidHold(201n, hold)])).toEqual(['ok']);
    expect(h.account(alice)).toMatchObject({ debitsPending: 0n, debitsPosted: 0n });
    expect(h.account(bob)).toMatchObject({ creditsPending: 0n, creditsPosted: 0n });
    expect(h.transfer(200n)).toMatchObject({ status: 'pending_voided', amountPosted: 0n });
    expect(h.transfer(201n).amount).toBe(40n);
  });

  test.each([
    ['a void naming the held amount', { ...voidHold(201n, hold), amount: 40n }, 'ok'],
    ['a void naming another amount', { ...voidHold(201n, hold), amount: 39n }, 'amount_invalid'],
    ['a void naming more than is held', { ...voidHold(201n, hold), amount: 41n }, 'exceeds_pending_amount'],
    ['a post for more than is held', post(201n, hold, 41n), 'exceeds_pending_amount'],
    ['a post between other accounts', post(201n, { ...hold, creditAccountId: merchant }), 'accounts_mismatch'],
    ['a post with the sides swapped', post(201n, { ...hold, debitAccountId: bob, creditAccountId: alice }), 'accounts_mismatch'],
    ['a post of an unknown hold', post(201n, { ...hold, id: 999n }), 'pending_not_found'],
    ['a post of a single-phase transfer', post(201n, { ...hold, id: fundingId, debitAccountId: bank }), 'pending_not_found'],
  ])('%s: %s', (_what, event, expected) => {
    const h = newWorld();
    h.createTransfers([hold]);
    expect(h.createTransfers([event])).toEqual([expected]);
  });

  test.each([
    ['posted', post(201n, hold), post(202n, hold), 'pending_already_posted'],
    ['posted', post(201n, hold, 1n), voidHold(202n, hold), 'pending_already_posted'],
    ['voided', voidHold(201n, hold), post(202n, hold), 'pending_already_voided'],
    ['voided', voidHold(201n, hold), voidHold(202n, hold), 'pending_already_voided'],
  ])('a hold already %s cannot be closed again', (_state, first, second, expected) => {
    const h = newWorld();
    h.createTransfers([hold, first]);
    expect(h.createTransfers([second])).toEqual([expected]);
  });

  test('a post needs both accounts open for money; a void only gives money back, so blocks do not stop it', () => {
    const h = newWorld();
    h.createTransfers([hold, pending(203n, alice, bob, 10n)]);
    h.accountOperations([block(700n, alice, 'debits'), block(701n, bob, 'credits')]);
    expect(h.createTransfers([post(201n, hold), voidHold(202n, hold)])).toEqual(['account_blocked', 'ok']);
    h.accountOperations([{ ...block(702n, alice, 'debits'), kind: 'unblock' }]);
    expect(h.createTransfers([post(204n, pending(203n, alice, bob, 10n))])).toEqual(['account_blocked']);
  });

  test('a post and a void of the same hold in one batch: the first wins', () => {
    const h = newWorld();
    h.createTransfers([hold]);
    expect(h.createTransfers([post(201n, hold, 10n), voidHold(202n, hold)])).toEqual(['ok', 'pending_already_posted']);
  });
});

describe('expiry of holds', () => {
  const expiring = pending(200n, alice, bob, 40n, 10);

  test('expireDue releases a hold once its timeout has passed, and only then', () => {
    const h = newWorld();
    h.createTransfers([expiring]);
    h.advanceSeconds(9);
    expect(h.expireDue()).toBe(false);
    expect(h.transfer(200n).status).toBe('pending');
    h.advanceSeconds(1);
    expect(h.expireDue()).toBe(true);
    expect(h.transfer(200n).status).toBe('pending_expired');
    expect(h.account(alice)).toMatchObject({ debitsPending: 0n, debitsPosted: 0n });
    expect(h.account(bob)).toMatchObject({ creditsPending: 0n, creditsPosted: 0n });
    expect(h.expireDue()).toBe(false);
    expect(h.createTransfers([post(201n, expiring), voidHold(202n, expiring)])).toEqual(['pending_expired', 'pending_expired']);
  });

  test('a later batch expires due holds before its own events', () => {
    const h = newWorld();
    h.createTransfers([expiring]);
    h.advanceSeconds(10);
    // No idle tick ran; the batch itself notices the deadline.
    expect(h.createTransfers([transfer(100n, alice, bob, aliceFunds), post(201n, expiring)])).toEqual(['ok', 'pending_expired']);
    expect(h.transfer(200n).status).toBe('pending_expired');
  });

  test('a hold closed before its deadline is not expired, and leaves nothing due', () => {
    const h = newWorld();
    h.createTransfers([expiring, pending(210n, alice, bob, 1n, 10)]);
    h.createTransfers([post(201n, expiring, 5n), voidHold(211n, pending(210n, alice, bob, 1n, 10))]);
    h.advanceSeconds(20);
    expect(h.expireDue()).toBe(false);
    expect(h.transfer(200n)).toMatchObject({ status: 'pending_posted', amountPosted: 5n });
  });

  test('holds expire in deadline order, several in one tick', () => {
    const h = newWorld();
    h.createTransfers([pending(200n, alice, bob, 1n, 30), pending(201n, alice, bob, 2n, 10), pending(202n, alice, bob, 3n, 20), pending(203n, alice, bob, 4n)]);
    h.advanceSeconds(25);
    expect(h.expireDue()).toBe(true);
    expect(h.lookupTransfers([200n, 201n, 202n, 203n]).map((t) => t.status)).toEqual(['pending', 'pending_expired', 'pending_expired', 'pending']);
    expect(h.account(alice).debitsPending).toBe(5n);
    h.restart();
    expect(h.account(alice).debitsPending).toBe(5n);
  });

  test('a hold without a timeout never expires', () => {
    const h = newWorld();
    h.createTransfers([pending(200n, alice, bob, 1n)]);
    h.advanceSeconds(pendingTimeoutSecondsMax * 2);
    expect(h.expireDue()).toBe(false);
    expect(h.createTransfers([post(201n, pending(200n, alice, bob, 1n))])).toEqual(['ok']);
  });

  test('a hold made in a chain that failed never expires anything', () => {
    const h = newWorld();
    expect(h.createTransfers([{ ...expiring, flags: expiring.flags! | TransferFlags.linked }, transfer(100n, alice, bob, 1000n)])).toEqual([
      'linked_event_failed',
      'insufficient_funds',
    ]);
    h.advanceSeconds(11);
    expect(h.expireDue()).toBe(false);
    expect(h.lookupTransfers([200n])).toEqual([]);
  });

  test('expiry survives a restart, and so does the clock it ran on', () => {
    const h = newWorld();
    h.createTransfers([expiring]);
    h.advanceSeconds(10);
    expect(h.expireDue()).toBe(true);
    h.restart();
    expect(h.transfer(200n).status).toBe('pending_expired');
    expect(h.createTransfers([post(201n, expiring)])).toEqual(['pending_expired']);
  });
});

describe('reversals', () => {
  const payment = transfer(300n, alice, bob, 30n);

  test('a full reversal gives it all back and shows on the original', () => {
    const h = newWorld();
    h.createTransfers([payment]);
    expect(h.createTransfers([reversal(301n, payment, 30n)])).toEqual(['ok']);
    expect(h.account(alice)).toMatchObject({ debitsPosted: 30n, creditsPosted: aliceFunds + 30n });
    expect(h.account(bob)).toMatchObject({ debitsPosted: 30n, creditsPosted: 30n });
    expect(h.transfer(300n)).toMatchObject({ status: 'posted', amountReversed: 30n });
    expect(h.transfer(301n)).toMatchObject({ amount: 30n, pendingId: 300n, amountReversed: 0n });
  });

  test('partial reversals add up to at most the original', () => {
    const h = newWorld();
    h.createTransfers([payment]);
    expect(h.createTransfers([reversal(301n, payment, 10n), reversal(302n, payment, 15n), reversal(303n, payment, 6n), reversal(304n, payment, 5n)])).toEqual([
      'ok',
      'ok',
      'reversal_exceeds_remaining',
      'ok',
    ]);
    expect(h.transfer(300n).amountReversed).toBe(30n);
    expect(h.createTransfers([reversal(305n, payment, 1n)])).toEqual(['reversal_exceeds_remaining']);
  });

  test.each([
    ['a posted hold (what the post moved)', (h: LedgerHarness) => h.createTransfers([pending(310n, alice, bob, 40n), post(311n, pending(310n, alice, bob, 40n), 25n)]), 311n, 25n],
    ['a payment from a freeze', (h: LedgerHarness) => [...h.accountOperations([freeze(700n, alice, 20n)]), ...h.createTransfers([unfreezeAndPay(311n, 700n, alice, bob)])], 311n, 20n],
  ])('%s can be reversed', (_what, setup, originalId, moved) => {
    const h = newWorld();
    expect(setup(h).every((r) => r === 'ok')).toBe(true);
    const original = h.transfer(originalId);
    expect(h.createTransfers([reversal(320n, original, moved + 1n), reversal(321n, original, moved)])).toEqual(['reversal_exceeds_remaining', 'ok']);
  });

  test.each([
    ['an unknown transfer', (_h: LedgerHarness) => undefined, 999n, 'original_not_found'],
    ['a hold', (h: LedgerHarness) => h.createTransfers([pending(310n, alice, bob, 5n)]), 310n, 'original_not_reversible'],
    ['a void', (h: LedgerHarness) => h.createTransfers([pending(309n, alice, bob, 5n), voidHold(310n, pending(309n, alice, bob, 5n))]), 310n, 'original_not_reversible'],
    ['a reversal', (h: LedgerHarness) => h.createTransfers([payment, reversal(310n, payment, 5n)]), 310n, 'original_not_reversible'],
  ])('reversing %s is refused', (_what, setup, originalId, expected) => {
    const h = newWorld();
    setup(h);
    expect(h.createTransfers([reversal(320n, { ...payment, id: originalId }, 1n)])).toEqual([expected]);
  });

  test('a reversal must swap exactly the original accounts', () => {
    const h = newWorld();
    h.createTransfers([payment]);
    expect(
      h.createTransfers([
        transfer(301n, alice, bob, 1n, { flags: TransferFlags.reversal, pendingId: 300n }),
        transfer(302n, merchant, alice, 1n, { flags: TransferFlags.reversal, pendingId: 300n }),
      ]),
    ).toEqual(['accounts_mismatch', 'accounts_mismatch']);
  });

  test('a reversal is money out of the original credit account: its balance rules apply', () => {
    const h = newWorld();
    h.createTransfers([payment, transfer(301n, bob, merchant, 25n)]);
    expect(h.createTransfers([reversal(302n, payment, 6n), reversal(303n, payment, 5n)])).toEqual(['insufficient_funds', 'ok']);
    h.accountOperations([block(700n, bob, 'debits')]);
    expect(h.createTransfers([reversal(304n, payment, 1n)])).toEqual(['account_blocked']);
  });
});

describe('paying from a freeze (unfreeze_and_pay)', () => {
  test('consumes the freeze and pays in one step; amount 0 pays all that remains', () => {
    const h = newWorld();
    h.accountOperations([freeze(700n, alice, 30n)]);
    expect(h.createTransfers([unfreezeAndPay(100n, 700n, alice, merchant, 10n)])).toEqual(['ok']);
    expect(h.account(alice)).toMatchObject({ frozen: 20n, debitsPosted: 10n });
    expect(h.createTransfers([unfreezeAndPay(101n, 700n, alice, bob)])).toEqual(['ok']);
    expect(h.account(alice)).toMatchObject({ frozen: 0n, debitsPosted: 30n });
    expect(h.account(bob).creditsPosted).toBe(20n);
    expect(h.transfer(101n).amount).toBe(20n);
    expect(h.createTransfers([unfreezeAndPay(102n, 700n, alice, bob)])).toEqual(['exceeds_frozen_amount']);
  });

  test.each([
    ['more than remains', unfreezeAndPay(100n, 700n, alice, merchant, 31n), 'exceeds_frozen_amount'],
    ['an unknown freeze', unfreezeAndPay(100n, 999n, alice, merchant), 'freeze_not_found'],
    ['from another account', unfreezeAndPay(100n, 700n, bank, merchant), 'accounts_mismatch'],
  ])('refused for %s', (_why, event, expected) => {
    const h = newWorld();
    h.accountOperations([freeze(700n, alice, 30n)]);
    expect(h.createTransfers([event])).toEqual([expected]);
  });

  test('works from an account blocked for debits (a deduction by order), never into one blocked for credits', () => {
    const h = newWorld();
    h.accountOperations([freeze(700n, alice, 30n), block(701n, alice, 'debits'), block(702n, bob, 'credits')]);
    expect(h.createTransfers([transfer(100n, alice, merchant, 1n), unfreezeAndPay(101n, 700n, alice, merchant, 5n), unfreezeAndPay(102n, 700n, alice, bob, 5n)])).toEqual([
      'account_blocked',
      'ok',
      'account_blocked',
    ]);
  });

  test('the credit side rules still apply', () => {
    const h = newWorld();
    h.accountOperations([freeze(700n, alice, 30n)]);
    expect(h.createTransfers([unfreezeAndPay(100n, 700n, alice, capped, 5n)])).toEqual(['credits_exceed_debits']);
  });
});
