// The byte writer and reader of a ledger checkpoint's body (core/posting/ledger-checkpoint.ts): little-endian
// fields, typed arrays copied whole (one memcpy, never an element loop), bigints as u128 or i64. The reader
// checks every length against what is left, so a truncated or garbled body fails an assertion, never reads
// past its end. Nothing here knows the sections: only their bytes.

import { assert } from '../assert.js';
import { idKeyAt, readU128, writeIdKeyAt, writeU128 } from '../u128.js';

const capacityInitial = 1 << 16;

export class CheckpointWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;

  /** `bytesExpected`: a size hint, so a large body is not copied again at every doubling. */
  constructor(bytesExpected = capacityInitial) {
    this.#bytes = new Uint8Array(Math.max(capacityInitial, bytesExpected));
    this.#view = new DataView(this.#bytes.buffer);
  }
  /** Told where each section begins (diagnostics only). */
  onSection: ((tag: number, at: number) => void) | null = null;

  get length(): number {
    return this.#length;
  }

  u8(value: number): void {
    this.#reserve(1);
    this.#view.setUint8(this.#length, value);
    this.#length += 1;
  }

  u32(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff, 'a u32 field holds a u32');
    this.#reserve(4);
    this.#view.setUint32(this.#length, value, true);
    this.#length += 4;
  }

  /** A double: slots, seqs, counters and locations (integers below 2^53) and the delay figures of hot buffers. */
  f64(value: number): void {
    this.#reserve(8);
    this.#view.setFloat64(this.#length, value, true);
    this.#length += 8;
  }

  i64(value: bigint): void {
    this.#reserve(8);
    this.#view.setBigInt64(this.#length, value, true);
    this.#length += 8;
  }

  u128(value: bigint): void {
    this.#reserve(16);
    writeU128(this.#view, this.#length, value);
    this.#length += 16;
  }

  /** An id map key (u128.idKey): 8 UTF-16 code units. */
  key(key: string): void {
    assert(key.length === 8, 'an id key is 8 code units');
    this.#reserve(16);
    writeIdKeyAt(this.#view, this.#length, key);
    this.#length += 16;
  }

  /** A length (f64) then the bytes; typed arrays go through their bytes. */
  bytes(value: ArrayBufferView): void {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    this.f64(bytes.byteLength);
    this.#reserve(bytes.byteLength);
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.byteLength;
  }

  /** Zeroes one u32 per record in bytes already written: `count` records of `strideBytes` from `from`, at `offset` in each. */
  zeroColumn(from: number, strideBytes: number, count: number, offset: number): void {
    assert(from + count * strideBytes <= this.#length, 'a zeroed column lies in what was written');
    const view = this.#view;
    for (let i = 0, at = from + offset; i < count; i++, at += strideBytes) view.setUint32(at, 0, true);
  }

  /** The body written so far (a view; the writer is done with it). */
  finish(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  #reserve(bytes: number): void {
    if (this.#length + bytes <= this.#bytes.byteLength) return;
    let capacity = this.#bytes.byteLength * 2;
    while (capacity < this.#length + bytes) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = next;
    this.#view = new DataView(next.buffer);
  }
}

export class CheckpointReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #at = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.#at;
  }

  get done(): boolean {
    return this.#at === this.#bytes.byteLength;
  }

  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.#at++);
  }

  u32(): number {
    this.#need(4);
    const value = this.#view.getUint32(this.#at, true);
    this.#at += 4;
    return value;
  }

  f64(): number {
    this.#need(8);
    const value = this.#view.getFloat64(this.#at, true);
    this.#at += 8;
    return value;
  }

  /** An f64 field that must hold a count or a slot (a non-negative safe integer). */
  count(): number {
    const value = this.f64();
    assert(Number.isSafeInteger(value) && value >= 0, 'a checkpoint count is a non-negative integer');
    return value;
  }

  i64(): bigint {
    this.#need(8);
    const value = this.#view.getBigInt64(this.#at, true);
    this.#at += 8;
    return value;
  }

  u128(): bigint {
    this.#need(16);
    const value = readU128(this.#view, this.#at);
    this.#at += 16;
    return value;
  }

  key(): string {
    this.#need(16);
    const key = idKeyAt(this.#view, this.#at);
    this.#at += 16;
    return key;
  }

  /** A copy of the next length-prefixed bytes (aligned afresh, so typed views of any width fit). */
  bytes(): Uint8Array {
    const length = this.count();
    this.#need(length);
    // A fresh buffer, not slice(): on a Node Buffer (a file read) slice is a view into a shared pool.
    const copy = new Uint8Array(length);
    copy.set(this.#bytes.subarray(this.#at, this.#at + length));
    this.#at += length;
    return copy;
  }

  u32Array(): Uint32Array {
    const bytes = this.bytes();
    assert(bytes.byteLength % 4 === 0, 'a u32 array is whole words');
    return new Uint32Array(bytes.buffer, 0, bytes.byteLength / 4);
  }

  f64Array(): Float64Array {
    const bytes = this.bytes();
    assert(bytes.byteLength % 8 === 0, 'an f64 array is whole doubles');
    return new Float64Array(bytes.buffer, 0, bytes.byteLength / 8);
  }

  bigU64Array(): BigUint64Array {
    const bytes = this.bytes();
    assert(bytes.byteLength % 8 === 0, 'a u64 array is whole words');
    return new BigUint64Array(bytes.buffer, 0, bytes.byteLength / 8);
  }

  #need(bytes: number): void {
    assert(this.#at + bytes <= this.#bytes.byteLength, 'a checkpoint body ends where its fields say');
  }
}
