// The journal's id index on disk (one shard): where every id an entry took lives, so that the id caches
// (core/accounts/id-cache.ts) may forget old ids and a retry of any age still finds its original. Written in
// the same LMDB transaction as its entry (JournalStore.append calls write() in the entry's event turn), one
// value per entry and a few keys per entry, never one put per transfer on the common path:
//   idx          seq → the entry's owned ids: n u32 fingerprints of the id, ascending, then n u16 slots
//                `index | table << 13` in the same order (6 B per id: a lookup reads this value, never the entry,
//                until a fingerprint matches; then the entry's own bytes confirm the id);
//   idBuckets    (ms >> 4 u48 BE ‖ seq u48 BE) → u8 table mask, one key per distinct 16-ms bucket of the ids
//                whose 48-bit millisecond prefix (newId(): `ms << 80 | random`) lies within ±1 h of the entry;
//   idStragglers (table u8 ‖ id 16 B) → f64 location, for every other id (not time-ordered: 1n, 2n, …).
// An id is read from its event at idKeyOffset(table): the event's id, or for a resolution the hold it closed.
// A fresh id costs no read: a bucketed id above the highest bucket of the evicted entries is in memory or new,
// and stragglers pass a Bloom filter first (rebuilt at open by scanning the straggler keys: ~1 µs each).
// Every hit is checked against the entry's own bytes, so keys a discarded entry left behind never answer.

import type { Database, RootDatabase } from 'lmdb';
import { assert } from '../../core/assert.js';
import { IdTableKind, idKeyOffset, idTableKinds, ownedIdIndexBits, type IdIndexSource, type IdTableKindNumber } from '../../core/accounts/id-cache.js';
import { eventOffset, readJournalHeader, RecordSlice } from '../../core/posting/journal-entry.js';
import { locationEventsPerBatchMax } from '../../core/limits.js';
import { quietCommitFailure } from '../storage/commit-failures.js';

/** Milliseconds per bucket key: ids of one batch usually share one or two. */
const bucketMs = 16;
/** Ids whose millisecond prefix is this far from their entry's timestamp are kept as stragglers. */
const bucketWindowMs = 3_600_000;
/** Bits of the straggler Bloom filter (2 MiB): ~1% false positives at 1.7M stragglers, k = 4. */
const stragglerFilterBits = 1 << 24;
const stragglerFilterHashes = 4;
const indexMask = (1 << ownedIdIndexBits) - 1;
/** Bits of an event's index in a stored slot (locationEventsPerBatchMax = 2^13); the table sits above them. */
const slotIndexBits = 13;
const slotIndexMask = (1 << slotIndexBits) - 1;
// Three bits of table above the index in a u16 slot, eight in a bucket's u8 mask: every table fits both.
assert(Math.max(...idTableKinds) < 1 << (16 - slotIndexBits), 'every id table fits a stored slot and a bucket mask');
const fingerprintSeed = 0x2545f491;
const bucketKeyBytes = 12;
const stragglerKeyBytes = 17;

/** The names of the databases the index adds to a shard's environment. */
export const idIndexDatabases = ['idx', 'idBuckets', 'idStragglers'] as const;

/** What the index needs of its journal store. */
export interface IdIndexJournal {
  /** Record `index` of entry `seq` as a RecordSlice with its event part at least (the id is all this reads), or undefined. */
  recordSlice(seq: number, index: number): Uint8Array | undefined;
  /** Highest seq on disk or in flight: a noted entry at or below it is a replayed one. */
  readonly seqLast: number;
  /** Highest seq durable with every seq below it. */
  readonly seqDurable: number;
}

/** The index values one entry owns, derived from its bytes and its owned ids. */
interface DerivedIndex {
  seq: number;
  /** The `idx` value: fingerprints ascending, then the slots in the same order. */
  index: Uint8Array;
  buckets: Map<number, number>;
  stragglers: { key: Uint8Array; value: Uint8Array }[];
  /** Per table, the highest bucket among its bucketed ids (−1: none). */
  bucketMax: Float64Array;
}

