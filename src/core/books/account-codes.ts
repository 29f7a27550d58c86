// The bookkeeper's map from account id to account code (the subject it books under) and home shard,
// learnt from create_accounts entries. Invariants: an id keeps the first code learnt for it; its shard is
// shardOfIdAt's for the shard count the map was made for. Reads entry bytes; never changes them.

import { assert } from '../assert.js';
import { IdTable } from '../accounts/id-table.js';
import { eventOffset, readJournalHeader, resultsOffset } from '../posting/journal-entry.js';
import { AccountLayout as A, resultBytes } from '../layout.js';
import { shardCountMax } from '../limits.js';
import { Operation } from '../operations.js';
import { shardOfIdAt } from '../routing.js';
import { SystemAccountCode, isSuspenseIdAt, isSystemIdAt } from '../accounts/system-accounts.js';

/**
 * Ids below 2^32 are kept in an array indexed by id while it stays at most this many entries per account
 * learnt (beyond `directIdsFloor`): most ledgers number accounts from 1, and such an array is 4 B per id
 * where the id table spends ~50 B, so it stays in cache where the table's lookups of random accounts miss
 * (measured: most of the bookkeeper's time). Ids past the bound go to the id table: sparse ids cost no memory.
 */
const directIdsPerAccountMax = 4;
const directIdsFloor = 1 << 16;
/**
 * One word per account: code + 1 in the low 17 bits (0: not learnt), the home shard above them (< 64).
 * The shard is kept, not found by hashing the id each time (16 rounds) or by a remainder (a float fmod).
 */
const codeBits = 17;
const codeMask = (1 << codeBits) - 1;
const codeLimit = 0x1_0000;

/** The id at `at` when it is below 2^32 (its three high words zero), else -1. */
function smallIdAt(view: DataView, at: number): number {
  if ((view.getUint32(at + 4, true) | view.getUint32(at + 8, true) | view.getUint32(at + 12, true)) !== 0) return -1;
  return view.getUint32(at, true);
}

/** An account learnt: its 16 id bytes (as in the entry) and its word (code + 1, home shard above). */
export interface LearntAccount {
  id: Uint8Array;
  word: number;
}

/** Account code and home shard of every account opened on the shards (from their create_accounts entries), by id. */
export class AccountCodes {
  readonly shardCount: number;
  #direct = new Uint32Array(0);
  /** Ids not in the direct array, to the same word as the direct array holds (< 2^23). */
  readonly #table = new IdTable();
  #learnt = 0;
  /** Accounts learnt since the last takeLearnt() (null: not kept), for a caller that stores them. */
  #learntSince: LearntAccount[] | null;

  constructor(shardCount: number, options: { keepLearnt?: boolean } = {}) {
    assert(Number.isInteger(shardCount) && shardCount >= 1 && shardCount <= shardCountMax, 'shardCount within 1..shardCountMax');
    this.shardCount = shardCount;
    this.#learntSince = options.keepLearnt === true ? [] : null;
  }

  /** How many accounts were learnt (or restored). */
  get size(): number {
    return this.#learnt;
  }

