// The shard loop inside a worker: runs tasks against one Ledger, appends each write's journal entry, and
// replies only once that entry and every earlier one are durable. Reads see only durable state. After a
// storage failure or a programmer error it serves nothing more: memory is ahead of (or apart from) disk.
// While its writes are paused (a fresh worker whose store has not taken a write yet) it refuses every task
// that would write, before touching memory, and goes on answering reads.

import { AssertionError, assert } from '../../core/assert.js';
import { errors, TallyError } from '../../core/errors.js';
import type { Ledger } from '../../core/posting/ledger.js';
import { resultBytes } from '../../core/layout.js';
import { checkpointEntriesForced, eventBytes, snapshotHoldMsMax } from '../../core/limits.js';
import { JournalEntryFlags } from '../../core/posting/journal-entry.js';
import { Operation, isWriteOperation } from '../../core/operations.js';
import { ChainDecision, DecideStatus, decodeDecide, decodePrepare, type RememberedFailure } from '../../core/chains/prepared-chains.js';
import type { LocalJournal } from '../replication/replicated-journal.js';
import { DelaySamples } from './delay-samples.js';
import {
  CutFlags,
  ShardControl,
  checkpointDefault,
  hotInboundDefault,
  type CheckpointOptions,
  isShardTaskError,
  toShardTaskError,
  type HotInboundOptions,
  type HotInboundShardStatus,
  type ShardTask,
  type ShardTaskError,
} from './shard-messages.js';

/** How often an idle shard looks for pending transfers whose timeout has passed. */
export const expiryTickMs = 250;

/** What the loop needs from the journal store (JournalStore satisfies it, and in replicated mode ReplicatedJournal). */
export type ShardJournal = LocalJournal;

export type ShardLedger = Pick<
  Ledger,
  | 'seqLast'
  | 'execute'
  | 'expireDue'
  | 'query'
  | 'replay'
  | 'applyInbound'
  | 'outboxAfter'
  | 'acknowledgeOutbox'
  | 'transitStatus'
  | 'prepareChains'
  | 'commitPrepared'
  | 'abortPrepared'
  | 'chainGroupInDoubt'
  | 'applyHotInbound'
  | 'takeHotDelaysNs'
  | 'hotInboundStatus'
  | 'hotOutboundIds'
  | 'directoryEntries'
  | 'transferIdsTaken'
  | 'operationIdsTaken'
  | 'eventVerdicts'
  | 'flushHistory'
  | 'takeFlushedRuns'
>;

export interface ShardLoopOptions {
  shardIndex: number;
  ledger: ShardLedger;
  journal: ShardJournal;
  /** Wall-clock ns, never going backwards within this worker. */
  nowNs: () => bigint;
  /** Called once when the loop stops for good; the worker ends its thread so a fresh one replays. */
  onFatal: (error: unknown) => void;
  /** Keeps a peer's acknowledgement beside the journal (a hint: replay retains instructions above it). */
  onOutboxAcknowledged?: (peer: number, pairSeq: number) => void;
  /** Business days: cuts (ordered by the shard set) and closed-day queries. */
  days?: ShardDays;
  /** Hot-inbound summary postings and automatic marking (default hotInboundDefault). */
  hotInbound?: HotInboundOptions;
  /** How often a flush_history entry is written: every `entries` entries or `seconds` (default checkpointDefault). */
  checkpoint?: CheckpointOptions;
  /**
   * Called synchronously right after a flush_history entry at `seq` is applied and queued for the journal: the
   * ledger's state is then exactly the state after `seq`, with an empty history buffer (a checkpoint captures it
   * now, before any other step runs). `durable` resolves once the entry and its run blocks are fsync'd, and
   * rejects if that commit failed (the loop has stopped then): write the checkpoint only after it.
   */
  onHistoryFlushed?: (seq: number, durable: Promise<void>) => void;
  /** Replicated mode: where the shard stands with its stream, JSON (ShardControl.replicationStatus); absent: embedded. */
  replicationStatus?: () => string;
}

/** What the loop needs of the day book (shards/shard/day-book.ts). */
export interface ShardDays {
  cut(day: number, nowNs: bigint, follows: boolean): { entry: { seq: number; entry: Uint8Array } | null; afterDurable: () => Promise<Uint8Array> };
  query(operation: number, body: Uint8Array): Uint8Array;
  isQuery(operation: number): boolean;
}

