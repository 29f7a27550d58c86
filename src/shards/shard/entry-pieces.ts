// How a journal entry is laid on disk: its first piece (the head, with the header) under its seq in the journal
// database, the rest in pieces of the same size in a database of their own, keyed by (seq, piece). A record's few
// hundred bytes then come out of one or two pieces: lmdb-js copies every value below 16 MiB into its read buffer
// whole (zero-copy only above, SHARED_BUFFER_THRESHOLD in its dbi.cpp), so a lookup of one transfer of a full
// 1.6 MB batch cost ~200 µs when the entry was one value, ~10 µs with pieces. The pieces' database is
// LZ4-compressed by lmdb-js, piece by piece (journal-store.ts): a third of the journal's raw size.
// The piece size is the store's format (journal-store.ts, journalFormatVersion): see PieceFormat.
// A store written before pieces holds each entry whole under its seq: a head is whole unless it is exactly one
// piece long and pieces follow it, so such a store reads as before.

import type { Database } from 'lmdb';
import { assert } from '../../core/assert.js';
import { RecentBytes } from './recent-bytes.js';

/** How a store cuts and compresses its entries' pieces: fixed when the store is created. */
export interface PieceFormat {
  /** Bytes of a head and of every piece but an entry's last. */
  readonly pieceBytes: number;
  /** lmdb-js's `compression` option of the pieces' database (its LZ4 dictionary decides how stored bytes read). */
  readonly compression: true | { readonly dictionary: Buffer };
}

/**
 * Format 1 (stores created before 2026-12-06): 4 LMDB pages less the overflow page's header, lmdb-js's default
 * LZ4 dictionary (English text). A record read decompressed a whole 16 KiB piece: ~20–25 µs, most of an old-id
 * lookup's time on its shard (bench/RESULTS.md, issue #22).
 */
export const piecesFormat1: PieceFormat = { pieceBytes: 4 * 4096 - 24, compression: true };

/**
 * Format 2: 4,072-byte pieces (a page less the overflow header: a head that size takes exactly one overflow page),
 * no dictionary, appended (MDB_APPEND: pages filled, not split in half). A piece read ~6–8 µs against 20–26 µs.
 * Smaller pieces read faster still (2,000 bytes: 4–5 µs) but cost puts: at full batches the journal's puts and the
 * bookkeeper's reads grow with the piece count, and 2,000-byte pieces measured 0.91–0.93× format 1's throughput
 * (bench/RESULTS.md). lmdb-js's default dictionary (English text) is left out: LZ4 reloads it at every put (1.9× the
 * write time at 8× the puts) and binary records compress no better with it.
 */
export const piecesFormat2: PieceFormat = { pieceBytes: 4072, compression: { dictionary: Buffer.alloc(0) } };

/** Pieces read lately are kept up to this many bytes: a binary search or a page of history reads the same few again. */
const pieceCacheBytes = 1 << 20;
/** Pieces per entry stay below 2^12 (cache keys are seq × 2^12 + piece): the largest entry is under 2 MB. */
const piecesPerEntryMax = 2 ** 12;

/** lmdb-js accepts put flags as a third argument; its typings only declare the version form. */
type PutBytesWithFlags = (key: Uint8Array, value: Uint8Array, options: { noOverwrite: boolean; append: boolean }) => Promise<boolean>;

/** The key of piece `piece` (≥ 1) of entry `seq`: u64 seq then u32 piece, big-endian, so keys sort by seq then piece. */
export function pieceKey(seq: number, piece: number): Uint8Array {
  const key = new Uint8Array(12);
  const view = new DataView(key.buffer);
  view.setUint32(0, Math.floor(seq / 2 ** 32));
  view.setUint32(4, seq >>> 0);
  view.setUint32(8, piece);
  return key;
}

export function seqOfPieceKey(key: Uint8Array): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return view.getUint32(0) * 2 ** 32 + view.getUint32(4);
}

export class EntryPieces {
  readonly #pieces: Database<Uint8Array, Uint8Array>;
  readonly #pieceBytes: number;
  readonly #cache: RecentBytes;
  /** The key of the piece being read (lmdb-js copies it into its own buffer at the call): no allocation per read. */
  readonly #readKey = new Uint8Array(12);
  readonly #readKeyView = new DataView(this.#readKey.buffer);

  /** `pieces` opened with `format.compression`. */
  constructor(pieces: Database<Uint8Array, Uint8Array>, format: PieceFormat) {
    this.#pieces = pieces;
    this.#pieceBytes = format.pieceBytes;
    this.#cache = new RecentBytes(Math.max(1, Math.floor(pieceCacheBytes / format.pieceBytes)), format.pieceBytes);
  }

  /** The head of `entry`: what goes under its seq in the journal database. */
  headOf(entry: Uint8Array): Uint8Array {
    return entry.byteLength > this.#pieceBytes ? entry.subarray(0, this.#pieceBytes) : entry;
  }

