// The history index with its flushes (core/accounts/account-history.ts, history-runs.ts). Invariants: every
// account lists exactly the locations appended for it, oldest first, whether they sit in the buffer or in runs
// of any number of flushes; a flush empties the buffer (memory does not grow with history) and links each
// account's new run to its previous one; run blocks hold only the slots of their block, sorted; a chain undo
// can only remove a node of the buffer, never one already flushed.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { AccountHistory, type HistoryHeads } from '../../../../src/core/accounts/account-history.js';
import { blockOfSlot, findRun, readRunHeader, runBlockKey, type FlushedRuns } from '../../../../src/core/accounts/history-runs.js';
import { historyBlockSlots, locationEventsPerBatchMax } from '../../../../src/core/limits.js';

const timestampBase = (seq: number) => 1_000_000n * BigInt(seq);

/** An AccountHistory over plain heads and an in-memory run store, fed entry by entry as the ledger does. */
class Rig implements HistoryHeads {
  readonly heads = new Map<number, number>();
  readonly blocks = new Map<string, Uint8Array>();
  readonly history = new AccountHistory(this);
  /** The reference: every location appended per slot, oldest first. */
  readonly expected = new Map<number, number[]>();
  seq = 0;

  constructor() {
    this.history.source = { runBlock: (epoch, block) => this.blocks.get(`${epoch}:${block}`) };
  }

  historyHead(slot: number): number {
    return this.heads.get(slot) ?? -1;
  }
  setHistoryHead(slot: number, epoch: number): void {
    this.heads.set(slot, epoch);
  }

  /** One entry whose events touch `slots` (one event per slot pair, index = position). */
  entry(slots: readonly number[]): void {
    this.seq++;
    this.history.noteEntry(this.seq, timestampBase(this.seq));
    slots.forEach((slot, index) => {
      const location = this.seq * locationEventsPerBatchMax + index;
      this.history.append(slot, location);
      this.expected.set(slot, [...(this.expected.get(slot) ?? []), location]);
    });
  }

  flush(): FlushedRuns {
    this.seq++;
    this.history.noteEntry(this.seq, timestampBase(this.seq));
    const runs = this.history.flush(this.seq);
    for (const { block, bytes } of runs.blocks) this.blocks.set(`${runs.epoch}:${block}`, bytes);
    return runs;
  }

  locations(slot: number): number[] {
    return [...this.history.allLocations(slot)];
  }
}

const timestampOf = (location: number) => timestampBase(Math.floor(location / locationEventsPerBatchMax)) + BigInt(location % locationEventsPerBatchMax);

describe('AccountHistory', () => {
  test('a flush empties the buffer and every location stays listed, oldest first', () => {
    const rig = new Rig();
    rig.entry([1, 2, 1]);
    rig.entry([2, 3]);
    expect(rig.history.bufferedNodes).toBe(5);
    rig.flush();
    expect(rig.history.bufferedNodes).toBe(0);
    rig.entry([1]);
    for (const slot of [1, 2, 3]) expect(rig.locations(slot)).toEqual(rig.expected.get(slot));
    expect(rig.locations(4)).toEqual([]);
  });

  test("each account's runs link to its previous flush; the buffer comes first, newest first", () => {
    const rig = new Rig();
    rig.entry([7]); // seq 1
    rig.flush(); // seq 2
    rig.entry([8]); // seq 3: slot 7 sits this flush out
    rig.flush(); // seq 4
    rig.entry([7, 7]); // seq 5
    rig.flush(); // seq 6
    rig.entry([7]); // seq 7, buffered
    const segments = [...rig.history.segmentsNewestFirst(7)];
    expect(segments.map((s) => [s.epoch, s.prevEpoch, s.count])).toEqual([
      [-1, 6, 1],
      [6, 2, 2],
      [2, -1, 1],
    ]);
    expect(segments.map((s) => [s.firstTimestamp, s.lastTimestamp])).toEqual([
      [timestampBase(7), timestampBase(7)],
      [timestampBase(5), timestampBase(5) + 1n],
      [timestampBase(1), timestampBase(1)],
    ]);
    expect(rig.heads.get(7)).toBe(6);
  });

  test('runs are grouped per block of historyBlockSlots slots, keyed (epoch, block), slots sorted in each', () => {
    const rig = new Rig();
    const slots = [historyBlockSlots * 2 + 5, 3, historyBlockSlots + 1, 0, historyBlockSlots * 2];
    rig.entry(slots);
    const runs = rig.flush();
    expect(runs.blocks.map((b) => b.block)).toEqual([0, 1, 2]);
    for (const slot of slots) {
      const block = runs.blocks.find((b) => b.block === blockOfSlot(slot))!.bytes;
      const at = findRun(block, slot);
      expect(at).toBeGreaterThan(0);
      expect(readRunHeader(block, at)).toEqual({ prevEpoch: -1, count: 1, firstTimestamp: timestampOf(rig.expected.get(slot)![0]!), lastTimestamp: timestampOf(rig.expected.get(slot)![0]!) });
    }
    expect(findRun(runs.blocks[0]!.bytes, 4)).toBe(-1);
    // Keys sort by epoch first: a later flush's blocks come after every block of an earlier one.
    expect(Buffer.compare(runBlockKey(2, 0xffff_ffff), runBlockKey(3, 0)) < 0).toBe(true);
    expect(Buffer.compare(runBlockKey(0x1_0000_0000, 0), runBlockKey(0xffff_ffff, 7)) > 0).toBe(true);
  });

  test('chain undo removes buffered nodes newest first, and never reaches a flushed node', () => {
    const rig = new Rig();
    rig.entry([1, 2]);
    rig.flush();
    rig.entry([2]);
    rig.history.removeNewest(2);
    expect(rig.locations(2)).toEqual(rig.expected.get(2)!.slice(0, 1));
    expect(() => rig.history.removeNewest(2)).toThrow(/only the newest buffered history node/);
    expect(() => rig.history.removeNewest(1)).toThrow(/only the newest buffered history node/);
  });

  test('a missing run block is an assertion, not an empty history', () => {
    const rig = new Rig();
    rig.entry([1]);
    rig.flush();
    rig.blocks.clear();
    expect(() => rig.locations(1)).toThrow(/is stored/);
  });

  test('random entries and flushes: every account lists what was appended, and the buffer holds only what came since the last flush', () => {
    const slot = fc.integer({ min: 0, max: historyBlockSlots * 3 });
    const step = fc.oneof(fc.array(slot, { minLength: 0, maxLength: 12 }), fc.constant('flush' as const));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const rig = new Rig();
        let sinceFlush = 0;
        for (const s of steps) {
          if (s === 'flush') {
            rig.flush();
            sinceFlush = 0;
          } else {
            rig.entry(s);
            sinceFlush += s.length;
          }
          expect(rig.history.bufferedNodes).toBe(sinceFlush);
        }
        for (const [slot, locations] of rig.expected) {
          expect(rig.locations(slot)).toEqual(locations);
          for (const segment of rig.history.segmentsNewestFirst(slot)) {
            const inSegment = rig.history.locationsOf(slot, segment);
            expect([segment.firstTimestamp, segment.lastTimestamp]).toEqual([timestampOf(inSegment[0]!), timestampOf(inSegment.at(-1)!)]);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
