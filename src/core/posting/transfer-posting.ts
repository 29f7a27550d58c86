// Posting one transfer: the stateful checks in precedence order, then the balance moves.
// Never partially applies: every check runs before the first `move`. Returns a result code.

import { assert } from '../assert.js';
import { StatusBits, balanceWordIndex } from '../accounts/account-table.js';
import { TransferLayout as T } from '../layout.js';
import { amountMax, balanceMax } from '../limits.js';
import type { LedgerState } from './ledger-state.js';
import { ResultCode } from '../result-codes.js';
import { AccountFlags, TransferFlags, TransferStatus, transferKindFlags } from '../types.js';
import { equalIdsAt, idKeyAt } from '../u128.js';
import { isZeroU64At } from '../u64-words.js';
import { shardOfIdAt } from '../routing.js';
import { SystemAccountKind, systemAccountSlot } from '../accounts/system-accounts.js';
import { InstructionKind } from '../transit/transit.js';
import { HotBits } from '../hot/hot-inbound.js';
import { notPlain, postPlainTransfer } from './plain-transfer.js';
import { sameCallerFields } from './validate.js';

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
}

/** The string key of the referenced pending transfer, original or freeze (rare paths only). */
function referenceKey(p: Posting): string {
  return idKeyAt(p.view, p.at + T.pendingId);
}

export function postTransfer(s: LedgerState, view: DataView, at: number, location: number, out: BalancesOut): number {
  const duplicate = duplicateResult(s, view, at);
  if (duplicate !== undefined) return duplicate;
  // Every account in the table lives on this shard. The route plan sends a transfer to its debit
  // account's shard; a credit account routing elsewhere makes it a cross-shard transfer.
  const debit = s.accounts.slotAt(view, at + T.debitAccountId);
  if (debit < 0) return ResultCode.account_not_found;
  // Read before the credit account's lookup: the debit record's cache miss then overlaps it.
  const debitLedger = s.accounts.ledgerOf(debit);
  let credit = s.accounts.slotAt(view, at + T.creditAccountId);
  const creditShard = credit < 0 ? shardOfIdAt(view, at + T.creditAccountId, s.shardCount) : s.shardIndex;
  if (creditShard === s.shardIndex && credit < 0) return ResultCode.account_not_found;
  const ledger = view.getUint32(at + T.ledger, true);
  if (debitLedger !== ledger || (credit >= 0 && s.accounts.ledgerOf(credit) !== ledger)) return ResultCode.ledger_mismatch;
  if (credit < 0) {
    // The payee is checked by its own shard when the credit arrives; here the payer's money goes in transit.
    credit = systemAccountSlot(s, SystemAccountKind.transitOut, ledger, creditShard, view.getBigUint64(at + T.timestamp, true));
    assert(s.accounts.ledgerOf(credit) === ledger, 'money goes in transit in its own ledger');
  }
  // Validated (accounts_must_be_different; a caller never names a transit account).
  assert(debit !== credit, 'a posting has two different accounts');
  const kind = view.getUint16(at + T.flags, true) & transferKindFlags;
  // Most transfers are plain and small: posted in number arithmetic, or else by the BigInt path below.
  let result = kind === 0 ? postPlainTransfer(s, view, at, debit, credit, ledger) : notPlain;
  if (result === notPlain) result = postAnyKind(s, view, at, kind, debit, credit, ledger);
  if (result !== ResultCode.ok) return result;
  s.transfers.setAt(view, at + T.id, location);
  if (s.inChain) s.onUndo(() => s.transfers.deleteAt(view, at + T.id));
  recordHistory(s, debit, credit, location, out);
  if (creditShard !== s.shardIndex && movesMoney(kind)) emitCredit(s, creditShard, view, at);
  return ResultCode.ok;
}

/** The stateful checks and balance moves of any kind of transfer, in BigInt; writes the effective amount. */
function postAnyKind(s: LedgerState, view: DataView, at: number, kind: number, debit: number, credit: number, ledger: number): number {
  const posting: Posting = { kind, view, at, debit, credit, ledger, amount: view.getBigUint64(at + T.amount, true) };
  const refused = statusRefusal(s, posting) ?? referenceRefusal(s, posting) ?? balanceRefusal(s, posting);
  if (refused !== undefined) return refused;
  // Validation bounds the amount; a zero ("all of it") was resolved against the hold or freeze, never to zero.
  assert(posting.amount > 0n && posting.amount <= amountMax, 'a posting moves 1..amountMax');
  apply(s, posting, view.getUint32(at + T.timeoutSeconds, true), view.getBigUint64(at + T.timestamp, true));
  // Conservation of this posting: each of its moves went to both sides of the ledger's totals alike.
  assert(s.isBalanced(ledger), 'a posting moves as much onto the credit side as onto the debit side');
  view.setBigUint64(at + T.amountEffective, posting.amount, true);
  return ResultCode.ok;
}