interface Executed {
  reply: Uint8Array;
  /** Cross-shard instructions issued by the write, sent after its reply bytes once durable. */
  outbound: Uint8Array | null;
  durable: Promise<void>;
}

/** A decision for the prepared group, and how to answer the decide task that brought it. */
interface Decided {
  decision: number;
  remember: readonly RememberedFailure[];
  respond: (reply: Uint8Array) => void;
  refuse: (error: unknown) => void;
}

/** How the loop runs one kind of task (ShardLoop's handler table, keyed by task operation). */
interface TaskHandler {
  /** Refused while writes are paused: the task writes, or reads what a write may not have stored yet (closed days). */
  readonly writes: boolean;
  /** Runs once the loop is closing too (warm-up, and close itself); every other task is refused shutting_down then. */
  readonly whileClosing: boolean;
  run(body: Uint8Array): Promise<Uint8Array>;
}

/** Ledger operations that write: journaled, durable before their reply. */
const writeOperations = Object.values(Operation).filter(isWriteOperation);

/** Ledger operations that read: answered once every earlier write is durable. */
const readOperations = [Operation.lookup_accounts, Operation.lookup_transfers, Operation.get_account_transfers, Operation.lookup_ledger_accounts, Operation.query_transfers, Operation.query_accounts] as const;

/** A (peer, pair sequence) mark in transit control bodies: u16 peer, 6 zero bytes, u64 sequence. */
export const peerMarkBytes = 16;

const noop = (): void => {};

/** Rebuilds `ledger` from `journal`; drops entries past a gap (they were never acknowledged). */
export async function recoverLedger(ledger: ShardLedger, journal: ShardJournal): Promise<{ replayed: number; discarded: number }> {
  const replayed = replayJournal(ledger, journal);
  const discarded = await journal.discardAfter(ledger.seqLast);
  assert(journal.seqLast === ledger.seqLast, 'journal and ledger agree on the last seq after recovery');
  return { replayed, discarded };
}

/**
 * Rebuilds `ledger` from `journal` up to the first gap, reading only. Entries past a gap (never acknowledged)
 * stay on disk: `journal.discardAfter(ledger.seqLast)` must remove them before the next append.
 */
export function replayJournal(ledger: ShardLedger, journal: ShardJournal): number {
  const seqFirst = ledger.seqLast + 1;
  for (const [seq, entry] of journal.entries(seqFirst)) {
    ledger.replay(seq, entry);
    // A flush's runs were stored with it; restoreRuns checks them and writes any that are missing.
    const runs = ledger.takeFlushedRuns();
    if (runs !== null) journal.restoreRuns(runs);
  }
  return ledger.seqLast - seqFirst + 1;
}

/** Nanoseconds since the epoch from a monotonic clock anchored once to Date.now(). */
export function anchoredClockNs(): () => bigint {
  const anchorNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => anchorNs + process.hrtime.bigint();
}

export class ShardLoop {
  readonly #ledger: ShardLedger;
  readonly #journal: ShardJournal;
  /** The rest of what the loop was built with: its shard, clock, day book and hooks. */
  readonly #options: ShardLoopOptions;
  /** Task operation → how it runs (day-book queries aside: #handlerOf asks the day book for those). */
  readonly #handlers: ReadonlyMap<number, TaskHandler>;
  /** Set once; every later task rejects with it. */
  #failure: ShardTaskError | null = null;
  /** While set, every task that would write rejects with it before it runs (see pauseWrites). */
  #writesPaused: ShardTaskError | null = null;
  /** A follower's loop (follow): writes refused for good, entries come from the primary's stream. */
  #following = false;
  /** Called once, by the first append durable after resumeWrites. */
  #onFirstDurable: (() => void) | null = null;
  #closing: Promise<void> | null = null;
  /** Settles after the last step queued behind a read. */
  #turn: Promise<void> = Promise.resolve();
  #turnsWaiting = 0;
  #ticker: ReturnType<typeof setInterval> | null = null;
  #hotTicker: ReturnType<typeof setInterval> | null = null;
  #flushTicker: ReturnType<typeof setInterval> | null = null;
  /** Journal entries appended since the last flush_history entry (or since the loop began). */
  #entriesSinceFlush = 0;
  /** performance.now() at the last flush_history entry (the count trigger keeps checkpoint.countGapMs after it). */
  #flushedAtMs = performance.now();
  /** A timed flush waits for the turn: the next tick need not queue another. */
  #flushQueued = false;
  /** A hot-inbound summary step waits for the turn: the next tick need not queue another. */
  #hotQueued = false;
  readonly #hotDelays = new DelaySamples();
  /** The prepared group whose step holds the turn, waiting for its decide task. */
  #decision: { group: bigint; resolve: (decided: Decided) => void } | null = null;
  /** Called when a step starts holding the turn for a decision (close stops waiting for the turn then). */
  #onHeld: (() => void) | null = null;
  /** Ends the snapshot barrier's hold of the turn (ShardControl.holdTurn), when one holds it. */
  #releaseHold: (() => void) | null = null;

