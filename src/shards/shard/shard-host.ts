// Main-thread side of one shard: a one-thread Piscina pool running shard.worker with a bounded queue.
// Turns every failure into a catalog TallyError. Never retries a task (a write may have been applied),
// never lets the queue grow past its bound. Two lanes into the worker: callers' tasks take at most
// shardTasksInFlightMax of its slots and wait here for one; control tasks have slots of their own, so a
// decision (or a status probe, or close) never waits behind the tasks a held turn keeps waiting.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { assert } from '../../core/assert.js';
import { errorFromWire, errors, TallyError } from '../../core/errors.js';
import { hostTasksMax, shardControlTasksMax, shardTasksInFlightMax } from '../../core/limits.js';
import { ShardControl, isShardTaskError, type ShardControlNumber, type ShardTask, type ShardWorkerData } from './shard-messages.js';
import { newStorageHealthBuffer, type StorageHealthData } from '../storage/storage-health.js';

export interface ShardHostOptions {
  readonly dataDir: string;
  readonly shardIndex: number;
  readonly shardCount: number;
  readonly dayCut: ShardWorkerData['dayCut'];
  readonly hotInbound: ShardWorkerData['hotInbound'];
  readonly checkpoint: ShardWorkerData['checkpoint'];
  readonly idCache: ShardWorkerData['idCache'];
  readonly directory: ShardWorkerData['directory'];
  readonly replication?: ShardWorkerData['replication'];
  readonly follow?: ShardWorkerData['follow'];
}

/**
 * Tasks the host ever gives the pool at once: callers' slots, control slots, and two outside the control
 * bound, each at most once at a time — the restart warm-up and close (neither may be refused for want of room).
 */
const poolTasksMax = shardTasksInFlightMax + shardControlTasksMax + 2;

/** A caller's task waiting for a worker slot. */
interface SlotWaiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class ShardHost {
  readonly shardIndex: number;
  readonly #pool: Piscina<ShardTask, Uint8Array>;
  /** Callers' tasks held by this host: waiting for a slot or given to the pool. */
  #tasksOutstanding = 0;
  /** Worker slots callers' tasks hold (given to the pool): at most shardTasksInFlightMax. */
  #slotsTaken = 0;
  /** Callers' tasks waiting for a slot, oldest first (at most shardQueueDepthMax, by hasCapacity). */
  readonly #waiting = new Fifo<SlotWaiter>();
  /** Control tasks given to the pool: at most shardControlTasksMax. */
  #controlTasks = 0;
  /** A warm-up that makes the pool start a worker after one died starting is pending. */
  #restarting = false;
  #closing = false;
  #closed: Promise<void> | null = null;

