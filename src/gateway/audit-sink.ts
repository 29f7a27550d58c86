// Where the gateway reports what an auditor must be able to see: every admin action and every refused
// call. The store behind it (src/shards/admin-store.ts) is append-only; the gateway only knows this shape.

/** One audit record. `keyId` is null for a caller that presented no valid key. */
export interface AuditEvent {
  /** 'admin': an admin-scope operation was run (whatever its outcome); 'refused': a call was refused. */
  readonly kind: 'admin' | 'refused';
  readonly keyId: string | null;
  /** Request operation number (0 when the frame was too broken to name one). */
  readonly operation: number;
  /** 'ok' for an admin action that succeeded, else the error code (e.g. 'unauthenticated', 'forbidden', 'rate_limited'). */
  readonly code: string;
  /** What happened, for a human: the refusal's message, or the action's subject (adjustment id, snapshot dir). */
  readonly detail: string;
  /** Peer address as the gateway saw it, when known. */
  readonly remote?: string;
}

export interface AuditSink {
  /**
   * Appends `event` with the time and a sequence number of its own. Resolves once it is durable; admin
   * actions await it before their reply, refusals do not hold their reply back.
   */
  record(event: AuditEvent): Promise<void>;
}
