// Posting one transfer: the stateful checks in precedence order, then the balance moves.
// Never partially applies: every check runs before the first `move`. Returns a result code.

import { assert } from '../assert.js';
import { StatusBits, accountStaticBytes, balanceWordIndex } from '../accounts/account-table.js';
import { TransferLayout as T } from '../layout.js';
import { amountMax, balanceMax } from '../limits.js';
import type { LedgerState } from './ledger-state.js';
import { ResultCode } from '../result-codes.js';
import { AccountFlags, TransferFlags, transferIdTakenElsewhere, transferKindFlags } from '../types.js';
import { equalIdsAt, idKeyAt, writeIdKeyAt } from '../u128.js';
import { isZeroU64At } from '../u64-words.js';
import { shardOfIdAt } from '../routing.js';
import { SystemAccountKind, isSystemIdAt, isTransitIdAt, systemAccountRoomyNow, systemAccountSlot, systemAccountWithRoom, systemKey, systemKeyOfIdAt } from '../accounts/system-accounts.js';
import { InstructionKind } from '../transit/transit.js';
import { HotBits } from '../hot/hot-inbound.js';
import { notPlain, postPlainTransfer } from './plain-transfer.js';
import { sameCallerFields } from './validate.js';
import { closedHoldCode, mirrorsOriginal, movesMoney, originalNotReversible, referenceMissCode, remotePayeeCode, remotePayeeRoom } from './verdicts-elsewhere.js';
import { remotePayee } from './remote-payee.js';
import { sliceOwnerStatus } from './slice-owner.js';
import { isSliceIdAt } from '../hot/hot-outbound.js';
import { ledgerOfEntry, notInDirectory, statusOfEntry } from '../accounts/account-directory.js';

const assignedTransferFields = [T.amountEffective, T.timestamp] as const;
const nsPerSecond = 1_000_000_000n;

/** Where the transfer's balances-after (8 × u64) go in the journal entry. */
export interface BalancesOut {
  view: DataView;
  at: number;
}

interface Posting {
  kind: number;
  view: DataView;
  at: number;
  debit: number;
  credit: number;
  ledger: number;
  amount: bigint;
  /** StatusBits of a payee on another shard (the credit slot is then this shard's transit account); 0 otherwise. */
  payeeStatus: number;
  /** StatusBits of the hot-outbound account a slice pays for (slice-owner.ts) that stop it paying; 0 otherwise. */
  ownerStatus: number;
  /** The event's location (seq, index): where its verdicts from another shard are found. */
  location: number;
}

/** The string key of the referenced pending transfer, original or freeze (rare paths only). */
function referenceKey(posting: Posting): string {
  return idKeyAt(posting.view, posting.at + T.pendingId);
}

/**
 * `creditCarried`: an event of a cross-shard chain group whose payee's shard applies its credit half in the same group
 * (core/chains/prepared-chains.ts): the money goes in transit here as for any payee elsewhere, and no instruction.
 */