  /** Queues the pieces of `entry` after its head, in the caller's event turn (so in its head's transaction). */
  put(seq: number, entry: Uint8Array, onFailure: (error: unknown) => void): void {
    assert(entry.byteLength < piecesPerEntryMax * this.#pieceBytes, `journal entry ${seq} has fewer than ${piecesPerEntryMax} pieces`);
    // noOverwrite like the head: pieces a racing writer stored stay its own (its head says how long its entry is).
    // append: keys only grow ((seq, piece), seq = the last + 1; a recovery removes the pieces past its cut), so
    // LMDB fills each page instead of splitting it in half; a key not above the last is refused like an overwrite.
    for (let piece = 1; piece * this.#pieceBytes < entry.byteLength; piece++) {
      const bytes = entry.subarray(piece * this.#pieceBytes, (piece + 1) * this.#pieceBytes);
      void (this.#pieces.put as unknown as PutBytesWithFlags).call(this.#pieces, pieceKey(seq, piece), bytes, { noOverwrite: true, append: true }).catch(onFailure);
    }
  }

  /** Whether a stored head (its length) may have pieces after it. */
  mayContinue(head: Uint8Array): boolean {
    return head.byteLength === this.#pieceBytes;
  }

  /**
   * The whole entry of `seq` from its `head` (read by the caller and still valid): a fresh copy, or, with `into`
   * (grown as needed), bytes in `into` valid until the next call. Copies the head before any further read.
   */
  assemble(seq: number, head: Uint8Array, into?: { buffer: Uint8Array }): Uint8Array {
    if (!this.mayContinue(head)) return into === undefined ? head.slice() : copyInto(into, head);
    const headCopy = head.slice(); // before any other read reuses lmdb-js's buffer under `head`
    let pieces = 0;
    for (const _key of this.#pieces.getKeys({ start: pieceKey(seq, 1), end: pieceKey(seq + 1, 0) })) pieces++;
    if (pieces === 0) return into === undefined ? headCopy : copyInto(into, headCopy);
    // The last piece first: its length gives the entry's, so each piece is copied once, straight into place.
    const last = this.#stored(seq, pieces);
    const length = pieces * this.#pieceBytes + last.byteLength;
    const whole = into === undefined ? new Uint8Array(length) : room(into, length);
    whole.set(last, pieces * this.#pieceBytes);
    whole.set(headCopy, 0);
    for (let piece = 1; piece < pieces; piece++) {
      const bytes = this.#stored(seq, piece);
      assert(bytes.byteLength === this.#pieceBytes, `piece ${piece} of journal entry ${seq} is not full`);
      whole.set(bytes, piece * this.#pieceBytes);
    }
    return whole;
  }

  /** Copies entry bytes [from, from + length) of `seq` into `out` at `outAt`; the head is `head` (still valid). */
  read(seq: number, head: Uint8Array, from: number, length: number, out: Uint8Array, outAt: number): void {
    let at = from;
    const end = from + length;
    while (at < end) {
      const piece = Math.floor(at / this.#pieceBytes);
      const bytes = piece === 0 ? head : this.#piece(seq, piece);
      const inPiece = at - piece * this.#pieceBytes;
      const take = Math.min(end - at, bytes.byteLength - inPiece);
      assert(take > 0, `journal entry ${seq} is shorter than a record it holds`);
      // A record's part is a few hundred bytes: copied in place, not through a subarray made per read.
      const to = outAt + (at - from);
      for (let b = 0; b < take; b++) out[to + b] = bytes[inPiece + b]!;
      at += take;
    }
  }

  /** Keys of every piece of entries after `seq` (recovery discards them with their heads). */
  keysAfter(seq: number): Uint8Array[] {
    return [...this.#pieces.getKeys({ start: pieceKey(seq + 1, 0) })];
  }

  remove(key: Uint8Array): void {
    this.#cache.delete(seqOfPieceKey(key) * piecesPerEntryMax + new DataView(key.buffer, key.byteOffset).getUint32(8));
    void this.#pieces.remove(key);
  }

  /** A copy of a stored piece, kept among the recent ones: valid until the cache has taken its size in other pieces. */
  #piece(seq: number, piece: number): Uint8Array {
    const cacheKey = seq * piecesPerEntryMax + piece;
    return this.#cache.get(cacheKey) ?? this.#cache.keep(cacheKey, this.#stored(seq, piece));
  }

  /** A stored piece as lmdb-js reads it: valid only until the next read. */
  #stored(seq: number, piece: number): Uint8Array {
    this.#readKeyView.setUint32(0, Math.floor(seq / 2 ** 32));
    this.#readKeyView.setUint32(4, seq >>> 0);
    this.#readKeyView.setUint32(8, piece);
    const stored = this.#pieces.getBinaryFast(this.#readKey);
    assert(stored !== undefined, `piece ${piece} of journal entry ${seq} is missing`);
    // lmdb-js's reused buffer is longer than the value: its `length` (set per read), not byteLength, is the value's.
    return new Uint8Array(stored.buffer, stored.byteOffset, stored.length);
  }
}

/** `into`'s buffer, grown to hold `length` bytes, as a view of exactly that many. */
function room(into: { buffer: Uint8Array }, length: number): Uint8Array {
  if (into.buffer.byteLength < length) into.buffer = new Uint8Array(Math.max(length, into.buffer.byteLength * 2));
  return into.buffer.subarray(0, length);
}

function copyInto(into: { buffer: Uint8Array }, bytes: Uint8Array): Uint8Array {
  const whole = room(into, bytes.byteLength);
  whole.set(bytes);
  return whole;
}
