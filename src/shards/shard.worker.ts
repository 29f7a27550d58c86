// Piscina entry of one shard worker (thin): opens the shard's journal, rebuilds its Ledger by replay,
// then hands every task to a ShardLoop. No task is served before replay ends. After a fatal error the
// thread exits, and the host's pool starts a fresh one, which replays the journal again.

import { workerData } from 'node:worker_threads';
import { move } from 'piscina';
import { TallyError, errors } from '../core/errors.js';
import { Ledger } from '../core/ledger.js';
import { transferIdsExpected } from '../core/limits.js';
import { BusinessCalendar, parseDayCutSchedule } from '../core/business-day.js';
import { obeyCrashOrders } from './crash-orders.js';
import { DayBook } from './day-book.js';
import { JournalStore } from './journal-store.js';
import { ShardLoop, anchoredClockNs, recoverLedger } from './shard-loop.js';
import { toShardTaskError, type ShardTask, type ShardTaskError, type ShardWorkerData } from './shard-messages.js';

/**
 * Time between a fatal error and the thread's end. The failed loop refuses every task meanwhile; the
 * delay lets the main thread receive the rejections already posted before piscina sees the exit.
 */
const fatalExitDelayMs = 50;

/** A start that failed (bad store, replay assertion) is retried by a later task, at most this often. */
const startRetryMs = 1000;

const data = workerData as ShardWorkerData;
let exiting = false;
let loopStarted: ShardLoop | null = null;
let starting: Promise<ShardLoop> | null = null;

// When a commit fails, lmdb-js also rejects internal promises nobody awaits. By default that would end
// the thread at once, before the failed tasks are answered; instead any unhandled rejection stops the
// loop (no task runs after it), then the thread: an unexpected rejection may mean corrupt memory.
process.on('unhandledRejection', (reason: unknown) => {
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

async function start({ dataDir, shardIndex, shardCount, dayCut, hotInbound }: ShardWorkerData): Promise<ShardLoop> {
  const store = JournalStore.open({ dataDir, shardIndex, shardCount });
  try {
    const outboxAcknowledged = store.outboxAcknowledged(shardCount);
    const ledger = new Ledger({ shardIndex, shardCount, journal: store, transferIdsExpected, outboxAcknowledged });
    const { discarded } = await recoverLedger(ledger, store);
    if (discarded > 0) console.error(`tally shard ${shardIndex}: dropped ${discarded} unacknowledged journal entries past a gap`);
    const onFatal = (error: unknown): void => exitSoon(shardIndex, error);
    const onOutboxAcknowledged = (peer: number, pairSeq: number): void => store.recordOutboxAcknowledged(peer, pairSeq);
    const days = new DayBook(ledger, store, new BusinessCalendar(parseDayCutSchedule(dayCut.cutTime, dayCut.timeZone)));
    await days.recover();
    const nowNs = anchoredClockNs();
    const loop = new ShardLoop({ shardIndex, ledger, journal: store, nowNs, onFatal, onOutboxAcknowledged, days, hotInbound });
    // A new store opens its first business day before serving.
    const openingDay = days.openingDay(nowNs());
    if (openingDay !== null) await loop.cutDay(openingDay);
    loop.holdForDecision(); // a vote on cross-shard chains with no decision after it: nothing runs before one
    loop.start();
    loopStarted = loop;
    return loop;
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}

/** process.exit() inside a worker thread ends only the thread; piscina then starts a fresh one. */
function exitSoon(shardIndex: number, error: unknown): void {
  if (exiting) return;
  exiting = true;
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
