// Spec of IdCache: two generations of `capacity` ids in memory; a generation is dropped only once every entry
// whose ids it holds is durable, and the source hears which entries it no longer covers; a miss in memory asks
// the source; every id taken is recorded on its entry, and an undone one is taken back.

import { describe, expect, it } from 'vitest';
import { IdCache, IdTableKind, OwnedIds, noIdIndex, ownedIdIndexBits, type IdIndexSource, type IdTableKindNumber } from '../../../../src/core/accounts/id-cache.js';
import { locationEventsPerBatchMax } from '../../../../src/core/limits.js';

/** An index "on disk" that knows every id ever set (by its low word), and counts what it is asked. */
class FakeSource implements IdIndexSource {
  seqDurable = 0;
  readonly all = new Map<number, number>();
  readonly evicted: [IdTableKindNumber, number][] = [];
  asked = 0;

  findId(_table: IdTableKindNumber, view: DataView, at: number): number {
    this.asked++;
    return this.all.get(view.getUint32(at, true)) ?? -1;
  }

  evictedThrough(table: IdTableKindNumber, seq: number): void {
    this.evicted.push([table, seq]);
  }

  noteOwnedIds(): void {}

  restoredThrough(): void {}
}

function idView(n: number): DataView {
  const view = new DataView(new ArrayBuffer(16));
  view.setUint32(0, n, true);
  return view;
}

const locationOf = (seq: number, index: number) => seq * locationEventsPerBatchMax + index;

describe('IdCache', () => {
  it('keeps two generations, drops the older once durable, and falls back on the source', () => {
    const source = new FakeSource();
    const owned = new OwnedIds();
    const cache = new IdCache(IdTableKind.transfers, 4, source, owned);
    // Entry seq n takes id n at index 0: one id per entry.
    for (let n = 1; n <= 12; n++) {
      cache.setAt(idView(n), 0, locationOf(n, 0));
      source.all.set(n, locationOf(n, 0));
      expect(owned.take(n)).toEqual(Uint32Array.of(0 | (IdTableKind.transfers << ownedIdIndexBits)));
      source.seqDurable = n;
      expect(cache.size).toBeLessThanOrEqual(8);
    }
    // Ids 1..4 went when 9 came (previous 1..4 durable), 5..8 are previous, 9..12 current.
    expect(source.evicted).toEqual([[IdTableKind.transfers, 4]]);
    expect(cache.evictions).toBe(1);
    source.asked = 0;
    for (let n = 5; n <= 12; n++) expect(cache.getAt(idView(n), 0)).toBe(locationOf(n, 0));
    expect(source.asked).toBe(0);
    expect(cache.getAt(idView(2), 0)).toBe(locationOf(2, 0)); // from the source
    expect(cache.getAt(idView(99), 0)).toBe(-1);
    expect(source.asked).toBe(2);
  });

  it('grows past its capacity rather than drop ids of entries not yet durable', () => {
    const source = new FakeSource();
    const owned = new OwnedIds();
    const cache = new IdCache(IdTableKind.operations, 2, source, owned);
    for (let n = 1; n <= 10; n++) {
      cache.setAt(idView(n), 0, locationOf(n, 0));
      owned.take(n);
    }
    // Nothing durable: one rotation (nothing to drop yet), then current keeps growing.
    expect(source.evicted).toEqual([]);
    expect(cache.size).toBe(10);
    source.seqDurable = 10;
    cache.setAt(idView(11), 0, locationOf(11, 0));
    expect(source.evicted).toEqual([[IdTableKind.operations, 2]]);
    expect(cache.size).toBe(9);
    for (let n = 3; n <= 11; n++) expect(cache.hasAt(idView(n), 0)).toBe(true);
  });

  it('records the ids an entry takes, and takes back an undone one', () => {
    const source = new FakeSource();
    const owned = new OwnedIds();
    const transfers = new IdCache(IdTableKind.transfers, Infinity, source, owned);
    const failed = new IdCache(IdTableKind.transfersFailed, Infinity, source, owned);
    transfers.setAt(idView(1), 0, locationOf(7, 0));
    failed.setAt(idView(2), 0, locationOf(7, 1));
    transfers.setAt(idView(3), 0, locationOf(7, 2));
    transfers.deleteAt(idView(3), 0); // a linked chain that failed
    expect(transfers.getAt(idView(3), 0)).toBe(-1);
    expect(Array.from(owned.take(7))).toEqual([0 | (IdTableKind.transfers << ownedIdIndexBits), 1 | (IdTableKind.transfersFailed << ownedIdIndexBits)]);
    expect(owned.take(8)).toEqual(new Uint32Array(0));
    transfers.setAt(idView(4), 0, locationOf(9, 0));
    expect(() => owned.take(10)).toThrow(/belong to entry 9/);
  });

  it('refuses an empty generation, and a bounded cache without an index on disk', () => {
    expect(() => new IdCache(IdTableKind.inbound, 0, new FakeSource(), new OwnedIds())).toThrow(/at least one id/);
    expect(() => new IdCache(IdTableKind.inbound, 4, noIdIndex, new OwnedIds())).toThrow(/needs an index on disk/);
  });
});
