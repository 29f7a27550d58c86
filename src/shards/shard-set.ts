// The ledger service over N shards (LedgerService, structurally): splits each request by owning shard,
// runs the parts concurrently, merges the replies in request order. Owns the hosts' lifecycle.
// A request spanning shards is not atomic across them (only linked chains are, and never span shards).

import { parseDayCutSchedule } from '../core/business-day.js';
import { errors } from '../core/errors.js';
import { resultBytes } from '../core/layout.js';
import { shardCountMax } from '../core/limits.js';
import { isWriteOperation } from '../core/operations.js';
import { mergeReplies, planRoute, type RoutePlan, type ShardRequest } from '../core/route-plan.js';
import type { ShardDayClose } from '../core/day-close.js';
import { ShardHost } from './shard-host.js';
import { ShardControl } from './shard-messages.js';
import { TransitRelay, type TransitRelayOptions, type TransitStats } from './transit-relay.js';

export interface StartShardsOptions {
  /** Directory holding one `shard-<index>` store per shard (created when absent). */
  readonly dataDir: string;
  /** Fixed for the life of the data: accounts are routed by it, and each store records it. */
  readonly shardCount: number;
  /** Tuning of the cross-shard relay (tests shorten its intervals). */
  readonly transit?: TransitRelayOptions;
  /** When business days end (default: midnight UTC, scheduled). */
  readonly dayCut?: DayCutOptions;
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

export class ShardSet {
  readonly shardCount: number;
  readonly hosts: readonly ShardHost[];
  readonly transit: TransitRelay;
  #closed: Promise<void> | null = null;

  constructor(hosts: readonly ShardHost[], transit: TransitRelay) {
    this.shardCount = hosts.length;
    this.hosts = hosts;
    this.transit = transit;
  }

  /** Resolves with the reply body (durable, for writes); rejects with a TallyError. */
  async execute(operation: number, body: Uint8Array): Promise<Uint8Array> {
    if (this.#closed !== null) throw errors.shuttingDown();
    const plan = planRoute(operation, body, this.shardCount);
    this.#admit(plan);
    const replies = await Promise.all(plan.requests.map((r) => this.#run(operation, r, plan.eventCount)));
    return mergeReplies(plan, replies);
  }

  /**
   * The day cut on every shard (日切): shard 0 begins the next business day (or `day`), then every other
   * shard begins the same day. Each answers the summary of the day that ended (idempotent: a retry or a
   * shard already past the day answers the stored summary). Postings go on throughout.
   */
  async cutDay(day = 0): Promise<ShardDayClose[]> {
    if (this.#closed !== null) throw errors.shuttingDown();
    const first = parseDayClose(await this.hosts[0].runInternal(ShardControl.cutDay, dayBody(day), true));
    const rest = await Promise.all(this.hosts.slice(1).map((host) => host.runInternal(ShardControl.cutDay, dayBody(first.dayBegun), true)));
    return [first, ...rest.map(parseDayClose)];
  }

  /** Cross-shard instructions in flight and how long credits take to land. */
  transitStats(): TransitStats {
    return this.transit.stats();
  }

  /** Stops every shard after its appends drain. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.transit.stop();
    await closeAll(this.hosts);
  }

  /** A write's reply carries the cross-shard instructions it issued after its results: they go to the relay. */
  async #run(operation: number, request: ShardRequest, eventCount: number): Promise<Uint8Array> {
    const reply = await this.hosts[request.shard].run(operation, request.body, request.bodyTransferable);
    if (!isWriteOperation(operation)) return reply;
    const resultsBytes = (request.indexes?.length ?? eventCount) * resultBytes;
    if (reply.byteLength === resultsBytes) return reply;
    this.transit.onOutbound(request.shard, reply.subarray(resultsBytes));
    return reply.subarray(0, resultsBytes);
  }

  /**
   * Refuses the whole request before any part runs when one of its shards is full, so that overload
   * never leaves a request applied on some shards only.
   */
  #admit(plan: RoutePlan): void {
    for (const request of plan.requests) {
      const host = this.hosts[request.shard];
      if (!host.hasCapacity()) throw errors.overloaded(`shard ${request.shard} holds ${host.tasksOutstanding} tasks (shardQueueDepthMax)`);
    }
  }
}

/** Starts one worker per shard and waits until each has replayed its journal. */
export async function startShards(options: StartShardsOptions): Promise<ShardSet> {
  checkOptions(options);
  const hosts: ShardHost[] = [];
  try {
    for (let shardIndex = 0; shardIndex < options.shardCount; shardIndex++) {
      hosts.push(new ShardHost({ dataDir: options.dataDir, shardIndex, shardCount: options.shardCount, dayCut: options.dayCut ?? dayCutDefault }));
    }
    await Promise.all(hosts.map((host) => host.ready()));
  } catch (error) {
    await closeAll(hosts);
    throw error;
  }
  const transit = new TransitRelay(hosts, options.transit);
  transit.start();
  return new ShardSet(hosts, transit);
}

function dayBody(day: number): Uint8Array {
  const body = new Uint8Array(4);
  new DataView(body.buffer).setUint32(0, day, true);
  return body;
}

function parseDayClose(reply: Uint8Array): ShardDayClose {
  return JSON.parse(new TextDecoder().decode(reply)) as ShardDayClose;
}

function checkOptions(options: StartShardsOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (options.dayCut !== undefined) parseDayCutSchedule(options.dayCut.cutTime, options.dayCut.timeZone);
  if (typeof options.dataDir !== 'string' || options.dataDir.length === 0) throw new TypeError('options.dataDir must be a non-empty path');
  if (!Number.isInteger(options.shardCount) || options.shardCount < 1 || options.shardCount > shardCountMax) {
    throw new RangeError(`options.shardCount must be an integer in 1..${shardCountMax} (shardCountMax), got ${String(options.shardCount)}`);
  }
}

async function closeAll(hosts: readonly ShardHost[]): Promise<void> {
  await Promise.all(hosts.map((host) => host.close()));
}
