// The day cut (日切): one day_cut entry after which postings belong to the day it begins. Holds due before it
// expire and every hot-inbound buffer is applied first, so the balances at the cut are the closing balances of
// the day that ends (kept as a ClosedDay until the caller takes them).

import { assert } from '../assert.js';
import { isBusinessDay } from '../business-day.js';
import { expireThrough } from './expiry-entries.js';
import { applyAllBuffers } from './hot-inbound-entries.js';
import type { JournalEntryHeader } from './journal-entry.js';
import type { LedgerContext, WrittenEntry } from './ledger-context.js';
import { JournalEntryKind } from '../operations.js';
import { transitStatus } from './transit-status.js';

/** The day_cut entry that begins `day`, not applied yet. */
export function writeCutEntry(context: LedgerContext, day: number, nowNs: bigint): WrittenEntry {
  assert(Number.isInteger(day) && day > context.businessDay, `a cut begins a later day (${day} after ${context.businessDay})`);
  // Callers refuse other days first (the day book: body_invalid); replay does not check, so that a journal
  // an earlier version wrote with such a cut still opens.
  assert(isBusinessDay(day), `a cut begins a real date (${day})`);
  return context.newEntry(JournalEntryKind.day_cut, 0, nowNs, { businessDay: day });
}

export function applyCut(context: LedgerContext, entry: Uint8Array, header: JournalEntryHeader): void {
  const state = context.state;
  assert(header.count === 0 && header.businessDay > context.businessDay, `cut at seq ${header.seq} begins a later day`);
  assert(header.timestampBase > context.timestampLast || context.lastSeq === 0, `cut at seq ${header.seq} is stamped after every earlier entry`);
  state.remember(header.seq, entry);
  expireThrough(state, header.timestampBase); // holds due before the cut expire within the day that ends
  applyAllBuffers(state, header.timestampBase);
  const accounts = state.accounts;
  const closed = {
    day: context.businessDay,
    dayBegun: header.businessDay,
    cutSeq: header.seq,
    cutTimestamp: header.timestampBase,
    accountCount: accounts.count,
    balances: accounts.balancesBySlot(),
    transitMarks: transitStatus(state),
  };
  context.closedDays.push(closed);
  context.closedLast = closed;
  context.cuts.push({ day: header.businessDay, timestamp: header.timestampBase, seq: header.seq });
  context.businessDay = header.businessDay;
  // Holds expired at the cut may tell other shards (InstructionKind.release): those instructions go with the cut.
  context.advance(header.seq, header.timestampBase, state.outbox.commitStaged());
}
