// Creating accounts and the operations on them: freeze, unfreeze, block, unblock, close.
// Stateful checks in precedence order, then the change; never a partial change.

import { assert } from '../assert.js';
import { StatusBits, accountStaticBytes } from '../accounts/account-table.js';
import { HotBits } from '../hot/hot-inbound.js';
import { AccountLayout as A, AccountOperationLayout as O } from '../layout.js';
import type { LedgerState } from './ledger-state.js';
import { CloseRefusedReason, ResultCode } from '../result-codes.js';
import { AccountOperationFlags, AccountOperationKind, isIdTakenElsewhereMark } from '../types.js';
import { idKeyAt, viewOf } from '../u128.js';
import { amountMax } from '../limits.js';
import { sameCallerFields } from './validate.js';
import { referenceMissCode } from './verdicts-elsewhere.js';

const assignedAccountFields = [A.timestamp] as const;
const assignedOperationFields = [O.timestamp] as const;

/** Result code in the low 16 bits, detail (e.g. CloseRefusedReason) in the high 16 bits. */
export function withDetail(code: number, detail: number): number {
  return code | (detail << 16);
}

export function createAccount(state: LedgerState, view: DataView, at: number): number {
  const existing = state.accounts.slotAt(view, at + A.id);
  if (existing >= 0) {
    // Bytes 64..127 of both records are zero (validated), so the account's static bytes decide.
    const same = sameCallerFields(view, at, viewOf(state.accounts.statics), existing * accountStaticBytes, assignedAccountFields, accountStaticBytes);
    return same ? ResultCode.exists : ResultCode.exists_with_different_fields;
  }
  const failed = state.accountsFailed.getAt(view, at + A.id);
  if (failed >= 0) {
    const stored = state.record(failed);
    return sameCallerFields(view, at, stored.view, stored.at, assignedAccountFields) ? state.storedResult(failed) : ResultCode.exists_with_different_fields;
  }
  assert(state.isLocal(view, at + A.id), 'an account is created on the shard its id routes to');
  const ledger = view.getUint32(at + A.ledger, true);
  const flags = view.getUint16(at + A.flags, true);
  const slot = state.accounts.add(view, at + A.id, ledger, flags);
  // A new account starts empty, so within any rule its flags set (LedgerState.withinRules).
  assert(slot === state.accounts.count - 1 && state.withinRules(slot), 'an account is created as the newest slot, empty');
  if (state.inChain) state.onUndo(() => state.accounts.removeLast(view, at + A.id));
  return ResultCode.ok;
}

export function applyAccountOperation(state: LedgerState, view: DataView, at: number, location: number): number {
  const duplicate = duplicateOperation(state, view, at);
  if (duplicate !== undefined) return duplicate;
  // Another shard holds this id (the router asked them all): the fields differ there, since an operation with the
  // same ones would have come to the same shard. Not remembered here: the id is that shard's.
  if (isIdTakenElsewhereMark(view.getUint16(at + O.flags, true))) return ResultCode.exists_with_different_fields;
  const slot = state.accounts.slotAt(view, at + O.accountId);
  if (slot < 0) return ResultCode.account_not_found;
  const kind = view.getUint16(at + O.kind, true);
  const closed = (state.accounts.statusOf(slot) & StatusBits.closed) !== 0;
  if (closed && kind !== AccountOperationKind.unfreeze) return ResultCode.account_closed;
  const result = applyKind(state, kind, slot, view, at, location);
  if (result !== ResultCode.ok) return result;
  state.operations.setAt(view, at + O.id, location);
  if (state.inChain) state.onUndo(() => state.operations.deleteAt(view, at + O.id));
  return ResultCode.ok;
}

function duplicateOperation(state: LedgerState, view: DataView, at: number): number | undefined {
  const location = state.operations.getAt(view, at + O.id);
  if (location >= 0) {
    const stored = state.record(location);
    return sameCallerFields(view, at, stored.view, stored.at, assignedOperationFields) ? ResultCode.exists : ResultCode.exists_with_different_fields;
  }
  const failed = state.operationsFailed.getAt(view, at + O.id);
  if (failed < 0) return undefined;
  const stored = state.record(failed);
  return sameCallerFields(view, at, stored.view, stored.at, assignedOperationFields) ? state.storedResult(failed) : ResultCode.exists_with_different_fields;
}

function applyKind(state: LedgerState, kind: number, slot: number, view: DataView, at: number, location: number): number {
  const flags = view.getUint16(at + O.flags, true);
  const amount = view.getBigUint64(at + O.amount, true);
  if (kind === AccountOperationKind.freeze) return freeze(state, slot, idKeyAt(view, at + O.id), amount);
  if (kind === AccountOperationKind.unfreeze) return unfreeze(state, slot, idKeyAt(view, at + O.freezeId), amount, location);
  if (kind === AccountOperationKind.block) return setBlocks(state, slot, blockBits(flags), true);
  if (kind === AccountOperationKind.unblock) return setBlocks(state, slot, blockBits(flags), false);
  if (kind === AccountOperationKind.mark_hot) return setHotInbound(state, slot, true, false, view.getBigUint64(at + O.timestamp, true));
  if (kind === AccountOperationKind.unmark_hot) return setHotInbound(state, slot, false, false, view.getBigUint64(at + O.timestamp, true));
  return close(state, slot);
}

function blockBits(flags: number): number {
  const debit = (flags & AccountOperationFlags.debits) !== 0 ? StatusBits.debitBlocked : 0;
  const credit = (flags & AccountOperationFlags.credits) !== 0 ? StatusBits.creditBlocked : 0;
  return debit | credit;
}

