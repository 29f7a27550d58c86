// Which transfers touched each account, in posting order: the index behind the cashflow view.
// Posting appends one node per account side to a chunked in-memory buffer, linked to that account's previous
// buffered node; a flush_history entry moves the buffer into runs stored beside the journal (history-runs.ts),
// one per account and flush, each linked to the account's previous run by epoch (the flush's seq). Memory holds
// only the buffer since the last flush and per-slot heads: it never grows with history. The epoch of each
// account's newest run lives in its record in the account table (one cache line per account).

import { assert } from '../assert.js';
import { historyBufferNodesMax, historyChunkNodes, locationEventsPerBatchMax } from '../limits.js';
import {
  blockOfSlot,
  copyRunLocations,
  findRun,
  littleEndian,
  readRunHeader,
  runBlockBytes,
  runHeaderBytes,
  writeRunDirectory,
  writeRunHeader,
  type FlushedRuns,
  type HistorySource,
  type RunHeader,
} from './history-runs.js';

/** Where the epoch of each account slot's newest run is kept (AccountTable: in the slot's record). */
export interface HistoryHeads {
  /** The epoch of the slot's newest stored run, or -1. */
  historyHead(slot: number): number;
  setHistoryHead(slot: number, epoch: number): void;
}

/** A stretch of one account's history in posting order: a stored run, or the buffer (epoch -1). */
export interface HistorySegment extends RunHeader {
  /** The run's epoch, or -1 for the nodes buffered since the last flush. */
  epoch: number;
}

/** A run of the flush being written: its slot, where its header goes, and its locations (a view into the block). */
interface RunBeingWritten {
  slot: number;
  view: DataView;
  at: number;
  locations: Float64Array;
}

/** A source with no runs: a ledger that never flushes (tests, tools that keep everything in memory). */
const noRuns: HistorySource = { runBlock: () => undefined };

export class AccountHistory {
  /** Where flushed runs are read from (set by LedgerState from its journal source). */
  source: HistorySource = noRuns;
  private readonly locationChunks: Float64Array[] = [];
  private readonly previousChunks: Int32Array[] = [];
  /** The slot of each node: a flush reads the buffer once in node order (sequential) instead of chasing each slot's links. */
  private readonly slotChunks: Int32Array[] = [];
  private nodeCount = 0;
  /** Per slot: its newest buffered node, or -1; and how many nodes it has buffered. */
  private bufferHeads = new Int32Array(0);
  private bufferCounts = new Uint32Array(0);
  /** Slots with buffered nodes, in the order their first node came (chain undo removes the newest first). */
  private readonly touched: number[] = [];
  /** The entries whose events have buffered nodes, ascending by seq, and their timestamp bases (event i: base + i). */
  private readonly entrySeqs: number[] = [];
  private readonly entryTimestampBases: bigint[] = [];
  /** The entry being applied (noteEntry): added to the two lists above by its first node. */
  private entrySeq = 0;
  private entryTimestampBase = 0n;

  constructor(private readonly heads: HistoryHeads) {}

  /** History nodes buffered since the last flush (all accounts). */
  get bufferedNodes(): number {
    return this.nodeCount;
  }

  /** The entry about to be applied: its events' timestamps are `timestampBase + index` (journal-entry.ts). */
  noteEntry(seq: number, timestampBase: bigint): void {
    this.entrySeq = seq;
    this.entryTimestampBase = timestampBase;
  }

  append(slot: number, location: number): void {
    if (slot >= this.bufferHeads.length) this.growSlots(slot);
    if (this.entrySeqs[this.entrySeqs.length - 1] !== this.entrySeq) {
      // Constant message: this path runs per posting.
      assert(Math.floor(location / locationEventsPerBatchMax) === this.entrySeq, 'a history node belongs to the entry being applied');
      this.entrySeqs.push(this.entrySeq);
      this.entryTimestampBases.push(this.entryTimestampBase);
    }
    const node = this.nodeCount++;
    assert(node < historyBufferNodesMax, 'the history buffer is flushed before its node numbers overflow');
    const chunk = Math.floor(node / historyChunkNodes);
    if (chunk === this.locationChunks.length) {
      this.locationChunks.push(new Float64Array(historyChunkNodes));
      this.previousChunks.push(new Int32Array(historyChunkNodes));
      this.slotChunks.push(new Int32Array(historyChunkNodes));
    }
    const index = node - chunk * historyChunkNodes;
    this.locationChunks[chunk]![index] = location;
    this.previousChunks[chunk]![index] = this.bufferHeads[slot]!;
    this.slotChunks[chunk]![index] = slot;
    if (this.bufferCounts[slot]++ === 0) this.touched.push(slot);
    this.bufferHeads[slot] = node;
  }

