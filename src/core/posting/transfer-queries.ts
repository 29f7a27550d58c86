// query_transfers on one shard (issue #16): a page of the transfers that match a filter, in (timestamp, id) order,
// read through an index — an account's history (core/accounts/account-history.ts) when the filter names an account,
// else the most selective indexed field it names (transfer-index.ts) — never a walk of the journal. Each candidate
// is read back from its entry and checked against every field of the filter; a page stops at its limit or after
// queryExaminedMax candidates, and hands back a cursor (core/query-filter.ts) when rows may follow.

import { errors } from '../errors.js';
import { isZeroAt } from '../bytes.js';
import { JournalEntryKind } from '../operations.js';
import { RecordParts } from './journal-entry.js';
import { QueryDirection, QueryFilterLayout as Q, TransferLayout as T, TransferStateLayout as S } from '../layout.js';
import { queryExaminedMax } from '../limits.js';
import { boundsAfterCursor, isAfterCursor, isWithinBounds, parseQueryFilter, queryReplyOfRows, type QueryFilter } from '../query-filter.js';
import { equalIdsAt, viewOf } from '../u128.js';
import { shardOfIdAt } from '../routing.js';
import { fieldsBySelectivity, filterPrefix, TransferIndexField } from './transfer-index.js';
import type { HistorySegment } from '../accounts/account-history.js';
import { newRecordScratch, type LedgerState, type RecordRef } from './ledger-state.js';
import { locationEventsPerBatchMax } from '../limits.js';
import { lowerBound, writeTransferRecord, writeTransferState } from './queries.js';
import { isDerivedIdAt } from './validate.js';

/**
 * A row's status when the transfer is another shard's (a credit its history shows): the router asks that shard,
 * whose number such a row carries in its returnReason field, and fills in the state (status, returnReason, amounts).
 */
export const statusElsewhere = 0;

/** The fields a filter may name beside the index it is read through, each checked on the record: offsets and widths. */
const checkedFields = [
  { filter: Q.userData128, transfer: T.userData128, bytes: 16 },
  { filter: Q.userData64, transfer: T.userData64, bytes: 8 },
  { filter: Q.userData32, transfer: T.userData32, bytes: 4 },
  { filter: Q.ledger, transfer: T.ledger, bytes: 4 },
  { filter: Q.code, transfer: T.code, bytes: 2 },
] as const;

/**
 * What a walk of an index yields: a transfer's location to read and check (≥ 0), or `passedMark` — the point in the
 * walk's PassedPoint through which every candidate is checked already (an index run whose transfers another index
 * ruled out, none read): a page may end there, its cursor just past it. Numbers, not an object per candidate: a
 * page reads hundreds (bench/RESULTS.md, issue #16: what a query allocates sets how often its shard collects).
 */
const passedMark = -1;

interface PassedPoint {
  timestamp: bigint;
  id: Uint8Array;
}

/** Cursor ids past every id (ascending) or before every id (newest first): a point that covers a whole timestamp. */
const idAfterAll = new Uint8Array(16).fill(0xff);
const idBeforeAll = new Uint8Array(16);

/**
 * Where a query copies each record it reads (the shard's thread runs one query at a time, start to end, and no
 * record read into it outlives the candidate it was read for).
 */
const scratch = newRecordScratch();

export function queryTransfers(state: LedgerState, body: Uint8Array): Uint8Array {
  const filter = parseQueryFilter(body, 'transfers');
  const named = checkedFields.filter(({ filter: at, bytes }) => !isZeroAt(filter.bytes, at, bytes));
  const passed: PassedPoint = { timestamp: 0n, id: idAfterAll };
  let candidates: Iterable<number>;
  if (filter.byAccount) {
    // The ledger's own accounts (transit, suspense, slices) answer as unknown ones, as lookups do.
    const slot = isDerivedIdAt(filter.view, Q.accountId) ? -1 : state.accounts.slotAt(filter.view, Q.accountId);
    if (slot < 0) return queryReplyOfRows(new Uint8Array(0), 0, null);
    candidates = historyCandidates(state, slot, filter);
  } else {
    const prefixes = indexPrefixesOf(body);
    if (prefixes.length === 0) {
      throw errors.bodyInvalid('query_transfers needs at least one indexed filter: account_id, user_data_128, user_data_64, user_data_32, ledger or code');
    }
    candidates = indexCandidates(state, prefixes, filter, passed);
  }
  const page = new QueryPage(filter.limit);
  let examined = 0;
  // The last point examined (a candidate read, or a run passed): where the next page goes on from.
  let lastTimestamp = -1n;
  const lastId = new Uint8Array(16);
  let more = false;
  for (const location of candidates) {
    if (page.count === filter.limit || examined === queryExaminedMax) {
      more = true;
      break;
    }
    examined++;
    if (location === passedMark) {
      lastTimestamp = passed.timestamp;
      lastId.set(passed.id);
      continue;
    }
    const stored = state.record(location, RecordParts.event, scratch);
    const timestamp = stored.view.getBigUint64(stored.at + T.timestamp, true);
    if (!isWithinBounds(filter, timestamp) || !isAfterCursor(filter, timestamp, stored.view, stored.at + T.id)) continue;
    lastTimestamp = timestamp;
    for (let b = 0; b < 16; b++) lastId[b] = stored.view.getUint8(stored.at + T.id + b);
    if (!fieldsMatch(filter, named, stored.view, stored.at)) continue;
    if (writeRow(state, filter, location, stored, page.room())) page.count++;
  }
  return page.reply(more && lastTimestamp >= 0n ? { timestamp: lastTimestamp, id: lastId } : null);
}

