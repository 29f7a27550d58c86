// One page of query_transfers or query_accounts from every shard's page (issue #16). Each shard answers the rows
// after the cursor in (timestamp, id) order, up to the limit, and — when it stopped early (its limit, or its bound
// on records examined) — the point through which its answer is complete. The merged page is complete only through
// the earliest of those points: its rows are every shard's rows up to there, in order, cut at the limit, and its
// cursor goes on from the last row or from that point. So a page never skips a row another shard had not reached,
// and the shards a caller cannot see never change the rows nor their order.

import { assert } from '../assert.js';
import { AccountLayout, QueryFilterFlags, QueryFilterLayout, QueryReplyLayout as R, TransferLayout, TransferStateLayout, idBytes } from '../layout.js';
import { eventBytes } from '../limits.js';
import { compareIdsAt, writeQueryReplyHeader, type QueryKind } from '../query-filter.js';
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

/**
 * Merges the shards' pages without an object per row (a page of 100 from each shard made ~50 KB of garbage per
 * query on the gateway's thread, a mark-compact every ~125 queries: bench/RESULTS.md, issue #16): each shard's rows
 * are in query order already, so the merge walks them side by side and copies the rows it keeps straight into the
 * reply.
 */
export function mergeQueryPages(merge: QueryMerge, replies: readonly Uint8Array[]): Uint8Array {
  if (replies.length === 1) return replies[0]!;
  const rowBytes = rowBytesOf(merge.kind);
  const timestampAt = timestampAtOf(merge.kind);
  const direction = merge.reversed ? -1 : 1;
  const views = replies.map(viewOf);
  const counts = replies.map((reply, r) => {
    const count = views[r]!.getUint32(R.count, true);
    assert(reply.byteLength === R.bytes + count * rowBytes, 'a shard\'s query page holds its header and its rows');
    return count;
  });
  // The earliest point through which a shard stopped (its `more` cursor): rows past it may miss another's rows.
  let frontier = -1;
  for (let r = 0; r < replies.length; r++) {
    if (views[r]!.getUint32(R.more, true) !== 1) continue;
    if (frontier < 0 || direction * compareKeysAt(views[r]!, R.nextTimestamp, R.nextId, views[frontier]!, R.nextTimestamp, R.nextId) < 0) frontier = r;
  }
  // Positions of the rows taken, in order (shard, offset): no more than the shards hold, whatever limit was asked.
  const taken = new Int32Array(2 * Math.min(merge.limit, counts.reduce((sum, count) => sum + count, 0)));
  const next = new Int32Array(replies.length);
  let count = 0;
  let rowFollows = false;
  for (;;) {
    let best = -1;
    for (let r = 0; r < replies.length; r++) {
      if (next[r]! === counts[r]!) continue;
      if (best < 0) best = r;
      else {
        const at = R.bytes + next[r]! * rowBytes;
        const bestAt = R.bytes + next[best]! * rowBytes;
        if (direction * compareKeysAt(views[r]!, at + timestampAt, at, views[best]!, bestAt + timestampAt, bestAt) < 0) best = r;
      }
    }
    if (best < 0) break;
    const at = R.bytes + next[best]! * rowBytes;
    // Past the frontier: a shard that stopped earlier may still hold rows before it.
    if (frontier >= 0 && direction * compareKeysAt(views[best]!, at + timestampAt, at, views[frontier]!, R.nextTimestamp, R.nextId) > 0) break;
    if (count === merge.limit) {
      rowFollows = true;
      break;
    }
    taken[2 * count] = best;
    taken[2 * count + 1] = at;
    count++;
    next[best]!++;
  }
  const reply = new Uint8Array(R.bytes + count * rowBytes);
  for (let i = 0; i < count; i++) {
    // Byte by byte: a subarray per row to copy from was most of what the merge still allocated.
    const from = replies[taken[2 * i]!]!;
    const at = taken[2 * i + 1]!;
    const to = R.bytes + i * rowBytes;
    for (let b = 0; b < rowBytes; b++) reply[to + b] = from[at + b]!;
  }
  // A full page with complete rows after it goes on from its last row; else from where the earliest shard stopped.
  const lastAt = R.bytes + (count - 1) * rowBytes;
  const more = rowFollows
    ? { timestamp: viewOf(reply).getBigUint64(lastAt + timestampAt, true), id: reply.slice(lastAt, lastAt + idBytes) }
    : frontier >= 0
      ? { timestamp: views[frontier]!.getBigUint64(R.nextTimestamp, true), id: replies[frontier]!.slice(R.nextId, R.nextId + idBytes) }
      : null;
  writeQueryReplyHeader(reply, count, more);
  return reply;
}

/** (timestamp u64 at `aTimestampAt`, id at `aIdAt`) against the same of `b`, in ascending order, reading no BigInt. */
function compareKeysAt(a: DataView, aTimestampAt: number, aIdAt: number, b: DataView, bTimestampAt: number, bIdAt: number): number {
  const aHigh = a.getUint32(aTimestampAt + 4, true);
  const bHigh = b.getUint32(bTimestampAt + 4, true);
  if (aHigh !== bHigh) return aHigh < bHigh ? -1 : 1;
  const aLow = a.getUint32(aTimestampAt, true);
  const bLow = b.getUint32(bTimestampAt, true);
  if (aLow !== bLow) return aLow < bLow ? -1 : 1;
  return compareIdsAt(a, aIdAt, b, bIdAt);
}
