// Expiry of holds whose deadline passed: before every entry (up to its last timestamp) and, while the shard is
// idle, as an expire_pending entry of its own. Expiry is never part of a chain: it cannot be undone.

import { assert } from '../assert.js';
import type { LedgerContext, WrittenEntry } from './ledger-context.js';
import type { LedgerState } from './ledger-state.js';
import { JournalEntryKind } from '../operations.js';
import { expireHold, isOpenHold } from './transfer-posting.js';

/** Expires every hold due at or before `timestampNs`, earliest deadline first. */
export function expireThrough(state: LedgerState, timestampNs: bigint): void {
  // Expiry is not part of any chain: it cannot be undone, and never is.
  assert(state.undo === null, 'holds expire outside linked chains');
  for (let due = state.expiry.peek(); due !== undefined && due.expiresAtNs <= timestampNs; due = state.expiry.peek()) {
    state.expiry.pop();
    expireHold(state, due.key, due.expiresAtNs);
  }
}

/** An expire_pending entry for every hold due by now, or null if none is due (or a vote awaits its decision). */
export function writeExpireEntry(context: LedgerContext, nowNs: bigint): WrittenEntry | null {
  if (context.prepared !== null) return null; // the next entry must decide the prepared group
  const state = context.state;
  // Holds posted, voided or undone since they were scheduled leave stale deadlines: none is due.
  for (let top = state.expiry.peek(); top !== undefined && !isOpenHold(state, top.key, top.expiresAtNs); top = state.expiry.peek()) {
    state.expiry.pop();
  }
  const due = state.expiry.peek();
  if (due === undefined || due.expiresAtNs > context.nextTimestamp(nowNs)) return null;
  return context.newEntry(JournalEntryKind.expire_pending, 0, nowNs);
}
