// Reconciliation batches (issue #17) as the server stores and answers them: one per import of a channel's statement
// files for a business day, with the files (name, size, SHA-256), what checking them found, and — once matched — the
// statistics per outcome and the exceptions, each kept and paged apart. The bodies of the recon operations
// (51–55, docs/PROTOCOL.md) are read by core/wire/recon-bodies.ts, so the gateway and the service read them the same
// way; only an exception outcome's name, which needs the outcomes table, is checked here.

import { errors } from '../errors.js';
import { readReconExceptionsBody, type ReconExceptionsBody } from '../wire/recon-bodies.js';
import { ReconOutcome, type ReconOutcomeName } from './outcomes.js';

export type ReconBatchStatus = 'matched' | 'refused';

export interface ReconBatchFile {
  name: string;
  bytes: number;
  sha256: string;
}

/** Count and amount (decimal text at the channel's scale) of one outcome. */
export interface ReconOutcomeTotal {
  count: number;
  amount: string;
}

export interface ReconBatch {
  /** `rcb_` + 20 hex digits, increasing. */
  id: string;
  channel: string;
  /** 'YYYY-MM-DD'; '' when the files were refused before a day was known. */
  day: string;
  status: ReconBatchStatus;
  /** The importing key. */
  keyId: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  files: ReconBatchFile[];
  currency: string;
  /** Why the files were refused (status refused): one line per problem, naming file, place and difference. */
  problems: string[];
  statementRows: number;
  /** Rows that move nothing (informative, zero amounts): read, not matched. */
  ignoredRows: number;
  transfersRead: number;
  /** Postings of earlier days the channel had not stated, taken into this batch (the pending pool). */
  poolIn: number;
  /** Postings left waiting in the pool after it. */
  poolOut: number;
  totals: Partial<Record<ReconOutcomeName, ReconOutcomeTotal>>;
  exceptions: number;
  /** Automatic actions by the strategy table: posted (ok or exists), held for people, refused by the ledger. */
  actions: { done: number; held: number; failed: number };
  timingsMs: { read: number; ledger: number; match: number; actions: number; store: number };
}

/** One exception of a batch, numbered from 1 in the order matching found it. */
export interface ReconException {
  n: number;
  outcome: ReconOutcomeName;
  code: number;
  direction: 'credit' | 'debit';
  theirs: string;
  ours: string;
  theirStatus: string | null;
  ourStatus: string;
  differences: { field: string; ours: string; theirs: string; difference?: string }[];
  rows: { row: number; locator: string; merchantOrderNo: string; channelSerialNo: string }[];
  transferIds: string[];
  /** What the strategy table did about it (absent: no table ran, e.g. `tally recon match`). */
  action?: { action: string; state: 'done' | 'held' | 'failed'; transferId?: string; detail: string };
  /**
   * Its manual resolution as the ledger holds it, read when the exception is (absent: none posted — none submitted,
   * or its adjustment still waits for a checker, or was rejected): the transfer `tally recon resolve` derived for it,
   * posted once another key approved the adjustment.
   */
  resolution?: { transferId: string; status: string; timestamp: string };
}

export interface ReconExceptionsPage {
  exceptions: ReconException[];
  /** The `after` of the next page, or null at the end. */
  next: number | null;
}

// ---- bodies ---------------------------------------------------------------------------------------------------
// Read in core/wire/recon-bodies.ts (the gateway checks them there too); re-exported for the recon service.

export {
  readReconBatchId,
  readReconBatchesQuery,
  readReconImport,
  readReconUpload,
  reconBatchIdPattern,
  reconFileNameCharsMax,
  type ReconBatchesQuery,
  type ReconImportRequest,
  type ReconUpload,
} from '../wire/recon-bodies.js';

export interface ReconExceptionsQuery extends ReconExceptionsBody {
  outcome: ReconOutcomeName | null;
}

/** get_recon_exceptions (55): the body as the wire reads it, with `outcome` one of ReconOutcome's names. */
export function readReconExceptionsQuery(body: Uint8Array): ReconExceptionsQuery {
  const query = readReconExceptionsBody(body);
  // Own keys only: `in` would take "constructor" or "__proto__" (snake_case names too) for outcomes.
  if (query.outcome !== null && !Object.hasOwn(ReconOutcome, query.outcome)) {
    throw errors.bodyInvalid(`get_recon_exceptions: outcome is one of ${Object.keys(ReconOutcome).join(', ')}`);
  }
  return { ...query, outcome: query.outcome as ReconOutcomeName | null };
}
