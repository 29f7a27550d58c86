// Replicated mode (issue #15), the shard set's side. Every second it reads where each shard stands with its
// JetStream stream (ShardControl.replicationStatus) for GET /health and /metrics. On a follower it also lets each
// shard's outbox forget what its peers have applied: a follower runs no relay (the primary's apply_inbound entries
// arrive through the streams), so without it the outboxes would keep every cross-shard instruction ever replayed.

import type { ShardHost } from '../shard/shard-host.js';
import { ShardControl } from '../shard/shard-messages.js';
import { peerMarkBytes } from '../shard/shard-loop.js';

const upkeepEveryMs = 1_000;

export interface ShardReplicationStatus {
  shard: number;
  role: 'primary' | 'follower';
  stream: string;
  /** A primary: the last entry JetStream acknowledged, and entries waiting for it. */
  seqAcknowledged?: number;
  backlog?: number;
  /** A follower: the entry it holds, the stream's last, and how far behind it is. */
  seqApplied?: number;
  seqPrimary?: number;
  lagEntries?: number;
  lagMs?: number;
  delayMs?: number;
  /** `node/run` writing the stream (a follower's view), or this node's own (a primary's). */
  primary?: string;
  writer?: string;
}

export interface ReplicationStatus {
  role: 'primary' | 'follower';
  shards: ShardReplicationStatus[];
}

export class ReplicationUpkeep {
  readonly role: 'primary' | 'follower';
  readonly #hosts: readonly ShardHost[];
  #shards: ShardReplicationStatus[] = [];
  #timer: NodeJS.Timeout | null = null;
  #running = false;

  constructor(hosts: readonly ShardHost[], role: 'primary' | 'follower') {
    this.#hosts = hosts;
    this.role = role;
  }

  start(): void {
    void this.#tick();
    this.#timer = setInterval(() => void this.#tick(), upkeepEveryMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  status(): ReplicationStatus {
    return { role: this.role, shards: this.#shards };
  }

  /** The node that writes the streams, as a follower last read it (its name, without the run). */
  get primaryNode(): string | null {
    const writer = this.#shards.find((shard) => (shard.primary ?? '') !== '')?.primary;
    return writer === undefined ? null : writer.split('/')[0]!;
  }

  async #tick(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const replies = await Promise.all(this.#hosts.map((host) => host.runInternal(ShardControl.replicationStatus, new Uint8Array(0), false).catch(() => null)));
      const shards: ShardReplicationStatus[] = [];
      replies.forEach((reply, shard) => {
        if (reply === null || reply.byteLength === 0) return;
        shards.push({ shard, ...(JSON.parse(new TextDecoder().decode(reply)) as Omit<ShardReplicationStatus, 'shard'>) });
      });
      this.#shards = shards;
      if (this.role === 'follower') await this.#forgetApplied();
    } finally {
      this.#running = false;
    }
  }

  /** Each receiver's last applied pair sequence from each sender, acknowledged to that sender's outbox. */
  async #forgetApplied(): Promise<void> {
    const count = this.#hosts.length;
    if (count < 2) return;
    const statuses = await Promise.all(this.#hosts.map((host) => host.runInternal(ShardControl.transitStatus, new Uint8Array(0), false).catch(() => null)));
    const marks = statuses.map((status) => (status === null ? null : new Float64Array(status.buffer, status.byteOffset, 2 * count)));
    await Promise.all(
      this.#hosts.map(async (sender, from) => {
        const issued = marks[from];
        if (issued === null || issued === undefined) return;
        const body = new Uint8Array(peerMarkBytes * (count - 1));
        const view = new DataView(body.buffer);
        let at = 0;
        marks.forEach((received, to) => {
          if (to === from || received === null) return;
          // Streams are followed each at its own pace: a receiver may be ahead of the entries its sender has replayed.
          const applied = Math.min(received[count + from]!, issued[to]!);
          view.setUint16(at, to, true);
          view.setBigUint64(at + 8, BigInt(applied), true);
          at += peerMarkBytes;
        });
        if (at > 0) await sender.runInternal(ShardControl.acknowledgeOutbox, body.subarray(0, at), false).catch(() => {});
      }),
    );
  }
}
