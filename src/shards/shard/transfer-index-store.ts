// The transfer index on disk (issue #16; runs derived by core/posting/transfer-index.ts): one LMDB value per key an
// entry's owned transfers carry, written in the entry's own transaction beside its id-index values (IdIndex calls
// put() with them, and a replayed entry whose index is missing gets both rewritten), removed with them when a
// recovery discards the entry. Key: the run's prefix (field tag ‖ value) ‖ the entry's timestamp base, u64
// big-endian — so the runs of one value sort by time and a query seeks straight to its bounds. Value: the entry's
// seq (f64) then its events' indexes (u16 each, ascending).

import type { Database, DatabaseOptions, RootDatabase } from 'lmdb';
import { assert } from '../../core/assert.js';
import { locationEventsPerBatchMax } from '../../core/limits.js';
import { JournalHeader } from '../../core/posting/journal-entry.js';
import { indexesAmong, possiblePrefixesOf, type IndexRun, type TransferIndexSource } from '../../core/posting/transfer-index.js';

/** The database the index adds to a shard's environment. */
export const transferIndexDatabase = 'transferIndex';

const timestampBytes = 8;
const seqBytes = 8;
/** A run may start this far before the first timestamp it holds (event i of an entry is stamped base + i). */
const runSpanNs = BigInt(locationEventsPerBatchMax);

const noIndexes = new Uint16Array(0);

const binary = { encoding: 'binary', keyEncoding: 'binary', cache: false, compression: false, useVersions: false, dupSort: false } as const;

export class TransferIndexStore implements TransferIndexSource {
  readonly #db: Database<Uint8Array, Uint8Array>;
  readonly #readKeys = new Map<number, { bytes: Uint8Array; view: DataView }>();

  /** The index of `root`; null when the store is read-only and predates it (a read-only environment cannot create it). */
  static open(root: RootDatabase, readOnly: boolean): TransferIndexStore | null {
    try {
      const options = { name: transferIndexDatabase, ...binary, create: !readOnly } as DatabaseOptions & { name: string };
      const db = root.openDB<Uint8Array, Uint8Array>(options) as Database<Uint8Array, Uint8Array> | undefined;
      return db === undefined ? null : new TransferIndexStore(db);
    } catch (error) {
      if (readOnly && error instanceof Error && /not found/i.test(error.message)) return null;
      throw error;
    }
  }

  private constructor(db: Database<Uint8Array, Uint8Array>) {
    this.#db = db;
  }

  /** Puts one entry's runs (inside the caller's transaction); the promise settles with the commit, or null when none. */
  put(runs: readonly IndexRun[]): Promise<unknown> | null {
    let last: Promise<unknown> | null = null;
    for (const run of runs) {
      const value = new Uint8Array(seqBytes + run.indexes.length * 2);
      const view = new DataView(value.buffer);
      view.setFloat64(0, run.seq, true);
      run.indexes.forEach((index, i) => view.setUint16(seqBytes + i * 2, index, true));
      last = this.#db.put(runKey(run.prefix, run.timestampBase), value);
    }
    return last;
  }

  /** Every key the entries could have made (a superset: keys never written are no harm), to remove with them. */
  keysOf(entries: Iterable<[seq: number, entry: Uint8Array]>): Uint8Array[] {
    const keys: Uint8Array[] = [];
    for (const [, entry] of entries) {
      if (entry.byteLength < JournalHeader.seq) continue; // no header: made no keys
      const timestampBase = new DataView(entry.buffer, entry.byteOffset, entry.byteLength).getBigUint64(JournalHeader.timestampBase, true);
      for (const prefix of possiblePrefixesOf(entry)) keys.push(runKey(prefix, timestampBase));
    }
    return keys;
  }

  /** Removes keys keysOf found, inside the caller's transaction. */
  remove(keys: readonly Uint8Array[]): void {
    for (const key of keys) void this.#db.remove(key);
  }

  indexesAt(prefix: Uint8Array, timestampBase: bigint, among: Uint16Array): Uint16Array {
    const value = this.#db.getBinaryFast(this.#readKey(prefix, timestampBase));
    if (value === undefined) return noIndexes;
    // Read in place, in lmdb-js's reused buffer (its `length` is the value's): no run made, nothing copied.
    const length = (value as Uint8Array & { length: number }).length;
    assert(length >= seqBytes + 2 && (length - seqBytes) % 2 === 0, 'a transfer index value is a seq and its indexes');
    return indexesAmong(among, (length - seqBytes) / 2, (k) => value[seqBytes + 2 * k]! | (value[seqBytes + 2 * k + 1]! << 8));
  }

  /** The key of (`prefix`, `timestamp`) in a buffer kept per key length: lmdb-js copies a key at each read. */
  #readKey(prefix: Uint8Array, timestamp: bigint): Uint8Array {
    const bytes = prefix.length + timestampBytes;
    let key = this.#readKeys.get(bytes);
    if (key === undefined) {
      const buffer = new ArrayBuffer(bytes);
      this.#readKeys.set(bytes, (key = { bytes: new Uint8Array(buffer), view: new DataView(buffer) }));
    }
    key.bytes.set(prefix);
    key.view.setBigUint64(prefix.length, timestamp, false);
    return key.bytes;
  }

  *runsUnder(prefix: Uint8Array, fromTimestamp: bigint, toTimestamp: bigint, reversed: boolean): Generator<IndexRun> {
    const low = runKey(prefix, fromTimestamp > runSpanNs ? fromTimestamp - runSpanNs : 0n);
    // Just past every key of `prefix` stamped at or before toTimestamp: the key itself then one more byte.
    const high = new Uint8Array(prefix.length + timestampBytes + 1);
    high.set(runKey(prefix, toTimestamp));
    const range = reversed ? this.#db.getRange({ start: high, end: low, reverse: true }) : this.#db.getRange({ start: low, end: high });
    for (const { key, value } of range) {
      assert(key.byteLength === prefix.length + timestampBytes, 'a transfer index key is its prefix and a timestamp');
      const timestampBase = new DataView(key.buffer, key.byteOffset + prefix.length, timestampBytes).getBigUint64(0, false);
      yield runOf(prefix, timestampBase, value);
    }
  }
}

/** A stored value read into a run (its indexes copied: the value may be a buffer the next read reuses). */
function runOf(prefix: Uint8Array, timestampBase: bigint, value: Uint8Array): IndexRun {
  // lmdb-js's reused read buffer is longer than the value: its `length` is the value's.
  const length = (value as Uint8Array & { length: number }).length;
  assert(length >= seqBytes + 2 && (length - seqBytes) % 2 === 0, 'a transfer index value is a seq and its indexes');
  const view = new DataView(value.buffer, value.byteOffset, length);
  const indexes = new Uint16Array((length - seqBytes) / 2);
  for (let i = 0; i < indexes.length; i++) indexes[i] = view.getUint16(seqBytes + i * 2, true);
  return { prefix, seq: view.getFloat64(0, true), timestampBase, indexes };
}

function runKey(prefix: Uint8Array, timestamp: bigint): Uint8Array {
  const key = new Uint8Array(prefix.length + timestampBytes);
  key.set(prefix);
  new DataView(key.buffer).setBigUint64(prefix.length, timestamp, false);
  return key;
}