export function postTransfer(state: LedgerState, view: DataView, at: number, location: number, out: BalancesOut, creditCarried = false): number {
  const duplicate = duplicateResult(state, view, at);
  if (duplicate !== undefined) return duplicate;
  // Another shard holds this id (the router asked them all before sending it here): the fields differ there, since
  // a transfer with the same ones would have come to the same shard. Not remembered: the id is that shard's.
  const flags = view.getUint16(at + T.flags, true);
  if ((flags & transferIdTakenElsewhere) !== 0) return ResultCode.exists_with_different_fields;
  // Every account in the table lives on this shard. The route plan sends a transfer to its debit
  // account's shard; a credit account routing elsewhere makes it a cross-shard transfer.
  const debit = state.accounts.slotAt(view, at + T.debitAccountId);
  if (debit < 0) return ResultCode.account_not_found;
  // Read before the credit account's lookup: the debit record's cache miss then overlaps it.
  const debitLedger = state.accounts.ledgerOf(debit);
  let credit = state.accounts.slotAt(view, at + T.creditAccountId);
  const creditShard = credit < 0 ? shardOfIdAt(view, at + T.creditAccountId, state.shardCount) : state.shardIndex;
  if (creditShard === state.shardIndex && credit < 0) return ResultCode.account_not_found;
  const ledger = view.getUint32(at + T.ledger, true);
  // A payee on another shard: what every shard knows of it (account-directory.ts), checked here in one shard's order.
  const payee = credit < 0 ? remotePayee(state, view, at + T.creditAccountId, ledger, location) : notInDirectory;
  if (credit < 0 && payee === notInDirectory) return ResultCode.account_not_found;
  if (debitLedger !== ledger || (credit >= 0 ? state.accounts.ledgerOf(credit) : ledgerOfEntry(payee)) !== ledger) return ResultCode.ledger_mismatch;
  // Of a payee, only what refuses a credit (the directory also holds debit blocks: slice-owner.ts).
  const payeeStatus = credit < 0 ? statusOfEntry(payee) & (StatusBits.closed | StatusBits.creditBlocked) : 0;
  const kind = flags & transferKindFlags;
  if (credit < 0) {
    // The payer's money goes in transit; the payee's shard applies the credit when it arrives.
    credit = transitOutFor(state, view, at, kind, ledger, creditShard);
    if (credit < 0) return ResultCode.balance_overflow; // every generation of the pair's transit taken (system-accounts.ts)
    assert(state.accounts.ledgerOf(credit) === ledger, 'money goes in transit in its own ledger');
  }
  // Validated (accounts_must_be_different; a caller never names a transit account).
  assert(debit !== credit, 'a posting has two different accounts');
  const ownerStatus = isSliceIdAt(view, at + T.debitAccountId) ? sliceOwnerStatus(state, debit, view, at, location) : 0;
  // Most transfers are plain and small: posted in number arithmetic, or else by the BigInt path below (which
  // also decides a remote payee's and a slice owner's status: the number path reads only the slots').
  // A payee on another shard that refuses for its balance rule is refused in one shard's order (balanceRefusal).
  const plain = kind === 0 && payeeStatus === 0 && ownerStatus === 0 && !(creditShard !== state.shardIndex && remotePayeeCode(state, location) !== 0);
  let result = plain ? postPlainTransfer(state, view, at, debit, credit, ledger) : notPlain;
  if (result === notPlain) result = postAnyKind(state, view, at, kind, debit, credit, ledger, payeeStatus, ownerStatus, location);
  if (result !== ResultCode.ok) return result;
  state.transfers.setAt(view, at + T.id, location);
  if (state.inChain) state.onUndo(() => state.transfers.deleteAt(view, at + T.id));
  if (kind === TransferFlags.post_pending || kind === TransferFlags.void_pending) resolveHold(state, view, at, location);
  recordHistory(state, debit, credit, location, out);
  if (creditShard !== state.shardIndex && !creditCarried) emitInstruction(state, creditShard, instructionFor(kind), view, at);
  return ResultCode.ok;
}

/**
 * The transit-out account a transfer to a payee on shard `peer` credits: for a post or void, the generation its hold
 * took (pendingRefusal compares it); otherwise one with room for the amount (a whole freeze's is read later: room
 * for the most a transfer moves), -1 when none can be had.
 */
function transitOutFor(state: LedgerState, view: DataView, at: number, kind: number, ledger: number, peer: number): number {
  const holdCloses = kind === TransferFlags.post_pending || kind === TransferFlags.void_pending;
  // The common case without a BigInt: the pair's account in use, far from full.
  if (!holdCloses) {
    const roomy = systemAccountRoomyNow(state, SystemAccountKind.transitOut, ledger, peer, 'credits');
    if (roomy >= 0) return roomy;
  }
  const timestamp = view.getBigUint64(at + T.timestamp, true);
  if (holdCloses) {
    const hold = state.pendings.get(idKeyAt(view, at + T.pendingId));
    const statics = state.accounts.staticsView;
    const holdAt = hold === undefined ? 0 : hold.creditSlot * accountStaticBytes;
    const sameTransit = hold !== undefined && isSystemIdAt(statics, holdAt) && systemKeyOfIdAt(statics, holdAt, state.shardIndex) === systemKey(SystemAccountKind.transitOut, ledger, peer);
    return sameTransit ? hold.creditSlot : systemAccountSlot(state, SystemAccountKind.transitOut, ledger, peer, timestamp);
  }
  const amount = view.getBigUint64(at + T.amount, true);
  return systemAccountWithRoom(state, SystemAccountKind.transitOut, ledger, peer, timestamp, 'credits', amount === 0n ? amountMax : amount);
}

