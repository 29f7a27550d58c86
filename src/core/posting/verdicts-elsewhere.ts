// What another shard answers for an event (issue #14). A transfer runs on the shard of the debit account it names;
// two of the checks one shard makes of it need state that lives on another shard:
// - its reference (items 20 and 21): a post, void, reversal or unfreeze_and_pay named with the wrong accounts finds
//   no hold, original or freeze on its own shard, where one shard finds it and answers accounts_mismatch (or that
//   the hold is closed, the original not reversible); an account operation `unfreeze` likewise;
// - its payee's balance rule (item 4) and overflow check (item 5): a payee on another shard with
//   credits_must_not_exceed_debits, or whose credits run high (DirectoryMarks), whose balances only its own shard
//   holds; without asking, the credit was refused on arrival and came back `returned` after `ok`.
//   For a whole freeze paid to it (the amount only the payer's shard knows) the payee's shard reports its room and
//   the payer's shard compares.
// So before the request runs the router asks the other shards (eventVerdicts, below) and marks the events with
// their answers (core/wire/verdicts-elsewhere.ts); the event's shard takes the marks off before any check
// (takeRouterVerdicts) and answers each at its place in one shard's order of checks. On replay, and when a vote's
// commit re-executes its events, the answers are the results the events were decided with.
// A payee's verdict is asked once the earlier requests crediting it are answered and their credits have landed
// (shards/set/judged-payee-fences.ts), so its shard judges them in arrival order, as one shard would; the check on
// arrival stays as the safety net (counted in transit.returned).

import { AccountOperationLayout as O, TransferLayout as T } from '../layout.js';
import { amountMax, balanceMax, eventBytes, locationEventsPerBatchMax } from '../limits.js';
import { ResultCode } from '../result-codes.js';
import { JournalEntryKind } from '../operations.js';
import {
  AccountFlags,
  TransferFlags,
  paysWholeFreeze,
  raisesPayeeCredits,
  TransferStatus,
  accountOperationReferenceElsewhere,
  transferCallerMarkInvalid,
  transferKindFlags,
  transferPayeeRefusesElsewhere,
  transferPayeeRoomElsewhere,
  transferReferenceElsewhere,
  directoryMarksAll,
} from '../types.js';
import { assert } from '../assert.js';
import { equalIdsAt, idKeyAt } from '../u128.js';
import { holdOutcome } from './hold-outcomes.js';
import type { LedgerState } from './ledger-state.js';
import { storedResultCode } from './remote-payee.js';

/**
 * Bytes of one event's answer in an eventVerdicts reply: the reference's code (u16), the payee's (u16), and for a
 * whole freeze paid to a capped payee here its room for credits + 1 (u64; 0: not given, as by every other shard).
 */
export const eventVerdictBytes = 12;

/** Kinds after which money has left the payer for good (a hold or a void moves nothing across). */
export function movesMoney(kind: number): boolean {
  return kind === 0 || kind === TransferFlags.post_pending || kind === TransferFlags.reversal || kind === TransferFlags.unfreeze_and_pay;
}

/**
 * Takes the router's marks off transfer event `index` (at `at` of `view`, an entry being applied live), keeping
 * their codes in state.verdictsElsewhere: the event is the caller's again before its checks, its duplicate
 * comparison and its journal copy. A caller's own copy of a mark (transferCallerMarkInvalid beside it) stays:
 * flags_invalid.
 */
export function takeRouterVerdicts(state: LedgerState, view: DataView, at: number, index: number, count: number): void {
  const marks = transferVerdictMarks(view, at);
  if (marks === 0) return;
  const reference = (marks & transferReferenceElsewhere) !== 0 ? view.getUint16(at + T.amountEffective, true) : 0;
  const payee = (marks & transferPayeeRefusesElsewhere) !== 0 ? view.getUint16(at + T.amountEffective + 2, true) : 0;
  (state.verdictsElsewhere ??= new Uint32Array(count))[index] = reference | (payee << 16);
  if ((marks & transferPayeeRoomElsewhere) !== 0) (state.payeeRoomsElsewhere ??= new Map()).set(index, view.getBigUint64(at + T.amountEffective, true));
  clearTransferMarks(view, at, marks);
}

