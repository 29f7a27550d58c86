// References another shard holds (issue #14, items 20 and 21). A post or void runs on the shard of the debit account
// it names, a reversal likewise, an unfreeze_and_pay on its account's shard; the hold, the original or the freeze it
// names lives on its own payer's shard. Named with the wrong accounts, the reference is then on another shard, and
// its shard alone would answer pending_not_found / original_not_found / freeze_not_found where one shard finds the
// reference and answers accounts_mismatch (or that the hold is closed, the original not reversible). So the router
// asks the other shards what they would answer at the reference's check (referenceVerdicts, below), and marks the
// event with the answer (core/wire/references-elsewhere.ts); its shard takes the mark off before any check
// (takeReferenceMark) and answers it only where it finds no reference of its own (referenceMissCode).
// On replay, and when a vote's commit re-executes its events, the answer is the result the event was decided with.

import { AccountOperationLayout as O, TransferLayout as T } from '../layout.js';
import { eventBytes, locationEventsPerBatchMax } from '../limits.js';
import { ResultCode } from '../result-codes.js';
import { TransferFlags, TransferStatus, accountOperationReferenceElsewhere, transferCallerMarkInvalid, transferKindFlags, transferReferenceElsewhere } from '../types.js';
import { equalIdsAt, idKeyAt } from '../u128.js';
import { holdOutcome } from './hold-outcomes.js';
import type { LedgerState } from './ledger-state.js';
import { storedResultCode } from './remote-payee.js';

/** Kinds after which money has left the payer for good (a hold or a void moves nothing across). */
export function movesMoney(kind: number): boolean {
  return kind === 0 || kind === TransferFlags.post_pending || kind === TransferFlags.reversal || kind === TransferFlags.unfreeze_and_pay;
}

/**
 * Takes the router's mark off transfer event `index` (at `at` of `view`, an entry being applied live), keeping its
 * code in state.referenceVerdicts: the event is the caller's again before its checks, its duplicate comparison and
 * its journal copy. A caller's own copy of the mark (transferCallerMarkInvalid beside it) stays: flags_invalid.
 */
export function takeReferenceMark(state: LedgerState, view: DataView, at: number, index: number, count: number): void {
  const flags = view.getUint16(at + T.flags, true);
  if ((flags & (transferReferenceElsewhere | transferCallerMarkInvalid)) !== transferReferenceElsewhere) return;
  (state.referenceVerdicts ??= new Uint16Array(count))[index] = view.getUint16(at + T.amountEffective, true);
  view.setUint16(at + T.flags, flags & ~transferReferenceElsewhere, true);
  view.setBigUint64(at + T.amountEffective, 0n, true);
}

/**
 * The same for account operation `index`: an unfreeze whose freeze lives on another shard, always accounts_mismatch
 * there (a freeze is its account's, and this names another account).
 */
export function takeOperationReferenceMark(state: LedgerState, view: DataView, at: number, index: number, count: number): void {
  const flags = view.getUint16(at + O.flags, true);
  if ((flags & (accountOperationReferenceElsewhere | transferCallerMarkInvalid)) !== accountOperationReferenceElsewhere) return;
  (state.referenceVerdicts ??= new Uint16Array(count))[index] = ResultCode.accounts_mismatch;
  view.setUint16(at + O.flags, flags & ~accountOperationReferenceElsewhere, true);
}

/**
 * What the event at `location` answers when its shard holds no reference under its pendingId: what the shard
 * holding it said (the router's mark), else `missCode`; on replay or a vote's commit, the result it was decided with.
 */
export function referenceMissCode(state: LedgerState, location: number, missCode: number): number {
  if (state.payeeVerdicts !== null) return storedResultCode(state.payeeVerdicts, location);
  const marked = state.referenceVerdicts?.[location % locationEventsPerBatchMax] ?? 0;
  return marked !== 0 ? marked : missCode;
}

/**
 * Why a hold not open is refused (the pending id at `at` of `view`): it never was a hold here, or was posted, voided
 * or expired (hold-outcomes.ts). Undefined when no transfer here has that id.
 */
