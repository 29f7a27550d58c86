// Spec of route-plan: each event goes to the shard owning its routing field; a closed linked chain
// spanning shards goes to the chain coordinator (plan.crossChains), one left open at the end goes whole to the
// shard of its events before the last (when they share one) or to the coordinator, marked open; replies merge back in request order; lookups return found records in request order.

import { describe, expect, it } from 'vitest';
import { AccountLayout, AccountOperationLayout, TransferLayout, TransferStateLayout, idBytes, resultBytes } from '../../../../src/core/layout.js';
import { batchEventsMax, eventBytes } from '../../../../src/core/limits.js';
import { Operation } from '../../../../src/core/operations.js';
import { encodeAccountOperations, encodeAccounts, encodeHistoryFilter, encodeIds, encodeTransfers } from '../../../../src/core/wire/records.js';
import { mergeReplies, planRoute, type RoutePlan, type ShardRequest } from '../../../../src/core/wire/route-plan.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { readU128, writeU128 } from '../../../../src/core/u128.js';

const shardCount = 3;
const linked = 1;

/** The `nth` smallest id (from 1) that routes to `shard`. */
function idOn(shard: number, nth = 0, count = shardCount): bigint {
  let seen = 0;
  for (let id = 1n; ; id++) {
    if (shardOfId(id, count) === shard && seen++ === nth) return id;
  }
}

/** A batch of `op` whose routing field routes event i to shards[i]; every other id routes elsewhere. */
function batchOf(op: number, shards: readonly number[], flags: readonly number[] = []): Uint8Array {
  const other = (i: number, s: number): bigint => idOn((s + 1) % shardCount, 100 + i);
  if (op === Operation.create_accounts) {
    return encodeAccounts(shards.map((s, i) => ({ id: idOn(s, i), ledger: 1, code: 1, flags: flags[i] ?? 0 })));
  }
  if (op === Operation.create_transfers) {
    return encodeTransfers(
      shards.map((s, i) => ({ id: other(i, s), debitAccountId: idOn(s, i), creditAccountId: other(i + 50, s), amount: 1n, ledger: 1, code: 1, flags: flags[i] ?? 0 })),
    );
  }
  return encodeAccountOperations(shards.map((s, i) => ({ id: other(i, s), accountId: idOn(s, i), kind: 'block', flags: flags[i] ?? 0 })));
}

const writeOps = [
  { name: 'create_accounts', op: Operation.create_accounts, field: AccountLayout.id },
  { name: 'create_transfers', op: Operation.create_transfers, field: TransferLayout.debitAccountId },
  { name: 'account_operations', op: Operation.account_operations, field: AccountOperationLayout.accountId },
];

/** Results a fake shard gives: the event's request index (as result code) so merges can be checked. */
function fakeWriteReply(plan: RoutePlan, request: ShardRequest): Uint8Array {
  const count = request.body.byteLength / eventBytes;
  const reply = new Uint8Array(count * resultBytes);
  const view = new DataView(reply.buffer);
  for (let k = 0; k < count; k++) view.setUint16(k * resultBytes + 2, request.indexes === null ? k : request.indexes[k], true);
  expect(plan.eventCount).toBeGreaterThanOrEqual(count);
  return reply;
}

function resultsOf(reply: Uint8Array): { code: number; detail: number }[] {
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  return Array.from({ length: reply.byteLength / resultBytes }, (_, i) => ({ code: view.getUint16(i * 4, true), detail: view.getUint16(i * 4 + 2, true) }));
}

