// The ledger service over N shards (LedgerService, structurally): splits each request by owning shard,
// runs the parts concurrently, merges the replies in request order. Owns the hosts' lifecycle.
// A request spanning shards is not atomic across them; each linked chain is (one spanning shards goes
// through the chain coordinator, after the request's other events).

import { BusinessCalendar, parseDayCutSchedule } from '../../core/business-day.js';
import { errors } from '../../core/errors.js';
import { AccountLayout, TransferLayout, resultBytes } from '../../core/layout.js';
import { chainRequestsQueuedMax, eventBytes, eventsPerSecondMax, hotApplyIntervalMsMax, shardCountMax, shardStatusWaitMsMax, snapshotBarrierMsMax, snapshotPathCharsMax } from '../../core/limits.js';
import { onlyFields, parseAdminJson, stringField } from '../../core/wire/admin-bodies.js';
import { routeHotDebits } from '../../core/hot/hot-outbound.js';
import { AccountRateLimiter, mergeAccountRateReply } from '../../core/rate-limits/account-rate-limit.js';
import { decodeIds } from '../../core/wire/records.js';
import { ResultCode } from '../../core/result-codes.js';
import { AccountFlags } from '../../core/types.js';
import { readU128 } from '../../core/u128.js';
import { Operation, isBooksOperation, isWriteOperation } from '../../core/operations.js';
import { shardOfIdAt } from '../../core/routing.js';
import { BookkeepingHost } from '../bookkeeping/bookkeeping-host.js';
import { ChainCoordinator, type ChainStats } from '../chains/chain-coordinator.js';
import { ChainLog } from '../chains/chain-log.js';
import { DayQuery } from '../shard/day-book.js';
import { mergeReplies, planRoute, type RoutePlan, type ShardRequest } from '../../core/wire/route-plan.js';
import type { ShardDayClose } from '../../core/books/day-close.js';
import type { InFlightAmount } from '../../core/books/day-report.js';
import { HotOutboundKeeper, hotOutboundAccountsIn, hotOutboundDefault, type HotOutboundOptions, type HotOutboundStats } from './hot-outbound-keeper.js';
import { ShardHost } from '../shard/shard-host.js';
import { SnapshotRunner, type SnapshotStatus } from '../snapshots/snapshot-host.js';
import { ShardControl, cutDayBody, hotInboundDefault, type HotInboundOptions, type HotInboundShardStatus } from '../shard/shard-messages.js';
import { TransitRelay, type TransitRelayOptions, type TransitStats } from '../relay/transit-relay.js';
import type { HotInboundStats } from '../../core/hot/hot-inbound-stats.js';

/** Longest the day scheduler sleeps before looking at the clock again. */
const dayScheduleRecheckMsMax = 3_600_000;

