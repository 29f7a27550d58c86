// GET /metrics in the Prometheus text format (prom-client): what the gateway sees of each request
// (count by operation and outcome, latency, events per request, refused events by result name) and,
// read from the ledger service at scrape time, per-shard queue depths, bookkeeping lag, transit,
// cross-shard chains, hot-inbound buffers and the day reports (a failed day check is counted here, loudly).

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { idBytes, resultBytes } from '../core/layout.js';
import { eventBytes } from '../core/limits.js';
import { Operation, isIdLookupOperation, isWriteOperation } from '../core/operations.js';
import { resultName } from '../core/result-codes.js';
import type { HotInboundStats } from '../core/hot/hot-inbound-stats.js';
import type { LedgerService } from './ledger-service.js';

const operationNames = new Map<number, string>(Object.entries(Operation).map(([name, op]) => [op, name]));

/** Request latency buckets, in seconds: sub-millisecond durable replies up to multi-second queues. */
const durationBuckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];
const eventBuckets = [1, 10, 100, 1000, 4096, 8190];
/** Gauges read in one scrape share one read of the shards' figures within this long. */
const scrapeReuseMs = 100;

export class GatewayMetrics {
  readonly #registry = new Registry();
  readonly #requests: Counter<'operation' | 'outcome'>;
  readonly #duration: Histogram<'operation'>;
  readonly #events: Histogram<'operation'>;
  readonly #refused: Counter<'operation' | 'result'>;

