// Adjustments (调账): manual postings under maker–checker. One key submits transfers with a reason; they
// change nothing until a different key approves them, and then they post as one create_transfers request.
// Here: the shapes replies carry, the submission rules and the errors; storage is admin/admin-store.ts.

import { TallyError, errors } from '../errors.js';
import { adjustmentReasonCharsMax, eventBytes } from '../limits.js';
import { ResultCode, resultName, type ResultName } from '../result-codes.js';
import { TransferLayout } from '../layout.js';
import { TransferFlags } from '../types.js';
import { validateTransfer } from '../posting/validate.js';
import { withCallerMarksInvalid } from '../wire/ids-elsewhere.js';
import { markLedgerAccountsNamed } from '../posting/ledger-accounts-named.js';
import { onlyFields, splitSubmissionBody, stringField } from '../wire/admin-bodies.js';

/** pending → approved | rejected; nothing else, and never back. */
export type AdjustmentStatus = 'pending' | 'approved' | 'rejected';
export const adjustmentStatuses: readonly AdjustmentStatus[] = ['pending', 'approved', 'rejected'];

/** `adj_` then 20 hex digits: 12 of milliseconds since the epoch and 8 that order ids made in the same one. */
export const adjustmentIdPattern = /^adj_[0-9a-f]{20}$/;

/** What posting one transfer of an approved adjustment gave (`index` = its position in the adjustment). */
export interface AdjustmentResult {
  index: number;
  result: ResultName;
}

/** An adjustment as replies show it. `results` only once approved (and not in list replies). */
export interface Adjustment {
  id: string;
  status: AdjustmentStatus;
  /** Key id that submitted it. */
  maker: string;
  submittedAt: string;
  reason: string;
  transferCount: number;
  /** The last key that began to post it, and when: set before the transfers go to the ledger. */
  approvalStartedBy?: string;
  approvalStartedAt?: string;
  /** The key that approved or rejected it (for a withdrawal, the maker itself), and when. */
  checker?: string;
  decidedAt?: string;
  rejectReason?: string;
  results?: AdjustmentResult[];
}

/** One adjustment read by id: also its transfer records, as create_transfers takes them (base64). */
export interface AdjustmentDetail extends Adjustment {
  transfers: string;
}

/** A submission that passed every rule: what gets stored. */
export interface AdjustmentSubmission {
  reason: string;
  records: Uint8Array;
  count: number;
}

/**
 * Reads submit_adjustment's body: the header holds only `reason` (required, 1..adjustmentReasonCharsMax
 * characters); every record passes the ledger's stateless field rules (validate.ts) and the last one
 * closes its linked chain. What needs state (accounts, balances, ids) is decided only at approval.
 */
export function readSubmission(body: Uint8Array): AdjustmentSubmission {
  const { header, records, count } = splitSubmissionBody(body);
  onlyFields(header, ['reason'], 'submit_adjustment');
  const reason = stringField(header, 'reason', adjustmentReasonCharsMax, true, 'submit_adjustment');
  // As the approval posts them: the ledger's own marks on a caller's record are refused (ids-elsewhere.ts), and so
  // is a slice or transit account named (suspense accounts may be: resolving 挂账 is what adjustments are for).
  const checked = markLedgerAccountsNamed(withCallerMarksInvalid(records), 'suspense');
  const view = new DataView(checked.buffer, checked.byteOffset, checked.byteLength);
  for (let i = 0; i < count; i++) {
    const code = validateTransfer(view, i * eventBytes, true);
    if (code !== ResultCode.ok) throw errors.bodyInvalid(`submit_adjustment: transfer ${i} would be refused: ${resultName(code)}`);
  }
  if ((view.getUint16((count - 1) * eventBytes + TransferLayout.flags, true) & TransferFlags.linked) !== 0) {
    throw errors.bodyInvalid(`submit_adjustment: transfer ${count - 1} is linked but ends the adjustment (a linked chain left open)`);
  }
  return { reason, records: records.slice(), count };
}

/** "3 ok, 1 insufficient_funds": the results of an approval by outcome, for its audit record. */
export function summarizeResults(results: readonly AdjustmentResult[]): string {
  const counts = new Map<string, number>();
  for (const { result } of results) counts.set(result, (counts.get(result) ?? 0) + 1);
  return [...counts].map(([result, count]) => `${count} ${result}`).join(', ');
}

/** Errors of the adjustment operations, one factory each so that wording and code stay the same everywhere. */
export const adjustmentErrors = {
  notFound: (id: string) => errors.bodyInvalid(`no adjustment ${id}`),
  notPending: (id: string, status: AdjustmentStatus) => errors.bodyInvalid(`adjustment ${id} is ${status}, not pending: it was decided already`),
  beingDecided: (id: string) => errors.bodyInvalid(`adjustment ${id} is being decided by another call; read it again once that call answers`),
  selfApproval: (id: string, keyId: string) =>
    new TallyError('forbidden', `key ${JSON.stringify(keyId)} submitted adjustment ${id}: the maker cannot approve their own adjustment, another admin key must`),
  rejectAfterApprovalStarted: (id: string, by: string) =>
    errors.bodyInvalid(`adjustment ${id}: ${JSON.stringify(by)} began to post it, so some transfers may have posted; approve it again to settle it (the retry answers exists for those)`),
};
