// The fields transfers are found by (query_transfers, issue #16): for every transfer a shard posts (owns), a key per
// nonzero indexed field. Each entry adds one index run per key it touches — the key's prefix (field tag and value),
// the entry's seq and timestamp base, and the indexes of its events under that key — so a store writes a few values
// per entry for low-cardinality fields (ledger, code) and at most one per transfer for ids kept in user data.
// Deriving the runs is pure and the same live and in replay; where they are kept is the source's: LMDB beside the
// journal, written in the entry's own transaction (shards/shard/transfer-index-store.ts), or MemoryTransferIndex
// below for a ledger that has no store (tests, tools).

import { assert } from '../assert.js';
import { bytesEqual, isZeroAt } from '../bytes.js';
import { IdTableKind, ownedIdIndexBits } from '../accounts/id-cache.js';
import { QueryFilterLayout as Q, TransferLayout as T } from '../layout.js';
import { JournalHeader, eventOffset, journalEntryVersion, journalHeaderBytes } from './journal-entry.js';

/** The indexed fields, by the tag that leads their keys (stored: never renumber). */
export const TransferIndexField = {
  ledger: 1,
  code: 2,
  ledgerCode: 3,
  userData128: 4,
  userData64: 5,
  userData32: 6,
} as const;
export type TransferIndexFieldNumber = (typeof TransferIndexField)[keyof typeof TransferIndexField];

/** Where each field sits in a transfer record and in a query filter, and its width. */
const fieldPlaces: Record<TransferIndexFieldNumber, { transfer: number; filter: number; bytes: number }> = {
  [TransferIndexField.ledger]: { transfer: T.ledger, filter: Q.ledger, bytes: 4 },
  [TransferIndexField.code]: { transfer: T.code, filter: Q.code, bytes: 2 },
  // The record keeps ledger and code side by side (112..117); the filter too (44..49).
  [TransferIndexField.ledgerCode]: { transfer: T.ledger, filter: Q.ledger, bytes: 6 },
  [TransferIndexField.userData128]: { transfer: T.userData128, filter: Q.userData128, bytes: 16 },
  [TransferIndexField.userData64]: { transfer: T.userData64, filter: Q.userData64, bytes: 8 },
  [TransferIndexField.userData32]: { transfer: T.userData32, filter: Q.userData32, bytes: 4 },
};
assert(T.code === T.ledger + 4 && Q.code === Q.ledger + 4, 'ledger and code are adjacent in records and filters');

/** One entry's transfers under one key: the key's prefix, the entry, and its events' indexes, ascending. */
export interface IndexRun {
  prefix: Uint8Array;
  seq: number;
  /** The entry's timestamp base: event i was stamped timestampBase + i. */
  timestampBase: bigint;
  indexes: Uint16Array;
}

/** Where a query reads index runs (the shard's store, or MemoryTransferIndex). */
export interface TransferIndexSource {
  /**
   * The runs under `prefix` that may hold transfers stamped in [fromTimestamp, toTimestamp], in timestamp order
   * (newest first when `reversed`). A run may also hold transfers outside the range: the reader skips them.
   */
  runsUnder(prefix: Uint8Array, fromTimestamp: bigint, toTimestamp: bigint, reversed: boolean): Iterable<IndexRun>;
  /**
   * Those of `among` (event indexes, ascending) that the run under `prefix` of the entry stamped from
   * `timestampBase` holds: `among` itself when it holds them all, none when that entry made no such run. A query
   * naming two indexed fields asks this once per run of the first (a code and a merchant: hundreds per page).
   */
  indexesAt(prefix: Uint8Array, timestampBase: bigint, among: Uint16Array): Uint16Array;
}

const noIndexes = new Uint16Array(0);

/**
 * Those of `among` (ascending) found among a run's `count` indexes (ascending), read by `indexAt`: a binary search
 * for each from where the last left off (`among` is a few, the run may be thousands).
 */
export function indexesAmong(among: Uint16Array, count: number, indexAt: (k: number) => number): Uint16Array {
  let kept: number[] | null = null;
  let low = 0;
  for (let i = 0; i < among.length; i++) {
    const wanted = among[i]!;
    let high = count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (indexAt(middle) < wanted) low = middle + 1;
      else high = middle;
    }
    const found = low < count && indexAt(low) === wanted;
    if (found && kept !== null) kept.push(wanted);
    if (!found && kept === null) kept = Array.from(among.subarray(0, i));
  }
  if (kept === null) return among;
  return kept.length === 0 ? noIndexes : Uint16Array.from(kept);
}

/** The key prefix of `field` whose value sits at `at` of `bytes`, or null when it is zero. */
function prefixAt(field: TransferIndexFieldNumber, bytes: Uint8Array, at: number): Uint8Array | null {
  const { bytes: width } = fieldPlaces[field];
  // ledger+code is a key only with both: a zero code is no filter (and codes are never zero on a transfer).
  if (field === TransferIndexField.ledgerCode ? isZeroAt(bytes, at, 4) || isZeroAt(bytes, at + 4, 2) : isZeroAt(bytes, at, width)) return null;
  const prefix = new Uint8Array(1 + width);
  prefix[0] = field;
  prefix.set(bytes.subarray(at, at + width), 1);
  return prefix;
}

/** The key prefix of `field` as a query filter names it, or null when the filter leaves it zero. */
export function filterPrefix(field: TransferIndexFieldNumber, filter: Uint8Array): Uint8Array | null {
  return prefixAt(field, filter, fieldPlaces[field].filter);
}

