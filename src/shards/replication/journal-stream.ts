// One shard's journal on NATS JetStream (issue #15, docs/design/issue-15-replication.md). Every entry the shard
// appends is published, byte for byte, to the shard's own stream, and the shard acknowledges a write only once
// JetStream has (a majority of the stream's replicas holds it) as well as its local fsync. Single writer by the
// log itself: every message names the stream sequence it must follow (expected-last-sequence), so a writer
// another one has overtaken can never append; it learns so at its next publish and stops (`not_primary`).
// An entry larger than the server's max_payload goes as several messages (parts), each naming its entry's seq;
// a reader keeps the last complete run of parts of an entry (a resend after a failure starts again at part 1).

import { randomBytes } from 'node:crypto';
import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager, type Consumer, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type StoredMsg } from '@nats-io/jetstream';
import { assert } from '../../core/assert.js';
import { TallyError, errors } from '../../core/errors.js';
import { EntryParts, StreamHeader, firstMessageFrom, parsePart, streamNames } from '../../core/wire/journal-parts.js';

export { StreamHeader, streamNames } from '../../core/wire/journal-parts.js';

export interface ReplicationOptions {
  /** NATS server URLs: a client given several follows the cluster. */
  servers: readonly string[];
  /** Names this ledger's streams (`tally.<cluster>.shard.<i>`): letters, digits, '_' and '-'. */
  cluster: string;
  /** This node's name, written on every message it publishes and named by `not_primary`. */
  node: string;
  /** Replicas of each stream it creates; 0: 3 when the server belongs to a cluster, else 1. */
  replicas: number;
  /** How long a write waits for JetStream's acknowledgement before it is answered `unavailable`. */
  ackWaitMs: number;
  /** Bounds of the unacknowledged backlog (default backlogDefault). */
  backlog?: { entries: number; bytes: number };
}

export const replicationDefaults = { cluster: 'tally', replicas: 0, ackWaitMs: 5_000 } as const;

/** Room left in a message for its headers under the server's max_payload. */
const headerRoomBytes = 1024;
/** Least wait for JetStream's management calls (creating a replicated stream takes a moment on a fresh cluster). */
const adminWaitMs = 5_000;
/** Entries published per acknowledgement wait while a start publishes a journal's tail. */
const catchUpWindow = 32;
/**
 * What a read (entriesFrom, a follower's feed) asks JetStream for at once, in bytes: all it buffers, however slowly
 * its caller takes entries. Well under the server's per-client max_pending (64 MiB by default; at 64 MiB of 1 MB
 * messages a read was cut off as a slow consumer). Asked as a count of messages of max_payload, not as the
 * consumer's max_bytes: a byte-bounded pull stalls when its last request has less room left than the next message.
 */
const readBufferBytes = 16 * 1024 * 1024;
/** Longest wait for the next message of a read while the stream holds more: past it the read fails, never hangs. */
const readWaitMs = 5_000;
/** Waits between two attempts to find where the stream stands after a failed publish (doubling). */
const resyncWaitMs = { first: 100, max: 2_000 } as const;
/**
 * Unacknowledged entries, and their bytes, past which the shard takes no new write (they would only pile up in
 * memory while JetStream has no majority): a full entry is 1.6 MB, so the bytes bound comes first under load.
 */
export const backlogDefault = { entries: 4_096, bytes: 256 * 1024 * 1024 } as const;

/**
 * A long-lived connection of this node to the NATS servers (reconnecting forever, 250 ms apart), named
 * `tally-<node>-<role>`; `unavailable` naming `what` when none answers.
 */
