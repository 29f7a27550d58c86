// Main-thread side of the bookkeeping worker: a one-thread Piscina pool. The worker follows the shards'
// journals on its own; this host only carries queries and day reports to it.

import type { TrialBalanceReply } from '../../core/books/books-replies.js';
import { Piscina } from 'piscina';
import type { ShardDayClose } from '../../core/books/day-close.js';
import type { InFlightAmount } from '../../core/books/day-report.js';
import { errors } from '../../core/errors.js';
import type { ShardLag, SubjectBalanceRow } from './bookkeeper.js';
import type { BookkeepingTask, BookkeepingWorkerData } from './bookkeeping-messages.js';
import { workerFilename } from '../shard/shard-host.js';

export class BookkeepingHost {
  readonly #pool: Piscina<BookkeepingTask, unknown>;
  #closed: Promise<void> | null = null;

  constructor(workerData: BookkeepingWorkerData) {
    this.#pool = new Piscina<BookkeepingTask, unknown>({
      filename: workerFilename('bookkeeping/bookkeeping.worker.js'),
      minThreads: 1,
      maxThreads: 1, // one bookkeeper: its general ledger is in its memory
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 16,
      maxQueue: 256,
      atomics: 'disabled', // its poll timer must run while no task does
      // Booking may lag; posting may not: on Linux the bookkeeper's thread yields the CPU to the shards.
      niceIncrement: 10,
      workerData,
    });
    this.#pool.on('error', (error: unknown) => console.error('tally bookkeeping: worker failed:', error));
  }

  async ready(): Promise<void> {
    await this.#run({ kind: 'ready' });
  }

  status(): Promise<ShardLag[]> {
    return this.#run({ kind: 'status' }) as Promise<ShardLag[]>;
  }

  ledgers(): Promise<number[]> {
    return this.#run({ kind: 'ledgers' }) as Promise<number[]>;
  }

  subjectBalances(ledger: number, day?: number): Promise<SubjectBalanceRow[]> {
    return this.#run({ kind: 'subjectBalances', ledger, day }) as Promise<SubjectBalanceRow[]>;
  }

  trialBalance(ledger: number, day?: number): Promise<TrialBalanceReply> {
    return this.#run({ kind: 'trialBalance', ledger, day }) as Promise<TrialBalanceReply>;
  }

  /** Builds and stores the day report (JSON text); waits until the bookkeeper has booked every shard through its cut. */
  dayReport(closes: ShardDayClose[], inFlight: InFlightAmount[]): Promise<string> {
    return this.#run({ kind: 'dayReport', closes, inFlight }) as Promise<string>;
  }

  report(day: number): Promise<string | null> {
    return this.#run({ kind: 'report', day }) as Promise<string | null>;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#pool.run({ kind: 'stop' }).catch(() => {});
      await this.#pool.destroy();
    })();
    return this.#closed;
  }

  async #run(task: BookkeepingTask): Promise<unknown> {
    if (this.#closed !== null) throw errors.shuttingDown();
    try {
      return await this.#pool.run(task);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw errors.shardUnavailable(-1, `bookkeeping: ${why}`);
    }
  }
}
