// A caller's write batch (create_accounts, create_transfers, account_operations) turned into a journal entry:
// the checks on its size and on the shard's room for cross-shard instructions, then the entry, not applied yet.

import { assert } from '../assert.js';
import { errors } from '../errors.js';
import { JournalEntryFlags, eventOffset } from './journal-entry.js';
import type { LedgerContext, WrittenEntry } from './ledger-context.js';
import { batchEventsMax, eventBytes } from '../limits.js';
import { JournalEntryKind, isWriteOperation, type JournalEntryKindNumber } from '../operations.js';

/** `flags` (JournalEntryFlags) is 0 for callers' batches; only the shard itself opens slices (opensSlices). */
export function writeBatchEntry(context: LedgerContext, operation: number, body: Uint8Array, nowNs: bigint, flags: number): WrittenEntry {
  if (!isWriteOperation(operation)) throw errors.operationUnknown(operation);
  assert(flags === 0 || (flags === JournalEntryFlags.opensSlices && operation === JournalEntryKind.create_accounts), 'only create_accounts entries open slices');
  assert(context.prepared === null, 'a shard with a prepared group runs nothing else until it is decided');
  const count = body.byteLength / eventBytes;
  if (!Number.isInteger(count) || count < 1) throw errors.bodyInvalid(`a batch is 1..${batchEventsMax} events of ${eventBytes} bytes`);
  if (count > batchEventsMax) throw errors.batchTooLarge(count, batchEventsMax);
  if (operation === JournalEntryKind.create_transfers) refuseWhileOutboxFull(context);
  const written = context.newEntry(operation as JournalEntryKindNumber, count, nowNs, { flags });
  written.entry.set(body, eventOffset(0));
  return written;
}

/** A transfer batch may issue instructions: refused while the outbox holds as many as it may. */
export function refuseWhileOutboxFull(context: LedgerContext): void {
  const state = context.state;
  if (state.outbox.full) {
    throw errors.overloaded(`shard ${state.shardIndex} holds ${state.outbox.retainedCount} cross-shard instructions no receiver acknowledged yet`);
  }
}
