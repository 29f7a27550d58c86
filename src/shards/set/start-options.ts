// The options of startShards, their defaults, and their checks: each bad option is refused with a message
// that names it, before any worker starts or any file is touched.

import { parseDayCutSchedule } from '../../core/business-day.js';
import type { IdCacheCapacity } from '../../core/accounts/id-cache.js';
import { cacheIdsMax, checkpointEntriesMax, checkpointSecondsMax, eventsPerSecondMax, hotApplyIntervalMsMax, shardCountMax } from '../../core/limits.js';
import type { TransitRelayOptions } from '../relay/transit-relay.js';
import type { CheckpointOptions, HotInboundOptions } from '../shard/shard-messages.js';
import type { HotOutboundOptions } from './hot-outbound-keeper.js';
import { checkClusterName, checkNodeName, type ReplicationOptions } from '../replication/journal-stream.js';

export interface StartShardsOptions {
  /** Directory holding one `shard-<index>` store per shard (created when absent). */
  readonly dataDir: string;
  /** Fixed for the life of the data: accounts are routed by it, and each store records it. */
  readonly shardCount: number;
  /** Tuning of the cross-shard relay (tests shorten its intervals). */
  readonly transit?: TransitRelayOptions;
  /** When business days end (default: midnight UTC, scheduled). */
  readonly dayCut?: DayCutOptions;
  /** Chart of accounts file for the bookkeeping shard (default: config/chart-of-accounts.default.json's chart). */
  readonly chartPath?: string | null;
  /** Hot-inbound summary interval and automatic marking (default hotInboundDefault). */
  readonly hotInbound?: HotInboundOptions;
  /** Hot-outbound slice refills and timed compensation (default hotOutboundDefault). */
  readonly hotOutbound?: HotOutboundOptions;
  /** Transfer events per second per account, as debit or credit (core/rate-limits/account-rate-limit.ts); 0 or absent = no limit. */
  readonly accountRate?: number;
  /**
   * Join the create_transfers requests of one event-loop turn into shard batches (transfer-coalescer.ts); default
   * true. Off: each request runs as its own shard task and journal entry (tests, side-by-side benchmarks).
   */
  readonly coalesce?: boolean;
  /** How often each shard writes a flush_history entry: every `entries` entries or `seconds` (default checkpointDefault). */
  readonly checkpoint?: CheckpointOptions;
  /** Ids per generation of each shard's id caches (default idCacheDefault: shards/shard/shard-messages.ts). */
  readonly idCache?: IdCacheCapacity;
  /** Replicated mode (issue #15): every shard's journal also goes to its JetStream stream; absent: embedded. */
  readonly replication?: ReplicationOptions;
  /**
   * With replication: this node follows the streams instead of writing them (a live replica, or a delayed one that
   * applies an entry only `delayMs` after JetStream stored it). Reads are served; writes answer not_primary.
   */
  readonly follow?: { delayMs: number; untilMs?: number };
  /**
   * Replicated mode: asked before every request that would change the ledger; an error refuses it before it runs
   * (a primary whose lease lapsed answers not_primary). A follower refuses them all by itself.
   */
  readonly writeGate?: () => Error | null;
}

export interface DayCutOptions {
  /** 'HH:MM' local time of the cut. */
  readonly cutTime: string;
  /** IANA time zone, e.g. 'Asia/Shanghai'. */
  readonly timeZone: string;
  /** False: days end only on an operator's command (closeDay). */
  readonly scheduled: boolean;
}

export const dayCutDefault: DayCutOptions = { cutTime: '00:00', timeZone: 'UTC', scheduled: true };

