// The shard set's path to the shards for ledger requests: splits a request by owning shard
// (core/wire/route-plan.ts), admits it whole or not at all, runs the parts concurrently, hands a write's
// cross-shard instructions to the relay and its chains across shards to the coordinator, and merges the
// replies in request order. It knows no capability above it (hot-outbound, books, snapshots).

import { operationIdEvents, withCallerMarksInvalid } from '../../core/wire/ids-elsewhere.js';
import { IdsElsewhereCheck } from './ids-elsewhere-check.js';
import { VerdictsElsewhereCheck } from './verdicts-elsewhere-check.js';
import { JudgedPayeeFences } from './judged-payee-fences.js';
import { withOperationVerdicts, withRouterVerdicts, type EventVerdict } from '../../core/wire/verdicts-elsewhere.js';
import { stageStartsOf } from '../../core/wire/request-stages.js';
import { assert } from '../../core/assert.js';
import { ErrorCode, TallyError, errors } from '../../core/errors.js';
import { AccountLayout, AccountOperationLayout, TransferLayout, resultBytes } from '../../core/layout.js';
import { idKeyAt } from '../../core/u128.js';
import { AccountOperationKind, TransferFlags, transferKindFlags } from '../../core/types.js';
import { shardOfIdAt } from '../../core/routing.js';
import { chainRequestsQueuedMax, eventBytes, creditsLandingWaitMsMax, requestStagesMax, transitInstructionsAdmittedMax } from '../../core/limits.js';
import { isWriteOperation, WireOperation } from '../../core/operations.js';
import { mergeReplies, planRoute, type RoutePlan, type ShardRequest } from '../../core/wire/route-plan.js';
import type { AccountDirectory } from '../../core/accounts/account-directory.js';
import { payeeStatusChangeAt, publishAccountOperations, publishCreatedAccounts, publishEntries } from '../../core/accounts/directory-updates.js';
import type { ChainCoordinator } from '../chains/chain-coordinator.js';
import { TransferCoalescer } from './transfer-coalescer.js';
import { runLaterPart } from './later-part.js';
import type { PayerCreditsInFlight } from './payer-credits.js';
import type { TransitRelay } from '../relay/transit-relay.js';
import type { ShardHost } from '../shard/shard-host.js';
import { ShardControl } from '../shard/shard-messages.js';
import type { Shutdown } from './shutdown.js';

/** Told of every shard's part of a write: its time there (durable) and its events (GET /metrics). */
export type ShardWriteObserver = (shard: number, seconds: number, events: number) => void;

export class RequestRouting {
  readonly #hosts: readonly ShardHost[];
  readonly #transit: Pick<TransitRelay, 'onOutbound' | 'outboundQueued' | 'landedOn'>;
  readonly #chains: Pick<ChainCoordinator, 'run'>;
  readonly #shutdown: Pick<Shutdown, 'begun'>;
  #shardWrites: ShardWriteObserver | null = null;
  /** Requests with chains across shards, from admission to answer (at most chainRequestsQueuedMax). */
  #chainRequests = 0;
  /** Per shard: events of its create_transfers parts admitted and not answered yet (each may issue an instruction). */
  readonly #outboundReserved: Float64Array;

  /** Every account, whichever shard holds it: what payers' shards check payees on other shards against. */
  readonly #directory: AccountDirectory | null;
  /** Per shard, joins the transfer parts of one event-loop turn into one task and entry (issue #19); null: each alone. */
  readonly #coalescers: TransferCoalescer[] | null;
  /** create_transfers requests admitted and not answered: a fence waits for those before it. */
  readonly #transfersInFlight = new Set<Promise<unknown>>();
  /** Accounts a close or credit block is about to change (id key → its end): transfers that pay them wait. */
  readonly #fences = new Map<string, Promise<void>>();
  /** Credits on their way to no-overdraft accounts: a transfer paying from one waits for them (payer-credits.ts). */
  readonly #payerCredits: Pick<PayerCreditsInFlight, 'shardsToAwait'> | null;
  /** Marks transfers whose id another shard holds (ids unique ledger-wide). */
  readonly #idsElsewhere: IdsElsewhereCheck;
  /** The same for account operations. */
  readonly #operationIds: IdsElsewhereCheck;
  /** Requests crediting one judged payee (capped, or marked for overflow), one after another (judged-payee-fences.ts). */
  readonly #judgedPayees: JudgedPayeeFences;
  /** Asks the other shards what they answer for a request's events: references they hold, capped payees they hold. */
  readonly #verdictsElsewhere: VerdictsElsewhereCheck;
  /** Resolves once the last transfer request to arrive has started (or failed before it could). */
  #lastStarted: Promise<void> = Promise.resolve();
  /** Transfer requests from arrival to answer (asking about ids, waiting to start, running): a quiet instant waits for them. */
  readonly #transferRequests = new Set<Promise<unknown>>();
  /** Set while a quiet instant is being made (a day cut): transfer requests arriving wait for its end. */
  #quiet: Promise<void> | null = null;