export function closedHoldCode(state: LedgerState, view: DataView, at: number): number | undefined {
  const location = state.transfers.getAt(view, at);
  if (location < 0) return undefined;
  const pending = state.record(location);
  if ((pending.view.getUint16(pending.at + T.flags, true) & transferKindFlags) !== TransferFlags.pending) return ResultCode.pending_not_found;
  const timeoutSeconds = pending.view.getUint32(pending.at + T.timeoutSeconds, true);
  const { status } = holdOutcome(state, view, at, timeoutSeconds);
  if (status === TransferStatus.pending_posted) return ResultCode.pending_already_posted;
  if (status === TransferStatus.pending_voided) return ResultCode.pending_already_voided;
  // Open holds are in state.pendings: a hold not open was closed one of these ways.
  return ResultCode.pending_expired;
}

/**
 * Whether the original at `location` may no longer be reversed: it moved no money, is itself a reversal, or came
 * back returned. Before the accounts are compared, as one shard checks.
 */
export function originalNotReversible(state: LedgerState, location: number, view: DataView, pendingIdAt: number): boolean {
  const original = state.record(location);
  const kind = original.view.getUint16(original.at + T.flags, true) & transferKindFlags;
  return !movesMoney(kind) || kind === TransferFlags.reversal || state.returned.has(idKeyAt(view, pendingIdAt));
}

/**
 * The router's question to a shard that is not the events' own: per transfer event of `body` (128 B each), the u16
 * code one shard would answer at its reference's check when the reference is here, or 0 (not here, or here with
 * the answer the event's own shard gives too). The events name accounts of another shard, so a hold or freeze here
 * never has their debit account: accounts_mismatch, as one shard finds.
 */
export function referenceVerdicts(state: LedgerState, body: Uint8Array): Uint8Array {
  const count = body.byteLength / eventBytes;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const reply = new Uint8Array(count * 2);
  const out = new DataView(reply.buffer);
  for (let i = 0; i < count; i++) out.setUint16(i * 2, verdictHere(state, view, i * eventBytes), true);
  return reply;
}

function verdictHere(state: LedgerState, view: DataView, at: number): number {
  const kind = view.getUint16(at + T.flags, true) & transferKindFlags;
  const pendingIdAt = at + T.pendingId;
  // The event's own shard: it answers itself.
  if (state.accounts.slotAt(view, at + T.debitAccountId) >= 0) return 0;
  if (kind === TransferFlags.post_pending || kind === TransferFlags.void_pending) {
    // Most questions are about holds this shard never had: one id probe, no key built.
    if (state.transfers.getAt(view, pendingIdAt) < 0) return 0;
    if (state.pendings.has(idKeyAt(view, pendingIdAt))) return ResultCode.accounts_mismatch;
    const closed = closedHoldCode(state, view, pendingIdAt);
    return closed === undefined || closed === ResultCode.pending_not_found ? 0 : closed;
  }
  if (kind === TransferFlags.reversal) {
    let location = state.transfers.getAt(view, pendingIdAt);
    if (location < 0) location = state.inbound.getAt(view, pendingIdAt);
    if (location < 0) return 0;
    if (originalNotReversible(state, location, view, pendingIdAt)) return ResultCode.original_not_reversible;
    const original = state.record(location);
    const mirrored = equalIdsAt(original.view, original.at + T.debitAccountId, view, at + T.creditAccountId) &&
      equalIdsAt(original.view, original.at + T.creditAccountId, view, at + T.debitAccountId);
    // Mirrored, the original is on the reversal's own shard too (its payee's, where its credit landed).
    return mirrored ? 0 : ResultCode.accounts_mismatch;
  }
  // A freeze is opened under its operation's id: one id probe before the key is built.
  if (kind === TransferFlags.unfreeze_and_pay) return state.operations.getAt(view, pendingIdAt) >= 0 && state.freezes.has(idKeyAt(view, pendingIdAt)) ? ResultCode.accounts_mismatch : 0;
  return 0;
}
