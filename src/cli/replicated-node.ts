// One node of a replicated ledger (issue #15): which role it plays, and when it changes. The lease
// (shards/replication/primary-lease.ts) says who should write the streams:
//   - `tally serve --nats`: takes the lease — at once when it is free or its own, after watching it for its ttl
//     when another node's lease stops being renewed — and runs a primary shard set whose writes are refused
//     not_primary whenever the lease has lapsed; losing the lease to another node steps it down for good (its
//     streams' expected sequences keep it from appending anyway). When another node holds the lease alive, it
//     starts as a live follower of that node instead (and takes over if that node stops).
//   - `tally follow`: runs a follower shard set; a live follower (no --delay) that finds the lease abandoned for its
//     ttl takes it and becomes the primary in place — its follower set closes, a primary set starts on the same
//     data directory (its start takes whatever the streams hold beyond it), and the gateway keeps listening. A
//     delayed follower never takes over by itself: it is the copy kept back from a bad batch.
// A clean shutdown of the primary gives the lease up, so a follower takes over at once.

import { randomBytes } from 'node:crypto';
import { errors, type TallyError } from '../core/errors.js';
import { PrimaryLease, type LeaseHolder } from '../shards/replication/primary-lease.js';
import type { ReplicationOptions } from '../shards/replication/journal-stream.js';
import type { ShardSet, StartShardsOptions } from '../shards/set/shard-set.js';
import type { SwitchableService } from './switchable-service.js';

/** How often a waiting primary or a live follower looks at the lease. */
const lookEveryMs = 500;

type Log = (fields: { level: 'error' | 'warn' | 'info'; msg: string; [field: string]: unknown }) => void;

/** Starts a shard set with these options added (the data dir, shards and the rest come from the command). */
export type StartSet = (extra: Pick<StartShardsOptions, 'follow' | 'writeGate'>) => Promise<ShardSet>;

export interface NodeRoleEvents {
  /** The node now writes: schedule its day cuts (a follower's come through the streams). */
  onPrimary(set: ShardSet): void;
  /** The node follows: its admin store takes the admin log's changes only (admin/admin-replica.ts). */
  onFollower(refusal: TallyError, hold: { delayMs: number; untilMs?: number }): void;
  /** Before the node takes writes: its admin store applies the admin log's end and becomes its writer. */
  beforePrimary(writeGate: () => Error | null): Promise<void>;
}

export class ReplicatedNode {
  readonly #replication: ReplicationOptions;
  readonly #service: SwitchableService;
  readonly #startSet: StartSet;
  readonly #log: Log;
  readonly #events: NodeRoleEvents;
  #lease: PrimaryLease | null = null;
  /** Set once another node took the lease from this one: every write answers it. */
  #deposedBy: Error | null = null;
  #watch: NodeJS.Timeout | null = null;
  #closing = false;
  #role: 'primary' | 'follower' = 'follower';

  constructor(replication: ReplicationOptions, service: SwitchableService, startSet: StartSet, events: NodeRoleEvents, log: Log) {
    this.#replication = replication;
    this.#service = service;
    this.#startSet = startSet;
    this.#events = events;
    this.#log = log;
  }

  get role(): 'primary' | 'follower' {
    return this.#role;
  }

