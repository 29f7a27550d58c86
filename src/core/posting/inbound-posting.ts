// The receiving half of a cross-shard transfer: applying one instruction from another shard.
// A credit debits this shard's transit-in half and credits the payee; if the payee cannot take it
// (gone, closed, credit-blocked, another ledger, limit, overflow) nothing moves here and a return
// instruction goes back. A return debits this shard's transit-out half and credits the payer — or,
// when the payer can no longer take money, this shard's suspense account: money is never stuck.

import { assert } from '../assert.js';
import { withDetail } from './account-operations.js';
import { StatusBits, accountStaticBytes } from '../accounts/account-table.js';
import { TransferLayout as T } from '../layout.js';
import type { CreditHold, LedgerState } from './ledger-state.js';
import { ResultCode } from '../result-codes.js';
import { SystemAccountKind, isSuspenseIdAt, systemAccountWithRoom } from '../accounts/system-accounts.js';
import { InstructionKind } from '../transit/transit.js';
import { recordHistory, reversalRemaining, type BalancesOut } from './transfer-posting.js';
import { AccountFlags, TransferFlags, transferKindFlags } from '../types.js';
import { idKeyAt } from '../u128.js';
import { amountMax, balanceMax } from '../limits.js';
import { shardOfIdAt } from '../routing.js';
import { CarriedCreditDetail } from './journal-entry.js';

/** Detail of an applied return: where the money went. */
export const ReturnDestination = {
  payer: 0,
  /** The payer could not take it back (closed, blocked, …): it waits in the suspense account (挂账). */
  suspense: 1,
} as const;

export interface Instruction {
  kind: number;
  fromShard: number;
  /** For a return: the code that refused the credit on the other shard. */
  reason: number;
}

/** Applies the instruction whose record is at `at` (already stamped with this shard's timestamp). */
export function applyInstruction(state: LedgerState, view: DataView, at: number, instruction: Instruction, location: number, out: BalancesOut): number {
  const amount = view.getBigUint64(at + T.amountEffective, true);
  assert(amount > 0n && amount <= amountMax, 'an instruction moves 1..amountMax');
  assert(!state.inChain, 'instructions are never part of a linked chain');
  if (instruction.kind === InstructionKind.credit) return applyCredit(state, view, at, instruction.fromShard, amount, location, out);
  if (instruction.kind === InstructionKind.hold) return applyHold(state, view, at, instruction.fromShard, amount, location, out);
  if (instruction.kind === InstructionKind.release) return applyRelease(state, view, at, location, out);
  assert(instruction.kind === InstructionKind.return, 'instruction kind is credit, hold, release or return');
  return applyReturn(state, view, at, instruction, amount, location, out);
}

function applyCredit(state: LedgerState, view: DataView, at: number, from: number, amount: bigint, location: number, out: BalancesOut): number {
  const result = landCredit(state, view, at, from, amount, location, out);
  if (result !== ResultCode.ok) stageReturn(state, view, at, from, result, amount);
  return result;
}

/** A credit from shard `from` onto its payee here: ok, or the payee's refusal (nothing then moves but a post's shown hold). */
function landCredit(state: LedgerState, view: DataView, at: number, from: number, amount: bigint, location: number, out: BalancesOut): number {
  const ledger = view.getUint32(at + T.ledger, true);
  const payee = state.accounts.slotAt(view, at + T.creditAccountId);
  // A post closes the hold shown here (if it was: not a hold refused on arrival, nor one opened before holds were
  // shown), whether or not its credit can land: on the payer's shard the hold is closed either way.
  if ((view.getUint16(at + T.flags, true) & transferKindFlags) === TransferFlags.post_pending) takeOffShownHold(state, idKeyAt(view, at + T.pendingId));
  // The transit generation is chosen (perhaps opened) only for a credit the payee takes.
  let refused = creditRefusal(state, payee, ledger, amount);
  const transit = refused === undefined ? systemAccountWithRoom(state, SystemAccountKind.transitIn, ledger, from, view.getBigUint64(at + T.timestamp, true), 'debits', amount) : -1;
  if (refused === undefined && transit < 0) refused = ResultCode.balance_overflow;
  if (refused !== undefined) return refused;
  assert(payee !== transit, 'a credit moves from the transit account to another account');
  state.move('debitsPosted', transit, amount);
  state.creditPosted(payee, amount, view, at);
  // Indexed so that the payee's shard can check a later reversal of this transfer (its debit shard).
  indexInbound(state, view, at, location);
  if (isReversal(view, at)) showReversedHere(state, view, at, amount);
  recordHistory(state, transit, payee, location, out);
  return ResultCode.ok;
}

