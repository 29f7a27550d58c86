// Plain transfers take a number path (core/posting/plain-transfer.ts) while every value is below 2^53 and the
// BigInt path beyond. Spec: the boundary is invisible — balances stay exact through 2^53 and up to
// 2^64 − 1, insufficient_funds, credits_exceed_debits and balance_overflow are refused exactly where the
// BigInt rules refuse them, a chain that fails undoes everything, and a restart replays to the same state.

import { describe, expect, test } from 'vitest';
import { amountMax } from '../../../../src/core/limits.js';
import { AccountFlags } from '../../../../src/core/types.js';
import { account, linked, pending, transfer } from '../../../support/ledger-fixtures.js';
import { LedgerHarness } from '../../../support/ledger-harness.js';

const two53 = 2n ** 53n;
const u64Max = 2n ** 64n - 1n;

const bank = 1n;
const spare = 2n;
/** No overdraft: debits_must_not_exceed_credits. */
const saver = 3n;
/** Debit-normal: credits_must_not_exceed_debits. */
const capped = 4n;
const merchant = 5n;

function newWorld(): LedgerHarness {
  const h = new LedgerHarness();
  expect(
    h.createAccounts([
      account(bank),
      account(spare),
      account(saver, { flags: AccountFlags.debits_must_not_exceed_credits }),
      account(capped, { flags: AccountFlags.credits_must_not_exceed_debits }),
      account(merchant),
    ]),
  ).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  return h;
}

let nextId = 1000n;
function pay(debit: bigint, credit: bigint, amount: bigint): ReturnType<typeof transfer> {
  return transfer(nextId++, debit, credit, amount);
}

describe('balances through 2^53', () => {
  test('a credit balance climbing past 2^53 one unit at a time stays exact on both sides', () => {
    const h = newWorld();
    expect(h.createTransfers([pay(bank, merchant, two53 - 2n), pay(bank, merchant, 1n), pay(bank, merchant, 1n), pay(bank, merchant, 5n)])).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(h.account(merchant).creditsPosted).toBe(two53 + 5n);
    expect(h.account(bank).debitsPosted).toBe(two53 + 5n);
    const after = h.history({ accountId: merchant }).map((e) => e.balanceAfter.creditsPosted);
    expect(after).toEqual([two53 - 2n, two53 - 1n, two53, two53 + 5n]);
    h.restart();
    expect(h.account(merchant).creditsPosted).toBe(two53 + 5n);
  });

  test('sums of many plain transfers pass 2^53 in the ledger totals without losing a unit', () => {
    const h = newWorld();
    const big = two53 - 1n;
    expect(h.createTransfers([pay(bank, merchant, big), pay(spare, bank, big), pay(bank, saver, big), pay(spare, merchant, 3n)])).toEqual(['ok', 'ok', 'ok', 'ok']);
    const totals = h.ledger.state.totals.get(1)!;
    expect(totals.debitsPosted).toBe(3n * big + 3n);
    expect(totals.creditsPosted).toBe(3n * big + 3n);
  });
});

