// query_transfers on one shard (issue #16): a page of the transfers that match a filter, in (timestamp, id) order,
// read through an index — an account's history (core/accounts/account-history.ts) when the filter names an account,
// else the most selective indexed field it names (transfer-index.ts) — never a walk of the journal. Each candidate
// is read back from its entry and checked against every field of the filter; a page stops at its limit or after
// queryExaminedMax candidates, and hands back a cursor (core/query-filter.ts) when rows may follow.

import { errors } from '../errors.js';
import { JournalEntryKind } from '../operations.js';
import { QueryDirection, QueryFilterLayout as Q, TransferLayout as T, TransferStateLayout as S } from '../layout.js';
import { queryExaminedMax } from '../limits.js';
import { boundsAfterCursor, isAfterCursor, isWithinBounds, parseQueryFilter, queryReply, type QueryFilter } from '../query-filter.js';
import { equalIdsAt, viewOf } from '../u128.js';
import { fieldsBySelectivity, filterPrefix } from './transfer-index.js';
import type { LedgerState } from './ledger-state.js';
import { locationEventsPerBatchMax } from '../limits.js';
import { writeTransferRecord, writeTransferState } from './queries.js';
import { isDerivedIdAt } from './validate.js';

/** A row's status when the transfer is another shard's (a credit its history shows): the router asks that shard. */
export const statusElsewhere = 0;

/** The fields a filter may name beside the index it is read through, each checked on the record: offsets and widths. */
const checkedFields = [
  { filter: Q.userData128, transfer: T.userData128, bytes: 16 },
  { filter: Q.userData64, transfer: T.userData64, bytes: 8 },
  { filter: Q.userData32, transfer: T.userData32, bytes: 4 },
  { filter: Q.ledger, transfer: T.ledger, bytes: 4 },
  { filter: Q.code, transfer: T.code, bytes: 2 },
] as const;

export function queryTransfers(state: LedgerState, body: Uint8Array): Uint8Array {
  const filter = parseQueryFilter(body, 'transfers');
  const named = checkedFields.filter(({ filter: at, bytes }) => !isZeroBytes(filter.bytes, at, bytes));
  let candidates: Iterable<number>;
  if (filter.byAccount) {
    // The ledger's own accounts (transit, suspense, slices) answer as unknown ones, as lookups do.
    const slot = isDerivedIdAt(filter.view, Q.accountId) ? -1 : state.accounts.slotAt(filter.view, Q.accountId);
    if (slot < 0) return queryReply([], S.bytes, null);
    candidates = historyCandidates(state, slot, filter);
  } else {
    const prefix = fieldsBySelectivity.map((field) => filterPrefix(field, body)).find((found) => found !== null);
    if (prefix === undefined || prefix === null) {
      throw errors.bodyInvalid('query_transfers needs at least one indexed filter: account_id, user_data_128, user_data_64, user_data_32, ledger or code');
    }
    candidates = indexCandidates(state, prefix, filter);
  }
  const rows: Uint8Array[] = [];
  let examined = 0;
  let last: { timestamp: bigint; id: Uint8Array } | null = null;
  let more = false;
  for (const location of candidates) {
    if (rows.length === filter.limit || examined === queryExaminedMax) {
      more = true;
      break;
    }
    examined++;
    const stored = state.record(location);
    const timestamp = stored.view.getBigUint64(stored.at + T.timestamp, true);
    if (!isWithinBounds(filter, timestamp) || !isAfterCursor(filter, timestamp, stored.view, stored.at + T.id)) continue;
    last = { timestamp, id: new Uint8Array(stored.view.buffer, stored.view.byteOffset + stored.at + T.id, 16).slice() };
    if (!fieldsMatch(filter, named, stored.view, stored.at)) continue;
    const row = rowOf(state, filter, location);
    if (row !== null) rows.push(row);
  }
  return queryReply(rows, S.bytes, more && last !== null ? last : null);
}

function isZeroBytes(bytes: Uint8Array, at: number, width: number): boolean {
  for (let i = 0; i < width; i++) if (bytes[at + i] !== 0) return false;
  return true;
}

function fieldsMatch(filter: QueryFilter, named: readonly (typeof checkedFields)[number][], view: DataView, at: number): boolean {
  if (isDerivedIdAt(view, at + T.id)) return false; // the ledger's own postings (summaries, returns of its own)
  for (const field of named) {
    for (let i = 0; i < field.bytes; i++) if (filter.bytes[field.filter + i] !== view.getUint8(at + field.transfer + i)) return false;
  }
  return (view.getUint16(at + T.flags, true) & filter.flagsAll) === filter.flagsAll;
}

