// Field checks that need no state, for all three kinds of write event, in the precedence order of
// result-codes.ts. Records the codec refuses to build (reserved words, unknown kinds) are patched
// in raw bytes, the way a foreign client could send them.

import { describe, expect, test } from 'vitest';
import { AccountLayout, AccountOperationLayout, TransferLayout } from '../../../../src/core/layout.js';
import { amountMax, idMax, pendingTimeoutSecondsMax } from '../../../../src/core/limits.js';
import { Operation } from '../../../../src/core/operations.js';
import { encodeAccountOperations, encodeAccounts, encodeTransfers } from '../../../../src/core/wire/records.js';
import { AccountFlags, AccountOperationFlags, TransferFlags } from '../../../../src/core/types.js';
import { account, block, close, freeze, ids, pending, standardWorld, transfer, unfreeze } from '../../../support/ledger-fixtures.js';
import { LedgerHarness, type Outcome } from '../../../support/ledger-harness.js';

const { alice, bob } = ids;

/** A copy of a one-record body with `patch` applied to its bytes. */
function patched(body: Uint8Array, patch: (view: DataView) => void): Uint8Array {
  const copy = body.slice();
  patch(new DataView(copy.buffer));
  return copy;
}

type Case = [name: string, body: Uint8Array, expected: Outcome];

const accountCases: Case[] = [
  ['a timestamp', encodeAccounts([account(50n, { timestamp: 1n })]), 'timestamp_must_be_zero'],
  ['the reserved word', patched(encodeAccounts([account(50n)]), (v) => v.setUint32(AccountLayout.reserved, 1, true)), 'reserved_field'],
  ['an output balance', patched(encodeAccounts([account(50n)]), (v) => v.setBigUint64(AccountLayout.creditsPosted, 5n, true)), 'reserved_field'],
  ['an output status', patched(encodeAccounts([account(50n)]), (v) => v.setUint16(AccountLayout.status, 1, true)), 'reserved_field'],
  ['the last output byte', patched(encodeAccounts([account(50n)]), (v) => v.setUint8(127, 1)), 'reserved_field'],
  ['id 0', encodeAccounts([account(0n)]), 'id_invalid'],
  ['id 2^128−1', encodeAccounts([account(idMax)]), 'id_invalid'],
  ['an unknown flag', encodeAccounts([account(50n, { flags: 1 << 3 })]), 'flags_invalid'],
  [
    'both overdraft rules',
    encodeAccounts([account(50n, { flags: AccountFlags.debits_must_not_exceed_credits | AccountFlags.credits_must_not_exceed_debits })]),
    'flags_invalid',
  ],
  ['ledger 0', encodeAccounts([account(50n, { ledger: 0 })]), 'ledger_invalid'],
  ['code 0', encodeAccounts([account(50n, { code: 0 })]), 'code_invalid'],
  ['nothing wrong', encodeAccounts([account(50n, { userData128: idMax, userData64: 1n, userData32: 7 })]), 'ok'],
];

const t = (extra: Parameters<typeof transfer>[4] = {}, amount = 1n) => transfer(100n, alice, bob, amount, extra);