/** Kinds after which money has left the payer for good (a hold or a void moves nothing across). */
function movesMoney(kind: number): boolean {
  return kind === 0 || kind === TransferFlags.post_pending || kind === TransferFlags.reversal || kind === TransferFlags.unfreeze_and_pay;
}

/** Debit first, credit after: the credit shard's instruction is journaled with this entry. */
function emitCredit(s: LedgerState, creditShard: number, view: DataView, at: number): void {
  // The receiver asserts the same (applyInstruction): a credit in transit is never empty.
  assert(!isZeroU64At(view, at + T.amountEffective), 'a cross-shard credit carries its effective amount');
  s.outbox.stage(creditShard, s.shardIndex, InstructionKind.credit, ResultCode.ok, view, at);
  if (s.inChain) s.onUndo(() => s.outbox.unstageLast());
}

function duplicateResult(s: LedgerState, view: DataView, at: number): number | undefined {
  const location = s.transfers.getAt(view, at + T.id);
  if (location >= 0) {
    const stored = s.record(location);
    const same = sameCallerFields(view, at, stored.view, stored.at, assignedTransferFields);
    return same ? ResultCode.exists : ResultCode.exists_with_different_fields;
  }
  const failed = s.transfersFailed.getAt(view, at + T.id);
  if (failed < 0) return undefined;
  const stored = s.record(failed);
  const same = sameCallerFields(view, at, stored.view, stored.at, assignedTransferFields);
  return same ? s.storedResult(failed) : ResultCode.exists_with_different_fields;
}

function statusRefusal(s: LedgerState, p: Posting): number | undefined {
  if (p.kind === TransferFlags.void_pending) return undefined; // a void only gives money back
  const debitBits = s.accounts.statusOf(p.debit);
  const creditBits = s.accounts.statusOf(p.credit);
  if (((debitBits | creditBits) & StatusBits.closed) !== 0) return ResultCode.account_closed;
  // A freeze-and-deduct (unfreeze_and_pay) is how money leaves a blocked account by order.
  const debitChecked = p.kind !== TransferFlags.unfreeze_and_pay;
  if (debitChecked && (debitBits & StatusBits.debitBlocked) !== 0) return ResultCode.account_blocked;
  if ((creditBits & StatusBits.creditBlocked) !== 0) return ResultCode.account_blocked;
  return undefined;
}

/** Checks against the referenced pending transfer, reversed original or freeze; may resolve `p.amount`. */
function referenceRefusal(s: LedgerState, p: Posting): number | undefined {
  if (p.kind === TransferFlags.post_pending || p.kind === TransferFlags.void_pending) return pendingRefusal(s, p);
  if (p.kind === TransferFlags.reversal) return reversalRefusal(s, p);
  if (p.kind === TransferFlags.unfreeze_and_pay) return freezeRefusal(s, p);
  return undefined;
}

function pendingRefusal(s: LedgerState, p: Posting): number | undefined {
  const hold = s.pendings.get(referenceKey(p));
  if (hold === undefined) return ResultCode.pending_not_found;
  if (hold.status === TransferStatus.pending_posted) return ResultCode.pending_already_posted;
  if (hold.status === TransferStatus.pending_voided) return ResultCode.pending_already_voided;
  if (hold.status === TransferStatus.pending_expired) return ResultCode.pending_expired;
  // Pending → posted | voided | expired, and no other status: only an open hold gets this far.
  assert(hold.status === TransferStatus.pending, 'a hold is pending unless posted, voided or expired');
  if (hold.debitSlot !== p.debit || hold.creditSlot !== p.credit) return ResultCode.accounts_mismatch;
  if (p.amount > hold.amount) return ResultCode.exceeds_pending_amount;
  const isVoid = p.kind === TransferFlags.void_pending;
  if (isVoid && p.amount !== 0n && p.amount !== hold.amount) return ResultCode.amount_invalid;
  if (p.amount === 0n || isVoid) p.amount = hold.amount;
  assert(p.amount > 0n && p.amount <= hold.amount, 'a hold posts or voids 1..its amount');
  return undefined;
}