/** What the payee's shard is told of a cross-shard transfer of `kind`: money moved, a hold opened, or one voided. */
function instructionFor(kind: number): number {
  if (movesMoney(kind)) return InstructionKind.credit; // a post also closes the hold it shows there
  if (kind === TransferFlags.pending) return InstructionKind.hold;
  assert(kind === TransferFlags.void_pending, 'a transfer kind moves money, opens a hold or voids one');
  return InstructionKind.release;
}

/** The stateful checks and balance moves of any kind of transfer, in BigInt; writes the effective amount. */
function postAnyKind(state: LedgerState, view: DataView, at: number, kind: number, debit: number, credit: number, ledger: number, payeeStatus: number, ownerStatus: number, location: number): number {
  const posting: Posting = { kind, view, at, debit, credit, ledger, amount: view.getBigUint64(at + T.amount, true), payeeStatus, ownerStatus, location };
  const refused = statusRefusal(state, posting) ?? referenceRefusal(state, posting) ?? balanceRefusal(state, posting);
  if (refused !== undefined) return refused;
  // Validation bounds the amount; a zero ("all of it") was resolved against the hold or freeze, never to zero.
  assert(posting.amount > 0n && posting.amount <= amountMax, 'a posting moves 1..amountMax');
  apply(state, posting, view.getUint32(at + T.timeoutSeconds, true), view.getBigUint64(at + T.timestamp, true));
  view.setBigUint64(at + T.amountEffective, posting.amount, true);
  return ResultCode.ok;
}

/** Debit first, credit after: the credit shard's instruction is journaled with this entry. */
function emitInstruction(state: LedgerState, creditShard: number, kind: number, view: DataView, at: number): void {
  // The receiver asserts the same (applyInstruction): an instruction is never empty.
  assert(!isZeroU64At(view, at + T.amountEffective), 'a cross-shard instruction carries its effective amount');
  state.outbox.stage(creditShard, state.shardIndex, kind, ResultCode.ok, view, at);
  if (state.inChain) state.onUndo(() => state.outbox.unstageLast());
}

function duplicateResult(state: LedgerState, view: DataView, at: number): number | undefined {
  const location = state.transfers.getAt(view, at + T.id);
  if (location >= 0) {
    const stored = state.record(location);
    const same = sameCallerFields(view, at, stored.view, stored.at, assignedTransferFields);
    return same ? ResultCode.exists : ResultCode.exists_with_different_fields;
  }
  const failed = state.transfersFailed.getAt(view, at + T.id);
  if (failed < 0) return undefined;
  const stored = state.record(failed);
  const same = sameCallerFields(view, at, stored.view, stored.at, assignedTransferFields);
  return same ? state.storedResult(failed) : ResultCode.exists_with_different_fields;
}

function statusRefusal(state: LedgerState, posting: Posting): number | undefined {
  if (posting.kind === TransferFlags.void_pending) return undefined; // a void only gives money back
  const debitBits = state.accounts.statusOf(posting.debit) | posting.ownerStatus;
  const creditBits = state.accounts.statusOf(posting.credit) | posting.payeeStatus;
  if (((debitBits | creditBits) & StatusBits.closed) !== 0) return ResultCode.account_closed;
  // A freeze-and-deduct (unfreeze_and_pay) is how money leaves a blocked account by order.
  const debitChecked = posting.kind !== TransferFlags.unfreeze_and_pay;
  if (debitChecked && (debitBits & StatusBits.debitBlocked) !== 0) return ResultCode.account_blocked;
  if ((creditBits & StatusBits.creditBlocked) !== 0) return ResultCode.account_blocked;
  return undefined;
}