const transferCases: Case[] = [
  ['a timestamp', encodeTransfers([t({ timestamp: 1n })]), 'timestamp_must_be_zero'],
  ['an effective amount', patched(encodeTransfers([t()]), (v) => v.setBigUint64(TransferLayout.amountEffective, 1n, true)), 'reserved_field'],
  ['id 0', encodeTransfers([t({ id: 0n })]), 'id_invalid'],
  ['id 2^128−1', encodeTransfers([t({ id: idMax })]), 'id_invalid'],
  ['an unknown flag', encodeTransfers([t({ flags: 1 << 6 })]), 'flags_invalid'],
  ['two kinds', encodeTransfers([t({ flags: TransferFlags.post_pending | TransferFlags.void_pending, pendingId: 7n })]), 'flags_invalid'],
  ['ledger 0', encodeTransfers([t({ ledger: 0 })]), 'ledger_invalid'],
  ['code 0', encodeTransfers([t({ code: 0 })]), 'code_invalid'],
  ['debit account 0', encodeTransfers([t({ debitAccountId: 0n })]), 'account_id_invalid'],
  ['credit account 2^128−1', encodeTransfers([t({ creditAccountId: idMax })]), 'account_id_invalid'],
  ['the same account twice', encodeTransfers([t({ creditAccountId: alice })]), 'accounts_must_be_different'],
  ['amount 0 on a single-phase transfer', encodeTransfers([t({}, 0n)]), 'amount_invalid'],
  ['amount 0 on a pending transfer', encodeTransfers([pending(100n, alice, bob, 0n)]), 'amount_invalid'],
  ['amount 0 on a reversal', encodeTransfers([t({ flags: TransferFlags.reversal, pendingId: 7n }, 0n)]), 'amount_invalid'],
  ['amount above amountMax', encodeTransfers([t({}, amountMax + 1n)]), 'amount_invalid'],
  ['a post without pendingId', encodeTransfers([t({ flags: TransferFlags.post_pending })]), 'pending_id_invalid'],
  ['a void without pendingId', encodeTransfers([t({ flags: TransferFlags.void_pending })]), 'pending_id_invalid'],
  ['a reversal without pendingId', encodeTransfers([t({ flags: TransferFlags.reversal })]), 'pending_id_invalid'],
  ['unfreeze_and_pay without pendingId', encodeTransfers([t({ flags: TransferFlags.unfreeze_and_pay })]), 'pending_id_invalid'],
  ['a single-phase transfer with pendingId', encodeTransfers([t({ pendingId: 7n })]), 'pending_id_invalid'],
  ['a pending transfer with pendingId', encodeTransfers([t({ flags: TransferFlags.pending, pendingId: 7n })]), 'pending_id_invalid'],
  ['a post naming itself', encodeTransfers([t({ flags: TransferFlags.post_pending, pendingId: 100n })]), 'pending_id_invalid'],
  ['a timeout on a single-phase transfer', encodeTransfers([t({ timeoutSeconds: 1 })]), 'timeout_invalid'],
  ['a timeout on a post', encodeTransfers([t({ flags: TransferFlags.post_pending, pendingId: 7n, timeoutSeconds: 1 })]), 'timeout_invalid'],
  ['a timeout past pendingTimeoutSecondsMax', encodeTransfers([pending(100n, alice, bob, 1n, pendingTimeoutSecondsMax + 1)]), 'timeout_invalid'],
  ['the longest timeout', encodeTransfers([pending(100n, alice, bob, 1n, pendingTimeoutSecondsMax)]), 'ok'],
  ['amountMax', encodeTransfers([transfer(100n, ids.bank, ids.merchant, amountMax)]), 'ok'],
];

