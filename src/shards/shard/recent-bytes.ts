// Values read lately from LMDB, kept for the next reads: lmdb-js hands a value in a buffer it reuses on the next
// read, so a value kept must be copied. Copies go into the buffers of the values they push out, so a read past
// the first `capacity` allocates nothing (measured: random old-id lookups spent a fifth of their time in the
// garbage collector when each piece and head read allocated a fresh 16 KiB copy).

export class RecentBytes {
  readonly #kept = new Map<number, Uint8Array>();

  constructor(
    readonly capacity: number,
    /** The size most values have (larger ones get a buffer of their own). */
    readonly bufferBytes: number,
  ) {}

  get(key: number): Uint8Array | undefined {
    return this.#kept.get(key);
  }

  /** A copy of `bytes` kept under `key`, oldest out first: valid until `capacity` more values are kept. */
  keep(key: number, bytes: Uint8Array): Uint8Array {
    let buffer: ArrayBuffer | undefined;
    if (this.#kept.size >= this.capacity) {
      const [oldestKey, oldest] = this.#kept.entries().next().value!;
      this.#kept.delete(oldestKey);
      buffer = oldest.buffer as ArrayBuffer;
    }
    if (buffer === undefined || buffer.byteLength < bytes.byteLength) buffer = new ArrayBuffer(Math.max(this.bufferBytes, bytes.byteLength));
    const copy = new Uint8Array(buffer, 0, bytes.byteLength);
    copy.set(bytes);
    this.#kept.set(key, copy);
    return copy;
  }

  delete(key: number): void {
    this.#kept.delete(key);
  }

  clear(): void {
    this.#kept.clear();
  }
}
