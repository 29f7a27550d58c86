// Applies the events of a batch entry (create_accounts, create_transfers, account_operations, apply_inbound) to
// the state in two passes — field checks and stamps, then the events in order, each linked chain whole or not at
// all — and writes each event's result into the entry. Never applies part of an event.

import { assert } from '../assert.js';
import { applyAccountOperation, createAccount, withDetail } from './account-operations.js';
import { applyCreditHalf, applyInstruction } from './inbound-posting.js';
import { ChainEventBits } from '../chains/prepared-chains.js';
import { CarriedCreditDetail, balancesAfterOffset, eventOffset, resultsOffset, trailerOffset, type JournalEntryHeader } from './journal-entry.js';
import { AccountLayout, AccountOperationLayout, TransferLayout, resultBytes } from '../layout.js';
import { locationOf, type LedgerState } from './ledger-state.js';
import { eventBytes } from '../limits.js';
import { JournalEntryKind } from '../operations.js';
import { ResultCode } from '../result-codes.js';
import { postTransfer } from './transfer-posting.js';
import { takeOperationRouterVerdicts, takeRouterVerdicts } from './verdicts-elsewhere.js';
import { InstructionLayout as I } from '../transit/transit.js';
import { isZero128 } from '../u128.js';
import { isIdTakenElsewhereMark } from '../types.js';
import { setU64SumAt, u64WordsOf } from '../u64-words.js';
import { isMax128, validateAccount, validateAccountOperation, validateSliceAccount, validateTransfer } from './validate.js';

export interface EventRules {
  validate: (view: DataView, at: number, assignedChecked: boolean) => number;
  timestampAt: number;
  flagsAt: number;
  linkedFlag: number;
  /** Takes the shard set's marks off a live event before its checks, into the state (verdicts-elsewhere.ts). */
  takeMarks?: (state: LedgerState, view: DataView, at: number, index: number, count: number) => void;
}

/** Per batch kind, how its events are checked, stamped and linked. */
export const eventRules: Record<number, EventRules> = {
  [JournalEntryKind.create_accounts]: { validate: validateAccount, timestampAt: AccountLayout.timestamp, flagsAt: AccountLayout.flags, linkedFlag: 1 },
  [JournalEntryKind.create_transfers]: { validate: validateTransfer, timestampAt: TransferLayout.timestamp, flagsAt: TransferLayout.flags, linkedFlag: 1, takeMarks: takeRouterVerdicts },
  [JournalEntryKind.account_operations]: {
    validate: validateAccountOperation,
    timestampAt: AccountOperationLayout.timestamp,
    flagsAt: AccountOperationLayout.flags,
    linkedFlag: 1,
    takeMarks: takeOperationRouterVerdicts,
  },
  // Instructions were validated and applied by their sending shard; they are never linked here.
  [JournalEntryKind.apply_inbound]: { validate: () => ResultCode.ok, timestampAt: TransferLayout.timestamp, flagsAt: TransferLayout.flags, linkedFlag: 0 },
};

/** Entries flagged opensSlices: the ledger's own create_accounts, slices only (never linked). */
export const sliceRules: EventRules = { ...eventRules[JournalEntryKind.create_accounts]!, validate: validateSliceAccount, linkedFlag: 0 };

/** Codes after which an id is not remembered as failed: no usable id, or nothing was wrong with the event itself. */
const notRemembered = new Set<number>([
  ResultCode.ok,
  ResultCode.exists,
  ResultCode.exists_with_different_fields,
  ResultCode.id_invalid,
  ResultCode.linked_event_failed,
  ResultCode.linked_event_chain_open,
]);

/**
 * Applies the events of a batch entry (count ≥ 1) for real, results into the entry. `commits`: the entry
 * re-executes a vote's events, which applied each chain whole, so here they apply one by one, and all pass.
 */
export function applyBatchEvents(state: LedgerState, view: DataView, header: JournalEntryHeader, rule: EventRules, assignedChecked: boolean, commits: boolean): void {
  const results = new Uint32Array(header.count);
  try {
    validateAll(state, rule, view, header, results, assignedChecked);
    const linked = commits ? () => false : (i: number) => (view.getUint16(eventOffset(i) + rule.flagsAt, true) & rule.linkedFlag) !== 0;
    applyAll(state, header.operation, view, header, results, linked, false);
  } finally {
    state.forgetVerdictsElsewhere();
  }
}