export class IdIndex implements IdIndexSource {
  /** Lookups that touched the disk (tests prove fresh ids cost none). */
  diskReads = 0;
  readonly #idx: Database<Uint8Array, number>;
  readonly #buckets: Database<Uint8Array, Uint8Array>;
  readonly #stragglers: Database<Uint8Array, Uint8Array>;
  readonly #journal: IdIndexJournal;
  readonly #filter = new Uint32Array(stragglerFilterBits / 32);
  /** Per table, the highest bucket of the ids of entries its cache dropped (−1: none dropped). */
  readonly #bucketMaxEvicted = new Float64Array(idTableKinds.length).fill(-1);
  /** Per table, (seq, highest bucket) of the entries noted and not dropped yet, oldest first. */
  readonly #noted = idTableKinds.map(() => new SeqBuckets());
  #bucketMin = Infinity;
  /**
   * The last entry applied that took ids. Replay reads entries already indexed on disk: an id found in a later
   * entry was not taken yet at this point of the history, so it must not answer (it would turn ok into exists).
   */
  #seqApplied = 0;
  /** The live entry noted and not yet appended. */
  #pending: DerivedIndex | null = null;
  /** Replayed entries whose index is being rewritten (a store written before the index existed). */
  #repairsInFlight = 0;
  #repairSeqFirst = Infinity;
  /** Opened on a read-only store (tally verify --incremental): never rewrites a missing entry's index. */
  readonly #readOnly: boolean;
  /** Replayed entries whose index is missing and, read-only, was not rewritten (their ids may not answer). */
  entriesUnindexed = 0;

  /**
   * The index of a store opened read-only (JournalStore.openReadOnly), or null when the store predates it
   * (its databases are absent; a read-only environment cannot create them).
   */
  static openReadOnly(root: RootDatabase, journal: IdIndexJournal): IdIndex | null {
    for (const name of idIndexDatabases) if ((root.openDB({ name, encoding: 'binary', keyEncoding: 'binary' }) as unknown) === undefined) return null;
    return new IdIndex(root, journal, true);
  }