/** Reconcile rounds a day cut waits for the relay to hold every instruction issued before it (each fetches up to a delivery's worth per pair). */
const dayCutReconcileRoundsMax = 1000;

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
  readonly bookkeeping: BookkeepingHost;
  readonly chains: ChainCoordinator;
  /** Slices of hot-outbound accounts: refills, timed compensation, routing of their debits. */
  readonly hotOutbound: HotOutboundKeeper;
  readonly #chainLog: ChainLog;
  #closed: Promise<void> | null = null;
  #dayTimer: ReturnType<typeof setTimeout> | null = null;
  /** Online snapshots (tally snapshot): set by startShards, which knows the data directory. */
  #snapshots: SnapshotRunner | null = null;
  /** Told of every shard's part of a write (GET /metrics: per-shard latency and posting rate). */
  #shardWrites: ((shard: number, seconds: number, events: number) => void) | null = null;
  /** Day closings and snapshot barriers run one at a time: a cut never straddles a snapshot's cut. */
  #exclusive: Promise<void> = Promise.resolve();
  /** The last day report this process produced or read back, and how many failed since start (a signal for monitoring). */
  #days = { lastClosedDay: 0, lastReportPassed: null as boolean | null, failedReports: 0 };

  /** The per-account rate limit on create_transfers, or null when off. */
  readonly #accountRate: AccountRateLimiter | null;
  /** Per shard, its status probe in flight: callers meanwhile share it, so a shard that never answers holds one. */
  readonly #statusProbes: (Promise<HotInboundShardStatus> | null)[];
  /** What close() is waiting for now (null before close and once closed): named if a shutdown overruns. */
  #closingStep: string | null = null;
  /** Requests with chains across shards, from admission to answer (at most chainRequestsQueuedMax). */
  #chainRequests = 0;

  constructor(hosts: readonly ShardHost[], transit: TransitRelay, bookkeeping: BookkeepingHost, chains: ChainCoordinator, chainLog: ChainLog, hotOutbound: HotOutboundOptions = hotOutboundDefault, accountRate = 0) {
    this.#accountRate = accountRate === 0 ? null : new AccountRateLimiter(accountRate);
    this.shardCount = hosts.length;
    this.hotOutbound = new HotOutboundKeeper(
      (operation, body) => this.#execute(operation, body),
      (shard, body) => this.#openSlices(shard, body),
      hosts.length,
      hotOutbound,
    );
    this.hosts = hosts;
    this.transit = transit;
    this.bookkeeping = bookkeeping;
    this.chains = chains;
    this.#chainLog = chainLog;
    this.#statusProbes = hosts.map(() => null);
  }

  /** Resolves with the reply body (durable, for writes); rejects with a TallyError. */
  async execute(operation: number, body: Uint8Array): Promise<Uint8Array> {
    if (this.#closed !== null) throw errors.shuttingDown();
    if (operation === Operation.create_transfers && this.#accountRate !== null) return this.#accountRateLimited(body);
    if (isBooksOperation(operation)) return this.#books(operation, body);
    if (operation === Operation.start_snapshot || operation === Operation.get_snapshot_status) return this.#snapshot(operation, body);
    if (operation === Operation.create_accounts) return this.#createAccounts(body);
    if (operation === Operation.create_transfers && this.hotOutbound.routes.size > 0) return this.#createTransfers(body);
    if (operation === Operation.lookup_accounts && this.hotOutbound.routes.size > 0) return this.#withSliceBalances(await this.#execute(operation, body));
    return this.#execute(operation, body);
  }

  /**
   * The per-account limit: events past it are answered `rate_limited` here and never reach a shard, so they
   * are not remembered as failed ids (a retry later can succeed); the rest of the batch goes on.
   */
  async #accountRateLimited(body: Uint8Array): Promise<Uint8Array> {
    const limited = this.#accountRate!.admit(body, Date.now());
    const admitted = limited === null ? body : limited.admitted;
    const post = (events: Uint8Array) => (this.hotOutbound.routes.size > 0 ? this.#createTransfers(events) : this.#execute(Operation.create_transfers, events));
    const reply = admitted === null ? null : await post(admitted);
    return limited === null ? reply! : mergeAccountRateReply(limited, reply);
  }

  /** Hot-outbound accounts get their slices before they exist, and their debits are routed once they do. */
  async #createAccounts(body: Uint8Array): Promise<Uint8Array> {
    const hot = hotOutboundAccountsIn(body);
    if (hot.length === 0) return this.#execute(Operation.create_accounts, body);
    await this.hotOutbound.openSlices(hot);
    const reply = await this.#execute(Operation.create_accounts, body);
    // Registered whether created now or before (a retry answers exists): the flag is the account's for good.
    await this.hotOutbound.register(hot.map((a) => a.id));
    return reply;
  }

  /** Debits of hot-outbound accounts go to the payee's shard's slice; a slice out of money asks for a refill. */
  async #createTransfers(body: Uint8Array): Promise<Uint8Array> {
    const routed = routeHotDebits(body, this.shardCount, this.hotOutbound.routes);
    const reply = await this.#execute(Operation.create_transfers, routed.body);
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const replyView = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
    for (const i of routed.rewritten) {
      if (replyView.getUint16(i * resultBytes, true) !== ResultCode.insufficient_funds) continue;
      const at = i * eventBytes;
      this.hotOutbound.starved(readU128(view, at + TransferLayout.debitAccountId), shardOfIdAt(view, at + TransferLayout.creditAccountId, this.shardCount));
    }
    return reply;
  }

  /** A hot-outbound account's lookup also shows the money its slices hold (available = its own + that). */
  async #withSliceBalances(reply: Uint8Array): Promise<Uint8Array> {
    const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
    const hot: number[] = [];
    for (let at = 0; at + eventBytes <= reply.byteLength; at += eventBytes) {
      if ((view.getUint16(at + AccountLayout.flags, true) & AccountFlags.hot_outbound) !== 0) hot.push(at);
    }
    if (hot.length === 0) return reply;
    const balances = await this.hotOutbound.sliceBalances(hot.map((at) => readU128(view, at + AccountLayout.id)));
    hot.forEach((at, i) => view.setBigUint64(at + AccountLayout.sliceBalances, balances[i]!, true));
    return reply;
  }

  /** The slice keeper's own accounts: straight to their shard, the one path into the slice id range. */
  async #openSlices(shard: number, body: Uint8Array): Promise<Uint8Array> {
    if (this.#closed !== null) throw errors.shuttingDown();
    return this.hosts[shard]!.runInternal(ShardControl.openSlices, body, true);
  }

  async #execute(operation: number, body: Uint8Array): Promise<Uint8Array> {
    if (this.#closed !== null) throw errors.shuttingDown();
    const plan = planRoute(operation, body, this.shardCount);
    this.#admit(plan);
    if (plan.crossChains === null) return mergeReplies(plan, await Promise.all(plan.requests.map((r) => this.#run(operation, r, plan.eventCount))));
    // Counted from here, before any part runs: one refused is refused whole, and the coordinator's queue
    // (one group decides at a time, each request holding its body) stays bounded.
    if (this.#chainRequests >= chainRequestsQueuedMax) throw errors.overloaded(`${this.#chainRequests} requests with chains across shards are in progress (chainRequestsQueuedMax)`);
    this.#chainRequests++;
    try {
      const replies = await Promise.all(plan.requests.map((r) => this.#run(operation, r, plan.eventCount)));
      await this.chains.run(operation, body, plan.crossChains, plan.results!);
      return mergeReplies(plan, replies);
    } finally {
      this.#chainRequests--;
    }
  }

  /**
   * The day cut on every shard (日切): shard 0 begins the next business day (or `day`), then every other
   * shard begins the same day. Each answers the summary of the day that ended (idempotent: a retry or a
   * shard already past the day answers the stored summary). Postings go on throughout.
   */
  async cutDay(day = 0): Promise<ShardDayClose[]> {
    if (this.#closed !== null) throw errors.shuttingDown();
    const first = parseDayClose(await this.hosts[0].runInternal(ShardControl.cutDay, cutDayBody(day, false), true));
    // The others take the day shard 0 began as it is: shard 0 checked it against the calendar and its day.
    const rest = await Promise.all(this.hosts.slice(1).map((host) => host.runInternal(ShardControl.cutDay, cutDayBody(first.dayBegun, true), true)));
    return [first, ...rest.map(parseDayClose)];
  }

  /**
   * Closes the business day everywhere and returns its day report (JSON text, core/books/day-report.ts): the
   * cut on every shard, then the bookkeeping shard's checks once it has booked every shard through its
   * cut. A report is stored once and never changes; closing an already closed day returns it.
   */
  async closeDayReport(day = 0): Promise<string> {
    // Only the cut itself excludes a snapshot barrier: the report is built from what the cut stored, and
    // waits for the bookkeeper, which may take long (a restored directory rebuilds a missing report at start).
    const { closes, inFlight } = await this.#serially(() => this.closeDay(day));
    const text = await this.bookkeeping.dayReport(closes, inFlight);
    const report = JSON.parse(text) as { day: number; passed: boolean };
    if (report.day >= this.#days.lastClosedDay) this.#days = { ...this.#days, lastClosedDay: report.day, lastReportPassed: report.passed };
    if (!report.passed) this.#days.failedReports++;
    return text;
  }

  /** Runs `task` after every day closing or snapshot barrier before it. */
  #serially<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#exclusive.then(task);
    this.#exclusive = result.then(noop, noop);
    return result;
  }

  /** Starts an online snapshot into `out` (absolute, absent or empty); progress through snapshotStatus(). */
  startSnapshot(out: string): SnapshotStatus {
    if (this.#closed !== null) throw errors.shuttingDown();
    if (this.#snapshots === null) throw errors.operationUnknown('start_snapshot (this shard set has no data directory to snapshot)');
    return this.#snapshots.start(out);
  }

  /** The snapshot in progress, or the last one; null when none ran since start. */
  snapshotStatus(): SnapshotStatus | null {
    return this.#snapshots?.status() ?? null;
  }

  /** Once the snapshot in progress (if any) has ended: the last one's status. */
  async snapshotSettled(): Promise<SnapshotStatus | null> {
    await this.#snapshots?.settled();
    return this.snapshotStatus();
  }

  /** Lets snapshots be taken of `dataDir` (called once by startShards). */
  attachSnapshots(dataDir: string): void {
    this.#snapshots ??= new SnapshotRunner(dataDir, this.shardCount, (whileHeld) => this.#serially(() => this.#barrier(whileHeld)));
  }

  async #snapshot(operation: number, body: Uint8Array): Promise<Uint8Array> {
    const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
    if (operation === Operation.get_snapshot_status) return json(this.snapshotStatus());
    // Like every admin body: a misspelt or extra field is refused, never ignored.
    const request = parseAdminJson(body, 'start_snapshot');
    onlyFields(request, ['out'], 'start_snapshot');
    return json(this.startSnapshot(stringField(request, 'out', snapshotPathCharsMax, true, 'start_snapshot')));
  }

  /**
   * The snapshot barrier: one instant across all shards. Chain groups pause (none stays prepared), every
   * shard holds its turn once its journal is durable, `whileHeld` runs (the copier opens its read
   * transactions), then all are released. Cross-shard credits cannot be ahead of their debits at such an
   * instant: a credit is sent only once its debit is durable, and both shards stood still.
   */
  async #barrier(whileHeld: () => Promise<void>): Promise<{ seqs: number[]; heldMs: number; cutAt: string }> {
    const resumeChains = await this.chains.pause();
    const holds = this.hosts.map((host) => host.runInternal(ShardControl.holdTurn, new Uint8Array(0), false));
    const release = (): Promise<unknown> => Promise.all(this.hosts.map((host) => host.runInternal(ShardControl.releaseTurn, new Uint8Array(0), false).catch(noop)));
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
      return { seqs, heldMs: Math.round((performance.now() - heldAtMs) * 1000) / 1000, cutAt };
    } finally {
      await release();
      // A hold still queued when the barrier gave up takes the turn later: release it once it has.
      void Promise.allSettled(holds).then(release);
      resumeChains();
    }
  }

  /** The last closed day and whether its report passed; failed reports since start. */
  daysStatus(): { lastClosedDay: number; lastReportPassed: boolean | null; failedReports: number } {
    return { ...this.#days };
  }

  async #books(operation: number, body: Uint8Array): Promise<Uint8Array> {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value ?? null));
    switch (operation) {
      case Operation.close_day:
        return new TextEncoder().encode(await this.closeDayReport(body.byteLength === 0 ? 0 : view.getUint32(0, true)));
      case Operation.get_day_report:
        return new TextEncoder().encode((await this.bookkeeping.report(view.getUint32(0, true))) ?? 'null');
      case Operation.get_balance_at_day:
      case Operation.get_account_statement: {
        const shard = shardOfIdAt(view, 0, this.shardCount);
        const query = operation === Operation.get_balance_at_day ? DayQuery.balanceAtDay : DayQuery.statement;
        return this.hosts[shard].run(query, body, false);
      }
      case Operation.get_subject_balances:
        return json(await this.bookkeeping.subjectBalances(view.getUint32(0, true), dayOrAll(view.getUint32(4, true))));
      case Operation.get_trial_balance:
        return json(await this.bookkeeping.trialBalance(view.getUint32(0, true), dayOrAll(view.getUint32(4, true))));
      case Operation.get_bookkeeping_status:
        return json(await this.bookkeeping.status());
      default:
        throw errors.operationUnknown(operation);
    }
  }

  /**
   * The day cut with the transit it leaves behind: deliveries pause (receivers' marks stand still), every
   * shard cuts, the relay fetches every instruction issued before the cuts, and the money still between
   * shards at the cut is summed per ledger and pair; then deliveries resume. Shards keep posting.
   */
  async closeDay(day = 0): Promise<{ closes: ShardDayClose[]; inFlight: InFlightAmount[] }> {
    await this.transit.pause();
    try {
      const closes = await this.cutDay(day);
      const issued = closes.map((c) => Float64Array.from(c.transitIssued));
      const applied = closes.map((c) => Float64Array.from(c.transitApplied));
      for (let round = 0; !this.#relayHolds(issued); round++) {
        if (round >= dayCutReconcileRoundsMax) throw errors.shardUnavailable(0, 'transit instructions issued before the cut could not all be fetched');
        await this.transit.reconcile();
      }
      return { closes, inFlight: this.transit.inFlightAt(issued, applied) };
    } finally {
      this.transit.resume();
    }
  }

  #relayHolds(issued: readonly Float64Array[]): boolean {
    for (let from = 0; from < this.shardCount; from++) {
      for (let to = 0; to < this.shardCount; to++) if (from !== to && this.transit.queuedThrough(from, to) < issued[from]![to]!) return false;
    }
    return true;
  }

  /** Tasks queued or running per shard. */
  shardLoad(): { shard: number; tasksOutstanding: number }[] {
    return this.hosts.map((host) => ({ shard: host.shardIndex, tasksOutstanding: host.tasksOutstanding }));
  }

  /** Entries per shard the bookkeeping shard has not booked yet. */
  async bookkeepingLag(): Promise<{ shard: number; lag: number }[]> {
    return (await this.bookkeeping.status()).map(({ shard, lag }) => ({ shard, lag }));
  }

  /** Cross-shard chains decided since start. */
  chainStats(): ChainStats {
    return this.chains.stats();
  }

  /** Hot-outbound accounts and what their slice keeper did since start. */
  hotOutboundStats(): HotOutboundStats {
    return this.hotOutbound.stats();
  }

  /**
   * Hot-inbound accounts of every shard: buffers now, credits applied, and how long they waited. Each shard
   * answers on its control lane without waiting its turn; one that has not answered within
   * shardStatusWaitMsMax (a worker replaying, or wedged) is named in `shardsNotAnswering` and left out of
   * the sums, so this never waits longer than that.
   */
  async hotInboundStats(): Promise<HotInboundStats> {
    const answers = await Promise.all(this.hosts.map((host) => withinMs(this.#statusProbe(host), shardStatusWaitMsMax)));
    const shards = answers.filter((answer): answer is HotInboundShardStatus => answer !== null);
    return {
      shardsNotAnswering: answers.flatMap((answer, shard) => (answer === null ? [shard] : [])),
      accounts: shards.reduce((sum, s) => sum + s.accounts, 0),
      creditsBuffered: shards.reduce((sum, s) => sum + BigInt(s.creditsBuffered), 0n).toString(),
      creditsBufferedCount: shards.reduce((sum, s) => sum + s.creditsBufferedCount, 0),
      creditsApplied: shards.reduce((sum, s) => sum + s.creditsApplied, 0),
      // Per shard the recent percentiles; across shards the worst one (a bound, not a blend).
      delayMsP50: Math.max(0, ...shards.map((s) => s.delayMsP50)),
      delayMsP99: Math.max(0, ...shards.map((s) => s.delayMsP99)),
      delayMsMax: Math.max(0, ...shards.map((s) => s.delayMsMax)),
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

  /** Cross-shard instructions in flight and how long credits take to land. */
  transitStats(): TransitStats {
    return this.transit.stats();
  }

  /** Stops every shard after its appends drain. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  /**
   * Cuts every business day at the calendar's cut instant (and at once when the shards' day is behind the
   * calendar, e.g. after the server was down over a cut), producing and logging each day's report.
   */
  scheduleDays(calendar: BusinessCalendar, log: (line: string) => void = (line) => console.error(line)): void {
    const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
    const failed = (what: string) => (error: unknown): void => {
      if (this.#closed === null) log(JSON.stringify({ level: 'error', msg: what, error: String(error) })); // a cut cut short by shutdown is retried at the next start
    };
    const cut = async (): Promise<void> => {
      const text = await this.closeDayReport(calendar.dayOf(nowNs()));
      const report = JSON.parse(text) as { day: number; passed: boolean; failures: string[] };
      log(JSON.stringify({ level: report.passed ? 'info' : 'error', msg: 'day closed', day: report.day, passed: report.passed, failures: report.failures }));
    };
    const arm = (): void => {
      if (this.#closed !== null) return;
      const untilNextMs = Number((calendar.nextCutAfterNs(nowNs()) - nowNs()) / 1_000_000n) + 1;
      // Re-armed at least hourly: a timer is not a clock (sleep, clock steps).
      this.#dayTimer = setTimeout(() => {
        void cut().catch(failed('scheduled day cut failed')).finally(arm);
      }, Math.min(untilNextMs, dayScheduleRecheckMsMax));
      this.#dayTimer.unref();
    };
    void cut().catch(failed('day cut at start failed')).finally(arm);
  }

  /** What close() waits for now, or null when it is not closing (or has closed): a shutdown that overruns names it. */
  closingStep(): string | null {
    return this.#closingStep;
  }

  async #close(): Promise<void> {
    if (this.#dayTimer !== null) clearTimeout(this.#dayTimer);
    const step = async (name: string, run: () => Promise<unknown>): Promise<void> => {
      this.#closingStep = name;
      await run();
    };
    await step('the snapshot in progress', async () => this.#snapshots?.settled()); // its copier reads the stores closed below
    await step('the hot-outbound round in flight', () => this.hotOutbound.stop()); // its transfers are ordinary requests
    await step('the chain group in progress', () => this.chains.close()); // no shard stays prepared by this process
    this.transit.stop();
    await step('the bookkeeping worker', () => this.bookkeeping.close());
    const open = new Set(this.hosts.map((host) => host.shardIndex));
    const closingShards = (): string => `closing shards ${[...open].join(', ')} (each drains its appends and closes its journal)`;
    await step(closingShards(), () =>
      Promise.all(
        this.hosts.map(async (host) => {
          await host.close();
          open.delete(host.shardIndex);
          this.#closingStep = closingShards();
        }),
      ),
    );
    await step('the chain decision log', () => this.#chainLog.close());
    this.#closingStep = null;
  }

  /** Per-shard write latency and events, for GET /metrics. */
  observeShardWrites(observer: (shard: number, seconds: number, events: number) => void): void {
    this.#shardWrites = observer;
  }

  /** A write's reply carries the cross-shard instructions it issued after its results: they go to the relay. */
  async #run(operation: number, request: ShardRequest, eventCount: number): Promise<Uint8Array> {
    const startedMs = performance.now();
    const reply = await this.hosts[request.shard].run(operation, request.body, request.bodyTransferable);
    if (!isWriteOperation(operation)) return reply;
    const events = request.indexes?.length ?? eventCount;
    this.#shardWrites?.(request.shard, (performance.now() - startedMs) / 1000, events);
    const resultsBytes = events * resultBytes;
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
      const { cutTime, timeZone } = options.dayCut ?? dayCutDefault;
      const hotInbound = options.hotInbound ?? hotInboundDefault;
      hosts.push(new ShardHost({ dataDir: options.dataDir, shardIndex, shardCount: options.shardCount, dayCut: { cutTime, timeZone }, hotInbound }));
    }
    await Promise.all(hosts.map((host) => host.ready()));
  } catch (error) {
    await closeAll(hosts);
    throw error;
  }
  const transit = new TransitRelay(hosts, options.transit);
  const chainLog = await ChainLog.open(options.dataDir).catch(async (error: unknown) => {
    await closeAll(hosts);
    throw error;
  });
  const chains = new ChainCoordinator(hosts, chainLog, (shard, instructions) => transit.onOutbound(shard, instructions));
  try {
    await chains.recover(); // a shard whose journal ends with a vote holds its turn until it learns the decision
  } catch (error) {
    await closeAll(hosts);
    await chainLog.close();
    throw error;
  }
  // The bookkeeper opens the shards' stores for reading: they exist once every shard has started.
  const bookkeeping = new BookkeepingHost({ dataDir: options.dataDir, shardCount: options.shardCount, chartPath: options.chartPath ?? null });
  try {
    await bookkeeping.ready();
  } catch (error) {
    await bookkeeping.close();
    await closeAll(hosts);
    await chainLog.close();
    throw error;
  }
  transit.start();
  const set = new ShardSet(hosts, transit, bookkeeping, chains, chainLog, options.hotOutbound, options.accountRate ?? 0);
  try {
    const ids = await Promise.all(hosts.map((host) => host.run(ShardControl.hotOutboundIds, new Uint8Array(0), false)));
    await set.hotOutbound.register(ids.flatMap((bytes) => decodeIds(bytes)));
  } catch (error) {
    await set.close();
    throw error;
  }
  set.hotOutbound.start();
  set.attachSnapshots(options.dataDir);
  const dayCut = options.dayCut ?? dayCutDefault;
  if (dayCut.scheduled) set.scheduleDays(new BusinessCalendar(parseDayCutSchedule(dayCut.cutTime, dayCut.timeZone)));
  return set;
}

const noop = (): void => {};

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

/** Day 0 in a books query means "everything booked so far". */
function dayOrAll(day: number): number | undefined {
  return day === 0 ? undefined : day;
}

function parseDayClose(reply: Uint8Array): ShardDayClose {
  return JSON.parse(new TextDecoder().decode(reply)) as ShardDayClose;
}

function checkOptions(options: StartShardsOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (options.hotInbound !== undefined) checkHotInbound(options.hotInbound);
  const { accountRate = 0 } = options;
  if (!Number.isInteger(accountRate) || accountRate < 0 || accountRate > eventsPerSecondMax) throw new RangeError(`options.accountRate must be an integer in 0..${eventsPerSecondMax} (events per second, 0 = off), got ${String(accountRate)}`);
  if (options.hotOutbound !== undefined) {
    for (const [name, value] of Object.entries(options.hotOutbound)) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`options.hotOutbound.${name} must be a positive integer (ms), got ${String(value)}`);
    }
  }
  if (options.dayCut !== undefined) parseDayCutSchedule(options.dayCut.cutTime, options.dayCut.timeZone);
  if (typeof options.dataDir !== 'string' || options.dataDir.length === 0) throw new TypeError('options.dataDir must be a non-empty path');
  if (!Number.isInteger(options.shardCount) || options.shardCount < 1 || options.shardCount > shardCountMax) {
    throw new RangeError(`options.shardCount must be an integer in 1..${shardCountMax} (shardCountMax), got ${String(options.shardCount)}`);
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

async function closeAll(hosts: readonly ShardHost[]): Promise<void> {
  await Promise.all(hosts.map((host) => host.close()));
}