/** Checks against the referenced pending transfer, reversed original or freeze; may resolve `p.amount`. */
function referenceRefusal(state: LedgerState, posting: Posting): number | undefined {
  if (posting.kind === TransferFlags.post_pending || posting.kind === TransferFlags.void_pending) return pendingRefusal(state, posting);
  if (posting.kind === TransferFlags.reversal) return reversalRefusal(state, posting);
  if (posting.kind === TransferFlags.unfreeze_and_pay) return freezeRefusal(state, posting);
  return undefined;
}

function pendingRefusal(state: LedgerState, posting: Posting): number | undefined {
  const hold = state.pendings.get(referenceKey(posting));
  if (hold === undefined) return closedHoldRefusal(state, posting);
  if (hold.debitSlot !== posting.debit || hold.creditSlot !== posting.credit) return ResultCode.accounts_mismatch;
  if (!sameRemotePayee(state, posting, hold.creditSlot)) return ResultCode.accounts_mismatch;
  if (posting.amount > hold.amount) return ResultCode.exceeds_pending_amount;
  const isVoid = posting.kind === TransferFlags.void_pending;
  if (isVoid && posting.amount !== 0n && posting.amount !== hold.amount) return ResultCode.amount_invalid;
  if (posting.amount === 0n || isVoid) posting.amount = hold.amount;
  assert(posting.amount > 0n && posting.amount <= hold.amount, 'a hold posts or voids 1..its amount');
  return undefined;
}

/**
 * A hold whose payee lives on another shard holds its money on this shard's transit account, which every payee
 * of that shard shares: the slots compared above cannot tell them apart. The post or void must name the hold's own
 * payee, read from the pending transfer's record, or it would send the money to another account.
 */
function sameRemotePayee(state: LedgerState, posting: Posting, creditSlot: number): boolean {
  if (!isSystemIdAt(state.accounts.staticsView, creditSlot * accountStaticBytes)) return true;
  const location = state.transfers.getAt(posting.view, posting.at + T.pendingId);
  assert(location >= 0, 'an open hold is a stored pending transfer');
  const pending = state.record(location);
  return equalIdsAt(pending.view, pending.at + T.creditAccountId, posting.view, posting.at + T.creditAccountId);
}

/**
 * Why a hold not open is refused: it never was one, or was posted, voided or expired (hold-outcomes.ts); or, held
 * by another shard (named with the wrong accounts), what that shard answers (verdicts-elsewhere.ts).
 */
function closedHoldRefusal(state: LedgerState, posting: Posting): number {
  return closedHoldCode(state, posting.view, posting.at + T.pendingId) ?? referenceMissCode(state, posting.location, ResultCode.pending_not_found);
}

function reversalRefusal(state: LedgerState, posting: Posting): number | undefined {
  // The original lives here when this shard was its debit shard, or arrived here as a cross-shard credit.
  let location = state.transfers.getAt(posting.view, posting.at + T.pendingId);
  if (location < 0) location = state.inbound.getAt(posting.view, posting.at + T.pendingId);
  if (location < 0) return referenceMissCode(state, posting.location, ResultCode.original_not_found);
  if (originalNotReversible(state, location, posting.view, posting.at + T.pendingId)) return ResultCode.original_not_reversible;
  // Compared by id: one side of a cross-shard original is an account of another shard.
  if (!mirrorsOriginal(state, location, posting.view, posting.at)) return ResultCode.accounts_mismatch;
  const remaining = reversalRemaining(state, location, referenceKey(posting));
  if (posting.amount > remaining) return ResultCode.reversal_exceeds_remaining;
  return undefined;
}

/** What is left to reverse of the original at `location` (id key `key`): its effective amount less what was reversed. */
export function reversalRemaining(state: LedgerState, location: number, key: string): bigint {
  const original = state.record(location);
  const remaining = original.view.getBigUint64(original.at + T.amountEffective, true) - (state.reversed.get(key) ?? 0n);
  assert(remaining >= 0n, 'a transfer is never reversed beyond its effective amount');
  return remaining;
}

