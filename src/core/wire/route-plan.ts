// Splits one request body by owning shard and merges the shards' replies back into request order.
// Invariants: every event goes to exactly one shard, or to the chain coordinator (a closed linked chain whose
// events live on several shards, or one left open whose events before the last do: core/chains/prepared-chains.ts;
// one left open whose last event alone lives elsewhere goes whole to the shard of the others); a shard's sub-body
// keeps request order. Pure: no I/O, never mutates the request body.

import { assert } from '../assert.js';
import { errors } from '../errors.js';
import {
  AccountLayout,
  AccountOperationLayout,
  HistoryFilterLayout,
  QueryFilterLayout,
  TransferLayout,
  TransferStateLayout,
  idBytes,
  resultBytes,
} from '../layout.js';
import { batchEventsMax, eventBytes, lookupIdsMax, shardCountMax } from '../limits.js';
import { Operation } from '../operations.js';
import { shardOfIdAt } from '../routing.js';
import { AccountFlags, AccountOperationFlags, TransferFlags } from '../types.js';
import { equalIdsAt, isZero128, viewOf } from '../u128.js';
import { mergeQueryPages, queryMergeOf, type QueryMerge } from './query-merge.js';
import type { CrossShardChain } from '../chains/prepared-chains.js';
import { countRecords } from './records.js';

/** One shard's part of a request. */
export interface ShardRequest {
  readonly shard: number;
  readonly body: Uint8Array;
  /** Request index of each event (or id) in `body`; null when `body` is in request order as a whole. */
  readonly indexes: Uint16Array | null;
  /** True when `body` is a fresh buffer that nothing reads once sent (not even the merge): it may be transferred. */
  readonly bodyTransferable: boolean;
}

/** The linked chains of a write request whose events live on several shards: the coordinator's work. */
export interface CrossChains {
  readonly chains: readonly CrossShardChain[];
  /** The owning shard of every event of the request (request order). */
  readonly shardOf: Uint8Array;
}

/** How the shards' replies become one reply. */
export type MergeKind = 'results' | 'lookup' | 'passthrough' | 'query';

export interface RoutePlan {
  readonly operation: number;
  /** Events (or ids) in the request. */
  readonly eventCount: number;
  /** In ascending shard order; empty when the plan answered every event itself. */
  readonly requests: readonly ShardRequest[];
  readonly merge: MergeKind;
  /**
   * 'results' only: N × 4 bytes holding the answers that do not come from `requests` (the cross-shard chains,
   * once the coordinator has decided them); null when none.
   */
  readonly results: Uint8Array | null;
  /** 'results' only: chains for the coordinator, whose events are in no request; null when none. */
  readonly crossChains: CrossChains | null;
  /** 'lookup' only: bytes of one found record in a shard's reply (its id is at offset 0). */
  readonly recordBytes: number;
  /** 'query' only: how the shards' pages become one (query-merge.ts). */
  readonly query?: QueryMerge;
}

/** Marks an event of a chain across shards: the coordinator runs it, no plain shard request carries it (above every shard index). */
const shardCoordinated = 254;
const linkedFlag = 1;

// Indexes are u16 and shard numbers u8: the limits must keep them in range.
assert(batchEventsMax <= 0xffff && lookupIdsMax <= 0xffff, 'request indexes fit in u16');
assert(shardCountMax < shardCoordinated, 'shard numbers fit in u8 below the markers');
assert(
  TransferFlags.linked === linkedFlag && AccountFlags.linked === linkedFlag && AccountOperationFlags.linked === linkedFlag,
  'every event kind uses bit 0 as its linked flag',
);

/** Splits `body` of `operation` among `shardCount` shards. Throws TallyError for a malformed body. */
export function planRoute(operation: number, body: Uint8Array, shardCount: number): RoutePlan {
  assert(Number.isInteger(shardCount) && shardCount >= 1 && shardCount <= shardCountMax, 'shardCount in range');
  switch (operation) {
    case Operation.create_accounts:
      return planEvents(operation, body, shardCount, AccountLayout.id, AccountLayout.flags);
    case Operation.create_transfers:
      return planEvents(operation, body, shardCount, TransferLayout.debitAccountId, TransferLayout.flags);
    case Operation.account_operations:
      return planEvents(operation, body, shardCount, AccountOperationLayout.accountId, AccountOperationLayout.flags);
    case Operation.lookup_accounts:
    case Operation.lookup_ledger_accounts:
      return planLookupAccounts(operation, body, shardCount);
    case Operation.lookup_transfers:
      return planLookupTransfers(body, shardCount);
    case Operation.get_account_transfers:
      return planHistory(body, shardCount);
    case Operation.query_transfers:
    case Operation.query_accounts:
      return planQuery(operation, body, shardCount);
    default:
      throw errors.operationUnknown(operation);
  }
}