export async function connectNats(options: ReplicationOptions, role: string, what: string): Promise<NatsConnection> {
  try {
    return await connect({ servers: [...options.servers], name: `tally-${options.node}-${role}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 5_000 });
  } catch (error) {
    throw errors.unavailable(`${what}: NATS at ${options.servers.join(',')} unreachable: ${describe(error)}`);
  }
}

export function checkClusterName(cluster: string): string | null {
  return /^[A-Za-z0-9_-]{1,64}$/.test(cluster) ? null : `a cluster name is 1..64 letters, digits, '_' or '-', got ${JSON.stringify(cluster)}`;
}

/** A node's name (on what it publishes, in the lease): null when valid, else why not. */
export function checkNodeName(node: string): string | null {
  return typeof node === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(node) ? null : `a node name is 1..64 letters, digits, '_', '.' or '-', got ${JSON.stringify(node)}`;
}

/** Where the stream ends: the last entry all of whose parts it holds, and its last message. */
export interface StreamTail {
  /** Journal seq of the last complete entry (0: none). */
  entrySeq: number;
  /** Stream sequence of the last message (0: empty stream). */
  streamSeq: number;
  /** Who wrote the last message ('' when empty). */
  writer: string;
  /** When JetStream stored the last message (ms since the epoch; 0 when empty). */
  storedMs: number;
}

interface Waiting {
  seq: number;
  entry: Uint8Array;
  settled: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout | null;
}

export class JournalStream {
  readonly names: { stream: string; subject: string };
  /** `node/run`: a restart of the same node writes as another run. */
  readonly writer: string;
  readonly #options: ReplicationOptions;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #partBytes: number;
  /** Messages a read asks for at once (readBufferBytes of messages of max_payload). */
  readonly #readBatch: number;
  /** Appended entries not yet wholly acknowledged, in seq order. */
  readonly #queue: Waiting[] = [];
  /** How many entries of #queue have been sent since the last resync. */
  #sent = 0;
  /** The stream sequence the next message sent must get (expected-last-sequence + 1). */
  #nextStreamSeq: number;
  /** Journal seq of the last entry JetStream acknowledged whole. */
  #acknowledged: number;
  #publishesOut = 0;
  /** Stream sequence of the last message known to be in the stream (ours, or where the stream ended at open). */
  #streamSeqAcknowledged: number;
  #resyncing = false;
  /** Set once another writer appended: nothing more is published, every write answers it. */
  #deposed: TallyError | null = null;
  #closed = false;
  #onBacklog: (over: boolean) => void = () => {};
  #overBacklog = false;
  /** Bytes of the entries in #queue. */
  #queuedBytes = 0;
  #tailPromise: Promise<void> = Promise.resolve();

  private constructor(options: ReplicationOptions, shardIndex: number, nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager, tail: StreamTail) {
    this.#options = options;
    this.names = streamNames(options.cluster, shardIndex);
    this.writer = `${options.node}/${randomBytes(6).toString('hex')}`;
    this.#nc = nc;
    this.#js = js;
    this.#jsm = jsm;
    const maxPayload = nc.info?.max_payload ?? 1_048_576;
    this.#partBytes = maxPayload - headerRoomBytes;
    assert(this.#partBytes > 0, 'the server takes messages larger than their headers');
    this.#readBatch = Math.max(2, Math.floor(readBufferBytes / maxPayload));
    this.#nextStreamSeq = tail.streamSeq + 1;
    this.#streamSeqAcknowledged = tail.streamSeq;
    this.#acknowledged = tail.entrySeq;
  }

  /** Connects, creates the shard's stream when absent (file storage, kept forever), and reads where it ends. */
  static async open(options: ReplicationOptions, shardIndex: number): Promise<JournalStream> {
    const nc = await connectNats(options, `shard-${shardIndex}`, `shard ${shardIndex}`);
    try {
      const jsm = await jetstreamManager(nc, { timeout: Math.max(options.ackWaitMs, adminWaitMs) });
      const names = streamNames(options.cluster, shardIndex);
      await ensureStream(jsm, names, options.replicas > 0 ? options.replicas : nc.info?.cluster !== undefined ? 3 : 1);
      const js = jetstream(nc, { timeout: options.ackWaitMs });
      const tail = await readTail(jsm, names);
      return new JournalStream(options, shardIndex, nc, js, jsm, tail);
    } catch (error) {
      await nc.close().catch(() => {});
      throw error instanceof TallyError ? error : errors.unavailable(`shard ${shardIndex}: JetStream stream ${streamNames(options.cluster, shardIndex).stream} not ready: ${describe(error)}`);
    }
  }

  /** Journal seq of the last entry JetStream holds whole, as last learned. */
  get seqAcknowledged(): number {
    return this.#acknowledged;
  }

  /** Entries appended and not yet acknowledged. */
  get backlog(): number {
    return this.#queue.length;
  }

  /** Bytes of the entries appended and not yet acknowledged. */
  get backlogBytes(): number {
    return this.#queuedBytes;
  }

  /** Told true when the backlog passes its bounds (the shard stops taking writes), false once it is back under half of both. */
  onBacklog(listener: (over: boolean) => void): void {
    this.#onBacklog = listener;
  }

  tail(): Promise<StreamTail> {
    return readTail(this.#jsm, this.names);
  }

  /**
   * Publishes entry `seq` (the next after every entry published or queued). Resolves once JetStream holds it
   * and every earlier one; rejects `unavailable` after ackWaitMs without that (the entry stays queued and is
   * published once JetStream takes writes again: its outcome is unknown to the caller, as after a crash), or
   * `not_primary` once another writer appended to the stream.
   */
  publish(seq: number, entry: Uint8Array): Promise<void> {
    if (this.#deposed !== null) return Promise.reject(this.#deposed);
    assert(!this.#closed, 'publish after close');
    const last = this.#queue.length > 0 ? this.#queue[this.#queue.length - 1]!.seq : this.#acknowledged;
    assert(seq === last + 1, `stream publish of entry ${seq} after ${last}`);
    const promise = new Promise<void>((resolve, reject) => {
      const waiting: Waiting = { seq, entry, settled: false, resolve, reject, timer: null };
      waiting.timer = setTimeout(() => {
        waiting.timer = null;
        settle(waiting, errors.unavailable(`JetStream did not acknowledge journal entry ${seq} of ${this.names.stream} within ${this.#options.ackWaitMs} ms; it is published once a majority of its replicas answers`));
      }, this.#options.ackWaitMs);
      this.#queue.push(waiting);
      this.#queuedBytes += entry.byteLength;
    });
    promise.catch(() => {});
    this.#tailPromise = promise;
    const bound = this.#options.backlog ?? backlogDefault;
    if (!this.#overBacklog && (this.#queue.length > bound.entries || this.#queuedBytes > bound.bytes)) {
      this.#overBacklog = true;
      this.#onBacklog(true);
    }
    if (!this.#resyncing) this.#sendQueued();
    return promise;
  }

  /** Resolves once every entry published so far is acknowledged (rejects as the last publish does). */
  durable(): Promise<void> {
    return this.#tailPromise;
  }

  /**
   * The entry whose journal seq is `seq`, reassembled from the stream; undefined when the stream lacks it whole.
   * Read a message at a time (an entry is one or two): a consumer would cost two more requests and a server-side
   * object per call, and a start's comparison of its journal with the stream calls this in a binary search.
   */
  async entry(seq: number): Promise<Uint8Array | undefined> {
    const last = (await this.#jsm.streams.info(this.names.stream)).state.last_seq;
    const parts = new EntryParts();
    for (let streamSeq = await this.#streamSeqOf(seq); streamSeq <= last; streamSeq++) {
      const message = await this.#message(streamSeq);
      if (message === null) continue;
      const found = entrySeqOf(message);
      if (found > seq) return undefined;
      const [part, count] = partOf(message);
      const entry = parts.add(found, part, count, message.data);
      if (entry !== null) return entry;
    }
    return undefined;
  }

  /** The stream sequence of the first message whose entry seq is ≥ `from` (last_seq + 1 when none is). */
  async #streamSeqOf(from: number): Promise<number> {
    const info = await this.#jsm.streams.info(this.names.stream);
    if (info.state.messages === 0) return info.state.last_seq + 1;
    return firstMessageFrom(from, info.state.first_seq, info.state.last_seq, async (streamSeq) => {
      const message = await this.#message(streamSeq);
      return message === null ? null : entrySeqOf(message);
    });
  }

  /**
   * A follower's feed: every entry from journal seq `from` on, in order, as the stream holds it whole, waiting for
   * new ones until `stop()`; with the time (ms) JetStream stored its last part. One ordered consumer, asked for
   * #readBatch messages at a time as entriesFrom is. It is stopped and deleted at `stop()` (even while the caller
   * holds an entry and takes no next one; the promise resolves once the server answered or could not), and however
   * the feed ends otherwise (the caller's break, an error).
   */
  follow(from: number): { entries: AsyncGenerator<[seq: number, entry: Uint8Array, storedMs: number]>; stop: () => Promise<void> } {
    let stopped = false;
    let consumer: Promise<Consumer> | null = null;
    let messages: ConsumerMessages | null = null;
    let deleted: Promise<void> | null = null;
    const release = (): Promise<void> => {
      messages?.stop(); // ends a wait for the next message (the feed's finally calls again if stop() came before it had them)
      deleted ??= consumer === null ? Promise.resolve() : consumer.then(deleteConsumer, () => {});
      return deleted;
    };
    const self = this;
    async function* entries(): AsyncGenerator<[seq: number, entry: Uint8Array, storedMs: number]> {
      try {
        if (stopped) return;
        consumer = self.#streamSeqOf(from).then((start) => self.#orderedFrom(start));
        const pulled = await self.#consume(await consumer);
        messages = pulled;
        if (stopped) return;
        const parts = new EntryParts();
        for await (const message of pulled) {
          const seq = Number(message.headers?.get(StreamHeader.seq));
          const [part, count] = parsePart(message.headers?.get(StreamHeader.part) ?? '', message.seq);
          const entry = parts.add(seq, part, count, message.data);
          if (entry !== null && seq >= from) yield [seq, entry, Math.floor(Number(message.info.timestampNanos) / 1e6)];
          if (stopped) break;
        }
      } finally {
        await release();
      }
    }
    return {
      entries: entries(),
      stop: () => {
        stopped = true;
        return release();
      },
    };
  }

  /**
   * Entries from journal seq `from` through `to` as the stream holds them whole, in order. One ordered consumer
   * streams the messages from the first of `from` to the stream's last at the call (or the first past `to`), a
   * batch per request rather than a request per message; it is deleted however the read ends (the caller's
   * break, an error), not left on the server until its inactivity threshold.
   */
  async *entriesFrom(from: number, to: number): AsyncGenerator<[seq: number, entry: Uint8Array]> {
    if (from > to) return;
    const last = (await this.#jsm.streams.info(this.names.stream)).state.last_seq;
    const start = await this.#streamSeqOf(from);
    if (start > last) return;
    const consumer = await this.#orderedFrom(start);
    try {
      const parts = new EntryParts();
      for await (const message of this.#messagesThrough(consumer, start, last)) {
        const seq = Number(message.headers?.get(StreamHeader.seq));
        if (seq > to) return;
        const [part, count] = parsePart(message.headers?.get(StreamHeader.part) ?? '', message.seq);
        const entry = parts.add(seq, part, count, message.data);
        if (entry !== null && seq >= from) yield [seq, entry];
      }
    } finally {
      await deleteConsumer(consumer);
    }
  }

  /** An ordered consumer of the shard's stream from stream sequence `start` on. */
  #orderedFrom(start: number): Promise<Consumer> {
    return this.#js.consumers.get(this.names.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start });
  }

  /** `consumer`'s messages as they come, #readBatch asked for at a time (entriesFrom and follow alike). */
  #consume(consumer: Consumer): Promise<ConsumerMessages> {
    return consumer.consume({ max_messages: this.#readBatch });
  }

  /**
   * `consumer`'s messages through stream sequence `last`, #readBatch asked for at a time; throws `unavailable` when
   * the next one takes longer than readWaitMs or the consumer ends first. Stops the consumer however it ends.
   */
  async *#messagesThrough(consumer: Consumer, start: number, last: number): AsyncGenerator<JsMsg> {
    const messages = await this.#consume(consumer);
    const iterator = messages[Symbol.asyncIterator]();
    try {
      for (let streamSeq = start - 1; streamSeq < last; ) {
        const message = await nextWithin(iterator, readWaitMs, () => `${this.names.stream}: no message after ${streamSeq} within ${readWaitMs} ms while reading through ${last}`);
        if (message === null) throw errors.unavailable(`${this.names.stream}: its consumer ended after message ${streamSeq} while reading through ${last}`);
        streamSeq = message.seq;
        yield message;
      }
    } finally {
      messages.stop(); // unsubscribes, and ends a next() still waiting (after a timeout)
    }
  }

  /**
   * A start's catch-up: publishes entries the local journal holds past the stream's end (written before a crash
   * took the process between fsync and acknowledgement, or by an embedded store now switching to replication).
   */
  async publishAll(entries: Iterable<[seq: number, entry: Uint8Array]>, onProgress?: (seq: number) => void): Promise<number> {
    let count = 0;
    let window: Promise<void>[] = [];
    for (const [seq, entry] of entries) {
      window.push(this.publish(seq, entry.slice()));
      count++;
      if (window.length >= catchUpWindow) {
        await Promise.all(window);
        window = [];
        onProgress?.(seq);
      }
    }
    await Promise.all(window);
    return count;
  }

  /** Waits (bounded by ackWaitMs) for what is queued, then closes the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.race([this.#tailPromise.catch(() => {}), new Promise((resolve) => setTimeout(resolve, this.#options.ackWaitMs).unref())]);
    this.#closed = true;
    this.#queuedBytes = 0;
    for (const waiting of this.#queue.splice(0)) settle(waiting, errors.shuttingDown(`shard stream ${this.names.stream} closed before JetStream acknowledged entry ${waiting.seq}`));
    await closeConnection(this.#nc);
  }

  #message(streamSeq: number): Promise<StoredMsg | null> {
    return this.#jsm.streams.getMessage(this.names.stream, { seq: streamSeq }).catch((error: unknown) => {
      if (/no message found|not found/i.test(describe(error))) return null;
      throw error;
    });
  }

  /** Sends every queued entry not sent yet; messages go in order on one connection, each naming its predecessor. */
  #sendQueued(): void {
    while (this.#sent < this.#queue.length && !this.#closed) {
      const waiting = this.#queue[this.#sent++]!;
      const parts = Math.max(1, Math.ceil(waiting.entry.byteLength / this.#partBytes));
      let last: Promise<unknown> = Promise.resolve();
      for (let part = 1; part <= parts; part++) {
        const data = waiting.entry.subarray((part - 1) * this.#partBytes, Math.min(waiting.entry.byteLength, part * this.#partBytes));
        const hdrs: MsgHdrs = headers();
        hdrs.set(StreamHeader.seq, String(waiting.seq));
        hdrs.set(StreamHeader.part, `${part}/${parts}`);
        hdrs.set(StreamHeader.writer, this.writer);
        const expected = this.#nextStreamSeq - 1;
        this.#nextStreamSeq++;
        this.#publishesOut++;
        last = this.#js.publish(this.names.subject, data, { headers: hdrs, expect: { lastSequence: expected }, timeout: this.#options.ackWaitMs });
        last.then(
          (ack) => {
            this.#publishesOut--;
            this.#streamSeqAcknowledged = Math.max(this.#streamSeqAcknowledged, (ack as { seq: number }).seq);
          },
          (error: unknown) => {
            this.#publishesOut--;
            this.#failed(error);
          },
        );
      }
      // The last part acknowledged: the stream holds this entry whole, and (sequences chained) every earlier one.
      last.then(() => this.#acknowledgedThrough(waiting.seq), () => {});
    }
  }

  #acknowledgedThrough(seq: number): void {
    if (seq <= this.#acknowledged) return;
    this.#acknowledged = seq;
    let done = 0;
    while (done < this.#queue.length && this.#queue[done]!.seq <= seq) {
      this.#queuedBytes -= this.#queue[done]!.entry.byteLength;
      settle(this.#queue[done++]!, null);
    }
    this.#queue.splice(0, done);
    this.#sent -= done;
    const bound = this.#options.backlog ?? backlogDefault;
    if (this.#overBacklog && this.#queue.length <= bound.entries / 2 && this.#queuedBytes <= bound.bytes / 2) {
      this.#overBacklog = false;
      this.#onBacklog(false);
    }
  }

  /** A publish failed: once every publish out has settled, find where the stream ends and send again from there. */
  #failed(error: unknown): void {
    if (this.#resyncing || this.#closed || this.#deposed !== null) return;
    this.#resyncing = true;
    void error; // whatever failed, the stream's end says what to do
    void this.#resync();
  }

  async #resync(): Promise<void> {
    let waitMs: number = resyncWaitMs.first;
    while (!this.#closed) {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      if (this.#publishesOut > 0) continue; // every message out answers (ack, refusal or timeout) before the tail is read
      let tail: StreamTail;
      try {
        tail = await this.tail();
      } catch {
        waitMs = Math.min(resyncWaitMs.max, waitMs * 2);
        continue;
      }
      if (tail.streamSeq < this.#streamSeqAcknowledged) {
        return this.#depose(`${this.names.stream} ends at message ${tail.streamSeq}, before message ${this.#streamSeqAcknowledged} it acknowledged to this node: the stream was replaced`);
      }
      if (tail.streamSeq > this.#streamSeqAcknowledged) {
        // Messages after our last acknowledged one: ours whose acknowledgement was lost, unless the last is another
        // writer's (once one of theirs is in, none of ours can follow it: each names its predecessor).
        if (tail.writer !== this.writer) return this.#depose(`${this.names.stream} was appended to by ${tail.writer} (through entry ${tail.entrySeq}): ${this.writer} is no longer its writer`);
        this.#streamSeqAcknowledged = tail.streamSeq;
      }
      this.#resyncing = false;
      this.#acknowledgedThrough(tail.entrySeq);
      this.#nextStreamSeq = tail.streamSeq + 1;
      this.#sent = 0;
      this.#sendQueued();
      return;
    }
  }

  #depose(why: string): void {
    const deposed = errors.notPrimary(why);
    this.#deposed = deposed;
    this.#queuedBytes = 0;
    for (const waiting of this.#queue.splice(0)) settle(waiting, deposed);
    this.#sent = 0;
    this.#tailPromise = Promise.reject(deposed);
    this.#tailPromise.catch(() => {});
  }
}

function settle(waiting: Waiting, error: unknown): void {
  if (waiting.timer !== null) {
    clearTimeout(waiting.timer);
    waiting.timer = null;
  }
  if (waiting.settled) return;
  waiting.settled = true;
  if (error === null) waiting.resolve();
  else waiting.reject(error);
}

/** Longest a connection's drain may take at a close: with NATS away it would wait for a server forever. */
const drainWaitMs = 2_000;

/** Drains `nc` (what it sent reaches the server), or closes it outright when that does not finish in drainWaitMs. */
export async function closeConnection(nc: NatsConnection): Promise<void> {
  let timer: NodeJS.Timeout | null = null;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, drainWaitMs)));
  await Promise.race([nc.drain().catch(() => {}), late]);
  if (timer !== null) clearTimeout(timer);
  if (!nc.isClosed()) await nc.close().catch(() => {});
}

/** How many shard streams of `options.cluster` the NATS servers hold (0 when none): a follower's shard count. */
export async function countShardStreams(options: ReplicationOptions): Promise<number> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: [...options.servers], name: `tally-${options.node}-probe`, timeout: 5_000 });
  } catch (error) {
    throw errors.unavailable(`NATS at ${options.servers.join(',')} unreachable: ${describe(error)}`);
  }
  try {
    const jsm = await jetstreamManager(nc, { timeout: Math.max(options.ackWaitMs, adminWaitMs) });
    const prefix = `TALLY_${options.cluster}_SHARD_`;
    const found = new Set<string>();
    for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) found.add(name);
    let count = 0;
    while (found.has(`${prefix}${count}`)) count++;
    return count;
  } finally {
    await nc.close().catch(() => {});
  }
}

