// Whether one shard's store takes writes, across the worker threads that serve the shard one after another.
// A failed commit ends a worker (its memory is ahead of its disk); the count of such failures in a row lives
// in memory the host shares with every worker of the shard, so that a fresh worker backs off before it tries
// to write again instead of failing and restarting in a tight loop while the disk stays full.
// Never blocks a thread; every wait is a timer.

/** First wait before a store that failed is tried again; doubled after each failure in a row. */
export const storageRetryMsMin = 100;
/** Longest wait between two tries: once space returns, writes resume within about this. */
export const storageRetryMsMax = 2_000;
/**
 * Bytes a probe commits before a shard takes writes again: about a batch of 1,000 transfers, so that a probe
 * that passes means ordinary batches fit too (LMDB reuses the probe's pages for them).
 */
export const storageProbeBytes = 256 * 1024;

/** What the host adds to a shard worker's workerData. */
export interface StorageHealthData {
  /** Int32 storage failures in a row (see StorageHealth); shared by every worker of one shard. */
  storageHealth: SharedArrayBuffer;
}

export function newStorageHealthBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
}

export class StorageHealth {
  readonly #failures: Int32Array;

  /** Without a shared buffer (a worker started by hand) the count is this thread's own. */
  constructor(buffer: SharedArrayBuffer | undefined) {
    this.#failures = new Int32Array(buffer ?? newStorageHealthBuffer());
  }

  /** Workers in a row that ended on a failed commit since the last durable write. */
  get failuresInARow(): number {
    return Atomics.load(this.#failures, 0);
  }

  /** A worker ends on a failed commit. */
  noteFailure(): void {
    Atomics.add(this.#failures, 0, 1);
  }

  /** A write was durable: the store works again. */
  noteDurable(): void {
    Atomics.store(this.#failures, 0, 0);
  }
}

/** The wait before try `attempt` (0 first) of a store that failed: doubling from storageRetryMsMin up to storageRetryMsMax. */
export function storageRetryMs(attempt: number): number {
  return Math.min(storageRetryMsMax, storageRetryMsMin * 2 ** Math.min(Math.max(attempt, 0), 16));
}

export interface RetryOptions {
  /** Tries before this one (it waits storageRetryMs(attemptsBefore) first). */
  attemptsBefore: number;
  /** Called after each failed try with the error and the wait before the next. */
  onFailure: (error: unknown, retryInMs: number) => void;
  /** True once nobody needs the result any more (the worker closes): no further try starts. */
  stopped: () => boolean;
}

/**
 * Tries `attempt` after the back-off its predecessors earned, again and again with growing waits until it
 * succeeds. Resolves true once it did, false when stopped first. Never rejects.
 */
export async function retryWithBackoff(attempt: () => Promise<void>, options: RetryOptions): Promise<boolean> {
  for (let tries = options.attemptsBefore; ; tries++) {
    await new Promise<void>((resolve) => setTimeout(resolve, storageRetryMs(tries)).unref());
    if (options.stopped()) return false;
    try {
      await attempt();
      return true;
    } catch (error) {
      options.onFailure(error, storageRetryMs(tries + 1));
    }
  }
}