  constructor(
    hosts: readonly ShardHost[],
    transit: Pick<TransitRelay, 'onOutbound' | 'outboundQueued' | 'landedOn'>,
    chains: Pick<ChainCoordinator, 'run'>,
    shutdown: Pick<Shutdown, 'begun'>,
    directory: AccountDirectory | null = null,
    coalesce = false,
    payerCredits: Pick<PayerCreditsInFlight, 'shardsToAwait'> | null = null,
  ) {
    assert(hosts.length >= 1, 'a shard set has a shard');
    this.#hosts = hosts;
    this.#idsElsewhere = new IdsElsewhereCheck(hosts);
    this.#operationIds = new IdsElsewhereCheck(hosts, ShardControl.operationIdsTaken, operationIdEvents);
    this.#verdictsElsewhere = new VerdictsElsewhereCheck(hosts, directory);
    this.#judgedPayees = new JudgedPayeeFences(directory, hosts.length);
    this.#payerCredits = payerCredits;
    this.#directory = directory;
    this.#coalescers = coalesce ? hosts.map((_, shard) => new TransferCoalescer((body, fresh) => this.#runWrite(shard, WireOperation.create_transfers, body, fresh))) : null;
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
    if (operation === WireOperation.create_transfers) return this.#transfersAfterQuiet(body);
    if (operation === WireOperation.account_operations) return this.#operations(body);
    return this.#changingAccounts(operation, body);
  }

