// Applies one journal entry, live or on replay, through a handler per journal entry kind (core/operations.ts
// JournalEntryKind). Every entry first keeps the rule of cross-shard votes: an entry decides the prepared group
// exactly when there is one; and every entry but a cut belongs to the current business day.

import { assert } from '../assert.js';
import { applyAbort, applyPrepare, checkCommit } from './chain-votes.js';
import { applyCut } from './day-cuts.js';
import { applyBatchEvents, eventRules, sliceRules } from './entry-apply.js';
import { expireThrough } from './expiry-entries.js';
import { applyFlush } from './history-flush.js';
import { applyHotRecords } from './hot-inbound-entries.js';
import { JournalEntryFlags, resultsOffset, type JournalEntryHeader } from './journal-entry.js';
import { resultBytes } from '../layout.js';
import type { LedgerContext } from './ledger-context.js';
import { JournalEntryKind, type JournalEntryKindNumber } from '../operations.js';

/** `assignedChecked`: the entry is new (its timestamps and assigned fields still to be checked), not replayed. */
type EntryHandler = (context: LedgerContext, entry: Uint8Array, header: JournalEntryHeader, assignedChecked: boolean) => void;

/** What an ordinary entry does between expiry and its end: the batch's events, or the hot-inbound records. */
type EntryBody = (context: LedgerContext, entry: Uint8Array, header: JournalEntryHeader, assignedChecked: boolean, commits: boolean) => void;

const batchBody: EntryBody = (context, entry, header, assignedChecked, commits) => {
  if (header.count === 0) return;
  const opensSlices = ((header.flags ?? 0) & JournalEntryFlags.opensSlices) !== 0;
  assert(!opensSlices || header.operation === JournalEntryKind.create_accounts, `entry ${header.seq}: only create_accounts entries open slices`);
  const rule = opensSlices ? sliceRules : eventRules[header.operation]!;
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  // A commit applies its events in the roles its vote gave them (credit halves, carried payers).
  context.state.chainRoles = commits ? context.prepared!.roles : null;
  try {
    applyBatchEvents(context.state, view, header, rule, assignedChecked, commits);
  } finally {
    context.state.chainRoles = null;
  }
};

const hotBody: EntryBody = (context, entry, header) => applyHotRecords(context.state, entry, header);

/** An entry that expires what is due by its last timestamp, then applies `body`; a commit also checks its vote. */
function ordinaryEntry(body: EntryBody): EntryHandler {
  return (context, entry, header, assignedChecked) => {
    const state = context.state;
    const commits = ((header.flags ?? 0) & JournalEntryFlags.commitsPrepared) !== 0;
    state.remember(header.seq, entry);
    const timestampLast = header.timestampBase + BigInt(Math.max(header.count, 1) - 1);
    // A commit applies against the state its vote saw: holds due since then expire with the next entry.
    if (!commits) expireThrough(state, timestampLast);
    body(context, entry, header, assignedChecked, commits);
    if (commits) checkCommit(context, entry, header);
    state.assertConservation();
    context.advance(header.seq, timestampLast, state.outbox.commitStaged());
  };
}

const entryHandlers: Readonly<Record<JournalEntryKindNumber, EntryHandler>> = {
  [JournalEntryKind.create_accounts]: ordinaryEntry(batchBody),
  [JournalEntryKind.create_transfers]: ordinaryEntry(batchBody),
  [JournalEntryKind.account_operations]: ordinaryEntry(batchBody),
  [JournalEntryKind.expire_pending]: ordinaryEntry(batchBody), // no events: expiry alone
  [JournalEntryKind.apply_inbound]: ordinaryEntry(batchBody),
  [JournalEntryKind.day_cut]: (context, entry, header) => applyCut(context, entry, header),
  [JournalEntryKind.prepare_chains]: (context, entry, header) => applyPrepare(context, entry, header),
  [JournalEntryKind.abort_chains]: (context, entry, header) => applyAbort(context, entry, header),
  [JournalEntryKind.apply_hot_inbound]: ordinaryEntry(hotBody),
  [JournalEntryKind.flush_history]: (context, entry, header) => applyFlush(context, entry, header),
};

/** Applies `entry` (whose header is `header`) to the ledger, results into the entry. */
export function applyEntry(context: LedgerContext, entry: Uint8Array, header: JournalEntryHeader, assignedChecked: boolean): void {
  const { operation, seq } = header;
  const commits = ((header.flags ?? 0) & JournalEntryFlags.commitsPrepared) !== 0;
  const decides = commits || operation === JournalEntryKind.abort_chains;
  assert(decides === (context.prepared !== null), `entry ${seq} ${decides ? 'decides a group no entry prepared' : 'follows a prepared group it does not decide'}`);
  const handler = entryHandlers[operation as JournalEntryKindNumber];
  assert(handler !== undefined, `entry ${seq}: journal entry kind ${operation} is known`);
  // A cut begins a day; every other entry belongs to the one under way.
  if (operation !== JournalEntryKind.day_cut) assert(header.businessDay === context.businessDay, `entry ${seq} belongs to the current business day`);
  // History nodes of this entry's events take their timestamps from its header (timestampBase + index).
  context.state.accounts.history.noteEntry(seq, header.timestampBase);
  // Payees on other shards are judged by the results the entry was decided with, not the directory now
  // (remote-payee.ts): on replay the entry's own, for a commit its vote's.
  const from = resultsOffset(header.count);
  const state = context.state;
  state.payeeVerdicts = !assignedChecked ? entry.slice(from, from + header.count * resultBytes) : commits ? context.prepared!.results : null;
  try {
    handler(context, entry, header, assignedChecked);
  } finally {
    state.payeeVerdicts = null;
  }
}
