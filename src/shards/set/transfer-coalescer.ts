// Joins the create_transfers requests that arrive in one turn of the event loop, from any connection, into
// shard batches of up to batchEventsMax events (issue #19): one task, one journal entry and one share of an
// fsync for all of them instead of one each. Only requests whose events all debit accounts of one shard are
// joined, and only with others of that shard: a joint batch runs on one shard, so a shard that fails answers
// only the callers whose transfers were its own, as if each had run alone. Each caller gets exactly its own
// results, in its own order, once the joint entry is durable, as if its request had run alone right there in
// arrival order (a later caller's retry of an id an earlier one sent in the same turn answers `exists`).
//
// What is never joined: a request with events on several shards; a request whose last event leaves a linked chain open (joined, it would link into the
// next caller's events; alone it gets linked_event_chain_open), and a body that is not whole events (alone, it
// gets its own body_invalid). A failure of the joint request itself (overloaded, shard_unavailable) answers
// every caller in it: none of them was applied.

import { TransferLayout, resultBytes } from '../../core/layout.js';
import { batchEventsMax, eventBytes } from '../../core/limits.js';
import { TransferFlags } from '../../core/types.js';
import { shardOfIdAt } from '../../core/routing.js';

interface Waiting {
  body: Uint8Array;
  events: number;
  resolve: (reply: Uint8Array) => void;
  reject: (error: unknown) => void;
}

export class TransferCoalescer {
  readonly #run: (body: Uint8Array) => Promise<Uint8Array>;
  readonly #shardCount: number;
  /** Per shard, the requests of this turn that debit its accounts only. */
  #waiting: Waiting[][];
  #flushQueued = false;
  /** Requests that shared a joint batch with another since start, and the joint batches run (GET /metrics). */
  joinedRequests = 0;
  jointBatches = 0;

  /** `run`: how one (joint) create_transfers body is executed; resolves with one u32 result per event. */
  constructor(run: (body: Uint8Array) => Promise<Uint8Array>, shardCount: number) {
    this.#run = run;
    this.#shardCount = shardCount;
    this.#waiting = Array.from({ length: shardCount }, () => []);
  }

  submit(body: Uint8Array): Promise<Uint8Array> {
    const events = body.byteLength / eventBytes;
    const shard = joinable(body, events) ? debitShardOf(body, events, this.#shardCount) : -1;
    if (shard < 0) return this.#run(body);
    return new Promise((resolve, reject) => {
      this.#waiting[shard]!.push({ body, events, resolve, reject });
      if (this.#flushQueued) return;
      this.#flushQueued = true;
      // After the I/O callbacks of this turn: every frame that arrived with this one is queued by then.
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#flushQueued = false;
    for (let shard = 0; shard < this.#shardCount; shard++) {
      const waiting = this.#waiting[shard]!;
      if (waiting.length === 0) continue;
      this.#waiting[shard] = [];
      this.#flushShard(waiting);
    }
  }

  #flushShard(waiting: readonly Waiting[]): void {
    let batch: Waiting[] = [];
    let events = 0;
    for (const request of waiting) {
      if (events + request.events > batchEventsMax) {
        this.#runBatch(batch, events);
        batch = [];
        events = 0;
      }
      batch.push(request);
      events += request.events;
    }
    if (batch.length > 0) this.#runBatch(batch, events);
  }

  #runBatch(batch: readonly Waiting[], events: number): void {
    if (batch.length === 1) {
      const only = batch[0]!;
      this.#run(only.body).then(only.resolve, only.reject);
      return;
    }
    this.joinedRequests += batch.length;
    this.jointBatches++;
    const joint = new Uint8Array(events * eventBytes);
    let at = 0;
    for (const request of batch) {
      joint.set(request.body, at);
      at += request.body.byteLength;
    }
    this.#run(joint).then(
      (reply) => {
        let from = 0;
        for (const request of batch) {
          // A copy: each caller's reply travels on its own.
          request.resolve(reply.slice(from * resultBytes, (from + request.events) * resultBytes));
          from += request.events;
        }
      },
      (error: unknown) => {
        for (const request of batch) request.reject(error);
      },
    );
  }
}

/** Whole events, at most a batch, and no chain left open at the end. */
function joinable(body: Uint8Array, events: number): boolean {
  if (!Number.isInteger(events) || events < 1 || events >= batchEventsMax) return false;
  const flags = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint16((events - 1) * eventBytes + TransferLayout.flags, true);
  return (flags & TransferFlags.linked) === 0;
}

/** The one shard every event's debit account routes to, or -1 when they route to several. */
function debitShardOf(body: Uint8Array, events: number, shardCount: number): number {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const shard = shardOfIdAt(view, TransferLayout.debitAccountId, shardCount);
  for (let i = 1; i < events; i++) if (shardOfIdAt(view, i * eventBytes + TransferLayout.debitAccountId, shardCount) !== shard) return -1;
  return shard;
}
