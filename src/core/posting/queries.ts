// Read operations over one shard's state: account and transfer lookups and the account
// history (cashflow) pages. They never change state and never allocate per id beyond the reply.

import { accountStaticBytes, statusNumber } from '../accounts/account-table.js';
import { assert } from '../assert.js';
import { RecordParts } from './journal-entry.js';
import { errors } from '../errors.js';
import {
  AccountLayout as A,
  HistoryEntryLayout as H,
  HistoryFilterFlags,
  HistoryFilterLayout as F,
  TransferLayout as T,
  TransferStateLayout as S,
  idBytes,
} from '../layout.js';
import { newRecordScratch, type LedgerState, type RecordRef } from './ledger-state.js';
import type { IdCache } from '../accounts/id-cache.js';
import { eventBytes, historyPageMax, lookupIdsMax } from '../limits.js';
import { TransferFlags, TransferStatus, transferKindFlags } from '../types.js';
import { idKeyAt, viewOf } from '../u128.js';
import { holdOutcome } from './hold-outcomes.js';
import { isDerivedIdAt } from './validate.js';
import { isSliceIdAt } from '../hot/hot-outbound.js';

function idCount(body: Uint8Array): number {
  const count = body.byteLength / idBytes;
  if (!Number.isInteger(count) || count < 1 || count > lookupIdsMax) {
    throw errors.bodyInvalid(`lookup body must hold 1..${lookupIdsMax} ids of ${idBytes} bytes, got ${body.byteLength} bytes`);
  }
  return count;
}


/**
 * The accounts of `body`'s ids this shard holds. A caller's lookup (`ledgerOwn` false) answers the accounts the
 * ledger opens itself — transit, suspense, hot-outbound slices — as unknown: they exist only with more than one
 * shard, and a reply may not depend on that (issue #14, item 31). lookup_ledger_accounts (admin) shows them.
 */
export function lookupAccounts(state: LedgerState, body: Uint8Array, ledgerOwn: boolean): Uint8Array {
  const count = idCount(body);
  const ids = viewOf(body);
  const found: number[] = [];
  for (let i = 0; i < count; i++) {
    if (!ledgerOwn && isDerivedIdAt(ids, i * idBytes)) continue;
    const slot = state.accounts.slotAt(ids, i * idBytes);
    if (slot >= 0) found.push(slot);
  }
  const reply = new Uint8Array(found.length * eventBytes);
  const out = viewOf(reply);
  found.forEach((slot, i) => writeAccount(state, slot, reply, out, i * eventBytes));
  return reply;
}

export function writeAccount(state: LedgerState, slot: number, reply: Uint8Array, out: DataView, at: number): void {
  const accounts = state.accounts;
  reply.set(accounts.statics.subarray(slot * accountStaticBytes, (slot + 1) * accountStaticBytes), at);
  out.setBigUint64(at + A.debitsPosted, accounts.balance('debitsPosted', slot), true);
  out.setBigUint64(at + A.creditsPosted, accounts.balance('creditsPosted', slot), true);
  out.setBigUint64(at + A.debitsPending, accounts.balance('debitsPending', slot), true);
  out.setBigUint64(at + A.creditsPending, accounts.balance('creditsPending', slot), true);
  out.setBigUint64(at + A.frozen, accounts.balance('frozen', slot), true);
  out.setUint16(at + A.status, statusNumber(accounts.statusOf(slot)), true);
  out.setUint16(at + A.hot, accounts.hotOf(slot), true);
  const buffer = state.buffers.get(slot);
  if (buffer !== undefined) {
    out.setBigUint64(at + A.creditsBuffered, buffer.amount, true);
    out.setUint32(at + A.creditsBufferedCount, buffer.waiting, true);
  }
}

/** Which of the account-operation ids in `body` this shard has taken (applied, or refused with a remembered failure). */
export function operationIdsTaken(state: LedgerState, body: Uint8Array): Uint8Array {
  return idsTaken(state.operations, state.operationsFailed, body);
}

/**
 * One byte per id of `body` (16 B each): 1 when this shard has taken it for a transfer — posted, or refused with a
 * failure that is remembered — else 0 (core/wire/ids-elsewhere.ts). From memory, or the id index for old ids.
 */
export function transferIdsTaken(state: LedgerState, body: Uint8Array): Uint8Array {
  return idsTaken(state.transfers, state.transfersFailed, body);
}

/** One byte per id of `body` (16 B each): 1 when either cache (or the id index behind it) holds the id. */
function idsTaken(taken: IdCache, failed: IdCache, body: Uint8Array): Uint8Array {
  const count = idCount(body);
  const ids = viewOf(body);
  const answers = new Uint8Array(count);
  for (let i = 0; i < count; i++) if (taken.getAt(ids, i * idBytes) >= 0 || failed.getAt(ids, i * idBytes) >= 0) answers[i] = 1;
  return answers;
}

