// The ledger service over N shards (LedgerService, structurally): a thin router. Each wire operation that
// needs more than routing by shard has a handler in one table (books, snapshots, hot-outbound accounts,
// the account rate limit); every other goes to RequestRouting, which splits it by owning shard, runs the
// parts concurrently and merges the replies in request order. Each capability lives in its own module of
// this folder; this class builds them, owns the hosts' lifecycle, and keeps the public API in one place.
// A request spanning shards is not atomic across them; each linked chain is (one spanning shards goes
// through the chain coordinator, after the request's other events).

import { assert } from '../../core/assert.js';
import { BusinessCalendar, parseDayCutSchedule } from '../../core/business-day.js';
import type { ShardDayClose } from '../../core/books/day-close.js';
import type { InFlightAmount } from '../../core/books/day-report.js';
import { errors } from '../../core/errors.js';
import type { HotInboundStats } from '../../core/hot/hot-inbound-stats.js';
import { creditsLandingWaitMsMax } from '../../core/limits.js';
import { Operation, isWriteOperation } from '../../core/operations.js';
import { markLedgerAccountsNamed } from '../../core/posting/ledger-accounts-named.js';
import { decodeIds } from '../../core/wire/records.js';
import { BookkeepingHost } from '../bookkeeping/bookkeeping-host.js';
import { ChainCoordinator, type ChainStats } from '../chains/chain-coordinator.js';
import { ChainLog } from '../chains/chain-log.js';
import { ChainDecisionBucket } from '../replication/chain-decisions.js';
import { ReplicationUpkeep, type ReplicationStatus } from './replication-upkeep.js';
import { TransitRelay, type TransitStats } from '../relay/transit-relay.js';
import { ShardHost } from '../shard/shard-host.js';
import { ShardControl, checkpointDefault, hotInboundDefault, idCacheDefault } from '../shard/shard-messages.js';
import type { SnapshotStatus } from '../snapshots/snapshot-host.js';
import { AccountRateGate } from './account-rate-gate.js';
import { booksHandlers } from './books-requests.js';
import { DayClosing, type DaysStatus } from './day-closing.js';
import { quietInstant } from './quiet-instant.js';
import { PayerCreditsInFlight } from './payer-credits.js';
import { HotOutboundKeeper, hotOutboundDefault, type HotOutboundOptions, type HotOutboundStats } from './hot-outbound-keeper.js';
import { queryTransfersWithStates } from './transfer-query-states.js';
import { HotOutboundRequests } from './hot-outbound-requests.js';
import { OneAtATime } from './one-at-a-time.js';
import { handlerTable, type RequestHandler } from './request-handlers.js';
import { AccountDirectory } from '../../core/accounts/account-directory.js';
import { publishEntries } from '../../core/accounts/directory-updates.js';
import { RequestRouting, type ShardWriteObserver } from './request-routing.js';
import { SetStatus } from './set-status.js';
import { Shutdown } from './shutdown.js';
import { SnapshotBarrier } from './snapshot-barrier.js';
import { checkOptions, dayCutDefault, type StartShardsOptions } from './start-options.js';

export { dayCutDefault, type DayCutOptions, type StartShardsOptions } from './start-options.js';

export class ShardSet {
  readonly shardCount: number;
  readonly hosts: readonly ShardHost[];
  readonly transit: TransitRelay;
  readonly bookkeeping: BookkeepingHost;
  readonly chains: ChainCoordinator;
  /** Slices of hot-outbound accounts: refills, timed compensation, routing of their debits. */
  readonly hotOutbound: HotOutboundKeeper;
  readonly #chainLog: ChainLog;
  readonly #shutdown = new Shutdown();
  /** Every request no handler claims: split by shard, run, merged. */
  readonly #routing: RequestRouting;
  readonly #days: DayClosing;
  readonly #snapshots: SnapshotBarrier;
  readonly #status: SetStatus;
  /** Wire operation → its handler; an operation not in it goes straight to #routing. */
  readonly #handlers: ReadonlyMap<number, RequestHandler>;
  /** An approved adjustment's create_transfers (set with the handlers). */
  #adjustmentTransfers!: RequestHandler;
  /** Replicated mode (issue #15): where the shards stand with their streams; null when embedded. */
  readonly #replication: ReplicationUpkeep | null;
  /** Asked before a request that changes the ledger (a primary's lease); null: none. */
  readonly #writeGate: (() => Error | null) | null;

