// What the gateway's two doors (binary frames in server.ts, HTTP/JSON in http-api.ts) read the same way from a
// request and from the service's answer to it: how many events it costs a key's rate, and a rejection as a
// catalog error.

import { TallyError, errorFromWire, ErrorCode } from '../core/errors.js';
import { idBytes } from '../core/layout.js';
import { eventBytes } from '../core/limits.js';
import { isIdLookupOperation, isWriteOperation } from '../core/operations.js';

/** Events a request costs its key's rate bucket: its records for a write, its ids for a lookup, else 1. */
export function requestEvents(operation: number, body: Uint8Array): number {
  if (isWriteOperation(operation)) return body.byteLength / eventBytes;
  if (isIdLookupOperation(operation)) return body.byteLength / idBytes;
  return 1;
}

/**
 * A rejection from the service as a catalog error. Errors that crossed a thread boundary may have
 * lost their class, so the `code` decides; anything without a known code is a defect, logged here.
 */
export function serviceError(error: unknown, log: (line: string) => void): TallyError {
  if (error instanceof TallyError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && Object.hasOwn(ErrorCode, code)) {
    return errorFromWire(code, message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message);
  }
  log(`tally gateway: the ledger service failed without an error code: ${error instanceof Error ? (error.stack ?? message) : message}`);
  return new TallyError('shard_unavailable', `the ledger service failed: ${message}`);
}
