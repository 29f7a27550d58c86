// What every shard may know of every account, whichever shard holds it: that it exists, its ledger, whether
// it is closed or blocked for credits, and its flags (the shard set holds a no-overdraft payer's write until the
// credits answered to it have landed: shards/set/request-routing.ts). A payer's shard decides from it what one shard would answer
// for the payee (account_not_found, ledger_mismatch, account_closed, account_blocked) before it answers `ok`
// (issue #14): the credit no longer leaves to be refused on arrival.
//
// One copy for the process, in a growable SharedArrayBuffer: the gateway's thread is its only writer (it
// publishes an account once the shard that holds it has made the change durable, before the caller hears of
// it), every shard worker reads it. A worker that restarts gets the same buffer (workerData), so nothing is
// rebuilt but at process start. Memory: 32 bytes per account plus the bucket heads (bounded by accounts).
//
// A chained hash table: bucket heads (node number + 1, 0 = empty), one byte per bucket (the low AccountFlags of
// its accounts OR-ed: a hot path asking "could this account be no-overdraft?" reads one byte, not a chain: a
// chain walk is ~120 ns of cache misses), then nodes of 8 words — the id's four
// words, ledger, status, next node + 1, AccountFlags (fixed at creation) with DirectoryMarks (set and cleared with
// atomics, by the router and the account's shard). A node is written whole before its bucket head points at it
// (Atomics.store), and only its status and mark bits change afterwards, so a reader never sees half an account.
// Growing appends nodes (SharedArrayBuffer.grow); the heads never move.

import { assert } from '../assert.js';
import { directoryMarksAll } from '../types.js';


const nodeWords = 8;
const headerWords = 4; // [0] nodes used, [1] bucket count, [2] every published account's flags OR-ed, 3 spare
const Node = { id: 0, ledger: 4, status: 5, next: 6, flags: 7 } as const;
const nodesGrowBy = 1 << 12;
/** Accounts a directory holds at most by default: its buffer reserves (not commits) 32 B each, 1 GiB. */
export const directoryAccountsMax = 1 << 25;

export interface DirectoryEntry {
  ledger: number;
  /** StatusBits (account-table.ts): closed, creditBlocked, debitBlocked. */
  status: number;
}

/**
 * An account as one number, for the posting path (no object per transfer): ledger × 8 + StatusBits (3 bits; a
 * u32 ledger keeps it below 2^35, exact), or notInDirectory.
 */
export type PackedEntry = number;
export const notInDirectory: PackedEntry = -1;
export const packEntry = (ledger: number, status: number): PackedEntry => ledger * 8 + status;
export const ledgerOfEntry = (entry: PackedEntry): number => Math.floor(entry / 8);
export const statusOfEntry = (entry: PackedEntry): number => entry % 8;

export class AccountDirectory {
  readonly buffer: SharedArrayBuffer;
  /** Length-tracking: sees the buffer grow in every thread. */
  readonly #words: Int32Array;
  readonly #bucketMask: number;
  /** Per bucket, the low byte of its accounts' flags OR-ed (set before a node is linked; flags never change). */
  readonly #bucketFlags: Uint8Array;
  readonly #nodesFrom: number;

  /** A new, empty directory: 2^bucketBits chains (keep it near the accounts expected), room for `accountsMax`. */
  static create(bucketBits = 20, accountsMax = directoryAccountsMax): AccountDirectory {
    assert(Number.isInteger(bucketBits) && bucketBits >= 4 && bucketBits <= 24, 'directory buckets 2^4..2^24');
    assert(Number.isInteger(accountsMax) && accountsMax >= 1 && accountsMax <= directoryAccountsMax, 'a directory holds 1..2^25 accounts');
    const buckets = 1 << bucketBits;
    const headWords = headerWords + buckets + buckets / 4;
    const buffer = new SharedArrayBuffer(headWords * 4, { maxByteLength: (headWords + accountsMax * nodeWords) * 4 });
    const words = new Int32Array(buffer);
    words[1] = buckets;
    return new AccountDirectory(buffer);
  }

