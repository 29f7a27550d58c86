// Whether the stores may write. A failed commit ends a shard's worker (its memory is ahead of its disk); the
// count of such failures in a row lives in memory the host shares with every worker of the shard, so that a
// fresh worker backs off before it tries to write again instead of failing and restarting in a tight loop
// while the disk stays full. And a reserve of free space: below it the stores refuse writes themselves
// (storage_failed) rather than let LMDB meet ENOSPC, whose error path in lmdb-js 3.5.6 can corrupt the
// process heap (see docs/ARCHITECTURE.md, Full disk). Never blocks a thread; every wait is a timer.

import { statfsSync } from 'node:fs';
import { errors, type TallyError } from '../../core/errors.js';

/** First wait before a store that failed is tried again; doubled after each failure in a row. */
export const storageRetryMsMin = 100;
/** Longest wait between two tries: once space returns, writes resume within about this. */
export const storageRetryMsMax = 2_000;
/**
 * Bytes a probe commits before a shard takes writes again: about a batch of 1,000 transfers, so that a probe
 * that passes means ordinary batches fit too (LMDB reuses the probe's pages for them).
 */
export const storageProbeBytes = 256 * 1024;

/** Most free space kept in reserve: below min(this, 1/32 of the file system) free, stores stop writing. */
export const storageReserveBytesMax = 64 * 1024 * 1024;
/** How often a shard worker looks at the free space of its disk (the reserve absorbs the writes meanwhile). */
export const storageWatchMs = 100;

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

/**
 * The free space of the file system holding `path` (statfs, for unprivileged writers) and its reserve,
 * min(storageReserveBytesMax, 1/32 of its size). Null when statfs cannot tell.
 */
export function spaceOf(path: string): { freeBytes: number; reserveBytes: number } | null {
  let stats: { bavail: number; blocks: number; bsize: number };
  try {
    stats = statfsSync(path);
  } catch {
    return null;
  }
  return { freeBytes: stats.bavail * stats.bsize, reserveBytes: Math.min(storageReserveBytesMax, Math.floor((stats.blocks * stats.bsize) / 32)) };
}

/**
 * Why the file system holding `path` takes no writes now: less free space than its reserve. Null when there
 * is enough, or when statfs cannot tell (a file size limit or a quota still fail at LMDB's write).
 */
export function lowSpace(path: string): string | null {
  const space = spaceOf(path);
  if (space === null || space.freeBytes >= space.reserveBytes) return null;
  return `the disk of ${path} has ${space.freeBytes} bytes free, under its reserve of ${space.reserveBytes}: writes wait until space returns`;
}

/** lowSpace as the catalog error, prefixed with `who`; null when there is enough space. */
export function lowSpaceError(path: string, who: string): TallyError | null {
  const why = lowSpace(path);
  return why === null ? null : errors.storageFailed(`${who}: ${why}`);
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
