// Random write batches (random routing ids, random linked flags) and random id lists through route-plan.
//
// Invariants checked:
//  1. Coverage: every event is sent to exactly one shard, or handed to the chain coordinator, or answered
//     by the plan — exactly one of the three.
//  2. Ownership: every event sent to a shard routes to it (by its operation's routing field), but the last
//     event of a chain left open, which goes to the shard of the events before it when they share one.
//  3. Order: within a sub-body, events keep request order, byte for byte.
//  4. Chains: a closed chain is sent whole to one shard, or (spanning shards) whole to the coordinator;
//     one left open at the end goes whole to the shard of its events before the last when they share one
//     (the last is never applied), else to the coordinator too, marked open.
//  5. Merge: shard results land at their events' request indexes; lookups return every found record
//     once, in request order.
// fast-check prints the seed and the shrunk counterexample on failure; TALLY_PROPERTY_SEED and
// TALLY_PROPERTY_RUNS replay or widen a run.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { AccountLayout, AccountOperationLayout, TransferLayout, idBytes, resultBytes } from '../../src/core/layout.js';
import { eventBytes } from '../../src/core/limits.js';
import { Operation } from '../../src/core/operations.js';
import { mergeReplies, planRoute } from '../../src/core/wire/route-plan.js';
import { shardOfIdAt } from '../../src/core/routing.js';

const runs = Number(process.env.TALLY_PROPERTY_RUNS ?? 200);
const seed = process.env.TALLY_PROPERTY_SEED === undefined ? undefined : Number(process.env.TALLY_PROPERTY_SEED);

const ops = [
  { op: Operation.create_accounts, idAt: AccountLayout.id, flagsAt: AccountLayout.flags },
  { op: Operation.create_transfers, idAt: TransferLayout.debitAccountId, flagsAt: TransferLayout.flags },
  { op: Operation.account_operations, idAt: AccountOperationLayout.accountId, flagsAt: AccountOperationLayout.flags },
];

const batchArbitrary = fc.record({
  which: fc.integer({ min: 0, max: 2 }),
  shardCount: fc.integer({ min: 1, max: 5 }),
  // Small routing ids so that shards repeat and chains often stay on one shard.
  events: fc.array(fc.record({ routeId: fc.integer({ min: 1, max: 12 }), linked: fc.boolean() }), { minLength: 1, maxLength: 40 }),
});

function encodeBatch(idAt: number, flagsAt: number, events: { routeId: number; linked: boolean }[]): Uint8Array {
  const body = new Uint8Array(events.length * eventBytes);
  const view = new DataView(body.buffer);
  events.forEach((e, i) => {
    view.setUint32(i * eventBytes + idAt, e.routeId, true);
    view.setUint16(i * eventBytes + flagsAt, e.linked ? 1 : 0, true);
    view.setUint32(i * eventBytes + 124, i, true); // a tag in the timestamp field, to recognise the event
  });
  return body;
}

/** Marks an event the coordinator runs (a closed chain spanning shards). */
const coordinated = -1;

/**
 * The expected answer of the plan for each event (undefined when it must be sent to a shard), and the shard each
 * event sent goes to (its own, but the last of an open chain whose other events share a shard: theirs).
 */
function expectedHeld(shards: number[], events: { linked: boolean }[]): { expected: (number | undefined)[]; target: number[] } {
  const expected: (number | undefined)[] = events.map(() => undefined);
  const target = [...shards];
  let first = 0;
  events.forEach((e, i) => {
    const open = e.linked && i === events.length - 1;
    if (e.linked && !open) return;
    const spans = (last: number) => shards.some((s, k) => k > first && k <= last && s !== shards[first]);
    if (open && i > first && !spans(i - 1)) target[i] = shards[first]!;
    else if (spans(i)) for (let k = first; k <= i; k++) expected[k] = coordinated;
    first = i + 1;
  });
  return { expected, target };
}

