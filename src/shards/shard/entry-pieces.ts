// How a journal entry is laid on disk: its first `entryPieceBytes` bytes (the head, with the header) under its
// seq in the journal database, the rest in pieces of the same size in a database of their own, keyed by
// (seq, piece). A record's few hundred bytes then come out of one or two pieces: lmdb-js copies every value
// below 16 MiB into its read buffer whole (zero-copy only above, SHARED_BUFFER_THRESHOLD in its dbi.cpp),
// so a lookup of one transfer of a full 1.6 MB batch cost ~200 µs when the entry was one value, ~10 µs now.
// The pieces' database is LZ4-compressed by lmdb-js, piece by piece (journal-store.ts): halves the journal.
// A store written before pieces holds each entry whole under its seq: a head is whole unless it is exactly
// one piece long and pieces follow it, so such a store reads as before.

import type { Database } from 'lmdb';
import { assert } from '../../core/assert.js';
import { RecentBytes } from './recent-bytes.js';

/**
 * 4 LMDB pages less the overflow page's header (24 bytes in lmdb-js's LMDB: page number, txnid, pad, flags, page
 * count — MDB_page_header in its mdb.c), so a piece fills its pages exactly (measured: at 16 bytes less, every
 * piece took a fifth page, 24% of the journal wasted). Small, since a read copies whole pieces twice (into
 * lmdb-js's buffer, then out): a record read costs its pieces, ~4 × 16 KiB.
 */
export const entryPieceBytes = 4 * 4096 - 24;

/** Pieces read lately, kept: a binary search or a page of history reads the same few pieces again and again. */
const pieceCacheMax = 64;

/** lmdb-js accepts put flags as a third argument; its typings only declare the version form. */
type PutBytesWithFlags = (key: Uint8Array, value: Uint8Array, options: { noOverwrite: boolean }) => Promise<boolean>;

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

/** The head of `entry`: what goes under its seq in the journal database. */
export function headOf(entry: Uint8Array): Uint8Array {
  return entry.byteLength > entryPieceBytes ? entry.subarray(0, entryPieceBytes) : entry;
}

export class EntryPieces {
  readonly #pieces: Database<Uint8Array, Uint8Array>;
  readonly #cache = new RecentBytes(pieceCacheMax, entryPieceBytes);
  /** The key of the piece being read (lmdb-js copies it into its own buffer at the call): no allocation per read. */
  readonly #readKey = new Uint8Array(12);
  readonly #readKeyView = new DataView(this.#readKey.buffer);

  constructor(pieces: Database<Uint8Array, Uint8Array>) {
    this.#pieces = pieces;
  }

  /** Queues the pieces of `entry` after its head, in the caller's event turn (so in its head's transaction). */
  put(seq: number, entry: Uint8Array, onFailure: (error: unknown) => void): void {
    // noOverwrite like the head: pieces a racing writer stored stay its own (its head says how long its entry is).
    for (let piece = 1; piece * entryPieceBytes < entry.byteLength; piece++) {
      const bytes = entry.subarray(piece * entryPieceBytes, (piece + 1) * entryPieceBytes);
      void (this.#pieces.put as unknown as PutBytesWithFlags).call(this.#pieces, pieceKey(seq, piece), bytes, { noOverwrite: true }).catch(onFailure);
    }
  }

  /** Whether a stored head (its length) may have pieces after it. */
  static mayContinue(head: Uint8Array): boolean {
    return head.byteLength === entryPieceBytes;
  }

  /**
   * The whole entry of `seq` from its `head` (read by the caller and still valid): a fresh copy, or, with `into`
   * (grown as needed), bytes in `into` valid until the next call. Copies the head before any further read.
   */
  assemble(seq: number, head: Uint8Array, into?: { buffer: Uint8Array }): Uint8Array {
    if (!EntryPieces.mayContinue(head)) return into === undefined ? head.slice() : copyInto(into, head);
    const headCopy = head.slice(); // before any other read reuses lmdb-js's buffer under `head`
    const pieces = [...this.#pieces.getKeys({ start: pieceKey(seq, 1), end: pieceKey(seq + 1, 0) })].length;
    if (pieces === 0) return into === undefined ? headCopy : copyInto(into, headCopy);
    // The last piece first: its length gives the entry's, so each piece is copied once, straight into place.
    const last = this.#stored(seq, pieces);
    const length = pieces * entryPieceBytes + last.byteLength;
    const whole = into === undefined ? new Uint8Array(length) : room(into, length);
    whole.set(last, pieces * entryPieceBytes);
    whole.set(headCopy, 0);
    for (let piece = 1; piece < pieces; piece++) {
      const bytes = this.#stored(seq, piece);
      assert(bytes.byteLength === entryPieceBytes, `piece ${piece} of journal entry ${seq} is not full`);
      whole.set(bytes, piece * entryPieceBytes);
    }
    return whole;
  }

  /** Copies entry bytes [from, from + length) of `seq` into `out` at `outAt`; the head is `head` (still valid). */
  read(seq: number, head: Uint8Array, from: number, length: number, out: Uint8Array, outAt: number): void {
    let at = from;
    const end = from + length;
    while (at < end) {
      const piece = Math.floor(at / entryPieceBytes);
      const bytes = piece === 0 ? head : this.#piece(seq, piece);
      const inPiece = at - piece * entryPieceBytes;
      const take = Math.min(end - at, bytes.byteLength - inPiece);
      assert(take > 0, `journal entry ${seq} is shorter than a record it holds`);
      out.set(bytes.subarray(inPiece, inPiece + take), outAt + (at - from));
      at += take;
    }
  }

  /** Keys of every piece of entries after `seq` (recovery discards them with their heads). */
  keysAfter(seq: number): Uint8Array[] {
    return [...this.#pieces.getKeys({ start: pieceKey(seq + 1, 0) })];
  }

  remove(key: Uint8Array): void {
    this.#cache.delete(seqOfPieceKey(key) * 2 ** 12 + new DataView(key.buffer, key.byteOffset).getUint32(8));
    void this.#pieces.remove(key);
  }

  /** A copy of a stored piece, kept among the recent ones: valid until pieceCacheMax more pieces are read. */
  #piece(seq: number, piece: number): Uint8Array {
    // Entries hold at most 8,192 events of ~200 bytes: far fewer than 2^12 pieces.
    const cacheKey = seq * 2 ** 12 + piece;
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
