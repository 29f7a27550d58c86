// The coordinator of linked chains whose events live on several shards (main thread). Runs the rounds
// of core/chains/prepared-chains.ts: prepare on every shard of the group, then commit (logged durably first) or
// abort everywhere. One group at a time — a prepared shard runs nothing else until it is decided, so two
// groups preparing in different shard orders would wait on each other forever — and every request
// waiting meanwhile joins the next group, so a burst of chains shares its rounds and fsyncs.

import { assert } from '../../core/assert.js';
import { errors, hasErrorCode } from '../../core/errors.js';
import { resultBytes } from '../../core/layout.js';
import { batchEventsMax, eventBytes } from '../../core/limits.js';
import { ChainDecision, ChainRounds, DecideStatus, encodeDecide, encodePrepare, type ChainPart, type Decide, type RememberedFailure } from '../../core/chains/prepared-chains.js';
import type { CrossChains } from '../../core/wire/route-plan.js';
import type { ChainLog } from './chain-log.js';
import type { ShardHost } from '../shard/shard-host.js';
import { ShardControl } from '../shard/shard-messages.js';

const noop = (): void => {};

/** Between attempts to deliver a decision to a shard whose worker is restarting. */
const decideRetryMs = 50;
/** A shard that keeps refusing a decision is reported this often (in attempts). */
const decideRetryReportEvery = 100;

export interface ChainStats {
  /** Groups decided since start, and how many of their rounds were aborted. */
  groups: number;
  roundsAborted: number;
  /** Chains committed and chains answered with a failure. */
  chainsCommitted: number;
  chainsFailed: number;
}

