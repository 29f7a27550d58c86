// Where the gateway reports what an auditor must be able to see: every admin action and every refused
// call. The store behind it (src/admin/admin-store.ts) is append-only; the gateway only knows this shape.

import type { AuditEntry } from '../core/admin/audit-log.js';

/** One audit record as reported (core/admin/audit-log.ts: the store numbers and times it). */
export type AuditEvent = AuditEntry;

export interface AuditSink {
  /**
   * Appends `event` with the time and a sequence number of its own. Resolves once it is durable; admin
   * actions await it before their reply, refusals do not hold their reply back.
   */
  record(event: AuditEvent): Promise<void>;
}