/** Where a lookup copies each record it answers (one lookup at a time on a shard's thread; each row written at once). */
const lookupScratch = newRecordScratch();

export function lookupTransfers(state: LedgerState, body: Uint8Array): Uint8Array {
  const count = idCount(body);
  const ids = viewOf(body);
  const reply = new Uint8Array(count * S.bytes);
  const out = viewOf(reply);
  let found = 0;
  for (let i = 0; i < count; i++) {
    const location = state.transfers.getAt(ids, i * idBytes);
    // Written at once: the store's piece cache still holds the piece the id's search just confirmed it in
    // (a hundred old ids read first and written after evicted every piece before its record was read: two reads each).
    if (location >= 0) writeTransferState(state, location, reply, out, found++ * S.bytes, state.record(location, RecordParts.event, lookupScratch));
  }
  // A copy, not a view: the reply travels to the gateway with its whole buffer.
  return found === count ? reply : reply.slice(0, found * S.bytes);
}

/**
 * Copies the journal record with `amount` set to what actually moved (or is held). A payment a hot-outbound
 * account's slice served names the account as its debit account, as one shard names it (issue #14, item 26): the
 * slice, the ledger's own account, lives on this shard (it is the record's debit account) and names its account in
 * user_data_128 (validateSliceAccount). The journal keeps the slice.
 */
export function writeTransferRecord(state: LedgerState, stored: RecordRef, reply: Uint8Array, out: DataView, at: number): void {
  reply.set(new Uint8Array(stored.view.buffer, stored.view.byteOffset + stored.at, eventBytes), at);
  out.setBigUint64(at + T.amount, stored.view.getBigUint64(stored.at + T.amountEffective, true), true);
  out.setBigUint64(at + T.amountEffective, 0n, true);
  if (!isSliceIdAt(out, at + T.debitAccountId)) return;
  const slice = state.accounts.slotAt(out, at + T.debitAccountId);
  if (slice < 0) return;
  const owner = slice * accountStaticBytes + A.userData128;
  reply.set(state.accounts.statics.subarray(owner, owner + 16), at + T.debitAccountId);
}

/** `stored`: the record at `location` when the caller has read it already. */
export function writeTransferState(state: LedgerState, location: number, reply: Uint8Array, out: DataView, at: number, stored: RecordRef = state.record(location)): void {
  // The id as a map key only when a map holds any (a string per row read is most of a lookup's garbage).
  const key = state.returned.size > 0 || state.reversed.size > 0 ? idKeyAt(stored.view, stored.at + T.id) : '';
  writeTransferRecord(state, stored, reply, out, at);
  const kind = stored.view.getUint16(stored.at + T.flags, true) & transferKindFlags;
  // Read before the hold's outcome, which may read another record.
  const timeoutSeconds = stored.view.getUint32(stored.at + T.timeoutSeconds, true);
  const hold = kind === TransferFlags.pending ? holdOutcome(state, stored.view, stored.at + T.id, timeoutSeconds) : undefined;
  const returnReason = key === '' ? undefined : state.returned.get(key);
  out.setUint16(at + S.status, returnReason !== undefined ? TransferStatus.returned : (hold?.status ?? TransferStatus.posted), true);
  out.setUint16(at + S.returnReason, returnReason ?? 0, true);
  out.setBigUint64(at + S.amountPosted, hold?.amountPosted ?? 0n, true);
  out.setBigUint64(at + S.amountReversed, (key === '' ? undefined : state.reversed.get(key)) ?? 0n, true);
}

interface HistoryQuery {
  view: DataView;
  timestampMin: bigint;
  timestampMax: bigint;
  limit: number;
  reversed: boolean;
}

function parseFilter(body: Uint8Array): HistoryQuery {
  if (body.byteLength !== F.bytes) throw errors.bodyInvalid(`history filter must be ${F.bytes} bytes, got ${body.byteLength}`);
  const view = viewOf(body);
  const limit = view.getUint32(F.limit, true);
  const flags = view.getUint32(F.flags, true);
  if (limit < 1 || limit > historyPageMax) throw errors.bodyInvalid(`history limit must be 1..${historyPageMax}, got ${limit}`);
  if ((flags & ~HistoryFilterFlags.reversed) !== 0) throw errors.bodyInvalid(`history filter flags ${flags} unknown`);
  for (let at = F.reservedStart; at < F.bytes; at += 4) {
    if (view.getUint32(at, true) !== 0) throw errors.bodyInvalid(`history filter bytes ${F.reservedStart}..${F.bytes - 1} are reserved and must be zero`);
  }
  const timestampMax = view.getBigUint64(F.timestampMax, true);
  return {
    view,
    timestampMin: view.getBigUint64(F.timestampMin, true),
    timestampMax: timestampMax === 0n ? (1n << 64n) - 1n : timestampMax,
    limit,
    reversed: (flags & HistoryFilterFlags.reversed) !== 0,
  };
}

