// The shard set's dispatch: one handler per wire operation that needs more than routing by shard (books,
// snapshots, hot-outbound accounts, the account rate limit), looked up by operation number. Each operation
// has at most one handler: two capabilities claiming one number is a programmer error, caught at start.

import { assert } from '../../core/assert.js';

/** Answers one request's body (already checked by the gateway) with its reply body; rejects with a TallyError. */
export type RequestHandler = (body: Uint8Array) => Promise<Uint8Array>;

/** Operation number → handler, each operation claimed once. */
export function handlerTable(entries: Iterable<readonly [operation: number, handler: RequestHandler]>): ReadonlyMap<number, RequestHandler> {
  const table = new Map<number, RequestHandler>();
  for (const [operation, handler] of entries) {
    assert(Number.isInteger(operation) && operation >= 0, 'an operation number is a whole number');
    assert(!table.has(operation), `operation ${operation} has one handler`);
    table.set(operation, handler);
  }
  return table;
}
