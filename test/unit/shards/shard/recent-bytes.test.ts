import { describe, expect, test } from 'vitest';
import { RecentBytes } from '../../../../src/shards/shard/recent-bytes.js';

const bytes = (length: number, fill: number): Uint8Array => new Uint8Array(length).fill(fill);

describe('RecentBytes', () => {
  test('keeps copies, oldest out first, for capacity values', () => {
    const recent = new RecentBytes(3, 8);
    const source = bytes(8, 1);
    const kept = recent.keep(10, source);
    source.fill(9); // a copy: the reader's reused buffer may change under it
    expect([...kept]).toEqual(Array(8).fill(1));
    recent.keep(11, bytes(8, 2));
    recent.keep(12, bytes(5, 3));
    expect([...recent.get(10)!]).toEqual(Array(8).fill(1));
    expect(recent.get(12)!.byteLength).toBe(5);
    recent.keep(13, bytes(8, 4)); // pushes out 10, the oldest
    expect(recent.get(10)).toBeUndefined();
    expect([...recent.get(11)!]).toEqual(Array(8).fill(2));
    expect([...recent.get(13)!]).toEqual(Array(8).fill(4));
  });

  test('a value longer than the buffers gets its own; a slot reused keeps the length it is given', () => {
    const recent = new RecentBytes(2, 4);
    expect(recent.keep(1, bytes(10, 7)).byteLength).toBe(10);
    recent.keep(2, bytes(4, 8));
    const reused = recent.keep(3, bytes(3, 5)); // slot of 1: its 10-byte buffer, a 3-byte view
    expect([...reused]).toEqual([5, 5, 5]);
    expect([...recent.get(2)!]).toEqual([8, 8, 8, 8]);
    expect(recent.get(1)).toBeUndefined();
  });

  test('delete and clear forget keys; the ring goes on', () => {
    const recent = new RecentBytes(2, 4);
    recent.keep(1, bytes(4, 1));
    recent.keep(2, bytes(4, 2));
    recent.delete(1);
    expect(recent.get(1)).toBeUndefined();
    recent.keep(3, bytes(4, 3)); // takes slot of 1
    expect([...recent.get(2)!]).toEqual([2, 2, 2, 2]);
    recent.keep(1, bytes(4, 4)); // takes slot of 2
    expect(recent.get(2)).toBeUndefined();
    expect([...recent.get(1)!]).toEqual([4, 4, 4, 4]);
    recent.clear();
    expect(recent.get(1)).toBeUndefined();
    expect(recent.get(3)).toBeUndefined();
    expect([...recent.keep(5, bytes(2, 6))]).toEqual([6, 6]);
  });
});