/** Merges `replies` (parallel to `plan.requests`) into the reply of the whole request. */
export function mergeReplies(plan: RoutePlan, replies: readonly Uint8Array[]): Uint8Array {
  assert(replies.length === plan.requests.length, 'one reply per shard request');
  if (plan.merge === 'passthrough') return replies[0];
  if (plan.merge === 'results') return mergeResults(plan, replies);
  if (plan.merge === 'query') return mergeQueryPages(plan.query!, replies);
  return mergeLookup(plan, replies);
}

// ---- planning ----------------------------------------------------------------------------------

function planEvents(operation: number, body: Uint8Array, shardCount: number, idOffset: number, flagsOffset: number): RoutePlan {
  const eventCount = countRecords(body, eventBytes, batchEventsMax, 'event');
  if (shardCount === 1) return planWhole(operation, eventCount, body, 0, 'results');
  const view = viewOf(body);
  const shardOf = new Uint8Array(eventCount);
  for (let i = 0; i < eventCount; i++) shardOf[i] = shardOfIdAt(view, i * eventBytes + idOffset, shardCount);
  const shards = shardOf.slice();
  const { results, chains } = markSplitChains(view, eventCount, flagsOffset, shards);
  const requests = splitRecords(body, eventBytes, shards, shardCount, true);
  const crossChains = chains.length === 0 ? null : { chains, shardOf };
  return { operation, eventCount, requests, merge: 'results', results, crossChains, recordBytes: 0 };
}

/** An account lives on the shard its id hashes to (lookup_accounts, or lookup_ledger_accounts: the same shape). */
function planLookupAccounts(operation: number, body: Uint8Array, shardCount: number): RoutePlan {
  const idCount = countRecords(body, idBytes, lookupIdsMax, 'id');
  if (shardCount === 1) return planWhole(operation, idCount, body, 0, 'lookup');
  const view = viewOf(body);
  const shards = new Uint8Array(idCount);
  for (let i = 0; i < idCount; i++) shards[i] = shardOfIdAt(view, i * idBytes, shardCount);
  // The merge walks each sub-request's ids beside its reply, so these bodies must stay readable.
  const requests = splitRecords(body, idBytes, shards, shardCount, false);
  return { operation, eventCount: idCount, requests, merge: 'lookup', results: null, crossChains: null, recordBytes: eventBytes };
}

/** A transfer lives on its debit account's shard, which an id alone does not tell: ask every shard. */
function planLookupTransfers(body: Uint8Array, shardCount: number): RoutePlan {
  const operation = Operation.lookup_transfers;
  const idCount = countRecords(body, idBytes, lookupIdsMax, 'id');
  const requests: ShardRequest[] = [];
  for (let shard = 0; shard < shardCount; shard++) requests.push({ shard, body, indexes: null, bodyTransferable: false });
  const recordBytes = TransferStateLayout.bytes;
  return { operation, eventCount: idCount, requests, merge: 'lookup', results: null, crossChains: null, recordBytes };
}

function planHistory(body: Uint8Array, shardCount: number): RoutePlan {
  if (body.byteLength !== HistoryFilterLayout.bytes) {
    throw errors.bodyInvalid(`get_account_transfers takes one ${HistoryFilterLayout.bytes}-byte filter, got ${body.byteLength} bytes`);
  }
  const shard = shardOfIdAt(viewOf(body), HistoryFilterLayout.accountId, shardCount);
  return planWhole(Operation.get_account_transfers, 1, body, shard, 'passthrough');
}

/**
 * A query goes to every shard, each answering a page that the merge joins — but one by account goes to the shard
 * of that account alone: its history there holds every transfer of the account.
 */
function planQuery(operation: number, body: Uint8Array, shardCount: number): RoutePlan {
  if (body.byteLength !== QueryFilterLayout.bytes) throw errors.bodyInvalid(`a query filter is ${QueryFilterLayout.bytes} bytes, got ${body.byteLength}`);
  const kind = operation === Operation.query_transfers ? 'transfers' : 'accounts';
  const view = viewOf(body);
  const byAccount = kind === 'transfers' && !isZero128(view, QueryFilterLayout.accountId);
  const shards = byAccount ? [shardOfIdAt(view, QueryFilterLayout.accountId, shardCount)] : Array.from({ length: shardCount }, (_, shard) => shard);
  const requests = shards.map((shard) => ({ shard, body, indexes: null, bodyTransferable: false }));
  return { operation, eventCount: 1, requests, merge: 'query', results: null, crossChains: null, recordBytes: 0, query: queryMergeOf(kind, body) };
}