  constructor(service: LedgerService) {
    const registers = [this.#registry];
    this.#requests = new Counter({ name: 'tally_requests_total', help: 'Requests answered, by operation and outcome (ok or the error code).', labelNames: ['operation', 'outcome'], registers });
    this.#duration = new Histogram({ name: 'tally_request_duration_seconds', help: 'Time from a request frame to its reply (durable, for writes).', labelNames: ['operation'], buckets: durationBuckets, registers });
    this.#events = new Histogram({ name: 'tally_request_events', help: 'Events (or ids) per request: the batch size.', labelNames: ['operation'], buckets: eventBuckets, registers });
    this.#refused = new Counter({ name: 'tally_events_refused_total', help: 'Events of write requests answered with a result other than ok, by result name.', labelNames: ['operation', 'result'], registers });
    registerServiceGauges(this.#registry, service);
    const shardDuration = new Histogram({ name: 'tally_shard_write_duration_seconds', help: "A shard's part of a write request, from dispatch to its durable reply.", labelNames: ['shard'], buckets: durationBuckets, registers });
    const shardEvents = new Counter({ name: 'tally_shard_events_posted_total', help: 'Write events each shard answered (rate() of it is the posting rate per shard).', labelNames: ['shard'], registers });
    const shardLabels: string[] = [];
    service.observeShardWrites?.((shard, seconds, events) => {
      const label = (shardLabels[shard] ??= String(shard));
      shardDuration.observe({ shard: label }, seconds);
      shardEvents.inc({ shard: label }, events);
    });
  }

  /**
   * One request answered: `bodyBytes` its body's size (read before the service may take the body),
   * `reply` its reply when it succeeded, `errorCode` its error otherwise.
   */
  observe(operation: number, startedMs: number, bodyBytes: number, reply: Uint8Array | null, errorCode: string | null): void {
    const name = operationNames.get(operation) ?? 'unknown';
    this.#requests.inc({ operation: name, outcome: errorCode ?? 'ok' });
    this.#duration.observe({ operation: name }, (performance.now() - startedMs) / 1000);
    const recordBytes = isIdLookupOperation(operation) ? idBytes : eventBytes;
    if (bodyBytes % recordBytes === 0 && bodyBytes > 0) this.#events.observe({ operation: name }, bodyBytes / recordBytes);
    if (reply !== null && isWriteOperation(operation)) this.#countRefused(name, reply);
  }

  /** The gateway's own gauges: open connections and the reply bytes they hold unread (read at scrape time). */
  observeGateway(read: () => { connections: number; bufferedBytes: number }): void {
    const registers = [this.#registry];
    new Gauge({
      name: 'tally_gateway_connections',
      help: 'Open WebSocket connections.',
      registers,
      collect() {
        this.set(read().connections);
      },
    });
    new Gauge({
      name: 'tally_gateway_buffered_bytes',
      help: 'Reply bytes written to connections and not yet taken by their readers, all connections together (bounded by gatewayBufferedBytesMax).',
      registers,
      collect() {
        this.set(read().bufferedBytes);
      },
    });
  }

  get contentType(): string {
    return this.#registry.contentType;
  }

  text(): Promise<string> {
    return this.#registry.metrics();
  }

  #countRefused(operation: string, reply: Uint8Array): void {
    const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
    let counts: Map<number, number> | null = null;
    for (let at = 0; at + resultBytes <= reply.byteLength; at += resultBytes) {
      const code = view.getUint16(at, true);
      if (code === 0) continue;
      counts ??= new Map();
      counts.set(code, (counts.get(code) ?? 0) + 1);
    }
    if (counts === null) return;
    for (const [code, count] of counts) this.#refused.inc({ operation, result: resultName(code) ?? String(code) }, count);
  }
}

/**
 * A gauge's collect that never fails the scrape: when its component cannot answer (a worker down, a read that
 * throws) the gauge is reset — no samples by label, 0 for one without labels (prom-client) — rather than left
 * at a stale value, and every other metric is still served (one bad component used to make GET /metrics 500).
 */
function guarded<T extends string>(collect: (this: Gauge<T>) => void | Promise<void>): (this: Gauge<T>) => Promise<void> {
  return async function (this: Gauge<T>): Promise<void> {
    try {
      await collect.call(this);
    } catch {
      this.reset();
    }
  };
}

/** Gauges read from the service when scraped (each only when the service reports it; see guarded). */
function registerServiceGauges(registry: Registry, service: LedgerService): void {
  const registers = [registry];
  new Gauge({
    name: 'tally_shard_tasks_outstanding',
    help: 'Tasks queued or running on each shard (callers get overloaded past the bound).',
    labelNames: ['shard'],
    registers,
    collect: guarded(function () {
      for (const { shard, tasksOutstanding } of service.shardLoad?.() ?? []) this.set({ shard: String(shard) }, tasksOutstanding);
    }),
  });
  new Gauge({
    name: 'tally_bookkeeping_lag_entries',
    help: 'Journal entries of each shard the bookkeeping shard has not booked yet.',
    labelNames: ['shard'],
    registers,
    collect: guarded(async function () {
      for (const { shard, lag } of (await service.bookkeepingLag?.()) ?? []) this.set({ shard: String(shard) }, lag);
    }),
  });
  /** A per-shard gauge of the replication status (replicated mode only: no samples when embedded). */
  const replicationGauge = (name: string, help: string, field: 'lagEntries' | 'lagMs' | 'backlog') =>
    new Gauge({
      name,
      help,
      labelNames: ['shard'],
      registers,
      collect: guarded(function () {
        for (const shard of service.replicationStatus?.()?.shards ?? []) this.set({ shard: String(shard.shard) }, shard[field] ?? 0);
      }),
    });
  replicationGauge('tally_replication_lag_entries', 'Replicated mode: journal entries of each shard a follower has not applied yet (0 on a primary).', 'lagEntries');
  replicationGauge('tally_replication_lag_ms', 'Replicated mode: how long ago JetStream stored the oldest entry of each shard a follower has not applied yet.', 'lagMs');
  replicationGauge('tally_replication_backlog_entries', 'Replicated mode: journal entries of each shard a primary has written and JetStream not yet acknowledged.', 'backlog');
  /** A gauge of one value the service reports, or no sample when it reports none. */
  const valueGauge = (name: string, help: string, read: () => number | undefined) =>
    new Gauge({
      name,
      help,
      registers,
      collect: guarded(function () {
        const value = read();
        if (value !== undefined) this.set(value);
      }),
    });
  valueGauge('tally_transit_in_flight', 'Cross-shard instructions issued and not yet applied by their receiver.', () => service.transitStats?.().inFlight);
  valueGauge('tally_transit_delivered', 'Cross-shard instructions delivered since start.', () => service.transitStats?.().delivered);
  valueGauge(
    'tally_transit_returned',
    'Cross-shard credits refused by their payee and sent back since start: transfers answered ok that did not stay (issue #14 makes this 0).',
    () => service.transitStats?.().returned,
  );
  valueGauge('tally_transfer_requests_joined', 'create_transfers requests joined with others into one shard batch since start.', () => service.coalescingStats?.().joinedRequests);
  valueGauge('tally_transfer_joint_batches', 'Joint shard batches of create_transfers requests since start.', () => service.coalescingStats?.().jointBatches);
  valueGauge('tally_transit_delay_p50_ms', 'Reply-to-credit delay of recent cross-shard transfers, median.', () => service.transitStats?.().delayMsP50);
  valueGauge('tally_transit_delay_p99_ms', 'Reply-to-credit delay of recent cross-shard transfers, 99th percentile.', () => service.transitStats?.().delayMsP99);
  new Gauge({
    name: 'tally_chains',
    help: 'Linked chains across shards decided since start, by outcome.',
    labelNames: ['outcome'],
    registers,
    collect: guarded(function () {
      const stats = service.chainStats?.();
      if (stats === undefined) return;
      this.set({ outcome: 'committed' }, stats.chainsCommitted);
      this.set({ outcome: 'failed' }, stats.chainsFailed);
    }),
  });
  // One read of the shards' hot-inbound figures serves every gauge of a scrape.
  let hotRead: { at: number; stats: Promise<HotInboundStats> } | null = null;
  const hotStats = (): Promise<HotInboundStats> | undefined => {
    if (service.hotInboundStats === undefined) return undefined;
    const now = performance.now();
    if (hotRead === null || now - hotRead.at > scrapeReuseMs) hotRead = { at: now, stats: service.hotInboundStats() };
    return hotRead.stats;
  };
  const hotGauge = (name: string, help: string, read: (stats: HotInboundStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect: guarded(async function () {
        const stats = await hotStats();
        if (stats !== undefined) this.set(read(stats));
      }),
    });
  hotGauge('tally_hot_inbound_accounts', 'Accounts marked hot-inbound (credits buffered, applied in summary).', (s) => s.accounts);
  hotGauge('tally_hot_inbound_credits_buffered', 'Credits accepted to hot-inbound accounts and not yet applied.', (s) => s.creditsBufferedCount);
  hotGauge('tally_hot_inbound_credits_applied', 'Buffered credits applied by summary postings since the shards started.', (s) => s.creditsApplied);
  hotGauge('tally_hot_inbound_delay_p99_ms', 'How long recent buffered credits waited before applying, 99th percentile (worst shard).', (s) => s.delayMsP99);
  hotGauge('tally_hot_inbound_delay_max_ms', 'The longest wait of a buffered credit since the shards started.', (s) => s.delayMsMax);
  valueGauge('tally_hot_outbound_accounts', 'Hot-outbound accounts (debits served from per-shard slices).', () => service.hotOutboundStats?.().accounts);
  valueGauge('tally_hot_outbound_grants', 'Slice refills (home account → slice) acknowledged since start.', () => service.hotOutboundStats?.().grants);
  valueGauge('tally_hot_outbound_returns', 'Idle slices returned home by the timed compensation since start.', () => service.hotOutboundStats?.().returns);
  valueGauge('tally_hot_outbound_refused_debits', 'Debits of hot-outbound accounts refused on a slice for want of money since start.', () => service.hotOutboundStats?.().refusedDebits);
  valueGauge('tally_hot_outbound_gathers', 'Requests that waited for a hot-outbound account\'s money to be moved to where they pay from, since start.', () => service.hotOutboundStats?.().gathers);
  valueGauge('tally_chain_rounds_aborted', 'Rounds of cross-shard chains aborted since start (one per failing chain).', () => service.chainStats?.().roundsAborted);
  valueGauge(
    'tally_day_reports_failed',
    'Day reports whose checks failed since start (总分核对, trial balance, transit): each one is also logged.',
    () => service.daysStatus?.().failedReports,
  );
  valueGauge('tally_last_closed_day', 'The last business day closed (yyyymmdd).', () => service.daysStatus?.().lastClosedDay);
}
