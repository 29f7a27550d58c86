// The shard set's path to the shards for ledger requests: splits a request by owning shard
// (core/wire/route-plan.ts), admits it whole or not at all, runs the parts concurrently, hands a write's
// cross-shard instructions to the relay and its chains across shards to the coordinator, and merges the
// replies in request order. It knows no capability above it (hot-outbound, books, snapshots).

import { assert } from '../../core/assert.js';
import { errors } from '../../core/errors.js';
import { resultBytes } from '../../core/layout.js';
import { chainRequestsQueuedMax, transitInstructionsAdmittedMax } from '../../core/limits.js';
import { isWriteOperation, WireOperation } from '../../core/operations.js';
import { mergeReplies, planRoute, type RoutePlan, type ShardRequest } from '../../core/wire/route-plan.js';
import type { AccountDirectory } from '../../core/accounts/account-directory.js';
import { publishAccountOperations, publishCreatedAccounts } from '../../core/accounts/directory-updates.js';
import type { ChainCoordinator } from '../chains/chain-coordinator.js';
import type { TransitRelay } from '../relay/transit-relay.js';
import type { ShardHost } from '../shard/shard-host.js';
import { ShardControl } from '../shard/shard-messages.js';
import type { Shutdown } from './shutdown.js';

/** Told of every shard's part of a write: its time there (durable) and its events (GET /metrics). */
export type ShardWriteObserver = (shard: number, seconds: number, events: number) => void;

export class RequestRouting {
  readonly #hosts: readonly ShardHost[];
  readonly #transit: Pick<TransitRelay, 'onOutbound' | 'outboundQueued'>;
  readonly #chains: Pick<ChainCoordinator, 'run'>;
  readonly #shutdown: Pick<Shutdown, 'begun'>;
  #shardWrites: ShardWriteObserver | null = null;
  /** Requests with chains across shards, from admission to answer (at most chainRequestsQueuedMax). */
  #chainRequests = 0;
  /** Per shard: events of its create_transfers parts admitted and not answered yet (each may issue an instruction). */
  readonly #outboundReserved: Float64Array;

  /** Every account, whichever shard holds it: what payers' shards check payees on other shards against. */
  readonly #directory: AccountDirectory | null;

  constructor(
    hosts: readonly ShardHost[],
    transit: Pick<TransitRelay, 'onOutbound' | 'outboundQueued'>,
    chains: Pick<ChainCoordinator, 'run'>,
    shutdown: Pick<Shutdown, 'begun'>,
    directory: AccountDirectory | null = null,
  ) {
    assert(hosts.length >= 1, 'a shard set has a shard');
    this.#hosts = hosts;
    this.#directory = directory;
    this.#transit = transit;
    this.#chains = chains;
    this.#shutdown = shutdown;
    this.#outboundReserved = new Float64Array(hosts.length);
  }

