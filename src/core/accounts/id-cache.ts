// A bounded in-memory cache of one id → journal-location table, in front of the journal's on-disk id index.
// Two generations of IdTable (current, previous) of `capacity` ids each: when current fills, previous is
// dropped — only once every entry whose ids it holds is durable, so that the index on disk answers for them —
// and current becomes previous. A miss in both asks the IdIndexSource. Memory is bounded by 2 × capacity
// (plus the ids of entries not yet durable), whatever the history. Never drops an id the disk cannot answer.

import { assert } from '../assert.js';
import { locationEventsPerBatchMax } from '../limits.js';
import { IdTable } from './id-table.js';
import { TransferLayout as T } from '../layout.js';

/** The id tables a shard keeps (LedgerState), numbered for the on-disk index: fixed, never renumbered. */
export const IdTableKind = {
  transfers: 0,
  transfersFailed: 1,
  accountsFailed: 2,
  operations: 3,
  operationsFailed: 4,
  inbound: 5,
  /** Closed holds: the PENDING transfer's id → the post_pending/void_pending event that closed it. */
  resolutions: 6,
} as const;
export type IdTableKindNumber = (typeof IdTableKind)[keyof typeof IdTableKind];
export const idTableKinds = Object.values(IdTableKind) as readonly IdTableKindNumber[];

/**
 * Where a table's key sits in the event that owns it: the event's own id, except a resolution, whose key is the
 * hold it closes (the event's pendingId). The index on disk reads each owned id from there.
 */
export function idKeyOffset(table: IdTableKindNumber): number {
  return table === IdTableKind.resolutions ? T.pendingId : 0;
}

/** Bits of an owned-id word below its table: the event's index in its entry (< locationEventsPerBatchMax). */
export const ownedIdIndexBits = 24;

/**
 * The journal's id index, as the core reads it (src/shards implements it over LMDB). Every id a cache takes
 * is recorded on its entry (OwnedIds) and handed over with it: the store writes the index in the entry's own
 * transaction, so an entry durable is an entry indexed.
 */
export interface IdIndexSource {
  /** The location of the id at `view[at..at+16)` in `table`, among entries on disk, or −1. */
  findId(table: IdTableKindNumber, view: DataView, at: number): number;
  /** The highest seq through which every entry and its index are durable (readable from disk). */
  readonly seqDurable: number;
  /** No cache holds `table`'s ids of entries through `seq` any more: their ids are found on disk only. */
  evictedThrough(table: IdTableKindNumber, seq: number): void;
  /** The ids entry `seq` owns, each `index | table << 24` (unsorted), noted when the entry is applied (live or replayed). */
  noteOwnedIds(seq: number, entry: Uint8Array, owned: Uint32Array): void;
  /** The ledger was restored from a checkpoint at `seq`: every id of the entries through it is on disk only. */
  restoredThrough(seq: number): void;
}

/** No index on disk (tests, tools that replay read-only): caches then never drop an id. */
export const noIdIndex: IdIndexSource = {
  findId: () => -1,
  seqDurable: 0,
  evictedThrough: () => assert(false, 'a cache without an index on disk never evicts'),
  noteOwnedIds: () => {},
  restoredThrough: () => assert(false, 'a ledger restored from a checkpoint finds its older ids in an index on disk'),
};

/** Ids per generation of each cache (tally serve --cache-transfer-ids, --cache-ids-other). */
export interface IdCacheCapacity {
  transferIds: number;
  idsOther: number;
}

/** The ids taken by the entry being applied: which table, which event. A chain's undo takes them back. */
export class OwnedIds {
  readonly #words: number[] = [];
  #seq = -1;

