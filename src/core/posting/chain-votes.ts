// A shard's part of linked chains that span shards (core/chains/prepared-chains.ts): the vote (prepare_chains:
// a dry run, undone, whose results the entry keeps), then its decision — the commit (the same events
// re-executed, which must give the same results) or the abort (moves nothing, remembers failed ids).

import { assert } from '../assert.js';
import { bytesEqual } from '../bytes.js';
import { ChainEventBits, chainGroupTrailerBytes, type PrepareRequest, type RememberedFailure } from '../chains/prepared-chains.js';
import { applyDryRun, rememberFailure } from './entry-apply.js';
import { errors } from '../errors.js';
import { expireThrough } from './expiry-entries.js';
import { JournalEntryFlags, eventOffset, journalEntryBytes, resultsOffset, writeJournalHeader, type JournalEntryHeader } from './journal-entry.js';
import { TransferLayout, resultBytes } from '../layout.js';
import type { LedgerContext, PreparedGroup, WrittenEntry } from './ledger-context.js';
import { batchEventsMax, eventBytes } from '../limits.js';
import { JournalEntryKind, isWriteOperation, type JournalEntryKindNumber } from '../operations.js';
import { refuseWhileOutboxFull } from './batch-entries.js';
import { clearRouterVerdicts, movesMoney } from './verdicts-elsewhere.js';
import { shardOfIdAt } from '../routing.js';
import { transferKindFlags } from '../types.js';
import { ResultCode } from '../result-codes.js';

/** The prepared group's u16 inner operation and u64 group number, at the end of its entries. */
const ChainGroupTrailer = { operation: 0, group: 8 } as const;

/** The prepare entry of a vote on `request` (checked here), not applied yet. */
export function writePrepareEntry(context: LedgerContext, request: PrepareRequest, nowNs: bigint): WrittenEntry {
  assert(context.prepared === null, 'one prepared group at a time');
  const { operation, events, chainEnds, group } = request;
  if (!isWriteOperation(operation)) throw errors.operationUnknown(operation);
  const count = events.byteLength / eventBytes;
  if (!Number.isInteger(count) || count < 1 || count > batchEventsMax) throw errors.bodyInvalid(`a prepared part is 1..${batchEventsMax} events`);
  assert(chainEnds.byteLength === count && (chainEnds[count - 1]! & ChainEventBits.chainEnd) !== 0, 'every sub-chain of a prepared part ends');
  if (operation === JournalEntryKind.create_transfers) refuseWhileOutboxFull(context);
  const written = context.newEntry(JournalEntryKind.prepare_chains, count, nowNs);
  const { entry, view } = written;
  entry.set(events, eventOffset(0));
  entry.set(chainEnds, chainEndsOffset(count));
  const trailer = entry.byteLength - chainGroupTrailerBytes;
  view.setUint16(trailer + ChainGroupTrailer.operation, operation, true);
  view.setBigUint64(trailer + ChainGroupTrailer.group, group, true);
  return written;
}

/** The commit entry of the prepared group: its events again, as an ordinary entry flagged commitsPrepared. */
export function writeCommitEntry(context: LedgerContext, nowNs: bigint): WrittenEntry {
  const prepared = context.prepared;
  assert(prepared !== null, 'a commit needs a prepared group');
  const kind = prepared.operation as JournalEntryKindNumber;
  const written = context.newEntry(kind, prepared.count, nowNs, { flags: JournalEntryFlags.commitsPrepared });
  written.entry.set(prepared.events, eventOffset(0));
  return written;
}

/**
 * The abort entry of the prepared group, keeping the events of `remember` with the failures the chains were answered
 * (for an event whose payee's half failed, that half's code: not this shard's vote).
 */
export function writeAbortEntry(context: LedgerContext, nowNs: bigint, remember: readonly RememberedFailure[]): WrittenEntry {
  const prepared = context.prepared;
  assert(prepared !== null, 'an abort needs a prepared group');
  const count = remember.length;
  assert(
    remember.every(({ position: p }) => Number.isInteger(p) && p >= 0 && p < prepared.count && (prepared.roles[p]! & ChainEventBits.creditHalf) === 0),
    'remembered failures are payer events of the part',
  );
  const written = context.newEntry(JournalEntryKind.abort_chains, count, nowNs);
  const { entry, view } = written;
  remember.forEach(({ position, result }, k) => {
    entry.set(prepared.events.subarray(position * eventBytes, (position + 1) * eventBytes), eventOffset(k));
    // The vote kept the event as the router sent it: its failure is remembered as the caller sent it.
    clearRouterVerdicts(prepared.operation, view, eventOffset(k));
    // Its own vote, or the payee's half's failure where its own half passed.
    const own = prepared.results.subarray(position * resultBytes, (position + 1) * resultBytes);
    const ownCode = new DataView(own.buffer, own.byteOffset, resultBytes).getUint16(0, true);
    // Where the payee's half failed, the payer's vote passed the event or stopped at that failure (linked_event_failed).
    assert(ownCode === (result & 0xffff) || ownCode === ResultCode.ok || ownCode === ResultCode.linked_event_failed, 'a remembered failure is the vote of its payer or of its payee');
    view.setUint32(resultsOffset(count) + k * resultBytes, result, true);
  });
  view.setUint16(entry.byteLength - chainGroupTrailerBytes + ChainGroupTrailer.operation, prepared.operation, true);
  view.setBigUint64(entry.byteLength - chainGroupTrailerBytes + ChainGroupTrailer.group, prepared.group, true);
  return written;
}