function freezeRefusal(state: LedgerState, posting: Posting): number | undefined {
  const freeze = state.freezes.get(referenceKey(posting));
  if (freeze === undefined) return referenceMissCode(state, posting.location, ResultCode.freeze_not_found);
  if (freeze.slot !== posting.debit) return ResultCode.accounts_mismatch;
  if (freeze.remaining === 0n || posting.amount > freeze.remaining) return ResultCode.exceeds_frozen_amount;
  if (posting.amount === 0n) posting.amount = freeze.remaining;
  assert(posting.amount > 0n && posting.amount <= freeze.remaining, 'a freeze pays 1..what it still holds');
  return undefined;
}

function balanceRefusal(state: LedgerState, posting: Posting): number | undefined {
  const accounts = state.accounts;
  // Posting a hold or paying from a freeze never raises what the debit side has committed.
  const raisesCommitments = posting.kind === 0 || posting.kind === TransferFlags.pending || posting.kind === TransferFlags.reversal;
  if (raisesCommitments && (accounts.flagsOf(posting.debit) & AccountFlags.debits_must_not_exceed_credits) !== 0) {
    const committed = accounts.balance('debitsPosted', posting.debit) + accounts.balance('debitsPending', posting.debit) + accounts.balance('frozen', posting.debit) + posting.amount;
    if (committed > accounts.balance('creditsPosted', posting.debit)) return ResultCode.insufficient_funds;
  }
  const raisesCredits = raisesCommitments || posting.kind === TransferFlags.unfreeze_and_pay;
  // A payee on another shard (the credit slot is then this shard's transit account, which no caller names and which
  // has no rule): its shard's answer (verdicts-elsewhere.ts); for a whole freeze paid to it, the room it reported (the
  // amount was resolved from the freeze above, in freezeRefusal).
  const remote = isTransitIdAt(accounts.staticsView, posting.credit * accountStaticBytes);
  const remoteCode = remote ? remotePayeeCode(state, posting.location) : 0;
  // The room its shard reported for an amount only this shard knows (whole freeze, whole hold): refused with the
  // capped rule's code where the payee is capped (a capped payee never overflows), else at the overflow check below.
  const room = remote ? remotePayeeRoom(state, posting.location) : undefined;
  const beyondRoom = room !== undefined && posting.amount > room;
  if (raisesCredits && remote) {
    if (remoteCode === ResultCode.credits_exceed_debits) return ResultCode.credits_exceed_debits;
    if (beyondRoom && remotePayeeCapped(state, posting)) return ResultCode.credits_exceed_debits;
  }
  if (raisesCredits && (accounts.flagsOf(posting.credit) & AccountFlags.credits_must_not_exceed_debits) !== 0) {
    const committed = state.creditsAccepted(posting.credit) + accounts.balance('creditsPending', posting.credit) + posting.amount;
    if (committed > accounts.balance('debitsPosted', posting.credit)) return ResultCode.credits_exceed_debits;
  }
  if (posting.kind === TransferFlags.void_pending) return undefined;
  const holds = posting.kind === TransferFlags.pending;
  const debitField = holds ? 'debitsPending' : 'debitsPosted';
  const creditField = holds ? 'creditsPending' : 'creditsPosted';
  if (!state.fits(debitField, posting.debit, posting.amount) || !state.fits(creditField, posting.credit, posting.amount)) return ResultCode.balance_overflow;
  // A payee on another shard whose credits run high: its shard's overflow check (verdicts-elsewhere.ts).
  if (remoteCode === ResultCode.balance_overflow || beyondRoom) return ResultCode.balance_overflow;
  // Only a hot-inbound account has credits waiting in a buffer (LedgerState.verifyAllBalances asserts it).
  const buffers = (accounts.hotOf(posting.credit) & HotBits.inbound) !== 0;
  if (!holds && buffers && state.creditsAccepted(posting.credit) + posting.amount > balanceMax) return ResultCode.balance_overflow;
  return undefined;
}

