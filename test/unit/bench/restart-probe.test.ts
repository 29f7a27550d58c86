// The restart probe's accounts: two on each shard, so a probe batch of one transfer per shard is a write
// every shard must accept, and none of its transfers crosses shards.
import { describe, expect, it } from 'vitest';
import { probePairs } from '../../../bench/load/restart-probe.js';
import { newId } from '../../../src/client/index.js';
import { shardOfId } from '../../../src/core/routing.js';

describe('probePairs', () => {
  it.each([1, 2, 3, 8])('gives each of %i shards two distinct fresh ids of its own', (shards) => {
    const pairs = probePairs(shards);
    expect(pairs.length).toBe(shards);
    pairs.forEach(([a, b], shard) => {
      expect(a).not.toBe(b);
      expect(shardOfId(a, shards)).toBe(shard);
      expect(shardOfId(b, shards)).toBe(shard);
    });
  });

  it('keeps the first two ids drawn for each shard', () => {
    const drawn: bigint[] = [];
    const pairs = probePairs(2, () => {
      const id = newId();
      drawn.push(id);
      return id;
    });
    for (const shard of [0, 1]) expect(pairs[shard]).toEqual(drawn.filter((id) => shardOfId(id, 2) === shard).slice(0, 2));
  });

  it('never pairs an id with itself, and gives up when the draws cannot fill every shard', () => {
    expect(() => probePairs(1, () => 7n)).toThrow(/no two ids on each of 1 shards/);
    // Every other draw is 7n again, the rest fresh ids on the other shard: the shard of 7n never gets a second id.
    const shardOf7 = shardOfId(7n, 2);
    let calls = 0;
    let next = 7n;
    const draw = () => {
      if (++calls % 2 === 1) return 7n;
      do next++;
      while (shardOfId(next, 2) === shardOf7);
      return next;
    };
    expect(() => probePairs(2, draw)).toThrow(/no two ids on each of 2 shards/);
  });
});
