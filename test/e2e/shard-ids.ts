// Ids for end-to-end specs that must land on a chosen shard: a transfer posts only when both of
// its accounts live on one shard (cross_shard_not_supported otherwise, see docs/ARCHITECTURE.md).

import { newId } from 'tally-ledger/client';
import { shardOfId } from '../../src/core/routing.js';

/** Draws new ids until one routes to `shard` of `shardCount` (about shardCount draws on average). */
export function newIdOnShard(shard: number, shardCount: number): bigint {
  for (;;) {
    const id = newId();
    if (shardOfId(id, shardCount) === shard) return id;
  }
}

/** `count` new ids, all routed to `shard`. */
export function newIdsOnShard(count: number, shard: number, shardCount: number): bigint[] {
  return Array.from({ length: count }, () => newIdOnShard(shard, shardCount));
}
