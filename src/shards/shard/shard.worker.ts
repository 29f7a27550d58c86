// Piscina entry of one shard worker (thin): opens the shard's journal, restores its newest valid checkpoint and
// replays the tail (shard-checkpoints.ts), then hands every task to a ShardLoop. No task is served before that ends. After a fatal error the
// thread exits, and the host's pool starts a fresh one, which replays the journal again. A worker that
// follows one ended by a failed commit (a full disk) answers reads at once but takes writes only once its
// store does again (storage-health.ts): writes are refused storage_failed meanwhile, never applied.

import { workerData } from 'node:worker_threads';
import { AccountDirectory } from '../../core/accounts/account-directory.js';
import { move } from 'piscina';
import { TallyError, errors, hasErrorCode } from '../../core/errors.js';
import { isCommitFailureEcho } from '../storage/commit-failures.js';
import { Ledger } from '../../core/posting/ledger.js';
import { BusinessCalendar, parseDayCutSchedule } from '../../core/business-day.js';
import { obeyCrashOrders } from './crash-orders.js';
import { DayBook } from './day-book.js';
import { JournalStore } from './journal-store.js';
import { ShardLoop, anchoredClockNs, replayJournal } from './shard-loop.js';
import { CheckpointFiles } from './checkpoint-files.js';
import { ShardCheckpoints, ledgerFromCheckpoints } from './shard-checkpoints.js';
import { toShardTaskError, type ShardTask, type ShardTaskError, type ShardWorkerData } from './shard-messages.js';
import { JournalStream } from '../replication/journal-stream.js';
import { FollowedJournal, ReplicatedJournal } from '../replication/replicated-journal.js';
import { catchUpWithStream, checkFollowerJournal } from '../replication/stream-catch-up.js';
import { StreamFollower } from '../replication/stream-follower.js';
import { JournalHeader } from '../../core/posting/journal-entry.js';
import { JournalEntryKind } from '../../core/operations.js';
import type { ShardJournal } from './shard-loop.js';
import { StorageHealth, lowSpaceError, retryWithBackoff, storageProbeBytes, storageWatchMs, type StorageHealthData } from '../storage/storage-health.js';

/**
 * Time between a fatal error and the thread's end. The failed loop refuses every task meanwhile; the
 * delay lets the main thread receive the rejections already posted before piscina sees the exit.
 */
const fatalExitDelayMs = 50;

/** A start that failed (bad store, replay assertion) is retried by a later task, at most this often. */
const startRetryMs = 1000;

const data = workerData as ShardWorkerData & Partial<StorageHealthData>;
const health = new StorageHealth(data.storageHealth);
let exiting = false;
let loopStarted: ShardLoop | null = null;
let starting: Promise<ShardLoop> | null = null;

// When a commit fails, lmdb-js also rejects its event-turn batch's own promise, which nobody can await:
// every write of that commit has its own rejection, answered where it was made, so that echo is ignored.
// Any other unhandled rejection stops the loop (no task runs after it), then the thread: an unexpected
// rejection may mean corrupt memory. (By default it would end the thread before failed tasks are answered.)
process.on('unhandledRejection', (reason: unknown) => {
  if (isCommitFailureEcho(reason)) return;
  if (loopStarted === null) exitSoon(data.shardIndex, reason);
  else loopStarted.fail(reason);
});
obeyCrashOrders(); // crash tests end this thread through it (see crash-orders.ts)
loopReady().catch(() => {}); // replay before the first task arrives; a failure is reported to that task

/** The loop, started once; after a failed start, the failure answers tasks for startRetryMs, then a task retries. */
function loopReady(): Promise<ShardLoop> {
  if (starting === null) {
    starting = start(data);
    starting.catch(() => setTimeout(() => (starting = null), startRetryMs).unref());
  }
  return starting;
}