/** The router's verdict marks on the transfer at `at` (0: none, or a caller's copy, made flags_invalid elsewhere). */
function transferVerdictMarks(view: DataView, at: number): number {
  const flags = view.getUint16(at + T.flags, true);
  const marks = flags & (transferReferenceElsewhere | transferPayeeRefusesElsewhere | transferPayeeRoomElsewhere);
  return (flags & transferCallerMarkInvalid) !== 0 ? 0 : marks;
}

/** The caller's transfer again: `marks` off its flags, its amountEffective word (zero on input) zero. */
function clearTransferMarks(view: DataView, at: number, marks: number): void {
  view.setUint16(at + T.flags, view.getUint16(at + T.flags, true) & ~marks, true);
  view.setBigUint64(at + T.amountEffective, 0n, true);
}

/** Whether the account operation at `at` carries the router's reference mark (not a caller's copy). */
const hasOperationVerdictMark = (view: DataView, at: number): boolean =>
  (view.getUint16(at + O.flags, true) & (accountOperationReferenceElsewhere | transferCallerMarkInvalid)) === accountOperationReferenceElsewhere;

function clearOperationMark(view: DataView, at: number): void {
  view.setUint16(at + O.flags, view.getUint16(at + O.flags, true) & ~accountOperationReferenceElsewhere, true);
}

/**
 * Takes the router's verdict marks off the event at `at` of `view` (an event of `operation`), in place, as the
 * checks do for a live event: what a vote keeps of an event to remember its failure must be the caller's event,
 * so that a resend compares equal (`exists`-style: its original failure) and not exists_with_different_fields.
 */
export function clearRouterVerdicts(operation: number, view: DataView, at: number): void {
  if (operation === JournalEntryKind.create_transfers) {
    const marks = transferVerdictMarks(view, at);
    if (marks !== 0) clearTransferMarks(view, at, marks);
  } else if (operation === JournalEntryKind.account_operations && hasOperationVerdictMark(view, at)) {
    clearOperationMark(view, at);
  }
}

/**
 * The same for account operation `index`: an unfreeze whose freeze lives on another shard, always accounts_mismatch
 * there (a freeze is its account's, and this names another account).
 */
export function takeOperationRouterVerdicts(state: LedgerState, view: DataView, at: number, index: number, count: number): void {
  if (!hasOperationVerdictMark(view, at)) return;
  (state.verdictsElsewhere ??= new Uint32Array(count))[index] = ResultCode.accounts_mismatch;
  clearOperationMark(view, at);
}

/**
 * What the event at `location` answers when its shard holds no reference under its pendingId: what the shard
 * holding it said (the router's mark), else `missCode`; on replay or a vote's commit, the result it was decided with.
 */
export function referenceMissCode(state: LedgerState, location: number, missCode: number): number {
  if (state.payeeVerdicts !== null) return storedResultCode(state.payeeVerdicts, location);
  const marked = (state.verdictsElsewhere?.[location % locationEventsPerBatchMax] ?? 0) & 0xffff;
  return marked !== 0 ? marked : missCode;
}

/**
 * The code the payee on another shard of the event at `location` refuses its credit with — credits_exceed_debits
 * (its balance rule) or balance_overflow (a credit balance past 2^64 − 1) — as its shard answered, or on replay or a
 * vote's commit as the event was decided; 0 when it takes it. A payee on this shard is never asked (its own checks
 * run), and a remote one is never refused so here otherwise.
 */
export function remotePayeeCode(state: LedgerState, location: number): number {
  if (state.payeeVerdicts !== null) {
    const stored = storedResultCode(state.payeeVerdicts, location);
    return stored === ResultCode.credits_exceed_debits || stored === ResultCode.balance_overflow ? stored : 0;
  }
  return (state.verdictsElsewhere?.[location % locationEventsPerBatchMax] ?? 0) >>> 16;
}

/**
 * The room a capped payee on another shard has for the whole freeze the event at `location` pays (its shard's
 * answer), or undefined: not such an event, or on replay (the stored result then decides: remotePayeeRefuses).
 */