/**
 * The credit half of another shard's event in a cross-shard chain group (core/chains/prepared-chains.ts): what its
 * instruction would do on arrival — credit the payee, or show its hold — done at the event's place among this
 * shard's events of the group, in the vote (undone with the chain) and in the commit. A payee that refuses answers
 * its refusal (the chain then fails, as on one shard), never a return.
 */
export function applyCreditHalf(state: LedgerState, view: DataView, at: number, location: number, out: BalancesOut): number {
  // The id is its payer's shard's: one whose credit already landed here was posted before (that shard answers exists).
  if (state.inbound.hasAt(view, at + T.id)) return ResultCode.exists;
  const kind = view.getUint16(at + T.flags, true) & transferKindFlags;
  const amount = view.getBigUint64(at + T.amount, true);
  assert(amount > 0n && amount <= amountMax && kind !== TransferFlags.void_pending, 'a carried credit half moves the amount its caller named');
  const from = shardOfIdAt(view, at + T.debitAccountId, state.shardCount);
  assert(from !== state.shardIndex, 'a credit half is of a payer on another shard');
  view.setBigUint64(at + T.amountEffective, amount, true);
  // The vote assumes the payer's half passes; where it cannot (a reversal beyond what is left of an original this shard
  // holds), this half refuses as well, so that nothing here is applied beyond what the payer's checks allow.
  if (kind === TransferFlags.reversal && reversalExceedsHere(state, view, at, amount)) return ResultCode.reversal_exceeds_remaining;
  // A post's half closes the hold shown here. One not shown (its hold instruction still on its way, or refused on
  // arrival) cannot be carried: the post would land before its hold. The round goes again with its credit left to an
  // instruction, which follows the hold's (prepared-chains.ts, examine).
  if (kind === TransferFlags.post_pending && !state.creditHolds.has(idKeyAt(view, at + T.pendingId))) return ResultCode.pending_not_found;
  const result = kind === TransferFlags.pending ? applyHold(state, view, at, from, amount, location, out) : landCredit(state, view, at, from, amount, location, out);
  return result === ResultCode.ok ? withDetail(ResultCode.ok, CarriedCreditDetail.creditHalf) : result;
}

/** Whether a reversal of `amount` is more than what remains of its original, when this shard holds the original. */
function reversalExceedsHere(state: LedgerState, view: DataView, at: number, amount: bigint): boolean {
  const location = state.transfers.getAt(view, at + T.pendingId);
  return location >= 0 && amount > reversalRemaining(state, location, idKeyAt(view, at + T.pendingId));
}

/** Indexes the transfer's id among the credits that landed here (undone with a chain that does not hold). */
function indexInbound(state: LedgerState, view: DataView, at: number, location: number): void {
  if (state.inbound.hasAt(view, at + T.id)) return;
  state.inbound.setAt(view, at + T.id, location);
  if (state.inChain) state.onUndo(() => state.inbound.deleteAt(view, at + T.id));
}

function applyReturn(state: LedgerState, view: DataView, at: number, instruction: Instruction, amount: bigint, location: number, out: BalancesOut): number {
  const ledger = view.getUint32(at + T.ledger, true);
  const timestamp = view.getBigUint64(at + T.timestamp, true);
  const transit = systemAccountWithRoom(state, SystemAccountKind.transitOut, ledger, instruction.fromShard, timestamp, 'debits', amount);
  assert(transit >= 0, 'a return finds a transit-out generation with room (fewer returns than sends)');
  let payer = state.accounts.slotAt(view, at + T.creditAccountId);
  let destination: number = ReturnDestination.payer;
  // On replay the journal copy already names the suspense account it was diverted to: decide the same way again.
  const diverted = isSuspenseIdAt(view, at + T.creditAccountId);
  if (diverted || creditRefusal(state, payer, ledger, amount) !== undefined) {
    payer = systemAccountWithRoom(state, SystemAccountKind.suspense, ledger, state.shardIndex, timestamp, 'credits', amount);
    assert(payer >= 0, 'a return finds a suspense generation with room');
    // The journal copy names where the money went (its generation), so history, vouchers and replays agree.
    copyId(state.accounts.staticsView, payer * accountStaticBytes, view, at + T.creditAccountId);
    destination = ReturnDestination.suspense;
  }
  assert(payer !== transit, 'a return moves from the transit account to another account');
  state.move('debitsPosted', transit, amount);
  state.move('creditsPosted', payer, amount);
  const originalKey = idKeyAt(view, at + T.id);
  assert(!state.returned.has(originalKey), 'a transfer is returned once');
  state.returned.set(originalKey, instruction.reason);
  undoReversedOfReturnedReversal(state, view, at, amount);
  recordHistory(state, transit, payer, location, out);
  return withDetail(ResultCode.ok, destination);
}

