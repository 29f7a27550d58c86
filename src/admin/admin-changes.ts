// One change of the admin store (DATA/admin): an audit record, and what it did to an adjustment if anything. Every
// write of the store is one change, applied in one transaction; in replicated mode (issue #15) the same change is
// the message the primary publishes to the admin stream and its followers apply. Fields of an adjustment that the
// change sets are carried, not the whole adjustment, so a decision does not resend its transfers.

import { assert } from '../core/assert.js';
import type { AuditRecord } from '../core/admin/audit-log.js';
import type { AdjustmentDetail } from '../core/admin/adjustments.js';
import { errors } from '../core/errors.js';

/** Version of the encoded change: a follower refuses one it does not know rather than guess. */
const changeVersion = 1;

export interface AdminChange {
  audit: AuditRecord;
  /** The adjustment `id`'s fields this change sets (a new adjustment: all of them). */
  adjustment?: { id: string; fields: Partial<AdjustmentDetail> };
}

export function encodeAdminChange(change: AdminChange): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: changeVersion, ...change }));
}

/** The change stored as message `seq`; storage_failed when it is not one this version writes. */
export function decodeAdminChange(seq: number, bytes: Uint8Array): AdminChange {
  let parsed: { v?: unknown; audit?: AuditRecord; adjustment?: AdminChange['adjustment'] };
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes)) as typeof parsed;
  } catch {
    throw errors.storageFailed(`admin change ${seq} is not JSON`);
  }
  if (parsed.v !== changeVersion) throw errors.storageFailed(`admin change ${seq} has version ${String(parsed.v)}; this node reads version ${changeVersion}`);
  if (parsed.audit?.seq !== seq) throw errors.storageFailed(`admin change ${seq} carries audit record ${String(parsed.audit?.seq)}`);
  const adjustment = parsed.adjustment;
  assert(adjustment === undefined || (typeof adjustment.id === 'string' && typeof adjustment.fields === 'object'), `admin change ${seq} names an adjustment and its fields`);
  return adjustment === undefined ? { audit: parsed.audit } : { audit: parsed.audit, adjustment };
}
