// Message shapes between the main thread and the bookkeeping worker: plain data only.

import type { ShardDayClose } from '../../core/books/day-close.js';
import type { InFlightAmount } from '../../core/books/day-report.js';

export interface BookkeepingWorkerData {
  dataDir: string;
  shardCount: number;
  /** A chart of accounts file (JSON, see core/books/chart-of-accounts.ts), or null for the default chart. */
  chartPath: string | null;
}

export type BookkeepingTask =
  | { kind: 'ready' }
  | { kind: 'status' }
  | { kind: 'ledgers' }
  | { kind: 'subjectBalances'; ledger: number; day?: number }
  | { kind: 'trialBalance'; ledger: number; day?: number }
  | { kind: 'dayReport'; closes: ShardDayClose[]; inFlight: InFlightAmount[] }
  | { kind: 'report'; day: number }
  | { kind: 'stop' };