/**
 * A hold opened on the payer's shard, shown on the payee here so that its balances read as on one shard: the payee's
 * creditsPending against this shard's transit-in half (debitsPending). A payee that refuses it (a credit limit; the
 * payer's shard checked the rest in the account directory) is left as it was: the hold then shows only on the
 * payer's side, as holds did before, and its post lands as a plain credit (or comes back, as such credits do).
 */
function applyHold(state: LedgerState, view: DataView, at: number, from: number, amount: bigint, location: number, out: BalancesOut): number {
  const ledger = view.getUint32(at + T.ledger, true);
  const payee = state.accounts.slotAt(view, at + T.creditAccountId);
  const refused = holdRefusal(state, payee, ledger, amount);
  if (refused !== undefined) return refused;
  const transit = systemAccountWithRoom(state, SystemAccountKind.transitIn, ledger, from, view.getBigUint64(at + T.timestamp, true), 'debits', amount);
  if (transit < 0) return ResultCode.balance_overflow;
  assert(payee !== transit, 'a hold is shown on another account than the transit account');
  const key = idKeyAt(view, at + T.id);
  assert(!state.creditHolds.has(key), 'a hold is shown once');
  state.move('debitsPending', transit, amount);
  state.move('creditsPending', payee, amount);
  state.creditHolds.set(key, { payeeSlot: payee, transitSlot: transit, amount });
  if (state.inChain) state.onUndo(() => state.creditHolds.delete(key));
  // Indexed like a credit: a reversal naming the hold then finds it (original_not_reversible, as on one shard).
  indexInbound(state, view, at, location);
  recordHistory(state, transit, payee, location, out);
  return ResultCode.ok;
}

/**
 * A hold shown here was voided (the record is the void: in the payee's history, as on one shard) or expired (the
 * record is the hold: an expiry is in no history). One never shown here answers pending_not_found and moves nothing.
 */
function applyRelease(state: LedgerState, view: DataView, at: number, location: number, out: BalancesOut): number {
  const kind = view.getUint16(at + T.flags, true) & transferKindFlags;
  assert(kind === TransferFlags.void_pending || kind === TransferFlags.pending, 'a release is of a void or an expired hold');
  const voids = kind === TransferFlags.void_pending;
  const shown = takeOffShownHold(state, idKeyAt(view, at + (voids ? T.pendingId : T.id)));
  if (shown === undefined) return ResultCode.pending_not_found;
  assert(shown.amount === view.getBigUint64(at + T.amountEffective, true), 'a release takes off the whole hold');
  if (voids) recordHistory(state, shown.transitSlot, shown.payeeSlot, location, out);
  return ResultCode.ok;
}

/** Takes the shown hold `key` off its payee and transit half; returns it, or undefined when none is shown. */
function takeOffShownHold(state: LedgerState, key: string): CreditHold | undefined {
  const shown = state.creditHolds.get(key);
  if (shown === undefined) return undefined;
  state.move('debitsPending', shown.transitSlot, -shown.amount);
  state.move('creditsPending', shown.payeeSlot, -shown.amount);
  state.creditHolds.delete(key);
  if (state.inChain) state.onUndo(() => state.creditHolds.set(key, shown));
  return shown;
}

/** Why the account at `slot` cannot be shown a hold of `amount` now (one shard's checks of a pending credit), or undefined. */
function holdRefusal(state: LedgerState, slot: number, ledger: number, amount: bigint): number | undefined {
  return payeeRefusal(state, slot, ledger, amount) ?? (state.fits('creditsPending', slot, amount) ? undefined : ResultCode.balance_overflow);
}

/** Why the account at `slot` cannot be credited `amount` now, or undefined. */
function creditRefusal(state: LedgerState, slot: number, ledger: number, amount: bigint): number | undefined {
  const refused = payeeRefusal(state, slot, ledger, amount);
  if (refused !== undefined) return refused;
  if (!state.fits('creditsPosted', slot, amount)) return ResultCode.balance_overflow;
  if (state.buffers.has(slot) && state.creditsAccepted(slot) + amount > balanceMax) return ResultCode.balance_overflow;
  return undefined;
}

