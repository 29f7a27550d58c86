// At a shard's start in replicated mode (issue #15), before anything is replayed: the local journal and the
// shard's stream are brought level. Both are written at once, so a crash can leave either ahead of the other:
//   - the stream ahead (JetStream acknowledged, the local fsync had not finished): its entries are appended here;
//   - the journal ahead (fsync'd, not yet acknowledged — never answered `ok` — or an embedded store switching to
//     replication): its entries are published.
// The two must agree where they overlap: the last entry both hold is compared byte for byte. Local entries that
// differ from the stream's were never acknowledged (the stream took another writer's): they are dropped and the
// stream's taken instead (dropWhatTheStreamNeverTook).

import { bytesEqual } from '../../core/bytes.js';
import { errors } from '../../core/errors.js';
import type { JournalStream } from './journal-stream.js';
import type { LocalJournal } from './replicated-journal.js';

/** The local journal as a start's catch-up uses it (shards/shard/journal-store.ts JournalStore is one). */
export interface CatchUpJournal extends Pick<LocalJournal, 'seqLast' | 'entries' | 'append' | 'durable' | 'discardAfter'> {
  readonly path: string;
  entry(seq: number): Uint8Array | undefined;
}
export interface CatchUp {
  /** Entries taken from the stream into the local journal. */
  fetched: number;
  /** Entries of the local journal published to the stream. */
  published: number;
}

export async function catchUpWithStream(store: CatchUpJournal, stream: JournalStream, log: (line: string) => void): Promise<CatchUp> {
  const tail = await stream.tail();
  await dropWhatTheStreamNeverTook(store, stream, tail.entrySeq, false, log);
  const local = store.seqLast;
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
export async function checkFollowerJournal(store: CatchUpJournal, stream: JournalStream, log: (line: string) => void): Promise<void> {
  const tail = await stream.tail();
  await dropWhatTheStreamNeverTook(store, stream, tail.entrySeq, true, log);
}

/**
 * Entries of the local journal that differ from the stream's at the same seq were never acknowledged: the stream
 * is append-only with one writer, so the entry it holds there is the one JetStream acknowledged, and a write is
 * answered only once acknowledged. They were written by this node as a primary that had lost the stream to
 * another (or died before they were published). They are removed (with their id-index keys and run blocks;
 * checkpoints after them no longer match the journal and are skipped), and the stream's entries are taken
 * instead. A follower also drops entries past the stream's end (`pastTheEnd`): it must be a prefix of it.
 */
async function dropWhatTheStreamNeverTook(store: CatchUpJournal, stream: JournalStream, streamLast: number, pastTheEnd: boolean, log: (line: string) => void): Promise<void> {
  const common = Math.min(store.seqLast, streamLast);
  let keep = common;
  if (common > 0 && !(await sameEntry(store, stream, common))) {
    // The first seq where they differ (a prefix agrees: both are logs of one history up to a point).
    let low = 1;
    let high = common;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (await sameEntry(store, stream, middle)) low = middle + 1;
      else high = middle;
    }
    keep = low - 1;
  }
  if (keep === store.seqLast || (!pastTheEnd && keep === common)) return;
  const dropped = await store.discardAfter(keep);
  log(`dropped ${dropped} journal entries after ${keep} that the stream ${stream.names.stream} never acknowledged (written while another node held it, or before a crash); the stream's own are taken instead`);
}

async function sameEntry(store: CatchUpJournal, stream: JournalStream, seq: number): Promise<boolean> {
  const ours = store.entry(seq);
  const theirs = await stream.entry(seq);
  return ours !== undefined && theirs !== undefined && bytesEqual(ours, theirs);
}
