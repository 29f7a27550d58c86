// The admin store (DATA/admin: audit log, adjustments) of a replicated node (issue #15), over the admin stream
// (shards/replication/admin-stream.ts). A follower applies the stream's changes into its own store and takes no
// write of its own; the primary publishes each change before applying it, so its store never holds what the stream
// lacks, and a follower that takes over has every change the old primary acknowledged. A node becoming primary
// first applies whatever the stream holds past its store; a store written embedded (the stream lacks it) is
// published first, as a shard's journal is.

import { errors, type TallyError } from '../core/errors.js';
import type { AuditEntry } from '../core/admin/audit-log.js';
import { AdminStream } from '../shards/replication/admin-stream.js';
import type { ReplicationOptions } from '../shards/replication/journal-stream.js';
import { decodeAdminChange, encodeAdminChange } from './admin-changes.js';
import type { AdminStore } from './admin-store.js';

/** Between two attempts to follow the stream after a failure (NATS away). */
const retryMs = 500;

type Log = (fields: { level: 'error' | 'warn' | 'info'; msg: string; [field: string]: unknown }) => void;

export class AdminReplica {
  readonly #store: AdminStore;
  readonly #stream: AdminStream;
  readonly #log: Log;
  #stopFeed: (() => void) | null = null;
  #following: Promise<void> | null = null;
  #stopped = false;
  /** Ends a delayed follower's wait for its next change at once. */
  #wake: (() => void) | null = null;

  private constructor(store: AdminStore, stream: AdminStream, log: Log) {
    this.#store = store;
    this.#stream = stream;
    this.#log = log;
  }

  /** Opens the admin stream; until a role is taken the store refuses its own writes (`unavailable`). */
  static async open(store: AdminStore, options: ReplicationOptions, log: Log): Promise<AdminReplica> {
    const stream = await AdminStream.open(options);
    const replica = new AdminReplica(store, stream, log);
    replica.#refuseWrites(errors.unavailable('this node has not taken its role yet (primary or follower)'));
    return replica;
  }

  /**
   * A follower: applies the stream's changes as they come; the store's own writes answer `refusal`. A delayed
   * follower holds each change back as its shards hold entries (`delayMs` after JetStream stored it; none stored
   * after `untilMs`), so its admin store never runs ahead of its ledger.
   */
  follow(refusal: TallyError, hold: { delayMs: number; untilMs?: number } = { delayMs: 0 }): void {
    this.#refuseWrites(refusal);
    if (this.#following !== null) return;
    const from = this.#store.auditSeqLast() + 1;
    this.#following = this.#run(hold);
    this.#log({ level: 'info', msg: `tally: following the admin log ${this.#stream.names.stream} from change ${from}` });
  }

  /**
   * Becomes the admin log's writer: stops following, applies what the stream holds past the store (or publishes
   * what only the store holds), then publishes every change before applying it. `writeGate` refuses a change
   * while this node may not write (its lease lapsed, another node took it).
   */
  async lead(writeGate: () => Error | null): Promise<void> {
    await this.#stopFollowing();
    const streamLast = await this.#stream.lastSeq();
    const storeLast = this.#store.auditSeqLast();
    if (streamLast > storeLast) await this.#catchUp();
    else if (storeLast > streamLast) await this.#publishStoreTail(streamLast, storeLast);
    this.#store.publishThrough({
      refusal: writeGate,
      publish: (change) => this.#stream.publish(change.audit.seq, encodeAdminChange(change)),
      catchUp: () => this.#catchUp(),
      logAudit: (entry) => this.#logAudit(entry),
    });
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#refuseWrites(errors.shuttingDown('the admin log is closing'));
    await this.#stopFollowing();
    await this.#stream.close();
  }

  #refuseWrites(refusal: TallyError): void {
    this.#store.followOnly(refusal, (entry) => this.#logAudit(entry));
  }

  /** A follower's audit log is the primary's: what it would record (refusals of writes sent to it, its snapshots) goes to the process log. */
  #logAudit(entry: AuditEntry): void {
    this.#log({ level: 'info', msg: 'tally audit (this node is not the primary: kept in its log only)', audit: entry });
  }

  async #run(hold: { delayMs: number; untilMs?: number }): Promise<void> {
    while (!this.#stopped) {
      const feed = this.#stream.read(this.#store.auditSeqLast() + 1, true);
      this.#stopFeed = feed.stop;
      try {
        for await (const [seq, bytes, storedMs] of feed.changes) {
          if (hold.untilMs !== undefined && storedMs > hold.untilMs) {
            this.#log({ level: 'info', msg: `tally: the admin log holds at change ${seq - 1}: change ${seq} was stored after ${new Date(hold.untilMs).toISOString()}` });
            feed.stop();
            return;
          }
          const due = storedMs + hold.delayMs - Date.now();
          if (due > 0) await this.#sleep(due);
          if (this.#stopFeed !== feed.stop) return;
          await this.#store.applyChange(decodeAdminChange(seq, bytes));
        }
        if (this.#stopped || this.#stopFeed !== feed.stop) return; // stopped; else the consumer ended: read again
      } catch (error) {
        if (this.#stopped || this.#stopFeed === null) return;
        this.#log({ level: 'warn', msg: `tally: following the admin log failed (${error instanceof Error ? error.message : String(error)}); again in ${retryMs} ms from change ${this.#store.auditSeqLast() + 1}` });
        await this.#sleep(retryMs);
      }
    }
  }

  /** Waits `ms`, or less when the follower stops. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  async #stopFollowing(): Promise<void> {
    const stop = this.#stopFeed;
    this.#stopFeed = null;
    stop?.();
    this.#wake?.();
    await this.#following;
    this.#following = null;
  }

  /** Applies every change the stream holds past the store. */
  async #catchUp(): Promise<void> {
    const feed = this.#stream.read(this.#store.auditSeqLast() + 1, false);
    for await (const [seq, bytes] of feed.changes) await this.#store.applyChange(decodeAdminChange(seq, bytes));
  }

  async #publishStoreTail(streamLast: number, storeLast: number): Promise<void> {
    this.#log({ level: 'warn', msg: `tally: the admin log ${this.#stream.names.stream} ends at change ${streamLast}, this node's store at ${storeLast}: publishing ${storeLast - streamLast} changes` });
    for (const change of this.#store.changesAfter(streamLast)) await this.#stream.publish(change.audit.seq, encodeAdminChange(change));
  }
}
