// What the recon service and its import worker (import.worker.ts) tell each other (issue #17). The worker reads the
// statement files into rows and matches them; the service, on the gateway's thread, reads the ledger's day between
// the two steps and posts the actions after them. Everything crosses by structured clone (bigints included), but
// our side of the day: packed in typed arrays whose buffers are transferred (packed-ledger-rows.ts).

import type { ReconException, ReconOutcomeTotal } from '../core/recon/batches.js';
import type { ChannelConfig } from '../core/recon/channel-config.js';
import type { LedgerRow, ReconRecord } from '../core/recon/matcher.js';
import type { PackedLedgerRows } from '../core/recon/packed-ledger-rows.js';
import type { ReconOutcomeName } from '../core/recon/outcomes.js';
import type { StatementRow } from '../core/recon/statement-row.js';
import type { StatementBytes } from './statement-files.js';
import type { OfxChainLink } from '../core/recon/ofx-chain.js';

export interface ImportWorkerData {
  channel: ChannelConfig;
  files: StatementBytes[];
}

/** An exception the strategy table would act on: its number, the matcher's record and the row it is derived from. */
export interface ActionCandidate {
  n: number;
  record: ReconRecord;
  row: StatementRow;
}

/** Host → worker: match the rows read with our side of the day. (The host ends the worker by terminating it.) */
export type ImportCommand = { type: 'match'; day: number; ledger: PackedLedgerRows; pool: PackedLedgerRows; later: PackedLedgerRows };

/** Worker → host. */
export type ImportEvent =
  /** The business day of the first row read, sent before the rest are: the host reads our side of it meanwhile. */
  | { type: 'first_day'; day: number }
  /** `statements`: the identities of the statements read (account, sequence or id, period), none for CSV templates. */
  | { type: 'read'; problems: string[]; days: number[]; statementRows: number; skipped: number; statements: string[]; ofxLinks: OfxChainLink[] }
  | {
      type: 'matched';
      ignored: number;
      totals: Partial<Record<ReconOutcomeName, ReconOutcomeTotal>>;
      exceptions: ReconException[];
      candidates: ActionCandidate[];
      carried: LedgerRow[];
    }
  /** `outOfMemory`: a thread of the import ran out of its heap (the statement is too big for one import). */
  | { type: 'failed'; message: string; outOfMemory?: boolean };
