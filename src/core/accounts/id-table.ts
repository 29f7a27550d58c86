// Open-addressing hash table from u128 ids, read straight from record bytes, to a
// non-negative integer (an account slot or a journal location, < 2^53). Typed arrays and
// no per-id strings keep the posting path free of allocation and far below V8 Map costs.
// The table is split into `idTablePartitions` parts by hash so that growing rehashes one small
// part at a time: a pause of milliseconds, never a stall of the whole shard. Parts fill evenly (the
// hash is uniform), so each part grows at its own load between 1/2 and 3/4: otherwise all of them
// would grow within the same second (measured: 30% of a shard's time for ~3 s at a few million ids).
// Id zero never occurs (id_invalid), so an all-zero key marks an empty bucket.

import { assert } from '../assert.js';
import { idTablePartitions } from '../limits.js';

const partCapacityInitial = 1 << 8;
/** The load factors at which parts grow, spread evenly over the parts. */
const loadMin = 0.5;
const loadMax = 0.75;
const bucketWords = 8;

export class IdTable {
  private readonly parts: IdTablePart[] = [];
  /** A hash's top bits pick its part. */
  private readonly partitionShift: number;
  /** Ids stored; checked before probing, so an empty table (say, no failures yet) costs nothing. */
  size = 0;

  /**
   * `idsExpected`: ids to hold before the first rehash (memory is zeroed lazily by the OS until used).
   * `partitions`: a power of two from 2 (tests use few parts, so that probe chains collide often).
   */
  constructor(idsExpected = 0, partitions = idTablePartitions) {
    assert(Number.isInteger(Math.log2(partitions)) && partitions >= 2 && partitions <= 1 << 16, 'partitions is a power of two in 2..2^16');
    this.partitionShift = 32 - Math.log2(partitions);
    const perPart = Math.ceil((idsExpected * 2) / partitions);
    let capacity = partCapacityInitial;
    while (capacity < perPart) capacity *= 2;
    for (let i = 0; i < partitions; i++) this.parts.push(new IdTablePart(capacity, loadMin + ((loadMax - loadMin) * i) / partitions));
  }

  /** The value for the id at `at`, or -1 when absent. */
  getAt(view: DataView, at: number): number {
    if (this.size === 0) return -1;
    const w0 = view.getUint32(at, true);
    const w1 = view.getUint32(at + 4, true);
    const w2 = view.getUint32(at + 8, true);
    const w3 = view.getUint32(at + 12, true);
    const h = hash(w0, w1, w2, w3);
    return this.parts[h >>> this.partitionShift]!.get(w0, w1, w2, w3, h);
  }

  hasAt(view: DataView, at: number): boolean {
    return this.getAt(view, at) !== -1;
  }

  setAt(view: DataView, at: number, value: number): void {
    assert(value >= 0 && Number.isSafeInteger(value), 'id table values are non-negative integers');
    const w0 = view.getUint32(at, true);
    const w1 = view.getUint32(at + 4, true);
    const w2 = view.getUint32(at + 8, true);
    const w3 = view.getUint32(at + 12, true);
    assert((w0 | w1 | w2 | w3) !== 0, 'id zero cannot be stored');
    const h = hash(w0, w1, w2, w3);
    const part = this.parts[h >>> this.partitionShift]!;
    const before = part.size;
    part.set(w0, w1, w2, w3, h, value);
    this.size += part.size - before;
  }

  /**
   * Every (id, value) pair, ordered by value: ids as 4 u32 words each, values as doubles. Values are journal
   * locations or slots, unique per table, so the order is canonical: equal contents give equal arrays whatever
   * the insertion order or capacity (a checkpoint's digest depends on it).
   */
  entriesByValue(): { ids: Uint32Array; values: Float64Array } {
    const values = new Float64Array(this.size);
    const ids = new Uint32Array(this.size * 4);
    let filled = 0;
    for (const part of this.parts) filled = part.copyEntries(ids, values, filled);
    assert(filled === this.size, 'an id table holds as many ids as it counts');
    const order = orderByValue(values);
    const idsSorted = new Uint32Array(filled * 4);
    const valuesSorted = new Float64Array(filled);
    for (let i = 0; i < filled; i++) {
      const from = order[i]!;
      valuesSorted[i] = values[from]!;
      idsSorted[i * 4] = ids[from * 4]!;
      idsSorted[i * 4 + 1] = ids[from * 4 + 1]!;
      idsSorted[i * 4 + 2] = ids[from * 4 + 2]!;
      idsSorted[i * 4 + 3] = ids[from * 4 + 3]!;
    }
    return { ids: idsSorted, values: valuesSorted };
  }