  /** Undo of the newest append (a failed linked chain); appends are undone newest first, never across a flush. */
  removeNewest(slot: number): void {
    const node = this.bufferHeads[slot] ?? -1;
    assert(node >= 0 && node === this.nodeCount - 1, 'only the newest buffered history node can be removed (a flush is never inside a chain)');
    this.bufferHeads[slot] = this.previous(node);
    this.nodeCount--;
    if (--this.bufferCounts[slot]! === 0) {
      assert(this.touched[this.touched.length - 1] === slot, 'the slot whose first buffered node is undone was touched last');
      this.touched.pop();
    }
  }

  /**
   * Moves every buffered node into runs of flush `epoch` (one per slot that has nodes, linked to its previous
   * run) and empties the buffer. Returns the run blocks to store with the flush entry.
   */
  flush(epoch: number): FlushedRuns {
    assert(littleEndian, 'run locations are stored as little-endian f64 words');
    const slots = Int32Array.from(this.touched).sort();
    const blocks: FlushedRuns['blocks'] = [];
    const runs: RunBeingWritten[] = [];
    for (let from = 0; from < slots.length; ) {
      const block = blockOfSlot(slots[from]!);
      let to = from + 1;
      while (to < slots.length && blockOfSlot(slots[to]!) === block) to++;
      blocks.push({ block, bytes: this.allocateBlock(Array.from(slots.subarray(from, to)), runs) });
      from = to;
    }
    this.fillRuns(runs);
    for (const run of runs) this.finishRun(run, epoch);
    let nodes = 0;
    for (const slot of slots) {
      nodes += this.bufferCounts[slot]!;
      this.bufferHeads[slot] = -1;
      this.bufferCounts[slot] = 0;
    }
    assert(nodes === this.nodeCount, 'a flush takes every buffered node');
    this.nodeCount = 0;
    this.touched.length = 0;
    this.entrySeqs.length = 0;
    this.entryTimestampBases.length = 0;
    return { epoch, blocks };
  }

  /** The segments of the slot's history, newest first: the buffer (when it holds nodes), then each stored run. */
  *segmentsNewestFirst(slot: number): Generator<HistorySegment> {
    const count = slot < this.bufferCounts.length ? this.bufferCounts[slot]! : 0;
    if (count > 0) {
      const locations = this.bufferedLocations(slot);
      yield { epoch: -1, prevEpoch: this.heads.historyHead(slot), count, firstTimestamp: this.timestampOf(locations[0]!), lastTimestamp: this.timestampOf(locations[count - 1]!) };
    }
    for (let epoch = this.heads.historyHead(slot); epoch !== -1; ) {
      const header = this.runHeader(slot, epoch);
      yield { epoch, ...header };
      assert(header.prevEpoch < epoch, 'an account\'s runs link to older flushes');
      epoch = header.prevEpoch;
    }
  }

  /** The journal locations of `segment` (of `slot`), oldest first: a fresh copy. */
  locationsOf(slot: number, segment: HistorySegment): Float64Array {
    if (segment.epoch === -1) return this.bufferedLocations(slot);
    const block = this.runBlock(slot, segment.epoch);
    const at = findRun(block, slot);
    return copyRunLocations(block, at, readRunHeader(block, at).count);
  }

  /** Every journal location of the slot, oldest first (verification: reads every run of the account). */
  *allLocations(slot: number): Generator<number> {
    const segments = [...this.segmentsNewestFirst(slot)];
    for (let k = segments.length - 1; k >= 0; k--) yield* this.locationsOf(slot, segments[k]!);
  }

