// Open-addressing hash table from u128 ids, read straight from record bytes, to a
// non-negative integer (an account slot or a journal location, < 2^53). Typed arrays and
// no per-id strings keep the posting path free of allocation and far below V8 Map costs.
// Id zero never occurs (id_invalid), so an all-zero key marks an empty bucket.

import { assert } from './assert.js';

const capacityInitial = 1 << 12;
const keyWords = 4;

export class IdTable {
  private keys = new Uint32Array(capacityInitial * keyWords);
  private values = new Float64Array(capacityInitial);
  private mask = capacityInitial - 1;
  private entryCount = 0;

  get size(): number {
    return this.entryCount;
  }

  /** The value for the id at `at`, or -1 when absent. */
  getAt(view: DataView, at: number): number {
    const w0 = view.getUint32(at, true);
    const w1 = view.getUint32(at + 4, true);
    const w2 = view.getUint32(at + 8, true);
    const w3 = view.getUint32(at + 12, true);
    const bucket = this.find(w0, w1, w2, w3);
    return this.keys[bucket * keyWords] === 0 && this.isEmpty(bucket) ? -1 : this.values[bucket]!;
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
    let bucket = this.find(w0, w1, w2, w3);
    if (this.isEmpty(bucket)) {
      if ((this.entryCount + 1) * 2 > this.mask + 1) {
        this.grow();
        bucket = this.find(w0, w1, w2, w3);
      }
      const k = bucket * keyWords;
      this.keys[k] = w0;
      this.keys[k + 1] = w1;
      this.keys[k + 2] = w2;
      this.keys[k + 3] = w3;
      this.entryCount++;
    }
    this.values[bucket] = value;
  }

  /** Removes the id (backward-shift deletion keeps every probe chain intact). */
  deleteAt(view: DataView, at: number): void {
    let hole = this.find(view.getUint32(at, true), view.getUint32(at + 4, true), view.getUint32(at + 8, true), view.getUint32(at + 12, true));
    if (this.isEmpty(hole)) return;
    this.entryCount--;
    for (let next = (hole + 1) & this.mask; !this.isEmpty(next); next = (next + 1) & this.mask) {
      const k = next * keyWords;
      const home = hash(this.keys[k]!, this.keys[k + 1]!, this.keys[k + 2]!, this.keys[k + 3]!) & this.mask;
      // Move `next` into the hole unless its home lies cyclically in (hole, next].
      const stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (stays) continue;
      this.keys.copyWithin(hole * keyWords, k, k + keyWords);
      this.values[hole] = this.values[next]!;
      hole = next;
    }
    this.keys.fill(0, hole * keyWords, hole * keyWords + keyWords);
  }

  private isEmpty(bucket: number): boolean {
    const k = bucket * keyWords;
    const keys = this.keys;
    return (keys[k]! | keys[k + 1]! | keys[k + 2]! | keys[k + 3]!) === 0;
  }

  /** The bucket holding the id, or the empty bucket where it would go. */
  private find(w0: number, w1: number, w2: number, w3: number): number {
    const keys = this.keys;
    for (let bucket = hash(w0, w1, w2, w3) & this.mask; ; bucket = (bucket + 1) & this.mask) {
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
      const target = this.find(w0, w1, w2, w3);
      this.keys.set(oldKeys.subarray(k, k + keyWords), target * keyWords);
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