  constructor(options: ShardLoopOptions) {
    this.#ledger = options.ledger;
    this.#journal = options.journal;
    this.#options = options;
    this.#handlers = this.#taskHandlers();
    assert(this.#journal.seqLast >= 0 && Number.isInteger(options.shardIndex) && options.shardIndex >= 0, 'a loop serves one shard over its journal');
  }

  /** Starts the expiry and hot-inbound tickers (unref'd: they never keep the thread alive by themselves). */
  start(): void {
    assert(this.#ticker === null, 'shard loop started once');
    this.#ticker = setInterval(() => this.tick(), expiryTickMs);
    this.#ticker.unref();
    this.#hotTicker = setInterval(() => this.hotTick(), this.#hot.applyIntervalMs);
    this.#hotTicker.unref();
    this.#flushTicker = setInterval(() => this.flushTick(), this.#checkpoint.seconds * 1000);
    this.#flushTicker.unref();
  }

  get #checkpoint(): CheckpointOptions {
    return this.#options.checkpoint ?? checkpointDefault;
  }

  /**
   * The timed flush: when entries were written since the last flush_history entry, writes one now, or, behind
   * waiting reads, queues it once. The count trigger (every checkpoint.entries entries) runs in #persist.
   */
  flushTick(): void {
    if (this.#failure !== null || this.#closing !== null || this.#writesPaused !== null || this.#flushQueued || this.#entriesSinceFlush === 0) return;
    if (this.#turnsWaiting === 0) return this.#flushHistory();
    this.#flushQueued = true;
    this.#queueStep(() => {
      this.#flushQueued = false;
      this.#flushHistory();
    }).catch((error: unknown) => this.#toTaskError(error));
  }

  /**
   * Writes a flush_history entry now (between two entries: callers hold the turn or run synchronously right
   * after an append). Skipped while a vote awaits its decision (the entry after the decision tries again).
   */
  #flushHistory(): void {
    if (this.#failure !== null || this.#closing !== null || this.#writesPaused !== null) return;
    try {
      const flushed = this.#ledger.flushHistory(this.#options.nowNs());
      if (flushed === null) return;
      assert(flushed.seq === this.#ledger.seqLast, 'the flush is the ledger\'s last entry');
      this.#entriesSinceFlush = 0;
      this.#flushedAtMs = performance.now();
      const durable = this.#journal.appendFlush(flushed.seq, flushed.entry, flushed.runs);
      this.#watchDurable(durable);
      this.#options.onHistoryFlushed?.(flushed.seq, durable);
    } catch (error) {
      this.#toTaskError(error);
    }
  }

  get #hot(): HotInboundOptions {
    return this.#options.hotInbound ?? hotInboundDefault;
  }

  /**
   * A journal that ended with a vote on cross-shard chains (a crash between prepare and decision): hold
   * the turn before any task runs, until the coordinator's decide task arrives. Call before serving.
   */
  holdForDecision(): void {
    const group = this.#ledger.chainGroupInDoubt;
    if (group === null) return;
    const decided = this.#awaitDecision(group);
    void this.#queueStep(async () => this.#applyDecision(await decided));
  }

  /** Runs one task. Rejects with a ShardTaskError (plain data, safe to post). */
  run(task: ShardTask): Promise<Uint8Array> {
    return this.#dispatch(task).catch((error: unknown) => {
      throw this.#toTaskError(error);
    });
  }

  /**
   * Refuses, from now on, every task that would write (writes, inbound credits, votes and decisions on
   * cross-shard chains, day cuts) and closed-day queries (a closed day's balances may not be stored yet),
   * with `error`, before it touches memory; tickers skip. Reads go on. For a store that does not take
   * writes yet: nothing is applied that could not be journaled, so memory stays equal to the disk.
   */
  pauseWrites(error: TallyError): void {
    this.#writesPaused = toShardTaskError(error);
  }