  /** A view of a directory another thread made (its buffer, as created). */
  constructor(buffer: SharedArrayBuffer) {
    assert(buffer.growable, 'an account directory lives in a growable SharedArrayBuffer');
    this.buffer = buffer;
    this.#words = new Int32Array(buffer);
    const buckets = this.#words[1]!;
    assert(buckets > 0 && (buckets & (buckets - 1)) === 0, 'directory bucket count is a power of two');
    this.#bucketMask = buckets - 1;
    this.#bucketFlags = new Uint8Array(buffer, (headerWords + buckets) * 4, buckets);
    this.#nodesFrom = headerWords + buckets + buckets / 4;
  }

  get size(): number {
    return Atomics.load(this.#words, 0);
  }

  /** Whether any account published has one of `flags` (flags never change after an account is created). */
  holdsAnyWith(flags: number): boolean {
    return (Atomics.load(this.#words, 2) & flags) !== 0;
  }

  /**
   * False when no account whose id is at `at` can have any of `flags` (AccountFlags in the low byte): one byte of its
   * bucket, read before flagsAt on a hot path. True means maybe (another account of the bucket may have them).
   */
  mayHoldWith(view: DataView, at: number, flags: number): boolean {
    const hash = hashWords(view.getInt32(at, true), view.getInt32(at + 4, true), view.getInt32(at + 8, true), view.getInt32(at + 12, true));
    return (this.#bucketFlags[hash & this.#bucketMask]! & flags) !== 0;
  }

  /** The account whose 16-byte id is at `at`, or undefined. */
  findAt(view: DataView, at: number): DirectoryEntry | undefined {
    const entry = this.entryAt(view, at);
    return entry === notInDirectory ? undefined : { ledger: ledgerOfEntry(entry), status: statusOfEntry(entry) };
  }

  /** The account whose 16-byte id is at `at`, packed (packEntry), or notInDirectory. */
  entryAt(view: DataView, at: number): PackedEntry {
    const node = this.#find(view.getInt32(at, true), view.getInt32(at + 4, true), view.getInt32(at + 8, true), view.getInt32(at + 12, true));
    if (node < 0) return notInDirectory;
    const words = this.#words;
    return packEntry(words[node + Node.ledger]! >>> 0, Atomics.load(words, node + Node.status));
  }

  /** The AccountFlags (with DirectoryMarks) of the account whose 16-byte id is at `at`, or -1 when the directory does not hold it. */
  flagsAt(view: DataView, at: number): number {
    const node = this.#find(view.getInt32(at, true), view.getInt32(at + 4, true), view.getInt32(at + 8, true), view.getInt32(at + 12, true));
    return node < 0 ? -1 : Atomics.load(this.#words, node + Node.flags);
  }

  /** Adds the account (writer only); an account already there keeps its node (and flags) and takes `status`. */
  publishAt(view: DataView, at: number, ledger: number, status: number, flags = 0): void {
    const w0 = view.getInt32(at, true);
    const w1 = view.getInt32(at + 4, true);
    const w2 = view.getInt32(at + 8, true);
    const w3 = view.getInt32(at + 12, true);
    const words = this.#words;
    const found = this.#find(w0, w1, w2, w3);
    if (found >= 0) {
      assert(words[found + Node.ledger]! >>> 0 === ledger, 'an account keeps its ledger');
      Atomics.store(words, found + Node.status, status);
      if ((flags & directoryMarksAll) !== 0) this.#mark(found, hashWords(w0, w1, w2, w3) & this.#bucketMask, flags & directoryMarksAll);
      return;
    }
    const used = words[0]!;
    const node = this.#nodesFrom + used * nodeWords;
    if ((node + nodeWords) * 4 > this.buffer.byteLength) {
      assert((node + nodeWords) * 4 <= this.buffer.maxByteLength, 'the account directory has room for every account');
      this.buffer.grow(Math.min(this.buffer.maxByteLength, this.buffer.byteLength + nodesGrowBy * nodeWords * 4));
    }
    const bucket = headerWords + (hashWords(w0, w1, w2, w3) & this.#bucketMask);
    words[node + Node.id] = w0;
    words[node + Node.id + 1] = w1;
    words[node + Node.id + 2] = w2;
    words[node + Node.id + 3] = w3;
    words[node + Node.ledger] = ledger | 0;
    words[node + Node.status] = status;
    words[node + Node.next] = words[bucket]!;
    words[node + Node.flags] = flags;
    Atomics.or(words, 2, flags);
    Atomics.or(this.#bucketFlags, bucket - headerWords, flags & 0xff);
    // Published last: a reader following the head finds the node complete.
    Atomics.store(words, bucket, used + 1);
    Atomics.store(words, 0, used + 1);
  }

  /** Sets and clears StatusBits of an account published before (writer only). */
  changeStatusAt(view: DataView, at: number, set: number, clear: number): void {
    const node = this.#find(view.getInt32(at, true), view.getInt32(at + 4, true), view.getInt32(at + 8, true), view.getInt32(at + 12, true));
    assert(node >= 0, 'a status change names an account the directory holds');
    const status = Atomics.load(this.#words, node + Node.status);
    Atomics.store(this.#words, node + Node.status, (status | set) & ~clear);
  }

  /**
   * Sets DirectoryMarks `marks` on the account whose id is at `at` (any thread: atomic); false when the directory
   * does not hold it (an account the ledger opens itself is never published).
   */
  markAt(view: DataView, at: number, marks: number): boolean {
    assert((marks & ~directoryMarksAll) === 0, 'only directory marks are set after creation');
    const { node, bucket } = this.#locate(view, at);
    if (node < 0) return false;
    this.#mark(node, bucket, marks);
    return true;
  }

  /**
   * Clears DirectoryMarks `marks` of the account at `at`, and of its bucket byte when no other account of the bucket
   * has them (the header keeps them: it only says "maybe"). Only by the thread that sets `marks` (the router for
   * creditsBig): another thread's marks are other bits, and and-ing keeps them.
   */
  unmarkAt(view: DataView, at: number, marks: number): void {
    assert((marks & ~directoryMarksAll) === 0, 'only directory marks are cleared');
    const { node, bucket } = this.#locate(view, at);
    if (node < 0) return;
    Atomics.and(this.#words, node + Node.flags, ~marks);
    // Else a bucket once marked would send every payee of it to a chain walk for good.
    let still = 0;
    for (let next = Atomics.load(this.#words, headerWords + bucket); next !== 0; ) {
      const other = this.#nodesFrom + (next - 1) * nodeWords;
      still |= Atomics.load(this.#words, other + Node.flags) & marks;
      next = this.#words[other + Node.next]!;
    }
    if ((marks & ~still) !== 0) Atomics.and(this.#bucketFlags, bucket, ~(marks & ~still) & 0xff);
  }

  /** The node of the account whose id is at `at` (-1: none) and its bucket (marks only: the hot paths use #find). */
  #locate(view: DataView, at: number): { node: number; bucket: number } {
    const w0 = view.getInt32(at, true);
    const w1 = view.getInt32(at + 4, true);
    const w2 = view.getInt32(at + 8, true);
    const w3 = view.getInt32(at + 12, true);
    return { node: this.#find(w0, w1, w2, w3), bucket: hashWords(w0, w1, w2, w3) & this.#bucketMask };
  }

  #mark(node: number, bucket: number, marks: number): void {
    // The bucket byte and the header first: a reader that finds the node marked also finds them.
    Atomics.or(this.#words, 2, marks);
    Atomics.or(this.#bucketFlags, bucket, marks & 0xff);
    Atomics.or(this.#words, node + Node.flags, marks);
  }

  /** The node's first word, or -1. */
  #find(w0: number, w1: number, w2: number, w3: number): number {
    const words = this.#words;
    let next = Atomics.load(words, headerWords + (hashWords(w0, w1, w2, w3) & this.#bucketMask));
    while (next !== 0) {
      const node = this.#nodesFrom + (next - 1) * nodeWords;
      if (words[node] === w0 && words[node + 1] === w1 && words[node + 2] === w2 && words[node + 3] === w3) return node;
      next = words[node + Node.next]!;
    }
    return -1;
  }
}

function hashWords(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ w1 ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ w2 ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ w3 ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
