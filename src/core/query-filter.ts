// The query filter of query_transfers and query_accounts (layout.ts QueryFilterLayout) read and checked once, the
// (timestamp, id) order rows come in, and the reply header with its cursor. Shared by the shards that answer a page
// (core/posting/transfer-queries.ts, account-queries.ts) and the router that merges their pages
// (core/wire/query-merge.ts).

import { errors } from './errors.js';
import { QueryDirection, QueryFilterFlags, QueryFilterLayout as Q, QueryReplyLayout as R } from './layout.js';
import { queryPageMax } from './limits.js';
import { AccountStatus, TransferStatus } from './types.js';
import { isZero128, viewOf } from './u128.js';

const timestampEnd = (1n << 64n) - 1n;

export interface QueryFilter {
  bytes: Uint8Array;
  view: DataView;
  /** Whether account_id names an account (query_transfers: its history is the index). */
  byAccount: boolean;
  /** Inclusive bounds of the rows' timestamps (the cursor not applied). */
  timestampMin: bigint;
  timestampMax: bigint;
  /** The cursor: rows strictly after (afterTimestamp, afterId) in query order; afterTimestamp 0 = none. */
  afterTimestamp: bigint;
  limit: number;
  reversed: boolean;
  status: number;
  flagsAll: number;
  direction: number;
}

export type QueryKind = 'transfers' | 'accounts';

/** Reads and checks a 128-byte query filter; throws body_invalid naming what is wrong. */
export function parseQueryFilter(body: Uint8Array, kind: QueryKind): QueryFilter {
  if (body.byteLength !== Q.bytes) throw errors.bodyInvalid(`a query filter is ${Q.bytes} bytes, got ${body.byteLength}`);
  const view = viewOf(body);
  for (let at = Q.reservedStart; at < Q.bytes; at++) {
    if (body[at] !== 0) throw errors.bodyInvalid(`query filter bytes ${Q.reservedStart}..${Q.bytes - 1} are reserved and must be zero`);
  }
  const limit = view.getUint32(Q.limit, true);
  if (limit < 1 || limit > queryPageMax) throw errors.bodyInvalid(`query limit must be 1..${queryPageMax}, got ${limit}`);
  const flags = view.getUint32(Q.flags, true);
  if ((flags & ~QueryFilterFlags.reversed) !== 0) throw errors.bodyInvalid(`query flags ${flags} unknown`);
  const byAccount = !isZero128(view, Q.accountId);
  const direction = view.getUint16(Q.direction, true);
  const status = view.getUint16(Q.status, true);
  if (kind === 'accounts' && byAccount) throw errors.bodyInvalid('query_accounts takes no account_id (look an account up by its id)');
  if (direction > QueryDirection.credits) throw errors.bodyInvalid(`query direction must be 0 (any), 1 (debits) or 2 (credits), got ${direction}`);
  if (direction !== QueryDirection.any && !byAccount) throw errors.bodyInvalid('a query direction needs an account_id (debits or credits of which account)');
  const statuses: readonly number[] = Object.values(kind === 'transfers' ? TransferStatus : AccountStatus);
  if (status !== 0 && !statuses.includes(status)) throw errors.bodyInvalid(`query status ${status} is no ${kind === 'transfers' ? 'transfer' : 'account'} status`);
  const timestampMin = view.getBigUint64(Q.timestampMin, true);
  const timestampMaxRaw = view.getBigUint64(Q.timestampMax, true);
  const timestampMax = timestampMaxRaw === 0n ? timestampEnd : timestampMaxRaw;
  if (timestampMin > timestampMax) throw errors.bodyInvalid(`query timestamp_min ${timestampMin} is after timestamp_max ${timestampMax}`);
  const afterTimestamp = view.getBigUint64(Q.afterTimestamp, true);
  if (afterTimestamp === 0n && !isZero128(view, Q.afterId)) throw errors.bodyInvalid('a query cursor with an id needs its timestamp');
  return {
    bytes: body,
    view,
    byAccount,
    timestampMin,
    timestampMax,
    afterTimestamp,
    limit,
    reversed: (flags & QueryFilterFlags.reversed) !== 0,
    status,
    flagsAll: view.getUint16(Q.flagsAll, true),
    direction,
  };
}

