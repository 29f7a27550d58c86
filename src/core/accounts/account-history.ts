// Which transfers touched each account, in posting order: the index behind the cashflow view.
// Posting appends one node per account side to a global, chunked, append-only log (sequential
// memory, no per-account arrays to grow) linked to that account's previous node. A query walks
// the links once and caches the account's locations as an array, extended on later queries.
// Each account's newest node lives in its record in the account table (one cache line per account).

import { assert } from '../assert.js';
import { historyChunkNodes } from '../limits.js';

/** Where the newest node of each account slot is kept (AccountTable: in the slot's record). */
export interface HistoryHeads {
  /** The newest node of the slot, or -1. */
  historyHead(slot: number): number;
  setHistoryHead(slot: number, node: number): void;
}

interface CachedLocations {
  locations: number[];
  /** The newest node already in `locations`, or -1. */
  nodeNewest: number;
}

export class AccountHistory {
  private readonly locationChunks: Float64Array[] = [];
  private readonly previousChunks: Float64Array[] = [];
  private nodeCount = 0;
  private readonly cache = new Map<number, CachedLocations>();

  constructor(private readonly heads: HistoryHeads) {}

  /** Nodes appended so far. */
  get nodes(): number {
    return this.nodeCount;
  }

  append(slot: number, location: number): void {
    const node = this.nodeCount++;
    const chunk = Math.floor(node / historyChunkNodes);
    if (chunk === this.locationChunks.length) {
      this.locationChunks.push(new Float64Array(historyChunkNodes));
      this.previousChunks.push(new Float64Array(historyChunkNodes));
    }
    const index = node - chunk * historyChunkNodes;
    this.locationChunks[chunk]![index] = location;
    this.previousChunks[chunk]![index] = this.heads.historyHead(slot);
    this.heads.setHistoryHead(slot, node);
  }

  /** Every node's location and previous node, node order (a checkpoint copies them; issue #22 §2 moves them to disk). */
  exportNodes(): { locations: Float64Array; previous: Float64Array } {
    const locations = new Float64Array(this.nodeCount);
    const previous = new Float64Array(this.nodeCount);
    for (let chunk = 0; chunk * historyChunkNodes < this.nodeCount; chunk++) {
      const from = chunk * historyChunkNodes;
      const to = Math.min(this.nodeCount, from + historyChunkNodes);
      locations.set(this.locationChunks[chunk]!.subarray(0, to - from), from);
      previous.set(this.previousChunks[chunk]!.subarray(0, to - from), from);
    }
    return { locations, previous };
  }

  /** A fresh history takes exportNodes' arrays (the heads are restored with the account records). */
  restoreNodes(locations: Float64Array, previous: Float64Array): void {
    assert(this.nodeCount === 0 && locations.length === previous.length, 'history nodes are restored into an empty history');
    for (let from = 0; from < locations.length; from += historyChunkNodes) {
      const to = Math.min(locations.length, from + historyChunkNodes);
      const chunkLocations = new Float64Array(historyChunkNodes);
      const chunkPrevious = new Float64Array(historyChunkNodes);
      chunkLocations.set(locations.subarray(from, to));
      chunkPrevious.set(previous.subarray(from, to));
      this.locationChunks.push(chunkLocations);
      this.previousChunks.push(chunkPrevious);
    }
    this.nodeCount = locations.length;
  }

  /** Undo of the newest append (a failed linked chain); appends are undone newest first. */
  removeNewest(slot: number): void {
    const node = this.heads.historyHead(slot);
    assert(node === this.nodeCount - 1, 'only the newest history node can be removed');
    this.heads.setHistoryHead(slot, this.previous(node));
    this.nodeCount--;
    const cached = this.cache.get(slot);
    assert(cached === undefined || cached.nodeNewest !== node, 'a cached history node cannot be removed');
  }

  /** The journal locations of every transfer of the account, oldest first. Do not modify. */
  locations(slot: number): readonly number[] {
    const head = this.heads.historyHead(slot);
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
}