/** The checks a payee makes of any credit, posted or pending, before its overflow checks: existence, ledger, status, limit. */
function payeeRefusal(state: LedgerState, slot: number, ledger: number, amount: bigint): number | undefined {
  assert(amount > 0n, 'a credit to check is positive');
  const accounts = state.accounts;
  if (slot < 0) return ResultCode.account_not_found;
  if (accounts.ledgerOf(slot) !== ledger) return ResultCode.ledger_mismatch;
  if ((accounts.statusOf(slot) & StatusBits.closed) !== 0) return ResultCode.account_closed;
  if ((accounts.statusOf(slot) & StatusBits.creditBlocked) !== 0) return ResultCode.account_blocked;
  if ((accounts.flagsOf(slot) & AccountFlags.credits_must_not_exceed_debits) !== 0) {
    if (state.creditsAccepted(slot) + accounts.balance('creditsPending', slot) + amount > accounts.balance('debitsPosted', slot)) {
      return ResultCode.credits_exceed_debits;
    }
  }
  return undefined;
}

const returnScratch = new DataView(new ArrayBuffer(128));

/** Sends the amount back: a reversal-shaped record (payee → payer) under the original's id. */
function stageReturn(state: LedgerState, view: DataView, at: number, to: number, reason: number, amount: bigint): void {
  // A return carries the code that refused the credit, and gives back all of it.
  assert(reason !== ResultCode.ok && amount > 0n, 'a return names why the credit was refused and moves its amount');
  const scratch = returnScratch;
  new Uint8Array(scratch.buffer).set(new Uint8Array(view.buffer, view.byteOffset + at, 128));
  copyId(view, at + T.creditAccountId, scratch, T.debitAccountId);
  copyId(view, at + T.debitAccountId, scratch, T.creditAccountId);
  copyId(view, at + T.id, scratch, T.pendingId);
  scratch.setBigUint64(T.amount, amount, true);
  scratch.setBigUint64(T.amountEffective, amount, true);
  scratch.setUint32(T.timeoutSeconds, 0, true);
  scratch.setUint16(T.flags, TransferFlags.reversal, true);
  scratch.setBigUint64(T.timestamp, 0n, true);
  state.outbox.stage(to, state.shardIndex, InstructionKind.return, reason, scratch, 0);
}

function copyId(from: DataView, fromAt: number, to: DataView, toAt: number): void {
  to.setBigUint64(toAt, from.getBigUint64(fromAt, true), true);
  to.setBigUint64(toAt + 8, from.getBigUint64(fromAt + 8, true), true);
}

function isReversal(view: DataView, at: number): boolean {
  return (view.getUint16(at + T.flags, true) & transferKindFlags) === TransferFlags.reversal;
}

/**
 * A cross-shard reversal credits the original's payer, whose shard holds the original: its
 * `amountReversed` there follows, so a lookup of the original shows the reversal.
 */
function showReversedHere(state: LedgerState, view: DataView, at: number, amount: bigint): void {
  if (!state.transfers.hasAt(view, at + T.pendingId)) return;
  const key = idKeyAt(view, at + T.pendingId);
  const before = state.reversed.get(key) ?? 0n;
  const reversed = before + amount;
  state.reversed.set(key, reversed);
  if (state.inChain) state.onUndo(() => (before === 0n ? state.reversed.delete(key) : state.reversed.set(key, before)));
  // The payee's shard refused a reversal beyond what remained, and a returned one is taken off again below.
  const original = state.record(state.transfers.getAt(view, at + T.pendingId));
  assert(reversed <= original.view.getBigUint64(original.at + T.amountEffective, true), 'a transfer is never reversed beyond its effective amount');
}

/** A returned reversal gave nothing back: the original it reversed has that much left to reverse again. */
function undoReversedOfReturnedReversal(state: LedgerState, view: DataView, at: number, amount: bigint): void {
  const location = state.transfers.getAt(view, at + T.id);
  if (location < 0) return;
  const original = state.record(location);
  if ((original.view.getUint16(original.at + T.flags, true) & transferKindFlags) !== TransferFlags.reversal) return;
  const key = idKeyAt(original.view, original.at + T.pendingId);
  assert(amount > 0n, 'a returned reversal gave back a positive amount');
  const reversed = state.reversed.get(key) ?? 0n;
  assert(reversed >= amount, 'a returned reversal was counted');
  if (reversed === amount) state.reversed.delete(key);
  else state.reversed.set(key, reversed - amount);
}