  constructor(root: RootDatabase, journal: IdIndexJournal, readOnly = false) {
    this.#journal = journal;
    this.#readOnly = readOnly;
    const binary = { encoding: 'binary', keyEncoding: 'binary', cache: false, compression: false, useVersions: false, dupSort: false } as const;
    this.#idx = root.openDB<Uint8Array, number>({ name: 'idx', ...binary, keyEncoding: 'ordered-binary' });
    this.#buckets = root.openDB<Uint8Array, Uint8Array>({ name: 'idBuckets', ...binary });
    this.#stragglers = root.openDB<Uint8Array, Uint8Array>({ name: 'idStragglers', ...binary });
    for (const key of this.#buckets.getKeys({ limit: 1 })) this.#bucketMin = bucketOfKey(key);
    // The documented cost of opening: one pass over the straggler keys (none when every id came from newId()).
    for (const key of this.#stragglers.getKeys()) this.#addToFilter(key[0]!, new DataView(key.buffer, key.byteOffset + 1, 16), 0);
  }

  /**
   * Through which seq the index answers for every entry: durable, rewritten if it was missing, and applied (noted).
   * In replay every entry is durable, yet the ids of the entry being applied are not noted before it ends: a
   * cache must not drop them meanwhile (its threshold of evicted buckets would not cover them).
   */
  get seqDurable(): number {
    return Math.min(this.#journal.seqDurable, this.#repairSeqFirst - 1, this.#seqApplied);
  }

  findId(table: IdTableKindNumber, view: DataView, at: number): number {
    const bucket = bucketOfId(view, at);
    if (bucket >= this.#bucketMin && bucket <= this.#bucketMaxEvicted[table]!) {
      const location = this.#findBucketed(table, bucket, view, at);
      if (location >= 0) return location;
    }
    if (!this.#mayHoldStraggler(table, view, at)) return -1;
    return this.#findStraggler(table, view, at);
  }

  evictedThrough(table: IdTableKindNumber, seq: number): void {
    const bucketMax = this.#noted[table]!.takeThrough(seq);
    if (bucketMax > this.#bucketMaxEvicted[table]!) this.#bucketMaxEvicted[table] = bucketMax;
  }

  /**
   * Every entry through `seq` is on disk only (a state restored from a checkpoint at `seq`, with empty caches):
   * ids at or below the highest bucket stored may be there. Conservative: costs reads, never a wrong answer.
   */
  restoredThrough(seq: number): void {
    this.markDiskOnlyThrough(seq);
  }

  markDiskOnlyThrough(seq: number): void {
    assert(seq <= this.#journal.seqDurable, 'entries marked disk-only are durable');
    this.#seqApplied = Math.max(this.#seqApplied, seq);
    // The highest bucket of the entries through `seq` only: the keys of later entries (the tail a restart replays
    // next, at the top of the range) are skipped. Taking the very highest key made every id the tail replays look
    // possibly old, so each cost a disk search (measured: 117 entries replayed in 10 s instead of ~2).
    for (const key of this.#buckets.getKeys({ reverse: true })) {
      if (seqOfBucketKey(key) > seq) continue;
      const bucketMax = bucketOfKey(key);
      for (const table of idTableKinds) this.#bucketMaxEvicted[table] = Math.max(this.#bucketMaxEvicted[table]!, bucketMax);
      break;
    }
  }

  noteOwnedIds(seq: number, entry: Uint8Array, owned: Uint32Array): void {
    assert(seq > this.#seqApplied, 'entries are applied in seq order');
    this.#seqApplied = seq;
    const derived = deriveIndex(seq, entry, owned);
    for (const table of idTableKinds) if (derived.bucketMax[table]! >= 0) this.#noted[table]!.push(seq, derived.bucketMax[table]!);
    for (const bucket of derived.buckets.keys()) if (bucket < this.#bucketMin) this.#bucketMin = bucket;
    for (const { key } of derived.stragglers) this.#addToFilter(key[0]!, new DataView(key.buffer, key.byteOffset + 1, 16), 0);
    if (seq > this.#journal.seqLast) {
      assert(this.#pending === null, `entry ${this.#pending?.seq} noted ids but was never appended`);
      this.#pending = derived;
      return;
    }
    // A replayed entry: its index went with it, unless the store predates the index (then written now, idempotently).
    if (this.#idx.doesExist(seq)) return;
    if (this.#readOnly) {
      this.entriesUnindexed++;
      return;
    }
    this.#repairSeqFirst = Math.min(this.#repairSeqFirst, seq);
    this.#repairsInFlight++;
    this.#put(derived).then(
      () => {
        if (--this.#repairsInFlight === 0) this.#repairSeqFirst = Infinity;
      },
      quietCommitFailure, // the caches keep every id meanwhile (seqDurable stays below this seq): safe, not lost
    );
  }

  /** Called by JournalStore.append in the entry's own event turn: the index joins the entry's transaction. */
  write(seq: number): void {
    const pending = this.#pending;
    if (pending === null) return;
    assert(pending.seq === seq, `ids noted for entry ${pending.seq} but entry ${seq} appended`);
    this.#pending = null;
    void this.#put(pending).catch(quietCommitFailure); // the journal put's own promise reports the commit
  }

  /** Index values of entries removed after `seq` (never acknowledged), inside the caller's transaction. */
  removeAfter(seqs: readonly number[]): void {
    for (const seq of seqs) void this.#idx.remove(seq);
  }

  /** The puts of one entry's index; the promise settles with their commit. */
  #put(derived: DerivedIndex): Promise<unknown> {
    let last: Promise<unknown> = this.#idx.put(derived.seq, derived.index);
    for (const [bucket, mask] of derived.buckets) last = this.#buckets.put(bucketKey(bucket, derived.seq), Uint8Array.of(mask));
    for (const { key, value } of derived.stragglers) last = this.#stragglers.put(key, value);
    return last;
  }

  #findBucketed(table: IdTableKindNumber, bucket: number, view: DataView, at: number): number {
    this.diskReads++;
    for (const { key, value } of this.#buckets.getRange({ start: bucketKey(bucket, 0), end: bucketKey(bucket + 1, 0) })) {
      const seq = seqOfBucketKey(key);
      if ((value[0]! & (1 << table)) === 0 || seq > this.#seqApplied) continue;
      const location = this.#searchEntry(seq, table, view, at);
      if (location >= 0) return location;
    }
    return -1;
  }

  /**
   * The id's location in entry `seq`: its fingerprint looked up in the entry's index (read into lmdb-js's shared
   * buffer, used up before the next read), then each slot that matches confirmed against the entry itself.
   */
  #searchEntry(seq: number, table: IdTableKindNumber, view: DataView, at: number): number {
    const index = this.#idx.getBinaryFast(seq);
    if (index === undefined) return -1;
    // lmdb-js's reused buffer is longer than the value: its `length` (set per read) is the value's.
    const slots = slotsOf(new Uint8Array(index.buffer, index.byteOffset, index.length), table, view, at);
    for (const eventIndex of slots) {
      // One record out of the entry's pieces, not the whole entry (entry-pieces.ts).
      const record = this.#journal.recordSlice(seq, eventIndex);
      if (record === undefined) return -1;
      const recordView = new DataView(record.buffer, record.byteOffset, record.byteLength);
      if (compareIdsAt(recordView, RecordSlice.event + idKeyOffset(table), view, at) === 0) return seq * locationEventsPerBatchMax + eventIndex;
    }
    return -1;
  }

  #findStraggler(table: IdTableKindNumber, view: DataView, at: number): number {
    this.diskReads++;
    const stored = this.#stragglers.get(stragglerKey(table, view, at));
    if (stored === undefined) return -1;
    const location = new DataView(stored.buffer, stored.byteOffset, stored.byteLength).getFloat64(0, true);
    const seq = Math.floor(location / locationEventsPerBatchMax);
    if (seq > this.#seqApplied) return -1; // replay has not reached the entry that took it
    // Checked against the entry's own index: a key left by an entry a recovery discarded (past a gap, never
    // acknowledged) may name a seq written again since, whose event there has another id, or this id in another table.
    return this.#searchEntry(seq, table, view, at) === location ? location : -1;
  }

  #mayHoldStraggler(table: number, view: DataView, at: number): boolean {
    return this.#addToFilter(table, view, at, false);
  }

  /** Sets (or with `set` false, tests) the id's filter bits; returns whether all were set before. */
  #addToFilter(table: number, view: DataView, at: number, set = true): boolean {
    const w0 = view.getUint32(at, true) ^ table;
    const w1 = view.getUint32(at + 4, true);
    const w2 = view.getUint32(at + 8, true);
    const w3 = view.getUint32(at + 12, true);
    const h1 = mix(w0, w1, w2, w3, 0x9e3779b1);
    const h2 = mix(w3, w2, w1, w0, 0x85ebca77) | 1;
    let all = true;
    for (let k = 0; k < stragglerFilterHashes; k++) {
      const bit = (h1 + Math.imul(k, h2)) & (stragglerFilterBits - 1);
      const mask = 1 << (bit & 31);
      if ((this.#filter[bit >>> 5]! & mask) === 0) {
        all = false;
        if (!set) return false;
        this.#filter[bit >>> 5]! |= mask;
      }
    }
    return all;
  }
}

/** Per table: the seq and highest bucket of each noted entry, oldest first (a queue over two growing arrays). */
class SeqBuckets {
  #seqs: number[] = [];
  #buckets: number[] = [];
  #head = 0;

  push(seq: number, bucket: number): void {
    assert(this.#seqs.length === this.#head || this.#seqs[this.#seqs.length - 1]! < seq, 'entries are noted in seq order');
    this.#seqs.push(seq);
    this.#buckets.push(bucket);
  }

  /** Removes the entries through `seq`; returns their highest bucket (−1: none). */
  takeThrough(seq: number): number {
    let bucketMax = -1;
    while (this.#head < this.#seqs.length && this.#seqs[this.#head]! <= seq) bucketMax = Math.max(bucketMax, this.#buckets[this.#head++]!);
    if (this.#head > 1024 && this.#head * 2 > this.#seqs.length) {
      this.#seqs = this.#seqs.slice(this.#head);
      this.#buckets = this.#buckets.slice(this.#head);
      this.#head = 0;
    }
    return bucketMax;
  }
}

/**
 * The index values of entry `seq`: its owned ids by fingerprint, bucketed or as stragglers. Per id a few reads
 * and a sort key (fingerprint × 2^16 + slot, below 2^48: exact in a double), sorted natively, no comparator.
 */
export function deriveIndex(seq: number, entry: Uint8Array, owned: Uint32Array): DerivedIndex {
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const entryMs = Number(readJournalHeader(entry).timestampBase / 1_000_000n);
  const count = owned.length;
  const keys = new Float64Array(count);
  const derived: DerivedIndex = { seq, index: new Uint8Array(count * 6), buckets: new Map(), stragglers: [], bucketMax: new Float64Array(idTableKinds.length).fill(-1) };
  let bucketLast = -1;
  let maskLast = 0;
  // Straggler keys and values, carved out of one buffer (allocated at the first straggler).
  let stragglerBytes: Uint8Array | null = null;
  for (let i = 0; i < count; i++) {
    const word = owned[i]!;
    const eventIndex = word & indexMask;
    const table = (word >>> ownedIdIndexBits) as IdTableKindNumber;
    assert(table <= IdTableKind.resolutions && eventIndex < locationEventsPerBatchMax, 'an owned id names an event and one of the id tables');
    // The key's own place in its event: the event id, or for a resolution the hold it closes (idKeyOffset).
    const at = eventOffset(eventIndex) + idKeyOffset(table);
    const w2 = view.getUint32(at + 8, true);
    const w3 = view.getUint32(at + 12, true);
    keys[i] = mix(view.getUint32(at, true), view.getUint32(at + 4, true), w2, w3, fingerprintSeed) * 0x1_0000 + (eventIndex | (table << slotIndexBits));
    const ms = w3 * 0x1_0000 + (w2 >>> 16); // the top 48 bits: newId()'s milliseconds
    if (Math.abs(ms - entryMs) > bucketWindowMs) {
      stragglerBytes ??= new Uint8Array((count - i) * (stragglerKeyBytes + 8));
      const from = derived.stragglers.length * (stragglerKeyBytes + 8);
      derived.stragglers.push(straggler(stragglerBytes, from, table, entry, at, seq * locationEventsPerBatchMax + eventIndex));
      continue;
    }
    const bucket = Math.floor(ms / bucketMs);
    if (bucket > derived.bucketMax[table]!) derived.bucketMax[table] = bucket;
    // Ids of one client come in time order: the map is touched once per run of a bucket and table, not once per id.
    if (bucket === bucketLast && (maskLast & (1 << table)) !== 0) continue;
    maskLast = (bucket === bucketLast ? maskLast : (derived.buckets.get(bucket) ?? 0)) | (1 << table);
    bucketLast = bucket;
    derived.buckets.set(bucket, maskLast);
  }
  keys.sort();
  const out = new DataView(derived.index.buffer);
  for (let k = 0; k < count; k++) {
    const fingerprint = Math.floor(keys[k]! / 0x1_0000);
    out.setUint32(k * 4, fingerprint, true);
    out.setUint16(count * 4 + k * 2, keys[k]! - fingerprint * 0x1_0000, true);
  }
  return derived;
}

/** The events of `table` in an `idx` value whose fingerprint is the id's at `at` (candidates: confirm each). */
export function slotsOf(index: Uint8Array, table: number, view: DataView, at: number): number[] {
  const count = index.length / 6;
  assert(Number.isInteger(count), 'an idx value holds 6 bytes per id');
  const values = new DataView(index.buffer, index.byteOffset, index.length);
  const fingerprint = mix(view.getUint32(at, true), view.getUint32(at + 4, true), view.getUint32(at + 8, true), view.getUint32(at + 12, true), fingerprintSeed);
  let low = 0;
  let high = count;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (values.getUint32(mid * 4, true) < fingerprint) low = mid + 1;
    else high = mid;
  }
  const found: number[] = [];
  for (let k = low; k < count && values.getUint32(k * 4, true) === fingerprint; k++) {
    const slot = values.getUint16(count * 4 + k * 2, true);
    if (slot >>> slotIndexBits === table) found.push(slot & slotIndexMask);
  }
  return found;
}

/** A straggler's key (table ‖ id) and value (f64 location) written into `bytes` at `from`. */
function straggler(bytes: Uint8Array, from: number, table: number, entry: Uint8Array, at: number, location: number): { key: Uint8Array; value: Uint8Array } {
  const key = bytes.subarray(from, from + stragglerKeyBytes);
  key[0] = table;
  key.set(entry.subarray(at, at + 16), 1);
  const value = bytes.subarray(from + stragglerKeyBytes, from + stragglerKeyBytes + 8);
  new DataView(bytes.buffer, value.byteOffset, 8).setFloat64(0, location, true);
  return { key, value };
}

/** The top 48 bits of the u128 id at `at` (stored little-endian: bytes 10..15): its millisecond prefix. */
function msOfId(view: DataView, at: number): number {
  return view.getUint16(at + 10, true) + view.getUint32(at + 12, true) * 0x1_0000;
}

function bucketOfId(view: DataView, at: number): number {
  return Math.floor(msOfId(view, at) / bucketMs);
}

/** u128 order of two ids stored little-endian. */
function compareIdsAt(a: DataView, aAt: number, b: DataView, bAt: number): number {
  for (let w = 12; w >= 0; w -= 4) {
    const x = a.getUint32(aAt + w, true);
    const y = b.getUint32(bAt + w, true);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function bucketKey(bucket: number, seq: number): Uint8Array {
  const key = new Uint8Array(bucketKeyBytes);
  const view = new DataView(key.buffer);
  view.setUint16(0, Math.floor(bucket / 0x1_0000_0000));
  view.setUint32(2, bucket % 0x1_0000_0000);
  view.setUint16(6, Math.floor(seq / 0x1_0000_0000));
  view.setUint32(8, seq % 0x1_0000_0000);
  return key;
}

function bucketOfKey(key: Uint8Array): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return view.getUint16(0) * 0x1_0000_0000 + view.getUint32(2);
}

function seqOfBucketKey(key: Uint8Array): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return view.getUint16(6) * 0x1_0000_0000 + view.getUint32(8);
}

function stragglerKey(table: number, view: DataView, at: number): Uint8Array {
  const key = new Uint8Array(stragglerKeyBytes);
  key[0] = table;
  key.set(new Uint8Array(view.buffer, view.byteOffset + at, 16), 1);
  return key;
}

function mix(w0: number, w1: number, w2: number, w3: number, seed: number): number {
  let h = Math.imul(w0 ^ seed, 0xcc9e2d51) ^ Math.imul(w1, 0x1b873593) ^ Math.imul(w2, 0xe6546b64) ^ Math.imul(w3, 0x85ebca6b);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}
