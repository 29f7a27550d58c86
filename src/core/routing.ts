// Which shard owns an account: a stable hash of the account id modulo the shard count.
// The hash must never change, because a shard's store holds exactly the accounts it routes to.

import { hashId32, writeU128 } from './u128.js';

export function shardOfIdAt(view: DataView, offset: number, shardCount: number): number {
  return hashId32(view, offset) % shardCount;
}

const scratch = new DataView(new ArrayBuffer(16));

export function shardOfId(id: bigint, shardCount: number): number {
  writeU128(scratch, 0, id);
  return shardOfIdAt(scratch, 0, shardCount);
}
