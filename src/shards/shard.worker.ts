// Piscina entry of one shard worker (thin): opens the shard's journal, rebuilds its Ledger by replay,
// then hands every task to a ShardLoop. No task is served before replay ends. On a fatal error the
// thread exits, and the host's pool starts a fresh one, which replays the journal again.

import { workerData } from 'node:worker_threads';
import { move } from 'piscina';
import { TallyError, errors } from '../core/errors.js';
import { Ledger } from '../core/ledger.js';
import { JournalStore } from './journal-store.js';
import { ShardLoop, anchoredClockNs, recoverLedger } from './shard-loop.js';
import { toShardTaskError, type ShardTask, type ShardTaskError, type ShardWorkerData } from './shard-messages.js';

const data = workerData as ShardWorkerData;
let exitScheduled = false;
let loopStarted: ShardLoop | null = null;
// When a commit fails, lmdb-js also rejects internal promises nobody awaits. By default that would end
// the thread at once, before the failed tasks are answered; instead any unhandled rejection stops the
// loop (no task runs after it) and the worker exits in order: an unexpected rejection may mean corrupt memory.
process.on('unhandledRejection', (reason: unknown) => {
  if (loopStarted === null) stop(data.shardIndex, reason);
  else loopStarted.fail(reason);
});
const started = start(data);
started.catch(() => {}); // handled by the first task that arrives (see startFailure)

async function start({ dataDir, shardIndex, shardCount }: ShardWorkerData): Promise<ShardLoop> {
  const store = JournalStore.open({ dataDir, shardIndex, shardCount });
  try {
    const ledger = new Ledger({ shardIndex, shardCount, journal: store });
    const { discarded } = await recoverLedger(ledger, store);
    if (discarded > 0) console.error(`tally shard ${shardIndex}: dropped ${discarded} unacknowledged journal entries past a gap`);
    const onFatal = (error: unknown): void => stop(shardIndex, error);
    const loop = new ShardLoop({ shardIndex, ledger, journal: store, nowNs: anchoredClockNs(), onFatal });
    loop.start();
    loopStarted = loop;
    return loop;
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}

/**
 * Ends this thread after the current turn, so that the rejections already settled are posted first.
 * process.exit() inside a worker thread ends only the thread; piscina then replaces it.
 */
function stop(shardIndex: number, error: unknown): void {
  if (exitScheduled) return;
  exitScheduled = true;
  console.error(`tally shard ${shardIndex}: worker stopping, it restarts from its journal:`, error);
  setImmediate(() => process.exit(1));
}

/** A start that failed answers the task that found out, then ends the thread; the next task tries afresh. */
function startFailure(error: unknown): ShardTaskError {
  stop(data.shardIndex, error);
  if (error instanceof TallyError) return toShardTaskError(error);
  const why = error instanceof Error ? error.message : String(error);
  return toShardTaskError(errors.shardUnavailable(data.shardIndex, `could not start: ${why}`));
}

export default async function handleShardTask(task: ShardTask): Promise<Uint8Array> {
  const loop = await started.catch((error: unknown) => {
    throw startFailure(error);
  });
  const reply = await loop.run(task);
  // Hand the reply's memory to the main thread instead of copying it. Ledger replies are fresh
  // buffers; a view into a larger buffer is compacted first so that nothing else is detached.
  if (reply.byteLength === 0) return reply;
  const whole = reply.byteOffset === 0 && reply.byteLength === reply.buffer.byteLength;
  return move(whole ? reply : reply.slice()) as Uint8Array;
}