/** A vote's dry run on a copy of its events (stamped, assigned fields checked), chains ended by `chainEnds`. */
export function applyDryRun(state: LedgerState, dryView: DataView, dryHeader: JournalEntryHeader, chainEnds: Uint8Array): void {
  const results = new Uint32Array(dryHeader.count);
  try {
    validateAll(state, eventRules[dryHeader.operation]!, dryView, dryHeader, results, true);
    applyAll(state, dryHeader.operation, dryView, dryHeader, results, (i) => (chainEnds[i]! & ChainEventBits.chainEnd) === 0, true);
  } finally {
    state.forgetVerdictsElsewhere();
  }
}

/** Pass one: field checks, then stamp every event (failed ones too) with its timestamp. */
function validateAll(state: LedgerState, rule: EventRules, view: DataView, header: JournalEntryHeader, results: Uint32Array, assignedChecked: boolean): void {
  const timestampBase = u64WordsOf(header.timestampBase);
  for (let i = 0; i < header.count; i++) {
    const at = eventOffset(i);
    // Live only: a journal copy never carries a mark (taken off here before it was stored).
    if (assignedChecked && rule.takeMarks !== undefined) rule.takeMarks(state, view, at, i, header.count);
    results[i] = rule.validate(view, at, assignedChecked);
    // On replay the journal copy carries the assigned timestamp and amount, so the checks of what
    // the caller put there cannot run again; their verdicts (checked first) come from the journal.
    if (!assignedChecked) results[i] = assignedFieldsVerdict(view, header.count, i) ?? results[i]!;
    setU64SumAt(view, at + rule.timestampAt, timestampBase, i); // timestampBase + i
  }
}

/**
 * Pass two: apply events in order; a linked chain (`linked(i)`: event i chains to the next) applies all
 * or nothing. A dry run remembers no failed id: everything it does is undone.
 */
function applyAll(state: LedgerState, operation: number, view: DataView, header: JournalEntryHeader, results: Uint32Array, linked: (i: number) => boolean, dryRun: boolean): void {
  for (let i = 0; i < header.count; ) {
    if (!linked(i)) {
      if (results[i] === ResultCode.ok) results[i] = applyOne(state, operation, view, header, i);
      settle(state, operation, view, header, results, i, i, dryRun);
      i++;
      continue;
    }
    let last = i;
    while (last < header.count - 1 && linked(last)) last++;
    applyChain(state, operation, view, header, results, i, last, linked(last));
    settle(state, operation, view, header, results, i, last, dryRun);
    i = last + 1;
  }
}

function applyChain(state: LedgerState, operation: number, view: DataView, header: JournalEntryHeader, results: Uint32Array, first: number, last: number, open: boolean): void {
  // Inside a dry run the chain's changes join the run's own undo once the chain holds.
  const outer = state.undo;
  assert(first < last || open, 'a linked chain holds two events or is left open');
  const undo: (() => void)[] = [];
  state.undo = undo;
  let failedAt = -1;
  // The event that leaves a chain open is never applied: linked_event_chain_open outranks its own checks.
  const applyLast = open ? last - 1 : last;
  for (let i = first; i <= applyLast && failedAt < 0; i++) {
    if (results[i] === ResultCode.ok) results[i] = applyOne(state, operation, view, header, i);
    const code = results[i]! & 0xffff;
    if (code !== ResultCode.ok && code !== ResultCode.exists) failedAt = i;
  }
  assert(state.undo === undo, 'a chain records its changes in its own undo list');
  state.undo = null; // reverting records nothing
  if (failedAt < 0 && open) {
    failedAt = last;
    results[last] = ResultCode.linked_event_chain_open;
  }
  if (failedAt >= 0) {
    for (let u = undo.length - 1; u >= 0; u--) undo[u]!();
    for (let i = first; i <= last; i++) if (i !== failedAt) results[i] = ResultCode.linked_event_failed;
  } else if (outer !== null) {
    for (const revert of undo) outer.push(revert);
  }
  state.undo = outer;
}

