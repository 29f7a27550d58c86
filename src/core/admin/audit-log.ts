// The audit log's record: every admin action and every refused call, numbered 1, 2, 3… by the store that
// keeps it (admin/admin-store.ts, append-only). Here: its shape as replies carry it, and how an event
// becomes one (fields cut to their bounds: the log must take every event, whatever a caller sent).

import { assert } from '../assert.js';
import { auditDetailCharsMax, auditFieldCharsMax } from '../limits.js';
import { Operation } from '../operations.js';

/** What the gateway and the admin service report (gateway/audit-sink.ts `AuditEvent`). */
export interface AuditEntry {
  readonly kind: 'admin' | 'refused';
  readonly keyId: string | null;
  readonly operation: number;
  readonly code: string;
  readonly detail: string;
  readonly remote?: string;
}

/** One stored record: the entry with its sequence number, time and operation name. */
export interface AuditRecord {
  seq: number;
  /** ISO 8601 UTC time the store appended it. */
  at: string;
  kind: 'admin' | 'refused';
  keyId: string | null;
  operation: number;
  /** The operation's name (operations.ts), null for a number that names none (0: a frame too broken to read one). */
  operationName: string | null;
  code: string;
  detail: string;
  remote?: string;
}

const operationNames = new Map<number, string>(Object.entries(Operation).map(([name, number]) => [number, name]));

/** The record `entry` becomes as number `seq` at time `at`. */
export function auditRecordOf(entry: AuditEntry, seq: number, at: Date): AuditRecord {
  assert(Number.isSafeInteger(seq) && seq >= 1, 'audit records are numbered from 1');
  assert(entry.kind === 'admin' || entry.kind === 'refused', `audit kind is admin or refused, got ${String(entry.kind)}`);
  assert(entry.keyId === null || typeof entry.keyId === 'string', 'audit keyId is a string or null');
  assert(Number.isInteger(entry.operation) && entry.operation >= 0, 'audit operation is a whole number');
  assert(typeof entry.code === 'string' && entry.code !== '', 'audit code is a non-empty string');
  assert(typeof entry.detail === 'string', 'audit detail is a string');
  const record: AuditRecord = {
    seq,
    at: at.toISOString(),
    kind: entry.kind,
    keyId: entry.keyId === null ? null : cut(entry.keyId, auditFieldCharsMax),
    operation: entry.operation,
    operationName: operationNames.get(entry.operation) ?? null,
    code: cut(entry.code, auditFieldCharsMax),
    detail: cut(entry.detail, auditDetailCharsMax),
  };
  if (entry.remote !== undefined) record.remote = cut(String(entry.remote), auditFieldCharsMax);
  return record;
}

/** `text` cut to `charsMax` code points, the last one "…" when cut. */
export function cut(text: string, charsMax: number): string {
  if (text.length <= charsMax) return text; // UTF-16 length bounds the code points from above
  const chars = [...text];
  return chars.length <= charsMax ? text : chars.slice(0, charsMax - 1).join('') + '…';
}