  /** Takes writes again; `onFirstDurable` runs once the first append after this is durable. */
  resumeWrites(onFirstDurable: () => void = noop): void {
    if (this.#following) return; // a follower never takes writes
    this.#writesPaused = null;
    this.#onFirstDurable = onFirstDurable;
  }

  get writesPaused(): boolean {
    return this.#writesPaused !== null;
  }

  /**
   * A follower's loop (issue #15): refuses every write with `error` (not_primary) for good, runs no ticker of its own,
   * and takes its entries from the primary's stream (applyFollowed). Closed-day queries are answered: the days a
   * followed cut closes are stored as they come.
   */
  follow(error: TallyError): void {
    this.#following = true;
    this.pauseWrites(error);
  }

  /**
   * A follower's step: an entry the primary journaled, applied as a restart replays it (its stored results must
   * come out again) and stored in the local journal, in arrival order like a write. Resolves once durable here.
   */
  applyFollowed(seq: number, entry: Uint8Array): Promise<void> {
    assert(this.#following, 'only a follower applies entries from a stream');
    const step = (): Promise<void> => {
      if (this.#failure !== null) throw this.#failure;
      if (this.#closing !== null) throw errors.shuttingDown();
      this.#ledger.replay(seq, entry);
      const runs = this.#ledger.takeFlushedRuns();
      const durable = runs === null ? this.#journal.append(seq, entry) : this.#journal.appendFlush(seq, entry, runs);
      this.#watchDurable(durable);
      if (runs !== null) this.#options.onHistoryFlushed?.(seq, durable);
      return durable;
    };
    let applied: Promise<void>;
    try {
      applied = this.#turnsWaiting === 0 ? step() : this.#queueStep(step);
    } catch (error) {
      applied = Promise.reject(error);
    }
    return applied.catch((error: unknown) => {
      throw this.#toTaskError(error);
    });
  }

  /** True once the loop failed or began closing: it runs nothing new. */
  get stopped(): boolean {
    return this.#failure !== null || this.#closing !== null;
  }

  /** Journals the expiry of every pending transfer that is due (skipped while reads hold the turn). */
  tick(): void {
    if (this.#failure !== null || this.#closing !== null || this.#writesPaused !== null || this.#turnsWaiting > 0) return;
    try {
      const due = this.#ledger.expireDue(this.#options.nowNs());
      if (due !== null) void this.#persist(due.seq, due.entry).catch(noop);
    } catch (error) {
      this.#toTaskError(error);
    }
  }

  /**
   * Journals the hot-inbound summary postings that are due. Unlike expiry it never skips a turn (a
   * buffered credit's wait is bounded): behind waiting reads it queues, once.
   */
  hotTick(): void {
    if (this.#failure !== null || this.#closing !== null || this.#writesPaused !== null || this.#hotQueued) return;
    const step = (): void => {
      this.#hotQueued = false;
      if (this.#failure !== null || this.#closing !== null || this.#writesPaused !== null) return;
      const { autoMarkCreditsPerSecond, unmarkQuietSeconds } = this.#hot;
      const due = this.#ledger.applyHotInbound(this.#options.nowNs(), { autoMarkCreditsPerSecond, unmarkQuietSeconds });
      if (due !== null) void this.#persist(due.seq, due.entry).then(() => this.#recordHotDelays(), noop);
    };
    try {
      if (this.#turnsWaiting === 0) return step();
      this.#hotQueued = true;
      this.#queueStep(step).catch((error: unknown) => this.#toTaskError(error));
    } catch (error) {
      this.#toTaskError(error);
    }
  }

  /** Once the summary is durable, the waits of the credits it applied count (each credit one sample). */
  #recordHotDelays(): void {
    for (const delayNs of this.#ledger.takeHotDelaysNs()) this.#hotDelays.add(delayNs / 1e6, 1);
  }

  #hotInboundStatus(): Uint8Array {
    const { accounts, creditsBuffered, creditsBufferedCount } = this.#ledger.hotInboundStatus();
    const delays = this.#hotDelays;
    const status: HotInboundShardStatus = {
      accounts,
      creditsBuffered: creditsBuffered.toString(),
      creditsBufferedCount,
      creditsApplied: delays.delivered,
      delayMsP50: delays.percentile(50),
      delayMsP99: delays.percentile(99),
      delayMsMax: delays.maxMs,
    };
    return new TextEncoder().encode(JSON.stringify(status));
  }

  /** Stops the loop for good (no task runs after it) and calls onFatal once. */
  fail(error: unknown): void {
    if (this.#failure !== null) return;
    const answeredAsIs = error instanceof TallyError && (error.code === 'storage_failed' || error.code === 'not_primary');
    const cause = answeredAsIs ? error : errors.shardUnavailable(this.#options.shardIndex, `stopped: ${describe(error)}`);
    this.#failure = toShardTaskError(cause);
    this.#options.onFatal(error);
  }

  /** Waits for queued steps and appends, then closes the journal. Later tasks reject shutting_down. */
  close(): Promise<void> {
    this.#closing ??= this.#drainAndClose();
    return this.#closing;
  }

  async #dispatch(task: ShardTask): Promise<Uint8Array> {
    if (this.#failure !== null) throw this.#failure;
    const handler = this.#handlerOf(task.operation);
    if (this.#closing !== null && handler?.whileClosing !== true) throw errors.shuttingDown();
    if (handler === undefined) throw errors.operationUnknown(task.operation);
    if (this.#writesPaused !== null && handler.writes) throw this.#writesPaused;
    return handler.run(task.body);
  }

  /** The table's handler, or the day book's query of that number, or undefined: the operation is unknown. */
  #handlerOf(operation: number): TaskHandler | undefined {
    const handler = this.#handlers.get(operation);
    if (handler !== undefined) return handler;
    const days = this.#options.days;
    if (days === undefined || !days.isQuery(operation)) return undefined;
    // A closed day's balances may not be stored yet while writes are paused: counted as a write then (a follower
    // stores each followed cut's days as it comes, so it answers them).
    return { writes: !this.#following, whileClosing: false, run: (body) => this.#read(() => days.query(operation, body)) };
  }

  /**
   * How each task runs: writes (and inbound credits, slice openings) in arrival order and answered once
   * durable; reads once every earlier write is durable; votes and snapshot holds keep the turn; decisions,
   * releases, acknowledgements and status probes never wait for it. `writes`: refused while writes are paused.
   */
  #taskHandlers(): ReadonlyMap<number, TaskHandler> {
    const writes = (run: TaskHandler['run']): TaskHandler => ({ writes: true, whileClosing: false, run });
    const other = (run: TaskHandler['run']): TaskHandler => ({ writes: false, whileClosing: false, run });
    const whileClosing = (run: TaskHandler['run']): TaskHandler => ({ writes: false, whileClosing: true, run });
    const entries: [number, TaskHandler][] = [
      [ShardControl.warmUp, whileClosing(async () => new Uint8Array(0))],
      [ShardControl.close, whileClosing(() => this.close().then(() => new Uint8Array(0)))],
      ...writeOperations.map((operation): [number, TaskHandler] => [operation, writes((body) => this.#write(() => this.#execute(operation, body)))]),
      [ShardControl.applyInbound, writes((body) => this.#write(() => this.#applyInbound(body)))],
      [ShardControl.openSlices, writes((body) => this.#write(() => this.#execute(Operation.create_accounts, body, JournalEntryFlags.opensSlices)))],
      ...readOperations.map((operation): [number, TaskHandler] => [operation, other((body) => this.#read(() => this.#ledger.query(operation, body)))]),
      [ShardControl.fetchOutbox, other((body) => this.#read(() => this.#fetchOutbox(body)))],
      [ShardControl.transitStatus, other(() => this.#read(() => new Uint8Array(this.#ledger.transitStatus().buffer)))],
      [ShardControl.acknowledgeOutbox, other((body) => this.#acknowledgeOutbox(body))],
      [ShardControl.prepareChains, writes((body) => this.#prepareChains(body))],
      [ShardControl.decideChains, writes((body) => this.#decideChains(body))],
      [ShardControl.chainInDoubt, other(() => this.#chainInDoubt())],
      [ShardControl.hotInboundStatus, other(async () => this.#hotInboundStatus())],
      [ShardControl.hotOutboundIds, other(() => this.#read(() => this.#ledger.hotOutboundIds()))],
      [ShardControl.directoryEntries, other(() => this.#read(() => this.#ledger.directoryEntries()))],
      [ShardControl.transferIdsTaken, other(async (body) => this.#ledger.transferIdsTaken(body))],
      [ShardControl.eventVerdicts, other(async (body) => this.#ledger.eventVerdicts(body))],
      [ShardControl.operationIdsTaken, other(async (body) => this.#ledger.operationIdsTaken(body))],
      [ShardControl.holdTurn, other(() => this.#holdTurn())],
      [ShardControl.releaseTurn, other(async () => this.#releaseTurn())],
      [ShardControl.cutDay, writes((body) => this.#cutDayTask(body))],
      [ShardControl.replicationStatus, other(async () => new TextEncoder().encode(this.#options.replicationStatus?.() ?? ''))],
    ];
    const table = new Map(entries);
    assert(table.size === entries.length, 'each task operation has one handler');
    assert(Object.values(ShardControl).every((operation) => table.has(operation)), 'every shard control task has a handler');
    return table;
  }

  /** A cutDay task: the day book's cut, when this loop keeps one. */
  #cutDayTask(body: Uint8Array): Promise<Uint8Array> {
    if (this.#options.days === undefined) throw errors.operationUnknown(ShardControl.cutDay);
    const { day, follows } = cutOfBody(body);
    return this.cutDay(day, follows);
  }

  /**
   * The day cut: one journal entry in arrival order, like a write; once it is durable the closed day's
   * balances are stored and its summary answered. Writes behind it go on (they belong to the new day).
   * `follows`: the day is the one the first shard began (ShardSet.cutDay), taken as it is.
   */
  async cutDay(day: number, follows = false): Promise<Uint8Array> {
    const days = this.#options.days;
    assert(days !== undefined, 'a cut needs the day book');
    const step = (): Executed & { finish: () => Promise<Uint8Array> } => {
      if (this.#failure !== null) throw this.#failure;
      const plan = days.cut(day, this.#options.nowNs(), follows);
      const durable = plan.entry === null ? this.#journal.durable() : this.#persist(plan.entry.seq, plan.entry.entry);
      return { reply: new Uint8Array(0), outbound: null, durable, finish: plan.afterDurable };
    };
    const executed = this.#turnsWaiting === 0 ? step() : await this.#queueStep(step);
    await executed.durable;
    return executed.finish();
  }

  /**
   * Ordering: execute in arrival order (behind any waiting read), reply after everything up to it is fsync'd.
   * The reply is the batch's results followed by the cross-shard instructions it issued: those may leave
   * this shard only now, because a credit must never be applied for a debit a crash could take back.
   */
  async #write(step: () => Executed): Promise<Uint8Array> {
    const executed = this.#turnsWaiting === 0 ? step() : await this.#queueStep(step);
    await executed.durable;
    return executed.outbound === null ? executed.reply : concat(executed.reply, executed.outbound);
  }

  /** Ordering: a read holds the turn until every earlier write is durable, so it shows only state on disk. */
  #read(answer: () => Uint8Array): Promise<Uint8Array> {
    return this.#queueStep(async () => {
      await this.#journal.durable();
      if (this.#failure !== null) throw this.#failure;
      return answer();
    });
  }

  #execute(operation: number, body: Uint8Array, flags = 0): Executed {
    if (this.#failure !== null) throw this.#failure;
    const { seq, entry, reply, outbound } = this.#ledger.execute(operation, body, this.#options.nowNs(), flags);
    assert(reply.byteLength === (body.byteLength / eventBytes) * resultBytes, 'a write reply holds one result per event');
    assert(seq === this.#ledger.seqLast, 'the executed batch is the ledger\'s last');
    return { reply, outbound, durable: this.#persist(seq, entry) };
  }

  /** Duplicates and gaps journal nothing, yet their answer must still reflect only durable state. */
  #applyInbound(body: Uint8Array): Executed {
    if (this.#failure !== null) throw this.#failure;
    const { applied, statuses, outbound } = this.#ledger.applyInbound(body, this.#options.nowNs());
    const durable = applied === null ? this.#journal.durable() : this.#persist(applied.seq, applied.entry);
    return { reply: statuses, outbound, durable };
  }

  /**
   * The vote, in arrival order like a write: dry run, prepare entry, reply once it is durable — and the
   * step keeps the turn until the decision, so nothing (writes, reads, expiry, cuts, inbound credits)
   * changes or shows the state between the vote and its commit.
   */
  #prepareChains(body: Uint8Array): Promise<Uint8Array> {
    const request = decodePrepare(body);
    if (request === undefined) throw errors.bodyInvalid('a prepare is a 16-byte head, whole events and one chain-end byte each (the last 1)');
    return new Promise<Uint8Array>((reply, refuse) => {
      const step = async (): Promise<void> => {
        if (this.#failure !== null) throw this.#failure;
        const prepared = this.#ledger.prepareChains(request, this.#options.nowNs());
        const decided = this.#awaitDecision(request.group); // before the reply: the decide task may come at once
        await this.#persist(prepared.seq, prepared.entry);
        reply(prepared.results);
        this.#applyDecision(await decided);
      };
      this.#queueStep(step).catch(refuse);
    });
  }

  /** Hands the decision to the step holding the turn. Never queued: that step is what it unblocks. */
  #decideChains(body: Uint8Array): Promise<Uint8Array> {
    const decide = decodeDecide(body);
    if (decide === undefined) throw errors.bodyInvalid('a decision is a u64 group, a u8 decision (1 commit, 2 abort) and, for an abort, positions to remember');
    if (this.#failure !== null) throw this.#failure;
    const waiting = this.#decision;
    if (waiting === null || waiting.group !== decide.group) return Promise.resolve(statusReply(DecideStatus.notInDoubt));
    this.#decision = null;
    return new Promise<Uint8Array>((respond, refuse) => waiting.resolve({ decision: decide.decision, remember: decide.remember, respond, refuse }));
  }

  #chainInDoubt(): Promise<Uint8Array> {
    const group = this.#ledger.chainGroupInDoubt;
    if (group === null) return Promise.resolve(new Uint8Array(0));
    const reply = new Uint8Array(8);
    new DataView(reply.buffer).setBigUint64(0, group, true);
    return Promise.resolve(reply);
  }

  #awaitDecision(group: bigint): Promise<Decided> {
    assert(this.#decision === null, 'one prepared group waits at a time');
    const decided = new Promise<Decided>((resolve) => (this.#decision = { group, resolve }));
    this.#onHeld?.();
    return decided;
  }

  /** Journals the decision; the turn passes on at once (later entries follow it), the answer once it is durable. */
  #applyDecision({ decision, remember, respond, refuse }: Decided): void {
    try {
      if (decision === ChainDecision.commit) {
        const { seq, entry, reply, outbound } = this.#ledger.commitPrepared(this.#options.nowNs());
        const answer = concat(statusReply(DecideStatus.decided), outbound === null ? reply : concat(reply, outbound));
        this.#persist(seq, entry).then(() => respond(answer), refuse);
      } else {
        const { seq, entry } = this.#ledger.abortPrepared(this.#options.nowNs(), remember);
        this.#persist(seq, entry).then(() => respond(statusReply(DecideStatus.decided)), refuse);
      }
    } catch (error) {
      refuse(error);
      throw error;
    }
  }

  /**
   * The snapshot barrier: in arrival order, once everything before it is durable, answer the last seq and
   * keep the turn, so the journal stands still until releaseTurn. Bounded by snapshotHoldMsMax: a barrier
   * whose coordinator is gone must not stop the shard for good.
   */
  #holdTurn(): Promise<Uint8Array> {
    return new Promise<Uint8Array>((reply, refuse) => {
      const step = async (): Promise<void> => {
        await this.#journal.durable();
        if (this.#failure !== null) throw this.#failure;
        assert(this.#releaseHold === null, 'one snapshot barrier holds a shard at a time');
        const released = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, snapshotHoldMsMax);
          this.#releaseHold = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        const seqReply = new Uint8Array(8);
        new DataView(seqReply.buffer).setBigUint64(0, BigInt(this.#ledger.seqLast), true);
        assert(this.#journal.seqLast === this.#ledger.seqLast, 'a held shard has journaled everything it applied');
        reply(seqReply);
        await released;
        this.#releaseHold = null;
      };
      this.#queueStep(step).catch(refuse);
    });
  }

  #releaseTurn(): Uint8Array {
    this.#releaseHold?.();
    return new Uint8Array(0);
  }

  #fetchOutbox(body: Uint8Array): Uint8Array {
    if (body.byteLength !== peerMarkBytes) throw errors.bodyInvalid(`fetch outbox takes one ${peerMarkBytes}-byte peer mark`);
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    return this.#ledger.outboxAfter(view.getUint16(0, true), Number(view.getBigUint64(8, true)));
  }

  /** Acknowledgements only let the outbox forget: no ordering with writes is needed. */
  async #acknowledgeOutbox(body: Uint8Array): Promise<Uint8Array> {
    if (body.byteLength % peerMarkBytes !== 0) throw errors.bodyInvalid(`acknowledgements are ${peerMarkBytes}-byte peer marks`);
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let at = 0; at < body.byteLength; at += peerMarkBytes) {
      const peer = view.getUint16(at, true);
      const pairSeq = Number(view.getBigUint64(at + 8, true));
      this.#ledger.acknowledgeOutbox(peer, pairSeq);
      this.#options.onOutboxAcknowledged?.(peer, pairSeq);
    }
    return new Uint8Array(0);
  }

  /**
   * Appends the entry just applied; every checkpoint.entries entries a flush_history entry follows at once, once
   * checkpoint.countGapMs have passed since the last one (or checkpointEntriesForced entries, whichever comes first).
   */
  #persist(seq: number, entry: Uint8Array): Promise<void> {
    const durable = this.#journal.append(seq, entry);
    this.#watchDurable(durable);
    const checkpoint = this.#checkpoint;
    const count = ++this.#entriesSinceFlush;
    if (count >= checkpoint.entries && (count >= checkpointEntriesForced || performance.now() - this.#flushedAtMs >= (checkpoint.countGapMs ?? 0))) this.#flushHistory();
    return durable;
  }

  #watchDurable(durable: Promise<void>): void {
    durable.catch((error: unknown) => this.#toTaskError(error));
    const onFirstDurable = this.#onFirstDurable;
    if (onFirstDurable !== null) {
      this.#onFirstDurable = null;
      durable.then(onFirstDurable, noop);
    }
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
    if (this.#hotTicker !== null) clearInterval(this.#hotTicker);
    if (this.#flushTicker !== null) clearInterval(this.#flushTicker);
    // A vote awaiting its decision holds the turn for good: it stays in doubt on disk, the next start decides it.
    const held = new Promise<void>((resolve) => (this.#onHeld = resolve));
    if (this.#decision !== null) this.#onHeld!();
    this.#releaseHold?.(); // a snapshot barrier ends with the shard
    await Promise.race([this.#turn, held]);
    await this.#journal.durable().catch(noop);
    await this.#journal.close();
  }

  /**
   * Classifies an error into what the task rejects with. Operating errors about the request pass through;
   * storage failures and anything unexpected (assertions included) stop the loop for good.
   */
  #toTaskError(error: unknown): ShardTaskError {
    if (isShardTaskError(error)) return error;
    // storage_failed: memory is ahead of disk; not_primary: ahead of the stream another node now writes. Both end the loop.
    if (error instanceof TallyError && error.code !== 'storage_failed' && error.code !== 'not_primary') return toShardTaskError(error);
    this.fail(error);
    assert(this.#failure !== null, 'a failed loop holds its failure');
    return this.#failure;
  }
}

/**
 * The cut a task names: u32 yyyymmdd, or 0 (or an empty body) for the next day; then optionally u32 flags
 * (CutFlags.follows: the day another shard began, taken as it is).
 */
function cutOfBody(body: Uint8Array): { day: number; follows: boolean } {
  if (body.byteLength === 0) return { day: 0, follows: false };
  if (body.byteLength !== 4 && body.byteLength !== 8) throw errors.bodyInvalid(`a day cut takes a 4-byte day and optional 4-byte flags, got ${body.byteLength} bytes`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const flags = body.byteLength === 8 ? view.getUint32(4, true) : 0;
  if ((flags & ~CutFlags.follows) !== 0) throw errors.bodyInvalid(`a day cut's flags are ${CutFlags.follows} (follows) or 0, got ${flags}`);
  return { day: view.getUint32(0, true), follows: (flags & CutFlags.follows) !== 0 };
}

function statusReply(status: number): Uint8Array {
  const reply = new Uint8Array(4);
  new DataView(reply.buffer).setUint32(0, status, true);
  return reply;
}

function concat(head: Uint8Array, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.byteLength + tail.byteLength);
  out.set(head, 0);
  out.set(tail, head.byteLength);
  return out;
}

function describe(error: unknown): string {
  if (error instanceof AssertionError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