/**
 * The transfer state row of the record at `location`, or null when it does not match. A record in an account's
 * history may be a credit another shard's transfer made here (an instruction applied, or a chain's credit half):
 * its row carries status `statusElsewhere`, which the router fills in from the shard that posted it. A return
 * (the payer's money back, a record of the transfer in an apply_inbound entry) is not the transfer: skipped.
 */
function rowOf(state: LedgerState, filter: QueryFilter, location: number): Uint8Array | null {
  const row = new Uint8Array(S.bytes);
  const out = viewOf(row);
  const stored = state.record(location);
  // Posted here: a caller's batch whose payer lives here (a chain's credit half, in such an entry too, pays from
  // another shard). Told from the entry's header and the record, with no id lookup (an old id costs a disk read).
  const postedHere = state.entryOperationAt(location) === JournalEntryKind.create_transfers && state.isLocal(stored.view, stored.at + T.debitAccountId);
  if (!postedHere && state.isLocal(stored.view, stored.at + T.debitAccountId)) return null;
  if (postedHere) writeTransferState(state, location, row, out, 0);
  else writeTransferRecord(state, stored, row, out, 0);
  if (filter.byAccount) {
    const debits = equalIdsAt(out, T.debitAccountId, filter.view, Q.accountId);
    const credits = equalIdsAt(out, T.creditAccountId, filter.view, Q.accountId);
    if (filter.direction === QueryDirection.debits && !debits) return null;
    if (filter.direction === QueryDirection.credits && !credits) return null;
    if (!debits && !credits) return null; // a slice's posting the account's own history does not hold
  }
  const status = out.getUint16(S.status, true);
  if (filter.status !== 0 && status !== statusElsewhere && status !== filter.status) return null;
  return row;
}

/** Locations of an account's history within the bounds after the cursor, in query order. */
function* historyCandidates(state: LedgerState, slot: number, filter: QueryFilter): Generator<number> {
  const history = state.accounts.history;
  const { from, to } = boundsAfterCursor(filter);
  const segments = [];
  for (const segment of history.segmentsNewestFirst(slot)) {
    if (segment.lastTimestamp < from) break;
    if (segment.firstTimestamp <= to) segments.push(segment);
    // Newest first: the walk stops at the first page's worth once reversed (the caller stops reading).
    if (filter.reversed) {
      yield* windowOf(state, history.locationsOf(slot, segment), from, to, true);
      segments.length = 0;
    }
  }
  for (let k = segments.length - 1; k >= 0; k--) yield* windowOf(state, history.locationsOf(slot, segments[k]!), from, to, false);
}

/** The locations of one segment (posting order: timestamps ascend) stamped within [from, to], in query order. */
function* windowOf(state: LedgerState, locations: Float64Array, from: bigint, to: bigint, reversed: boolean): Generator<number> {
  const timestampOf = (i: number): bigint => {
    const stored = state.record(locations[i]!);
    return stored.view.getBigUint64(stored.at + T.timestamp, true);
  };
  const first = lowerBound(locations.length, (i) => timestampOf(i) >= from);
  const end = Math.max(first, lowerBound(locations.length, (i) => timestampOf(i) > to));
  if (reversed) for (let i = end - 1; i >= first; i--) yield locations[i]!;
  else for (let i = first; i < end; i++) yield locations[i]!;
}

/** Locations of the index runs under `prefix` within the bounds after the cursor, in query order. */
function* indexCandidates(state: LedgerState, prefix: Uint8Array, filter: QueryFilter): Generator<number> {
  const { from, to } = boundsAfterCursor(filter);
  for (const run of state.transferIndex.runsUnder(prefix, from, to, filter.reversed)) {
    const base = run.seq * locationEventsPerBatchMax;
    const count = run.indexes.length;
    for (let k = 0; k < count; k++) {
      const index = run.indexes[filter.reversed ? count - 1 - k : k]!;
      const timestamp = run.timestampBase + BigInt(index);
      if (timestamp >= from && timestamp <= to) yield base + index;
    }
  }
}

/** The first index in [0, length) where `atOrAfter` turns true (it must be monotone). */
function lowerBound(length: number, atOrAfter: (i: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (atOrAfter(mid)) high = mid;
    else low = mid + 1;
  }
  return low;
}
