// Hot-outbound routing (core/hot/hot-outbound.ts): slice ids per (account, shard), and which debits of a hot
// account are served by the payee's shard's slice. The keeper and the slices' money: test/integration/hot-outbound.test.ts.

import { describe, expect, test } from 'vitest';
import { creditThenDebitCuts, routeHotDebits, routeKeyOf, sliceAccountId, sliceTag, type HotOutboundRoute } from '../../../../src/core/hot/hot-outbound.js';
import { TransferLayout as T } from '../../../../src/core/layout.js';
import { decodeTransfer, encodeTransfers, type TransferInput } from '../../../../src/core/wire/records.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { TransferFlags } from '../../../../src/core/types.js';
import { writeU128 } from '../../../../src/core/u128.js';

const shardCount = 4;
const hot = 0x1234_5678_9abc_def0_0000_0000_0000_0042n;
const home = shardOfId(hot, shardCount);

function idBytes(id: bigint): Uint8Array {
  const bytes = new Uint8Array(16);
  writeU128(new DataView(bytes.buffer), 0, id);
  return bytes;
}

function onShard(shard: number, from: bigint): bigint {
  let id = from;
  while (shardOfId(id, shardCount) !== shard) id++;
  return id;
}

const route: HotOutboundRoute = {
  home,
  slices: Array.from({ length: shardCount }, (_, s) => (s === home ? null : idBytes(sliceAccountId(hot, s, shardCount)))),
};
const routes = new Map([[routeKeyOf(hot), [{ id: idBytes(hot), route }]]]);
const other = (home + 1) % shardCount;

function debitsOf(body: Uint8Array): bigint[] {
  return Array.from({ length: body.byteLength / 128 }, (_, i) => decodeTransfer(new DataView(body.buffer, body.byteOffset), i * 128).debitAccountId);
}

describe('slice ids', () => {
  test('one per shard, routed to it, distinct, outside the system range, derived from the account', () => {
    const slices = Array.from({ length: shardCount }, (_, s) => sliceAccountId(hot, s, shardCount));
    slices.forEach((id, s) => expect(shardOfId(id, shardCount)).toBe(s));
    expect(new Set(slices).size).toBe(shardCount);
    for (const id of slices) expect(Number(id >> 96n)).toBe(sliceTag);
    expect(sliceAccountId(hot, 2, shardCount)).toBe(slices[2]); // the same every time
    expect(sliceAccountId(hot + (1n << 64n), 2, shardCount)).toBe(slices[2]); // only the low 64 bits count: a collision is refused at creation
  });
});

describe('routeHotDebits', () => {
  const payeeOther = onShard(other, 1n);
  const payeeHome = onShard(home, 1n);
  const t = (id: bigint, debit: bigint, credit: bigint, flags = 0): TransferInput => ({ id, debitAccountId: debit, creditAccountId: credit, amount: 5n, ledger: 1, code: 1, flags, pendingId: flags & TransferFlags.post_pending ? 9n : 0n });

  test('a single-phase debit paying another shard goes to that shard\'s slice; the caller\'s body is untouched', () => {
    const body = encodeTransfers([t(1n, hot, payeeOther), t(2n, hot, payeeHome), t(3n, payeeOther, hot), t(4n, hot, payeeOther, TransferFlags.linked)]);
    const before = body.slice();
    const routed = routeHotDebits(body, shardCount, routes);
    expect(routed.rewritten).toEqual([0, 3]);
    expect(debitsOf(routed.body)).toEqual([sliceAccountId(hot, other, shardCount), hot, payeeOther, sliceAccountId(hot, other, shardCount)]);
    expect(body).toEqual(before);
  });

  test('holds, posts, voids, reversals and pay-from-freeze stay with the account on its home shard', () => {
    const kinds = [TransferFlags.pending, TransferFlags.post_pending, TransferFlags.void_pending, TransferFlags.reversal, TransferFlags.unfreeze_and_pay];
    const body = encodeTransfers(kinds.map((flags, i) => t(10n + BigInt(i), hot, payeeOther, flags)));
    const routed = routeHotDebits(body, shardCount, routes);
    expect(routed.body).toBe(body);
    expect(routed.rewritten).toEqual([]);
  });

  test('another account sharing the low bits is not mistaken for the hot one', () => {
    const lookalike = hot + (1n << 64n);
    const body = encodeTransfers([t(1n, lookalike, payeeOther)]);
    expect(routeHotDebits(body, shardCount, routes).rewritten).toEqual([]);
    expect(new DataView(body.buffer).getBigUint64(T.debitAccountId + 8, true)).toBe(lookalike >> 64n);
    // Right after the hot account matched (the router tries the last match first), the whole id still decides.
    const mixed = encodeTransfers([t(2n, hot, payeeOther), t(3n, lookalike, payeeOther), t(4n, hot, payeeOther)]);
    expect(routeHotDebits(mixed, shardCount, routes).rewritten).toEqual([0, 2]);
  });
});

describe('creditThenDebitCuts', () => {
  const payee = onShard(other, 500n);
  const t = (id: bigint, debitAccountId: bigint, creditAccountId: bigint, flags = 0): TransferInput => ({ id, debitAccountId, creditAccountId, amount: 10n, ledger: 1, code: 1, flags });

  test('cuts before a debit of a hot account the same part credited, and nowhere else', () => {
    const body = encodeTransfers([t(1n, hot, payee), t(2n, payee, hot), t(3n, payee, 7n), t(4n, hot, payee), t(5n, hot, payee), t(6n, payee, hot), t(7n, hot, payee)]);
    expect(creditThenDebitCuts(body, routes)).toEqual([3, 6]);
    expect(creditThenDebitCuts(encodeTransfers([t(1n, hot, payee), t(2n, payee, hot)]), routes)).toEqual([]);
    expect(creditThenDebitCuts(encodeTransfers([t(1n, payee, hot), t(2n, hot, payee)]), new Map())).toEqual([]);
  });

  test('never inside a linked chain', () => {
    const body = encodeTransfers([t(1n, payee, hot, TransferFlags.linked), t(2n, hot, payee), t(3n, payee, hot), t(4n, hot, payee)]);
    expect(creditThenDebitCuts(body, routes)).toEqual([3]);
  });
});