/** A page of an account's history; the ledger's own accounts answer as unknown ones unless `ledgerOwn`, as in lookupAccounts. */
export function accountHistory(state: LedgerState, body: Uint8Array, ledgerOwn: boolean): Uint8Array {
  const query = parseFilter(body);
  if (!ledgerOwn && isDerivedIdAt(query.view, F.accountId)) return new Uint8Array(0);
  const slot = state.accounts.slotAt(query.view, F.accountId);
  if (slot < 0) return new Uint8Array(0);
  const locations = query.reversed ? pageNewestFirst(state, slot, query) : pageOldestFirst(state, slot, query);
  const reply = new Uint8Array(locations.length * H.bytes);
  const out = viewOf(reply);
  locations.forEach((location, n) => writeHistoryEntry(state, slot, location, reply, out, n * H.bytes));
  return reply;
}

/**
 * Where a history page reads each record (one page at a time on a shard's thread; each record done with before the
 * next is read): a page of 8,190 made as many buffers, and a reconciliation reads a million-transfer day this way.
 */
const historyScratch = newRecordScratch();

function timestampOfRecord(state: LedgerState, location: number): bigint {
  const stored = state.record(location, RecordParts.event, historyScratch);
  return stored.view.getBigUint64(stored.at + T.timestamp, true);
}

/** The window [first, end) of `locations` (one segment, posting order, so timestamps ascend) inside the query's. */
function windowOf(state: LedgerState, locations: Float64Array, query: HistoryQuery): { first: number; end: number } {
  const first = lowerBound(locations.length, (i) => timestampOfRecord(state, locations[i]!) >= query.timestampMin);
  const end = lowerBound(locations.length, (i) => timestampOfRecord(state, locations[i]!) > query.timestampMax);
  return { first, end: Math.max(first, end) };
}

/**
 * The oldest `limit` locations in the window. Segments come newest first, so the walk goes back to the
 * first one that ends before the window, keeping only their headers, then reads locations forwards.
 */
function pageOldestFirst(state: LedgerState, slot: number, query: HistoryQuery): number[] {
  const history = state.accounts.history;
  const inWindow = [];
  for (const segment of history.segmentsNewestFirst(slot)) {
    if (segment.lastTimestamp < query.timestampMin) break;
    if (segment.firstTimestamp <= query.timestampMax) inWindow.push(segment);
  }
  const page: number[] = [];
  for (let k = inWindow.length - 1; k >= 0 && page.length < query.limit; k--) {
    const locations = history.locationsOf(slot, inWindow[k]!);
    const { first, end } = windowOf(state, locations, query);
    for (let i = first; i < end && page.length < query.limit; i++) page.push(locations[i]!);
  }
  return page;
}

/** The newest `limit` locations in the window: segments newest first, each read backwards, until the page is full. */
function pageNewestFirst(state: LedgerState, slot: number, query: HistoryQuery): number[] {
  const history = state.accounts.history;
  const page: number[] = [];
  for (const segment of history.segmentsNewestFirst(slot)) {
    if (page.length >= query.limit || segment.lastTimestamp < query.timestampMin) break;
    if (segment.firstTimestamp > query.timestampMax) continue;
    const locations = history.locationsOf(slot, segment);
    const { first, end } = windowOf(state, locations, query);
    for (let i = end - 1; i >= first && page.length < query.limit; i--) page.push(locations[i]!);
  }
  return page;
}

function writeHistoryEntry(state: LedgerState, slot: number, location: number, reply: Uint8Array, out: DataView, at: number): void {
  const stored = state.record(location, RecordParts.event | RecordParts.balances, historyScratch);
  writeTransferRecord(state, stored, reply, out, at);
  assert(stored.balancesAt >= 0, 'a transfer in an account history keeps its balances after');
  // A transit or suspense account stands in for the side whose account lives on another shard.
  const debitSlot = state.accounts.slotAt(stored.view, stored.at + T.debitAccountId);
  const creditSlot = state.accounts.slotAt(stored.view, stored.at + T.creditAccountId);
  const isDebit = debitSlot === slot || (creditSlot !== slot && debitSlot < 0);
  const from = stored.balancesAt + (isDebit ? 0 : 32);
  for (let b = 0; b < 32; b++) reply[at + H.debitsPosted + b] = stored.view.getUint8(from + b);
}

/** The first index in [0, length) where `atOrAfter` turns true (it must be monotone). */
export function lowerBound(length: number, atOrAfter: (i: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (atOrAfter(mid)) high = mid;
    else low = mid + 1;
  }
  return low;
}
