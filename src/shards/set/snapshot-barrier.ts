// Online snapshots of the shard set's data directory (`tally snapshot`): starts them, reports on them, and
// runs their barrier — one instant across every shard, each held once its journal is durable while the
// copier opens its read transactions. A barrier runs one at a time with day cuts (OneAtATime), so a
// snapshot's cut never falls inside a day cut.

import { assert } from '../../core/assert.js';
import { errors } from '../../core/errors.js';
import { snapshotBarrierMsMax, snapshotPathCharsMax } from '../../core/limits.js';
import { Operation } from '../../core/operations.js';
import { onlyFields, parseAdminJson, stringField } from '../../core/wire/admin-bodies.js';
import type { ChainCoordinator } from '../chains/chain-coordinator.js';
import type { ShardHost } from '../shard/shard-host.js';
import { ShardControl } from '../shard/shard-messages.js';
import { SnapshotRunner, type SnapshotStatus } from '../snapshots/snapshot-host.js';
import type { OneAtATime } from './one-at-a-time.js';
import type { QuietInstant } from './quiet-instant.js';
import type { RequestHandler } from './request-handlers.js';
import type { Shutdown } from './shutdown.js';

const noop = (): void => {};

export class SnapshotBarrier {
  readonly #hosts: readonly ShardHost[];
  readonly #chains: Pick<ChainCoordinator, 'pause'>;
  /** Shared with day closings: a snapshot's cut never falls inside a day cut. */
  readonly #oneAtATime: OneAtATime;
  readonly #shutdown: Pick<Shutdown, 'begun'>;
  /** Makes the quiet instant the barrier starts from (quiet-instant.ts). */
  readonly #quiet: QuietInstant;
  /** Set by attach (startShards, which knows the data directory); null: this set takes no snapshots. */
  #runner: SnapshotRunner | null = null;

  constructor(
    hosts: readonly ShardHost[],
    chains: Pick<ChainCoordinator, 'pause'>,
    oneAtATime: OneAtATime,
    shutdown: Pick<Shutdown, 'begun'>,
    quiet: QuietInstant,
  ) {
    assert(hosts.length >= 1, 'a shard set has a shard');
    this.#hosts = hosts;
    this.#chains = chains;
    this.#oneAtATime = oneAtATime;
    this.#shutdown = shutdown;
    this.#quiet = quiet;
  }

  /** Lets snapshots be taken of `dataDir` (called once by startShards; later calls change nothing). */
  attach(dataDir: string): void {
    this.#runner ??= new SnapshotRunner(dataDir, this.#hosts.length, (whileHeld) => this.#oneAtATime.run(() => this.#quietBarrier(whileHeld)));
  }

  /** Starts an online snapshot into `out` (absolute, absent or empty); progress through status(). */
  start(out: string): SnapshotStatus {
    if (this.#shutdown.begun) throw errors.shuttingDown();
    if (this.#runner === null) throw errors.operationUnknown('start_snapshot (this shard set has no data directory to snapshot)');
    return this.#runner.start(out);
  }

  /** The snapshot in progress, or the last one; null when none ran since start. */
  status(): SnapshotStatus | null {
    return this.#runner?.status() ?? null;
  }

  /** Once the snapshot in progress (if any) has ended: the last one's status. */
  async settled(): Promise<SnapshotStatus | null> {
    await this.#runner?.settled();
    return this.status();
  }

  /** The wire operations on snapshots: start_snapshot (body: JSON {"out": dir}) and get_snapshot_status. */
  handlers(): [operation: number, handler: RequestHandler][] {
    const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
    return [
      [Operation.start_snapshot, async (body) => json(this.start(startSnapshotOut(body)))],
      [Operation.get_snapshot_status, async () => json(this.status())],
    ];
  }

  /**
   * The barrier at a quiet instant (as a day cut's, quiet-instant.ts): the snapshot holds nothing between shards, so
   * a restored directory answers at once what one shard would. Past the instant's bound the barrier goes ahead:
   * credits in flight then land after a restore starts.
   */
  #quietBarrier(whileHeld: () => Promise<void>): Promise<{ seqs: number[]; heldMs: number; cutAt: string }> {
    return this.#quiet('snapshot', () => this.#barrier(whileHeld));
  }

  /**
   * The snapshot barrier: one instant across all shards. Chain groups pause (none stays prepared), every
   * shard holds its turn once its journal is durable, `whileHeld` runs (the copier opens its read
   * transactions), then all are released. Cross-shard credits cannot be ahead of their debits at such an
   * instant: a credit is sent only once its debit is durable, and both shards stood still.
   */
  async #barrier(whileHeld: () => Promise<void>): Promise<{ seqs: number[]; heldMs: number; cutAt: string }> {
    const resumeChains = await this.#chains.pause();
    const holds = this.#hosts.map((host) => host.runInternal(ShardControl.holdTurn, new Uint8Array(0), false));
    const release = (): Promise<unknown> => Promise.all(this.#hosts.map((host) => host.runInternal(ShardControl.releaseTurn, new Uint8Array(0), false).catch(noop)));
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(errors.timeout(snapshotBarrierMsMax)), snapshotBarrierMsMax);
      });
      const replies = await Promise.race([Promise.all(holds), timeout]).finally(() => clearTimeout(timer));
      const heldAtMs = performance.now();
      const cutAt = new Date().toISOString();
      await whileHeld();
      const seqs = replies.map((reply) => Number(new DataView(reply.buffer, reply.byteOffset, reply.byteLength).getBigUint64(0, true)));
      assert(seqs.length === this.#hosts.length, 'one held seq per shard');
      return { seqs, heldMs: Math.round((performance.now() - heldAtMs) * 1000) / 1000, cutAt };
    } finally {
      await release();
      // A hold still queued when the barrier gave up takes the turn later: release it once it has.
      void Promise.allSettled(holds).then(release);
      resumeChains();
    }
  }
}

/** The `out` of a start_snapshot body, or body_invalid: like every admin body, a misspelt or extra field is refused, never ignored. */
function startSnapshotOut(body: Uint8Array): string {
  const request = parseAdminJson(body, 'start_snapshot');
  onlyFields(request, ['out'], 'start_snapshot');
  return stringField(request, 'out', snapshotPathCharsMax, true, 'start_snapshot');
}
