// query_transfers through the shard set (issue #16): the shards' merged page, then the state of each row whose
// transfer another shard owns. A query by account reads that account's history on its own shard, which also holds
// the credits other shards' transfers made to it; whether such a transfer is pending, posted, voided or expired
// is known where it was posted. Those rows come back with status `statusElsewhere`; they are looked up (every
// shard is asked, as lookup_transfers does) and completed here, and a status filter is applied to them then. So the
// page is the same whichever shards hold the accounts.

import { assert } from '../../core/assert.js';
import { QueryFilterLayout as Q, QueryReplyLayout as R, TransferStateLayout as S, idBytes } from '../../core/layout.js';
import { Operation } from '../../core/operations.js';
import { statusElsewhere } from '../../core/posting/transfer-queries.js';
import { idKeyAt, viewOf } from '../../core/u128.js';

type Execute = (operation: number, body: Uint8Array) => Promise<Uint8Array>;
type ReadOn = (shard: number, operation: number, body: Uint8Array) => Promise<Uint8Array>;

export async function queryTransfersWithStates(execute: Execute, readOn: ReadOn, filter: Uint8Array): Promise<Uint8Array> {
  const reply = await execute(Operation.query_transfers, filter);
  const view = viewOf(reply);
  const count = view.getUint32(R.count, true);
  // Per owning shard (a row elsewhere names it in returnReason), the rows whose state that shard holds.
  const elsewhere = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const at = R.bytes + i * S.bytes;
    if (view.getUint16(at + S.status, true) !== statusElsewhere) continue;
    const owner = view.getUint16(at + S.returnReason, true);
    const rows = elsewhere.get(owner);
    if (rows === undefined) elsewhere.set(owner, [at]);
    else rows.push(at);
  }
  await Promise.all(
    [...elsewhere].map(async ([owner, rows]) => {
      const ids = new Uint8Array(rows.length * idBytes);
      rows.forEach((at, i) => ids.set(reply.subarray(at, at + idBytes), i * idBytes));
      const states = await readOn(owner, Operation.lookup_transfers, ids);
      const statesView = viewOf(states);
      const stateAt = new Map<string, number>();
      for (let at = 0; at + S.bytes <= states.byteLength; at += S.bytes) stateAt.set(idKeyAt(statesView, at), at);
      for (const at of rows) {
        const found = stateAt.get(idKeyAt(view, at));
        // Posted on that shard and answered ok there before this read began: it is found (the lookup waits for
        // the credits answered before it, as this query's read did).
        assert(found !== undefined, 'a credit in an account history belongs to a transfer its payer\'s shard holds');
        reply.set(states.subarray(found + S.status, found + S.bytes), at + S.status);
      }
    }),
  );
  const status = viewOf(filter).getUint16(Q.status, true);
  return status === 0 ? reply : withStatusOnly(reply, count, status);
}

/** The reply keeping only rows of `status` (its cursor unchanged: it is still where the shards stopped). */
function withStatusOnly(reply: Uint8Array, count: number, status: number): Uint8Array {
  const view = viewOf(reply);
  const kept: number[] = [];
  for (let i = 0; i < count; i++) if (view.getUint16(R.bytes + i * S.bytes + S.status, true) === status) kept.push(R.bytes + i * S.bytes);
  if (kept.length === count) return reply;
  const filtered = new Uint8Array(R.bytes + kept.length * S.bytes);
  filtered.set(reply.subarray(0, R.bytes));
  viewOf(filtered).setUint32(R.count, kept.length, true);
  kept.forEach((at, i) => filtered.set(reply.subarray(at, at + S.bytes), R.bytes + i * S.bytes));
  return filtered;
}