/** A freeze takes part of the available balance (credits − debits − pending − frozen) out of use. */
function freeze(state: LedgerState, slot: number, key: string, amount: bigint): number {
  assert(amount > 0n && amount <= amountMax, 'a freeze takes 1..amountMax'); // validated
  const accounts = state.accounts;
  const available = accounts.balance('creditsPosted', slot) - accounts.balance('debitsPosted', slot) - accounts.balance('debitsPending', slot) - accounts.balance('frozen', slot);
  if (amount > available) return ResultCode.insufficient_funds;
  state.move('frozen', slot, amount);
  // The operation id is new (duplicateOperation): a freeze opens under it, never over another.
  const freezesBefore = state.freezes.size;
  state.freezes.set(key, { slot, remaining: amount });
  assert(state.freezes.size === freezesBefore + 1, 'a freeze opens under a new id');
  if (state.inChain) state.onUndo(() => state.freezes.delete(key));
  return ResultCode.ok;
}

function unfreeze(state: LedgerState, slot: number, freezeKey: string, amountAsked: bigint, location: number): number {
  const hold = state.freezes.get(freezeKey);
  // A freeze of another shard's account (named with the wrong account): accounts_mismatch, as one shard finds it.
  if (hold === undefined) return referenceMissCode(state, location, ResultCode.freeze_not_found);
  if (hold.slot !== slot) return ResultCode.accounts_mismatch;
  if (hold.remaining === 0n || amountAsked > hold.remaining) return ResultCode.exceeds_frozen_amount;
  const amount = amountAsked === 0n ? hold.remaining : amountAsked;
  assert(amount > 0n && amount <= hold.remaining, 'an unfreeze releases 1..what the freeze still holds');
  state.move('frozen', slot, -amount);
  hold.remaining -= amount;
  // The frozen balance is the sum of the account's freezes (LedgerState.verifyAllBalances): it still covers this one.
  assert(state.accounts.balance('frozen', slot) >= hold.remaining, 'an unfreeze releases from the frozen balance what it takes off the freeze');
  if (state.inChain) state.onUndo(() => (hold.remaining += amount));
  return ResultCode.ok;
}

function setBlocks(state: LedgerState, slot: number, bits: number, blocked: boolean): number {
  const before = state.accounts.statusOf(slot);
  // Validated (a block names its sides); a closed account is refused before (applyAccountOperation).
  assert(bits !== 0 && (before & StatusBits.closed) === 0, 'a block changes a side of an open account');
  const after = blocked ? before | bits : before & ~bits;
  state.accounts.setStatus(slot, after);
  if (state.inChain) state.onUndo(() => state.accounts.setStatus(slot, before));
  return ResultCode.ok;
}

/**
 * Marks or un-marks an account hot-inbound (`auto`: by the credit-rate threshold). Un-marking applies
 * the buffer first; marking an account already marked makes the mark manual (no automatic un-mark).
 */
export function setHotInbound(state: LedgerState, slot: number, hot: boolean, auto: boolean, timestampNs: bigint): number {
  const before = state.accounts.hotOf(slot);
  if (!hot) {
    const buffer = state.buffers.get(slot);
    if (buffer !== undefined) state.applyBuffer(slot, buffer.seqLast, timestampNs);
  }
  // Posting reads the hot bit, not the buffers: an account leaves hot-inbound with nothing buffered.
  assert(hot || state.buffered(slot) === 0n, 'an account un-marked hot-inbound has nothing waiting in its buffer');
  const after = hot ? (before & ~HotBits.inboundAuto) | HotBits.inbound | (auto ? HotBits.inboundAuto : 0) : before & ~(HotBits.inbound | HotBits.inboundAuto);
  state.accounts.setHot(slot, after);
  const counted = ((after & HotBits.inbound) !== 0 ? 1 : 0) - ((before & HotBits.inbound) !== 0 ? 1 : 0);
  state.hotInboundAccounts += counted;
  assert(state.hotInboundAccounts >= 0 && state.hotInboundAccounts <= state.accounts.count, 'hot-inbound accounts are counted');
  if (state.inChain) {
    state.onUndo(() => {
      state.accounts.setHot(slot, before);
      state.hotInboundAccounts -= counted;
    });
  }
  return ResultCode.ok;
}

/** Closing needs nothing left on the account: no holds, no freezes, posted debits = credits. */
function close(state: LedgerState, slot: number): number {
  const accounts = state.accounts;
  if (accounts.balance('debitsPending', slot) !== 0n || accounts.balance('creditsPending', slot) !== 0n) {
    return withDetail(ResultCode.close_refused, CloseRefusedReason.pending_balance);
  }
  if (accounts.balance('frozen', slot) !== 0n) return withDetail(ResultCode.close_refused, CloseRefusedReason.frozen_balance);
  if (accounts.balance('debitsPosted', slot) !== state.creditsAccepted(slot)) return withDetail(ResultCode.close_refused, CloseRefusedReason.nonzero_balance);
  const before = accounts.statusOf(slot);
  // Open → closed only: a closed account is refused before (applyAccountOperation), and closing is final.
  assert((before & StatusBits.closed) === 0, 'only an open account closes');
  accounts.setStatus(slot, before | StatusBits.closed);
  if (state.inChain) state.onUndo(() => accounts.setStatus(slot, before));
  return ResultCode.ok;
}
