// Values read lately from LMDB, kept for the next reads: lmdb-js hands a value in a buffer it reuses on the next
// read, so a value kept must be copied. Copies go into the buffers of the values they push out, so a read past
// the first `capacity` allocates nothing (measured: random old-id lookups spent a fifth of their time in the
// garbage collector when each piece and head read allocated a fresh 16 KiB copy). The slots are a ring, oldest out
// first, and a slot keeps its view while the length it holds stays the same (pieces are one size but the last of
// an entry): a query reading a hundred pieces nobody read before made ~30 KB of garbage per page in iterators,
// entries and views of the Map it was (bench/RESULTS.md, issue #16).

export class RecentBytes {
  /** key → slot. */
  readonly #slots = new Map<number, number>();
  readonly #keys: Float64Array;
  readonly #views: (Uint8Array | undefined)[];
  /** The slot the next kept value takes. */
  #next = 0;

  constructor(
    readonly capacity: number,
    /** The size most values have (larger ones get a buffer of their own). */
    readonly bufferBytes: number,
  ) {
    this.#keys = new Float64Array(capacity).fill(Number.NaN);
    this.#views = new Array<Uint8Array | undefined>(capacity).fill(undefined);
  }

  get(key: number): Uint8Array | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? undefined : this.#views[slot];
  }

  /** A copy of `bytes` kept under `key`, oldest out first: valid until `capacity` more values are kept. */
  keep(key: number, bytes: Uint8Array): Uint8Array {
    const existing = this.#slots.get(key);
    // Kept again under a key it holds (a read of a key just deleted elsewhere never reaches here): its own slot.
    const slot = existing ?? this.#next;
    if (existing === undefined) {
      this.#next = (this.#next + 1) % this.capacity;
      const oldKey = this.#keys[slot]!;
      if (!Number.isNaN(oldKey)) this.#slots.delete(oldKey);
      this.#keys[slot] = key;
      this.#slots.set(key, slot);
    }
    let view = this.#views[slot];
    if (view === undefined || view.buffer.byteLength < bytes.byteLength) view = new Uint8Array(new ArrayBuffer(Math.max(this.bufferBytes, bytes.byteLength)), 0, bytes.byteLength);
    else if (view.byteLength !== bytes.byteLength) view = new Uint8Array(view.buffer, 0, bytes.byteLength);
    view.set(bytes);
    this.#views[slot] = view;
    return view;
  }

  delete(key: number): void {
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    this.#slots.delete(key);
    // The slot stays in the ring (its buffer reused when its turn comes); only its key is forgotten.
    this.#keys[slot] = Number.NaN;
  }

  clear(): void {
    this.#slots.clear();
    this.#keys.fill(Number.NaN);
  }
}