export function remotePayeeRoom(state: LedgerState, location: number): bigint | undefined {
  return state.payeeRoomsElsewhere?.get(location % locationEventsPerBatchMax);
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
  // Pending → posted | voided | expired, and no other status: a hold not open was closed one of these ways.
  assert(status === TransferStatus.pending_expired, 'a hold not open was posted, voided or expired');
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

/** Whether the reversal at `at` of `view` names the original's accounts the other way round (compared by id). */
export function mirrorsOriginal(state: LedgerState, location: number, view: DataView, at: number): boolean {
  const original = state.record(location);
  return equalIdsAt(original.view, original.at + T.debitAccountId, view, at + T.creditAccountId) &&
    equalIdsAt(original.view, original.at + T.creditAccountId, view, at + T.debitAccountId);
}

/**
 * The router's question to a shard that is not the events' own: per transfer event of `body` (128 B each, in request
 * order), eventVerdictBytes: the u16 code one shard would answer at its reference's check when the reference is here
 * (else 0), then the u16 code its payee's balance rule gives when the payee is here (else 0). The events name debit
 * accounts of another shard, so a hold or freeze here never has their debit account: accounts_mismatch, as one shard
 * finds. A payee's credits are counted as one shard would meet them: after the earlier events of the request that
 * pay it here, each taken as passing.
 */
export function eventVerdicts(state: LedgerState, body: Uint8Array): Uint8Array {
  const count = body.byteLength / eventBytes;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const reply = new Uint8Array(count * eventVerdictBytes);
  const out = new DataView(reply.buffer);
  const creditsAhead = new Map<number, bigint>();
  const debitsAhead = new Map<number, bigint>();
  for (let i = 0; i < count; i++) {
    const at = i * eventBytes;
    // The event's own shard answers itself; sent here, it debits a capped account here and makes room (roomMakersOf).
    const debit = state.accounts.slotAt(view, at + T.debitAccountId);
    if (debit >= 0) {
      noteRoomMade(state, view, at, debit, debitsAhead);
      continue;
    }
    out.setUint16(i * eventVerdictBytes, referenceVerdict(state, view, at), true);
    writePayeeAnswer(state, view, at, creditsAhead, debitsAhead, out, i * eventVerdictBytes);
  }
  return reply;
}

/** An earlier event of the request debiting capped account `debit` here: its posted debit, taken as passing, is room. */
function noteRoomMade(state: LedgerState, view: DataView, at: number, debit: number, debitsAhead: Map<number, bigint>): void {
  if ((state.accounts.flagsOf(debit) & AccountFlags.credits_must_not_exceed_debits) === 0) return;
  const kind = view.getUint16(at + T.flags, true) & transferKindFlags;
  // What raises debitsPosted at once with an amount the event names (a whole post or freeze pay counts none: never more room than one shard sees).
  if (kind !== 0 && kind !== TransferFlags.reversal && kind !== TransferFlags.post_pending && kind !== TransferFlags.unfreeze_and_pay) return;
  const amount = view.getBigUint64(at + T.amount, true);
  if (amount > 0n) debitsAhead.set(debit, (debitsAhead.get(debit) ?? 0n) + amount);
}

function referenceVerdict(state: LedgerState, view: DataView, at: number): number {
  const kind = view.getUint16(at + T.flags, true) & transferKindFlags;
  const pendingIdAt = at + T.pendingId;
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
    // Mirrored, the original is on the reversal's own shard too (its payee's, where its credit landed).
    return mirrorsOriginal(state, location, view, at) ? 0 : ResultCode.accounts_mismatch;
  }
  // A freeze is opened under its operation's id: one id probe before the key is built.
  if (kind === TransferFlags.unfreeze_and_pay) return state.operations.getAt(view, pendingIdAt) >= 0 && state.freezes.has(idKeyAt(view, pendingIdAt)) ? ResultCode.accounts_mismatch : 0;
  return 0;
}

/**
 * The payee's balance checks, as balanceRefusal makes them on one shard, for an event whose payee is here
 * (`creditsAhead`: this request's earlier credits to each payee slot here, each taken as passing — inside one stage
 * only a linked chain credits a judged payee twice, and a chain is all or nothing: request-stages.ts). Its balance
 * rule when capped: the code credits_exceed_debits at `outAt + 2` when its amount does not fit; for a whole freeze
 * paid to it (its amount only the payer's shard knows) the room + 1 at `outAt + 4` instead (0 stays "not given"), and
 * a later credit of the request to it is judged as if the freeze took the whole room: refused rather than ever
 * returned. Otherwise the overflow check (overflowAnswer).
 */