function reversalRefusal(s: LedgerState, p: Posting): number | undefined {
  // The original lives here when this shard was its debit shard, or arrived here as a cross-shard credit.
  let location = s.transfers.getAt(p.view, p.at + T.pendingId);
  if (location < 0) location = s.inbound.getAt(p.view, p.at + T.pendingId);
  if (location < 0) return ResultCode.original_not_found;
  const original = s.record(location);
  const kind = original.view.getUint16(original.at + T.flags, true) & transferKindFlags;
  if (!movesMoney(kind) || kind === TransferFlags.reversal) return ResultCode.original_not_reversible;
  if (s.returned.has(referenceKey(p))) return ResultCode.original_not_reversible;
  // Compared by id: one side of a cross-shard original is an account of another shard.
  const mirrored = equalIdsAt(original.view, original.at + T.debitAccountId, p.view, p.at + T.creditAccountId) &&
    equalIdsAt(original.view, original.at + T.creditAccountId, p.view, p.at + T.debitAccountId);
  if (!mirrored) return ResultCode.accounts_mismatch;
  const remaining = original.view.getBigUint64(original.at + T.amountEffective, true) - (s.reversed.get(referenceKey(p)) ?? 0n);
  assert(remaining >= 0n, 'a transfer is never reversed beyond its effective amount');
  if (p.amount > remaining) return ResultCode.reversal_exceeds_remaining;
  return undefined;
}

function freezeRefusal(s: LedgerState, p: Posting): number | undefined {
  const freeze = s.freezes.get(referenceKey(p));
  if (freeze === undefined) return ResultCode.freeze_not_found;
  if (freeze.slot !== p.debit) return ResultCode.accounts_mismatch;
  if (freeze.remaining === 0n || p.amount > freeze.remaining) return ResultCode.exceeds_frozen_amount;
  if (p.amount === 0n) p.amount = freeze.remaining;
  assert(p.amount > 0n && p.amount <= freeze.remaining, 'a freeze pays 1..what it still holds');
  return undefined;
}

function balanceRefusal(s: LedgerState, p: Posting): number | undefined {
  const a = s.accounts;
  // Posting a hold or paying from a freeze never raises what the debit side has committed.
  const raisesCommitments = p.kind === 0 || p.kind === TransferFlags.pending || p.kind === TransferFlags.reversal;
  if (raisesCommitments && (a.flagsOf(p.debit) & AccountFlags.debits_must_not_exceed_credits) !== 0) {
    const committed = a.balance('debitsPosted', p.debit) + a.balance('debitsPending', p.debit) + a.balance('frozen', p.debit) + p.amount;
    if (committed > a.balance('creditsPosted', p.debit)) return ResultCode.insufficient_funds;
  }
  const raisesCredits = raisesCommitments || p.kind === TransferFlags.unfreeze_and_pay;
  if (raisesCredits && (a.flagsOf(p.credit) & AccountFlags.credits_must_not_exceed_debits) !== 0) {
    const committed = s.creditsAccepted(p.credit) + a.balance('creditsPending', p.credit) + p.amount;
    if (committed > a.balance('debitsPosted', p.credit)) return ResultCode.credits_exceed_debits;
  }
  if (p.kind === TransferFlags.void_pending) return undefined;
  const holds = p.kind === TransferFlags.pending;
  const debitField = holds ? 'debitsPending' : 'debitsPosted';
  const creditField = holds ? 'creditsPending' : 'creditsPosted';
  if (!s.fits(debitField, p.debit, p.amount) || !s.fits(creditField, p.credit, p.amount)) return ResultCode.balance_overflow;
  // Only a hot-inbound account has credits waiting in a buffer (LedgerState.verifyAllBalances asserts it).
  const buffers = (a.hotOf(p.credit) & HotBits.inbound) !== 0;
  if (!holds && buffers && s.creditsAccepted(p.credit) + p.amount > balanceMax) return ResultCode.balance_overflow;
  return undefined;
}

function apply(s: LedgerState, p: Posting, timeoutSeconds: number, timestamp: bigint): void {
  assert(p.amount > 0n && p.debit !== p.credit, 'a posting moves a positive amount between two accounts');
  if (p.kind === TransferFlags.pending) return openHold(s, p, timeoutSeconds, timestamp);
  if (p.kind === TransferFlags.post_pending || p.kind === TransferFlags.void_pending) return closeHold(s, p);
  if (p.kind === TransferFlags.reversal) {
    const key = referenceKey(p);
    const before = s.reversed.get(key) ?? 0n;
    s.reversed.set(key, before + p.amount);
    if (s.inChain) s.onUndo(() => (before === 0n ? s.reversed.delete(key) : s.reversed.set(key, before)));
  }
  if (p.kind === TransferFlags.unfreeze_and_pay) {
    const freeze = s.freezes.get(referenceKey(p))!;
    const amount = p.amount;
    freeze.remaining -= amount;
    if (s.inChain) s.onUndo(() => (freeze.remaining += amount));
    s.move('frozen', p.debit, -amount);
    // The frozen balance is the sum of the account's freezes (LedgerState.verifyAllBalances): it still covers this one.
    assert(freeze.remaining >= 0n && s.accounts.balance('frozen', p.debit) >= freeze.remaining, 'a freeze pays from the frozen balance what it takes off the freeze');
  }
  s.move('debitsPosted', p.debit, p.amount);
  s.creditPosted(p.credit, p.amount, p.view, p.at);
}

