// Creating accounts and the operations on them: freeze, unfreeze, block, unblock, close.
// Stateful checks in precedence order, then the change; never a partial change.

import { assert } from '../assert.js';
import { StatusBits, accountStaticBytes } from '../accounts/account-table.js';
import { HotBits } from '../hot/hot-inbound.js';
import { AccountLayout as A, AccountOperationLayout as O } from '../layout.js';
import type { LedgerState } from './ledger-state.js';
import { CloseRefusedReason, ResultCode } from '../result-codes.js';
import { AccountOperationFlags, AccountOperationKind } from '../types.js';
import { idKeyAt, viewOf } from '../u128.js';
import { amountMax } from '../limits.js';
import { sameCallerFields } from './validate.js';

const assignedAccountFields = [A.timestamp] as const;
const assignedOperationFields = [O.timestamp] as const;

/** Result code in the low 16 bits, detail (e.g. CloseRefusedReason) in the high 16 bits. */
export function withDetail(code: number, detail: number): number {
  return code | (detail << 16);
}

export function createAccount(s: LedgerState, view: DataView, at: number): number {
  const existing = s.accounts.slotAt(view, at + A.id);
  if (existing >= 0) {
    // Bytes 64..127 of both records are zero (validated), so the account's static bytes decide.
    const same = sameCallerFields(view, at, viewOf(s.accounts.statics), existing * accountStaticBytes, assignedAccountFields, accountStaticBytes);
    return same ? ResultCode.exists : ResultCode.exists_with_different_fields;
  }
  const failed = s.accountsFailed.getAt(view, at + A.id);
  if (failed >= 0) {
    const stored = s.record(failed);
    return sameCallerFields(view, at, stored.view, stored.at, assignedAccountFields) ? s.storedResult(failed) : ResultCode.exists_with_different_fields;
  }
  assert(s.isLocal(view, at + A.id), 'an account is created on the shard its id routes to');
  const ledger = view.getUint32(at + A.ledger, true);
  const flags = view.getUint16(at + A.flags, true);
  const slot = s.accounts.add(view, at + A.id, ledger, flags);
  // A new account starts empty, so within any rule its flags set (LedgerState.withinRules).
  assert(slot === s.accounts.count - 1 && s.withinRules(slot), 'an account is created as the newest slot, empty');
  if (s.inChain) s.onUndo(() => s.accounts.removeLast(view, at + A.id));
  return ResultCode.ok;
}

export function applyAccountOperation(s: LedgerState, view: DataView, at: number, location: number): number {
  const duplicate = duplicateOperation(s, view, at);
  if (duplicate !== undefined) return duplicate;
  const slot = s.accounts.slotAt(view, at + O.accountId);
  if (slot < 0) return ResultCode.account_not_found;
  const kind = view.getUint16(at + O.kind, true);
  const closed = (s.accounts.statusOf(slot) & StatusBits.closed) !== 0;
  if (closed && kind !== AccountOperationKind.unfreeze) return ResultCode.account_closed;
  const result = applyKind(s, kind, slot, view, at);
  if (result !== ResultCode.ok) return result;
  s.operations.setAt(view, at + O.id, location);
  if (s.inChain) s.onUndo(() => s.operations.deleteAt(view, at + O.id));
  return ResultCode.ok;
}

function duplicateOperation(s: LedgerState, view: DataView, at: number): number | undefined {
  const location = s.operations.getAt(view, at + O.id);
  if (location >= 0) {
    const stored = s.record(location);
    return sameCallerFields(view, at, stored.view, stored.at, assignedOperationFields) ? ResultCode.exists : ResultCode.exists_with_different_fields;
  }
  const failed = s.operationsFailed.getAt(view, at + O.id);
  if (failed < 0) return undefined;
  const stored = s.record(failed);
  return sameCallerFields(view, at, stored.view, stored.at, assignedOperationFields) ? s.storedResult(failed) : ResultCode.exists_with_different_fields;
}

function applyKind(s: LedgerState, kind: number, slot: number, view: DataView, at: number): number {
  const flags = view.getUint16(at + O.flags, true);
  const amount = view.getBigUint64(at + O.amount, true);
  if (kind === AccountOperationKind.freeze) return freeze(s, slot, idKeyAt(view, at + O.id), amount);
  if (kind === AccountOperationKind.unfreeze) return unfreeze(s, slot, idKeyAt(view, at + O.freezeId), amount);
  if (kind === AccountOperationKind.block) return setBlocks(s, slot, blockBits(flags), true);
  if (kind === AccountOperationKind.unblock) return setBlocks(s, slot, blockBits(flags), false);
  if (kind === AccountOperationKind.mark_hot) return setHotInbound(s, slot, true, false, view.getBigUint64(at + O.timestamp, true));
  if (kind === AccountOperationKind.unmark_hot) return setHotInbound(s, slot, false, false, view.getBigUint64(at + O.timestamp, true));
  return close(s, slot);
}

function blockBits(flags: number): number {
  const debit = (flags & AccountOperationFlags.debits) !== 0 ? StatusBits.debitBlocked : 0;
  const credit = (flags & AccountOperationFlags.credits) !== 0 ? StatusBits.creditBlocked : 0;
  return debit | credit;
}