  /**
   * Resolves with the merged reply (durable, for writes); rejects with a TallyError. Accounts created, closed or
   * blocked for credits are in the account directory before the reply: a request sent after it is checked against them.
   */
  async execute(operation: number, body: Uint8Array): Promise<Uint8Array> {
    // The body may be handed to a worker (transferred): what the directory needs of it is copied first.
    const changes = this.#directory !== null && (operation === WireOperation.create_accounts || operation === WireOperation.account_operations) ? body.slice() : null;
    const reply = await this.#execute(operation, body);
    if (changes !== null && operation === WireOperation.create_accounts) publishCreatedAccounts(this.#directory!, changes, reply);
    if (changes !== null && operation === WireOperation.account_operations) publishAccountOperations(this.#directory!, changes, reply);
    return reply;
  }

  async #execute(operation: number, body: Uint8Array): Promise<Uint8Array> {
    if (this.#shutdown.begun) throw errors.shuttingDown();
    const plan = planRoute(operation, body, this.#hosts.length);
    this.#admit(operation, plan);
    if (plan.crossChains === null) return mergeReplies(plan, await Promise.all(plan.requests.map((request) => this.#run(operation, request, plan.eventCount))));
    // Counted from here, before any part runs: one refused is refused whole, and the coordinator's queue
    // (one group decides at a time, each request holding its body) stays bounded.
    if (this.#chainRequests >= chainRequestsQueuedMax) throw errors.overloaded(`${this.#chainRequests} requests with chains across shards are in progress (chainRequestsQueuedMax)`);
    this.#chainRequests++;
    try {
      const replies = await Promise.all(plan.requests.map((request) => this.#run(operation, request, plan.eventCount)));
      await this.#chains.run(operation, body, plan.crossChains, plan.results!);
      return mergeReplies(plan, replies);
    } finally {
      this.#chainRequests--;
      assert(this.#chainRequests >= 0, 'chain requests are counted once in and once out');
    }
  }

  /** The slice keeper's own accounts: straight to their shard, the one path into the slice id range. */
  async openSlices(shard: number, body: Uint8Array): Promise<Uint8Array> {
    if (this.#shutdown.begun) throw errors.shuttingDown();
    assert(Number.isInteger(shard) && shard >= 0 && shard < this.#hosts.length, 'slices open on a shard of the set');
    return this.#hosts[shard]!.runInternal(ShardControl.openSlices, body, true);
  }

  /** Per-shard write latency and events, for GET /metrics. */
  observeShardWrites(observer: ShardWriteObserver): void {
    this.#shardWrites = observer;
  }

  /** A write's reply carries the cross-shard instructions it issued after its results: they go to the relay. */
  async #run(operation: number, request: ShardRequest, eventCount: number): Promise<Uint8Array> {
    const startedMs = performance.now();
    const events = eventsOf(request, eventCount);
    let reply: Uint8Array;
    try {
      reply = await this.#hosts[request.shard]!.run(operation, request.body, request.bodyTransferable);
    } finally {
      // Answered or failed: released in the turn that hands its instructions to the relay (below), so never counted
      // twice or not at all.
      this.#release(operation, request.shard, events);
    }
    if (!isWriteOperation(operation)) return reply;
    this.#shardWrites?.(request.shard, (performance.now() - startedMs) / 1000, events);
    const resultsBytes = events * resultBytes;
    if (reply.byteLength === resultsBytes) return reply;
    assert(reply.byteLength > resultsBytes, 'a write reply holds a result per event, then its instructions');
    this.#transit.onOutbound(request.shard, reply.subarray(resultsBytes));
    return reply.subarray(0, resultsBytes);
  }

  /**
   * Refuses the whole request before any part runs when one of its shards is full, or (transfers) when one
   * of its shards has so many instructions waiting for receivers that its own outbox could fill before the
   * part runs: overload never leaves a request applied on some shards only. Admitted transfer parts reserve
   * one instruction per event until answered.
   */
  #admit(operation: number, plan: RoutePlan): void {
    for (const request of plan.requests) {
      const host = this.#hosts[request.shard]!;
      if (!host.hasCapacity()) throw errors.overloaded(`shard ${request.shard} holds ${host.tasksOutstanding} tasks (shardQueueDepthMax)`);
    }
    if (operation !== WireOperation.create_transfers) return;
    for (const request of plan.requests) {
      const shard = request.shard;
      const waiting = this.#transit.outboundQueued(shard) + this.#outboundReserved[shard]!;
      if (waiting + eventsOf(request, plan.eventCount) > transitInstructionsAdmittedMax) {
        throw errors.overloaded(`shard ${shard} has ${waiting} cross-shard instructions waiting for receivers (transitInstructionsAdmittedMax)`);
      }
    }
    for (const request of plan.requests) this.#outboundReserved[request.shard]! += eventsOf(request, plan.eventCount);
  }

  #release(operation: number, shard: number, events: number): void {
    if (operation !== WireOperation.create_transfers) return;
    this.#outboundReserved[shard]! -= events;
    assert(this.#outboundReserved[shard]! >= 0, 'reserved instructions are released once each');
  }
}

/** The events of a shard's part: those its indexes name, or the whole request's. */
function eventsOf(request: ShardRequest, eventCount: number): number {
  return request.indexes?.length ?? eventCount;
}