function routedIds(request: ShardRequest, field: number): bigint[] {
  const view = new DataView(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  return Array.from({ length: request.body.byteLength / eventBytes }, (_, k) => readU128(view, k * eventBytes + field));
}

describe('planRoute: write operations route by their owning field', () => {
  it.each(writeOps)('$name routes each event by the right field and keeps request order per shard', ({ op, field }) => {
    const shards = [1, 0, 2, 1, 0, 1];
    const body = batchOf(op, shards);
    const plan = planRoute(op, body, shardCount);
    expect(plan.requests.map((r) => r.shard)).toEqual([0, 1, 2]);
    expect(plan.requests.map((r) => Array.from(r.indexes!))).toEqual([[1, 4], [0, 3, 5], [2]]);
    for (const request of plan.requests) {
      expect(request.bodyTransferable).toBe(true);
      for (const id of routedIds(request, field)) expect(shardOfId(id, shardCount)).toBe(request.shard);
      request.indexes!.forEach((index, k) => {
        expect(request.body.subarray(k * eventBytes, (k + 1) * eventBytes)).toEqual(body.subarray(index * eventBytes, (index + 1) * eventBytes));
      });
    }
    const merged = mergeReplies(plan, plan.requests.map((r) => fakeWriteReply(plan, r)));
    expect(resultsOf(merged).map((r) => r.detail)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it.each(writeOps)('$name sends a batch owned by one shard as it is (no copy)', ({ op }) => {
    const body = batchOf(op, [2, 2, 2]);
    const plan = planRoute(op, body, shardCount);
    expect(plan.requests).toHaveLength(1);
    expect(plan.requests[0]).toMatchObject({ shard: 2, indexes: null, bodyTransferable: false });
    expect(plan.requests[0].body).toBe(body);
    const reply = fakeWriteReply(plan, plan.requests[0]);
    expect(mergeReplies(plan, [reply])).toBe(reply);
  });

  it.each(writeOps)('$name with one shard never hashes or copies', ({ op }) => {
    const body = batchOf(op, [0, 1, 2]);
    const plan = planRoute(op, body, 1);
    expect(plan.requests).toEqual([{ shard: 0, body, indexes: null, bodyTransferable: false }]);
  });
});


describe('planRoute: linked chains spanning shards go to the coordinator', () => {
  const cases = [
    { name: 'a chain on one shard is sent whole', shards: [0, 0, 0, 1], flags: [linked, linked, 0, 0], chains: [], answered: {} },
    { name: 'a chain leaving its shard in the middle', shards: [0, 1, 0], flags: [linked, linked, 0], chains: [{ first: 0, last: 2 }], answered: {} },
    { name: 'a chain over three shards', shards: [2, 2, 0, 1], flags: [linked, linked, linked, 0], chains: [{ first: 0, last: 3 }], answered: {} },
    { name: 'a split chain between plain events', shards: [1, 0, 2, 1], flags: [0, linked, 0, 0], chains: [{ first: 1, last: 2 }], answered: {} },
    {
      name: 'two chains, only the split one coordinated',
      shards: [1, 1, 0, 2, 2],
      flags: [linked, 0, linked, linked, 0],
      chains: [{ first: 2, last: 4 }],
      answered: {},
    },
    { name: 'a split chain open at the end goes to the coordinator, open', shards: [0, 1, 2, 0], flags: [0, linked, linked, linked], chains: [{ first: 1, last: 3, open: true }], answered: {} },
    { name: 'an open chain whose applied part is on one shard goes there whole', shards: [0, 1, 2], flags: [0, linked, linked], chains: [], answered: {}, routed: { 2: 1 } },
    { name: 'a chain open at the end on one shard is left to it', shards: [0, 1, 1], flags: [0, linked, linked], chains: [], answered: {} },
  ];

  for (const { name: opName, op } of writeOps) {
    it.each(cases)(`${opName}: $name`, (c) => {
      const { shards, flags, chains, answered } = c;
      const plan = planRoute(op, batchOf(op, shards, flags), shardCount);
      // An event sent to another shard than its own (the last of an open chain, to the shard of the others).
      for (const [index, shard] of Object.entries((c as { routed?: Record<number, number> }).routed ?? {})) {
        expect(plan.requests.find((r) => (r.indexes === null ? true : Array.from(r.indexes).includes(Number(index))))?.shard).toBe(shard);
      }
      expect(plan.crossChains?.chains ?? []).toEqual(chains);
      if (plan.crossChains !== null) expect(Array.from(plan.crossChains.shardOf)).toEqual(shards);
      const coordinated = chains.flatMap(({ first, last }) => shards.map((_, i) => i).filter((i) => i >= first && i <= last));
      const held = [...coordinated, ...Object.keys(answered).map(Number)];
      const sent = plan.requests.flatMap((r) => Array.from(r.indexes ?? shards.map((_, i) => i)));
      expect(sent.sort()).toEqual(shards.map((_, i) => i).filter((i) => !held.includes(i)));
      const merged = resultsOf(mergeReplies(plan, plan.requests.map((r) => fakeWriteReply(plan, r))));
      shards.forEach((_, i) => {
        const code = (answered as Record<number, number>)[i];
        // The coordinator writes its chains' results into plan.results; untouched they read as zero.
        if (coordinated.includes(i)) expect(merged[i]).toEqual({ code: 0, detail: 0 });
        else expect(merged[i]).toEqual(code === undefined ? { code: 0, detail: i } : { code, detail: 0 });
      });
    });
  }

  it('sends a batch that is one split chain to no shard', () => {
    const plan = planRoute(Operation.create_transfers, batchOf(Operation.create_transfers, [0, 1], [linked, 0]), shardCount);
    expect(plan.requests).toEqual([]);
    expect(plan.crossChains?.chains).toEqual([{ first: 0, last: 1 }]);
    expect(plan.results).not.toBeNull();
  });
});

/** A fake shard's lookup reply: a record for every asked id it holds, in asked order. */
function fakeLookupReply(request: ShardRequest, holds: (id: bigint) => boolean, recordBytes: number, tag: number): Uint8Array {
  const ids = decodeIdList(request.body).filter(holds);
  const reply = new Uint8Array(ids.length * recordBytes);
  const view = new DataView(reply.buffer);
  ids.forEach((id, k) => {
    writeU128(view, k * recordBytes, id);
    view.setUint8(k * recordBytes + 127, tag);
  });
  return reply;
}

function decodeIdList(body: Uint8Array): bigint[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return Array.from({ length: body.byteLength / idBytes }, (_, i) => readU128(view, i * idBytes));
}

function recordsOf(reply: Uint8Array, recordBytes: number): { id: bigint; tag: number }[] {
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  return Array.from({ length: reply.byteLength / recordBytes }, (_, k) => ({ id: readU128(view, k * recordBytes), tag: view.getUint8(k * recordBytes + 127) }));
}

describe('planRoute: lookups', () => {
  it('lookup_accounts asks each id of its shard and merges the found records in request order', () => {
    const ids = [idOn(1, 0), idOn(0, 0), idOn(2, 0), idOn(1, 1), idOn(0, 1), idOn(1, 0)];
    const missing = new Set([idOn(2, 0), idOn(0, 1)]);
    const plan = planRoute(Operation.lookup_accounts, encodeIds(ids), shardCount);
    expect(plan.requests.map((r) => r.shard)).toEqual([0, 1, 2]);
    for (const request of plan.requests) {
      expect(request.bodyTransferable).toBe(false); // the merge reads the sub-request ids again
      for (const id of decodeIdList(request.body)) expect(shardOfId(id, shardCount)).toBe(request.shard);
    }
    const replies = plan.requests.map((r) => fakeLookupReply(r, (id) => !missing.has(id), eventBytes, r.shard));
    const merged = recordsOf(mergeReplies(plan, replies), eventBytes);
    expect(merged).toEqual(ids.filter((id) => !missing.has(id)).map((id) => ({ id, tag: shardOfId(id, shardCount) })));
  });

  it('lookup_transfers sends the whole id list to every shard and merges each found record once, in request order', () => {
    const ids = [11n, 12n, 13n, 14n, 15n, 12n];
    const body = encodeIds(ids);
    const plan = planRoute(Operation.lookup_transfers, body, shardCount);
    expect(plan.requests.map((r) => r.shard)).toEqual([0, 1, 2]);
    for (const request of plan.requests) expect(request).toMatchObject({ body, indexes: null, bodyTransferable: false });
    // 11 and 12 live on shard 2, 14 on shard 0, 15 on shard 1; 13 nowhere.
    const owner = new Map([
      [11n, 2],
      [12n, 2],
      [14n, 0],
      [15n, 1],
    ]);
    const replies = plan.requests.map((r) => fakeLookupReply(r, (id) => owner.get(id) === r.shard, TransferStateLayout.bytes, r.shard));
    const merged = recordsOf(mergeReplies(plan, replies), TransferStateLayout.bytes);
    expect(merged).toEqual([
      { id: 11n, tag: 2 },
      { id: 12n, tag: 2 },
      { id: 14n, tag: 0 },
      { id: 15n, tag: 1 },
      { id: 12n, tag: 2 },
    ]);
  });

  it('lookup_transfers keeps the earlier transfer when two shards hold the same id (a store from before ids were ledger-wide)', () => {
    const plan = planRoute(Operation.lookup_transfers, encodeIds([7n, 8n]), shardCount);
    // Shard 2 stamped id 7 first, shard 1 stamped id 8 first: one shard would have kept those and refused the others.
    const stamps = new Map([
      ['7@1', 500n],
      ['7@2', 400n],
      ['8@1', 300n],
      ['8@2', 600n],
    ]);
    const replies = plan.requests.map((r) => {
      const reply = fakeLookupReply(r, () => r.shard !== 0, TransferStateLayout.bytes, r.shard);
      const view = new DataView(reply.buffer);
      for (let at = 0; at < reply.byteLength; at += TransferStateLayout.bytes) {
        view.setBigUint64(at + TransferLayout.timestamp, stamps.get(`${readU128(view, at)}@${r.shard}`) ?? 900n, true);
      }
      return reply;
    });
    // The stamp overwrites the fake's tag byte (127): the stamps kept tell which record won.
    const merged = mergeReplies(plan, replies);
    const view = new DataView(merged.buffer, merged.byteOffset, merged.byteLength);
    const kept = [0, 1].map((i) => [readU128(view, i * TransferStateLayout.bytes), view.getBigUint64(i * TransferStateLayout.bytes + TransferLayout.timestamp, true)]);
    expect(kept).toEqual([
      [7n, 400n],
      [8n, 300n],
    ]);
  });

  it('lookup_transfers keeps the lower shard record when two shards hold the same id stamped alike', () => {
    const plan = planRoute(Operation.lookup_transfers, encodeIds([7n, 8n]), shardCount);
    const replies = plan.requests.map((r) => fakeLookupReply(r, () => r.shard !== 0, TransferStateLayout.bytes, r.shard));
    expect(recordsOf(mergeReplies(plan, replies), TransferStateLayout.bytes)).toEqual([
      { id: 7n, tag: 1 },
      { id: 8n, tag: 1 },
    ]);
  });

  it('refuses a shard reply holding a record it was not asked for', () => {
    const plan = planRoute(Operation.lookup_transfers, encodeIds([7n, 8n]), 2);
    const stray = fakeLookupReply({ shard: 0, body: encodeIds([9n]), indexes: null, bodyTransferable: false }, () => true, TransferStateLayout.bytes, 0);
    expect(() => mergeReplies(plan, [stray, new Uint8Array(0)])).toThrow(/not asked for/);
  });

  it('get_account_transfers goes to the shard of the filter account and passes its reply through', () => {
    for (let shard = 0; shard < shardCount; shard++) {
      const body = encodeHistoryFilter({ accountId: idOn(shard, 3), limit: 10 });
      const plan = planRoute(Operation.get_account_transfers, body, shardCount);
      expect(plan.requests).toEqual([{ shard, body, indexes: null, bodyTransferable: false }]);
      const reply = new Uint8Array(160);
      expect(mergeReplies(plan, [reply])).toBe(reply);
    }
  });
});

describe('planRoute: malformed requests', () => {
  it.each([
    { name: 'an empty batch', op: Operation.create_transfers, bytes: 0, code: 'batch_empty' },
    { name: 'a ragged batch', op: Operation.create_accounts, bytes: eventBytes + 1, code: 'body_invalid' },
    { name: 'too many events', op: Operation.create_transfers, bytes: (batchEventsMax + 1) * eventBytes, code: 'batch_too_large' },
    { name: 'a ragged id list', op: Operation.lookup_accounts, bytes: idBytes * 2 + 3, code: 'body_invalid' },
    { name: 'an empty id list', op: Operation.lookup_transfers, bytes: 0, code: 'batch_empty' },
    { name: 'a short history filter', op: Operation.get_account_transfers, bytes: 32, code: 'body_invalid' },
    { name: 'operation 0', op: 0, bytes: eventBytes, code: 'operation_unknown' },
    { name: 'the journal-only expire_pending', op: Operation.expire_pending, bytes: eventBytes, code: 'operation_unknown' },
  ])('refuses $name with $code', ({ op, bytes, code }) => {
    expect(() => planRoute(op, new Uint8Array(bytes), shardCount)).toThrow(expect.objectContaining({ code }));
  });
});
