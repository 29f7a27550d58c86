// At a shard's start in replicated mode (issue #15), before anything is replayed: the local journal and the
// shard's stream are brought level. Both are written at once, so a crash can leave either ahead of the other:
//   - the stream ahead (JetStream acknowledged, the local fsync had not finished): its entries are appended here;
//   - the journal ahead (fsync'd, not yet acknowledged — never answered `ok` — or an embedded store switching to
//     replication): its entries are published.
// The two must agree where they overlap: the last entry both hold is compared byte for byte. A journal that
// differs holds writes the stream never took (this node lost the stream to another writer): it refuses to start
// as a writer (`not_primary`) rather than serve a history the replicas do not have.

import { bytesEqual } from '../../core/bytes.js';
import { errors } from '../../core/errors.js';
import type { JournalStream } from './journal-stream.js';

/** The local journal as a start's catch-up uses it (shards/shard/journal-store.ts JournalStore is one). */
export interface CatchUpJournal {
  readonly path: string;
  readonly seqLast: number;
  entry(seq: number): Uint8Array | undefined;
  entries(fromSeq: number): Iterable<[seq: number, entry: Uint8Array]>;
  append(seq: number, entry: Uint8Array): Promise<void>;
  durable(): Promise<void>;
}

export interface CatchUp {
  /** Entries taken from the stream into the local journal. */
  fetched: number;
  /** Entries of the local journal published to the stream. */
  published: number;
}

export async function catchUpWithStream(store: CatchUpJournal, stream: JournalStream, log: (line: string) => void): Promise<CatchUp> {
  const tail = await stream.tail();
  const local = store.seqLast;
  const common = Math.min(local, tail.entrySeq);
  if (common > 0) {
    const ours = store.entry(common);
    const theirs = await stream.entry(common);
    if (ours === undefined || theirs === undefined || !bytesEqual(ours, theirs)) {
      throw errors.notPrimary(`shard journal ${store.path} and stream ${stream.names.stream} differ at entry ${common}: this node wrote entries the stream never took (another node writes it); start it from the stream's copy instead`);
    }
  }
  let fetched = 0;
  if (tail.entrySeq > local) {
    for await (const [seq, entry] of stream.entriesFrom(local + 1, tail.entrySeq)) {
      if (seq !== store.seqLast + 1) break;
      void store.append(seq, entry);
      fetched++;
    }
    await store.durable();
    if (store.seqLast !== tail.entrySeq) throw errors.unavailable(`stream ${stream.names.stream} holds entries through ${tail.entrySeq} but only ${store.seqLast} could be read from it`);
    log(`took ${fetched} journal entries from stream ${stream.names.stream} (entries ${local + 1}..${tail.entrySeq}: the stream holds them, this disk did not)`);
  }
  let published = 0;
  if (local > tail.entrySeq) {
    published = await stream.publishAll(store.entries(tail.entrySeq + 1), (seq) => {
      if (seq % 1_000 === 0) log(`publishing the journal to ${stream.names.stream}: entry ${seq} of ${local}`);
    });
    log(`published ${published} journal entries to stream ${stream.names.stream} (entries ${tail.entrySeq + 1}..${tail.entrySeq + published})`);
  }
  return { fetched, published };
}

/**
 * A follower's start: its journal must be the stream's first entries (it never writes one of its own). Throws
 * not_primary-free storage_failed when it holds entries the stream does not, or others than the stream's.
 */
export async function checkFollowerJournal(store: CatchUpJournal, stream: JournalStream): Promise<void> {
  const tail = await stream.tail();
  const local = store.seqLast;
  if (local > tail.entrySeq) {
    throw errors.storageFailed(`follower journal ${store.path} holds entries through ${local}, the stream ${stream.names.stream} only through ${tail.entrySeq}: it was written by a primary whose last entries the stream never took; start the follower on an empty data dir`);
  }
  if (local === 0) return;
  const ours = store.entry(local);
  const theirs = await stream.entry(local);
  if (ours === undefined || theirs === undefined || !bytesEqual(ours, theirs)) {
    throw errors.storageFailed(`follower journal ${store.path} and stream ${stream.names.stream} differ at entry ${local}: start the follower on an empty data dir`);
  }
}
