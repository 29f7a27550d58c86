// The ledger service of a replicated node (issue #15), which may change role while its gateway keeps listening: a
// follower that takes the lease closes its follower shard set and starts a primary one on the same data
// directory. Between the two (and before the first) every request answers `unavailable` (nothing done: retry).

import { errors } from '../core/errors.js';
import type { LedgerService, ShardWriteObserver } from '../gateway/ledger-service.js';
import type { ShardSet } from '../shards/set/shard-set.js';

export class SwitchableService implements LedgerService {
  readonly shardCount: number;
  #current: ShardSet | null = null;
  #why = 'this node is starting';
  readonly #observers: ShardWriteObserver[] = [];

  constructor(shardCount: number) {
    this.shardCount = shardCount;
  }

  get current(): ShardSet | null {
    return this.#current;
  }

  /** Serves through `set` from now on. */
  use(set: ShardSet): void {
    this.#current = set;
    for (const observer of this.#observers) set.observeShardWrites(observer);
  }

  /** Takes the current set out (requests answer `unavailable` with `why`) and returns it, to be closed. */
  detach(why: string): ShardSet | null {
    const set = this.#current;
    this.#current = null;
    this.#why = why;
    return set;
  }

  #set(): ShardSet {
    if (this.#current === null) throw errors.unavailable(`${this.#why}; retry in a moment`);
    return this.#current;
  }

  execute(operation: number, body: Uint8Array): Promise<Uint8Array> {
    try {
      return this.#set().execute(operation, body);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  postAdjustment(body: Uint8Array): Promise<Uint8Array> {
    try {
      return this.#set().postAdjustment(body);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  transitStats(): ReturnType<NonNullable<LedgerService['transitStats']>> {
    return this.#current?.transitStats() ?? { inFlight: 0, delivered: 0, delayMsP50: 0, delayMsP99: 0, reconciles: 0, returned: 0 };
  }

  coalescingStats(): ReturnType<NonNullable<LedgerService['coalescingStats']>> {
    return this.#current?.coalescingStats() ?? { joinedRequests: 0, jointBatches: 0 };
  }

  chainStats(): ReturnType<NonNullable<LedgerService['chainStats']>> {
    return this.#current?.chainStats() ?? { groups: 0, roundsAborted: 0, chainsCommitted: 0, chainsFailed: 0 };
  }

  hotInboundStats(): ReturnType<NonNullable<LedgerService['hotInboundStats']>> {
    // Between two roles there are no figures: /health then leaves them out (it does for a failed read).
    try {
      return this.#set().hotInboundStats();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  hotOutboundStats(): ReturnType<NonNullable<LedgerService['hotOutboundStats']>> {
    return this.#current?.hotOutboundStats() ?? { accounts: 0, grants: 0, returns: 0, refusedDebits: 0, gathers: 0 };
  }

  observeShardWrites(observer: ShardWriteObserver): void {
    this.#observers.push(observer);
    this.#current?.observeShardWrites(observer);
  }

  shardLoad(): ReturnType<NonNullable<LedgerService['shardLoad']>> {
    return this.#current?.shardLoad() ?? [];
  }

  bookkeepingLag(): ReturnType<NonNullable<LedgerService['bookkeepingLag']>> {
    return this.#current?.bookkeepingLag() ?? Promise.resolve([]);
  }

  daysStatus(): ReturnType<NonNullable<LedgerService['daysStatus']>> {
    return this.#current?.daysStatus() ?? { lastClosedDay: 0, lastReportPassed: null, failedReports: 0 };
  }

  replicationStatus(): ReturnType<NonNullable<LedgerService['replicationStatus']>> {
    return this.#current?.replicationStatus();
  }

  close(): Promise<void> {
    const set = this.detach('this node is shutting down');
    return set === null ? Promise.resolve() : set.close();
  }
}