const sides = AccountOperationFlags.debits | AccountOperationFlags.credits;
const operationCases: Case[] = [
  ['a timestamp', encodeAccountOperations([{ ...close(700n, alice), timestamp: 1n }]), 'timestamp_must_be_zero'],
  ['the reserved word', patched(encodeAccountOperations([close(700n, alice)]), (v) => v.setBigUint64(AccountOperationLayout.reserved, 1n, true)), 'reserved_field'],
  ['the reserved tail', patched(encodeAccountOperations([close(700n, alice)]), (v) => v.setUint8(127, 1)), 'reserved_field'],
  ['id 0', encodeAccountOperations([close(0n, alice)]), 'id_invalid'],
  ['id 2^128−1', encodeAccountOperations([close(idMax, alice)]), 'id_invalid'],
  ['an unknown flag', encodeAccountOperations([{ ...close(700n, alice), flags: 1 << 3 }]), 'flags_invalid'],
  ['kind 0', patched(encodeAccountOperations([close(700n, alice)]), (v) => v.setUint16(AccountOperationLayout.kind, 0, true)), 'flags_invalid'],
  ['kind 6', patched(encodeAccountOperations([close(700n, alice)]), (v) => v.setUint16(AccountOperationLayout.kind, 6, true)), 'flags_invalid'],
  ['a block without a side', encodeAccountOperations([{ ...block(700n, alice, 'both'), flags: 0 }]), 'flags_invalid'],
  ['an unblock without a side', encodeAccountOperations([{ ...block(700n, alice, 'both'), kind: 'unblock', flags: 0 }]), 'flags_invalid'],
  ['a side on a freeze', encodeAccountOperations([{ ...freeze(700n, alice, 1n), flags: sides }]), 'flags_invalid'],
  ['account 0', encodeAccountOperations([close(700n, 0n)]), 'account_id_invalid'],
  ['account 2^128−1', encodeAccountOperations([close(700n, idMax)]), 'account_id_invalid'],
  ['a freeze of 0', encodeAccountOperations([freeze(700n, alice, 0n)]), 'amount_invalid'],
  ['a freeze above amountMax', encodeAccountOperations([freeze(700n, alice, amountMax + 1n)]), 'amount_invalid'],
  ['an unfreeze above amountMax', encodeAccountOperations([unfreeze(700n, alice, 7n, amountMax + 1n)]), 'amount_invalid'],
  ['an amount on a block', encodeAccountOperations([{ ...block(700n, alice, 'debits'), amount: 1n }]), 'amount_invalid'],
  ['an amount on a close', encodeAccountOperations([{ ...close(700n, alice), amount: 1n }]), 'amount_invalid'],
  ['an unfreeze without freezeId', encodeAccountOperations([unfreeze(700n, alice, 0n)]), 'pending_id_invalid'],
  ['a freeze with freezeId', encodeAccountOperations([{ ...freeze(700n, alice, 1n), freezeId: 7n }]), 'pending_id_invalid'],
  ['a block with freezeId', encodeAccountOperations([{ ...block(700n, alice, 'credits'), freezeId: 7n }]), 'pending_id_invalid'],
  ['an unfreeze naming itself as the freeze', encodeAccountOperations([unfreeze(700n, alice, 700n)]), 'pending_id_invalid'],
  ['nothing wrong', encodeAccountOperations([freeze(700n, alice, 1n)]), 'ok'],
];

function newWorld(): LedgerHarness {
  const h = new LedgerHarness();
  standardWorld(h);
  return h;
}

describe('validation', () => {
  test.each(accountCases)('an account with %s: %s', (_name, body, expected) => {
    expect(newWorld().write(Operation.create_accounts, body)).toEqual([expected]);
  });

  test.each(transferCases)('a transfer with %s: %s', (_name, body, expected) => {
    expect(newWorld().write(Operation.create_transfers, body)).toEqual([expected]);
  });

  test.each(operationCases)('an account operation with %s: %s', (_name, body, expected) => {
    expect(newWorld().write(Operation.account_operations, body)).toEqual([expected]);
  });

  test('an event with several faults reports the first in precedence order', () => {
    const h = newWorld();
    expect(
      h.createTransfers([
        t({ timestamp: 1n, id: 0n }),
        t({ id: 0n, ledger: 0 }),
        t({ ledger: 0, code: 0 }),
        t({ debitAccountId: 0n, creditAccountId: 0n, code: 0 }),
        t({ creditAccountId: alice }, 0n),
        t({ flags: TransferFlags.pending, timeoutSeconds: 1, pendingId: 9n }, 0n),
      ]),
    ).toEqual(['timestamp_must_be_zero', 'id_invalid', 'ledger_invalid', 'code_invalid', 'accounts_must_be_different', 'amount_invalid']);
  });

  test('a refused event changes nothing and every refusal replays after a restart', () => {
    const h = newWorld();
    const before = h.account(alice);
    for (const [, body] of transferCases.filter(([, , expected]) => expected !== 'ok')) h.write(Operation.create_transfers, body);
    for (const [, body] of accountCases.filter(([, , expected]) => expected !== 'ok')) h.write(Operation.create_accounts, body);
    for (const [, body] of operationCases.filter(([, , expected]) => expected !== 'ok')) h.write(Operation.account_operations, body);
    expect(h.account(alice)).toEqual(before);
    expect(h.lookupTransfers([100n])).toEqual([]);
    h.restart();
    expect(h.account(alice)).toEqual(before);
  });

  test('validation runs before the duplicate check: a bad retry of a good event is refused for its fault', () => {
    const h = newWorld();
    expect(h.createTransfers([t()])).toEqual(['ok']);
    expect(h.createTransfers([t({ timestamp: 1n }), t({ code: 0 })])).toEqual(['timestamp_must_be_zero', 'code_invalid']);
    expect(h.createTransfers([t()])).toEqual(['exists']);
  });
});
