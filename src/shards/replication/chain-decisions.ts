// The chain coordinator's decisions in replicated mode (issue #15): a replicated JetStream KV bucket
// (`tally_<cluster>_chains`) beside the local chain log (shards/chains/chain-log.ts). The bucket is the authority:
// a commit counts once the bucket holds it, so a node that lost its disk (or a follower that takes over) decides a
// vote left in doubt exactly as the old node would have — commit where any shard may already have committed. The
// start epoch that numbers groups is taken in the bucket too (compare-and-set), so no two starts of any node
// ever number a group alike.

import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { errors } from '../../core/errors.js';
import { closeConnection, connectNats, type ReplicationOptions } from './journal-stream.js';

const epochKey = 'epoch';
/** Between two attempts to store a commit while JetStream does not answer (a commit, once tried, is never given up). */
const commitRetryMs = 250;

export class ChainDecisionBucket {
  readonly name: string;
  readonly #nc: NatsConnection;
  readonly #kv: KV;
  #closed = false;

  private constructor(name: string, nc: NatsConnection, kv: KV) {
    this.name = name;
    this.#nc = nc;
    this.#kv = kv;
  }

  static async open(options: ReplicationOptions): Promise<ChainDecisionBucket> {
    const name = `tally_${options.cluster}_chains`;
    const nc = await connectNats(options, 'chains', 'chain decisions');
    try {
      const replicas = options.replicas > 0 ? options.replicas : nc.info?.cluster !== undefined ? 3 : 1;
      const kv = await new Kvm(nc).create(name, { replicas, history: 1, storage: 'file' as never, timeout: options.ackWaitMs });
      return new ChainDecisionBucket(name, nc, kv);
    } catch (error) {
      await nc.close().catch(() => {});
      throw errors.unavailable(`chain decisions: bucket ${name} not ready: ${describe(error)}`);
    }
  }

  /** A start epoch above `localLast` and above every epoch any node took in the bucket; stored there before it is returned. */
  async takeEpoch(localLast: number): Promise<number> {
    for (;;) {
      const entry = await this.#kv.get(epochKey);
      const remote = entry === null || entry.operation !== 'PUT' ? 0 : Number(new TextDecoder().decode(entry.value));
      const epoch = Math.max(localLast, remote) + 1;
      const value = new TextEncoder().encode(String(epoch));
      try {
        if (entry === null) await this.#kv.create(epochKey, value);
        else await this.#kv.update(epochKey, value, entry.revision);
        return epoch;
      } catch (error) {
        // Another start took an epoch between the read and the write: read again.
        if (!/wrong last sequence|key exists/i.test(describe(error))) throw error;
      }
    }
  }

  /** Resolves once the bucket holds the commit of `group`; while JetStream does not answer it keeps trying (the put is idempotent). */
  async logCommit(group: bigint): Promise<void> {
    for (;;) {
      try {
        await this.#kv.put(commitKey(group), new TextEncoder().encode(new Date().toISOString()));
        return;
      } catch (error) {
        if (this.#closed) throw errors.shuttingDown(`chain decisions: closed before the commit of group ${group} was stored`);
        await new Promise((resolve) => setTimeout(resolve, commitRetryMs));
        void error;
      }
    }
  }

  async isCommitted(group: bigint): Promise<boolean> {
    const entry = await this.#kv.get(commitKey(group));
    return entry !== null && entry.operation === 'PUT';
  }

  async close(): Promise<void> {
    this.#closed = true;
    await closeConnection(this.#nc);
  }
}

function commitKey(group: bigint): string {
  return `commit.${group.toString(16).padStart(16, '0')}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