  constructor(options: ShardHostOptions) {
    this.shardIndex = options.shardIndex;
    const workerData: ShardWorkerData & StorageHealthData = {
      dataDir: options.dataDir,
      shardIndex: options.shardIndex,
      shardCount: options.shardCount,
      dayCut: options.dayCut,
      hotInbound: options.hotInbound,
      checkpoint: options.checkpoint,
      idCache: options.idCache,
      directory: options.directory,
      ...(options.replication === undefined ? {} : { replication: options.replication }),
      ...(options.follow === undefined ? {} : { follow: options.follow }),
      // Shared by every worker this pool starts for the shard: how many in a row ended on a failed commit.
      storageHealth: newStorageHealthBuffer(),
    };
    this.#pool = new Piscina<ShardTask, Uint8Array>({
      filename: shardWorkerFilename(),
      name: 'default',
      minThreads: 1, // one thread owns the shard's memory and its journal writer;
      maxThreads: 1, // two would be two ledgers diverging over one journal
      idleTimeout: Infinity, // never retire the thread: its memory is the shard (a restart replays everything)
      // Many writes in flight share one commit and one fsync; control tasks have slots of their own beside them.
      // The host never gives the pool more than this, so while a worker is up every task reaches it at once:
      // nothing waits in the pool's queue (one queue for both lanes) behind a caller's task.
      concurrentTasksPerWorker: poolTasksMax,
      // The pool queues only while its worker starts (or restarts), and never more than it then hands over.
      maxQueue: poolTasksMax,
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
    // task makes it start one, and the queued tasks run on it. That task is outside the control lane's
    // bound (the lane may be full of tasks waiting for this very worker), one at a time (see poolTasksMax).
    this.#pool.on('workerDestroy', () => {
      setImmediate(() => {
        if (this.#closing || this.#pool.threads.length !== 0 || this.#restarting) return;
        this.#restarting = true;
        this.#runTask(ShardControl.warmUp, new Uint8Array(0), false)
          .catch(() => {})
          .finally(() => (this.#restarting = false));
      });
    });
  }

  /** Resolves once a worker has replayed the journal and answered; rejects with its start error. */
  async ready(): Promise<void> {
    await this.runInternal(ShardControl.warmUp, new Uint8Array(0), false);
  }

  /** True while one more caller's task fits under shardTasksInFlightMax + shardQueueDepthMax. */
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
   * Runs one caller's task on the shard's worker, in arrival order: at once when one of the callers'
   * shardTasksInFlightMax slots is free, else after the tasks waiting before it. `bodyTransferable` means
   * nothing reads `body` after this call: its buffer is transferred, not copied. Rejects with a TallyError.
   */
  async run(operation: number, body: Uint8Array, bodyTransferable: boolean): Promise<Uint8Array> {
    if (this.#closing) throw errors.shuttingDown();
    if (!this.hasCapacity()) throw errors.overloaded(`shard ${this.shardIndex} holds ${this.#tasksOutstanding} tasks (shardQueueDepthMax)`);
    this.#tasksOutstanding++;
    try {
      await this.#takeSlot();
      try {
        return await this.#runTask(operation, body, bodyTransferable);
      } finally {
        this.#passSlot();
      }
    } finally {
      this.#tasksOutstanding--;
      assert(this.#tasksOutstanding >= 0 && this.#slotsTaken <= shardTasksInFlightMax, 'caller tasks within their bounds');
    }
  }

  /** Takes a free slot, or waits behind every task already waiting (a task that waits never loses its turn). */
  #takeSlot(): Promise<void> | undefined {
    if (this.#slotsTaken < shardTasksInFlightMax && this.#waiting.length === 0) {
      this.#slotsTaken++;
      return undefined;
    }
    return new Promise<void>((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** A finished task's slot passes straight to the oldest waiting task, so no newer one can take it first. */
  #passSlot(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next.resolve();
    else this.#slotsTaken--;
    assert(this.#slotsTaken >= 0, 'slots taken never negative');
  }

  /**
   * A control task: a chain decision or a vote in doubt, the relay's tasks, status probes, snapshot holds,
   * day cuts, warm-up and close. It takes one of the worker's control slots, never a caller's: callers'
   * overload (or callers' tasks waiting on a held turn) must never stop what unblocks or observes them.
   * Rejects `overloaded` past shardControlTasksMax (a defect, or a wedged worker piling up probes), except
   * close, which comes once and must reach the worker (see poolTasksMax).
   */
  async runInternal(operation: ShardControlNumber, body: Uint8Array, bodyTransferable: boolean): Promise<Uint8Array> {
    const closing = operation === ShardControl.close;
    if (this.#closing && !closing) throw errors.shuttingDown();
    if (this.#controlTasks >= shardControlTasksMax && !closing) throw errors.overloaded(`shard ${this.shardIndex} holds ${this.#controlTasks} control tasks (shardControlTasksMax)`);
    this.#controlTasks++;
    try {
      return await this.#runTask(operation, body, bodyTransferable);
    } finally {
      this.#controlTasks--;
      assert(this.#controlTasks >= 0, 'control tasks never negative');
    }
  }

  async #runTask(operation: number, body: Uint8Array, bodyTransferable: boolean): Promise<Uint8Array> {
    const { task, transferList } = taskOf(operation, body, bodyTransferable);
    try {
      return await this.#pool.run(task, { transferList });
    } catch (error) {
      throw this.#asTallyError(error);
    }
  }

  /**
   * Refuses callers' tasks still waiting for a slot (they never reached the worker: nothing of them was
   * applied), lets the worker drain its appends and close its journal, then stops the thread. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closed !== null) return this.#closed;
    this.#closing = true;
    for (let waiter = this.#waiting.shift(); waiter !== undefined; waiter = this.#waiting.shift()) waiter.reject(errors.shuttingDown());
    this.#closed = this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    try {
      await this.runInternal(ShardControl.close, new Uint8Array(0), false);
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
  return workerFilename('shard/shard.worker.js');
}

/**
 * The compiled file of a worker entry, named by its path under src/shards (`bookkeeping/bookkeeping.worker.js`),
 * from dist/ when running from sources. This module lives in src/shards/shard/.
 */
export function workerFilename(name: string): string {
  const here = fileURLToPath(import.meta.url);
  const shardsDir = resolve(dirname(here), '..');
  if (!here.endsWith('.ts')) return join(shardsDir, name);
  const packageRoot = resolve(shardsDir, '..', '..');
  const compiled = join(packageRoot, 'dist', 'src', 'shards', name);
  if (!existsSync(compiled)) throw new Error(`worker not built: ${compiled} is missing (run npm run build)`);
  return compiled;
}

/** A first-in first-out queue whose shift() is O(1) (Array.prototype.shift copies the rest). */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    // Drop the consumed prefix once it is half the array, so memory follows the queue's length.
    if (this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
