// Time-ordered 128-bit ids: 48-bit milliseconds since the epoch, then 80 random bits (node:crypto).
// Within one process ids strictly increase: in the same millisecond (or if the clock steps back)
// the random part is incremented instead of redrawn, so ids sort in creation order.

import { randomFillSync } from 'node:crypto';
import { colocatedDrawsMax } from '../core/limits.js';
import { shardOfId } from '../core/routing.js';

const randomBits = 80n;
const randomMax = (1n << randomBits) - 1n;
const randomBytes = new Uint8Array(10);

let msLast = 0n;
let randomLast = 0n;

function drawRandom(): bigint {
  randomFillSync(randomBytes);
  let value = 0n;
  for (const byte of randomBytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** A new unique id: never zero, greater than every id this process made before. */
export function newId(): bigint {
  const nowMs = BigInt(Date.now());
  if (nowMs > msLast) {
    msLast = nowMs;
    randomLast = drawRandom();
  } else if (randomLast < randomMax) {
    randomLast += 1n;
  } else {
    // 2^80 ids in one millisecond cannot happen in practice; borrow the next millisecond rather than repeat.
    msLast += 1n;
    randomLast = drawRandom();
  }
  return (msLast << randomBits) | randomLast;
}

/** A new id (as newId) that routes to the same shard as `accountId` among `shardCount` shards. */
export function newIdOnShardOf(accountId: bigint, shardCount: number): bigint {
  const shard = shardOfId(accountId, shardCount);
  for (let draw = 0; draw < colocatedDrawsMax; draw++) {
    const id = newId();
    if (shardOfId(id, shardCount) === shard) return id;
  }
  throw new Error(`newIdOnShardOf: no id on shard ${shard} of ${shardCount} after ${colocatedDrawsMax} draws`);
}
