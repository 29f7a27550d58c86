// Field checks that need no state: one flat line per rule, in the precedence order of
// result-codes.ts. They read the fixed-layout record in place and never allocate on success.

import { assert } from '../assert.js';
import { isSliceIdAt } from '../hot/hot-outbound.js';
import { isSystemIdAt, isTransitIdAt } from '../accounts/system-accounts.js';
import { AccountLayout, AccountOperationLayout, TransferLayout } from '../layout.js';
import { amountMax, pendingTimeoutSecondsMax } from '../limits.js';
import { ResultCode } from '../result-codes.js';
import {
  AccountFlags,
  AccountOperationFlags,
  AccountOperationKind,
  TransferFlags,
  accountFlagsKnown,
  accountOperationFlagsKnown,
  accountOperationIdTakenElsewhere,
  transferFlagsKnown,
  transferIdTakenElsewhere,
  transferKindFlags,
  transferNamesLedgerAccount,
} from '../types.js';
import { isZero128 } from '../u128.js';
import { isZeroU64At } from '../u64-words.js';

// An amount is above amountMax (2^63 − 1) exactly when its high word is above amountMax's: read without a BigInt.
assert((amountMax & 0xffff_ffffn) === 0xffff_ffffn, 'amountMax ends in a full low word');
const amountMaxHighWord = Number(amountMax >> 32n);

export function isMax128(view: DataView, offset: number): boolean {
  return (
    view.getUint32(offset, true) === 0xffffffff &&
    view.getUint32(offset + 4, true) === 0xffffffff &&
    view.getUint32(offset + 8, true) === 0xffffffff &&
    view.getUint32(offset + 12, true) === 0xffffffff
  );
}

function hasNonZero(view: DataView, from: number, to: number): boolean {
  for (let i = from; i < to; i += 4) if (view.getUint32(i, true) !== 0) return true;
  return false;
}

function bitCount(value: number): number {
  let count = 0;
  for (let v = value; v !== 0; v &= v - 1) count++;
  return count;
}

/**
 * `assignedChecked` is false when replaying the journal, whose copies already carry the
 * timestamp and effective amount the ledger assigned.
 */
export function validateTransfer(view: DataView, at: number, assignedChecked: boolean): number {
  const L = TransferLayout;
  const flags = view.getUint16(at + L.flags, true);
  const kind = flags & transferKindFlags;
  const amountZero = isZeroU64At(view, at + L.amount);
  const amountAboveMax = view.getUint32(at + L.amount + 4, true) > amountMaxHighWord;
  const needsReference = (kind & ~TransferFlags.pending) !== 0;
  const wholeAllowed = kind === TransferFlags.post_pending || kind === TransferFlags.void_pending || kind === TransferFlags.unfreeze_and_pay;
  if (assignedChecked && !isZeroU64At(view, at + L.timestamp)) return ResultCode.timestamp_must_be_zero;
  if (assignedChecked && !isZeroU64At(view, at + L.amountEffective)) return ResultCode.reserved_field;
  if (isZero128(view, at + L.id) || isMax128(view, at + L.id)) return ResultCode.id_invalid;
  // The router's mark of an id taken on another shard is the one bit outside the callers' flags a shard accepts.
  if ((flags & ~(transferFlagsKnown | transferIdTakenElsewhere | transferNamesLedgerAccount)) !== 0 || bitCount(kind) > 1) return ResultCode.flags_invalid;
  if (view.getUint32(at + L.ledger, true) === 0) return ResultCode.ledger_invalid;
  if (view.getUint16(at + L.code, true) === 0) return ResultCode.code_invalid;
  if (isZero128(view, at + L.debitAccountId) || isMax128(view, at + L.debitAccountId)) return ResultCode.account_id_invalid;
  if (isZero128(view, at + L.creditAccountId) || isMax128(view, at + L.creditAccountId)) return ResultCode.account_id_invalid;
  // Only the ledger moves money through transit accounts; a caller's posting there would break their netting. Slices
  // and suspense accounts are the ledger's too: the shard set marks a caller's transfer naming one.
  if (isTransitIdAt(view, at + L.debitAccountId) || isTransitIdAt(view, at + L.creditAccountId)) return ResultCode.account_id_invalid;
  if ((flags & transferNamesLedgerAccount) !== 0) return ResultCode.account_id_invalid;
  if (equal128(view, at + L.debitAccountId, at + L.creditAccountId)) return ResultCode.accounts_must_be_different;
  if (amountAboveMax || (amountZero && !wholeAllowed)) return ResultCode.amount_invalid;
  if (needsReference === isZero128(view, at + L.pendingId)) return ResultCode.pending_id_invalid;
  if (needsReference && equal128(view, at + L.pendingId, at + L.id)) return ResultCode.pending_id_invalid;
  const timeoutSeconds = view.getUint32(at + L.timeoutSeconds, true);
  if (timeoutSeconds !== 0 && (kind !== TransferFlags.pending || timeoutSeconds > pendingTimeoutSecondsMax)) return ResultCode.timeout_invalid;
  return ResultCode.ok;
}

