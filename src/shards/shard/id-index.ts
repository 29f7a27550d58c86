// The journal's id index on disk (one shard): where every id an entry took lives, so that the id caches
// (core/accounts/id-cache.ts) may forget old ids and a retry of any age still finds its original. Written in
// the same LMDB transaction as its entry (JournalStore.append calls write() in the entry's event turn), a few
// values per entry, never one put per transfer on the common path:
//   idTimes      (ms >> 2 u48 ‖ part u8 ‖ seq u48, big-endian) → the entry's owned ids of that 4-ms bucket whose
//                fingerprint's top 5 bits are `part`: n u32 fingerprints, ascending, then n u16 slots
//                `index | table << 13` in the same order (6 B per id), for ids whose 48-bit millisecond prefix
//                (newId(): `ms << 80 | random`) lies within ±1 h of the entry. A client makes a batch's ids within a
//                millisecond or two (the bench: ~4,600 per bucket and shard), so the part splits them: a lookup reads
//                a few dozen ids, not thousands; the entry's own bytes then confirm a matching fingerprint;
//   idx          seq → a format byte, then the same for the entry's other ids (stragglers: 1n, 2n, …); its
//                presence also says the entry is indexed (a store written before the index is rewritten at replay);
//   idStragglers (table u8 ‖ id 16 B) → f64 location, for every straggler.
// Stores written before idTimes keep, for their older entries, `idBuckets` ((ms >> 4 ‖ seq) → u8 table mask) and
// an idx value of every owned id: searched after idTimes misses, read only, never written again.
// An id is read from its event at idKeyOffset(table): the event's id, or for a resolution the hold it closed.
// A fresh id costs no read: a bucketed id above the highest millisecond of the evicted entries is in memory or
// new, and stragglers pass a Bloom filter first (rebuilt at open by scanning the straggler keys: ~1 µs each).
// Every hit is checked against the entry's own bytes, and a recovery that discards entries removes their keys.

import type { Database, DatabaseOptions, RootDatabase } from 'lmdb';
import { assert } from '../../core/assert.js';
import { IdTableKind, idKeyOffset, idTableKinds, ownedIdIndexBits, type IdIndexSource, type IdTableKindNumber } from '../../core/accounts/id-cache.js';
import { eventOffset, JournalHeader, journalEntryVersion, journalHeaderBytes, readJournalHeader } from '../../core/posting/journal-entry.js';
import { eventBytes, locationEventsPerBatchMax } from '../../core/limits.js';
import { quietCommitFailure } from '../storage/commit-failures.js';
import { indexRunsOf, type IndexRun } from '../../core/posting/transfer-index.js';
import { TransferIndexStore } from './transfer-index-store.js';

/** Milliseconds per idTimes key: a few hundred ids at full speed (measured ~125k transfers/s per shard). */
const bucketMs = 4;
/** Milliseconds per key of idBuckets, the bucket table of stores written before idTimes. */
const legacyBucketMs = 16;
/** First byte of an idx value written with idTimes (an older value is 6 B per id, with no format byte). */
const stragglerIndexFormat = 2;
/** Top bits of a fingerprint that pick its part of a bucket (idTimes keys). */
const partBits = 5;
const parts = 1 << partBits;
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
const timeKeyBytes = 13;
const stragglerKeyBytes = 17;

/** The names of the databases the index adds to a shard's environment. */
export const idIndexDatabases = ['idx', 'idTimes', 'idStragglers'] as const;
/** The bucket table of stores written before idTimes (read when present, never created). */
const legacyBucketsDatabase = 'idBuckets';

/** The index keys of entries a recovery discards (IdIndex.keysOf), removed in its transaction. */
export interface IdIndexKeys {
  seqs: number[];
  times: Uint8Array[];
  transfers: Uint8Array[];
}

/** What the index needs of its journal store. */
export interface IdIndexJournal {
  /** Copies the event of record `index` of entry `seq` into `out` (the id is all this reads); false when there is none. */
  eventInto(seq: number, index: number, out: Uint8Array): boolean;
  /** Highest seq on disk or in flight: a noted entry at or below it is a replayed one. */
  readonly seqLast: number;
  /** Highest seq durable with every seq below it. */
  readonly seqDurable: number;
}