export function checkOptions(options: StartShardsOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (options.hotInbound !== undefined) checkHotInbound(options.hotInbound);
  if (options.checkpoint !== undefined) checkCheckpoint(options.checkpoint);
  const { accountRate = 0 } = options;
  if (!Number.isInteger(accountRate) || accountRate < 0 || accountRate > eventsPerSecondMax) throw new RangeError(`options.accountRate must be an integer in 0..${eventsPerSecondMax} (events per second, 0 = off), got ${String(accountRate)}`);
  if (options.hotOutbound !== undefined) {
    for (const [name, value] of Object.entries(options.hotOutbound)) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`options.hotOutbound.${name} must be a positive integer (ms), got ${String(value)}`);
    }
  }
  if (options.idCache !== undefined) {
    for (const [name, value] of Object.entries(options.idCache)) {
      if (!Number.isInteger(value) || value < 1 || value > cacheIdsMax) throw new RangeError(`options.idCache.${name} must be an integer in 1..${cacheIdsMax} (ids per generation), got ${String(value)}`);
    }
  }
  if (options.replication !== undefined) checkReplication(options.replication);
  if (options.follow !== undefined) {
    if (options.replication === undefined) throw new TypeError('options.follow needs options.replication (the streams to follow)');
    const { delayMs } = options.follow;
    if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > 30 * 86_400_000) throw new RangeError(`options.follow.delayMs must be an integer in 0..${30 * 86_400_000} (ms), got ${String(delayMs)}`);
  }
  if (options.dayCut !== undefined) parseDayCutSchedule(options.dayCut.cutTime, options.dayCut.timeZone);
  if (typeof options.dataDir !== 'string' || options.dataDir.length === 0) throw new TypeError('options.dataDir must be a non-empty path');
  if (!Number.isInteger(options.shardCount) || options.shardCount < 1 || options.shardCount > shardCountMax) {
    throw new RangeError(`options.shardCount must be an integer in 1..${shardCountMax} (shardCountMax), got ${String(options.shardCount)}`);
  }
}

function checkCheckpoint({ entries, seconds }: CheckpointOptions): void {
  if (!Number.isInteger(entries) || entries < 1 || entries > checkpointEntriesMax) {
    throw new RangeError(`options.checkpoint.entries must be an integer in 1..${checkpointEntriesMax}, got ${String(entries)}`);
  }
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > checkpointSecondsMax) {
    throw new RangeError(`options.checkpoint.seconds must be an integer in 1..${checkpointSecondsMax}, got ${String(seconds)}`);
  }
}

function checkHotInbound({ applyIntervalMs, autoMarkCreditsPerSecond, unmarkQuietSeconds }: HotInboundOptions): void {
  if (!Number.isInteger(applyIntervalMs) || applyIntervalMs < 1 || applyIntervalMs > hotApplyIntervalMsMax) {
    throw new RangeError(`options.hotInbound.applyIntervalMs must be an integer in 1..${hotApplyIntervalMsMax}, got ${String(applyIntervalMs)}`);
  }
  if (!Number.isInteger(autoMarkCreditsPerSecond) || autoMarkCreditsPerSecond < 0) {
    throw new RangeError(`options.hotInbound.autoMarkCreditsPerSecond must be a whole number (0 = off), got ${String(autoMarkCreditsPerSecond)}`);
  }
  if (!Number.isInteger(unmarkQuietSeconds) || unmarkQuietSeconds < 1) {
    throw new RangeError(`options.hotInbound.unmarkQuietSeconds must be a positive integer, got ${String(unmarkQuietSeconds)}`);
  }
}

function checkReplication(replication: ReplicationOptions): void {
  const { servers, cluster, node, replicas, ackWaitMs } = replication;
  if (!Array.isArray(servers) || servers.length === 0 || servers.some((url) => typeof url !== 'string' || url.length === 0)) throw new TypeError('options.replication.servers must be a non-empty list of NATS URLs');
  const badCluster = checkClusterName(cluster);
  if (badCluster !== null) throw new RangeError(`options.replication.cluster: ${badCluster}`);
  const badNode = checkNodeName(node);
  if (badNode !== null) throw new RangeError(`options.replication.node: ${badNode}`);
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 5) throw new RangeError(`options.replication.replicas must be an integer in 0..5 (0: 3 on a cluster, else 1), got ${String(replicas)}`);
  if (!Number.isInteger(ackWaitMs) || ackWaitMs < 100 || ackWaitMs > 600_000) throw new RangeError(`options.replication.ackWaitMs must be an integer in 100..600000, got ${String(ackWaitMs)}`);
  const { backlog } = replication;
  if (backlog !== undefined && !(Number.isSafeInteger(backlog.entries) && backlog.entries >= 1 && Number.isSafeInteger(backlog.bytes) && backlog.bytes >= 1)) {
    throw new RangeError(`options.replication.backlog must be { entries, bytes }, positive integers, got ${JSON.stringify(backlog)}`);
  }
}