async function start({ dataDir, shardIndex, shardCount, dayCut, hotInbound, checkpoint, idCache, directory, replication, follow }: ShardWorkerData): Promise<ShardLoop> {
  const store = JournalStore.open({ dataDir, shardIndex, shardCount });
  let stream: JournalStream | null = null;
  try {
    // Replicated mode (issue #15): the journal and the shard's stream are made level before anything is replayed.
    // A follower only checks that its journal is a prefix of the stream: the rest comes through its feed (a
    // delayed one must not take the newest entries at once).
    if (replication !== undefined) {
      stream = await JournalStream.open(replication, shardIndex);
      if (follow === undefined) await catchUpWithStream(store, stream, (line) => console.error(`tally shard ${shardIndex}: ${line}`));
      else await checkFollowerJournal(store, stream, (line) => console.error(`tally shard ${shardIndex}: ${line}`));
    }
    let follower: StreamFollower | null = null;
    const journal: ShardJournal =
      stream === null
        ? store
        : follow === undefined
          ? new ReplicatedJournal(store, stream)
          : new FollowedJournal(store, async () => {
              follower?.stop();
              await stream!.close();
            });
    const outboxAcknowledged = store.outboxAcknowledged(shardCount);
    // Old ids live in the journal's id index: the caches keep the recent ones (a full replay refills them).
    const idIndex = { source: store.idIndex, capacity: idCache };
    // Newest valid checkpoint, then the journal's tail (a damaged checkpoint is skipped: the previous one is used).
    const files = new CheckpointFiles(dataDir, shardIndex, shardCount);
    const log = (line: string): void => console.error(`tally shard ${shardIndex}: ${line}`);
    const restoreStartMs = performance.now();
    const { ledger, checkpointSeq } = ledgerFromCheckpoints(files, store, { shardIndex, shardCount, journal: store, outboxAcknowledged, idIndex, directory: new AccountDirectory(directory) }, log);
    const replayStartMs = performance.now();
    const replayed = replayJournal(ledger, store);
    // Both phases timed: what a restart costs, and where (issue #22: restart time must not grow with history).
    const restoreMs = Math.round(replayStartMs - restoreStartMs);
    const replayMs = Math.round(performance.now() - replayStartMs);
    const from = checkpointSeq > 0 ? `checkpoint ${checkpointSeq} (restored in ${restoreMs} ms)` : 'seq 1 (no checkpoint)';
    if (checkpointSeq > 0 || replayed > 0) log(`started from ${from}, replayed ${replayed} entries in ${replayMs} ms`);
    files.prune(); // a write a crash interrupted left its tmp file
    const onFatal = (error: unknown): void => exitSoon(shardIndex, error);
    const onOutboxAcknowledged = (peer: number, pairSeq: number): void => store.recordOutboxAcknowledged(peer, pairSeq);
    let loop: ShardLoop | null = null;
    const days = new DayBook(ledger, store, new BusinessCalendar(parseDayCutSchedule(dayCut.cutTime, dayCut.timeZone)), {
      shardIndex,
      lowSpace: () => lowSpaceError(store.path, `shard ${shardIndex}`),
      stopped: () => exiting || loop === null || loop.stopped,
      fail: (error) => loop?.fail(error),
      log: (line) => console.error(line),
    });
    const nowNs = anchoredClockNs();
    const checkpoints = new ShardCheckpoints({
      ledger,
      journal: store,
      files,
      // Published only once the newest closed day it follows is stored: a restart from it owes none before it.
      mayPublish: () => {
        const closed = ledger.closedDayLast;
        return closed === null || (store.isDayClosed(closed.day) && store.daySummary(closed.day) !== undefined);
      },
      log,
    });
    // A checkpoint right after each flush_history entry: the history buffer is empty then, so no node is in it.
    const onHistoryFlushed = (seq: number, durable: Promise<void>): void => checkpoints.captureAt(seq, durable);
    const replicationStatus =
      stream === null
        ? undefined
        : follow !== undefined
          ? () => JSON.stringify({ role: 'follower', stream: stream!.names.stream, ...follower?.status() })
          : () => JSON.stringify({ role: 'primary', stream: stream!.names.stream, writer: stream!.writer, seqAcknowledged: stream!.seqAcknowledged, backlog: stream!.backlog });
    loop = new ShardLoop({ shardIndex, ledger, journal, nowNs, onFatal, onOutboxAcknowledged, days, hotInbound, checkpoint, onHistoryFlushed, ...(replicationStatus === undefined ? {} : { replicationStatus }) });
    // Nothing may be applied before the writes recovery owes the store are done (entries past a gap removed
    // before the next append, a new store's first day opened). Closed days are stored too, but one whose
    // write fails is retried beside the postings (DayBook.storeOwedLater): it is derived from the journal.
    if (follow !== undefined && stream !== null) return startFollowing(shardIndex, loop, stream, store, ledger, days, follow, log, (started) => (follower = started));
    loop.pauseWrites(errors.storageFailed(`shard ${shardIndex}: its store has not taken a write since the worker started`));
    const storeWrites = recoveryWrites(shardIndex, store, ledger, days, loop, nowNs);
    if (health.failuresInARow === 0) {
      // An ordinary start: these writes succeed before the first task is served, as they always did.
      await storeWrites(false).then(() => loop.resumeWrites(), (error: unknown) => resumeWritesLater(shardIndex, loop, storeWrites, 0, error));
    } else {
      // The last worker ended on a failed commit: reads now, writes after the back-off and a probe.
      resumeWritesLater(shardIndex, loop, storeWrites, health.failuresInARow - 1, null);
    }
    watchFreeSpace(shardIndex, store.path, loop, storeWrites);
    if (stream !== null) watchStreamBacklog(shardIndex, stream, loop);
    loop.holdForDecision(); // a vote on cross-shard chains with no decision after it: nothing runs before one
    loop.start();
    loopStarted = loop;
    return loop;
  } catch (error) {
    await stream?.close().catch(() => {});
    await store.close().catch(() => {});
    throw error;
  }
}

