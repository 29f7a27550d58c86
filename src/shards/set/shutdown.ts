// How a shard set stops: the order its parts close in, and which step it waits for now (a shutdown that
// overruns names it). Once begun, every part of the set refuses new work `shutting_down`; nothing here
// starts work of its own.

import { assert } from '../../core/assert.js';
import type { BookkeepingHost } from '../bookkeeping/bookkeeping-host.js';
import type { ChainCoordinator } from '../chains/chain-coordinator.js';
import type { ChainLog } from '../chains/chain-log.js';
import type { TransitRelay } from '../relay/transit-relay.js';
import type { ShardHost } from '../shard/shard-host.js';

/** What a shutdown closes, in the order listed. */
export interface ShutdownParts {
  /** Stops scheduling day cuts (a cut under way ends with the shards). */
  readonly stopDays: () => void;
  /** Settles once the snapshot in progress, if any, has ended: its copier reads the stores closed below. */
  readonly snapshotSettled: () => Promise<unknown>;
  readonly hotOutbound: { stop(): Promise<void> };
  readonly chains: Pick<ChainCoordinator, 'close'>;
  readonly transit: Pick<TransitRelay, 'stop'>;
  readonly bookkeeping: Pick<BookkeepingHost, 'close'>;
  readonly hosts: readonly ShardHost[];
  readonly chainLog: Pick<ChainLog, 'close'>;
}

export class Shutdown {
  #closed: Promise<void> | null = null;
  /** What the shutdown waits for now (null before it begins and once it has ended). */
  #step: string | null = null;

  /** True from the first close() on: the set takes no new work. */
  get begun(): boolean {
    return this.#closed !== null;
  }

  /** What close() waits for now, or null when it is not closing (or has closed). */
  step(): string | null {
    return this.#step;
  }

  /** Closes `parts` once, however often it is called; every call answers the same promise. */
  close(parts: ShutdownParts): Promise<void> {
    this.#closed ??= this.#close(parts);
    return this.#closed;
  }

  async #close(parts: ShutdownParts): Promise<void> {
    assert(this.#step === null, 'a shard set closes once');
    parts.stopDays();
    const step = async (name: string, run: () => Promise<unknown>): Promise<void> => {
      this.#step = name;
      await run();
    };
    await step('the snapshot in progress', parts.snapshotSettled); // its copier reads the stores closed below
    await step('the hot-outbound round in flight', () => parts.hotOutbound.stop()); // its transfers are ordinary requests
    await step('the chain group in progress', () => parts.chains.close()); // no shard stays prepared by this process
    parts.transit.stop();
    await step('the bookkeeping worker', () => parts.bookkeeping.close());
    const open = new Set(parts.hosts.map((host) => host.shardIndex));
    const closingShards = (): string => `closing shards ${[...open].join(', ')} (each drains its appends and closes its journal)`;
    await step(closingShards(), () =>
      Promise.all(
        parts.hosts.map(async (host) => {
          await host.close();
          open.delete(host.shardIndex);
          this.#step = closingShards();
        }),
      ),
    );
    assert(open.size === 0, 'every shard closed before the chain decision log');
    await step('the chain decision log', () => parts.chainLog.close());
    this.#step = null;
  }
}
