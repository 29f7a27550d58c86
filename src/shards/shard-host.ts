// Main-thread side of one shard: a one-thread Piscina pool running shard.worker with a bounded queue.
// Turns every failure into a catalog TallyError. Never retries a task (a write may have been applied),
// never lets the queue grow past its bound.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { assert } from '../core/assert.js';
import { errorFromWire, errors, TallyError } from '../core/errors.js';
import { hostTasksMax, relayTasksMax, shardQueueDepthMax, shardTasksInFlightMax } from '../core/limits.js';
import { ShardControl, isShardTaskError, type ShardTask, type ShardWorkerData } from './shard-messages.js';
import { newStorageHealthBuffer, type StorageHealthData } from './storage-health.js';

export interface ShardHostOptions {
  readonly dataDir: string;
  readonly shardIndex: number;
  readonly shardCount: number;
  readonly dayCut: ShardWorkerData['dayCut'];
  readonly hotInbound: ShardWorkerData['hotInbound'];
}

export class ShardHost {
  readonly shardIndex: number;
  readonly #pool: Piscina<ShardTask, Uint8Array>;
  #tasksOutstanding = 0;
  #closed: Promise<void> | null = null;

  constructor(options: ShardHostOptions) {
    this.shardIndex = options.shardIndex;
    const workerData: ShardWorkerData & StorageHealthData = {
      dataDir: options.dataDir,
      shardIndex: options.shardIndex,
      shardCount: options.shardCount,
      dayCut: options.dayCut,
      hotInbound: options.hotInbound,
      // Shared by every worker this pool starts for the shard: how many in a row ended on a failed commit.
      storageHealth: newStorageHealthBuffer(),
    };
    this.#pool = new Piscina<ShardTask, Uint8Array>({
      filename: shardWorkerFilename(),
      name: 'default',
      minThreads: 1, // one thread owns the shard's memory and its journal writer;
      maxThreads: 1, // two would be two ledgers diverging over one journal
      idleTimeout: Infinity, // never retire the thread: its memory is the shard (a restart replays everything)
      concurrentTasksPerWorker: shardTasksInFlightMax, // many writes in flight share one commit and one fsync
      // Past it run() rejects (overloaded); the queue never grows. The relay's few internal tasks have room of their own.
      maxQueue: shardQueueDepthMax + relayTasksMax,
      // The worker's event loop must keep turning while no task runs: the expiry ticker and lmdb's
      // commit callbacks live there. Piscina's default ('sync') blocks an idle worker in Atomics.wait.
      atomics: 'disabled',
      workerData,
      niceIncrement: 0,
      trackUnmanagedFds: true,
      recordTiming: false,
      workerHistogram: false,
    });
    // A worker that dies with no task in flight is reported here; piscina replaces it by itself.
    this.#pool.on('error', (error: unknown) => {
      console.error(`tally shard ${this.shardIndex}: worker failed:`, error);
    });
    // ...except one that dies before it finished starting (replaying its journal): piscina 5 then starts
    // no replacement, and tasks already queued would wait forever (a chain decision among them). A new
    // task makes it start one, and the queued tasks run on it.
    this.#pool.on('workerDestroy', () => {
      setImmediate(() => {
        if (this.#closed === null && this.#pool.threads.length === 0) this.#runTask(ShardControl.warmUp, new Uint8Array(0), false).catch(() => {});
      });
    });
  }

  /** Resolves once a worker has replayed the journal and answered; rejects with its start error. */
  async ready(): Promise<void> {
    await this.run(ShardControl.warmUp, new Uint8Array(0), false);
  }

  /** True while one more task fits under shardTasksInFlightMax + shardQueueDepthMax. */
  hasCapacity(): boolean {
    return this.#tasksOutstanding < hostTasksMax;
  }

  get tasksOutstanding(): number {
    return this.#tasksOutstanding;
  }

  /** The pool's worker threads (one, or none while a replacement starts). For operations and tests. */
  get threads(): readonly Worker[] {
    return this.#pool.threads;
  }

  /**
   * Runs one task on the shard's worker. `bodyTransferable` means nothing reads `body` after this call:
   * its buffer is transferred, not copied. Rejects with a TallyError.
   */
  async run(operation: number, body: Uint8Array, bodyTransferable: boolean): Promise<Uint8Array> {
    if (this.#closed !== null && operation !== ShardControl.close) throw errors.shuttingDown();
    if (!this.hasCapacity()) throw errors.overloaded(`shard ${this.shardIndex} holds ${this.#tasksOutstanding} tasks (shardQueueDepthMax)`);
    this.#tasksOutstanding++;
    try {
      return await this.#runTask(operation, body, bodyTransferable);
    } finally {
      this.#tasksOutstanding--;
      assert(this.#tasksOutstanding >= 0, 'tasks outstanding never negative');
    }
  }

  /**
   * A task of the cross-shard relay (at most relayTasksMax at once: one delivery, status, fetch and
   * acknowledgement). It does not take a caller's place under the shard's bound: callers' overload must
   * never stop money already in transit from landing.
   */
  async runInternal(operation: number, body: Uint8Array, bodyTransferable: boolean): Promise<Uint8Array> {
    if (this.#closed !== null) throw errors.shuttingDown();
    return this.#runTask(operation, body, bodyTransferable);
  }

  async #runTask(operation: number, body: Uint8Array, bodyTransferable: boolean): Promise<Uint8Array> {
    const { task, transferList } = taskOf(operation, body, bodyTransferable);
    try {
      return await this.#pool.run(task, { transferList });
    } catch (error) {
      throw this.#asTallyError(error);
    }
  }

  /** Lets the worker drain its appends and close its journal, then stops the thread. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    try {
      await this.run(ShardControl.close, new Uint8Array(0), false);
    } catch {
      // A dead or failed worker has nothing left to flush; its journal is closed by the thread's end.
    }
    await this.#pool.destroy();
    assert(this.#pool.threads.length === 0, 'no shard thread outlives close');
  }

  #asTallyError(error: unknown): TallyError {
    if (error instanceof TallyError) return error;
    if (isShardTaskError(error)) return errorFromWire(error.code, error.message);
    const message = error instanceof Error ? error.message : String(error);
    if (message === 'Task queue is at limit') return errors.overloaded(`shard ${this.shardIndex} queue is full (shardQueueDepthMax)`);
    if (message.startsWith('worker exited')) {
      return errors.shardUnavailable(this.shardIndex, `worker stopped (${message}); a fresh one replays the journal`);
    }
    if (message === 'Terminating worker thread') return errors.shuttingDown();
    return errors.shardUnavailable(this.shardIndex, message);
  }
}

/**
 * Structured clone copies a view's WHOLE underlying buffer, so a view into a larger buffer is compacted
 * first (one copy) and that copy transferred. A body the caller gives away is transferred as it is.
 */
function taskOf(operation: number, body: Uint8Array, bodyTransferable: boolean): { task: ShardTask; transferList: ArrayBuffer[] } {
  const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
  if (body.byteLength === 0 || (whole && !bodyTransferable)) return { task: { operation, body }, transferList: [] };
  const sent = whole ? body : body.slice();
  return { task: { operation, body: sent }, transferList: [sent.buffer as ArrayBuffer] };
}

/**
 * The COMPILED worker. Piscina loads it in a plain Node thread, which cannot run TypeScript: when this
 * module itself runs from sources (vitest), the worker comes from `dist/` (run `npm run build` first).
 */
export function shardWorkerFilename(): string {
  return workerFilename('shard.worker.js');
}

/** The compiled file of a worker entry in src/shards (from dist/ when running from sources). */
export function workerFilename(name: string): string {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return join(dirname(here), name);
  const packageRoot = resolve(dirname(here), '..', '..');
  const compiled = join(packageRoot, 'dist', 'src', 'shards', name);
  if (!existsSync(compiled)) throw new Error(`worker not built: ${compiled} is missing (run npm run build)`);
  return compiled;
}