  constructor(
    hosts: readonly ShardHost[],
    transit: TransitRelay,
    bookkeeping: BookkeepingHost,
    chains: ChainCoordinator,
    chainLog: ChainLog,
    directory: AccountDirectory,
    hotOutbound: HotOutboundOptions = hotOutboundDefault,
    accountRate = 0,
    coalesce = true,
    replication: ReplicationUpkeep | null = null,
    writeGate: (() => Error | null) | null = null,
  ) {
    this.#replication = replication;
    this.#writeGate = writeGate;
    assert(hosts.length >= 1 && hosts.every((host, shard) => host.shardIndex === shard), 'a shard set holds its shards in shard order');
    this.shardCount = hosts.length;
    this.hosts = hosts;
    this.transit = transit;
    this.bookkeeping = bookkeeping;
    this.chains = chains;
    this.#chainLog = chainLog;
    // Across shards, a no-overdraft payer's write waits for the credits answered to it (payer-credits.ts).
    const payerCredits = hosts.length > 1 ? new PayerCreditsInFlight(directory, hosts.length, (from, to) => transit.appliedThrough(from, to)) : null;
    this.#routing = new RequestRouting(hosts, transit, chains, this.#shutdown, directory, coalesce, payerCredits);
    if (payerCredits !== null) {
      // Every instruction taken, before it is queued: the credits on their way that later requests must see.
      transit.observeOutbound((bytes) => {
        payerCredits.note(bytes);
        this.#routing.noteInstructions(bytes);
      });
    }
    const execute = (operation: number, body: Uint8Array): Promise<Uint8Array> => this.#routing.execute(operation, body);
    this.hotOutbound = new HotOutboundKeeper(execute, (shard, body) => this.#routing.openSlices(shard, body), hosts.length, hotOutbound, (shard) =>
      transit.landedOn(shard, creditsLandingWaitMsMax),
    );
    // Day closings and snapshot barriers run one at a time: a cut never straddles a snapshot's cut.
    const oneAtATime = new OneAtATime();
    const quiet = quietInstant(this.#routing, transit);
    this.#days = new DayClosing(hosts, transit, bookkeeping, oneAtATime, this.#shutdown, quiet);
    this.#snapshots = new SnapshotBarrier(hosts, chains, oneAtATime, this.#shutdown, quiet);
    this.#status = new SetStatus(hosts, bookkeeping, chains, transit, this.hotOutbound);
    this.#handlers = handlerTable([...booksHandlers(this.#days, bookkeeping, hosts), ...this.#snapshots.handlers(), ...this.#hotOutboundHandlers(execute, accountRate)]);
  }

  /**
   * Hot-outbound accounts change how accounts are created and looked up and where transfers debit; the
   * account rate limit, when on, answers a transfer past it before any of that.
   */
  #hotOutboundHandlers(execute: (operation: number, body: Uint8Array) => Promise<Uint8Array>, accountRate: number): [operation: number, handler: RequestHandler][] {
    const hot = new HotOutboundRequests(this.hotOutbound, execute, this.shardCount);
    const createTransfers: RequestHandler = (body) => hot.createTransfers(body);
    const rateGate = accountRate === 0 ? null : new AccountRateGate(accountRate, createTransfers);
    const gated: RequestHandler = rateGate === null ? createTransfers : (body) => rateGate.createTransfers(body);
    // Marked before anything routes them: the hot routing below names slices itself (ledger-accounts-named.ts).
    this.#adjustmentTransfers = (body) => gated(markLedgerAccountsNamed(body, 'suspense'));
    return [
      [Operation.create_accounts, (body) => hot.createAccounts(body)],
      [Operation.create_transfers, (body) => gated(markLedgerAccountsNamed(body, 'none'))],
      [Operation.lookup_accounts, (body) => hot.lookupAccounts(Operation.lookup_accounts, body)],
      [Operation.lookup_ledger_accounts, (body) => hot.lookupAccounts(Operation.lookup_ledger_accounts, body)],
      [Operation.account_operations, (body) => hot.accountOperations(body)],
      [Operation.query_accounts, (body) => hot.queryAccounts(body)],
      [Operation.query_transfers, (body) => queryTransfersWithStates(execute, (shard, operation, read) => this.#routing.readOn(shard, operation, read), body)],
    ];
  }

  /**
   * An approved adjustment's transfers, as one create_transfers request: unlike a caller's, they may name suspense
   * accounts (resolving 挂账), never a slice or a transit account.
   */
  async postAdjustment(body: Uint8Array): Promise<Uint8Array> {
    if (this.#shutdown.begun) throw errors.shuttingDown();
    this.#gateWrite();
    return this.#adjustmentTransfers(body);
  }

  /** Replicated mode: each shard's stream position (GET /health, /metrics); undefined when embedded. */
  replicationStatus(): ReplicationStatus | undefined {
    return this.#replication?.status();
  }

  /** Refuses a request that would change the ledger on a follower, or on a primary whose gate (its lease) says no. */
  #gateWrite(): void {
    if (this.#replication?.role === 'follower') throw this.#notPrimary();
    const refusal = this.#writeGate?.() ?? null;
    if (refusal !== null) throw refusal;
  }

  /** A follower's answer to anything that would change the ledger: the primary takes it. */
  #notPrimary(): Error {
    const primary = this.#replication?.primaryNode;
    return errors.notPrimary(`this node follows the ledger's streams and takes no writes; send them to the primary${primary === null || primary === undefined ? '' : ` (node ${primary})`}`);
  }

  /** Resolves with the reply body (durable, for writes); rejects with a TallyError. */
  async execute(operation: number, body: Uint8Array): Promise<Uint8Array> {
    if (this.#shutdown.begun) throw errors.shuttingDown();
    if (changesState(operation)) this.#gateWrite();
    const handler = this.#handlers.get(operation);
    return handler === undefined ? this.#routing.execute(operation, body) : handler(body);
  }

  /**
   * The day cut on every shard (日切): shard 0 begins the next business day (or `day`), then every other
   * shard begins the same day. Each answers the summary of the day that ended (DayClosing.cutDay).
   */
  cutDay(day = 0): Promise<ShardDayClose[]> {
    return this.#days.cutDay(day);
  }

  /** The day cut with the money it leaves between shards (DayClosing.closeDay). */
  closeDay(day = 0): Promise<{ closes: ShardDayClose[]; inFlight: InFlightAmount[] }> {
    return this.#days.closeDay(day);
  }

  /** Closes the business day everywhere and returns its day report, JSON text (DayClosing.closeDayReport). */
  closeDayReport(day = 0): Promise<string> {
    return this.#days.closeDayReport(day);
  }

  /** Cuts every business day at the calendar's cut instant, logging each day's report (DayClosing.schedule). */
  scheduleDays(calendar: BusinessCalendar, log?: (line: string) => void): void {
    this.#days.schedule(calendar, log);
  }

  /** The last closed day and whether its report passed; failed reports since start. */
  daysStatus(): DaysStatus {
    return this.#days.status();
  }

  /** Starts an online snapshot into `out` (absolute, absent or empty); progress through snapshotStatus(). */
  startSnapshot(out: string): SnapshotStatus {
    return this.#snapshots.start(out);
  }

  /** The snapshot in progress, or the last one; null when none ran since start. */
  snapshotStatus(): SnapshotStatus | null {
    return this.#snapshots.status();
  }

  /** Once the snapshot in progress (if any) has ended: the last one's status. */
  snapshotSettled(): Promise<SnapshotStatus | null> {
    return this.#snapshots.settled();
  }

  /** Lets snapshots be taken of `dataDir` (called once by startShards). */
  attachSnapshots(dataDir: string): void {
    this.#snapshots.attach(dataDir);
  }

  /** Tasks queued or running per shard. */
  shardLoad(): { shard: number; tasksOutstanding: number }[] {
    return this.#status.shardLoad();
  }

  /** Entries per shard the bookkeeping shard has not booked yet. */
  bookkeepingLag(): Promise<{ shard: number; lag: number }[]> {
    return this.#status.bookkeepingLag();
  }

  /** Cross-shard chains decided since start. */
  chainStats(): ChainStats {
    return this.#status.chainStats();
  }

  /** Hot-outbound accounts and what their slice keeper did since start. */
  hotOutboundStats(): HotOutboundStats {
    return this.#status.hotOutboundStats();
  }

  /** Hot-inbound accounts of every shard, within shardStatusWaitMsMax whatever the shards do (SetStatus). */
  hotInboundStats(): Promise<HotInboundStats> {
    return this.#status.hotInboundStats();
  }

  /** Payees the router marked for a big credit on its way and has not cleared yet (judged-payee-fences.ts). */
  get judgedPayeesMarked(): number {
    return this.#routing.judgedPayeesMarked;
  }

  /** Cross-shard instructions in flight and how long credits take to land. */
  transitStats(): TransitStats {
    return this.#status.transitStats();
  }

  /** Transfer requests joined into shard batches with others since start (RequestRouting.coalescingStats). */
  coalescingStats(): { joinedRequests: number; jointBatches: number } {
    return this.#routing.coalescingStats();
  }

  /** Per-shard write latency and events, for GET /metrics. */
  observeShardWrites(observer: ShardWriteObserver): void {
    this.#routing.observeShardWrites(observer);
  }

  /** Stops every shard after its appends drain. Idempotent. */
  close(): Promise<void> {
    this.#replication?.stop();
    return this.#shutdown.close({
      stopDays: () => this.#days.stop(),
      snapshotSettled: () => this.#snapshots.settled(),
      hotOutbound: this.hotOutbound,
      chains: this.chains,
      transit: this.transit,
      bookkeeping: this.bookkeeping,
      hosts: this.hosts,
      chainLog: this.#chainLog,
    });
  }

  /** What close() waits for now, or null when it is not closing (or has closed): a shutdown that overruns names it. */
  closingStep(): string | null {
    return this.#shutdown.step();
  }
}

/** The chain log; in replicated mode with its decisions kept (and decided) in a JetStream bucket beside it. */
async function openChainLog(options: StartShardsOptions): Promise<ChainLog> {
  if (options.replication === undefined) return ChainLog.open(options.dataDir);
  const bucket = await ChainDecisionBucket.open(options.replication);
  return ChainLog.open(options.dataDir, bucket).catch(async (error: unknown) => {
    await bucket.close();
    throw error;
  });
}

/** Starts one worker per shard and waits until each has replayed its journal. */
export async function startShards(options: StartShardsOptions): Promise<ShardSet> {
  checkOptions(options);
  // One for the process: workers a shard restarts keep reading it; filled below from the shards' accounts.
  const directory = AccountDirectory.create();
  const hosts: ShardHost[] = [];
  try {
    for (let shardIndex = 0; shardIndex < options.shardCount; shardIndex++) {
      const { cutTime, timeZone } = options.dayCut ?? dayCutDefault;
      const hotInbound = options.hotInbound ?? hotInboundDefault;
      const checkpoint = options.checkpoint ?? checkpointDefault;
      const idCache = options.idCache ?? idCacheDefault;
      hosts.push(new ShardHost({ dataDir: options.dataDir, shardIndex, shardCount: options.shardCount, dayCut: { cutTime, timeZone }, hotInbound, checkpoint, idCache, directory: directory.buffer, ...(options.replication === undefined ? {} : { replication: options.replication }), ...(options.follow === undefined ? {} : { follow: options.follow }) }));
    }
    await Promise.all(hosts.map((host) => host.ready()));
  } catch (error) {
    await closeAll(hosts);
    throw error;
  }
  const transit = new TransitRelay(hosts, options.transit);
  const chainLog = await openChainLog(options).catch(async (error: unknown) => {
    await closeAll(hosts);
    throw error;
  });
  const chains = new ChainCoordinator(hosts, chainLog, (shard, instructions) => transit.onOutbound(shard, instructions));
  const following = options.follow !== undefined;
  try {
    // A shard whose journal ends with a vote holds its turn until it learns the decision (a follower's comes from
    // its stream: it decides nothing).
    if (!following) await chains.recover();
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
  const replication = options.replication === undefined ? null : new ReplicationUpkeep(hosts, following ? 'follower' : 'primary');
  const set = new ShardSet(hosts, transit, bookkeeping, chains, chainLog, directory, options.hotOutbound, options.accountRate ?? 0, options.coalesce ?? true, replication, options.writeGate ?? null);
  replication?.start();
  if (following) {
    // A follower: no relay, no slice keeper, no scheduled cut — every change arrives through the streams.
    try {
      for (const host of hosts) publishEntries(directory, await host.runInternal(ShardControl.directoryEntries, new Uint8Array(0), false));
    } catch (error) {
      await set.close();
      throw error;
    }
    set.attachSnapshots(options.dataDir);
    return set;
  }
  transit.start();
  try {
    // Before the first request: every account a payer's shard may name as payee (issue #14).
    for (const host of hosts) publishEntries(directory, await host.runInternal(ShardControl.directoryEntries, new Uint8Array(0), false));
    // And the credits answered before a restart and not yet applied: their payees' overflow marks (judged-payee-fences.ts).
    await transit.takeRetained();
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

/** What a follower refuses: writes, day closes, adjustments (their approval posts transfers). */
function changesState(operation: number): boolean {
  return isWriteOperation(operation) || operation === Operation.close_day || operation === Operation.submit_adjustment || operation === Operation.approve_adjustment || operation === Operation.reject_adjustment;
}

async function closeAll(hosts: readonly ShardHost[]): Promise<void> {
  await Promise.all(hosts.map((host) => host.close()));
}