/** The rows of a page as they are written: room for the next, grown by doubling up to the limit. */
class QueryPage {
  count = 0;
  #rows: Uint8Array;

  constructor(readonly limit: number) {
    this.#rows = new Uint8Array(Math.min(limit, 16) * S.bytes);
  }

  /** Where the next row goes (S.bytes), before it is counted. */
  room(): Uint8Array {
    const at = this.count * S.bytes;
    if (at === this.#rows.byteLength) {
      const grown = new Uint8Array(Math.min(this.limit, this.count * 2) * S.bytes);
      grown.set(this.#rows);
      this.#rows = grown;
    }
    return this.#rows.subarray(at, at + S.bytes);
  }

  reply(more: { timestamp: bigint; id: Uint8Array } | null): Uint8Array {
    return queryReplyOfRows(this.#rows.subarray(0, this.count * S.bytes), this.count, more);
  }
}

/**
 * The index prefixes a filter names, the most selective first: each user data field, then ledger and code as one
 * pair when both are named (else the one named). The first drives the walk; the others rule candidates out.
 */
function indexPrefixesOf(body: Uint8Array): Uint8Array[] {
  const prefixes: Uint8Array[] = [];
  for (const field of fieldsBySelectivity) {
    const prefix = filterPrefix(field, body);
    if (prefix === null) continue;
    // (ledger, code) covers both alone.
    if (prefixes.some((p) => p[0] === TransferIndexField.ledgerCode) && (field === TransferIndexField.code || field === TransferIndexField.ledger)) continue;
    prefixes.push(prefix);
  }
  return prefixes;
}

function fieldsMatch(filter: QueryFilter, named: readonly (typeof checkedFields)[number][], view: DataView, at: number): boolean {
  if (isDerivedIdAt(view, at + T.id)) return false; // the ledger's own postings (summaries, returns of its own)
  for (const field of named) {
    for (let i = 0; i < field.bytes; i++) if (filter.bytes[field.filter + i] !== view.getUint8(at + field.transfer + i)) return false;
  }
  return (view.getUint16(at + T.flags, true) & filter.flagsAll) === filter.flagsAll;
}

/**
 * Writes the transfer state row of the record at `location` into `row` (S.bytes); false when it does
 * not match. A record in an account's history may be a credit another shard's transfer made here (an instruction
 * applied, or a chain's credit half): its row carries status `statusElsewhere`, which the router fills in from the
 * shard that posted it. A return (the payer's money back, a record of the transfer in an apply_inbound entry) is
 * not the transfer: skipped.
 */
function writeRow(state: LedgerState, filter: QueryFilter, location: number, stored: RecordRef, row: Uint8Array): boolean {
  row.fill(0); // room a row that did not match may have written
  const out = viewOf(row);
  // Posted here: a caller's batch whose payer lives here (a chain's credit half, in such an entry too, pays from
  // another shard). Told from the entry's header and the record, with no id lookup (an old id costs a disk read).
  const postedHere = state.entryOperationAt(location) === JournalEntryKind.create_transfers && state.isLocal(stored.view, stored.at + T.debitAccountId);
  if (!postedHere && state.isLocal(stored.view, stored.at + T.debitAccountId)) return false;
  if (postedHere) writeTransferState(state, location, row, out, 0, stored);
  else {
    writeTransferRecord(state, stored, row, out, 0);
    // The shard that posted it (its payer's, or its slice's): the router asks that one alone for the state.
    out.setUint16(S.returnReason, shardOfIdAt(stored.view, stored.at + T.debitAccountId, state.shardCount), true);
  }
  if (filter.byAccount) {
    const debits = equalIdsAt(out, T.debitAccountId, filter.view, Q.accountId);
    const credits = equalIdsAt(out, T.creditAccountId, filter.view, Q.accountId);
    if (filter.direction === QueryDirection.debits && !debits) return false;
    if (filter.direction === QueryDirection.credits && !credits) return false;
    if (!debits && !credits) return false; // a slice's posting the account's own history does not hold
  }
  const status = out.getUint16(S.status, true);
  return filter.status === 0 || status === statusElsewhere || status === filter.status;
}

/** Locations of an account's history within the bounds after the cursor, in query order. */
function* historyCandidates(state: LedgerState, slot: number, filter: QueryFilter): Generator<number> {
  const history = state.accounts.history;
  const { from, to } = boundsAfterCursor(filter);
  const segments: HistorySegment[] = [];
  for (const segment of history.segmentsNewestFirst(slot)) {
    if (segment.lastTimestamp < from) break;
    if (segment.firstTimestamp > to) continue;
    // Newest first: each segment as it comes (the caller stops reading once its page is full).
    if (filter.reversed) yield* windowOf(state, history.locationsOf(slot, segment), segment, from, to, true);
    else segments.push(segment);
  }
  for (let k = segments.length - 1; k >= 0; k--) yield* windowOf(state, history.locationsOf(slot, segments[k]!), segments[k]!, from, to, false);
}

/** The locations of one segment (posting order: timestamps ascend) stamped within [from, to], in query order. */
function* windowOf(state: LedgerState, locations: Float64Array, segment: HistorySegment, from: bigint, to: bigint, reversed: boolean): Generator<number> {
  const timestampOf = (i: number): bigint => {
    const stored = state.record(locations[i]!, RecordParts.event, scratch);
    return stored.view.getBigUint64(stored.at + T.timestamp, true);
  };
  // The header's bounds spare the binary searches (two record reads each) when the segment lies inside the window.
  const first = segment.firstTimestamp >= from ? 0 : lowerBound(locations.length, (i) => timestampOf(i) >= from);
  const end = segment.lastTimestamp <= to ? locations.length : Math.max(first, lowerBound(locations.length, (i) => timestampOf(i) > to));
  if (reversed) for (let i = end - 1; i >= first; i--) yield locations[i]!;
  else for (let i = first; i < end; i++) yield locations[i]!;
}

/**
 * The transfers under the first prefix within the bounds after the cursor, in query order, less those another
 * named index rules out: its run of the same entry (one exact read per run, the key known) must hold the index
 * too. A code and a merchant together read a few index values per entry instead of every merchant's record.
 */
function* indexCandidates(state: LedgerState, prefixes: readonly Uint8Array[], filter: QueryFilter, passed: PassedPoint): Generator<number> {
  const { from, to } = boundsAfterCursor(filter);
  const [driver, ...others] = prefixes;
  for (const run of state.transferIndex.runsUnder(driver!, from, to, filter.reversed)) {
    let indexes = run.indexes;
    for (const other of others) {
      if (indexes.length === 0) break;
      indexes = state.transferIndex.indexesAt(other, run.timestampBase, indexes);
    }
    const base = run.seq * locationEventsPerBatchMax;
    const count = indexes.length;
    // A run inside the bounds (most are) needs no timestamp per transfer: event i was stamped base + i.
    const inside = count > 0 && run.timestampBase >= from && run.timestampBase + BigInt(indexes[count - 1]!) <= to;
    for (let k = 0; k < count; k++) {
      const index = indexes[filter.reversed ? count - 1 - k : k]!;
      if (inside) yield base + index;
      else {
        const timestamp = run.timestampBase + BigInt(index);
        if (timestamp >= from && timestamp <= to) yield base + index;
      }
    }
    if (others.length > 0) {
      // Every transfer of this run is decided: a page may end here (counted as one candidate examined).
      // Only a point inside the bounds after the cursor: a run ending before them is no progress to report.
      const edge = run.timestampBase + BigInt(run.indexes[filter.reversed ? 0 : run.indexes.length - 1]!);
      if (filter.reversed ? edge <= to : edge >= from) {
        passed.timestamp = edge;
        passed.id = filter.reversed ? idBeforeAll : idAfterAll;
        yield passedMark;
      }
    }
  }
}
