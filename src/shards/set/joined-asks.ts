// Questions the router asks a shard before a request runs (which ids it holds: ids-elsewhere-check.ts; what it would
// answer for a reference it holds: verdicts-elsewhere-check.ts). Small requests would each cost the shard a task;
// the questions of one event-loop turn go as one.

import { TallyError, ErrorCode } from '../../core/errors.js';

/**
 * The questions to one shard asked in one event-loop turn, sent as one task (or as few as `itemsMax` per task allows)
 * once the turn ends; each asker gets the answers to its own items. A question is `itemBytes` per item, its answer a
 * fixed number of bytes per item (the reply's length over the items asked).
 */
export class JoinedAsks {
  readonly #run: (items: Uint8Array) => Promise<Uint8Array>;
  readonly #itemBytes: number;
  readonly #itemsMax: number;
  #queued: { items: Uint8Array; resolve: (answers: Uint8Array) => void; reject: (error: unknown) => void }[] = [];

  /** One asker alone always fits: it asks at most `itemsMax` items. */
  constructor(run: (items: Uint8Array) => Promise<Uint8Array>, itemBytes: number, itemsMax: number) {
    this.#run = run;
    this.#itemBytes = itemBytes;
    this.#itemsMax = itemsMax;
  }

  ask(items: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      if (this.#queued.length === 0) setImmediate(() => this.#flush());
      this.#queued.push({ items, resolve, reject });
    });
  }

  #flush(): void {
    const queued = this.#queued;
    this.#queued = [];
    const bytesMax = this.#itemsMax * this.#itemBytes;
    while (queued.length > 0) {
      // Askers whole, as many as fit one task.
      let bytes = queued[0]!.items.byteLength;
      let take = 1;
      while (take < queued.length && bytes + queued[take]!.items.byteLength <= bytesMax) bytes += queued[take++]!.items.byteLength;
      const batch = queued.splice(0, take);
      // Counted before the run: the items' buffer is handed to the worker (detached here).
      const counts = batch.map((q) => q.items.byteLength / this.#itemBytes);
      const items = batch.length === 1 ? batch[0]!.items : concat(batch.map((q) => q.items), bytes);
      const itemsAsked = bytes / this.#itemBytes;
      this.#run(items).then(
        (answers) => {
          const answerBytes = answers.byteLength / itemsAsked;
          let at = 0;
          batch.forEach((q, k) => {
            q.resolve(answers.subarray(at, at + counts[k]! * answerBytes));
            at += counts[k]! * answerBytes;
          });
        },
        (error: unknown) => {
          for (const q of batch) q.reject(error);
        },
      );
    }
  }
}

/**
 * A question lost with a worker that died (shard_unavailable) is asked again of the fresh one, which answers once it
 * has replayed its journal: a read, so asking twice is safe, and a shard restarting delays the other shards' writes
 * instead of failing them. Twice at most; then the request fails with the shard's error (nothing applied).
 */
export async function askAgainOnRestart(ask: () => Promise<Uint8Array>): Promise<Uint8Array> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ask();
    } catch (error) {
      if (attempt >= 3 || !(error instanceof TallyError) || error.code !== ErrorCode.shard_unavailable) throw error;
    }
  }
}

function concat(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
