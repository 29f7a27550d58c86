// Piscina entry of the bookkeeping worker (thin): opens its store and every shard's journal for reading,
// resumes from its stored books (or rebuilds them from the journals once), then follows the journals and answers tasks. A failed
// voucher commit ends the thread (its memory would be ahead of its store); a fresh one rebuilds.

import { readFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { defaultChart, parseChart, type ChartOfAccounts } from '../../core/books/chart-of-accounts.js';
import { Bookkeeper, type JournalReader } from './bookkeeper.js';
import { BookkeepingStore } from './bookkeeping-store.js';
import type { BookkeepingTask, BookkeepingWorkerData } from './bookkeeping-messages.js';
import { JournalStore } from '../shard/journal-store.js';

const data = workerData as BookkeepingWorkerData;
const log = (line: string): void => console.error(line);

process.on('unhandledRejection', (reason: unknown) => {
  log(JSON.stringify({ level: 'error', msg: 'bookkeeping worker stopping; it rebuilds from its store', error: String(reason) }));
  setTimeout(() => process.exit(1), 50);
});

interface Running {
  bookkeeper: Bookkeeper;
  /** Stops booking, waits for its writes, closes every store: after it the thread may end safely. */
  stop(): Promise<void>;
}

const ready = start();
ready.catch(() => {});

async function start(): Promise<Running> {
  const chart = loadChart(data.chartPath);
  const store = BookkeepingStore.open(data.dataDir);
  const journals = Array.from({ length: data.shardCount }, (_, shardIndex) => JournalStore.open({ dataDir: data.dataDir, shardIndex, shardCount: data.shardCount }));
  // The bookkeeper books each entry before it reads the next: it may read them in place (entryViews).
  const readers = journals.map((journal): JournalReader => ({
    entries: (fromSeq) => journal.entryViews(fromSeq),
    entry: (seq) => journal.entry(seq),
    lastCommittedSeq: () => journal.lastCommittedSeq(),
  }));
  const bookkeeper = new Bookkeeper(chart, store, readers, log);
  await bookkeeper.start();
  // Ending a thread while lmdb-js has a write under way aborts the whole process (a fatal napi_throw
  // in its native module), so the host ends this thread only after stop() closed everything.
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await bookkeeper.stop();
      await Promise.all([store.close(), ...journals.map((journal) => journal.close())]);
    })());
  return { bookkeeper, stop };
}

function loadChart(path: string | null): ChartOfAccounts {
  if (path === null) return defaultChart();
  return parseChart(JSON.parse(readFileSync(path, 'utf8')) as unknown);
}

export default async function handleBookkeepingTask(task: BookkeepingTask): Promise<unknown> {
  const { bookkeeper, stop } = await ready;
  switch (task.kind) {
    case 'ready':
      return null;
    case 'status':
      await bookkeeper.poll();
      return bookkeeper.status();
    case 'subjectBalances':
      await bookkeeper.poll();
      return bookkeeper.subjectBalances(task.ledger, task.day);
    case 'trialBalance':
      await bookkeeper.poll();
      return bookkeeper.trialBalance(task.ledger, task.day);
    case 'ledgers':
      await bookkeeper.poll();
      return bookkeeper.ledgers();
    case 'dayReport':
      return bookkeeper.dayReport(task.closes, task.inFlight);
    case 'report':
      return bookkeeper.report(task.day) ?? null;
    case 'stop':
      await stop();
      return null;
  }
}
