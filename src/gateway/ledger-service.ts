// What the gateway needs from the ledger: one call per request, replies as bytes.
// src/shards/set/shard-set.ts implements it structurally; the gateway never sees shards or ledger rules.

import type { HotInboundStats } from '../core/hot/hot-inbound-stats.js';

/** What a key may do: read (lookups, books), post (writes), admin (day cut, adjustments, audit, snapshots). */
export type Scope = 'read' | 'post' | 'admin';

/** Who sent a request: the key it authenticated with (src/gateway/auth.ts), or the open caller when auth is off. */
export interface Caller {
  readonly keyId: string;
  readonly scopes: ReadonlySet<Scope>;
}

/** One shard's part of a write request: how long it took there (durable) and how many events it held. */
export type ShardWriteObserver = (shard: number, seconds: number, events: number) => void;

export interface LedgerService {
  /** Shards serving the ledger (reported by GET /health). */
  readonly shardCount: number;
  /**
   * Runs one request whose body already passed `checkRequestBody`. Resolves with the reply body
   * (durable before resolving, for writes); rejects with a TallyError whose `code` is in the catalog.
   */
  execute(operation: number, body: Uint8Array, caller?: Caller): Promise<Uint8Array>;
  /**
   * An approved adjustment's transfers (N × 128 B), posted as one create_transfers request. Unlike a caller's they
   * may name the ledger's suspense accounts (resolving 挂账). Without it, adjustments post as create_transfers.
   */
  postAdjustment?(body: Uint8Array): Promise<Uint8Array>;
  /** Cross-shard instructions in flight and the reply-to-credit delay (reported by GET /health). */
  transitStats?(): { inFlight: number; delivered: number; delayMsP50: number; delayMsP99: number; reconciles: number; returned: number };
  /** Transfer requests joined with others into shard batches since start, and those batches. */
  coalescingStats?(): { joinedRequests: number; jointBatches: number };
  /** Linked chains across shards decided since start (reported by GET /health). */
  chainStats?(): { groups: number; roundsAborted: number; chainsCommitted: number; chainsFailed: number };
  /**
   * Hot-inbound accounts: buffers now, credits applied, and how long they waited (GET /health, GET /metrics).
   * Resolves within shardStatusWaitMsMax whatever the shards do: a shard that has not answered by then is
   * listed in `shardsNotAnswering`.
   */
  hotInboundStats?(): Promise<HotInboundStats>;
  /** Hot-outbound accounts: how many, and the slice keeper's work since start (GET /health, GET /metrics). */
  hotOutboundStats?(): { accounts: number; grants: number; returns: number; refusedDebits: number; gathers: number };
  /** Calls `observer` for every write a shard answers: its time there (durable) and its events (GET /metrics). */
  observeShardWrites?(observer: ShardWriteObserver): void;
  /** Tasks queued or running per shard (GET /metrics). */
  shardLoad?(): { shard: number; tasksOutstanding: number }[];
  /** Journal entries per shard the bookkeeping shard has not booked yet (GET /metrics). */
  bookkeepingLag?(): Promise<{ shard: number; lag: number }[]>;
  /** The last closed business day and whether its day report passed (reported by GET /health). */
  daysStatus?(): { lastClosedDay: number; lastReportPassed: boolean | null; failedReports: number };
  /**
   * Replicated mode (issue #15): this node's role and where each shard stands with its JetStream stream — a primary's
   * acknowledged seq and backlog, a follower's applied seq and lag (GET /health, GET /metrics). Undefined when embedded.
   */
  replicationStatus?(): { role: 'primary' | 'follower'; shards: { shard: number; lagEntries?: number; lagMs?: number; backlog?: number }[] } | undefined;
  close(): Promise<void>;
}