function planWhole(operation: number, eventCount: number, body: Uint8Array, shard: number, merge: MergeKind): RoutePlan {
  const requests = [{ shard, body, indexes: null, bodyTransferable: false }];
  return { operation, eventCount, requests, merge, results: null, crossChains: null, recordBytes: merge === 'lookup' ? recordBytesOf(operation) : 0 };
}

function recordBytesOf(operation: number): number {
  return operation === Operation.lookup_transfers ? TransferStateLayout.bytes : eventBytes;
}


/**
 * Finds the linked chains whose events route to more than one shard and takes their events out of the
 * shards' requests (marks in `shards`) for the coordinator. One left open at the end of the batch (its last
 * event is never applied) goes whole to the shard of its events before the last when they share one, else to the
 * coordinator as an open chain, decided without committing. A chain on one shard stays with it.
 */
function markSplitChains(
  view: DataView,
  eventCount: number,
  flagsOffset: number,
  shards: Uint8Array,
): { results: Uint8Array | null; chains: CrossShardChain[] } {
  const chains: CrossShardChain[] = [];
  let results: Uint8Array | null = null;
  let chainStart = 0;
  for (let i = 0; i < eventCount; i++) {
    const linked = (view.getUint16(i * eventBytes + flagsOffset, true) & linkedFlag) !== 0;
    const open = linked && i === eventCount - 1;
    if (linked && !open) continue;
    if (open && i > chainStart && !spansShards(shards, chainStart, i - 1)) {
      // Left open, the chain's last event is never applied (linked_event_chain_open outranks its checks): the shard of
      // the others answers it whole, as one shard does — the first failing event's code, kept by id — wherever the
      // last event's account lives (issue #14, item 13).
      shards[i] = shards[chainStart]!;
    } else if (i > chainStart && spansShards(shards, chainStart, i)) {
      results ??= new Uint8Array(eventCount * resultBytes);
      for (let k = chainStart; k <= i; k++) shards[k] = shardCoordinated;
      chains.push(open ? { first: chainStart, last: i, open: true } : { first: chainStart, last: i });
    }
    chainStart = i + 1;
  }
  return { results, chains };
}

function spansShards(shards: Uint8Array, first: number, last: number): boolean {
  for (let i = first + 1; i <= last; i++) if (shards[i] !== shards[first]) return true;
  return false;
}

/**
 * One request per shard that owns at least one record. When a single shard owns every record, it
 * gets the request body itself (no copy); otherwise each shard gets a fresh, compact sub-body.
 */
function splitRecords(body: Uint8Array, stride: number, shards: Uint8Array, shardCount: number, transferable: boolean): ShardRequest[] {
  const counts = new Uint16Array(shardCount);
  let held = 0; // answered by the plan or run by the coordinator
  for (let i = 0; i < shards.length; i++) {
    if (shards[i] >= shardCoordinated) held++;
    else counts[shards[i]]++;
  }
  const sole = held === 0 ? counts.indexOf(shards.length) : -1;
  if (sole !== -1) return [{ shard: sole, body, indexes: null, bodyTransferable: false }];
  const requests: ShardRequest[] = [];
  const slots: number[] = new Array<number>(shardCount).fill(-1);
  for (let shard = 0; shard < shardCount; shard++) {
    if (counts[shard] === 0) continue;
    slots[shard] = requests.length;
    const indexes = new Uint16Array(counts[shard]);
    requests.push({ shard, body: new Uint8Array(counts[shard] * stride), indexes, bodyTransferable: transferable });
  }
  fillRequests(body, stride, shards, slots, requests);
  return requests;
}

/** Copies each record to its shard's sub-body: one `set` per run of consecutive records bound for one shard. */
function fillRequests(body: Uint8Array, stride: number, shards: Uint8Array, slots: number[], requests: ShardRequest[]): void {
  const filled = new Uint16Array(requests.length);
  let runFirst = 0;
  for (let i = 0; i <= shards.length; i++) {
    if (i < shards.length && shards[i] === shards[runFirst]) continue;
    const shard = shards[runFirst];
    if (shard < shardCoordinated) {
      const slot = slots[shard];
      const at = filled[slot];
      requests[slot].body.set(body.subarray(runFirst * stride, i * stride), at * stride);
      for (let k = runFirst; k < i; k++) requests[slot].indexes![at + k - runFirst] = k;
      filled[slot] = at + i - runFirst;
    }
    runFirst = i;
  }
  for (let slot = 0; slot < requests.length; slot++) assert(filled[slot] === requests[slot].indexes!.length, 'every sub-body filled');
}