  /**
   * A read of one shard alone (the caller knows which holds what it asks): like any read, it waits for the credits
   * answered to that shard before it, and is refused overloaded when the shard's queue is full.
   */
  async readOn(shard: number, operation: number, body: Uint8Array): Promise<Uint8Array> {
    if (this.#shutdown.begun) throw errors.shuttingDown();
    assert(!isWriteOperation(operation) && Number.isInteger(shard) && shard >= 0 && shard < this.#hosts.length, 'readOn reads one shard of the set');
    const host = this.#hosts[shard]!;
    if (!host.hasCapacity()) throw errors.overloaded(`shard ${shard} holds ${host.tasksOutstanding} tasks (shardQueueDepthMax)`);
    await this.#transit.landedOn(shard, creditsLandingWaitMsMax);
    return host.run(operation, body, false);
  }

  /**
   * An account_operations request, with the events whose id another shard holds marked (operation ids are unique
   * ledger-wide, as transfer ids are: ids-elsewhere-check.ts); a caller's copy of the mark is flags_invalid.
   */
  async #operations(callerBody: Uint8Array): Promise<Uint8Array> {
    // A freeze takes from the account's available balance: like a read, it waits for the credits answered to the
    // account's shard before it (one shard would count them), at once when none is on its way.
    await this.#creditsLanded(shardsOfEvents(callerBody, this.#hosts.length, AccountOperationLayout.accountId, isFreezeAt));
    const body = withCallerMarksInvalid(callerBody, operationIdEvents);
    // An unfreeze naming another account than its freeze's: the freeze's shard is asked, beside the ids question.
    const verdictsAsked = this.#verdictsElsewhere.operationVerdicts(body);
    verdictsAsked.catch(() => {}); // awaited below, once the ids are marked (or their question failed)
    const marked = await this.#operationIds.mark(body);
    try {
      const toRun = withOperationVerdicts(marked.body, await verdictsAsked);
      return await this.#changingAccounts(WireOperation.account_operations, toRun);
    } finally {
      marked.release();
    }
  }

  /** Any request but create_transfers; what create_accounts and account_operations change goes to the directory. */
  async #changingAccounts(operation: number, body: Uint8Array): Promise<Uint8Array> {
    if (this.#directory === null) return this.#execute(operation, body);
    if (operation !== WireOperation.create_accounts && operation !== WireOperation.account_operations) return this.#execute(operation, body);
    // The body may be handed to a worker (transferred): what the directory needs of it is copied first.
    const changes = body.slice();
    try {
      if (operation === WireOperation.create_accounts) {
        const reply = await this.#execute(operation, body);
        publishCreatedAccounts(this.#directory, changes, reply);
        return reply;
      }
      const fenced = payeeChangesOf(changes, this.#hosts.length);
      const reply = fenced.length === 0 ? await this.#execute(operation, body) : await this.#fenced(fenced, () => this.#execute(operation, body));
      publishAccountOperations(this.#directory, changes, reply);
      return reply;
    } catch (error) {
      // A failure that may have applied (a worker that died after its commit) leaves the directory behind: it
      // takes what the shards hold now, before the caller hears of it. A refusal (overloaded, …) applied nothing.
      if (mayHaveApplied(error)) await this.#resync(changes, operation === WireOperation.create_accounts ? AccountLayout.id : AccountOperationLayout.accountId);
      throw error;
    }
  }

  /** Publishes every account of the shards that hold the accounts named at `idAt` in `body`'s events. */
  async #resync(body: Uint8Array, idAt: number): Promise<void> {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const shards = new Set<number>();
    for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) shards.add(shardOfIdAt(view, at + idAt, this.#hosts.length));
    for (const shard of shards) {
      try {
        publishEntries(this.#directory!, await this.#hosts[shard]!.runInternal(ShardControl.directoryEntries, new Uint8Array(0), false));
      } catch (error) {
        console.error(`tally: the account directory could not read shard ${shard} after a failed write; it is whole again at the next start:`, error);
      }
    }
  }

  /**
   * Runs `run` at an instant where no transfer request is in flight: transfer requests arriving from now on wait,
   * those already in flight are waited for (at most `waitMsMax`; `run` learns whether they all ended), then `run`
   * runs and the waiting ones start, in the order they came. The day cut uses it so that, once the credits
   * answered have landed too, every shard's state is what one shard would hold (nothing between shards).
   */
  async quiet<T>(waitMsMax: number, run: (settled: boolean) => Promise<T>): Promise<T> {
    // One at a time (day cuts and snapshot barriers are serialised anyway): a second waits for the first to end.
    while (this.#quiet !== null) await this.#quiet;
    let release!: () => void;
    this.#quiet = new Promise<void>((resolve) => (release = resolve));
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), waitMsMax)));
      const settled = await Promise.race([Promise.allSettled([...this.#transferRequests]).then(() => true), timeout]).finally(() => clearTimeout(timer));
      return await run(settled);
    } finally {
      this.#quiet = null;
      release();
    }
  }

  /** Payees marked creditsBig and not cleared yet. */
  get judgedPayeesMarked(): number {
    return this.#judgedPayees.markedBig;
  }

  /** Notes the instructions the relay takes (whole, 144 B each): a credit or hold of 2^36 or more marks its payee. */
  noteInstructions(bytes: Uint8Array): void {
    this.#judgedPayees.markBigInstructions(bytes);
  }

  /** A transfer request, once any quiet instant in the making has passed; counted from here until answered. */
  async #transfersAfterQuiet(callerBody: Uint8Array): Promise<Uint8Array> {
    while (this.#quiet !== null) await this.#quiet;
    const request = this.#transfers(callerBody);
    this.#transferRequests.add(request);
    try {
      return await request;
    } finally {
      this.#transferRequests.delete(request);
    }
  }

  /**
   * A transfer request: after any fence on an account it pays, with the events whose id another shard holds marked
   * (ids unique ledger-wide: ids-elsewhere-check.ts); counted in flight until answered.
   */
  async #transfers(callerBody: Uint8Array): Promise<Uint8Array> {
    const body = withCallerMarksInvalid(callerBody);
    // A judged payee's shard judges its credits in arrival order: after the earlier requests crediting it are
    // answered and their credits landed (judged-payee-fences.ts). Usually none. Synchronous up to the fence taken:
    // the requests that arrived before this one are the ones in #transferRequests now.
    this.#judgedPayees.markBigCredits(body);
    const judged = this.#judgedPayees.payeesOf(body);
    const before = judged?.newlyMarked === true ? [...this.#transferRequests] : null;
    const fenceTaken = judged === null ? null : this.#judgedPayees.fence(judged);
    const releaseJudged = fenceTaken === null ? null : await fenceTaken;
    try {
      // A payee newly marked for overflow may have credits of requests before this one, judged by no one, not yet
      // answered: wait for them all (then for their credits to land, below).
      if (before !== null) await Promise.allSettled(before);
      // Their shards judge them once the credits answered before (a restart's among them) have landed.
      if (judged !== null) await this.#creditsLanded(judged.shards);
      const stageStarts = this.#directory === null ? [] : stageStartsOf(body, this.#hosts.length, this.#directory);
      if (stageStarts.length + 1 > requestStagesMax) {
        throw errors.bodyInvalid(
          `the request would run in ${stageStarts.length + 1} stages (its later events depend on earlier ones through other shards: payers they credit, transfers they name); at most ${requestStagesMax}: split it`,
        );
      }
      return stageStarts.length === 0 ? await this.#transfersInOrder(body) : await this.#transfersInStages(body, stageStarts);
    } finally {
      if (releaseJudged !== null) void this.#creditsLanded(judged!.shards).finally(releaseJudged);
    }
  }

  /**
   * Like a read, a transfer waits for the credits answered before it where one shard's answer depends on them
   * (issue #14): a reversal finds its original on its own shard, the original's payee's, once the original's credit
   * landed there (item 9); a no-overdraft payer spends a credit answered to it (item 11, across requests). And for
   * the close or credit block of an account it pays. At once when none is on its way; before taking its place in
   * the start order, so it holds no other request back.
   */
  async #readyToStart(body: Uint8Array): Promise<void> {
    await this.#creditsLanded(this.#shardsToAwait(body));
    if (this.#fences.size > 0) {
      const waits = payeesOf(body).flatMap((key) => this.#fences.get(key) ?? []);
      if (waits.length > 0) await Promise.all(waits);
    }
  }

  /**
   * Requests start in the order they got here, whichever shard answers their question about ids first (and a
   * request held for an id in flight holds the ones behind it): the shards see them in arrival order, as without
   * the question (test/property/coalescing.property.test.ts compares with the frames sent one by one). Await
   * `previousStarted`, hand the parts over, then call `started`.
   */
  #takeStartPlace(): { previousStarted: Promise<void>; started: () => void } {
    const previousStarted = this.#lastStarted;
    let started!: () => void;
    this.#lastStarted = new Promise<void>((resolve) => (started = resolve));
    return { previousStarted, started };
  }

  /** A transfer request once its capped payees' turn came: the waits for credits, the questions, the start order, the run. */
  async #transfersInOrder(body: Uint8Array): Promise<Uint8Array> {
    await this.#readyToStart(body);
    const { previousStarted, started } = this.#takeStartPlace();
    let marked: { body: Uint8Array; release: () => void };
    let run: Promise<Uint8Array>;
    try {
      const plan = planRoute(WireOperation.create_transfers, body, this.#hosts.length);
      // Refused now when it would be at admission: the shards are not asked about ids for a request they cannot take.
      if (this.#hosts.length > 1) this.#refuseIfFull(WireOperation.create_transfers, plan);
      // Both questions at once: references another shard holds (posts, voids, reversals named with the wrong
      // accounts) are asked about only when the request names any.
      const verdictsAsked = this.#verdictsElsewhere.verdicts(body);
      verdictsAsked.catch(() => {}); // awaited below, once the ids are marked (or their question failed)
      marked = await this.#idsElsewhere.mark(body);
      let verdicts: ReadonlyMap<number, EventVerdict>;
      try {
        verdicts = await verdictsAsked;
      } catch (error) {
        marked.release();
        throw error;
      }
      const toRun = withRouterVerdicts(marked.body, verdicts);
      await previousStarted;
      // Its parts are handed to the shards (coalescers) synchronously, before the next request may start. The plan
      // holds unless an event was marked (then the body is a marked copy, planned again).
      run = this.#execute(WireOperation.create_transfers, toRun, toRun === body ? plan : undefined);
    } finally {
      started();
    }
    this.#transfersInFlight.add(run);
    try {
      return await run;
    } finally {
      this.#transfersInFlight.delete(run);
      marked.release();
    }
  }

  /**
   * A transfer request whose later events depend, through another shard, on earlier ones (request-stages.ts): run in
   * stages, one after another, each once the credits of the stages before have landed on the shards it touches, so that
   * every event sees what one shard would show it. It takes its place in the start order for its first stage only:
   * holding it for all (a stage costs a round trip and the relay's lag) would let one request of many stages stall
   * every caller, so later requests may run between two stages, as between two requests (cross-shard requests are
   * not atomic to concurrent callers anyway). It holds its ids from the start, as a whole request does; the
   * other shards are asked about references per stage (a stage may name what an earlier one made). A later stage
   * that fails leaves the earlier ones applied: the caller hears shard_unavailable (outcome unknown: resend the
   * request, its ids make that safe), never a refusal that says nothing was done.
   */
  async #transfersInStages(body: Uint8Array, stageStarts: readonly number[]): Promise<Uint8Array> {
    await this.#readyToStart(body);
    const { previousStarted, started } = this.#takeStartPlace();
    let marked: { body: Uint8Array; release: () => void } | null = null;
    // In flight as one request from here: a close of an account it pays waits for all its stages.
    let inFlightEnd!: () => void;
    const inFlight = new Promise<void>((resolve) => (inFlightEnd = resolve));
    this.#transfersInFlight.add(inFlight);
    try {
      marked = await this.#idsElsewhere.mark(body);
      await previousStarted;
      const bounds = [0, ...stageStarts, body.byteLength / eventBytes];
      const results = new Uint8Array((body.byteLength / eventBytes) * resultBytes);
      for (let stage = 0; stage + 1 < bounds.length; stage++) {
        const from = bounds[stage]! * eventBytes;
        const to = bounds[stage + 1]! * eventBytes;
        const run = (): Promise<Uint8Array> => this.#stage(body.slice(from, to), marked!.body.slice(from, to), stage > 0, stage === 0 ? started : null);
        const reply = stage === 0 ? await run() : await this.#laterStage(run, stage, bounds.length - 1);
        results.set(reply, (from / eventBytes) * resultBytes);
      }
      return results;
    } finally {
      started();
      marked?.release();
      this.#transfersInFlight.delete(inFlight);
      inFlightEnd();
    }
  }

  /**
   * One stage of a staged request (its caller's events, and the same with the ids marks): after the credits of the
   * stages before it landed on the shards it touches, asked about references elsewhere, then run. `started`: called once
   * its parts are with the shards (the first stage: later requests may start).
   */
  async #stage(callerPart: Uint8Array, markedPart: Uint8Array, afterOthers: boolean, started: (() => void) | null): Promise<Uint8Array> {
    // Every credit of the stages before has landed on the shards this one touches: what its rule needs (a payer's
    // money, a reversal's original, a capped payee's room), and the order of those accounts' histories.
    if (afterOthers) await this.#creditsLanded(shardsTouched(callerPart, this.#hosts.length));
    const toRun = withRouterVerdicts(markedPart, await this.#verdictsElsewhere.verdicts(callerPart));
    const run = this.#execute(WireOperation.create_transfers, toRun);
    started?.();
    return run;
  }

  /** A stage after the first: refused (overloaded) it is tried again a while, as nothing of it ran; failed, the request is partly applied. */
  #laterStage(run: () => Promise<Uint8Array>, stage: number, stages: number): Promise<Uint8Array> {
    return runLaterPart(run, `stage ${stage + 1} of ${stages}`, () => this.#shutdown.begun);
  }

  /** Once the credits answered before now have landed on each of `shards` (or creditsLandingWaitMsMax passed, as for a read). */
  async #creditsLanded(shards: readonly number[]): Promise<void> {
    if (this.#hosts.length === 1) return;
    for (const shard of shards) await this.#transit.landedOn(shard, creditsLandingWaitMsMax);
  }

  /** The shards whose credits in flight a transfer body must wait for (ascending; usually none). */
  #shardsToAwait(body: Uint8Array): number[] {
    if (this.#hosts.length === 1) return [];
    const reversals = shardsOfEvents(body, this.#hosts.length, TransferLayout.debitAccountId, isReversalAt);
    const payers = this.#payerCredits?.shardsToAwait(body) ?? [];
    if (payers.length === 0) return reversals;
    if (reversals.length === 0) return payers;
    return [...new Set([...reversals, ...payers])].sort((a, b) => a - b);
  }

  /**
   * A close or credit block, in two steps, so that no credit is ever on its way to the account when it changes
   * (a credit landing after a close would come back `returned`, an `ok` undone): transfers that pay the accounts
   * wait from now; transfers answered before are waited for, and their credits to land; then the operation runs
   * and the directory takes its result. One shard gives the same answers: the credits came first.
   */
  async #fenced(accounts: readonly { key: string; shard: number }[], operation: () => Promise<Uint8Array>): Promise<Uint8Array> {
    let release!: () => void;
    const end = new Promise<void>((resolve) => (release = resolve));
    const previous = accounts.flatMap(({ key }) => this.#fences.get(key) ?? []);
    for (const { key } of accounts) this.#fences.set(key, end);
    try {
      await Promise.all(previous);
      await Promise.allSettled([...this.#transfersInFlight]);
      for (const shard of new Set(accounts.map((a) => a.shard))) {
        if (!(await this.#transit.landedOn(shard, creditsLandingWaitMsMax))) {
          throw errors.overloaded(`credits on their way to shard ${shard} did not land within ${creditsLandingWaitMsMax} ms; the account operations were not applied`);
        }
      }
      return await operation();
    } finally {
      for (const { key } of accounts) if (this.#fences.get(key) === end) this.#fences.delete(key);
      release();
    }
  }

  async #execute(operation: number, body: Uint8Array, planned?: RoutePlan): Promise<Uint8Array> {
    if (this.#shutdown.begun) throw errors.shuttingDown();
    const plan = planned ?? planRoute(operation, body, this.#hosts.length);
    this.#admit(operation, plan);
    if (plan.crossChains === null) return mergeReplies(plan, await Promise.all(plan.requests.map((request) => this.#run(operation, request, plan.eventCount))));
    // Counted from here, before any part runs: one refused is refused whole, and the coordinator's queue
    // (one group decides at a time, each request holding its body) stays bounded.
    if (this.#chainRequests >= chainRequestsQueuedMax) throw errors.overloaded(`${this.#chainRequests} requests with chains across shards are in progress (chainRequestsQueuedMax)`);
    this.#chainRequests++;
    try {
      const replies = await Promise.all(plan.requests.map((request) => this.#run(operation, request, plan.eventCount)));
      // The chains' credit halves land with their commit, ahead of any instruction still on its way to those shards:
      // the credits answered before (this request's other events' among them) land first, as one shard orders them
      // (a post finds the hold it closes shown, a payee's history keeps request order).
      if (operation === WireOperation.create_transfers) await this.#creditsLanded(shardsTouched(body, this.#hosts.length));
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

  /** Transfer requests that shared a joint batch since start, and the joint batches (GET /metrics). */
  coalescingStats(): { joinedRequests: number; jointBatches: number } {
    const all = this.#coalescers ?? [];
    return { joinedRequests: all.reduce((n, c) => n + c.joinedRequests, 0), jointBatches: all.reduce((n, c) => n + c.jointBatches, 0) };
  }

  /** Per-shard write latency and events, for GET /metrics. */
  observeShardWrites(observer: ShardWriteObserver): void {
    this.#shardWrites = observer;
  }

  /** One shard's part of a request: a read, or a write (joined with others when it can be: transfer-coalescer.ts). */
  async #run(operation: number, request: ShardRequest, eventCount: number): Promise<Uint8Array> {
    const shard = request.shard;
    if (!isWriteOperation(operation)) {
      // A read shows what every `ok` before it did: the credits answered for are on their way to this shard, and it
      // waits for them to land (at once when none is; under full load up to the relay's lag). When the shard cannot
      // take them now (a delivery failed: a full disk, a worker restarting) or they are later than
      // creditsLandingWaitMsMax, it answers with what the shard holds: reads go on while writes cannot.
      await this.#transit.landedOn(shard, creditsLandingWaitMsMax);
      return this.#hosts[shard]!.run(operation, request.body, request.bodyTransferable);
    }
    const startedMs = performance.now();
    const events = eventsOf(request, eventCount);
    let reply: Uint8Array;
    try {
      const joins = this.#coalescers !== null && operation === WireOperation.create_transfers;
      reply = joins ? await this.#coalescers![shard]!.submit(request.body, request.bodyTransferable) : await this.#runWrite(shard, operation, request.body, request.bodyTransferable);
    } finally {
      // Answered or failed: released once; its instructions are with the relay by now (#runWrite), so at worst
      // counted twice for a moment, never not at all.
      this.#release(operation, shard, events);
    }
    this.#shardWrites?.(shard, (performance.now() - startedMs) / 1000, events);
    return reply;
  }

  /**
   * A write part (alone or joint) on `shard`: the cross-shard instructions its reply carries after the results go
   * to the relay, once; the caller gets the results.
   */
  async #runWrite(shard: number, operation: number, body: Uint8Array, transferable: boolean): Promise<Uint8Array> {
    // Read before the run: a body handed over to the worker is detached (empty) after.
    const resultsBytes = (body.byteLength / eventBytes) * resultBytes;
    const reply = await this.#hosts[shard]!.run(operation, body, transferable);
    assert(reply.byteLength >= resultsBytes, 'a write reply holds a result per event, then its instructions');
    if (reply.byteLength > resultsBytes) this.#transit.onOutbound(shard, reply.subarray(resultsBytes));
    return reply.subarray(0, resultsBytes);
  }

  /**
   * Refuses the whole request before any part runs when one of its shards is full, or (transfers) when one
   * of its shards has so many instructions waiting for receivers that its own outbox could fill before the
   * part runs: overload never leaves a request applied on some shards only. Admitted transfer parts reserve
   * one instruction per event until answered.
   */
  #admit(operation: number, plan: RoutePlan): void {
    this.#refuseIfFull(operation, plan);
    if (operation !== WireOperation.create_transfers) return;
    for (const request of plan.requests) this.#outboundReserved[request.shard]! += eventsOf(request, plan.eventCount);
  }

  /** Refuses `plan` (overloaded) when one of its shards is full, or (transfers) has too many instructions waiting. */
  #refuseIfFull(operation: number, plan: RoutePlan): void {
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

/**
 * The accounts an account_operations body closes or blocks for credits: the changes that would refuse a credit
 * already on its way (an unblock refuses none, so it needs no fence).
 */
function payeeChangesOf(body: Uint8Array, shardCount: number): { key: string; shard: number }[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const changes: { key: string; shard: number }[] = [];
  for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) {
    if ((payeeStatusChangeAt(view, at)?.set ?? 0) === 0) continue;
    changes.push({ key: idKeyAt(view, at + AccountOperationLayout.accountId), shard: shardOfIdAt(view, at + AccountOperationLayout.accountId, shardCount) });
  }
  return changes;
}

/** The shards (ascending) of the accounts at `accountAt` of the events of `body` that `matches` picks; usually none. */
function shardsOfEvents(body: Uint8Array, shardCount: number, accountAt: number, matches: (view: DataView, at: number) => boolean): number[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let shards: Set<number> | null = null;
  for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) if (matches(view, at)) (shards ??= new Set()).add(shardOfIdAt(view, at + accountAt, shardCount));
  return shards === null ? [] : [...shards].sort((a, b) => a - b);
}

/** The shards (ascending) of the accounts a create_transfers body debits or credits. */
function shardsTouched(body: Uint8Array, shardCount: number): number[] {
  const every = (): boolean => true;
  const shards = new Set([...shardsOfEvents(body, shardCount, TransferLayout.debitAccountId, every), ...shardsOfEvents(body, shardCount, TransferLayout.creditAccountId, every)]);
  return [...shards].sort((a, b) => a - b);
}

/** A reversal runs on its debit account's shard, the original's payee's. */
const isReversalAt = (view: DataView, at: number): boolean => (view.getUint16(at + TransferLayout.flags, true) & transferKindFlags) === TransferFlags.reversal;
const isFreezeAt = (view: DataView, at: number): boolean => view.getUint16(at + AccountOperationLayout.kind, true) === AccountOperationKind.freeze;

/** The credit accounts a create_transfers body names, as id keys. */
function payeesOf(body: Uint8Array): string[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const keys: string[] = [];
  for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) keys.push(idKeyAt(view, at + TransferLayout.creditAccountId));
  return keys;
}

/** Whether a write that failed with `error` may still have been applied on some shard (its outcome is unknown). */
function mayHaveApplied(error: unknown): boolean {
  return !(error instanceof TallyError) || error.code === ErrorCode.shard_unavailable || error.code === ErrorCode.storage_failed;
}
