// Random shard pages of query_transfers / query_accounts through mergeQueryPages, against a plain reference merge
// (every row an object, sorted, cut at the earliest point a shard stopped and at the limit): the gateway's merge
// walks the pages side by side without an object per row, and must answer byte for byte the same.
// fast-check prints the seed and the shrunk counterexample on failure; TALLY_PROPERTY_SEED and
// TALLY_PROPERTY_RUNS replay or widen a run.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { QueryReplyLayout as R, idBytes } from '../../src/core/layout.js';
import { compareRowKeys, queryReply, readQueryReplyHeader, type QueryKind } from '../../src/core/query-filter.js';
import { mergeQueryPages, rowBytesOf } from '../../src/core/wire/query-merge.js';
import { AccountLayout, TransferLayout } from '../../src/core/layout.js';
import { viewOf } from '../../src/core/u128.js';

const runs = Number(process.env.TALLY_PROPERTY_RUNS ?? 300);
const seed = process.env.TALLY_PROPERTY_SEED === undefined ? undefined : Number(process.env.TALLY_PROPERTY_SEED);

interface Key {
  timestamp: bigint;
  id: Uint8Array;
}

/** The merge as it was written first: an object per row, one sort, then the cuts. */
function referenceMerge(kind: QueryKind, limit: number, reversed: boolean, replies: readonly Uint8Array[]): Uint8Array {
  const rowBytes = rowBytesOf(kind);
  const timestampAt = kind === 'transfers' ? TransferLayout.timestamp : AccountLayout.timestamp;
  const direction = reversed ? -1 : 1;
  const rows: { timestamp: bigint; view: DataView; at: number; bytes: Uint8Array }[] = [];
  let frontier: { timestamp: bigint; view: DataView; id: Uint8Array } | null = null;
  for (const reply of replies) {
    const header = readQueryReplyHeader(reply);
    const view = viewOf(reply);
    for (let i = 0; i < header.count; i++) {
      const at = R.bytes + i * rowBytes;
      rows.push({ timestamp: view.getBigUint64(at + timestampAt, true), view, at, bytes: reply.subarray(at, at + rowBytes) });
    }
    if (!header.more) continue;
    const point = { timestamp: header.nextTimestamp, view: viewOf(header.nextId), id: header.nextId };
    if (frontier === null || direction * compareRowKeys(point.timestamp, point.view, 0, frontier.timestamp, frontier.view, 0) < 0) frontier = point;
  }
  rows.sort((a, b) => direction * compareRowKeys(a.timestamp, a.view, a.at, b.timestamp, b.view, b.at));
  const complete = frontier === null ? rows : rows.filter((row) => direction * compareRowKeys(row.timestamp, row.view, row.at, frontier.timestamp, frontier.view, 0) <= 0);
  if (complete.length > limit) {
    const page = complete.slice(0, limit);
    const last = page[page.length - 1]!;
    return queryReply(page.map((row) => row.bytes), rowBytes, { timestamp: last.timestamp, id: last.bytes.slice(0, idBytes) });
  }
  return queryReply(complete.map((row) => row.bytes), rowBytes, frontier === null ? null : { timestamp: frontier.timestamp, id: frontier.id });
}

const keyArbitrary = fc.record({
  // Few timestamps and ids: equal timestamps (ordered by id) and high words that differ both come up.
  timestamp: fc.oneof(fc.bigInt({ min: 1n, max: 6n }), fc.bigInt({ min: 1n, max: 2n ** 64n - 1n })),
  id: fc.uint8Array({ minLength: 16, maxLength: 16, min: 0, max: 3 }),
});

const caseArbitrary = fc.record({
  kind: fc.constantFrom<QueryKind>('transfers', 'accounts'),
  limit: fc.integer({ min: 1, max: 8 }),
  reversed: fc.boolean(),
  shards: fc.array(fc.record({ keys: fc.array(keyArbitrary, { maxLength: 10 }), more: fc.boolean(), extra: keyArbitrary }), { minLength: 2, maxLength: 4 }),
});

function keyOrder(reversed: boolean): (a: Key, b: Key) => number {
  return (a, b) => (reversed ? -1 : 1) * compareRowKeys(a.timestamp, viewOf(a.id), 0, b.timestamp, viewOf(b.id), 0);
}

/** A shard's page: its rows (distinct keys in query order, up to the limit) and, when it stopped early, its cursor. */
function shardPage(kind: QueryKind, limit: number, reversed: boolean, shard: { keys: Key[]; more: boolean; extra: Key }, used: Set<string>): Uint8Array {
  const rowBytes = rowBytesOf(kind);
  const timestampAt = kind === 'transfers' ? TransferLayout.timestamp : AccountLayout.timestamp;
  const order = keyOrder(reversed);
  // Keys are unique across shards (a row is on one shard): drop repeats.
  const keys = shard.keys.filter((key) => {
    const name = `${key.timestamp}:${key.id.join(',')}`;
    if (used.has(name)) return false;
    used.add(name);
    return true;
  });
  keys.sort(order);
  const rows = keys.slice(0, limit).map((key) => {
    const row = new Uint8Array(rowBytes);
    row.set(key.id, 0);
    viewOf(row).setBigUint64(timestampAt, key.timestamp, true);
    row[rowBytes - 1] = 0xab; // a byte the merge must carry along
    return row;
  });
  // A shard that stopped reports a point at or after its last row (its limit, or its bound on records examined).
  const stopped = shard.more || keys.length > limit;
  if (!stopped) return queryReply(rows, rowBytes, null);
  const last = keys[Math.min(keys.length, limit) - 1];
  const point = last === undefined || order(shard.extra, last) > 0 ? shard.extra : last;
  return queryReply(rows, rowBytes, { timestamp: point.timestamp, id: point.id });
}

describe('mergeQueryPages (property)', () => {
  test('answers as the reference merge, byte for byte', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ kind, limit, reversed, shards }) => {
        const used = new Set<string>();
        const replies = shards.map((shard) => shardPage(kind, limit, reversed, shard, used));
        const merged = mergeQueryPages({ kind, limit, reversed }, replies);
        expect([...merged]).toEqual([...referenceMerge(kind, limit, reversed, replies)]);
      }),
      { numRuns: runs, seed },
    );
  });
});
