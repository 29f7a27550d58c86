// The shard loop inside a worker: runs tasks against one Ledger, appends each write's journal entry, and
// replies only once that entry and every earlier one are durable. Reads see only durable state. After a
// storage failure or a programmer error it serves nothing more: memory is ahead of (or apart from) disk.

import { AssertionError, assert } from '../core/assert.js';
import { errors, TallyError } from '../core/errors.js';
import type { Ledger } from '../core/ledger.js';
import { resultBytes } from '../core/layout.js';
import { eventBytes } from '../core/limits.js';
import { Operation, isWriteOperation } from '../core/operations.js';
import { ShardControl, isShardTaskError, toShardTaskError, type ShardTask, type ShardTaskError } from './shard-messages.js';

/** How often an idle shard looks for pending transfers whose timeout has passed. */
export const expiryTickMs = 250;

/** What the loop needs from the journal store (JournalStore satisfies it). */
export interface ShardJournal {
  readonly seqLast: number;
  append(seq: number, entry: Uint8Array): Promise<void>;
  /** Resolves when every append so far is durable; rejects once one failed. */
  durable(): Promise<void>;
  entries(fromSeq: number): Iterable<[seq: number, entry: Uint8Array]>;
  discardAfter(seq: number): Promise<number>;
  close(): Promise<void>;
}

export type ShardLedger = Pick<Ledger, 'seqLast' | 'execute' | 'expireDue' | 'query' | 'replay'>;

export interface ShardLoopOptions {
  shardIndex: number;
  ledger: ShardLedger;
  journal: ShardJournal;
  /** Wall-clock ns, never going backwards within this worker. */
  nowNs: () => bigint;
  /** Called once when the loop stops for good; the worker ends its thread so a fresh one replays. */
  onFatal: (error: unknown) => void;
}

interface Executed {
  reply: Uint8Array;
  durable: Promise<void>;
}

const noop = (): void => {};

/** Rebuilds `ledger` from `journal`; drops entries past a gap (they were never acknowledged). */
export async function recoverLedger(ledger: ShardLedger, journal: ShardJournal): Promise<{ replayed: number; discarded: number }> {
  const seqFirst = ledger.seqLast + 1;
  for (const [seq, entry] of journal.entries(seqFirst)) ledger.replay(seq, entry);
  const discarded = await journal.discardAfter(ledger.seqLast);
  assert(journal.seqLast === ledger.seqLast, 'journal and ledger agree on the last seq after recovery');
  return { replayed: ledger.seqLast - seqFirst + 1, discarded };
}

/** Nanoseconds since the epoch from a monotonic clock anchored once to Date.now(). */
export function anchoredClockNs(): () => bigint {
  const anchorNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => anchorNs + process.hrtime.bigint();
}

export class ShardLoop {
  readonly #o: ShardLoopOptions;
  /** Set once; every later task rejects with it. */
  #failure: ShardTaskError | null = null;
  #closing: Promise<void> | null = null;
  /** Settles after the last step queued behind a read. */
  #turn: Promise<void> = Promise.resolve();
  #turnsWaiting = 0;
  #ticker: ReturnType<typeof setInterval> | null = null;

  constructor(options: ShardLoopOptions) {
    this.#o = options;
  }

