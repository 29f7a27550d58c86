// The common case of posting without BigInt: a plain transfer (no kind flag) outside a linked chain, into
// an account that is not hot-inbound, whose amount and the balances it reads stay below 2^53. The checks
// of transfer-posting.ts for that case, in the same precedence order, in exact number arithmetic. When a
// value is 2^53 or more it changes nothing and answers `notPlain`: the caller then takes the BigInt path,
// which decides everything again (so a refusal can never differ between the two paths).

import { Balance, StatusBits } from '../accounts/account-table.js';
import { HotBits } from '../hot/hot-inbound.js';
import { TransferLayout as T } from '../layout.js';
import type { LedgerState } from './ledger-state.js';
import { ResultCode } from '../result-codes.js';
import { AccountFlags } from '../types.js';
import { exactNumberLimit, u64NumberAt } from '../u64-words.js';

/** postPlainTransfer's answer when the transfer is not for the number path; nothing was changed. */
export const notPlain = -1;

/**
 * Checks and posts the plain transfer at `at` between the resolved slots `debit` and `credit` (the credit
 * side may be a transit account) of `ledger`, writing its effective amount. Returns a result code, or
 * notPlain when the number path does not apply.
 */
export function postPlainTransfer(state: LedgerState, view: DataView, at: number, debit: number, credit: number, ledger: number): number {
  // No assertion in this module: postPlainTransfer is 458 bytes of bytecode, just under the 460 V8 (Node 20)
  // inlines, and postTransfer inlines close to V8's cumulative budget (an assertion here or in limitRefusal cost
  // 2–5% of the plain micro-benchmark). The postconditions are asserted where the balances change:
  // LedgerState.postPlain reads both sides and the overdraft rules back; RunningTotals.addPosted checks the amount.
  const accounts = state.accounts;
  const amount = u64NumberAt(view, at + T.amount);
  if (state.inChain || amount === Infinity || (accounts.hotOf(credit) & HotBits.inbound) !== 0) return notPlain;
  const debitStatus = accounts.statusOf(debit);
  const creditStatus = accounts.statusOf(credit);
  if (((debitStatus | creditStatus) & StatusBits.closed) !== 0) return ResultCode.account_closed;
  if ((debitStatus & StatusBits.debitBlocked) !== 0 || (creditStatus & StatusBits.creditBlocked) !== 0) return ResultCode.account_blocked;
  const refused = limitRefusal(state, debit, credit, amount);
  if (refused !== undefined) return refused;
  // Both balances stay below 2^53, so below 2^64: there is no balance_overflow to decide here.
  const debitsAfter = accounts.balanceNumber(Balance.debitsPosted, debit) + amount;
  const creditsAfter = accounts.balanceNumber(Balance.creditsPosted, credit) + amount;
  if (debitsAfter >= exactNumberLimit || creditsAfter >= exactNumberLimit) return notPlain;
  state.postPlain(debit, credit, ledger, amount);
  // A plain transfer moves what it asks for: the effective amount is the amount, copied as raw words.
  view.setUint32(at + T.amountEffective, view.getUint32(at + T.amount, true), true);
  view.setUint32(at + T.amountEffective + 4, view.getUint32(at + T.amount + 4, true), true);
  return ResultCode.ok;
}

/**
 * The overdraft rules of either account (insufficient_funds, credits_exceed_debits), or notPlain when a
 * sum they compare is not exact. A balance of 2^53 or more reads as Infinity: as the right-hand side of
 * a comparison with an exact sum it still compares truly (it is larger).
 */
function limitRefusal(state: LedgerState, debit: number, credit: number, amount: number): number | undefined {
  const accounts = state.accounts;
  if ((accounts.flagsOf(debit) & AccountFlags.debits_must_not_exceed_credits) !== 0) {
    const committed = accounts.balanceNumber(Balance.debitsPosted, debit) + accounts.balanceNumber(Balance.debitsPending, debit) + accounts.balanceNumber(Balance.frozen, debit) + amount;
    if (committed >= exactNumberLimit) return notPlain;
    if (committed > accounts.balanceNumber(Balance.creditsPosted, debit)) return ResultCode.insufficient_funds;
  }
  if ((accounts.flagsOf(credit) & AccountFlags.credits_must_not_exceed_debits) !== 0) {
    // Nothing waits in a buffer: the account is not hot-inbound (LedgerState.verifyAllBalances asserts it).
    const committed = accounts.balanceNumber(Balance.creditsPosted, credit) + accounts.balanceNumber(Balance.creditsPending, credit) + amount;
    if (committed >= exactNumberLimit) return notPlain;
    if (committed > accounts.balanceNumber(Balance.debitsPosted, credit)) return ResultCode.credits_exceed_debits;
  }
  return undefined;
}