/** The key prefix of `field` in the transfer record at `at` of `bytes`, or null when the record leaves it zero. */
export function transferPrefix(field: TransferIndexFieldNumber, bytes: Uint8Array, at: number): Uint8Array | null {
  return prefixAt(field, bytes, at + fieldPlaces[field].transfer);
}

/** Fields in the order a query prefers them: the most selective first (ids in user data, then ledger and code). */
export const fieldsBySelectivity: readonly TransferIndexFieldNumber[] = [
  TransferIndexField.userData128,
  TransferIndexField.userData64,
  TransferIndexField.userData32,
  TransferIndexField.ledgerCode,
  TransferIndexField.code,
  TransferIndexField.ledger,
];

const allFields = Object.values(TransferIndexField) as TransferIndexFieldNumber[];

/** Hex of a prefix: the key of a Map of runs. */
function prefixKey(prefix: Uint8Array): string {
  let text = '';
  for (const byte of prefix) text += (byte < 16 ? '0' : '') + byte.toString(16);
  return text;
}

/**
 * The index runs of entry `seq`: one per key its owned transfers (`owned`: the words of OwnedIds, the transfers
 * table's among them) carry, each with their indexes ascending. Runs of consecutive events under one key (a batch
 * of one ledger and code) cost one comparison per event, not a lookup.
 */
export function indexRunsOf(seq: number, entry: Uint8Array, owned: Uint32Array): IndexRun[] {
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const timestampBase = view.getBigUint64(JournalHeader.timestampBase, true);
  const groups = new Map<string, { prefix: Uint8Array; indexes: number[] }>();
  // The last group each field joined: a batch's transfers mostly share ledger and code.
  const last: ({ prefix: Uint8Array; indexes: number[] } | null)[] = allFields.map(() => null);
  const indexMask = (1 << ownedIdIndexBits) - 1;
  for (const word of owned) {
    if (word >>> ownedIdIndexBits !== IdTableKind.transfers) continue;
    const index = word & indexMask;
    const at = eventOffset(index);
    for (let f = 0; f < allFields.length; f++) {
      const field = allFields[f]!;
      const place = at + fieldPlaces[field].transfer;
      const previous = last[f];
      if (previous !== null && sameBytes(previous.prefix, entry, place)) {
        pushIndex(previous.indexes, index);
        continue;
      }
      const prefix = prefixAt(field, entry, place);
      if (prefix === null) continue;
      const key = prefixKey(prefix);
      let group = groups.get(key);
      if (group === undefined) groups.set(key, (group = { prefix, indexes: [] }));
      pushIndex(group.indexes, index);
      last[f] = group;
    }
  }
  const runs: IndexRun[] = [];
  for (const { prefix, indexes } of groups.values()) runs.push({ prefix, seq, timestampBase, indexes: Uint16Array.from(indexes).sort() });
  return runs;
}

/** Whether the field bytes at `at` equal `prefix`'s value (its bytes after the tag). */
function sameBytes(prefix: Uint8Array, bytes: Uint8Array, at: number): boolean {
  for (let i = 1; i < prefix.length; i++) if (prefix[i] !== bytes[at + i - 1]) return false;
  return true;
}

/** Owned words may repeat an index (an id forgotten and taken again inside one chain): keep one. */
function pushIndex(indexes: number[], index: number): void {
  if (indexes[indexes.length - 1] !== index) indexes.push(index);
}

/** Every key prefix the events of `entry` could have made (what a recovery that discards the entry removes). */
export function possiblePrefixesOf(entry: Uint8Array): Uint8Array[] {
  const seen = new Map<string, Uint8Array>();
  // Bytes that are no journal entry of this version (never written by a shard) made no keys: nothing to read.
  if (entry.byteLength < journalHeaderBytes) return [];
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  if (view.getUint16(JournalHeader.version, true) !== journalEntryVersion) return [];
  const count = view.getUint32(JournalHeader.count, true);
  for (let index = 0; index < count && eventOffset(index + 1) <= entry.byteLength; index++) {
    for (const field of allFields) {
      const prefix = transferPrefix(field, entry, eventOffset(index));
      if (prefix !== null) seen.set(prefixKey(prefix), prefix);
    }
  }
  return [...seen.values()];
}

/** The index of a ledger without a store: runs in memory, per prefix in seq order. Replay rebuilds it. */
export class MemoryTransferIndex implements TransferIndexSource {
  readonly #runs = new Map<string, IndexRun[]>();

  add(runs: readonly IndexRun[]): void {
    for (const run of runs) {
      const key = prefixKey(run.prefix);
      let list = this.#runs.get(key);
      if (list === undefined) this.#runs.set(key, (list = []));
      assert(list.length === 0 || list[list.length - 1]!.seq < run.seq, 'index runs are added in seq order');
      list.push(run);
    }
  }

  indexesAt(prefix: Uint8Array, timestampBase: bigint, among: Uint16Array): Uint16Array {
    const run = this.#runs.get(prefixKey(prefix))?.find((candidate) => candidate.timestampBase === timestampBase);
    return run === undefined ? noIndexes : indexesAmong(among, run.indexes.length, (k) => run.indexes[k]!);
  }

  *runsUnder(prefix: Uint8Array, fromTimestamp: bigint, toTimestamp: bigint, reversed: boolean): Generator<IndexRun> {
    const list = this.#runs.get(prefixKey(prefix)) ?? [];
    const inRange = list.filter((run) => run.timestampBase <= toTimestamp && run.timestampBase + BigInt(run.indexes[run.indexes.length - 1]!) >= fromTimestamp);
    if (reversed) inRange.reverse();
    for (const run of inRange) {
      assert(bytesEqual(run.prefix, prefix), 'a run is found under its own prefix');
      yield run;
    }
  }
}