// ---- merging -----------------------------------------------------------------------------------

function mergeResults(plan: RoutePlan, replies: readonly Uint8Array[]): Uint8Array {
  const bytes = plan.eventCount * resultBytes;
  assert(plan.crossChains === null || plan.results !== null, 'cross-shard chains are answered in plan.results');
  if (plan.results === null && plan.requests.length === 1 && plan.requests[0].indexes === null) {
    assert(replies[0].byteLength === bytes, 'a write reply holds one result per event');
    return replies[0];
  }
  const out = plan.results ?? new Uint8Array(bytes);
  const outView = viewOf(out);
  for (let r = 0; r < plan.requests.length; r++) {
    const indexes = plan.requests[r].indexes;
    assert(indexes !== null, 'a split write request carries its indexes');
    assert(replies[r].byteLength === indexes.length * resultBytes, 'a shard reply holds one result per event it got');
    const replyView = viewOf(replies[r]);
    for (let k = 0; k < indexes.length; k++) {
      outView.setUint32(indexes[k] * resultBytes, replyView.getUint32(k * resultBytes, true), true);
    }
  }
  return out;
}

/**
 * Each shard answers only the ids it found, in the order it was asked. Walking its reply beside its
 * sub-request recovers each record's request index. Two shards find the same transfer id only in a store
 * written before ids were unique ledger-wide: the earlier transfer wins (lower shard on a tie), the one a
 * single shard would have kept — it would have refused the later one exists_with_different_fields.
 */
function mergeLookup(plan: RoutePlan, replies: readonly Uint8Array[]): Uint8Array {
  if (plan.requests.length === 1) return replies[0];
  const offsets = new Int32Array(plan.eventCount).fill(-1);
  const owners = new Uint8Array(plan.eventCount);
  let found = 0;
  for (let r = 0; r < plan.requests.length; r++) {
    found += placeFound(plan.requests[r], replies, r, plan.recordBytes, offsets, owners);
  }
  return gatherFound(replies, plan.recordBytes, found, offsets, owners);
}

function placeFound(
  request: ShardRequest,
  replies: readonly Uint8Array[],
  owner: number,
  recordBytes: number,
  offsets: Int32Array,
  owners: Uint8Array,
): number {
  const reply = replies[owner]!;
  assert(reply.byteLength % recordBytes === 0, 'a lookup reply is whole records');
  const askedView = viewOf(request.body);
  const replyView = viewOf(reply);
  const askedCount = request.body.byteLength / idBytes;
  let placed = 0;
  let k = 0;
  for (let offset = 0; offset < reply.byteLength; offset += recordBytes) {
    while (k < askedCount && !equalIdsAt(replyView, offset, askedView, k * idBytes)) k++;
    assert(k < askedCount, 'a shard replied with a record it was not asked for, or out of order');
    const index = request.indexes === null ? k : request.indexes[k];
    if (offsets[index] === -1) {
      offsets[index] = offset;
      owners[index] = owner;
      placed++;
    } else if (stampedBefore(replyView, offset, viewOf(replies[owners[index]!]!), offsets[index]!)) {
      offsets[index] = offset;
      owners[index] = owner;
    }
    k++;
  }
  return placed;
}

/** Whether the record at `at` of `view` was stamped strictly before the one at `otherAt` of `other`. */
function stampedBefore(view: DataView, at: number, other: DataView, otherAt: number): boolean {
  return view.getBigUint64(at + TransferLayout.timestamp, true) < other.getBigUint64(otherAt + TransferLayout.timestamp, true);
}

/** Copies the found records in request order, one `set` per run of records adjacent in one reply. */
function gatherFound(
  replies: readonly Uint8Array[],
  recordBytes: number,
  found: number,
  offsets: Int32Array,
  owners: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(found * recordBytes);
  let written = 0;
  let runOwner = -1;
  let runStart = 0;
  let runBytes = 0;
  for (let index = 0; index < offsets.length; index++) {
    const offset = offsets[index];
    if (offset === -1) continue;
    if (owners[index] === runOwner && offset === runStart + runBytes) {
      runBytes += recordBytes;
      continue;
    }
    if (runBytes > 0) written = copyFound(out, written, replies[runOwner], runStart, runBytes);
    runOwner = owners[index];
    runStart = offset;
    runBytes = recordBytes;
  }
  if (runBytes > 0) written = copyFound(out, written, replies[runOwner], runStart, runBytes);
  assert(written === out.byteLength, 'every found record copied once');
  return out;
}

function copyFound(out: Uint8Array, at: number, reply: Uint8Array, start: number, bytes: number): number {
  out.set(reply.subarray(start, start + bytes), at);
  return at + bytes;
}