/** The index values one entry owns, derived from its bytes and its owned ids. */
interface DerivedIndex {
  seq: number;
  /** The `idx` value: the format byte, then the stragglers' fingerprints ascending and their slots in that order. */
  index: Uint8Array;
  /** Per 4-ms bucket and part (bucket × parts + part), the `idTimes` value: fingerprints ascending, then slots. */
  times: Map<number, Uint8Array>;
  stragglers: { key: Uint8Array; value: Uint8Array }[];
  /** Per table, the highest millisecond among its bucketed ids (−1: none). */
  msMax: Float64Array;
  /** The lowest millisecond among the bucketed ids (Infinity: none). */
  msMin: number;
  /** The entry's transfer index runs (query_transfers: transfer-index-store.ts), written with the rest. */
  transferRuns: IndexRun[];
}

export class IdIndex implements IdIndexSource {
  /** Lookups that touched the disk (tests prove fresh ids cost none). */
  diskReads = 0;
  readonly #idx: Database<Uint8Array, number>;
  /** Null only on a store opened read-only that a build before idTimes wrote (it cannot be created there). */
  readonly #times: Database<Uint8Array, Uint8Array> | null;
  /** idBuckets of a store written before idTimes, when it holds keys; null otherwise. */
  readonly #legacyBuckets: Database<Uint8Array, Uint8Array> | null;
  readonly #stragglers: Database<Uint8Array, Uint8Array>;
  /** The transfer index, written and removed with the id index (null: a read-only store that predates it). */
  readonly transfers: TransferIndexStore | null;
  readonly #journal: IdIndexJournal;
  readonly #filter = new Uint32Array(stragglerFilterBits / 32);
  /** Where a candidate's event is read to confirm it, and the bounds of a range of idTimes keys (reused: no allocation per lookup). */
  readonly #event = new Uint8Array(eventBytes);
  readonly #eventView = new DataView(this.#event.buffer);
  readonly #rangeStart = new Uint8Array(timeKeyBytes);
  readonly #rangeEnd = new Uint8Array(timeKeyBytes);
  /**
   * The keys between #rangeStart and #rangeEnd, made once: each search rewrites the bounds and walks it again.
   * A getKeys per search allocated an iterable, a TextDecoder and a dozen closures: with the key buffers, most
   * of the ~100 KB an old-id lookup of 100 ids left per shard for the scavenger.
   */
  #timesRange: Iterable<Uint8Array> | null = null;
  /** Per table, the highest millisecond of the bucketed ids of entries its cache dropped (−1: none dropped). */
  readonly #msMaxEvicted = new Float64Array(idTableKinds.length).fill(-1);
  /** Per table, (seq, highest millisecond) of the entries noted and not dropped yet, oldest first. */
  readonly #noted = idTableKinds.map(() => new SeqMaxima());
  /** The lowest millisecond any bucket on disk may hold. */
  #msMin = Infinity;
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
    const exists = (name: string): boolean => (root.openDB({ name, encoding: 'binary', keyEncoding: 'binary' }) as unknown) !== undefined;
    if (!exists('idx') || !exists('idStragglers') || (!exists('idTimes') && !exists(legacyBucketsDatabase))) return null;
    return new IdIndex(root, journal, true);
  }

  constructor(root: RootDatabase, journal: IdIndexJournal, readOnly = false) {
    this.#journal = journal;
    this.#readOnly = readOnly;
    const binary = { encoding: 'binary', keyEncoding: 'binary', cache: false, compression: false, useVersions: false, dupSort: false } as const;
    this.#idx = root.openDB<Uint8Array, number>({ name: 'idx', ...binary, keyEncoding: 'ordered-binary' });
    this.#times = openIfAny(root, 'idTimes', binary, !readOnly);
    this.#legacyBuckets = openIfAny(root, legacyBucketsDatabase, binary, false);
    this.#stragglers = root.openDB<Uint8Array, Uint8Array>({ name: 'idStragglers', ...binary });
    this.transfers = TransferIndexStore.open(root, readOnly);
    for (const key of this.#times?.getKeys({ limit: 1 }) ?? []) this.#msMin = bucketOfKey(key) * bucketMs;
    let legacyKeys = 0;
    for (const key of this.#legacyBuckets?.getKeys({ limit: 1 }) ?? []) {
      this.#msMin = Math.min(this.#msMin, bucketOfKey(key) * legacyBucketMs);
      legacyKeys++;
    }
    if (legacyKeys === 0) this.#legacyBuckets = null;
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
    const ms = msOfId(view, at);
    if (ms >= this.#msMin && ms <= this.#msMaxEvicted[table]!) {
      const location = this.#findTimed(table, ms, view, at);
      if (location >= 0) return location;
      if (this.#legacyBuckets !== null) {
        const legacy = this.#findLegacy(this.#legacyBuckets, table, ms, view, at);
        if (legacy >= 0) return legacy;
      }
    }
    if (!this.#mayHoldStraggler(table, view, at)) return -1;
    return this.#findStraggler(table, view, at);
  }

  evictedThrough(table: IdTableKindNumber, seq: number): void {
    const msMax = this.#noted[table]!.takeThrough(seq);
    if (msMax > this.#msMaxEvicted[table]!) this.#msMaxEvicted[table] = msMax;
  }

  /**
   * Every entry through `seq` is on disk only (a state restored from a checkpoint at `seq`, with empty caches):
   * ids at or below the highest millisecond stored may be there. Conservative: costs reads, never a wrong answer.
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
    const highest = (buckets: Database<Uint8Array, Uint8Array>, unitMs: number, seqOf: (key: Uint8Array) => number): number => {
      for (const key of buckets.getKeys({ reverse: true })) if (seqOf(key) <= seq) return (bucketOfKey(key) + 1) * unitMs - 1;
      return -1;
    };
    let msMax = this.#times === null ? -1 : highest(this.#times, bucketMs, seqOfTimeKey);
    if (this.#legacyBuckets !== null) msMax = Math.max(msMax, highest(this.#legacyBuckets, legacyBucketMs, seqOfBucketKey));
    for (const table of idTableKinds) this.#msMaxEvicted[table] = Math.max(this.#msMaxEvicted[table]!, msMax);
  }

  noteOwnedIds(seq: number, entry: Uint8Array, owned: Uint32Array): void {
    assert(seq > this.#seqApplied, 'entries are applied in seq order');
    this.#seqApplied = seq;
    const derived = deriveIndex(seq, entry, owned);
    for (const table of idTableKinds) if (derived.msMax[table]! >= 0) this.#noted[table]!.push(seq, derived.msMax[table]!);
    if (derived.msMin < this.#msMin) this.#msMin = Math.floor(derived.msMin / bucketMs) * bucketMs;
    for (const { key } of derived.stragglers) this.#addToFilter(key[0]!, new DataView(key.buffer, key.byteOffset + 1, 16), 0);
    if (seq > this.#journal.seqLast) {
      assert(this.#pending === null, `entry ${this.#pending?.seq} noted ids but was never appended`);
      if (this.transfers !== null) derived.transferRuns = indexRunsOf(seq, entry, owned);
      this.#pending = derived;
      return;
    }
    // A replayed entry: its index went with it, unless the store predates the index (then written now, idempotently).
    if (this.#idx.doesExist(seq)) return;
    if (this.#readOnly) {
      this.entriesUnindexed++;
      return;
    }
    if (this.transfers !== null) derived.transferRuns = indexRunsOf(seq, entry, owned);
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

  /**
   * The index keys of `entries` (never acknowledged: a recovery discards them), to remove in the caller's
   * transaction: their idx values, and every idTimes key any id of theirs could have made (a key left behind
   * would name a seq written again since, whose events may hold the same id in another table).
   */
  keysOf(entries: Iterable<[seq: number, entry: Uint8Array]>): IdIndexKeys {
    const seqs: number[] = [];
    const times: Uint8Array[] = [];
    const list = [...entries];
    for (const [seq, entry] of list) {
      seqs.push(seq);
      for (const group of candidateGroups(entry)) times.push(timeKeyOfGroup(group, seq));
    }
    return { seqs, times, transfers: this.transfers?.keysOf(list) ?? [] };
  }

  /** Removes keys keysOf found, inside the caller's transaction. */
  remove(keys: IdIndexKeys): void {
    for (const seq of keys.seqs) void this.#idx.remove(seq);
    for (const key of keys.times) void this.#writableTimes().remove(key);
    this.transfers?.remove(keys.transfers);
  }

  #writableTimes(): Database<Uint8Array, Uint8Array> {
    assert(this.#times !== null, 'a writable store has (creates) idTimes');
    return this.#times;
  }

  /** The puts of one entry's index; the promise settles with their commit. */
  #put(derived: DerivedIndex): Promise<unknown> {
    let last: Promise<unknown> = this.#idx.put(derived.seq, derived.index);
    for (const [group, value] of derived.times) last = this.#writableTimes().put(timeKeyOfGroup(group, derived.seq), value);
    for (const { key, value } of derived.stragglers) last = this.#stragglers.put(key, value);
    return this.transfers?.put(derived.transferRuns) ?? last;
  }

  /**
   * The id among the idTimes values of its bucket and part: each holds one entry's ids of those 4 ms and that
   * part (a few dozen), read into lmdb-js's shared buffer (no copy), the slots taken out before the next read.
   */
  #findTimed(table: IdTableKindNumber, ms: number, view: DataView, at: number): number {
    if (this.#times === null) return -1;
    this.diskReads++;
    const bucket = Math.floor(ms / bucketMs);
    const part = partOf(fingerprintAt(view, at));
    // lmdb-js reads the bounds at each step of the range: they stay untouched until the loop ends.
    writeTimeKey(this.#rangeStart, bucket, part, 0);
    writeTimeKey(this.#rangeEnd, bucket, part + 1, 0);
    this.#timesRange ??= this.#times.getKeys({ start: this.#rangeStart, end: this.#rangeEnd });
    for (const key of this.#timesRange) {
      const seq = seqOfTimeKey(key);
      if (seq > this.#seqApplied) continue;
      const value = this.#times.getBinaryFast(key);
      if (value === undefined) continue;
      const slots = slotsOf(new Uint8Array(value.buffer, value.byteOffset, value.length), table, view, at);
      for (const eventIndex of slots) {
        const location = this.#confirm(seq, eventIndex, table, view, at);
        if (location >= 0) return location;
      }
    }
    return -1;
  }

  /** The id in a store written before idTimes: its 16-ms bucket names entries whose idx value holds every id. */
  #findLegacy(buckets: Database<Uint8Array, Uint8Array>, table: IdTableKindNumber, ms: number, view: DataView, at: number): number {
    const bucket = Math.floor(ms / legacyBucketMs);
    for (const { key, value } of buckets.getRange({ start: bucketKey(bucket, 0), end: bucketKey(bucket + 1, 0) })) {
      const seq = seqOfBucketKey(key);
      if ((value[0]! & (1 << table)) === 0 || seq > this.#seqApplied) continue;
      const location = this.#searchEntry(seq, table, view, at);
      if (location >= 0) return location;
    }
    return -1;
  }

  /**
   * The id's location in entry `seq` through the entry's idx value (read into lmdb-js's shared buffer, used up
   * before the next read), each slot that matches confirmed against the entry itself.
   */
  #searchEntry(seq: number, table: IdTableKindNumber, view: DataView, at: number): number {
    const index = this.#idx.getBinaryFast(seq);
    if (index === undefined) return -1;
    // lmdb-js's reused buffer is longer than the value: its `length` (set per read) is the value's.
    const slots = slotsOf(new Uint8Array(index.buffer, index.byteOffset, index.length), table, view, at);
    for (const eventIndex of slots) {
      const location = this.#confirm(seq, eventIndex, table, view, at);
      if (location >= 0) return location;
    }
    return -1;
  }

  /** The location when event `eventIndex` of entry `seq` holds the id where `table` keys it (one record's event read), or −1. */
  #confirm(seq: number, eventIndex: number, table: IdTableKindNumber, view: DataView, at: number): number {
    // One event out of the entry's pieces, not the whole entry (entry-pieces.ts).
    if (!this.#journal.eventInto(seq, eventIndex, this.#event)) return -1;
    return compareIdsAt(this.#eventView, idKeyOffset(table), view, at) === 0 ? seq * locationEventsPerBatchMax + eventIndex : -1;
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

type BinaryOptions = { encoding: 'binary'; keyEncoding: 'binary'; cache: false; compression: false; useVersions: false; dupSort: false };

/** The database `name` when it exists (or, with `create`, made now); null when absent. */
function openIfAny(root: RootDatabase, name: string, options: BinaryOptions, create: boolean): Database<Uint8Array, Uint8Array> | null {
  try {
    // lmdb-js throws "Database not found" for an absent one without create, or, read-only, returns undefined.
    // `create` is an lmdb-js option its typings do not declare.
    const withCreate = { name, ...options, create } as DatabaseOptions & { name: string };
    return (root.openDB<Uint8Array, Uint8Array>(withCreate) as Database<Uint8Array, Uint8Array> | undefined) ?? null;
  } catch (error) {
    if (!create && error instanceof Error && /not found/i.test(error.message)) return null;
    throw error;
  }
}

/**
 * Every bucket and part (bucket × parts + part) any id of `entry` could have been indexed under: each event's
 * id and its pendingId (a resolution's key), when within the window of the entry's time. A superset: keys never
 * written are no harm.
 */
function candidateGroups(entry: Uint8Array): Set<number> {
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const groups = new Set<number>();
  // Bytes that are no journal entry (never written by a shard) made no keys.
  if (entry.byteLength < journalHeaderBytes || view.getUint16(JournalHeader.version, true) !== journalEntryVersion) return groups;
  const header = readJournalHeader(entry);
  const entryMs = Number(header.timestampBase / 1_000_000n);
  const offsets = [...new Set(idTableKinds.map(idKeyOffset))];
  for (let i = 0; i < header.count && eventOffset(i + 1) <= entry.byteLength; i++) {
    for (const offset of offsets) {
      const at = eventOffset(i) + offset;
      const ms = msOfId(view, at);
      if (Math.abs(ms - entryMs) <= bucketWindowMs) groups.add(Math.floor(ms / bucketMs) * parts + partOf(fingerprintAt(view, at)));
    }
  }
  return groups;
}

/**
 * Per table: the seq and highest millisecond of each noted entry, oldest first (a queue over two growing arrays).
 * Each item stands for an entry that put ids into that table's cache, so the queue is bounded by the cache.
 */
class SeqMaxima {
  #seqs: number[] = [];
  #maxima: number[] = [];
  #head = 0;

  push(seq: number, ms: number): void {
    assert(this.#seqs.length === this.#head || this.#seqs[this.#seqs.length - 1]! < seq, 'entries are noted in seq order');
    this.#seqs.push(seq);
    this.#maxima.push(ms);
  }

  /** Removes the entries through `seq`; returns their highest millisecond (−1: none). */
  takeThrough(seq: number): number {
    let msMax = -1;
    while (this.#head < this.#seqs.length && this.#seqs[this.#head]! <= seq) msMax = Math.max(msMax, this.#maxima[this.#head++]!);
    if (this.#head > 1024 && this.#head * 2 > this.#seqs.length) {
      this.#seqs = this.#seqs.slice(this.#head);
      this.#maxima = this.#maxima.slice(this.#head);
      this.#head = 0;
    }
    return msMax;
  }
}

/**
 * The index values of entry `seq`: its owned ids by bucket and fingerprint, or as stragglers. Per id a few reads
 * and a sort key (fingerprint × 2^16 + slot, below 2^48: exact in a double), sorted natively, no comparator.
 */
export function deriveIndex(seq: number, entry: Uint8Array, owned: Uint32Array): DerivedIndex {
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const entryMs = Number(readJournalHeader(entry).timestampBase / 1_000_000n);
  const count = owned.length;
  const derived: DerivedIndex = { seq, index: new Uint8Array(1), times: new Map(), stragglers: [], msMax: new Float64Array(idTableKinds.length).fill(-1), msMin: Infinity, transferRuns: [] };
  // Sort keys per bucket and part.
  const byGroup = new Map<number, number[]>();
  const stragglerKeys: number[] = [];
  // Straggler keys and values, carved out of one buffer (allocated at the first straggler).
  let stragglerBytes: Uint8Array | null = null;
  for (let i = 0; i < count; i++) {
    const word = owned[i]!;
    const eventIndex = word & indexMask;
    const table = (word >>> ownedIdIndexBits) as IdTableKindNumber;
    assert(table <= IdTableKind.resolutions && eventIndex < locationEventsPerBatchMax, 'an owned id names an event and one of the id tables');
    // The key's own place in its event: the event id, or for a resolution the hold it closes (idKeyOffset).
    const at = eventOffset(eventIndex) + idKeyOffset(table);
    const fingerprint = fingerprintAt(view, at);
    const sortKey = fingerprint * 0x1_0000 + (eventIndex | (table << slotIndexBits));
    const ms = msOfId(view, at);
    if (Math.abs(ms - entryMs) > bucketWindowMs) {
      stragglerBytes ??= new Uint8Array((count - i) * (stragglerKeyBytes + 8));
      const from = derived.stragglers.length * (stragglerKeyBytes + 8);
      derived.stragglers.push(straggler(stragglerBytes, from, table, entry, at, seq * locationEventsPerBatchMax + eventIndex));
      stragglerKeys.push(sortKey);
      continue;
    }
    if (ms > derived.msMax[table]!) derived.msMax[table] = ms;
    if (ms < derived.msMin) derived.msMin = ms;
    const group = Math.floor(ms / bucketMs) * parts + partOf(fingerprint);
    let keys = byGroup.get(group);
    if (keys === undefined) byGroup.set(group, (keys = []));
    keys.push(sortKey);
  }
  for (const [group, keys] of byGroup) derived.times.set(group, slotsValue(keys, 0));
  derived.index = slotsValue(stragglerKeys, 1);
  derived.index[0] = stragglerIndexFormat;
  return derived;
}

/** `keys` (fingerprint × 2^16 + slot) sorted, as n u32 fingerprints then n u16 slots, after `skip` bytes. */
function slotsValue(keys: readonly number[], skip: number): Uint8Array {
  const sorted = Float64Array.from(keys).sort();
  const count = sorted.length;
  const value = new Uint8Array(skip + count * 6);
  const out = new DataView(value.buffer, skip);
  for (let k = 0; k < count; k++) {
    const fingerprint = Math.floor(sorted[k]! / 0x1_0000);
    out.setUint32(k * 4, fingerprint, true);
    out.setUint16(count * 4 + k * 2, sorted[k]! - fingerprint * 0x1_0000, true);
  }
  return value;
}

/**
 * The events of `table` whose fingerprint is the id's at `at` (candidates: confirm each), in an idTimes value,
 * an idx value (its format byte first), or an idx value of a store written before idTimes (6 B per id, no byte).
 */
export function slotsOf(value: Uint8Array, table: number, view: DataView, at: number): number[] {
  const skip = value.length % 6;
  assert(skip === 0 || (skip === 1 && value[0] === stragglerIndexFormat), 'an index value holds 6 bytes per id, after its format byte if any');
  const count = (value.length - skip) / 6;
  const values = new DataView(value.buffer, value.byteOffset + skip, value.length - skip);
  const fingerprint = fingerprintAt(view, at);
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

/** u128 order of two ids stored little-endian. */
function compareIdsAt(a: DataView, aAt: number, b: DataView, bAt: number): number {
  for (let w = 12; w >= 0; w -= 4) {
    const x = a.getUint32(aAt + w, true);
    const y = b.getUint32(bAt + w, true);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The fingerprint of the id at `at`: what index values sort by. */
function fingerprintAt(view: DataView, at: number): number {
  return mix(view.getUint32(at, true), view.getUint32(at + 4, true), view.getUint32(at + 8, true), view.getUint32(at + 12, true), fingerprintSeed);
}

function partOf(fingerprint: number): number {
  return fingerprint >>> (32 - partBits);
}

/** The idTimes key of a group (bucket × parts + part, as DerivedIndex.times keys them) of entry `seq`. */
function timeKeyOfGroup(group: number, seq: number): Uint8Array {
  return writeTimeKey(new Uint8Array(timeKeyBytes), Math.floor(group / parts), group % parts, seq);
}

function writeTimeKey(key: Uint8Array, bucket: number, part: number, seq: number): Uint8Array {
  writeU48(key, 0, bucket);
  key[6] = part;
  writeU48(key, 7, seq);
  return key;
}

function seqOfTimeKey(key: Uint8Array): number {
  return readU48(key, 7);
}

/** A u48 big-endian, byte by byte (no DataView: these run per key of a lookup). */
function writeU48(bytes: Uint8Array, at: number, value: number): void {
  const high = Math.floor(value / 0x1_0000_0000);
  const low = value >>> 0;
  bytes[at] = high >>> 8;
  bytes[at + 1] = high & 0xff;
  bytes[at + 2] = low >>> 24;
  bytes[at + 3] = (low >>> 16) & 0xff;
  bytes[at + 4] = (low >>> 8) & 0xff;
  bytes[at + 5] = low & 0xff;
}

function readU48(bytes: Uint8Array, at: number): number {
  return (bytes[at]! * 0x100 + bytes[at + 1]!) * 0x1_0000_0000 + ((bytes[at + 2]! << 24) >>> 0) + (bytes[at + 3]! << 16) + (bytes[at + 4]! << 8) + bytes[at + 5]!;
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
  return readU48(key, 0);
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