/** Whether the payee on another shard the posting credits has credits_must_not_exceed_debits (the directory holds its flags). */
function remotePayeeCapped(state: LedgerState, posting: Posting): boolean {
  const flags = state.directory?.flagsAt(posting.view, posting.at + T.creditAccountId) ?? -1;
  return flags >= 0 && (flags & AccountFlags.credits_must_not_exceed_debits) !== 0;
}

function apply(state: LedgerState, posting: Posting, timeoutSeconds: number, timestamp: bigint): void {
  assert(posting.amount > 0n && posting.debit !== posting.credit, 'a posting moves a positive amount between two accounts');
  if (posting.kind === TransferFlags.pending) return openHold(state, posting, timeoutSeconds, timestamp);
  if (posting.kind === TransferFlags.post_pending || posting.kind === TransferFlags.void_pending) return closeHold(state, posting);
  if (posting.kind === TransferFlags.reversal) {
    const key = referenceKey(posting);
    const before = state.reversed.get(key) ?? 0n;
    state.reversed.set(key, before + posting.amount);
    if (state.inChain) state.onUndo(() => (before === 0n ? state.reversed.delete(key) : state.reversed.set(key, before)));
  }
  if (posting.kind === TransferFlags.unfreeze_and_pay) {
    const freeze = state.freezes.get(referenceKey(posting))!;
    const amount = posting.amount;
    freeze.remaining -= amount;
    if (state.inChain) state.onUndo(() => (freeze.remaining += amount));
    state.move('frozen', posting.debit, -amount);
    // The frozen balance is the sum of the account's freezes (LedgerState.verifyAllBalances): it still covers this one.
    assert(freeze.remaining >= 0n && state.accounts.balance('frozen', posting.debit) >= freeze.remaining, 'a freeze pays from the frozen balance what it takes off the freeze');
  }
  state.move('debitsPosted', posting.debit, posting.amount);
  state.creditPosted(posting.credit, posting.amount, posting.view, posting.at);
}

function openHold(state: LedgerState, posting: Posting, timeoutSeconds: number, timestamp: bigint): void {
  state.move('debitsPending', posting.debit, posting.amount);
  state.move('creditsPending', posting.credit, posting.amount);
  const key = idKeyAt(posting.view, posting.at + T.id);
  const expiresAtNs = timeoutSeconds > 0 ? timestamp + BigInt(timeoutSeconds) * nsPerSecond : 0n;
  const hold = { debitSlot: posting.debit, creditSlot: posting.credit, ledger: posting.ledger, amount: posting.amount, expiresAtNs };
  assert(expiresAtNs === 0n || expiresAtNs > timestamp, 'a hold expires after it opens, or never');
  // The id is new (duplicateResult): a hold opens under it, never over another.
  const holdsBefore = state.pendings.size;
  state.pendings.set(key, hold);
  assert(state.pendings.size === holdsBefore + 1, 'a hold opens under a new id');
  if (state.inChain) state.onUndo(() => state.pendings.delete(key));
  // The heap entry is not undone: expiry skips entries whose hold is gone, closed, or newer.
  if (expiresAtNs > 0n) state.expiry.push(expiresAtNs, key);
}

function closeHold(state: LedgerState, posting: Posting): void {
  const key = referenceKey(posting);
  const hold = state.pendings.get(key);
  assert(hold !== undefined, 'only an open hold can be posted or voided');
  const postsHold = posting.kind === TransferFlags.post_pending;
  assert(postsHold ? posting.amount <= hold.amount : posting.amount === hold.amount, 'a post takes at most the hold, a void all of it');
  state.move('debitsPending', posting.debit, -hold.amount);
  state.move('creditsPending', posting.credit, -hold.amount);
  if (postsHold) {
    state.move('debitsPosted', posting.debit, posting.amount);
    state.creditPosted(posting.credit, posting.amount, posting.view, posting.at);
  }
  // A closed hold leaves memory: its outcome is its resolution, recorded with the posting's id (resolveHold).
  state.pendings.delete(key);
  if (state.inChain) state.onUndo(() => {
    // Undone newest first: the hold is still closed as this posting left it.
    assert(!state.pendings.has(key), 'an undone post or void finds the hold it closed gone');
    state.pendings.set(key, hold);
  });
}

