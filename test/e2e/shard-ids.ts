// Ids for end-to-end specs that must land on a chosen shard (same-shard or cross-shard cases, and
// linked chains, whose transfers must all debit accounts of one shard).

import { newIdOnShardOf } from 'tally-ledger/client';
import { shardOfId } from '../../src/core/routing.js';

/** The smallest id that routes to `shard`: an anchor for the client's colocated-id helper. */
function anchorOnShard(shard: number, shardCount: number): bigint {
  for (let id = 1n; ; id++) if (shardOfId(id, shardCount) === shard) return id;
}

/** A new time-ordered id that routes to `shard` of `shardCount`. */
export function newIdOnShard(shard: number, shardCount: number): bigint {
  return newIdOnShardOf(anchorOnShard(shard, shardCount), shardCount);
}

/** `count` new ids, all routed to `shard`. */
export function newIdsOnShard(count: number, shard: number, shardCount: number): bigint[] {
  return Array.from({ length: count }, () => newIdOnShard(shard, shardCount));
}