function openHold(s: LedgerState, p: Posting, timeoutSeconds: number, timestamp: bigint): void {
  s.move('debitsPending', p.debit, p.amount);
  s.move('creditsPending', p.credit, p.amount);
  const key = idKeyAt(p.view, p.at + T.id);
  const expiresAtNs = timeoutSeconds > 0 ? timestamp + BigInt(timeoutSeconds) * nsPerSecond : 0n;
  const hold = { debitSlot: p.debit, creditSlot: p.credit, ledger: p.ledger, amount: p.amount, status: TransferStatus.pending, amountPosted: 0n, expiresAtNs };
  assert(expiresAtNs === 0n || expiresAtNs > timestamp, 'a hold expires after it opens, or never');
  // The id is new (duplicateResult): a hold opens under it, never over another.
  const holdsBefore = s.pendings.size;
  s.pendings.set(key, hold);
  assert(s.pendings.size === holdsBefore + 1, 'a hold opens under a new id');
  if (s.inChain) s.onUndo(() => s.pendings.delete(key));
  // The heap entry is not undone: expiry skips entries whose hold is gone, closed, or newer.
  if (expiresAtNs > 0n) s.expiry.push(expiresAtNs, key);
}

function closeHold(s: LedgerState, p: Posting): void {
  const hold = s.pendings.get(referenceKey(p))!;
  assert(hold.status === TransferStatus.pending, 'only an open hold can be posted or voided');
  const posting = p.kind === TransferFlags.post_pending;
  assert(posting ? p.amount <= hold.amount : p.amount === hold.amount, 'a post takes at most the hold, a void all of it');
  s.move('debitsPending', p.debit, -hold.amount);
  s.move('creditsPending', p.credit, -hold.amount);
  if (posting) {
    s.move('debitsPosted', p.debit, p.amount);
    s.creditPosted(p.credit, p.amount, p.view, p.at);
  }
  const status = posting ? TransferStatus.pending_posted : TransferStatus.pending_voided;
  hold.status = status;
  hold.amountPosted = posting ? p.amount : 0n;
  if (s.inChain) s.onUndo(() => {
    // Undone newest first: the hold is still in the state this posting left it.
    assert(hold.status === status, 'an undone post or void finds the hold it closed');
    hold.status = TransferStatus.pending;
    hold.amountPosted = 0n;
  });
}

/** Whether the deadline (key, expiresAtNs) still belongs to an open hold (not closed, undone or replaced). */
export function isOpenHold(s: LedgerState, key: string, expiresAtNs: bigint): boolean {
  const hold = s.pendings.get(key);
  return hold !== undefined && hold.status === TransferStatus.pending && hold.expiresAtNs === expiresAtNs;
}

/** Expires a hold whose deadline passed; returns false when it was already closed or undone. */
export function expireHold(s: LedgerState, key: string, expiresAtNs: bigint): boolean {
  if (!isOpenHold(s, key, expiresAtNs)) return false;
  const hold = s.pendings.get(key)!;
  assert(hold.amount > 0n && expiresAtNs > 0n, 'only a hold with a deadline expires, and it holds money');
  s.move('debitsPending', hold.debitSlot, -hold.amount);
  s.move('creditsPending', hold.creditSlot, -hold.amount);
  hold.status = TransferStatus.pending_expired;
  assert(s.isBalanced(hold.ledger), 'an expiry releases as much on the credit side as on the debit side');
  return true;
}

/** Appends the posting to both accounts' history and writes their balances after it into the entry. */
export function recordHistory(s: LedgerState, debit: number, credit: number, location: number, out: BalancesOut): void {
  assert(debit !== credit && debit >= 0 && credit >= 0, 'a posting is recorded on two accounts of this shard');
  const history = s.accounts.history;
  history.append(debit, location);
  history.append(credit, location);
  if (s.inChain) {
    s.onUndo(() => {
      history.removeNewest(credit);
      history.removeNewest(debit);
    });
  }
  writeBalances(s, debit, out.view, out.at);
  writeBalances(s, credit, out.view, out.at + 32);
}

/** Copies the slot's four history balances as raw words: no BigInt is created on this path. */
function writeBalances(s: LedgerState, slot: number, view: DataView, at: number): void {
  assert(slot < s.accounts.count, 'balances written are of an account that exists');
  const words = s.accounts.words;
  const from = balanceWordIndex(slot, 0); // the four history balances lead the record
  for (let w = 0; w < 8; w++) view.setUint32(at + w * 4, words[from + w]!, true);
}