/** The vote: expiry up to its moment (real), then the dry run on a copy (undone), results into the entry. */
export function applyPrepare(context: LedgerContext, entry: Uint8Array, header: JournalEntryHeader): void {
  const state = context.state;
  const { count, seq, timestampBase } = header;
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const trailer = entry.byteLength - chainGroupTrailerBytes;
  const operation = view.getUint16(trailer + ChainGroupTrailer.operation, true);
  assert(isWriteOperation(operation) && count >= 1, `prepare entry ${seq} holds write events`);
  const timestampLast = timestampBase + BigInt(count - 1);
  expireThrough(state, timestampLast);
  // Holds expiring here may tell other shards (InstructionKind.release): those instructions go with this entry.
  const stagedByExpiry = state.outbox.stagedCount;
  // The dry run stamps and fills in its copy; the entry keeps the caller's events for the commit.
  const dryHeader = { operation, count, timestampBase, seq, businessDay: header.businessDay };
  const dry = new Uint8Array(journalEntryBytes(operation, count));
  const dryView = new DataView(dry.buffer);
  writeJournalHeader(dryView, dryHeader);
  dry.set(entry.subarray(eventOffset(0), eventOffset(count)), eventOffset(0));
  state.remember(seq, dry);
  const chainEnds = entry.subarray(chainEndsOffset(count), chainEndsOffset(count) + count);
  const undo: (() => void)[] = [];
  state.undo = undo;
  state.chainRoles = chainEnds;
  try {
    applyDryRun(state, dryView, dryHeader, chainEnds);
  } finally {
    state.chainRoles = null;
  }
  state.undo = null;
  for (let u = undo.length - 1; u >= 0; u--) undo[u]!();
  assert(state.outbox.stagedCount === stagedByExpiry, 'a dry run leaves no instruction staged');
  state.assertConservation();
  const from = resultsOffset(count);
  entry.set(dry.subarray(from, from + count * resultBytes), from);
  state.remember(seq, entry);
  context.prepared = {
    group: view.getBigUint64(trailer + ChainGroupTrailer.group, true),
    operation,
    count,
    events: entry.slice(eventOffset(0), eventOffset(count)),
    results: entry.slice(from, from + count * resultBytes),
    roles: chainEnds.slice(),
  };
  context.advance(seq, timestampLast, state.outbox.commitStaged());
}

export function applyAbort(context: LedgerContext, entry: Uint8Array, header: JournalEntryHeader): void {
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const trailer = entry.byteLength - chainGroupTrailerBytes;
  const group = view.getBigUint64(trailer + ChainGroupTrailer.group, true);
  assert(group === context.prepared!.group, `abort entry ${header.seq} names the prepared group`);
  context.state.remember(header.seq, entry);
  const operation = view.getUint16(trailer + ChainGroupTrailer.operation, true);
  const from = resultsOffset(header.count);
  for (let i = 0; i < header.count; i++) rememberFailure(context.state, operation, view, header.seq, i, view.getUint32(from + i * resultBytes, true));
  context.prepared = null;
  context.advance(header.seq, header.timestampBase, null);
}

/** A credit half of a prepared group: money from a payer on shard `from`, in `ledger`. */
export interface CarriedCredit {
  group: bigint;
  from: number;
  ledger: number;
  amount: bigint;
}

/** The credit halves of `prepared` that move posted money (a hold shown moves none). */
export function carriedCreditsOf(prepared: PreparedGroup, shardCount: number): CarriedCredit[] {
  const credits: CarriedCredit[] = [];
  if (prepared.operation !== JournalEntryKind.create_transfers) return credits;
  const view = new DataView(prepared.events.buffer, prepared.events.byteOffset, prepared.events.byteLength);
  const results = new DataView(prepared.results.buffer, prepared.results.byteOffset, prepared.results.byteLength);
  for (let k = 0; k < prepared.count; k++) {
    if ((prepared.roles[k]! & ChainEventBits.creditHalf) === 0 || results.getUint16(k * resultBytes, true) !== ResultCode.ok) continue;
    const at = k * eventBytes;
    if (!movesMoney(view.getUint16(at + TransferLayout.flags, true) & transferKindFlags)) continue;
    credits.push({ group: prepared.group, from: shardOfIdAt(view, at + TransferLayout.debitAccountId, shardCount), ledger: view.getUint32(at + TransferLayout.ledger, true), amount: view.getBigUint64(at + TransferLayout.amount, true) });
  }
  return credits;
}

/** Same state, same events, same order: a commit that differs from its vote is a bug, never an answer. */
export function checkCommit(context: LedgerContext, entry: Uint8Array, header: JournalEntryHeader): void {
  const prepared = context.prepared!;
  assert(header.operation === prepared.operation && header.count === prepared.count, `commit ${header.seq} re-executes the prepared events`);
  const from = resultsOffset(header.count);
  const results = entry.subarray(from, from + header.count * resultBytes);
  assert(bytesEqual(results, prepared.results), `commit ${header.seq} reproduces the results of its vote`);
  context.prepared = null;
}

/** Where a prepare_chains entry of `count` events keeps its chain-end bytes (after the results). */
function chainEndsOffset(count: number): number {
  return resultsOffset(count) + count * resultBytes;
}
