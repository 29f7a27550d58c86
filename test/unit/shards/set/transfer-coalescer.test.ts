// Spec of the coalescing of one shard's transfer parts (src/shards/set/transfer-coalescer.ts, issue #19): parts of
// one event-loop turn run as one joint body of at most jointEventsMax events, in arrival order; each caller gets
// its own results; what would change meaning when joined runs alone.

import { describe, expect, it } from 'vitest';
import { resultBytes } from '../../../../src/core/layout.js';
import { TallyError } from '../../../../src/core/errors.js';
import { decodeResults, decodeTransfer, encodeTransfers } from '../../../../src/core/wire/records.js';
import { TransferCoalescer, jointEventsMax } from '../../../../src/shards/set/transfer-coalescer.js';
import { linked, transfer } from '../../../support/ledger-fixtures.js';

/** A run that records each body and answers event i of it with code (id mod 50) — so answers tell whose event. */
function recordingRun() {
  const bodies: bigint[][] = [];
  const run = async (body: Uint8Array, _fresh: boolean): Promise<Uint8Array> => {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const events = Array.from({ length: body.byteLength / 128 }, (_, i) => decodeTransfer(view, i * 128));
    bodies.push(events.map((t) => t.id));
    const reply = new Uint8Array(events.length * resultBytes);
    const out = new DataView(reply.buffer);
    events.forEach((t, i) => out.setUint16(i * resultBytes, Number(t.id % 50n), true));
    return reply;
  };
  return { bodies, run };
}

const pay = (id: bigint) => transfer(id, 1n, 2n, 1n);
const codes = (reply: Uint8Array) => decodeResults(reply).map((r) => r.code);

describe('TransferCoalescer', () => {
  it('joins the requests of one turn in arrival order and hands each caller its own results', async () => {
    const { bodies, run } = recordingRun();
    const coalescer = new TransferCoalescer(run);
    const a = coalescer.submit(encodeTransfers([pay(101n), pay(102n)]));
    const b = coalescer.submit(encodeTransfers([pay(203n)]));
    const c = coalescer.submit(encodeTransfers([pay(304n), pay(305n), pay(306n)]));
    expect(codes(await a)).toEqual([1, 2]);
    expect(codes(await b)).toEqual([3]);
    expect(codes(await c)).toEqual([4, 5, 6]);
    expect(bodies).toEqual([[101n, 102n, 203n, 304n, 305n, 306n]]);
    expect([coalescer.joinedRequests, coalescer.jointBatches]).toEqual([3, 1]);
    // The next turn is a batch of its own.
    await coalescer.submit(encodeTransfers([pay(407n)]));
    expect(bodies).toHaveLength(2);
  });

  it('never lets a joint body pass jointEventsMax events; a part as large runs alone', async () => {
    const { bodies, run } = recordingRun();
    const coalescer = new TransferCoalescer(run);
    const size = 400;
    const part = (k: number, count: number) => encodeTransfers(Array.from({ length: count }, (_, i) => pay(BigInt(k * 10_000 + i + 1))));
    await Promise.all([0, 1, 2].map((k) => coalescer.submit(part(k, size))));
    expect(bodies.map((b) => b.length)).toEqual([2 * size, size]);
    expect(bodies.every((b) => b.length <= jointEventsMax)).toBe(true);
    await Promise.all([coalescer.submit(part(5, jointEventsMax)), coalescer.submit(part(6, 1))]);
    expect(bodies.slice(2).map((b) => b.length)).toEqual([jointEventsMax, 1]);
  });

  it('runs alone a request that ends with an open chain, or is not whole events', async () => {
    const { bodies, run } = recordingRun();
    const coalescer = new TransferCoalescer(run);
    const open = coalescer.submit(encodeTransfers([linked(pay(1n))]));
    const whole = coalescer.submit(encodeTransfers([pay(2n)]));
    const closedChain = coalescer.submit(encodeTransfers([linked(pay(3n)), pay(4n)]));
    const odd = coalescer.submit(new Uint8Array(100)).catch((error: unknown) => error);
    await Promise.all([open, whole, closedChain, odd]);
    expect(bodies[0]).toEqual([1n]); // at once, alone
    expect(bodies).toContainEqual([2n, 3n, 4n]); // a closed chain joins others
  });

  it('runs a part that cannot join after the parts that arrived before it, in arrival order', async () => {
    const { bodies, run } = recordingRun();
    const coalescer = new TransferCoalescer(run);
    const before = [coalescer.submit(encodeTransfers([pay(1n)])), coalescer.submit(encodeTransfers([pay(2n)]))];
    const open = coalescer.submit(encodeTransfers([linked(pay(3n))]));
    const after = coalescer.submit(encodeTransfers([pay(4n)]));
    await Promise.all([...before, open, after]);
    expect(bodies).toEqual([[1n, 2n], [3n], [4n]]);
  });

  it('answers every caller of a joint body with its failure: none of them was applied', async () => {
    let runs = 0;
    const coalescer = new TransferCoalescer(async () => {
      runs++;
      throw new TallyError('overloaded', 'full');
    });
    const answers = await Promise.all([1n, 2n, 3n].map((id) => coalescer.submit(encodeTransfers([pay(id)])).catch((error: unknown) => (error as TallyError).code)));
    expect(answers).toEqual(['overloaded', 'overloaded', 'overloaded']);
    expect(runs).toBe(1);
  });

  it('while two joint parts run, takes new parts into the next one until a run ends, or the wait bound at most', async () => {
    const bodies: bigint[][] = [];
    const answers: (() => void)[] = [];
    const coalescer = new TransferCoalescer(
      (body) =>
        new Promise<Uint8Array>((resolve) => {
          const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
          bodies.push(Array.from({ length: body.byteLength / 128 }, (_, i) => decodeTransfer(view, i * 128).id));
          answers.push(() => resolve(new Uint8Array((body.byteLength / 128) * resultBytes)));
        }),
      200, // a wait bound far beyond these turns, so that what joins is decided by the runs alone
    );
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const first = coalescer.submit(encodeTransfers([pay(1n)]));
    await turn();
    const second = coalescer.submit(encodeTransfers([pay(2n)]));
    await turn();
    expect(bodies).toEqual([[1n], [2n]]); // two running: the shard is busy
    const later = [3n, 4n].map((id) => coalescer.submit(encodeTransfers([pay(id)])));
    await turn();
    const more = coalescer.submit(encodeTransfers([pay(5n)]));
    await turn();
    expect(bodies).toHaveLength(2); // parts wait, joining
    answers[0]!();
    await first;
    await turn();
    expect(bodies[2]).toEqual([3n, 4n, 5n]); // a run ended: everything waiting went as one
    // Nothing ends now: a new part waits at most the bound, then runs anyway.
    const bounded = coalescer.submit(encodeTransfers([pay(6n)]));
    await turn();
    expect(bodies).toHaveLength(3);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(bodies[3]).toEqual([6n]);
    for (const answer of answers.slice(1)) answer();
    await Promise.all([second, ...later, more, bounded]);
  });

  it('keeps the answer of each caller its own copy', async () => {
    const coalescer = new TransferCoalescer(async (body) => new Uint8Array((body.byteLength / 128) * resultBytes).fill(0));
    const [a, b] = await Promise.all([coalescer.submit(encodeTransfers([pay(1n)])), coalescer.submit(encodeTransfers([pay(2n)]))]);
    expect(a!.buffer).not.toBe(b!.buffer);
    expect(a!.byteLength).toBe(resultBytes);
  });
});