/** Each listed shard's last whole entry (journal seq, 0 when empty) as its stream holds it now. */
export async function lastEntrySeqs(servers: readonly string[], cluster: string, shards: readonly number[]): Promise<number[]> {
  const nc = await connect({ servers: [...servers], name: 'tally-stream-ends', timeout: 5_000 });
  try {
    const jsm = await jetstreamManager(nc);
    return await Promise.all(shards.map(async (shard) => (await readTail(jsm, streamNames(cluster, shard))).entrySeq));
  } finally {
    await nc.close().catch(() => {});
  }
}

/**
 * Creates the stream `names` when absent: financial data, kept forever, no message deleted or purged; one subject.
 * A cluster still gathering its peers ("no suitable peers") is given until adminWaitMs.
 */
export async function ensureStream(jsm: JetStreamManager, names: { stream: string; subject: string }, replicas: number): Promise<void> {
  const deadline = Date.now() + adminWaitMs;
  for (;;) {
    try {
      await jsm.streams.info(names.stream);
      return;
    } catch (error) {
      if (!/stream not found/i.test(describe(error))) throw error;
    }
    try {
      await jsm.streams.add({ name: names.stream, subjects: [names.subject], storage: 'file' as never, num_replicas: replicas, deny_delete: true, deny_purge: true });
      return;
    } catch (error) {
      // Another node created it between the two calls (already in use): the next look finds it.
      if (!/no suitable peers|already in use/i.test(describe(error)) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function readTail(jsm: JetStreamManager, names: { stream: string; subject: string }): Promise<StreamTail> {
  const info = await jsm.streams.info(names.stream);
  if (info.state.messages === 0) return { entrySeq: 0, streamSeq: info.state.last_seq, writer: '', storedMs: 0 };
  const last = await jsm.streams.getMessage(names.stream, { seq: info.state.last_seq });
  if (last === null) return { entrySeq: 0, streamSeq: info.state.last_seq, writer: '', storedMs: 0 };
  const seq = entrySeqOf(last);
  const [part, count] = partOf(last);
  return { entrySeq: part === count ? seq : seq - 1, streamSeq: last.seq, writer: last.header?.get(StreamHeader.writer) ?? '', storedMs: last.time.getTime() };
}

function entrySeqOf(message: StoredMsg): number {
  const seq = Number(message.header?.get(StreamHeader.seq));
  if (!Number.isSafeInteger(seq) || seq < 1) throw errors.storageFailed(`stream message ${message.seq} names no journal entry (${StreamHeader.seq})`);
  return seq;
}

function partOf(message: StoredMsg): [part: number, count: number] {
  return parsePart(message.header?.get(StreamHeader.part) ?? '', message.seq);
}

/** Deletes a read's consumer; gone already, or NATS away: the server drops it once inactive (5 minutes). */
function deleteConsumer(consumer: Consumer): Promise<void> {
  return consumer.delete().then(
    () => {},
    () => {},
  );
}

/** The iterator's next value, null when it is done; throws `unavailable` (`why()`) when none comes within `waitMs`. */
export async function nextWithin<T>(iterator: AsyncIterator<T>, waitMs: number, why: () => string): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(errors.unavailable(why())), waitMs);
  });
  try {
    const next = await Promise.race([iterator.next(), late]);
    return next.done === true ? null : next.value;
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
