// Small builders for ledger specs and a standard little world of accounts, so that each spec
// states only what matters to it. Ids below 100 are accounts; transfers and operations use more.

import type { AccountInput, AccountOperationInput, TransferInput } from '../../src/core/wire/records.js';
import { AccountFlags, AccountOperationFlags, TransferFlags } from '../../src/core/types.js';
import type { LedgerHarness } from './ledger-harness.js';

export const ledgerMain = 1;
export const ledgerOther = 2;
export const codeDefault = 10;

/** The standard world's accounts. */
export const ids = {
  /** The bank: no balance rules, the source of all money here. */
  bank: 1n,
  /** Customers: no overdraft (debits_must_not_exceed_credits). */
  alice: 2n,
  bob: 3n,
  /** A merchant without balance rules. */
  merchant: 4n,
  /** A debit-normal account: credits_must_not_exceed_debits. */
  capped: 5n,
  /** An account that never had money, so it can be closed. */
  empty: 6n,
  /** On another ledger. */
  foreign: 9n,
} as const;

/** Alice's opening balance in the standard world. */
export const aliceFunds = 100n;
/** The transfer that funds Alice. */
export const fundingId = 1000n;

export function account(id: bigint, extra: Partial<AccountInput> = {}): AccountInput {
  return { id, ledger: ledgerMain, code: codeDefault, ...extra };
}

export function transfer(id: bigint, debitAccountId: bigint, creditAccountId: bigint, amount: bigint, extra: Partial<TransferInput> = {}): TransferInput {
  return { id, debitAccountId, creditAccountId, amount, ledger: ledgerMain, code: codeDefault, ...extra };
}

export function pending(id: bigint, debitAccountId: bigint, creditAccountId: bigint, amount: bigint, timeoutSeconds = 0): TransferInput {
  return transfer(id, debitAccountId, creditAccountId, amount, { flags: TransferFlags.pending, timeoutSeconds });
}

/** Posts the hold `pendingId` (amount 0 = all of it) between the same accounts. */
export function post(id: bigint, hold: TransferInput, amount = 0n): TransferInput {
  return transfer(id, hold.debitAccountId, hold.creditAccountId, amount, { flags: TransferFlags.post_pending, pendingId: hold.id });
}

export function voidHold(id: bigint, hold: TransferInput): TransferInput {
  return transfer(id, hold.debitAccountId, hold.creditAccountId, 0n, { flags: TransferFlags.void_pending, pendingId: hold.id });
}

/** Gives back `amount` of the posted transfer `original`: the accounts swap sides. */
export function reversal(id: bigint, original: TransferInput, amount: bigint): TransferInput {
  return transfer(id, original.creditAccountId, original.debitAccountId, amount, { flags: TransferFlags.reversal, pendingId: original.id });
}

export function unfreezeAndPay(id: bigint, freezeId: bigint, debitAccountId: bigint, creditAccountId: bigint, amount = 0n): TransferInput {
  return transfer(id, debitAccountId, creditAccountId, amount, { flags: TransferFlags.unfreeze_and_pay, pendingId: freezeId });
}

export function linked<T extends { flags?: number }>(event: T): T {
  return { ...event, flags: (event.flags ?? 0) | TransferFlags.linked };
}

export function freeze(id: bigint, accountId: bigint, amount: bigint): AccountOperationInput {
  return { id, accountId, kind: 'freeze', amount };
}

export function unfreeze(id: bigint, accountId: bigint, freezeId: bigint, amount = 0n): AccountOperationInput {
  return { id, accountId, kind: 'unfreeze', freezeId, amount };
}

export type Sides = 'debits' | 'credits' | 'both';

function sideFlags(sides: Sides): number {
  if (sides === 'debits') return AccountOperationFlags.debits;
  if (sides === 'credits') return AccountOperationFlags.credits;
  return AccountOperationFlags.debits | AccountOperationFlags.credits;
}

export function block(id: bigint, accountId: bigint, sides: Sides): AccountOperationInput {
  return { id, accountId, kind: 'block', flags: sideFlags(sides) };
}

export function unblock(id: bigint, accountId: bigint, sides: Sides): AccountOperationInput {
  return { id, accountId, kind: 'unblock', flags: sideFlags(sides) };
}

export function close(id: bigint, accountId: bigint): AccountOperationInput {
  return { id, accountId, kind: 'close' };
}

/** Marks the account hot-inbound (its credits buffered, applied in summary). */
export function markHot(id: bigint, accountId: bigint): AccountOperationInput {
  return { id, accountId, kind: 'mark_hot', flags: AccountOperationFlags.credits };
}

export function unmarkHot(id: bigint, accountId: bigint): AccountOperationInput {
  return { id, accountId, kind: 'unmark_hot', flags: AccountOperationFlags.credits };
}

/** Creates the standard world and funds Alice from the bank; asserts that all of it succeeded. */
export function standardWorld(h: LedgerHarness): void {
  const noOverdraft = { flags: AccountFlags.debits_must_not_exceed_credits };
  const created = h.createAccounts([
    account(ids.bank),
    account(ids.alice, noOverdraft),
    account(ids.bob, noOverdraft),
    account(ids.merchant),
    account(ids.capped, { flags: AccountFlags.credits_must_not_exceed_debits }),
    account(ids.empty),
    account(ids.foreign, { ledger: ledgerOther }),
  ]);
  const funded = h.createTransfers([transfer(fundingId, ids.bank, ids.alice, aliceFunds)]);
  if (!created.every((r) => r === 'ok') || funded[0] !== 'ok') throw new Error(`standard world failed: ${created} ${funded}`);
  // So that the next batch is stamped with the clock itself, as deadlines in specs assume.
  h.advanceSeconds(1);
}

/** Available balance as DOMAIN.md §3 means it: credits − debits − pending debits − frozen. */
export function availableOf(h: LedgerHarness, id: bigint): bigint {
  const a = h.account(id);
  return a.creditsPosted - a.debitsPosted - a.debitsPending - a.frozen;
}