function applyOne(state: LedgerState, operation: number, view: DataView, header: JournalEntryHeader, index: number): number {
  const at = eventOffset(index);
  const location = locationOf(header.seq, index);
  if (operation === JournalEntryKind.create_transfers) {
    const out = { view, at: balancesAfterOffset(header.count, index) };
    const role = state.chainRoles === null ? 0 : state.chainRoles[index]!;
    if ((role & ChainEventBits.creditHalf) !== 0) return applyCreditHalf(state, view, at, location, out);
    const carried = (role & ChainEventBits.creditCarried) !== 0;
    const result = postTransfer(state, view, at, location, out, carried);
    return carried && result === ResultCode.ok ? withDetail(ResultCode.ok, CarriedCreditDetail.creditCarried) : result;
  }
  if (operation === JournalEntryKind.create_accounts) return createAccount(state, view, at);
  if (operation === JournalEntryKind.apply_inbound) return applyInstructionAt(state, view, header, index, location);
  return applyAccountOperation(state, view, at, location);
}

function applyInstructionAt(state: LedgerState, view: DataView, header: JournalEntryHeader, index: number, location: number): number {
  const trailer = trailerOffset(header.count, index) - eventBytes; // InstructionLayout offsets count from the record
  const fromShard = view.getUint16(trailer + I.fromShard, true);
  const pairSeq = Number(view.getBigUint64(trailer + I.pairSeq, true));
  // A constant message: this runs per instruction, and a template literal is built whether the assertion holds or not.
  assert(pairSeq === state.inboundApplied[fromShard]! + 1, 'the instructions of a shard pair apply in order, each once');
  state.inboundApplied[fromShard] = pairSeq;
  const instruction = { kind: view.getUint16(trailer + I.kind, true), fromShard, reason: view.getUint16(trailer + I.reason, true) };
  return applyInstruction(state, view, eventOffset(index), instruction, location, { view, at: balancesAfterOffset(header.count, index) });
}

/**
 * Writes the final results of events first..last (u16 code, u16 detail) into the entry and
 * remembers their failed ids at once, so that a later event of the same batch retrying a failed
 * id gets the original failure too: where batches are cut must never turn a failure into a late success.
 */
function settle(state: LedgerState, operation: number, view: DataView, header: JournalEntryHeader, results: Uint32Array, first: number, last: number, dryRun: boolean): void {
  const remembers = operation !== JournalEntryKind.apply_inbound && !dryRun; // an instruction is never retried by id
  const from = resultsOffset(header.count);
  for (let i = first; i <= last; i++) {
    view.setUint32(from + i * resultBytes, results[i]!, true);
    // A credit half's id is its payer's shard's (and a commit's halves all pass).
    const creditHalf = state.chainRoles !== null && (state.chainRoles[i]! & ChainEventBits.creditHalf) !== 0;
    if (remembers && !creditHalf && (results[i]! & 0xffff) !== ResultCode.ok) rememberFailure(state, operation, view, header.seq, i, results[i]!);
  }
}

/** Remembers the failed id of event `index` of entry `seq` (a retry gets the same answer), unless nothing is to remember. */
export function rememberFailure(state: LedgerState, operation: number, view: DataView, seq: number, index: number, result: number): void {
  if (notRemembered.has(result & 0xffff)) return;
  // An event refused for an earlier fault (say, a timestamp) may also carry id 0 or 2^128−1: no id to remember.
  if (isZero128(view, eventOffset(index)) || isMax128(view, eventOffset(index))) return;
  // An id another shard holds (a field check failed before the duplicate check): it stays that shard's. One shard
  // would find the id it holds before any failure remembered for it, so remembering it here would answer otherwise.
  const flagsAt = operation === JournalEntryKind.create_transfers ? TransferLayout.flags : operation === JournalEntryKind.account_operations ? AccountOperationLayout.flags : -1;
  if (flagsAt >= 0 && isIdTakenElsewhereMark(view.getUint16(eventOffset(index) + flagsAt, true))) return;
  const failed =
    operation === JournalEntryKind.create_transfers ? state.transfersFailed : operation === JournalEntryKind.create_accounts ? state.accountsFailed : state.operationsFailed;
  if (!failed.hasAt(view, eventOffset(index))) failed.setAt(view, eventOffset(index), locationOf(seq, index));
}

/** The journaled verdict of the checks on assigned fields (timestamp, effective amount), if one failed. */
function assignedFieldsVerdict(view: DataView, count: number, index: number): number | undefined {
  const code = view.getUint16(resultsOffset(count) + index * resultBytes, true);
  return code === ResultCode.timestamp_must_be_zero || code === ResultCode.reserved_field ? code : undefined;
}

