// Who writes the ledger's streams (issue #15): a lease in a replicated JetStream KV bucket (`tally_<cluster>_leases`,
// key `primary`). The holder renews it every `ttlMs / 3` by compare-and-set on the revision it last wrote; anyone
// else judges it by watching the revision: unchanged for `ttlMs` of its own clock means the holder stopped (no
// clock is compared across machines). A taker writes with the revision it watched, so of several only one wins.
// The lease decides who should write; the streams' expected-sequence check still guarantees that a holder that
// lost it (paused past its lease, cut off) can never append: the lease is for liveness, the log for safety.

import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { errors } from '../../core/errors.js';
import { closeConnection, connectNats, type ReplicationOptions } from './journal-stream.js';

const leaseKey = 'primary';
export const leaseTtlMsDefault = 2_500;

/** What the lease names: the node, its client URL (where callers should go), and its run. */
export interface LeaseHolder {
  node: string;
  url: string;
  run: string;
}

interface Seen {
  revision: number;
  holder: LeaseHolder | null;
  /** performance.now() when this revision was first seen here. */
  sinceMs: number;
}

export class PrimaryLease {
  readonly ttlMs: number;
  readonly #nc: NatsConnection;
  readonly #kv: KV;
  readonly #self: LeaseHolder;
  #seen: Seen | null = null;
  /** The revision this node last wrote while holding the lease (0: not holding). */
  #heldRevision = 0;
  /** performance.now() of the last successful renewal. */
  #renewedAtMs = 0;
  #timer: NodeJS.Timeout | null = null;
  #onLost: (holder: LeaseHolder | null) => void = () => {};

  private constructor(nc: NatsConnection, kv: KV, self: LeaseHolder, ttlMs: number) {
    this.#nc = nc;
    this.#kv = kv;
    this.#self = self;
    this.ttlMs = ttlMs;
  }

  static async open(options: ReplicationOptions, self: LeaseHolder, ttlMs = leaseTtlMsDefault): Promise<PrimaryLease> {
    const nc = await connectNats(options, 'lease', 'lease');
    try {
      const replicas = options.replicas > 0 ? options.replicas : nc.info?.cluster !== undefined ? 3 : 1;
      const kv = await new Kvm(nc).create(`tally_${options.cluster}_leases`, { replicas, history: 1, storage: 'file' as never, timeout: Math.min(options.ackWaitMs, ttlMs) });
      return new PrimaryLease(nc, kv, self, ttlMs);
    } catch (error) {
      await nc.close().catch(() => {});
      throw errors.unavailable(`lease bucket tally_${options.cluster}_leases not ready: ${describe(error)}`);
    }
  }

  /** Whether this node holds the lease and renewed it within its ttl (a writer checks before it serves writes). */
  get held(): boolean {
    return this.#heldRevision > 0 && performance.now() - this.#renewedAtMs < this.ttlMs;
  }

  /** The holder as last read (null: none yet). */
  get holder(): LeaseHolder | null {
    return this.#heldRevision > 0 ? this.#self : (this.#seen?.holder ?? null);
  }

  /** Reads the lease; returns whether it is free to take: absent, or its revision unchanged for ttlMs here. */
  async look(): Promise<{ free: boolean; holder: LeaseHolder | null }> {
    const entry = await this.#kv.get(leaseKey);
    const now = performance.now();
    if (entry === null || entry.operation !== 'PUT') {
      this.#seen = { revision: entry?.revision ?? 0, holder: null, sinceMs: now };
      return { free: true, holder: null };
    }
    const holder = parseHolder(entry.value);
    if (this.#seen === null || this.#seen.revision !== entry.revision) this.#seen = { revision: entry.revision, holder, sinceMs: now };
    // This node's own lease — from this run, or from its run before a restart (that process is gone) — is its to take.
    const own = holder !== null && holder.node === this.#self.node;
    return { free: own || now - this.#seen.sinceMs >= this.ttlMs, holder };
  }

  /**
   * Takes the lease if it is free (see look): with the revision watched, so of several takers one wins. Resolves
   * true once held; then renews it until release(), and calls `onLost` if another node takes it meanwhile.
   */
  async take(onLost: (holder: LeaseHolder | null) => void): Promise<boolean> {
    const { free } = await this.look();
    if (!free) return false;
    const seen = this.#seen!;
    const value = new TextEncoder().encode(JSON.stringify(this.#self));
    try {
      this.#heldRevision = seen.holder === null && seen.revision === 0 ? await this.#kv.create(leaseKey, value) : await this.#kv.update(leaseKey, value, seen.revision);
    } catch {
      return false; // another node took it first
    }
    this.#renewedAtMs = performance.now();
    this.#onLost = onLost;
    this.#timer = setInterval(() => void this.#renew(), Math.max(100, Math.floor(this.ttlMs / 3)));
    this.#timer.unref();
    return true;
  }

  async #renew(): Promise<void> {
    if (this.#heldRevision === 0) return;
    const value = new TextEncoder().encode(JSON.stringify(this.#self));
    try {
      this.#heldRevision = await this.#kv.update(leaseKey, value, this.#heldRevision);
      this.#renewedAtMs = performance.now();
    } catch (error) {
      if (!/wrong last sequence/i.test(describe(error))) return; // NATS away: `held` lapses by itself after ttlMs
      this.#heldRevision = 0;
      if (this.#timer !== null) clearInterval(this.#timer);
      this.#timer = null;
      const { holder } = await this.look().catch(() => ({ holder: null }));
      this.#onLost(holder);
    }
  }

  /** Stops renewing; with `giveUp`, deletes the lease so that a follower takes over at once (a clean shutdown). */
  async close(giveUp = false): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    if (giveUp && this.#heldRevision > 0) await this.#kv.delete(leaseKey, { previousSeq: this.#heldRevision }).catch(() => {});
    this.#heldRevision = 0;
    await closeConnection(this.#nc);
  }
}

function parseHolder(value: Uint8Array): LeaseHolder | null {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(value)) as Partial<LeaseHolder>;
    return typeof parsed.node === 'string' && typeof parsed.url === 'string' && typeof parsed.run === 'string' ? { node: parsed.node, url: parsed.url, run: parsed.run } : null;
  } catch {
    return null;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
