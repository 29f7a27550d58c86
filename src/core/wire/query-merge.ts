// One page of query_transfers or query_accounts from every shard's page (issue #16). Each shard answers the rows
// after the cursor in (timestamp, id) order, up to the limit, and — when it stopped early (its limit, or its bound
// on records examined) — the point through which its answer is complete. The merged page is complete only through
// the earliest of those points: its rows are every shard's rows up to there, in order, cut at the limit, and its
// cursor goes on from the last row or from that point. So a page never skips a row another shard had not reached,
// and the shards a caller cannot see never change the rows nor their order.

import { assert } from '../assert.js';
import { AccountLayout, QueryFilterFlags, QueryFilterLayout, QueryReplyLayout as R, TransferLayout, TransferStateLayout, idBytes } from '../layout.js';
import { eventBytes } from '../limits.js';
import { compareRowKeys, queryReply, readQueryReplyHeader, type QueryKind } from '../query-filter.js';
import { viewOf } from '../u128.js';

/** What merging a query's pages needs: the kind (row layout), the limit and the order. */
export interface QueryMerge {
  kind: QueryKind;
  limit: number;
  reversed: boolean;
}

export function queryMergeOf(kind: QueryKind, filter: Uint8Array): QueryMerge {
  const view = viewOf(filter);
  return { kind, limit: view.getUint32(QueryFilterLayout.limit, true), reversed: (view.getUint32(QueryFilterLayout.flags, true) & QueryFilterFlags.reversed) !== 0 };
}

export function rowBytesOf(kind: QueryKind): number {
  return kind === 'transfers' ? TransferStateLayout.bytes : eventBytes;
}

function timestampAtOf(kind: QueryKind): number {
  return kind === 'transfers' ? TransferLayout.timestamp : AccountLayout.timestamp;
}

interface Row {
  timestamp: bigint;
  view: DataView;
  at: number;
  bytes: Uint8Array;
}

export function mergeQueryPages(merge: QueryMerge, replies: readonly Uint8Array[]): Uint8Array {
  if (replies.length === 1) return replies[0]!;
  const rowBytes = rowBytesOf(merge.kind);
  const timestampAt = timestampAtOf(merge.kind);
  const direction = merge.reversed ? -1 : 1;
  const rows: Row[] = [];
  let frontier: { timestamp: bigint; view: DataView; at: number; id: Uint8Array } | null = null;
  for (const reply of replies) {
    const header = readQueryReplyHeader(reply);
    assert(reply.byteLength === R.bytes + header.count * rowBytes, 'a shard\'s query page holds its header and its rows');
    const view = viewOf(reply);
    for (let i = 0; i < header.count; i++) {
      const at = R.bytes + i * rowBytes;
      rows.push({ timestamp: view.getBigUint64(at + timestampAt, true), view, at, bytes: reply.subarray(at, at + rowBytes) });
    }
    if (!header.more) continue;
    const point = { timestamp: header.nextTimestamp, view: viewOf(header.nextId), at: 0, id: header.nextId };
    if (frontier === null || direction * compareRowKeys(point.timestamp, point.view, 0, frontier.timestamp, frontier.view, 0) < 0) frontier = point;
  }
  rows.sort((a, b) => direction * compareRowKeys(a.timestamp, a.view, a.at, b.timestamp, b.view, b.at));
  const complete = frontier === null ? rows : rows.filter((row) => direction * compareRowKeys(row.timestamp, row.view, row.at, frontier.timestamp, frontier.view, 0) <= 0);
  if (complete.length > merge.limit) {
    const page = complete.slice(0, merge.limit);
    const last = page[page.length - 1]!;
    return queryReply(page.map((row) => row.bytes), rowBytes, { timestamp: last.timestamp, id: last.bytes.slice(0, idBytes) });
  }
  return queryReply(complete.map((row) => row.bytes), rowBytes, frontier === null ? null : { timestamp: frontier.timestamp, id: frontier.id });
}