interface Job {
  operation: number;
  rounds: ChainRounds;
  eventCount: number;
  /** The request's results buffer: the job writes its chains' results into it. */
  results: Uint8Array;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class ChainCoordinator {
  readonly #hosts: readonly ShardHost[];
  readonly #log: ChainLog;
  readonly #onOutbound: (shard: number, instructions: Uint8Array) => void;
  #queue: Job[] = [];
  #running: Promise<void> | null = null;
  #closing = false;
  /** Set while a snapshot barrier pauses the coordinator: no group starts until it opens. */
  #gate: Promise<void> | null = null;
  /** Settles when the group in progress (if any) has finished. */
  #current: Promise<void> = Promise.resolve();
  readonly #stats: ChainStats = { groups: 0, roundsAborted: 0, chainsCommitted: 0, chainsFailed: 0 };

  constructor(hosts: readonly ShardHost[], log: ChainLog, onOutbound: (shard: number, instructions: Uint8Array) => void) {
    this.#hosts = hosts;
    this.#log = log;
    this.#onOutbound = onOutbound;
  }

  /**
   * Decides every cross-shard chain of a request and writes their results into `results` (the request's
   * eventCount × 4 bytes). Resolves once every committed chain is durable on every shard it touches.
   */
  run(operation: number, body: Uint8Array, crossChains: CrossChains, results: Uint8Array): Promise<void> {
    if (this.#closing) return Promise.reject(errors.shuttingDown());
    const rounds = new ChainRounds(body, crossChains.chains, crossChains.shardOf, this.#hosts.length, operation);
    let eventCount = 0;
    for (const chain of crossChains.chains) eventCount += chain.last - chain.first + 1;
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ operation, rounds, eventCount, results, resolve, reject });
      this.#running ??= this.#pump();
    });
  }

  /**
   * After a restart: every shard whose journal ends with a vote learns its decision — commit when the log
   * holds it, abort otherwise. Shards hold their turn until then, so run this before serving.
   */
  async recover(): Promise<number> {
    let resolved = 0;
    await Promise.all(
      this.#hosts.map(async (host) => {
        const reply = await host.runInternal(ShardControl.chainInDoubt, new Uint8Array(0), false);
        if (reply.byteLength === 0) return;
        const group = new DataView(reply.buffer, reply.byteOffset, reply.byteLength).getBigUint64(0, true);
        const decision = (await this.#log.wasCommitted(group)) ? ChainDecision.commit : ChainDecision.abort;
        await this.#decide(host, { group, decision, remember: [] });
        resolved++;
      }),
    );
    return resolved;
  }

  stats(): ChainStats {
    return { ...this.#stats };
  }

  /** Refuses new requests and waits for the group in progress: no shard is left prepared by this process. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const job of this.#queue.splice(0)) job.reject(errors.shuttingDown());
    await this.#running;
  }

  /**
   * For a snapshot barrier: no new group starts, and resolves once the group in progress has finished
   * (so no shard is prepared and holding its turn). Returns the function that lets groups run again.
   */
  async pause(): Promise<() => void> {
    assert(this.#gate === null, 'one pause of the chain coordinator at a time');
    let open!: () => void;
    this.#gate = new Promise<void>((resolve) => (open = resolve));
    await this.#current;
    return () => {
      this.#gate = null;
      open();
    };
  }

  async #pump(): Promise<void> {
    while (this.#queue.length > 0) {
      while (this.#gate !== null) await this.#gate;
      if (this.#queue.length === 0) break;
      const group = this.#takeGroup();
      try {
        const running = this.#runGroup(group);
        this.#current = running.then(noop, noop);
        const refused = await running;
        for (const job of group) {
          if (refused.has(job)) {
            job.reject(refused.get(job));
            continue;
          }
          job.rounds.writeResults(job.results);
          job.resolve();
        }
      } catch (error) {
        for (const job of group) job.reject(error);
      }
    }
    this.#running = null;
  }

  /** The queued jobs of the first one's operation, up to one batch of events (a prepared part's bound). */
  #takeGroup(): Job[] {
    const operation = this.#queue[0]!.operation;
    const group: Job[] = [];
    let events = 0;
    this.#queue = this.#queue.filter((job) => {
      const fits = job.operation === operation && (group.length === 0 || events + job.eventCount <= batchEventsMax);
      if (!fits) return true;
      group.push(job);
      events += job.eventCount;
      return false;
    });
    return group;
  }

  /** Decides every chain of `jobs`; returns the jobs that failed as a whole (a shard they need refused its vote), with why. */
  async #runGroup(jobs: readonly Job[]): Promise<Map<Job, unknown>> {
    this.#stats.groups++;
    const refusedJobs = new Map<Job, unknown>();
    for (;;) {
      const active = jobs.filter((job) => job.rounds.pending && !refusedJobs.has(job));
      if (active.length === 0) return refusedJobs;
      const group = this.#log.nextGroup();
      const jobParts = active.map((job) => job.rounds.parts());
      const { shardParts, offsets } = mergeByShard(jobParts);
      const prepared = await Promise.allSettled(shardParts.map((part) => this.#prepare(part, group, active[0]!.operation)));
      const refused = prepared.find((outcome) => outcome.status === 'rejected');
      if (refused !== undefined) {
        // A vote may be durable even where the reply was lost (a worker that died): abort reaches every part.
        await this.#decideAll(shardParts, group, ChainDecision.abort, new Map());
        // Only the requests with events on a shard that refused fail; the others go again without them.
        prepared.forEach((outcome, m) => {
          if (outcome.status === 'fulfilled') return;
          active.forEach((job, j) => {
            if (!refusedJobs.has(job) && jobParts[j]!.some((part) => part.shard === shardParts[m]!.shard)) refusedJobs.set(job, outcome.reason);
          });
        });
        continue;
      }
      const replies = prepared.map((outcome) => (outcome as PromiseFulfilledResult<Uint8Array>).value);
      const failed = active.map((job, j) => job.rounds.examine(splitResults(jobParts[j]!, offsets[j]!, shardParts, replies)));
      if (failed.includes(true)) {
        this.#stats.roundsAborted++;
        await this.#decideAll(shardParts, group, ChainDecision.abort, failuresByShard(active, jobParts, offsets));
        active.forEach((job, j) => {
          // A round prepared again (a carried credit whose payer answered exists) decides no chain.
          if (failed[j] && job.rounds.setAside()) this.#stats.chainsFailed++;
        });
        continue;
      }
      try {
        await this.#log.logCommit(group);
      } catch (error) {
        await this.#decideAll(shardParts, group, ChainDecision.abort, new Map()); // not logged: nobody may commit it
        throw errors.storageFailed(`chain decision log: ${String(error)}`);
      }
      await this.#decideAll(shardParts, group, ChainDecision.commit, new Map());
      for (const job of active) this.#stats.chainsCommitted += job.rounds.commit();
    }
  }

  async #prepare(part: MergedPart, group: bigint, operation: number): Promise<Uint8Array> {
    const body = encodePrepare({ operation, group, events: part.events, chainEnds: part.chainEnds });
    const reply = await this.#hosts[part.shard]!.run(ShardControl.prepareChains, body, true);
    if (reply.byteLength !== part.count * resultBytes) throw errors.shardUnavailable(part.shard, 'a vote on cross-shard chains came back malformed');
    return reply;
  }

  /** `remember`: per shard, the failures it keeps (abort only), by position in its part. */
  async #decideAll(parts: readonly MergedPart[], group: bigint, decision: number, remember: ReadonlyMap<number, RememberedFailure[]>): Promise<void> {
    await Promise.all(
      parts.map(async (part) => {
        const reply = await this.#decide(this.#hosts[part.shard]!, { group, decision, remember: remember.get(part.shard) ?? [] });
        const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
        const decidedNow = view.getUint32(0, true) === DecideStatus.decided;
        // A commit's instructions follow its results; a shard that decided before a restart left them in its outbox (the relay's reconcile fetches them).
        const instructionsAt = 4 + part.count * resultBytes;
        if (decision === ChainDecision.commit && decidedNow && reply.byteLength > instructionsAt) this.#onOutbound(part.shard, reply.subarray(instructionsAt));
      }),
    );
  }

  /**
   * Delivers a decision until the shard takes it. A prepared shard waits for it (through a restart of its
   * worker too), so giving up would leave it stuck: only shutdown ends the attempts.
   */
  async #decide(host: ShardHost, decide: Decide): Promise<Uint8Array> {
    const { group } = decide;
    for (let attempt = 1; ; attempt++) {
      try {
        return await host.runInternal(ShardControl.decideChains, encodeDecide(decide), true);
      } catch (error) {
        if (hasErrorCode(error, 'shutting_down')) throw error;
        if (attempt % decideRetryReportEvery === 1) {
          console.error(JSON.stringify({ level: 'error', msg: 'chain decision not taken yet, retrying', shard: host.shardIndex, group: String(group), attempt, error: String(error) }));
        }
        await new Promise((resolve) => setTimeout(resolve, decideRetryMs));
      }
    }
  }
}