  /** `url`: where callers reach this node's gateway, named in the lease (and so in other nodes' not_primary). */
  async start(url: string, follow: { delayMs: number; untilMs?: number } | null): Promise<void> {
    const self: LeaseHolder = { node: this.#replication.node, url, run: randomBytes(6).toString('hex') };
    this.#lease = await PrimaryLease.open(this.#replication, self);
    if (follow === null) {
      if (await this.#takeWithin(this.#lease.ttlMs + lookEveryMs * 2)) return this.#startPrimary();
      this.#log({ level: 'warn', msg: `tally: node ${this.#lease.holder?.node ?? '?'} holds the primary lease (${this.#lease.holder?.url ?? ''}); this node starts as its follower` });
      follow = { delayMs: 0 };
    }
    this.#events.onFollower(errors.notPrimary(`node ${this.#replication.node} follows the primary: send admin writes to the primary${this.#lease.holder?.url ? ` (${this.#lease.holder.url})` : ''}`), follow);
    this.#service.use(await this.#startSet({ follow }));
    const heldBack = follow.delayMs > 0 || follow.untilMs !== undefined;
    const how = follow.untilMs !== undefined ? ` up to ${new Date(follow.untilMs).toISOString()}` : follow.delayMs > 0 ? ` ${follow.delayMs} ms behind` : '';
    this.#log({ level: 'info', msg: `tally: following the streams${how}${heldBack ? ' (a held-back follower never takes over by itself)' : '; takes over as primary if the lease is abandoned'}` });
    if (heldBack) return;
    this.#watch = setInterval(() => void this.#takeOverIfAbandoned(), lookEveryMs);
    this.#watch.unref();
  }

  async #takeOverIfAbandoned(): Promise<void> {
    const lease = this.#lease;
    if (lease === null || this.#closing || this.#role === 'primary') return;
    const { free, holder } = await lease.look().catch(() => ({ free: false, holder: null }));
    if (!free) return;
    if (!(await lease.take((by) => this.#lost(by)))) return;
    if (this.#watch !== null) clearInterval(this.#watch);
    this.#watch = null;
    this.#log({ level: 'warn', msg: `tally: the lease was abandoned${holder === null ? '' : ` by ${holder.node}`}; this node takes over as primary` });
    const startedMs = performance.now();
    try {
      const follower = this.#service.detach('this node is taking over as primary');
      await follower?.close();
      await this.#startPrimary();
    } catch (error) {
      // Half a takeover serves nobody: the process ends (its supervisor starts it again, and the new start takes
      // the lease it holds or follows whoever took it), rather than answer unavailable forever.
      this.#log({ level: 'error', msg: `tally: taking over as primary failed, exiting: ${error instanceof Error ? error.message : String(error)}` });
      process.exit(1);
    }
    this.#log({ level: 'info', msg: `tally: took over as primary in ${Math.round(performance.now() - startedMs)} ms` });
  }

  /** Tries to take the lease for up to `ms` (a lease another node stopped renewing is free once watched for its ttl). */
  async #takeWithin(ms: number): Promise<boolean> {
    const lease = this.#lease!;
    const deadline = performance.now() + ms;
    for (;;) {
      if (await lease.take((by) => this.#lost(by))) return true;
      const { holder } = await lease.look();
      // Another node renews it: no use waiting.
      if (holder !== null && performance.now() > deadline) return false;
      if (this.#closing) throw errors.shuttingDown('closed while waiting for the lease');
      await new Promise((resolve) => setTimeout(resolve, lookEveryMs));
    }
  }

  /** Serves as primary (the lease is held). */
  async #startPrimary(): Promise<void> {
    const lease = this.#lease!;
    const writeGate = (): Error | null => {
      if (this.#deposedBy !== null) return this.#deposedBy;
      if (lease.held) return null;
      return errors.notPrimary(`node ${this.#replication.node} has not renewed its primary lease within ${lease.ttlMs} ms (NATS unreachable?); nothing was done`);
    };
    const set = await this.#startSet({ writeGate });
    await this.#events.beforePrimary(writeGate).catch(async (error: unknown) => {
      await set.close();
      throw error;
    });
    this.#role = 'primary';
    this.#service.use(set);
    this.#events.onPrimary(set);
    this.#log({ level: 'info', msg: `tally: node ${this.#replication.node} is the primary` });
  }

  #lost(holder: LeaseHolder | null): void {
    this.#deposedBy = errors.notPrimary(`node ${this.#replication.node} lost the primary lease${holder === null ? '' : ` to ${holder.node}${holder.url === '' ? '' : ` (${holder.url})`}`}: send writes there`);
    this.#log({ level: 'error', msg: `tally: ${this.#deposedBy.message}; this node takes no more writes` });
  }

  /** Stops watching; a primary gives its lease up so that a follower takes over at once. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#watch !== null) clearInterval(this.#watch);
    await this.#lease?.close(this.#role === 'primary' && this.#deposedBy === null);
  }
}