/**
 * A follower's start (issue #15): no write of its own, ever — no opening cut, no ticker; the votes its journal ends
 * with are decided by the entries that follow them in the stream. Entries past a gap are dropped first (as any
 * start does) and closed days the replay found unstored are stored; then the feed runs.
 */
async function startFollowing(
  shardIndex: number,
  loop: ShardLoop,
  stream: JournalStream,
  store: JournalStore,
  ledger: Ledger,
  days: DayBook,
  follow: { delayMs: number; untilMs?: number },
  log: (line: string) => void,
  onFollower: (follower: StreamFollower) => void,
): Promise<ShardLoop> {
  loop.follow(errors.notPrimary(`shard ${shardIndex} of this node follows the primary's stream ${stream.names.stream}: send writes to the primary`));
  const dropped = await store.discardAfter(ledger.seqLast);
  if (dropped > 0) log(`dropped ${dropped} journal entries past a gap`);
  await days.recover();
  const apply = async (seq: number, entry: Uint8Array): Promise<void> => {
    await loop.applyFollowed(seq, entry);
    // A followed cut closed a day: its closing balances are stored as after a restart's replay.
    if (new DataView(entry.buffer, entry.byteOffset, entry.byteLength).getUint16(JournalHeader.operation, true) === JournalEntryKind.day_cut) await days.recover();
  };
  const follower = new StreamFollower(stream, apply, ledger.seqLast, follow.delayMs, follow.untilMs ?? null, log);
  onFollower(follower);
  follower.start();
  loopStarted = loop;
  return loop;
}

/**
 * While JetStream acknowledges nothing (no majority), every write is applied and waits: past the backlog's bounds
 * (backlogDefault: entries and bytes) new writes are refused `unavailable` before they run, and taken again once
 * half have gone out.
 */
function watchStreamBacklog(shardIndex: number, stream: JournalStream, loop: ShardLoop): void {
  let pausedHere = false;
  stream.onBacklog((over) => {
    if (over && !loop.writesPaused) {
      pausedHere = true;
      loop.pauseWrites(errors.unavailable(`shard ${shardIndex}: ${stream.backlog} journal entries (${Math.round(stream.backlogBytes / 1_048_576)} MiB) wait for JetStream's acknowledgement; writes resume once it answers`));
    } else if (!over && pausedHere) {
      pausedHere = false;
      loop.resumeWrites();
    }
  });
}

/**
 * The writes a replayed shard owes its store before it may append: entries past a gap removed (they were
 * never acknowledged, and the next append takes the first one's seq), a new store's first business day
 * opened, and on request a probe that the store takes writes at all. Each retry resumes where the last
 * failed. Rejects storage_failed while the disk stays full. Closed days the replay found unstored are
 * stored here too, but a failure there is left to DayBook.storeOwedLater (postings never wait for them).
 */