/** Whether the u128 at `at` is an id the ledger derives for itself: transit, suspense (system range) or a slice. */
export function isDerivedIdAt(view: DataView, at: number): boolean {
  return isSystemIdAt(view, at) || isSliceIdAt(view, at);
}

export function validateAccount(view: DataView, at: number, assignedChecked: boolean): number {
  const L = AccountLayout;
  const flags = view.getUint16(at + L.flags, true);
  if (assignedChecked && view.getBigUint64(at + L.timestamp, true) !== 0n) return ResultCode.timestamp_must_be_zero;
  if (view.getUint32(at + L.reserved, true) !== 0 || hasNonZero(view, at + L.outputStart, at + 128)) return ResultCode.reserved_field;
  // The system range (transit, suspense) and the slice range belong to accounts the ledger opens itself:
  // an account of a caller's there could pose as one of them (a slice without the no-overdraft rule mints money).
  if (isZero128(view, at + L.id) || isMax128(view, at + L.id) || isDerivedIdAt(view, at + L.id)) return ResultCode.id_invalid;
  return validateAccountRules(view, at, flags);
}

/**
 * A slice of a hot-outbound account, opened by the ledger itself (journal entries flagged opensSlices):
 * a slice-range id, exactly the no-overdraft flag, and its hot account named in user_data_128, whose low
 * 64 bits the id carries. Nothing else may be opened by such an entry.
 */
export function validateSliceAccount(view: DataView, at: number, assignedChecked: boolean): number {
  const L = AccountLayout;
  const flags = view.getUint16(at + L.flags, true);
  if (assignedChecked && view.getBigUint64(at + L.timestamp, true) !== 0n) return ResultCode.timestamp_must_be_zero;
  if (view.getUint32(at + L.reserved, true) !== 0 || hasNonZero(view, at + L.outputStart, at + 128)) return ResultCode.reserved_field;
  if (!isSliceIdAt(view, at + L.id)) return ResultCode.id_invalid;
  if (view.getBigUint64(at + L.id, true) !== view.getBigUint64(at + L.userData128, true) || isDerivedIdAt(view, at + L.userData128)) return ResultCode.id_invalid;
  if (flags !== AccountFlags.debits_must_not_exceed_credits) return ResultCode.flags_invalid;
  return validateAccountRules(view, at, flags);
}

/** The checks after the id's, common to callers' accounts and slices. */
function validateAccountRules(view: DataView, at: number, flags: number): number {
  const L = AccountLayout;
  const bothOverdraftRules = AccountFlags.debits_must_not_exceed_credits | AccountFlags.credits_must_not_exceed_debits;
  if ((flags & ~accountFlagsKnown) !== 0 || (flags & bothOverdraftRules) === bothOverdraftRules) return ResultCode.flags_invalid;
  // A hot-outbound account's money is split over slices that may never be overdrawn: no overdraft anywhere.
  if ((flags & AccountFlags.hot_outbound) !== 0 && (flags & AccountFlags.debits_must_not_exceed_credits) === 0) return ResultCode.flags_invalid;
  if (view.getUint32(at + L.ledger, true) === 0) return ResultCode.ledger_invalid;
  if (view.getUint16(at + L.code, true) === 0) return ResultCode.code_invalid;
  return ResultCode.ok;
}

