// A shard's journal in replicated mode (issue #15): the local LMDB store and the shard's JetStream stream, written
// at once. An append is durable — the shard may acknowledge it — only when both hold it: the local fsync and
// JetStream's acknowledgement run in parallel, so the cost is the slower of the two, not their sum.

import type { FlushedRuns } from '../../core/accounts/history-runs.js';
import type { JournalStream } from './journal-stream.js';

/** What a shard loop needs of its journal (shards/shard/shard-loop.ts ShardJournal is this; JournalStore is one). */
export interface LocalJournal {
  readonly seqLast: number;
  append(seq: number, entry: Uint8Array): Promise<void>;
  appendFlush(seq: number, entry: Uint8Array, runs: FlushedRuns): Promise<void>;
  restoreRuns(runs: FlushedRuns): number;
  durable(): Promise<void>;
  entries(fromSeq: number): Iterable<[seq: number, entry: Uint8Array]>;
  discardAfter(seq: number): Promise<number>;
  close(): Promise<void>;
}

/** The local store's journal, every call passed on: what the two below change is theirs to say. */
class StoreJournal implements LocalJournal {
  protected readonly store: LocalJournal;

  constructor(store: LocalJournal) {
    this.store = store;
  }

  get seqLast(): number {
    return this.store.seqLast;
  }

  append(seq: number, entry: Uint8Array): Promise<void> {
    return this.store.append(seq, entry);
  }

  appendFlush(seq: number, entry: Uint8Array, runs: FlushedRuns): Promise<void> {
    return this.store.appendFlush(seq, entry, runs);
  }

  restoreRuns(runs: FlushedRuns): number {
    return this.store.restoreRuns(runs);
  }

  durable(): Promise<void> {
    return this.store.durable();
  }

  entries(fromSeq: number): Iterable<[seq: number, entry: Uint8Array]> {
    return this.store.entries(fromSeq);
  }

  discardAfter(seq: number): Promise<number> {
    return this.store.discardAfter(seq);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** A primary's journal: every append goes to the store and to the shard's stream at once. */
export class ReplicatedJournal extends StoreJournal {
  readonly #stream: JournalStream;

  constructor(store: LocalJournal, stream: JournalStream) {
    super(store);
    this.#stream = stream;
  }

  override append(seq: number, entry: Uint8Array): Promise<void> {
    return both(this.store.append(seq, entry), this.#stream.publish(seq, entry));
  }

  override appendFlush(seq: number, entry: Uint8Array, runs: FlushedRuns): Promise<void> {
    // The run blocks stay local: a follower's replay of the flush entry derives the same bytes.
    return both(this.store.appendFlush(seq, entry, runs), this.#stream.publish(seq, entry));
  }

  override durable(): Promise<void> {
    return both(this.store.durable(), this.#stream.durable());
  }

  override async close(): Promise<void> {
    await this.#stream.close();
    await this.store.close();
  }
}

/**
 * A follower's journal (issue #15): the local store alone (entries come from the stream, none goes to it), whose
 * close first ends the feed and the stream's connection.
 */
export class FollowedJournal extends StoreJournal {
  readonly #closeFeed: () => Promise<void>;

  constructor(store: LocalJournal, closeFeed: () => Promise<void>) {
    super(store);
    this.#closeFeed = closeFeed;
  }

  override async close(): Promise<void> {
    await this.#closeFeed();
    await this.store.close();
  }
}

/**
 * Durable once both are; a local failure (storage_failed, which ends the worker) wins over the stream's answer, so
 * that a shard whose disk failed never goes on as if only the network had.
 */
function both(local: Promise<void>, replicated: Promise<void>): Promise<void> {
  const done = Promise.allSettled([local, replicated]).then(([ownDisk, stream]) => {
    if (ownDisk.status === 'rejected') throw ownDisk.reason;
    if (stream.status === 'rejected') throw stream.reason;
  });
  done.catch(() => {});
  return done;
}