  /** The accounts learnt since the last call (kept only when made with keepLearnt), oldest first. */
  takeLearnt(): LearntAccount[] {
    assert(this.#learntSince !== null, 'learnt accounts are kept');
    const learnt = this.#learntSince;
    this.#learntSince = [];
    return learnt;
  }

  /**
   * Restores accounts a store kept (their words as takeLearnt gave them, for this shard count) into an empty
   * map. Counted first, so that the direct array may reach as far as it could when they were learnt.
   */
  restore(accounts: readonly LearntAccount[]): void {
    assert(this.#learnt === 0, 'accounts are restored into an empty map');
    this.#learnt = accounts.length;
    for (const { id, word } of accounts) {
      const view = new DataView(id.buffer, id.byteOffset, id.byteLength);
      assert(id.byteLength === 16 && (word & codeMask) !== 0 && word >>> codeBits < this.shardCount, 'a stored account is an id and a word for this shard count');
      assert(this.#wordAt(view, 0) === 0, 'a stored account is named once');
      this.#put(view, 0, word);
    }
  }

  /** The word of the account whose id is at `at` (code + 1, home shard above), 0 when never learnt. */
  wordAt(view: DataView, at: number): number {
    return this.#wordAt(view, at);
  }

  /** Learns the accounts an entry opened (a create_accounts entry; others are ignored). */
  learn(entry: Uint8Array): void {
    const header = readJournalHeader(entry);
    if (header.operation !== Operation.create_accounts) return;
    const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
    const results = resultsOffset(header.count);
    for (let i = 0; i < header.count; i++) {
      // The low 16 bits of a result are its code (0: ok); the high 16 a detail.
      if (view.getUint16(results + i * resultBytes, true) !== 0) continue;
      const at = eventOffset(i);
      if (this.#wordAt(view, at + A.id) === 0) this.#add(view, at + A.id, view.getUint16(at + A.code, true));
    }
  }

  /** The code of the account whose id is at `at` (system accounts by their kind); 0 when never opened. */
  codeAt(view: DataView, at: number): number {
    if (isSystemIdAt(view, at)) return isSuspenseIdAt(view, at) ? SystemAccountCode.suspense : SystemAccountCode.transit;
    const word = this.#wordAt(view, at);
    return word === 0 ? 0 : (word & codeMask) - 1;
  }

  /**
   * The code of the account whose id is at `at` when it lives on shard `shardIndex`, else `elsewhere`: one
   * lookup answers both. Equal to `shardOfIdAt(id, shardCount) === shardIndex ? codeAt(id) : elsewhere`.
   */
  codeIfOnShardAt(view: DataView, at: number, shardIndex: number, elsewhere: number): number {
    const word = isSystemIdAt(view, at) ? 0 : this.#wordAt(view, at);
    // Ids never opened (and system ids) are routed afresh: only opened ones had their shard kept.
    if (word === 0) return shardOfIdAt(view, at, this.shardCount) === shardIndex ? this.codeAt(view, at) : elsewhere;
    return word >>> codeBits === shardIndex ? (word & codeMask) - 1 : elsewhere;
  }

  /** The word (code + 1 and shard) of the account whose id is at `at`, or 0 when never learnt. */
  #wordAt(view: DataView, at: number): number {
    const id = smallIdAt(view, at);
    const direct = this.#direct;
    if (id >= 0 && id < direct.length) {
      const word = direct[id]!;
      if (word !== 0) return word;
    }
    // An id below the direct array's length may still be in the table: it was learnt before the array reached it.
    const value = this.#table.getAt(view, at);
    return value < 0 ? 0 : value;
  }

  #add(view: DataView, at: number, code: number): void {
    assert(Number.isInteger(code) && code >= 0 && code < codeLimit, 'an account code is a u16');
    this.#learnt++;
    const word = ((shardOfIdAt(view, at, this.shardCount) << codeBits) | (code + 1)) >>> 0;
    this.#put(view, at, word);
    // A copy: the entry may be a view into the journal's map, valid only until the next one is read.
    this.#learntSince?.push({ id: new Uint8Array(view.buffer, view.byteOffset + at, 16).slice(), word });
  }

  #put(view: DataView, at: number, word: number): void {
    const id = smallIdAt(view, at);
    if (id >= 0 && this.#covers(id)) this.#direct[id] = word;
    else this.#table.setAt(view, at, word);
  }

  /** Whether the direct array covers `id`, growing it (by doubling, within its bound) when it may. */
  #covers(id: number): boolean {
    if (id < this.#direct.length) return true;
    const bound = directIdsFloor + directIdsPerAccountMax * this.#learnt;
    if (id >= bound) return false;
    const direct = new Uint32Array(Math.min(bound, Math.max(id + 1, this.#direct.length * 2)));
    direct.set(this.#direct);
    this.#direct = direct;
    return true;
  }
}