  /** Inserts the pairs entriesByValue returned, in their order (a checkpoint's restore). */
  setEntries(ids: Uint32Array, values: Float64Array): void {
    assert(ids.length === values.length * 4, 'four id words per value');
    const view = new DataView(ids.buffer, ids.byteOffset, ids.byteLength);
    for (let i = 0; i < values.length; i++) this.setAt(view, i * 16, values[i]!);
  }

  deleteAt(view: DataView, at: number): void {
    const w0 = view.getUint32(at, true);
    const w1 = view.getUint32(at + 4, true);
    const w2 = view.getUint32(at + 8, true);
    const w3 = view.getUint32(at + 12, true);
    const h = hash(w0, w1, w2, w3);
    const part = this.parts[h >>> this.partitionShift]!;
    const before = part.size;
    part.delete(w0, w1, w2, w3, h);
    this.size += part.size - before;
  }
}

/**
 * One part: linear probing, power-of-two capacity, grows at its load factor (1/2..3/4). A bucket is 8 words (32 bytes,
 * never straddling a cache line): the id's 4 words, the value's low and high words, 2 unused, so
 * that a lookup followed by an insert touches one cache line.
 */
class IdTablePart {
  private buckets: Uint32Array;
  private mask: number;
  /** Ids this part holds before it grows. */
  private growAt: number;
  /** The last id looked up and not found (4 words) and the empty bucket its probe ended at (-1: none). */
  private readonly miss = new Float64Array([0, 0, 0, 0, -1]);
  size = 0;

  constructor(
    capacity: number,
    private readonly loadFactor: number,
  ) {
    this.buckets = new Uint32Array(capacity * bucketWords);
    this.mask = capacity - 1;
    this.growAt = Math.floor(capacity * loadFactor);
  }

  get(w0: number, w1: number, w2: number, w3: number, h: number): number {
    const bucket = this.find(w0, w1, w2, w3, h);
    const b = bucket * bucketWords;
    if (this.isEmptyAt(b)) {
      this.rememberMiss(w0, w1, w2, w3, bucket);
      return -1;
    }
    return this.buckets[b + 4]! + this.buckets[b + 5]! * 0x1_0000_0000;
  }

  set(w0: number, w1: number, w2: number, w3: number, h: number, value: number): void {
    let bucket = this.missedAt(w0, w1, w2, w3);
    if (bucket < 0) bucket = this.find(w0, w1, w2, w3, h);
    if (this.isEmptyAt(bucket * bucketWords)) {
      if (this.size + 1 > this.growAt) {
        this.grow();
        bucket = this.find(w0, w1, w2, w3, h);
      }
      const b = bucket * bucketWords;
      this.buckets[b] = w0;
      this.buckets[b + 1] = w1;
      this.buckets[b + 2] = w2;
      this.buckets[b + 3] = w3;
      this.size++;
    }
    const b = bucket * bucketWords;
    this.buckets[b + 4] = value % 0x1_0000_0000;
    this.buckets[b + 5] = Math.floor(value / 0x1_0000_0000);
  }

  /** Appends this part's ids (4 words each) and values from entry `from`; returns the next free entry. */
  copyEntries(ids: Uint32Array, values: Float64Array, from: number): number {
    const buckets = this.buckets;
    let next = from;
    for (let b = 0; b < buckets.length; b += bucketWords) {
      if (this.isEmptyAt(b)) continue;
      // Word by word: a subarray per id would cost an allocation each.
      const to = next * 4;
      ids[to] = buckets[b]!;
      ids[to + 1] = buckets[b + 1]!;
      ids[to + 2] = buckets[b + 2]!;
      ids[to + 3] = buckets[b + 3]!;
      values[next++] = buckets[b + 4]! + buckets[b + 5]! * 0x1_0000_0000;
    }
    return next;
  }

  /** Backward-shift deletion keeps every probe chain intact without tombstones. */
  delete(w0: number, w1: number, w2: number, w3: number, h: number): void {
    // Deleting may empty a bucket earlier on the remembered miss's probe chain: that bucket would be the right one.
    this.miss[4] = -1;
    let hole = this.find(w0, w1, w2, w3, h);
    if (this.isEmptyAt(hole * bucketWords)) return;
    this.size--;
    const buckets = this.buckets;
    for (let next = (hole + 1) & this.mask; !this.isEmptyAt(next * bucketWords); next = (next + 1) & this.mask) {
      const b = next * bucketWords;
      const home = hash(buckets[b]!, buckets[b + 1]!, buckets[b + 2]!, buckets[b + 3]!) & this.mask;
      // `next` stays unless its home lies cyclically outside (hole, next].
      const stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (stays) continue;
      buckets.copyWithin(hole * bucketWords, b, b + bucketWords);
      hole = next;
    }
    buckets.fill(0, hole * bucketWords, hole * bucketWords + bucketWords);
  }