  record(table: IdTableKindNumber, location: number): void {
    const seq = Math.floor(location / locationEventsPerBatchMax);
    if (this.#words.length === 0) this.#seq = seq;
    // Constant message: this runs per posted transfer.
    assert(seq === this.#seq, 'the ids an entry owns are all of that entry');
    this.#words.push((location - seq * locationEventsPerBatchMax) | (table << ownedIdIndexBits));
  }

  /** An undone set: the newest record of that word goes (undo runs newest first). */
  forget(table: IdTableKindNumber, location: number): void {
    const seq = Math.floor(location / locationEventsPerBatchMax);
    const word = (location - seq * locationEventsPerBatchMax) | (table << ownedIdIndexBits);
    const at = this.#words.lastIndexOf(word);
    assert(at >= 0 && seq === this.#seq, 'an undone id was recorded on the entry being applied');
    this.#words.splice(at, 1);
  }

  /** The ids entry `seq` owns (possibly none), and a fresh start for the next entry. */
  take(seq: number): Uint32Array {
    assert(this.#words.length === 0 || this.#seq === seq, `owned ids taken for entry ${seq} belong to entry ${this.#seq}`);
    const owned = Uint32Array.from(this.#words);
    this.#words.length = 0;
    return owned;
  }
}

export class IdCache {
  #current: IdTable;
  #previous: IdTable;
  /** Highest location in each generation (−1: none): which entries must be durable before it is dropped. */
  #currentLocationMax = -1;
  #previousLocationMax = -1;
  /** Generations dropped so far (observability, tests). */
  evictions = 0;

  /**
   * `capacity`: ids per generation (Infinity: never drop, for a source with no disk). `idsExpected`: buckets
   * each generation allocates up front (the transfer cache: no rehash pauses on the hot path).
   */
  constructor(
    readonly kind: IdTableKindNumber,
    readonly capacity: number,
    private readonly source: IdIndexSource,
    private readonly owned: OwnedIds,
    private readonly idsExpected = 0,
  ) {
    assert(capacity === Infinity || (Number.isInteger(capacity) && capacity >= 1), 'an id cache holds at least one id per generation');
    assert(capacity === Infinity || source !== noIdIndex, 'a bounded id cache needs an index on disk');
    this.#current = this.#newTable();
    this.#previous = new IdTable();
  }

  /** Ids held in memory (both generations). */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  /** The location of the id at `at`: from memory, else from the index on disk (−1: never taken). */
  getAt(view: DataView, at: number): number {
    const current = this.#current.getAt(view, at);
    if (current >= 0) return current;
    const previous = this.#previous.getAt(view, at);
    if (previous >= 0) return previous;
    return this.source.findId(this.kind, view, at);
  }

  hasAt(view: DataView, at: number): boolean {
    return this.getAt(view, at) !== -1;
  }

  /** Takes a new id (callers checked it is absent) at `location`, recorded on the entry being applied. */
  setAt(view: DataView, at: number, location: number): void {
    if (this.#current.size >= this.capacity) this.#rotate();
    this.#current.setAt(view, at, location);
    if (location > this.#currentLocationMax) this.#currentLocationMax = location;
    this.owned.record(this.kind, location);
  }

  /** Undoes a setAt of the entry being applied (a linked chain that failed, a dry run). */
  deleteAt(view: DataView, at: number): void {
    let location = this.#current.getAt(view, at);
    if (location >= 0) this.#current.deleteAt(view, at);
    else {
      location = this.#previous.getAt(view, at);
      this.#previous.deleteAt(view, at);
    }
    assert(location >= 0, 'an undone id is still in memory (its entry is the one being applied)');
    this.owned.forget(this.kind, location);
  }

  /**
   * Drops previous and makes current previous, once previous's entries are all durable; until then current
   * grows past capacity (by the ids of the entries in flight: one fsync's worth).
   */
  #rotate(): void {
    const previousSeqMax = Math.floor(this.#previousLocationMax / locationEventsPerBatchMax);
    if (this.#previous.size > 0 && previousSeqMax > this.source.seqDurable) return;
    if (this.#previous.size > 0) {
      this.source.evictedThrough(this.kind, previousSeqMax);
      this.evictions++;
    }
    this.#previous = this.#current;
    this.#previousLocationMax = this.#currentLocationMax;
    this.#current = this.#newTable();
    this.#currentLocationMax = -1;
    assert(this.#current.size === 0 && this.#previous.size >= this.capacity, 'a rotation starts an empty generation after a full one');
  }

  #newTable(): IdTable {
    return new IdTable(this.idsExpected);
  }
}
