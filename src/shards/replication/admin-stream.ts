// The admin store's log on NATS JetStream (issue #15): the audit log and the adjustments (DATA/admin) of a
// replicated ledger, one message per change, in the stream `TALLY_<cluster>_ADMIN` (file storage, kept forever,
// replicated like the shards' streams). Every change appends exactly one audit record, so a message's stream
// sequence is its audit record's number. The primary publishes a change before it applies it to its own store,
// naming the sequence it must follow (expected-last-sequence): a writer another node has overtaken is refused
// (`not_primary`) and changes nothing. Followers apply the messages in order into their own admin store.

import type { NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { TallyError, errors } from '../../core/errors.js';
import { closeConnection, connectNats, ensureStream, nextWithin, type ReplicationOptions } from './journal-stream.js';

/** Least wait for JetStream's management calls (creating a replicated stream takes a moment on a fresh cluster). */
const adminWaitMs = 5_000;
/** Messages a read asks for at once (a change is a few hundred bytes; a submitted adjustment up to ~0.7 MB). */
const readBatch = 16;
/** Longest wait for the next message of a read that knows the stream holds more. */
const readWaitMs = 5_000;

export function adminStreamNames(cluster: string): { stream: string; subject: string } {
  return { stream: `TALLY_${cluster}_ADMIN`, subject: `tally.${cluster}.admin` };
}

export class AdminStream {
  readonly names: { stream: string; subject: string };
  readonly #node: string;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;

  private constructor(options: ReplicationOptions, nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager) {
    this.names = adminStreamNames(options.cluster);
    this.#node = options.node;
    this.#nc = nc;
    this.#js = js;
    this.#jsm = jsm;
  }

  /** Connects and creates the stream when absent. */
  static async open(options: ReplicationOptions): Promise<AdminStream> {
    const nc = await connectNats(options, 'admin', 'admin store');
    try {
      const jsm = await jetstreamManager(nc, { timeout: Math.max(options.ackWaitMs, adminWaitMs) });
      const names = adminStreamNames(options.cluster);
      const replicas = options.replicas > 0 ? options.replicas : nc.info?.cluster !== undefined ? 3 : 1;
      await ensureStream(jsm, names, replicas);
      return new AdminStream(options, nc, jetstream(nc, { timeout: options.ackWaitMs }), jsm);
    } catch (error) {
      await nc.close().catch(() => {});
      throw errors.unavailable(`admin store: JetStream stream ${adminStreamNames(options.cluster).stream} not ready: ${describe(error)}`);
    }
  }

  /** Sequence of the last change the stream holds (0: none). */
  async lastSeq(): Promise<number> {
    try {
      return (await this.#jsm.streams.info(this.names.stream)).state.last_seq;
    } catch (error) {
      throw errors.unavailable(`admin store: ${this.names.stream} unreadable: ${describe(error)}`);
    }
  }

  /**
   * Appends change `seq` (the stream must end at seq − 1). `not_primary` when it does not (another writer
   * appended: nothing stored); `unavailable` when JetStream did not acknowledge it (it may be stored or not: the
   * writer reads the stream again before its next change).
   */
  async publish(seq: number, change: Uint8Array): Promise<void> {
    try {
      const ack = await this.#js.publish(this.names.subject, change, { expect: { lastSequence: seq - 1 } });
      if (ack.seq !== seq) throw errors.storageFailed(`admin store: ${this.names.stream} stored change ${seq} as ${ack.seq}`);
    } catch (error) {
      if (/wrong last sequence/i.test(describe(error))) {
        throw errors.notPrimary(`node ${this.#node} is no longer the admin log's writer: another node appended to ${this.names.stream} (change ${seq} refused, nothing done)`);
      }
      if (error instanceof TallyError) throw error;
      throw errors.unavailable(`admin store: JetStream did not acknowledge change ${seq} of ${this.names.stream}: ${describe(error)}`);
    }
  }

  /**
   * The changes from `from` on, in order, with the time (ms) JetStream stored each: through the stream's end at
   * the call when `untilStopped` is false, else waiting for new ones until `stop()`. One ordered consumer, deleted
   * however the read ends.
   */
  read(from: number, untilStopped: boolean): { changes: AsyncGenerator<[seq: number, change: Uint8Array, storedMs: number]>; stop: () => void } {
    let stopped = false;
    let messages: ConsumerMessages | null = null;
    const self = this;
    async function* changes(): AsyncGenerator<[seq: number, change: Uint8Array, storedMs: number]> {
      const last = untilStopped ? Infinity : await self.lastSeq();
      if (from > last || stopped) return;
      const consumer = await self.#js.consumers.get(self.names.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
      try {
        messages = await consumer.consume({ max_messages: readBatch });
        if (stopped) return;
        const iterator = messages[Symbol.asyncIterator]();
        for (let seq = from - 1; seq < last && !stopped; ) {
          const message = untilStopped ? ((await iterator.next()).value ?? null) : await nextWithin(iterator, readWaitMs, () => `admin store: ${self.names.stream} sent no change after ${seq} within ${readWaitMs} ms`);
          if (message === null) return;
          if (message.seq !== seq + 1) throw errors.storageFailed(`admin store: ${self.names.stream} goes from change ${seq} to ${message.seq}`);
          seq = message.seq;
          yield [seq, message.data, Math.floor(Number(message.info.timestampNanos) / 1e6)];
        }
      } finally {
        messages?.stop();
        await consumer.delete().catch(() => {});
      }
    }
    return {
      changes: changes(),
      stop: () => {
        stopped = true;
        messages?.stop();
      },
    };
  }

  async close(): Promise<void> {
    await closeConnection(this.#nc);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