describe('refusals at the boundary are the BigInt rules', () => {
  test('no overdraft: exact around 2^53 when the credits are past it', () => {
    const h = newWorld();
    expect(h.createTransfers([pay(bank, saver, two53 + 4n)])).toEqual(['ok']);
    expect(h.createTransfers([pay(saver, merchant, 10n), pay(saver, merchant, two53 - 11n)])).toEqual(['ok', 'ok']);
    expect(h.createTransfers([pay(saver, merchant, 6n)])).toEqual(['insufficient_funds']);
    expect(h.createTransfers([pay(saver, merchant, 5n)])).toEqual(['ok']);
    expect(h.createTransfers([pay(saver, merchant, 1n)])).toEqual(['insufficient_funds']);
    expect(h.account(saver).debitsPosted).toBe(two53 + 4n);
  });

  test('no overdraft: exact just below 2^53', () => {
    const h = newWorld();
    expect(h.createTransfers([pay(bank, saver, two53 - 1n)])).toEqual(['ok']);
    expect(h.createTransfers([pay(saver, merchant, two53)])).toEqual(['insufficient_funds']);
    expect(h.createTransfers([pay(saver, merchant, two53 - 2n), pay(saver, merchant, 2n), pay(saver, merchant, 1n)])).toEqual(['ok', 'insufficient_funds', 'ok']);
    expect(h.createTransfers([pay(saver, merchant, 1n)])).toEqual(['insufficient_funds']);
  });

  test('no overdraft: holds count exactly when the sum passes 2^53 and the credits are past it too', () => {
    const h = newWorld();
    expect(h.createTransfers([pay(bank, saver, two53 + 4n), pending(nextId++, saver, merchant, two53 - 5n)])).toEqual(['ok', 'ok']);
    expect(h.createTransfers([pay(saver, merchant, 10n)])).toEqual(['insufficient_funds']);
    expect(h.createTransfers([pay(saver, merchant, 9n), pay(saver, merchant, 1n)])).toEqual(['ok', 'insufficient_funds']);
  });

  test('credits within debits: holds count exactly when the sum passes 2^53 and the debits are past it too', () => {
    const h = newWorld();
    expect(h.createTransfers([pay(capped, bank, two53 + 4n), pending(nextId++, bank, capped, two53 - 5n)])).toEqual(['ok', 'ok']);
    expect(h.createTransfers([pay(bank, capped, 10n)])).toEqual(['credits_exceed_debits']);
    expect(h.createTransfers([pay(bank, capped, 9n), pay(bank, capped, 1n)])).toEqual(['ok', 'credits_exceed_debits']);
  });

  test('credits within debits: exact at 2^53', () => {
    const h = newWorld();
    expect(h.createTransfers([pay(capped, bank, two53 - 1n)])).toEqual(['ok']);
    expect(h.createTransfers([pay(bank, capped, two53 - 2n), pay(bank, capped, 2n), pay(bank, capped, 1n)])).toEqual(['ok', 'credits_exceed_debits', 'ok']);
    expect(h.createTransfers([pay(bank, capped, 1n)])).toEqual(['credits_exceed_debits']);
    expect(h.account(capped).creditsPosted).toBe(two53 - 1n);
  });

  test('balance_overflow exactly past 2^64 − 1, on the credit side and on the debit side', () => {
    const h = newWorld();
    expect(h.createTransfers([pay(bank, merchant, amountMax), pay(spare, merchant, amountMax)])).toEqual(['ok', 'ok']);
    expect(h.account(merchant).creditsPosted).toBe(u64Max - 1n);
    expect(h.createTransfers([pay(saver, merchant, 2n)])).toEqual(['insufficient_funds']);
    expect(h.createTransfers([pay(capped, merchant, 2n), pay(capped, merchant, 1n), pay(capped, merchant, 1n)])).toEqual(['balance_overflow', 'ok', 'balance_overflow']);
    expect(h.account(merchant).creditsPosted).toBe(u64Max);
    expect(h.createTransfers([pay(merchant, bank, amountMax), pay(merchant, spare, amountMax), pay(merchant, saver, 2n), pay(merchant, saver, 1n)])).toEqual([
      'ok',
      'ok',
      'balance_overflow',
      'ok',
    ]);
    expect(h.account(merchant).debitsPosted).toBe(u64Max);
    h.restart();
    expect(h.account(merchant)).toMatchObject({ debitsPosted: u64Max, creditsPosted: u64Max });
  });
});

describe('linked chains', () => {
  test('a failed chain of plain transfers undoes every balance, history line and total', () => {
    const h = newWorld();
    expect(h.createTransfers([pay(bank, saver, 50n)])).toEqual(['ok']);
    const before = h.lookupAccounts([bank, saver, merchant]);
    const totalsBefore = { ...h.ledger.state.totals.get(1)! };
    expect(h.createTransfers([linked(pay(saver, merchant, 30n)), linked(pay(bank, merchant, 7n)), pay(saver, merchant, 30n)])).toEqual([
      'linked_event_failed',
      'linked_event_failed',
      'insufficient_funds',
    ]);
    expect(h.lookupAccounts([bank, saver, merchant])).toEqual(before);
    expect(h.ledger.state.totals.get(1)).toEqual(totalsBefore);
    expect(h.history({ accountId: merchant })).toEqual([]);
  });
});