function writePayeeAnswer(state: LedgerState, view: DataView, at: number, creditsAhead: Map<number, bigint>, debitsAhead: ReadonlyMap<number, bigint>, out: DataView, outAt: number): void {
  const kind = view.getUint16(at + T.flags, true) & transferKindFlags;
  if (!raisesPayeeCredits(kind) && kind !== TransferFlags.post_pending) return;
  const payee = state.accounts.slotAt(view, at + T.creditAccountId);
  if (payee < 0) return;
  // A capped payee's credits stay within its posted debits (≤ 2^64 − 1): it never overflows; a post moves what a
  // hold already counted.
  if ((state.accounts.flagsOf(payee) & AccountFlags.credits_must_not_exceed_debits) === 0 || kind === TransferFlags.post_pending) {
    overflowAnswer(state, view, at, kind, payee, creditsAhead, out, outAt);
    return;
  }
  const accounts = state.accounts;
  const ahead = creditsAhead.get(payee) ?? 0n;
  const room = accounts.balance('debitsPosted', payee) + (debitsAhead.get(payee) ?? 0n) - state.creditsAccepted(payee) - accounts.balance('creditsPending', payee) - ahead;
  const amount = view.getBigUint64(at + T.amount, true);
  if (paysWholeFreeze(kind, amount === 0n)) {
    const given = room > 0n ? room : 0n;
    out.setBigUint64(outAt + 4, given + 1n, true);
    creditsAhead.set(payee, ahead + given);
  } else if (amount > room) {
    out.setUint16(outAt + 2, ResultCode.credits_exceed_debits, true);
  } else {
    creditsAhead.set(payee, ahead + amount);
  }
}

/**
 * The overflow check one shard makes of a payee's credit (balanceRefusal: creditsPosted with its hot-inbound buffer, or
 * creditsPending for a hold, plus the amount, within 2^64 − 1), for a payee here the router has judged here because
 * its credits run high (account-directory.ts DirectoryMarks): balance_overflow at `outAt + 2`, or for an amount only
 * the payer's shard knows (a whole freeze, a whole hold posted) the room + 1 at `outAt + 4`, judged there. Answers
 * nothing where no amount could overflow (every question about a reference also passes here).
 */
function overflowAnswer(state: LedgerState, view: DataView, at: number, kind: number, payee: number, creditsAhead: Map<number, bigint>, out: DataView, outAt: number): void {
  // Only a payee the router judges for overflow (marked): for any other no credit can overflow (limits.ts
  // creditsHighFrom), and the sums below, which take an amount only the payer's shard knows as the most it could
  // be, would refuse what one shard takes (questions about references carry every cross-shard post).
  const directory = state.directory;
  if (directory === null || !directory.mayHoldWith(view, at + T.creditAccountId, directoryMarksAll)) return;
  const marks = directory.flagsAt(view, at + T.creditAccountId);
  if (marks < 0 || (marks & directoryMarksAll) === 0) return;
  const holds = kind === TransferFlags.pending;
  // Apart from the capped rule's sums (keyed by slot): a negative key per field.
  const key = -2 * payee - (holds ? 2 : 1);
  const ahead = creditsAhead.get(key) ?? 0n;
  const held = holds ? state.accounts.balance('creditsPending', payee) : state.creditsAccepted(payee);
  let amount = view.getBigUint64(at + T.amount, true);
  // A whole hold posted moves the amount shown here, when it was shown.
  if (amount === 0n && kind === TransferFlags.post_pending) amount = state.creditHolds.get(idKeyAt(view, at + T.pendingId))?.amount ?? 0n;
  const whole = amount === 0n && (kind === TransferFlags.post_pending || paysWholeFreeze(kind, true));
  if (held + ahead + (whole ? amountMax : amount) <= balanceMax) {
    creditsAhead.set(key, ahead + (whole ? amountMax : amount));
    return;
  }
  const room = balanceMax - held - ahead;
  if (whole) {
    out.setBigUint64(outAt + 4, (room > 0n ? room : 0n) + 1n, true);
    creditsAhead.set(key, balanceMax - held); // a later credit is judged as if this one took the whole room
  } else if (amount > room) {
    out.setUint16(outAt + 2, ResultCode.balance_overflow, true);
  } else {
    creditsAhead.set(key, ahead + amount);
  }
}