  /** Starts the expiry ticker (unref'd: it never keeps the thread alive by itself). */
  start(): void {
    assert(this.#ticker === null, 'shard loop started once');
    this.#ticker = setInterval(() => this.tick(), expiryTickMs);
    this.#ticker.unref();
  }

  /** Runs one task. Rejects with a ShardTaskError (plain data, safe to post). */
  run(task: ShardTask): Promise<Uint8Array> {
    return this.#dispatch(task).catch((error: unknown) => {
      throw this.#toTaskError(error);
    });
  }

  /** Journals the expiry of every pending transfer that is due (skipped while reads hold the turn). */
  tick(): void {
    if (this.#failure !== null || this.#closing !== null || this.#turnsWaiting > 0) return;
    try {
      const due = this.#o.ledger.expireDue(this.#o.nowNs());
      if (due !== null) void this.#persist(due.seq, due.entry).catch(noop);
    } catch (error) {
      this.#toTaskError(error);
    }
  }

  /** Stops the loop for good (no task runs after it) and calls onFatal once. */
  fail(error: unknown): void {
    if (this.#failure !== null) return;
    const storageFailed = error instanceof TallyError && error.code === 'storage_failed';
    const cause = storageFailed ? error : errors.shardUnavailable(this.#o.shardIndex, `stopped: ${describe(error)}`);
    this.#failure = toShardTaskError(cause);
    this.#o.onFatal(error);
  }

  /** Waits for queued steps and appends, then closes the journal. Later tasks reject shutting_down. */
  close(): Promise<void> {
    this.#closing ??= this.#drainAndClose();
    return this.#closing;
  }

  async #dispatch(task: ShardTask): Promise<Uint8Array> {
    if (this.#failure !== null) throw this.#failure;
    if (task.operation === ShardControl.warmUp) return new Uint8Array(0);
    if (task.operation === ShardControl.close) return this.close().then(() => new Uint8Array(0));
    if (this.#closing !== null) throw errors.shuttingDown();
    if (isWriteOperation(task.operation)) return this.#write(task.operation, task.body);
    if (isReadOperation(task.operation)) return this.#read(task.operation, task.body);
    throw errors.operationUnknown(task.operation);
  }

  /** Ordering: execute in arrival order (behind any waiting read), reply after everything up to it is fsync'd. */
  async #write(operation: number, body: Uint8Array): Promise<Uint8Array> {
    const step = (): Executed => this.#execute(operation, body);
    const executed = this.#turnsWaiting === 0 ? step() : await this.#queueStep(step);
    await executed.durable;
    return executed.reply;
  }

  /** Ordering: a read holds the turn until every earlier write is durable, so it shows only state on disk. */
  #read(operation: number, body: Uint8Array): Promise<Uint8Array> {
    return this.#queueStep(async () => {
      await this.#o.journal.durable();
      if (this.#failure !== null) throw this.#failure;
      return this.#o.ledger.query(operation, body);
    });
  }

  #execute(operation: number, body: Uint8Array): Executed {
    if (this.#failure !== null) throw this.#failure;
    const { seq, entry, reply } = this.#o.ledger.execute(operation, body, this.#o.nowNs());
    assert(reply.byteLength === (body.byteLength / eventBytes) * resultBytes, 'a write reply holds one result per event');
    assert(seq === this.#o.ledger.seqLast, 'the executed batch is the ledger\'s last');
    return { reply, durable: this.#persist(seq, entry) };
  }

  #persist(seq: number, entry: Uint8Array): Promise<void> {
    const durable = this.#o.journal.append(seq, entry);
    durable.catch((error: unknown) => this.#toTaskError(error));
    return durable;
  }

  /** Runs `step` after every step queued before it; later writes wait behind it. */
  #queueStep<T>(step: () => T | Promise<T>): Promise<T> {
    this.#turnsWaiting++;
    const result = this.#turn.then(step);
    this.#turn = result.then(noop, noop).then(() => {
      this.#turnsWaiting--;
    });
    return result;
  }

  async #drainAndClose(): Promise<void> {
    if (this.#ticker !== null) clearInterval(this.#ticker);
    await this.#turn;
    await this.#o.journal.durable().catch(noop);
    await this.#o.journal.close();
  }

  /**
   * Classifies an error into what the task rejects with. Operating errors about the request pass through;
   * storage failures and anything unexpected (assertions included) stop the loop for good.
   */
  #toTaskError(error: unknown): ShardTaskError {
    if (isShardTaskError(error)) return error;
    if (error instanceof TallyError && error.code !== 'storage_failed') return toShardTaskError(error);
    this.fail(error);
    assert(this.#failure !== null, 'a failed loop holds its failure');
    return this.#failure;
  }
}

function isReadOperation(operation: number): boolean {
  return (
    operation === Operation.lookup_accounts || operation === Operation.lookup_transfers || operation === Operation.get_account_transfers
  );
}

function describe(error: unknown): string {
  if (error instanceof AssertionError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
