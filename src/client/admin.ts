// Encoding and decoding of the admin operations for the client: adjustments (maker–checker) and the audit
// log. Bodies are built with core/wire/admin-bodies.ts; inputs are checked here with TypeErrors that name the field.

import { encodeAdminJson, encodeSubmissionBody } from '../core/wire/admin-bodies.js';
import type { AdjustmentDetail, AdjustmentStatus } from '../core/admin/adjustments.js';
import { adjustmentTransfersMax, eventBytes } from '../core/limits.js';
import { decodeTransfer, encodeTransfers, type TransferInput } from '../core/wire/records.js';
import type { Transfer } from '../core/types.js';

/** An adjustment to submit: transfers as createTransfers takes them, and why (required, ≤ 1,000 characters). */
export interface AdjustmentInput {
  transfers: readonly TransferInput[];
  reason: string;
}

/** A page of adjustments, newest first: of one status, older than `before` (the last id of the previous page). */
export interface AdjustmentFilter {
  status?: AdjustmentStatus;
  limit?: number;
  before?: string;
}

/** A page of the audit log, oldest first: the records numbered after `after` (default 0). */
export interface AuditLogPage {
  after?: number;
  limit?: number;
}

/** One adjustment with its transfers decoded: what a checker reads before approving. */
export interface AdjustmentWithTransfers extends Omit<AdjustmentDetail, 'transfers'> {
  transfers: Transfer[];
}

export function encodeSubmitAdjustment(input: AdjustmentInput): Uint8Array {
  if (typeof input !== 'object' || input === null) throw new TypeError('submitAdjustment: pass { transfers, reason }');
  if (typeof input.reason !== 'string' || input.reason.trim() === '') throw new TypeError('submitAdjustment: reason must be a non-empty string');
  if (!Array.isArray(input.transfers) || input.transfers.length < 1 || input.transfers.length > adjustmentTransfersMax) {
    throw new TypeError(`submitAdjustment: transfers must be an array of 1..${adjustmentTransfersMax} transfers`);
  }
  return encodeSubmissionBody({ reason: input.reason }, encodeTransfers(input.transfers));
}

export function encodeAdjustmentId(id: string, reason?: string): Uint8Array {
  if (typeof id !== 'string' || id === '') throw new TypeError(`adjustment id must be a non-empty string, got ${String(id)}`);
  if (reason !== undefined && typeof reason !== 'string') throw new TypeError('reason must be a string');
  return encodeAdminJson(reason === undefined ? { id } : { id, reason });
}

/** A JSON body of the fields that are set (undefined ones are left out). */
export function encodeFields(fields: object | undefined): Uint8Array {
  if (fields !== undefined && (typeof fields !== 'object' || fields === null)) throw new TypeError('the filter must be an object');
  return encodeAdminJson({ ...fields });
}

export function decodeAdjustmentDetail(detail: AdjustmentDetail): AdjustmentWithTransfers {
  const bytes = new Uint8Array(Buffer.from(detail.transfers, 'base64'));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const transfers: Transfer[] = [];
  for (let at = 0; at + eventBytes <= bytes.byteLength; at += eventBytes) transfers.push(decodeTransfer(view, at));
  return { ...detail, transfers };
}
