// One shard's create_transfers parts that arrive in one turn of the event loop, from any request and any
// connection, joined into joint parts of up to jointEventsMax events (issue #19): one task, one journal entry and
// one share of an fsync for all of them instead of one each. Each part gets exactly its own results, in its own
// order, once the joint entry is durable, as if it had run alone right there in arrival order (a later part
// retrying an id an earlier one sent in the same turn answers `exists`). Parts of one shard only: a shard that
// fails answers only the requests that had a part on it, as each would have been answered alone.
//
// What is never joined: a part whose last event leaves a linked chain open (joined, it would link into the next
// part's events; alone it gets linked_event_chain_open), a part of more than jointEventsMax events, and a body that
// is not whole events. Such a part runs at once, after the parts queued before it (test/property/coalescing.property
// .test.ts compares every caller's replies with the same frames sent one by one). A failure of the
// joint part itself (shard_unavailable, storage_failed) answers every part in it: none of them was applied.

import { TransferLayout, resultBytes } from '../../core/layout.js';
import { eventBytes } from '../../core/limits.js';
import { TransferFlags } from '../../core/types.js';

interface Waiting {
  body: Uint8Array;
  transferable: boolean;
  events: number;
  resolve: (reply: Uint8Array) => void;
  reject: (error: unknown) => void;
}

/**
 * Joint parts a shard runs at once before new parts wait for one of them to end (or for jointWaitMsMax): under load
 * the parts that arrive during a commit join the next, instead of each turn's few; alone, a part never waits.
 */
const jointRunsMax = 2;
/** Longest a part waits for a joint run to end before it runs anyway (issue #19: never more than ~1 ms). */
const jointWaitMsMax = 1;
/**
 * Events in one joint part at most: enough to spread the cost of an entry (at batch 1 under load a flush joins a
 * few hundred), small enough (~200 KB) that a joint entry stays well under the free-space reserve of the smallest
 * disk (1 MiB on 32 MiB: storage-health.ts), which absorbs the writes between two looks at the free space. A caller's
 * own batch can still be 8,190 events: it runs alone.
 */
export const jointEventsMax = 1_024;

export class TransferCoalescer {
  readonly #run: (body: Uint8Array, fresh: boolean) => Promise<Uint8Array>;
  #waiting: Waiting[] = [];
  #flushQueued = false;
  /** Joint parts (or parts run alone from the queue) on the shard and not answered yet. */
  #running = 0;
  #waitTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #waitMsMax: number;
  /** Parts that shared a joint part with another since start, and the joint parts run (GET /metrics). */
  joinedRequests = 0;
  jointBatches = 0;

  /**
   * `run`: how one (joint) create_transfers body runs on the shard; resolves with one u32 result per event. `fresh`:
   * nothing reads the body after (a joint one is the coalescer's own): it may be handed over, not copied.
   */
  constructor(run: (body: Uint8Array, fresh: boolean) => Promise<Uint8Array>, waitMsMax = jointWaitMsMax) {
    this.#run = run;
    this.#waitMsMax = waitMsMax;
  }

  /** `transferable`: nothing reads `body` once run (it may be handed over when it runs alone). */
  submit(body: Uint8Array, transferable = false): Promise<Uint8Array> {
    const events = body.byteLength / eventBytes;
    if (!joinable(body, events)) {
      // Alone, at once, but after the parts that arrived before it: they go to the shard first (the shard runs its
      // tasks in order), so that this part sees what they did, as it would have one by one.
      if (this.#waiting.length > 0) this.#flushNow();
      return this.#run(body, transferable);
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ body, transferable, events, resolve, reject });
      if (this.#flushQueued) return;
      this.#flushQueued = true;
      // After the I/O callbacks of this turn: every frame that arrived with this one is queued by then.
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#waiting.length === 0) return;
    if (this.#running >= jointRunsMax && this.#waitTimer === null) {
      // The shard is busy: parts keep joining until a run ends (#ended flushes) or the wait bound passes.
      this.#waitTimer = setTimeout(() => this.#flushNow(), this.#waitMsMax);
      return;
    }
    if (this.#running < jointRunsMax) this.#flushNow();
  }

  #flushNow(): void {
    if (this.#waitTimer !== null) clearTimeout(this.#waitTimer);
    this.#waitTimer = null;
    const waiting = this.#waiting;
    this.#waiting = [];
    let batch: Waiting[] = [];
    let events = 0;
    for (const request of waiting) {
      if (events + request.events > jointEventsMax) {
        this.#runBatch(batch, events);
        batch = [];
        events = 0;
      }
      batch.push(request);
      events += request.events;
    }
    if (batch.length > 0) this.#runBatch(batch, events);
  }

  #ended(): void {
    this.#running--;
    if (this.#waiting.length > 0 && !this.#flushQueued) this.#flushNow();
  }

  #runBatch(batch: readonly Waiting[], events: number): void {
    this.#running++;
    const ended = (): void => this.#ended();
    if (batch.length === 1) {
      const only = batch[0]!;
      this.#run(only.body, only.transferable).then(only.resolve, only.reject).finally(ended);
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
    this.#run(joint, true).then(
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
    ).finally(ended);
  }
}

/** Whole events, fewer than a joint part holds, and no chain left open at the end. */
function joinable(body: Uint8Array, events: number): boolean {
  if (!Number.isInteger(events) || events < 1 || events >= jointEventsMax) return false;
  const flags = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint16((events - 1) * eventBytes + TransferLayout.flags, true);
  return (flags & TransferFlags.linked) === 0;
}