/** Compares two u128 ids stored little-endian: negative, zero or positive. */
export function compareIdsAt(a: DataView, aAt: number, b: DataView, bAt: number): number {
  for (let i = 15; i >= 0; i--) {
    const difference = a.getUint8(aAt + i) - b.getUint8(bAt + i);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** Where a row stands against another in (timestamp, id) order, ascending: negative, zero or positive. */
export function compareRowKeys(aTimestamp: bigint, a: DataView, aIdAt: number, bTimestamp: bigint, b: DataView, bIdAt: number): number {
  if (aTimestamp !== bTimestamp) return aTimestamp < bTimestamp ? -1 : 1;
  return compareIdsAt(a, aIdAt, b, bIdAt);
}

/** Whether the row (timestamp, id at `idAt` of `row`) comes after the filter's cursor in the query's order. */
export function isAfterCursor(filter: QueryFilter, timestamp: bigint, row: DataView, idAt: number): boolean {
  if (filter.afterTimestamp === 0n) return true;
  const order = compareRowKeys(timestamp, row, idAt, filter.afterTimestamp, filter.view, Q.afterId);
  return filter.reversed ? order < 0 : order > 0;
}

/** Whether `timestamp` lies within the filter's bounds. */
export function isWithinBounds(filter: QueryFilter, timestamp: bigint): boolean {
  return timestamp >= filter.timestampMin && timestamp <= filter.timestampMax;
}

/** The bounds the rows after the cursor can lie in: [from, to]. */
export function boundsAfterCursor(filter: QueryFilter): { from: bigint; to: bigint } {
  if (filter.afterTimestamp === 0n) return { from: filter.timestampMin, to: filter.timestampMax };
  // Rows at the cursor's own timestamp may still follow it (another id): the bound includes it.
  return filter.reversed
    ? { from: filter.timestampMin, to: filter.afterTimestamp < filter.timestampMax ? filter.afterTimestamp : filter.timestampMax }
    : { from: filter.afterTimestamp > filter.timestampMin ? filter.afterTimestamp : filter.timestampMin, to: filter.timestampMax };
}

/** A page's reply: the header (count, more, cursor) then the rows, each `rowBytes` long. */
export function queryReply(rows: readonly Uint8Array[], rowBytes: number, more: { timestamp: bigint; id: Uint8Array } | null): Uint8Array {
  const reply = new Uint8Array(R.bytes + rows.length * rowBytes);
  writeQueryReplyHeader(reply, rows.length, more);
  rows.forEach((row, i) => reply.set(row, R.bytes + i * rowBytes));
  return reply;
}

/** queryReply of `count` rows laid end to end in `rows` (count × rowBytes), copied after the header. */
export function queryReplyOfRows(rows: Uint8Array, count: number, more: { timestamp: bigint; id: Uint8Array } | null): Uint8Array {
  const reply = new Uint8Array(R.bytes + rows.byteLength);
  writeQueryReplyHeader(reply, count, more);
  reply.set(rows, R.bytes);
  return reply;
}

/** Writes a query reply's header: its row count and, when rows may follow, the cursor to go on from. */
export function writeQueryReplyHeader(reply: Uint8Array, count: number, more: { timestamp: bigint; id: Uint8Array } | null): void {
  const view = viewOf(reply);
  view.setUint32(R.count, count, true);
  if (more === null) return;
  view.setUint32(R.more, 1, true);
  view.setBigUint64(R.nextTimestamp, more.timestamp, true);
  reply.set(more.id, R.nextId);
}

/** The header of a query reply. */
export function readQueryReplyHeader(reply: Uint8Array): { count: number; more: boolean; nextTimestamp: bigint; nextId: Uint8Array } {
  if (reply.byteLength < R.bytes) throw errors.bodyInvalid(`a query reply holds a ${R.bytes}-byte header, got ${reply.byteLength} bytes`);
  const view = viewOf(reply);
  return {
    count: view.getUint32(R.count, true),
    more: view.getUint32(R.more, true) === 1,
    nextTimestamp: view.getBigUint64(R.nextTimestamp, true),
    nextId: reply.slice(R.nextId, R.nextId + 16),
  };
}
