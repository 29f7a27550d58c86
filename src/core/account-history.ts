// Which transfers touched each account, in posting order: the index behind the cashflow view.
// Posting appends one node per account side to a global, chunked, append-only log (sequential
// memory, no per-account arrays to grow) linked to that account's previous node. A query walks
// the links once and caches the account's locations as an array, extended on later queries.

import { assert } from './assert.js';
import { historyChunkNodes } from './limits.js';

interface CachedLocations {
  locations: number[];
  /** The newest node already in `locations`, or -1. */
  nodeNewest: number;
}

export class AccountHistory {
  private readonly locationChunks: Float64Array[] = [];
  private readonly previousChunks: Float64Array[] = [];
  private nodeCount = 0;
  /** The newest node of each account slot, or -1. */
  private heads = new Float64Array(1024).fill(-1);
  private readonly cache = new Map<number, CachedLocations>();

  append(slot: number, location: number): void {
    if (slot >= this.heads.length) this.growHeads(slot);
    const node = this.nodeCount++;
    const chunk = Math.floor(node / historyChunkNodes);
    if (chunk === this.locationChunks.length) {
      this.locationChunks.push(new Float64Array(historyChunkNodes));
      this.previousChunks.push(new Float64Array(historyChunkNodes));
    }
    const index = node - chunk * historyChunkNodes;
    this.locationChunks[chunk]![index] = location;
    this.previousChunks[chunk]![index] = this.heads[slot]!;
    this.heads[slot] = node;
  }

  /** Undo of the newest append (a failed linked chain); appends are undone newest first. */
  removeNewest(slot: number): void {
    const node = this.heads[slot]!;
    assert(node === this.nodeCount - 1, 'only the newest history node can be removed');
    this.heads[slot] = this.previous(node);
    this.nodeCount--;
    const cached = this.cache.get(slot);
    assert(cached === undefined || cached.nodeNewest !== node, 'a cached history node cannot be removed');
  }

  /** The journal locations of every transfer of the account, oldest first. Do not modify. */
  locations(slot: number): readonly number[] {
    const head = slot < this.heads.length ? this.heads[slot]! : -1;
    let cached = this.cache.get(slot);
    if (cached === undefined) {
      cached = { locations: [], nodeNewest: -1 };
      this.cache.set(slot, cached);
    }
    if (head === cached.nodeNewest) return cached.locations;
    const newer: number[] = [];
    for (let node = head; node !== cached.nodeNewest; node = this.previous(node)) {
      assert(node >= 0, 'history walk passed the cached node');
      newer.push(this.location(node));
    }
    for (let i = newer.length - 1; i >= 0; i--) cached.locations.push(newer[i]!);
    cached.nodeNewest = head;
    return cached.locations;
  }

  private location(node: number): number {
    const chunk = Math.floor(node / historyChunkNodes);
    return this.locationChunks[chunk]![node - chunk * historyChunkNodes]!;
  }

  private previous(node: number): number {
    const chunk = Math.floor(node / historyChunkNodes);
    return this.previousChunks[chunk]![node - chunk * historyChunkNodes]!;
  }

  private growHeads(slot: number): void {
    let length = this.heads.length;
    while (length <= slot) length *= 2;
    const heads = new Float64Array(length).fill(-1);
    heads.set(this.heads);
    this.heads = heads;
  }
}
