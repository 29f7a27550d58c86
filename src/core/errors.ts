// Operating errors: one class, a stable `code` from this catalog. Callers tell errors apart by `.code`
// (hasErrorCode), never by a subclass. `instanceof TallyError` asks only whether a throw is a catalog error at
// all, and only in the thread that threw it: class identity does not survive postMessage or the wire, where an
// error crosses as { code, message } and errorFromWire rebuilds it.

export const ErrorCode = {
  frame_invalid: 'frame_invalid',
  frame_too_large: 'frame_too_large',
  batch_too_large: 'batch_too_large',
  batch_empty: 'batch_empty',
  operation_unknown: 'operation_unknown',
  body_invalid: 'body_invalid',
  shard_unavailable: 'shard_unavailable',
  storage_failed: 'storage_failed',
  overloaded: 'overloaded',
  timeout: 'timeout',
  shutting_down: 'shutting_down',
  connection_closed: 'connection_closed',
  unauthenticated: 'unauthenticated',
  forbidden: 'forbidden',
  rate_limited: 'rate_limited',
  unavailable: 'unavailable',
  not_primary: 'not_primary',
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;

export class TallyError extends Error {
  override name = 'TallyError';
  constructor(
    readonly code: ErrorCodeName,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** Factories, so every site that raises an error uses the same code and wording. */
export const errors = {
  frameInvalid: (why: string) => new TallyError('frame_invalid', why),
  frameTooLarge: (bytes: number, max: number) => new TallyError('frame_too_large', `frame of ${bytes} bytes exceeds ${max}`),
  batchTooLarge: (events: number, max: number) => new TallyError('batch_too_large', `batch of ${events} events exceeds ${max}`),
  batchEmpty: () => new TallyError('batch_empty', 'a batch needs at least one event'),
  operationUnknown: (op: unknown) => new TallyError('operation_unknown', `unknown operation ${String(op)}`),
  bodyInvalid: (why: string) => new TallyError('body_invalid', why),
  shardUnavailable: (shard: number, why: string) => new TallyError('shard_unavailable', `shard ${shard}: ${why}`),
  /** A request run in stages (issue #14) of which some applied and a later one failed: its outcome is unknown to the caller. */
  partlyApplied: (why: string) => new TallyError('shard_unavailable', `${why}: resend the request (its ids make that safe) or look its transfers up`),
  storageFailed: (why: string) => new TallyError('storage_failed', why),
  /** Replicated mode (issue #15): JetStream did not acknowledge in time (no majority); outcome unknown, resend later. */
  unavailable: (why: string) => new TallyError('unavailable', why),
  /** Replicated mode: this node no longer writes the shard's stream (another writer appended). */
  notPrimary: (why: string) => new TallyError('not_primary', why),
  overloaded: (why: string) => new TallyError('overloaded', why),
  timeout: (ms: number) => new TallyError('timeout', `no reply within ${ms} ms`),
  shuttingDown: (why = 'server is shutting down') => new TallyError('shutting_down', why),
  connectionClosed: (why: string) => new TallyError('connection_closed', why),
  unauthenticated: (why: string) => new TallyError('unauthenticated', why),
  forbidden: (keyId: string, operation: string, scope: string) =>
    new TallyError('forbidden', `key ${JSON.stringify(keyId)} lacks the ${scope} scope that ${operation} needs`),
  rateLimited: (who: string, eventsPerSecond: number, events: number, retryAfterMs: number) =>
    new TallyError(
      'rate_limited',
      events > eventsPerSecond
        ? `${who} is limited to ${eventsPerSecond} events per second and this request has ${events}: split it into requests of at most ${eventsPerSecond} events`
        : `${who} is limited to ${eventsPerSecond} events per second: retry this request of ${events} events in ${retryAfterMs} ms`,
    ),
};

/** Whether `error` is a catalog error with this code: how a caller picks out the errors it handles. */
export function hasErrorCode(error: unknown, code: ErrorCodeName): error is TallyError {
  return error instanceof TallyError && error.code === code;
}

/** Rebuild a TallyError from `{ code, message }` received over a thread or socket boundary. */
export function errorFromWire(code: string, message: string): TallyError {
  const known = (Object.keys(ErrorCode) as ErrorCodeName[]).includes(code as ErrorCodeName);
  return new TallyError(known ? (code as ErrorCodeName) : 'frame_invalid', message);
}