describe('route-plan properties', () => {
  test('write batches: coverage, ownership, order, chains and merge', () => {
    fc.assert(
      fc.property(batchArbitrary, ({ which, shardCount, events }) => {
        const { op, idAt, flagsAt } = ops[which];
        const body = encodeBatch(idAt, flagsAt, events);
        const view = new DataView(body.buffer);
        const shards = events.map((_, i) => shardOfIdAt(view, i * eventBytes + idAt, shardCount));
        const { expected, target } = expectedHeld(shards, events);
        const plan = planRoute(op, body, shardCount);
        const sentTo = events.map(() => -1);
        for (const request of plan.requests) {
          const rView = new DataView(request.body.buffer, request.body.byteOffset, request.body.byteLength);
          const count = request.body.byteLength / eventBytes;
          for (let k = 0; k < count; k++) {
            const index = request.indexes === null ? k : request.indexes[k];
            expect(rView.getUint32(k * eventBytes + 124, true)).toBe(index);
            expect(sentTo[index]).toBe(-1);
            expect(target[index]).toBe(request.shard);
            sentTo[index] = request.shard;
            if (k > 0) expect(index).toBeGreaterThan(request.indexes === null ? k - 1 : request.indexes[k - 1]);
          }
        }
        // Each fake shard answers ok with the request index as detail.
        const replies = plan.requests.map((r) => {
          const count = r.body.byteLength / eventBytes;
          const reply = new Uint8Array(count * resultBytes);
          for (let k = 0; k < count; k++) new DataView(reply.buffer).setUint16(k * resultBytes + 2, r.indexes === null ? k : r.indexes[k], true);
          return reply;
        });
        const merged = new DataView(mergeReplies(plan, replies).buffer);
        events.forEach((_, i) => {
          if (expected[i] === undefined) {
            expect(sentTo[i]).toBe(target[i]);
            expect([merged.getUint16(i * 4, true), merged.getUint16(i * 4 + 2, true)]).toEqual([0, i]);
          } else if (expected[i] === coordinated) {
            expect(sentTo[i]).toBe(-1);
            expect(plan.crossChains!.chains.some((c) => c.first <= i && i <= c.last)).toBe(true);
          } else {
            expect(sentTo[i]).toBe(-1);
            expect([merged.getUint16(i * 4, true), merged.getUint16(i * 4 + 2, true)]).toEqual([expected[i], 0]);
          }
        });
        const chainEvents = (plan.crossChains?.chains ?? []).reduce((n, c) => n + c.last - c.first + 1, 0);
        expect(chainEvents).toBe(expected.filter((e) => e === coordinated).length);
      }),
      { numRuns: runs, seed },
    );
  });

  test('lookups: every found record once, in request order', () => {
    const lookupArbitrary = fc.record({
      transfers: fc.boolean(),
      shardCount: fc.integer({ min: 1, max: 5 }),
      ids: fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 40 }),
      found: fc.func(fc.boolean()),
    });
    fc.assert(
      fc.property(lookupArbitrary, ({ transfers, shardCount, ids, found }) => {
        const op = transfers ? Operation.lookup_transfers : Operation.lookup_accounts;
        const recordBytes = transfers ? 160 : eventBytes;
        const body = new Uint8Array(ids.length * idBytes);
        ids.forEach((id, i) => new DataView(body.buffer).setUint32(i * idBytes, id, true));
        // An id "exists" on exactly one shard: its routing shard.
        const owner = (id: number): number => shardOfIdAt(new DataView(Uint32Array.of(id, 0, 0, 0).buffer), 0, shardCount);
        const plan = planRoute(op, body, shardCount);
        const replies = plan.requests.map((r) => {
          const asked = Array.from({ length: r.body.byteLength / idBytes }, (_, k) => new DataView(r.body.buffer, r.body.byteOffset).getUint32(k * idBytes, true));
          const held = asked.filter((id) => owner(id) === r.shard && found(id));
          const reply = new Uint8Array(held.length * recordBytes);
          held.forEach((id, k) => new DataView(reply.buffer).setUint32(k * recordBytes, id, true));
          return reply;
        });
        const merged = mergeReplies(plan, replies);
        const mergedIds = Array.from({ length: merged.byteLength / recordBytes }, (_, k) => new DataView(merged.buffer, merged.byteOffset).getUint32(k * recordBytes, true));
        expect(mergedIds).toEqual(ids.filter((id) => found(id)));
      }),
      { numRuns: runs, seed },
    );
  });
});