/** One shard's events of a round, over every request of the group. */
interface MergedPart {
  shard: number;
  count: number;
  events: Uint8Array;
  chainEnds: Uint8Array;
}

/** Per shard, the round's parts of every request, in request order; `offsets[j][p]`: where request j's part p begins. */
function mergeByShard(jobParts: readonly ChainPart[][]): { shardParts: MergedPart[]; offsets: number[][] } {
  const counts = new Map<number, number>();
  const offsets = jobParts.map((parts) =>
    parts.map((part) => {
      const at = counts.get(part.shard) ?? 0;
      counts.set(part.shard, at + part.indexes.length);
      return at;
    }),
  );
  const shards = [...counts.keys()].sort((a, b) => a - b);
  const shardParts = shards.map((shard) => {
    const count = counts.get(shard)!;
    return { shard, count, events: new Uint8Array(count * eventBytes), chainEnds: new Uint8Array(count) };
  });
  jobParts.forEach((parts, j) =>
    parts.forEach((part, p) => {
      const merged = shardParts[shards.indexOf(part.shard)]!;
      merged.events.set(part.events, offsets[j]![p]! * eventBytes);
      merged.chainEnds.set(part.chainEnds, offsets[j]![p]!);
    }),
  );
  return { shardParts, offsets };
}

/** Where each job's failing event (if any) is remembered: its payer's shard, its position in that shard's merged part, the answer. */
function failuresByShard(jobs: readonly Job[], jobParts: readonly ChainPart[][], offsets: readonly number[][]): Map<number, RememberedFailure[]> {
  const byShard = new Map<number, RememberedFailure[]>();
  jobs.forEach((job, j) => {
    job.rounds.failuresToRemember().forEach((failures, p) => {
      const shard = jobParts[j]![p]!.shard;
      for (const { position, result } of failures) byShard.set(shard, [...(byShard.get(shard) ?? []), { position: offsets[j]![p]! + position, result }]);
    });
  });
  return byShard;
}

/** A request's share of each shard's vote. */
function splitResults(parts: readonly ChainPart[], offsets: readonly number[], merged: readonly MergedPart[], replies: readonly Uint8Array[]): Uint32Array[] {
  return parts.map((part, p) => {
    const reply = replies[merged.findIndex((candidate) => candidate.shard === part.shard)]!;
    const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
    return Uint32Array.from({ length: part.indexes.length }, (_, k) => view.getUint32((offsets[p]! + k) * resultBytes, true));
  });
}
