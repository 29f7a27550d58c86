// What the shard set reports for GET /health and GET /metrics: load and lag per shard, cross-shard
// chains and transit, hot accounts. Only reads: nothing here waits its turn in a shard or changes state,
// and nothing waits on a shard that does not answer for longer than shardStatusWaitMsMax.

import { assert } from '../../core/assert.js';
import type { HotInboundStats } from '../../core/hot/hot-inbound-stats.js';
import { shardStatusWaitMsMax } from '../../core/limits.js';
import type { BookkeepingHost } from '../bookkeeping/bookkeeping-host.js';
import type { ChainCoordinator, ChainStats } from '../chains/chain-coordinator.js';
import type { TransitRelay, TransitStats } from '../relay/transit-relay.js';
import type { ShardHost } from '../shard/shard-host.js';
import { ShardControl, type HotInboundShardStatus } from '../shard/shard-messages.js';
import type { HotOutboundKeeper, HotOutboundStats } from './hot-outbound-keeper.js';

export class SetStatus {
  readonly #hosts: readonly ShardHost[];
  readonly #bookkeeping: Pick<BookkeepingHost, 'status'>;
  readonly #chains: Pick<ChainCoordinator, 'stats'>;
  readonly #transit: Pick<TransitRelay, 'stats'>;
  readonly #hotOutbound: Pick<HotOutboundKeeper, 'stats'>;
  /** Per shard, its status probe in flight: callers meanwhile share it, so a shard that never answers holds one. */
  readonly #statusProbes: (Promise<HotInboundShardStatus> | null)[];

  constructor(
    hosts: readonly ShardHost[],
    bookkeeping: Pick<BookkeepingHost, 'status'>,
    chains: Pick<ChainCoordinator, 'stats'>,
    transit: Pick<TransitRelay, 'stats'>,
    hotOutbound: Pick<HotOutboundKeeper, 'stats'>,
  ) {
    assert(hosts.length >= 1, 'a shard set has a shard');
    assert(hosts.every((host, shard) => host.shardIndex === shard), 'hosts are listed in shard order');
    this.#hosts = hosts;
    this.#bookkeeping = bookkeeping;
    this.#chains = chains;
    this.#transit = transit;
    this.#hotOutbound = hotOutbound;
    this.#statusProbes = hosts.map(() => null);
  }

  /** Tasks queued or running per shard. */
  shardLoad(): { shard: number; tasksOutstanding: number }[] {
    return this.#hosts.map((host) => ({ shard: host.shardIndex, tasksOutstanding: host.tasksOutstanding }));
  }

  /** Entries per shard the bookkeeping shard has not booked yet. */
  async bookkeepingLag(): Promise<{ shard: number; lag: number }[]> {
    return (await this.#bookkeeping.status()).map(({ shard, lag }) => ({ shard, lag }));
  }

  /** Cross-shard chains decided since start. */
  chainStats(): ChainStats {
    return this.#chains.stats();
  }

  /** Hot-outbound accounts and what their slice keeper did since start. */
  hotOutboundStats(): HotOutboundStats {
    return this.#hotOutbound.stats();
  }

  /** Cross-shard instructions in flight and how long credits take to land. */
  transitStats(): TransitStats {
    return this.#transit.stats();
  }

  /**
   * Hot-inbound accounts of every shard: buffers now, credits applied, and how long they waited. Each shard
   * answers on its control lane without waiting its turn; one that has not answered within
   * shardStatusWaitMsMax (a worker replaying, or wedged) is named in `shardsNotAnswering` and left out of
   * the sums, so this never waits longer than that.
   */
  async hotInboundStats(): Promise<HotInboundStats> {
    const answers = await Promise.all(this.#hosts.map((host) => withinMs(this.#statusProbe(host), shardStatusWaitMsMax)));
    const shards = answers.filter((answer): answer is HotInboundShardStatus => answer !== null);
    return {
      shardsNotAnswering: answers.flatMap((answer, shard) => (answer === null ? [shard] : [])),
      accounts: shards.reduce((sum, status) => sum + status.accounts, 0),
      creditsBuffered: shards.reduce((sum, status) => sum + BigInt(status.creditsBuffered), 0n).toString(),
      creditsBufferedCount: shards.reduce((sum, status) => sum + status.creditsBufferedCount, 0),
      creditsApplied: shards.reduce((sum, status) => sum + status.creditsApplied, 0),
      // Per shard the recent percentiles; across shards the worst one (a bound, not a blend).
      delayMsP50: Math.max(0, ...shards.map((status) => status.delayMsP50)),
      delayMsP99: Math.max(0, ...shards.map((status) => status.delayMsP99)),
      delayMsMax: Math.max(0, ...shards.map((status) => status.delayMsMax)),
    };
  }

  /** The shard's status, asked once however many callers want it meanwhile. */
  #statusProbe(host: ShardHost): Promise<HotInboundShardStatus> {
    const shard = host.shardIndex;
    const inFlight = this.#statusProbes[shard];
    if (inFlight !== null) return inFlight;
    const probe = host
      .runInternal(ShardControl.hotInboundStatus, new Uint8Array(0), false)
      .then((reply) => JSON.parse(new TextDecoder().decode(reply)) as HotInboundShardStatus);
    this.#statusProbes[shard] = probe;
    const done = (): void => {
      this.#statusProbes[shard] = null;
    };
    probe.then(done, done);
    return probe;
  }
}

/** `promise`'s value, or null when it rejects or has not settled within `ms`. */
async function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([promise.catch(() => null), late]);
  } finally {
    clearTimeout(timer);
  }
}
