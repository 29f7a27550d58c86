// Task numbers that reach a shard worker must never collide: ledger operations, control tasks and the day
// book's queries share one `operation` field (a collision once made a balance-at-day query hold the turn).

import { describe, expect, it } from 'vitest';
import { Operation, isAdminOperation } from '../../../../src/core/operations.js';
import { DayQuery } from '../../../../src/shards/shard/day-book.js';
import { ShardControl } from '../../../../src/shards/shard/shard-messages.js';

describe('shard task numbers', () => {
  it('are distinct across operations that reach shards, control tasks and day queries', () => {
    const reachShards = Object.values(Operation).filter((op) => !isAdminOperation(op));
    const all = [...reachShards, ...Object.values(ShardControl), ...Object.values(DayQuery)];
    expect(new Set(all).size).toBe(all.length);
  });
});
