// An id index "on disk" for in-process ledger specs (LedgerHarness with idCache): what the journal's LMDB index
// (src/shards/shard/id-index.ts) promises, kept in a Map that outlives a restart as the store would. It answers
// only for entries that are persisted and already applied by the ledger reading it (a replay must not see the
// ids of entries it has not reached), which is the contract the caches rely on.

import type { IdIndexSource, IdTableKindNumber } from '../../src/core/accounts/id-cache.js';
import { idKeyOffset, ownedIdIndexBits } from '../../src/core/accounts/id-cache.js';
import { eventOffset } from '../../src/core/posting/journal-entry.js';
import { locationEventsPerBatchMax } from '../../src/core/limits.js';
import { idKeyAt } from '../../src/core/u128.js';

/** The stored part: table ‖ id → location, for every entry ever noted (replays note the same again). */
export class MemoryIdStore {
  readonly locations = new Map<string, number>();
  /** Highest seq persisted (the harness stores entries synchronously: durable at once). */
  seqPersisted = 0;
  /** Lookups that reached the store. */
  reads = 0;
}

/** One ledger's view of the store: what it has applied so far. */
export class MemoryIdIndex implements IdIndexSource {
  #seqApplied = 0;
  evicted = 0;

  constructor(private readonly store: MemoryIdStore) {}

  get seqDurable(): number {
    return Math.min(this.store.seqPersisted, this.#seqApplied);
  }

  findId(table: IdTableKindNumber, view: DataView, at: number): number {
    this.store.reads++;
    const location = this.store.locations.get(table + idKeyAt(view, at));
    if (location === undefined || Math.floor(location / locationEventsPerBatchMax) > this.#seqApplied) return -1;
    return location;
  }

  restoredThrough(seq: number): void {
    this.#seqApplied = seq;
  }

  evictedThrough(): void {
    this.evicted++;
  }

  noteOwnedIds(seq: number, entry: Uint8Array, owned: Uint32Array): void {
    this.#seqApplied = seq;
    const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
    for (const word of owned) {
      const index = word & ((1 << ownedIdIndexBits) - 1);
      const table = word >>> ownedIdIndexBits;
      const key = table + idKeyAt(view, eventOffset(index) + idKeyOffset(table as IdTableKindNumber));
      const location = seq * locationEventsPerBatchMax + index;
      const known = this.store.locations.get(key);
      // A replay notes the same ids at the same places; a different place would be an id taken twice.
      if (known !== undefined && known !== location) throw new Error(`id ${key} noted at ${location}, already at ${known}`);
      this.store.locations.set(key, location);
    }
  }
}