  /** A block's bytes with its directory written; each run's locations view (still empty) joins `runs`. */
  private allocateBlock(slots: number[], runs: RunBeingWritten[]): Uint8Array {
    const counts = slots.map((slot) => this.bufferCounts[slot]!);
    const bytes = new Uint8Array(runBlockBytes(counts));
    const view = new DataView(bytes.buffer);
    const offsets = writeRunDirectory(view, slots, counts);
    slots.forEach((slot, i) => runs.push({ slot, view, at: offsets[i]!, locations: new Float64Array(bytes.buffer, offsets[i]! + runHeaderBytes, counts[i]!) }));
    return bytes;
  }

  /**
   * Copies every buffered node into its slot's run, in one pass in node order: reads are sequential and each
   * run fills front to back (posting order). Chasing each slot's links instead costs a cache miss per node.
   */
  private fillRuns(runs: readonly RunBeingWritten[]): void {
    const targets: (Float64Array | undefined)[] = new Array(this.bufferHeads.length);
    const cursors = new Int32Array(this.bufferHeads.length);
    for (const run of runs) targets[run.slot] = run.locations;
    for (let node = 0; node < this.nodeCount; ) {
      const chunk = Math.floor(node / historyChunkNodes);
      const locations = this.locationChunks[chunk]!;
      const owners = this.slotChunks[chunk]!;
      const end = Math.min(this.nodeCount - chunk * historyChunkNodes, historyChunkNodes);
      for (let index = node - chunk * historyChunkNodes; index < end; index++) {
        const slot = owners[index]!;
        targets[slot]![cursors[slot]!++] = locations[index]!;
      }
      node = chunk * historyChunkNodes + end;
    }
    for (const run of runs) assert(cursors[run.slot] === run.locations.length, 'a flush fills each run with exactly its buffered nodes');
  }

  /** Writes the run's header (linked to the slot's previous run) and makes it the slot's newest run. */
  private finishRun({ slot, view, at, locations }: RunBeingWritten, epoch: number): void {
    const prevEpoch = this.heads.historyHead(slot);
    assert(prevEpoch < epoch, 'a run links to an older flush');
    const count = locations.length;
    writeRunHeader(view, at, { prevEpoch, count, firstTimestamp: this.timestampOf(locations[0]!), lastTimestamp: this.timestampOf(locations[count - 1]!) });
    this.heads.setHistoryHead(slot, epoch);
  }

  private bufferedLocations(slot: number): Float64Array {
    const locations = new Float64Array(this.bufferCounts[slot]!);
    this.fillLocations(slot, locations);
    return locations;
  }

  /** Writes the slot's buffered locations, oldest first, into `into` (exactly its buffered count long). */
  private fillLocations(slot: number, into: Float64Array): void {
    let i = into.length;
    for (let node = this.bufferHeads[slot]!; node !== -1; node = this.previous(node)) into[--i] = this.location(node);
    assert(i === 0, 'a slot\'s buffered chain holds its buffered count');
  }

  /** The timestamp of the buffered event at `location`: its entry's base plus its index. */
  private timestampOf(location: number): bigint {
    const seq = Math.floor(location / locationEventsPerBatchMax);
    let low = 0;
    let high = this.entrySeqs.length - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.entrySeqs[mid]! < seq) low = mid + 1;
      else high = mid;
    }
    assert(this.entrySeqs[low] === seq, `entry ${seq} of a buffered history node was noted`);
    return this.entryTimestampBases[low]! + BigInt(location - seq * locationEventsPerBatchMax);
  }

  private runBlock(slot: number, epoch: number): Uint8Array {
    const block = this.source.runBlock(epoch, blockOfSlot(slot));
    assert(block !== undefined, `history run block of flush ${epoch} for slot ${slot} is stored`);
    return block;
  }

  private runHeader(slot: number, epoch: number): RunHeader {
    const block = this.runBlock(slot, epoch);
    const at = findRun(block, slot);
    assert(at >= 0, `flush ${epoch} stored a run of slot ${slot}`);
    return readRunHeader(block, at);
  }

  private growSlots(slot: number): void {
    let length = Math.max(1024, this.bufferHeads.length);
    while (length <= slot) length *= 2;
    const heads = new Int32Array(length).fill(-1);
    heads.set(this.bufferHeads);
    const counts = new Uint32Array(length);
    counts.set(this.bufferCounts);
    this.bufferHeads = heads;
    this.bufferCounts = counts;
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