  /**
   * The empty bucket where the last lookup of this id ended, while still valid: posting looks an id up (is it a
   * duplicate?) and inserts it a moment later, so the insert skips a second probe. Inserting other ids in between
   * cannot put this id earlier on its chain; only filling that very bucket (checked), deleting or growing can
   * invalidate it.
   */
  private missedAt(w0: number, w1: number, w2: number, w3: number): number {
    const miss = this.miss;
    const bucket = miss[4]!;
    if (bucket < 0 || miss[0] !== w0 || miss[1] !== w1 || miss[2] !== w2 || miss[3] !== w3) return -1;
    return this.isEmptyAt(bucket * bucketWords) ? bucket : -1;
  }

  private rememberMiss(w0: number, w1: number, w2: number, w3: number, bucket: number): void {
    const miss = this.miss;
    miss[0] = w0;
    miss[1] = w1;
    miss[2] = w2;
    miss[3] = w3;
    miss[4] = bucket;
  }

  private isEmptyAt(b: number): boolean {
    const buckets = this.buckets;
    return (buckets[b]! | buckets[b + 1]! | buckets[b + 2]! | buckets[b + 3]!) === 0;
  }

  /** The bucket holding the id, or the empty bucket where it would go. */
  private find(w0: number, w1: number, w2: number, w3: number, h: number): number {
    const buckets = this.buckets;
    for (let bucket = h & this.mask; ; bucket = (bucket + 1) & this.mask) {
      const b = bucket * bucketWords;
      const k0 = buckets[b]!;
      const k1 = buckets[b + 1]!;
      const k2 = buckets[b + 2]!;
      const k3 = buckets[b + 3]!;
      if (k0 === w0 && k1 === w1 && k2 === w2 && k3 === w3) return bucket;
      if ((k0 | k1 | k2 | k3) === 0) return bucket;
    }
  }

  private grow(): void {
    this.miss[4] = -1;
    const old = this.buckets;
    const capacity = (this.mask + 1) * 2;
    this.buckets = new Uint32Array(capacity * bucketWords);
    this.mask = capacity - 1;
    this.growAt = Math.floor(capacity * this.loadFactor);
    for (let b = 0; b < old.length; b += bucketWords) {
      const w0 = old[b]!;
      const w1 = old[b + 1]!;
      const w2 = old[b + 2]!;
      const w3 = old[b + 3]!;
      if ((w0 | w1 | w2 | w3) === 0) continue;
      const target = this.find(w0, w1, w2, w3, hash(w0, w1, w2, w3)) * bucketWords;
      const buckets = this.buckets;
      buckets[target] = w0;
      buckets[target + 1] = w1;
      buckets[target + 2] = w2;
      buckets[target + 3] = w3;
      buckets[target + 4] = old[b + 4]!;
      buckets[target + 5] = old[b + 5]!;
    }
  }
}

/**
 * The permutation that sorts `values` (non-negative integers below 2^53) ascending: an LSD radix sort over four
 * 16-bit digits (two of the low word, two of the high), a pass skipped when every value shares its digit. A
 * comparator sort costs ~0.5 µs per id here; this costs a few ns per id per pass.
 */
function orderByValue(values: Float64Array): Uint32Array {
  const n = values.length;
  const low = new Uint32Array(n);
  const high = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const value = values[i]!;
    assert(Number.isSafeInteger(value) && value >= 0, 'id table values are non-negative integers');
    low[i] = value % 0x1_0000_0000;
    high[i] = Math.floor(value / 0x1_0000_0000);
  }
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let spare = new Uint32Array(n);
  const counts = new Uint32Array(1 << 16);
  for (const [words, shift] of [[low, 0], [low, 16], [high, 0], [high, 16]] as const) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(words[i]! >>> shift) & 0xffff]!++;
    if (n === 0 || counts[(words[0]! >>> shift) & 0xffff] === n) continue; // one digit for all: order stands
    let sum = 0;
    for (let d = 0; d < counts.length; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const at = order[i]!;
      spare[counts[(words[at]! >>> shift) & 0xffff]!++] = at;
    }
    [order, spare] = [spare, order];
  }
  return order;
}

function hash(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0, 0x9e3779b1) ^ Math.imul(w1, 0x85ebca77) ^ Math.imul(w2, 0xc2b2ae3d) ^ Math.imul(w3, 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}