/** A freeze takes part of the available balance (credits − debits − pending − frozen) out of use. */
function freeze(s: LedgerState, slot: number, key: string, amount: bigint): number {
  assert(amount > 0n && amount <= amountMax, 'a freeze takes 1..amountMax'); // validated
  const a = s.accounts;
  const available = a.balance('creditsPosted', slot) - a.balance('debitsPosted', slot) - a.balance('debitsPending', slot) - a.balance('frozen', slot);
  if (amount > available) return ResultCode.insufficient_funds;
  s.move('frozen', slot, amount);
  // The operation id is new (duplicateOperation): a freeze opens under it, never over another.
  const freezesBefore = s.freezes.size;
  s.freezes.set(key, { slot, remaining: amount });
  assert(s.freezes.size === freezesBefore + 1, 'a freeze opens under a new id');
  if (s.inChain) s.onUndo(() => s.freezes.delete(key));
  return ResultCode.ok;
}

function unfreeze(s: LedgerState, slot: number, freezeKey: string, amountAsked: bigint): number {
  const hold = s.freezes.get(freezeKey);
  if (hold === undefined) return ResultCode.freeze_not_found;
  if (hold.slot !== slot) return ResultCode.accounts_mismatch;
  if (hold.remaining === 0n || amountAsked > hold.remaining) return ResultCode.exceeds_frozen_amount;
  const amount = amountAsked === 0n ? hold.remaining : amountAsked;
  assert(amount > 0n && amount <= hold.remaining, 'an unfreeze releases 1..what the freeze still holds');
  s.move('frozen', slot, -amount);
  hold.remaining -= amount;
  // The frozen balance is the sum of the account's freezes (LedgerState.verifyAllBalances): it still covers this one.
  assert(s.accounts.balance('frozen', slot) >= hold.remaining, 'an unfreeze releases from the frozen balance what it takes off the freeze');
  if (s.inChain) s.onUndo(() => (hold.remaining += amount));
  return ResultCode.ok;
}

function setBlocks(s: LedgerState, slot: number, bits: number, blocked: boolean): number {
  const before = s.accounts.statusOf(slot);
  // Validated (a block names its sides); a closed account is refused before (applyAccountOperation).
  assert(bits !== 0 && (before & StatusBits.closed) === 0, 'a block changes a side of an open account');
  const after = blocked ? before | bits : before & ~bits;
  s.accounts.setStatus(slot, after);
  if (s.inChain) s.onUndo(() => s.accounts.setStatus(slot, before));
  return ResultCode.ok;
}

/**
 * Marks or un-marks an account hot-inbound (`auto`: by the credit-rate threshold). Un-marking applies
 * the buffer first; marking an account already marked makes the mark manual (no automatic un-mark).
 */
export function setHotInbound(s: LedgerState, slot: number, hot: boolean, auto: boolean, timestampNs: bigint): number {
  const before = s.accounts.hotOf(slot);
  if (!hot) {
    const buffer = s.buffers.get(slot);
    if (buffer !== undefined) s.applyBuffer(slot, buffer.seqLast, timestampNs);
  }
  // Posting reads the hot bit, not the buffers: an account leaves hot-inbound with nothing buffered.
  assert(hot || s.buffered(slot) === 0n, 'an account un-marked hot-inbound has nothing waiting in its buffer');
  const after = hot ? (before & ~HotBits.inboundAuto) | HotBits.inbound | (auto ? HotBits.inboundAuto : 0) : before & ~(HotBits.inbound | HotBits.inboundAuto);
  s.accounts.setHot(slot, after);
  const counted = ((after & HotBits.inbound) !== 0 ? 1 : 0) - ((before & HotBits.inbound) !== 0 ? 1 : 0);
  s.hotInboundAccounts += counted;
  assert(s.hotInboundAccounts >= 0 && s.hotInboundAccounts <= s.accounts.count, 'hot-inbound accounts are counted');
  if (s.inChain) {
    s.onUndo(() => {
      s.accounts.setHot(slot, before);
      s.hotInboundAccounts -= counted;
    });
  }
  return ResultCode.ok;
}

/** Closing needs nothing left on the account: no holds, no freezes, posted debits = credits. */
function close(s: LedgerState, slot: number): number {
  const a = s.accounts;
  if (a.balance('debitsPending', slot) !== 0n || a.balance('creditsPending', slot) !== 0n) {
    return withDetail(ResultCode.close_refused, CloseRefusedReason.pending_balance);
  }
  if (a.balance('frozen', slot) !== 0n) return withDetail(ResultCode.close_refused, CloseRefusedReason.frozen_balance);
  if (a.balance('debitsPosted', slot) !== s.creditsAccepted(slot)) return withDetail(ResultCode.close_refused, CloseRefusedReason.nonzero_balance);
  const before = a.statusOf(slot);
  // Open → closed only: a closed account is refused before (applyAccountOperation), and closing is final.
  assert((before & StatusBits.closed) === 0, 'only an open account closes');
  a.setStatus(slot, before | StatusBits.closed);
  if (s.inChain) s.onUndo(() => a.setStatus(slot, before));
  return ResultCode.ok;
}
