// The flush_history entry: it moves no money and holds no events; applying it (live and in replay, the same
// code) moves every account's buffered history nodes into stored runs (core/accounts/account-history.ts).
// The shard writes the runs it returns beside the entry, in the same transaction. Never inside a chain, never
// between a vote and its decision: so no undo can reach across a flush.

import { assert } from '../assert.js';
import type { JournalEntryHeader } from './journal-entry.js';
import type { LedgerContext, WrittenEntry } from './ledger-context.js';
import { JournalEntryKind } from '../operations.js';

/** A flush_history entry, not applied yet; null while a vote awaits its decision (the next entry must decide it). */
export function writeFlushEntry(context: LedgerContext, nowNs: bigint): WrittenEntry | null {
  if (context.prepared !== null) return null;
  return context.newEntry(JournalEntryKind.flush_history, 0, nowNs);
}

export function applyFlush(context: LedgerContext, entry: Uint8Array, header: JournalEntryHeader): void {
  const state = context.state;
  assert(header.count === 0, `flush_history entry ${header.seq} holds no events`);
  assert(state.undo === null && context.prepared === null, `flush_history entry ${header.seq} is neither inside a chain nor between a vote and its decision`);
  assert(header.timestampBase > context.timestampLast || context.lastSeq === 0, `flush_history entry ${header.seq} is stamped after every earlier entry`);
  state.remember(header.seq, entry);
  context.flushedRuns = state.accounts.history.flush(header.seq);
  assert(state.accounts.history.bufferedNodes === 0, 'a flush empties the history buffer');
  context.advance(header.seq, header.timestampBase, null);
}
