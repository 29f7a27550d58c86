// The stored form of flushed account history: a run per account slot and flush, grouped per block of
// historyBlockSlots slots into one value keyed (epoch, block). Encoding and reading only: which runs exist
// and how they chain is account-history.ts's; where they are stored is the HistorySource's (src/shards).
// Layout (little-endian): u32 runCount, u32 0, then runCount × (u32 slot, u32 byte offset of its run) sorted by
// slot, then the runs: f64 prevEpoch, u32 count, u32 0, u64 firstTimestamp, u64 lastTimestamp, f64 × count locations.

import { assert } from '../assert.js';
import { historyBlockSlots } from '../limits.js';

/** Where flushed runs are read from (JournalStore in src/shards). Synchronous, like JournalSource. */
export interface HistorySource {
  /**
   * The run block of flush `epoch` (the flush_history entry's seq) and slot block `block`, or undefined. May
   * be a view into storage, valid only until the next call: read what is needed before calling again.
   */
  runBlock(epoch: number, block: number): Uint8Array | undefined;
}

/** The run blocks one flush produced, to store beside its journal entry (in the same transaction). */
export interface FlushedRuns {
  /** The flush_history entry's seq. */
  epoch: number;
  /** Ascending by block. */
  blocks: { block: number; bytes: Uint8Array }[];
}

/** One account's run of one flush, without its locations. */
export interface RunHeader {
  /** The epoch of the account's run before this one, or -1 (none). */
  prevEpoch: number;
  count: number;
  firstTimestamp: bigint;
  lastTimestamp: bigint;
}

const blockHeaderBytes = 8;
const directoryEntryBytes = 8;
export const runHeaderBytes = 32;

export function blockOfSlot(slot: number): number {
  return Math.floor(slot / historyBlockSlots);
}

/** Bytes of a block holding runs of these node counts. */
export function runBlockBytes(counts: readonly number[]): number {
  let bytes = blockHeaderBytes + counts.length * directoryEntryBytes;
  for (const count of counts) bytes += runHeaderBytes + count * 8;
  return bytes;
}

/** Writes a block's header and directory (`slots` ascending, `counts` theirs); returns each run's byte offset. */
export function writeRunDirectory(view: DataView, slots: readonly number[], counts: readonly number[]): number[] {
  assert(slots.length === counts.length && slots.length > 0, 'a run block holds at least one run, one count per slot');
  view.setUint32(0, slots.length, true);
  view.setUint32(4, 0, true);
  const offsets: number[] = [];
  let at = blockHeaderBytes + slots.length * directoryEntryBytes;
  for (let i = 0; i < slots.length; i++) {
    assert(i === 0 || slots[i]! > slots[i - 1]!, 'a run block lists its slots ascending');
    view.setUint32(blockHeaderBytes + i * directoryEntryBytes, slots[i]!, true);
    view.setUint32(blockHeaderBytes + i * directoryEntryBytes + 4, at, true);
    offsets.push(at);
    at += runHeaderBytes + counts[i]! * 8;
  }
  assert(at === view.byteLength, 'a run block is exactly as long as its runs');
  return offsets;
}

export function writeRunHeader(view: DataView, at: number, header: RunHeader): void {
  view.setFloat64(at, header.prevEpoch, true);
  view.setUint32(at + 8, header.count, true);
  view.setUint32(at + 12, 0, true);
  view.setBigUint64(at + 16, header.firstTimestamp, true);
  view.setBigUint64(at + 24, header.lastTimestamp, true);
}

/** The byte offset of `slot`'s run in `block`, or -1 when the block holds none for it. */
export function findRun(block: Uint8Array, slot: number): number {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  let low = 0;
  let high = view.getUint32(0, true);
  while (low < high) {
    const mid = (low + high) >>> 1;
    const found = view.getUint32(blockHeaderBytes + mid * directoryEntryBytes, true);
    if (found === slot) return view.getUint32(blockHeaderBytes + mid * directoryEntryBytes + 4, true);
    if (found < slot) low = mid + 1;
    else high = mid;
  }
  return -1;
}

export function readRunHeader(block: Uint8Array, at: number): RunHeader {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const header = {
    prevEpoch: view.getFloat64(at, true),
    count: view.getUint32(at + 8, true),
    firstTimestamp: view.getBigUint64(at + 16, true),
    lastTimestamp: view.getBigUint64(at + 24, true),
  };
  assert(header.count > 0 && at + runHeaderBytes + header.count * 8 <= block.byteLength, 'a stored run holds its locations');
  return header;
}

/** A copy of the locations of the run at `at` (oldest first): the block may be a view that the next read reuses. */
export function copyRunLocations(block: Uint8Array, at: number, count: number): Float64Array {
  const from = block.byteOffset + at + runHeaderBytes;
  const bytes = new Uint8Array(count * 8);
  bytes.set(new Uint8Array(block.buffer, from, count * 8));
  // A fresh buffer is aligned; the platform is little-endian (asserted where run blocks are written).
  return new Float64Array(bytes.buffer);
}

/** Key of a run block: u64 epoch then u32 block, big-endian, so keys sort by (epoch, block): flushes append. */
export function runBlockKey(epoch: number, block: number): Uint8Array {
  assert(Number.isSafeInteger(epoch) && epoch >= 1 && Number.isInteger(block) && block >= 0, 'a run block key is an epoch (seq) and a block');
  const key = new Uint8Array(12);
  const view = new DataView(key.buffer);
  view.setUint32(0, Math.floor(epoch / 0x1_0000_0000));
  view.setUint32(4, epoch >>> 0);
  view.setUint32(8, block);
  return key;
}

/** Whether typed arrays read little-endian here (run locations are copied as raw f64 words). */
export const littleEndian = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
