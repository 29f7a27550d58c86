// The journal's id index (src/shards/shard/id-index.ts): deriving one entry's index values at full batch size,
// what every append of a create_transfers entry pays on the shard's thread. Three shapes of ids: one client's
// newId() batch (sorted: one pass), four clients' ids interleaved (a comparison sort), and counted ids that are
// not time-ordered (each a straggler key). The digest covers the derived values, the same on every call.

import { batchEventsMax } from '../../../../src/core/limits.js';
import { JournalEntryKind } from '../../../../src/core/operations.js';
import { eventOffset, journalEntryBytes, writeJournalHeader } from '../../../../src/core/posting/journal-entry.js';
import { deriveIndex } from '../../../../src/shards/shard/id-index.js';
import { Digest, type MicroTask } from '../../bench-kit.js';

const nowMs = 1_700_000_000_000;
const shapes = {
  sorted: (i: number) => (BigInt(nowMs) << 80n) | BigInt(i + 1),
  interleaved: (i: number) => (BigInt(nowMs - (i % 4)) << 80n) | BigInt(i + 1),
  counted: (i: number) => (0x7a11_0001n << 64n) | BigInt(i + 1),
} as const;

function entryOf(count: number, idOf: (i: number) => bigint): Uint8Array {
  const entry = new Uint8Array(journalEntryBytes(JournalEntryKind.create_transfers, count));
  const view = new DataView(entry.buffer);
  writeJournalHeader(view, { operation: JournalEntryKind.create_transfers, count, timestampBase: BigInt(nowMs) * 1_000_000n, seq: 7, businessDay: 0 });
  for (let i = 0; i < count; i++) {
    view.setBigUint64(eventOffset(i), idOf(i) & 0xffff_ffff_ffff_ffffn, true);
    view.setBigUint64(eventOffset(i) + 8, idOf(i) >> 64n, true);
  }
  return entry;
}

export function idIndexTasks(options: { calls: number; ids?: number }): MicroTask[] {
  const count = options.ids ?? batchEventsMax;
  return Object.entries(shapes).map(([shape, idOf]): MicroTask => {
    let entry: Uint8Array = new Uint8Array(0);
    let owned = new Uint32Array(0);
    let last: ReturnType<typeof deriveIndex> | null = null;
    return {
      name: `id index: derive ${count} ${shape} ids`,
      eventsPerCall: count,
      calls: options.calls,
      setup: () => {
        entry = entryOf(count, idOf);
        owned = Uint32Array.from({ length: count }, (_, i) => i);
      },
      call: () => {
        last = deriveIndex(7, entry, owned);
      },
      digest: () => {
        const digest = new Digest().update(last!.index).updateNumber(last!.stragglers.length);
        for (const [bucket, value] of last!.times) digest.updateNumber(bucket).update(value);
        return digest.hex();
      },
    };
  });
}