function recoveryWrites(shardIndex: number, store: JournalStore, ledger: Ledger, days: DayBook, loop: ShardLoop, nowNs: () => bigint): (probe: boolean) => Promise<void> {
  let discarded = false;
  return async (probe) => {
    // Before any write: below the free-space reserve LMDB is not even tried (its failing writes are what to avoid).
    const low = lowSpaceError(store.path, `shard ${shardIndex}`);
    if (low !== null) throw low;
    if (!discarded) {
      const count = await store.discardAfter(ledger.seqLast);
      if (count > 0) console.error(`tally shard ${shardIndex}: dropped ${count} unacknowledged journal entries past a gap`);
      discarded = true;
    }
    await days.recover().catch((error: unknown) => {
      if (!hasErrorCode(error, 'storage_failed')) throw error;
      days.storeOwedLater(error);
    });
    const openingDay = days.openingDay(nowNs());
    if (openingDay !== null) await loop.cutDay(openingDay);
    if (probe) await store.probe(storageProbeBytes);
  };
}

/**
 * Retries `storeWrites` (with a probe) after growing waits until they succeed, then takes writes again.
 * Meanwhile the loop answers reads, and writes with storage_failed. Not for programmer errors: those end
 * the worker as anywhere else.
 */
function resumeWritesLater(shardIndex: number, loop: ShardLoop, storeWrites: (probe: boolean) => Promise<void>, attemptsBefore: number, error: unknown): void {
  if (error !== null && !hasErrorCode(error, 'storage_failed')) throw error;
  const log = (level: string, msg: string, fields: Record<string, unknown>): void => console.error(JSON.stringify({ level, msg, shard: shardIndex, ...fields }));
  const why = error === null ? 'the previous worker ended on a failed commit' : error instanceof Error ? error.message : String(error);
  log('error', 'shard writes paused until its store takes writes again; reads go on', { error: why });
  let failures = 0;
  const resumed = retryWithBackoff(() => storeWrites(true), {
    attemptsBefore,
    onFailure: () => failures++,
    stopped: () => exiting || loop.stopped,
  });
  void resumed.then((done) => {
    if (!done || loop.stopped) return;
    loop.resumeWrites(() => health.noteDurable());
    log('info', 'shard writes resumed', { failedTries: failures });
  });
}

/**
 * Pauses writes when the disk's free space falls under its reserve (storage-health.ts), before LMDB meets
 * ENOSPC; they resume as after a failed commit, once space returns and a probe passes. Nothing is lost by
 * a pause: a refused write was never applied. (A disk filling faster than the reserve lasts still fails
 * LMDB's write, handled as any failed commit.)
 */
function watchFreeSpace(shardIndex: number, path: string, loop: ShardLoop, storeWrites: (probe: boolean) => Promise<void>): void {
  const watch = setInterval(() => {
    if (loop.stopped || exiting) return clearInterval(watch);
    if (loop.writesPaused) return;
    const low = lowSpaceError(path, `shard ${shardIndex}`);
    if (low === null) return;
    loop.pauseWrites(low);
    resumeWritesLater(shardIndex, loop, storeWrites, 0, low);
  }, storageWatchMs);
  watch.unref();
}

/** process.exit() inside a worker thread ends only the thread; piscina then starts a fresh one. */
function exitSoon(shardIndex: number, error: unknown): void {
  if (exiting) return;
  exiting = true;
  // Counted across this shard's workers: the next one backs off before it writes (storage-health.ts).
  if (hasErrorCode(error, 'storage_failed')) health.noteFailure();
  console.error(`tally shard ${shardIndex}: worker stopping, it restarts from its journal:`, error);
  setTimeout(() => process.exit(1), fatalExitDelayMs);
}

function startFailure(error: unknown): ShardTaskError {
  if (error instanceof TallyError) return toShardTaskError(error);
  const why = error instanceof Error ? error.message : String(error);
  return toShardTaskError(errors.shardUnavailable(data.shardIndex, `could not start: ${why}`));
}

export default async function handleShardTask(task: ShardTask): Promise<Uint8Array> {
  const loop = await loopReady().catch((error: unknown) => {
    throw startFailure(error);
  });
  const reply = await loop.run(task);
  // Hand the reply's memory to the main thread instead of copying it. Ledger replies are fresh
  // buffers; a view into a larger buffer is compacted first so that nothing else is detached.
  if (reply.byteLength === 0) return reply;
  const whole = reply.byteOffset === 0 && reply.byteLength === reply.buffer.byteLength;
  return move(whole ? reply : reply.slice()) as Uint8Array;
}