export function validateAccountOperation(view: DataView, at: number, assignedChecked: boolean): number {
  const L = AccountOperationLayout;
  const flags = view.getUint16(at + L.flags, true);
  const kind = view.getUint16(at + L.kind, true);
  const sides = flags & (AccountOperationFlags.debits | AccountOperationFlags.credits);
  const isBlockKind = kind === AccountOperationKind.block || kind === AccountOperationKind.unblock;
  const isHotKind = kind === AccountOperationKind.mark_hot || kind === AccountOperationKind.unmark_hot;
  const amount = view.getBigUint64(at + L.amount, true);
  if (assignedChecked && view.getBigUint64(at + L.timestamp, true) !== 0n) return ResultCode.timestamp_must_be_zero;
  if (view.getBigUint64(at + L.reserved, true) !== 0n || hasNonZero(view, at + L.tailStart, at + 128)) return ResultCode.reserved_field;
  if (isZero128(view, at + L.id) || isMax128(view, at + L.id)) return ResultCode.id_invalid;
  // The shard set's mark (accountOperationIdTakenElsewhere) is accepted; a caller's copy of it arrives with a bit no
  // operation may carry (withCallerMarksInvalid) and is flags_invalid, at any shard count.
  if ((flags & ~(accountOperationFlagsKnown | accountOperationIdTakenElsewhere)) !== 0 || kind < AccountOperationKind.freeze || kind > AccountOperationKind.unmark_hot) return ResultCode.flags_invalid;
  if (isBlockKind === (sides === 0) && !isHotKind) return ResultCode.flags_invalid;
  // Hot marks name the side: credits (hot-inbound). Hot-outbound (debits) is not offered yet.
  if (isHotKind && sides !== AccountOperationFlags.credits) return ResultCode.flags_invalid;
  // Transit, suspense and slice accounts are the ledger's: a freeze, block, close or hot mark there would
  // stall cross-shard money or the slice keeper.
  if (isZero128(view, at + L.accountId) || isMax128(view, at + L.accountId) || isDerivedIdAt(view, at + L.accountId)) return ResultCode.account_id_invalid;
  if (kind === AccountOperationKind.freeze && (amount === 0n || amount > amountMax)) return ResultCode.amount_invalid;
  if (kind !== AccountOperationKind.freeze && kind !== AccountOperationKind.unfreeze && amount !== 0n) return ResultCode.amount_invalid;
  if (amount > amountMax) return ResultCode.amount_invalid;
  if ((kind === AccountOperationKind.unfreeze) === isZero128(view, at + L.freezeId)) return ResultCode.pending_id_invalid;
  if (kind === AccountOperationKind.unfreeze && equal128(view, at + L.freezeId, at + L.id)) return ResultCode.pending_id_invalid;
  return ResultCode.ok;
}

function equal128(view: DataView, a: number, b: number): boolean {
  return (
    view.getUint32(a, true) === view.getUint32(b, true) &&
    view.getUint32(a + 4, true) === view.getUint32(b + 4, true) &&
    view.getUint32(a + 8, true) === view.getUint32(b + 8, true) &&
    view.getUint32(a + 12, true) === view.getUint32(b + 12, true)
  );
}

/** True when two records are equal on the bytes a caller sets (everything but the assigned fields). */
export function sameCallerFields(a: DataView, aAt: number, b: DataView, bAt: number, assigned: readonly number[], bytes = 128): boolean {
  for (let i = 0; i < bytes; i += 8) {
    if (assigned.includes(i)) continue;
    if (a.getBigUint64(aAt + i, true) !== b.getBigUint64(bAt + i, true)) return false;
  }
  return true;
}
