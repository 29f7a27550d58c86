// Open-addressing hash table from u128 ids, read straight from record bytes, to a
// non-negative integer (an account slot or a journal location, < 2^53). Typed arrays and
// no per-id strings keep the posting path free of allocation and far below V8 Map costs.
// The table is split into `idTablePartitions` parts by hash so that growing rehashes one small
// part at a time: a pause of milliseconds, never a stall of the whole shard.
// Id zero never occurs (id_invalid), so an all-zero key marks an empty bucket.

import { assert } from './assert.js';
import { idTablePartitions } from './limits.js';

const partCapacityInitial = 1 << 8;
const keyWords = 4;
const partitionShift = 32 - Math.log2(idTablePartitions);
assert(Number.isInteger(Math.log2(idTablePartitions)), 'idTablePartitions is a power of two');

export class IdTable {
  private readonly parts: IdTablePart[] = [];
  /** Ids stored; checked before probing, so an empty table (say, no failures yet) costs nothing. */
  size = 0;

  constructor() {
    for (let i = 0; i < idTablePartitions; i++) this.parts.push(new IdTablePart());
  }

  /** The value for the id at `at`, or -1 when absent. */
  getAt(view: DataView, at: number): number {
    if (this.size === 0) return -1;
    const w0 = view.getUint32(at, true);
    const w1 = view.getUint32(at + 4, true);
    const w2 = view.getUint32(at + 8, true);
    const w3 = view.getUint32(at + 12, true);
    const h = hash(w0, w1, w2, w3);
    return this.parts[h >>> partitionShift]!.get(w0, w1, w2, w3, h);
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
    const part = this.parts[h >>> partitionShift]!;
    const before = part.size;
    part.set(w0, w1, w2, w3, h, value);
    this.size += part.size - before;
  }

  deleteAt(view: DataView, at: number): void {
    const w0 = view.getUint32(at, true);
    const w1 = view.getUint32(at + 4, true);
    const w2 = view.getUint32(at + 8, true);
    const w3 = view.getUint32(at + 12, true);
    const h = hash(w0, w1, w2, w3);
    const part = this.parts[h >>> partitionShift]!;
    const before = part.size;
    part.delete(w0, w1, w2, w3, h);
    this.size += part.size - before;
  }
}

/** One part: linear probing, power-of-two capacity, grows at 50% load. */
class IdTablePart {
  private keys = new Uint32Array(partCapacityInitial * keyWords);
  private values = new Float64Array(partCapacityInitial);
  private mask = partCapacityInitial - 1;
  size = 0;

  get(w0: number, w1: number, w2: number, w3: number, h: number): number {
    const bucket = this.find(w0, w1, w2, w3, h);
    return this.isEmpty(bucket) ? -1 : this.values[bucket]!;
  }

  set(w0: number, w1: number, w2: number, w3: number, h: number, value: number): void {
    let bucket = this.find(w0, w1, w2, w3, h);
    if (this.isEmpty(bucket)) {
      if ((this.size + 1) * 2 > this.mask + 1) {
        this.grow();
        bucket = this.find(w0, w1, w2, w3, h);
      }
      this.place(bucket, w0, w1, w2, w3);
      this.size++;
    }
    this.values[bucket] = value;
  }

  /** Backward-shift deletion keeps every probe chain intact without tombstones. */
  delete(w0: number, w1: number, w2: number, w3: number, h: number): void {
    let hole = this.find(w0, w1, w2, w3, h);
    if (this.isEmpty(hole)) return;
    this.size--;
    const keys = this.keys;
    for (let next = (hole + 1) & this.mask; !this.isEmpty(next); next = (next + 1) & this.mask) {
      const k = next * keyWords;
      const home = hash(keys[k]!, keys[k + 1]!, keys[k + 2]!, keys[k + 3]!) & this.mask;
      // `next` stays unless its home lies cyclically outside (hole, next].
      const stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (stays) continue;
      keys.copyWithin(hole * keyWords, k, k + keyWords);
      this.values[hole] = this.values[next]!;
      hole = next;
    }
    keys.fill(0, hole * keyWords, hole * keyWords + keyWords);
  }

  private place(bucket: number, w0: number, w1: number, w2: number, w3: number): void {
    const k = bucket * keyWords;
    this.keys[k] = w0;
    this.keys[k + 1] = w1;
    this.keys[k + 2] = w2;
    this.keys[k + 3] = w3;
  }

  private isEmpty(bucket: number): boolean {
    const k = bucket * keyWords;
    const keys = this.keys;
    return (keys[k]! | keys[k + 1]! | keys[k + 2]! | keys[k + 3]!) === 0;
  }

  /** The bucket holding the id, or the empty bucket where it would go. */
  private find(w0: number, w1: number, w2: number, w3: number, h: number): number {
    const keys = this.keys;
    for (let bucket = h & this.mask; ; bucket = (bucket + 1) & this.mask) {
      const k = bucket * keyWords;
      const k0 = keys[k]!;
      const k1 = keys[k + 1]!;
      const k2 = keys[k + 2]!;
      const k3 = keys[k + 3]!;
      if (k0 === w0 && k1 === w1 && k2 === w2 && k3 === w3) return bucket;
      if ((k0 | k1 | k2 | k3) === 0) return bucket;
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const capacity = (this.mask + 1) * 2;
    this.keys = new Uint32Array(capacity * keyWords);
    this.values = new Float64Array(capacity);
    this.mask = capacity - 1;
    for (let bucket = 0; bucket < oldValues.length; bucket++) {
      const k = bucket * keyWords;
      const w0 = oldKeys[k]!;
      const w1 = oldKeys[k + 1]!;
      const w2 = oldKeys[k + 2]!;
      const w3 = oldKeys[k + 3]!;
      if ((w0 | w1 | w2 | w3) === 0) continue;
      const target = this.find(w0, w1, w2, w3, hash(w0, w1, w2, w3));
      this.place(target, w0, w1, w2, w3);
      this.values[target] = oldValues[bucket]!;
    }
  }
}

function hash(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0, 0x9e3779b1) ^ Math.imul(w1, 0x85ebca77) ^ Math.imul(w2, 0xc2b2ae3d) ^ Math.imul(w3, 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}