/** Records the post or void at `location` as the resolution of the hold it closed (hold-outcomes.ts). */
function resolveHold(state: LedgerState, view: DataView, at: number, location: number): void {
  assert(!state.pendings.has(idKeyAt(view, at + T.pendingId)), 'a resolved hold is closed');
  // The hold was open (pendingRefusal): no resolution of it exists yet.
  state.resolutions.setAt(view, at + T.pendingId, location);
  if (state.inChain) state.onUndo(() => state.resolutions.deleteAt(view, at + T.pendingId));
}

/** Whether the deadline (key, expiresAtNs) still belongs to an open hold (not closed, undone or replaced). */
export function isOpenHold(state: LedgerState, key: string, expiresAtNs: bigint): boolean {
  // Only open holds are kept: one closed (or undone) is gone.
  const hold = state.pendings.get(key);
  return hold !== undefined && hold.expiresAtNs === expiresAtNs;
}

/** Expires a hold whose deadline passed; returns false when it was already closed or undone. */
export function expireHold(state: LedgerState, key: string, expiresAtNs: bigint): boolean {
  if (!isOpenHold(state, key, expiresAtNs)) return false;
  const hold = state.pendings.get(key)!;
  assert(hold.amount > 0n && expiresAtNs > 0n, 'only a hold with a deadline expires, and it holds money');
  state.move('debitsPending', hold.debitSlot, -hold.amount);
  state.move('creditsPending', hold.creditSlot, -hold.amount);
  // Expired: no longer kept. Its outcome is read back as neither open nor resolved (hold-outcomes.ts).
  state.pendings.delete(key);
  // Held in transit: its payee lives on another shard. (A caller may name a suspense account, a system account of
  // this shard, as a payee: only transit accounts stand for another shard.)
  if (isTransitIdAt(state.accounts.staticsView, hold.creditSlot * accountStaticBytes)) releaseRemoteHold(state, key);
  return true;
}

const holdIdScratch = new DataView(new ArrayBuffer(16));

/** An expired hold whose payee lives on another shard: that shard shows it (InstructionKind.hold), and takes it off. */
function releaseRemoteHold(state: LedgerState, key: string): void {
  writeIdKeyAt(holdIdScratch, 0, key);
  const location = state.transfers.getAt(holdIdScratch, 0);
  assert(location >= 0, 'an open hold is a stored pending transfer');
  const pending = state.record(location);
  const payeeShard = shardOfIdAt(pending.view, pending.at + T.creditAccountId, state.shardCount);
  assert(payeeShard !== state.shardIndex, 'a hold held in transit pays an account of another shard');
  emitInstruction(state, payeeShard, InstructionKind.release, pending.view, pending.at);
}

/** Appends the posting to both accounts' history and writes their balances after it into the entry. */
export function recordHistory(state: LedgerState, debit: number, credit: number, location: number, out: BalancesOut): void {
  assert(debit !== credit && debit >= 0 && credit >= 0, 'a posting is recorded on two accounts of this shard');
  const history = state.accounts.history;
  history.append(debit, location);
  history.append(credit, location);
  if (state.inChain) {
    state.onUndo(() => {
      history.removeNewest(credit);
      history.removeNewest(debit);
    });
  }
  writeBalances(state, debit, out.view, out.at);
  writeBalances(state, credit, out.view, out.at + 32);
}

/** Copies the slot's four history balances as raw words: no BigInt is created on this path. */
function writeBalances(state: LedgerState, slot: number, view: DataView, at: number): void {
  assert(slot < state.accounts.count, 'balances written are of an account that exists');
  const words = state.accounts.words;
  const from = balanceWordIndex(slot, 0); // the four history balances lead the record
  for (let w = 0; w < 8; w++) view.setUint32(at + w * 4, words[from + w]!, true);
}
