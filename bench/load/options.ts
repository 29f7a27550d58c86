// Options of the end-to-end load benchmark: flags first, then TALLY_BENCH_* environment variables,
// then defaults. Every invalid value is refused with a message naming the option; nothing is clamped.

import { integerOption, parseFlags } from '../../src/cli/option-values.js';
import { batchEventsMax, connectionRequestsInFlightMax, shardCountMax } from '../../src/core/limits.js';
import { accountCountMax as pgAccountCountMax, connectionsMax as pgConnectionsMax, pgBinDirDefault } from '../pg/options.js';
import { workloadDescriptions, workloadNames, workloadsDefault, type Workload } from './workloads.js';

/** The services phase: a platform's many service instances, each with a few small requests in flight. */
export const servicesShape = { connections: 32, inFlight: 8, batchEventsMin: 1, batchEventsMax: 5 } as const;

/** The workloads of a sustained run unless --workloads says otherwise: the two. */
export const sustainWorkloadsDefault: readonly Workload[] = ['uniform', 'hot-credit'];
/** Longest sustained run per workload: a day. */
const sustainSecondsMax = 86_400;
import { zipfExponentDefault, zipfExponentOption, zipfRanksMax } from './zipf.js';

/** The baseline the Tally phases are compared with in the same run. */
export const baselineNames = ['pg', 'none'] as const;
export type Baseline = (typeof baselineNames)[number];

export interface Pipelining {
  connections: number;
  /** Requests each connection keeps in flight. */
  inFlight: number;
}

export interface LoadOptions {
  shardCount: number;
  accountCount: number;
  batchSizes: number[];
  /** Workloads, each run through every phase (light + each batch size), interleaved per phase in this order. */
  workloads: Workload[];
  /** Longest wait, after a cross-shard phase, for every credit to land (GET /health transit.inFlight = 0). */
  transitTimeoutSeconds: number;
  /** Measured seconds per batch size (after the warm-up). */
  durationSeconds: number;
  warmupSeconds: number;
  /** Seconds of the light-load phase: one single-transfer call in flight through the public client. */
  lightSeconds: number;
  /** After the batch phases: many services, few requests each (servicesShape), one phase per workload. */
  services: boolean;
  /** Overrides the per-batch-size pipelining defaults when set. */
  connections: number | null;
  inFlight: number | null;
  /** Where the JSON result goes; default bench/out/load-<timestamp>.json. */
  outPath: string | null;
  /** Run the server under `node --cpu-prof` and print its top self-time functions at the end. */
  serverCpuProfile: boolean;
  /** Copy the server's output to ours. */
  echoServer: boolean;
  /**
   * After the phases: pairs of back-to-back windows at batch batchEventsMax (same-shard), one without
   * a day cut and one with closeDay() sent early in it, to compare throughput during a cut.
   */
  dayCutPhase: boolean;
  /** Measured seconds of each day-cut window (default: durationSeconds). */
  dayCutWindowSeconds: number;
  /** The day-cut phase's workload: same-shard by default; uniform shows the wait for credits between shards at the cut. */
  dayCutWorkload: Workload;
  /** Exponent s of the zipf workload's distribution, P(rank k) ∝ 1 / k^s. */
  zipfExponent: number;
  /** After the Tally phases (server stopped): the classic PostgreSQL ledger, same workloads, or none. */
  baseline: Baseline;
  /** Measured seconds per baseline workload (after --warmup). */
  baselineDurationSeconds: number;
  /** Baseline connections; null: as many as the Tally phase at batch 1 has sockets. */
  baselineConnections: number | null;
  /** Where initdb and postgres live. */
  pgBinDir: string;
  /** Where the chart goes (SVG), or null for none. */
  svgPath: string | null;
  /**
   * Sustained mode (bench/load/sustain.ts) instead of the phases: seconds of one run at batch
   * batchEventsMax per workload; null: the phases as usual.
   */
  sustainSeconds: number | null;
  /** Seconds between two readings of the server's throughput, memory and disk in sustained mode. */
  sustainEverySeconds: number;
  /** Sustained mode: the server's data dir, kept after the run (for profiling its reads); null: a temp dir, removed. */
  dataDir: string | null;
}

const workloadHelp = workloadNames.map((name) => `                          ${name.padEnd(12)} ${workloadDescriptions[name]}`).join('\n');

export const loadUsage = `usage: node dist/bench/load.js [options]     (npm run bench -- [options])

  --shards N            server shards                               (env TALLY_BENCH_SHARDS, default 2)
  --accounts N          regular accounts created before the load    (env TALLY_BENCH_ACCOUNTS, default 100000)
                        (plus a funding account, the hot-credit account and the hot-debit account)
  --batches A,B,…       transfers per request, one phase each       (env TALLY_BENCH_BATCHES, default 1,100,${batchEventsMax})
  --workloads W,…       each phase runs once per workload, in order (env TALLY_BENCH_WORKLOADS, default ${workloadsDefault.join(',')})
${workloadHelp}
                        hot-credit marks its account hot-inbound first (account operation mark_hot; where the
                        server refuses, a warning and the run goes on unmarked); hot-debit creates its account
                        hot-outbound (flag hot_outbound, set at creation only): debits served from slices
  --zipf-exponent S     exponent of the zipf workload, 0..4         (env TALLY_BENCH_ZIPF_EXPONENT, default ${zipfExponentDefault})
  --transit-timeout S   longest wait for cross-shard credits to land (env TALLY_BENCH_TRANSIT_TIMEOUT, default 120)
  --duration S          measured seconds per phase                  (env TALLY_BENCH_DURATION, default 8)
  --warmup S            unmeasured seconds before each phase        (env TALLY_BENCH_WARMUP, default 1)
  --light S             seconds of light load (1 call in flight)    (env TALLY_BENCH_LIGHT, default 5; 0 skips)
  --day-cut-phase       after the phases, at batch ${batchEventsMax} same-shard: windows without and with a day cut
                        (closeDay() sent 10% into the window, load going on), twice in alternating order:
                        baseline, cut, cut, baseline; reports during-cut / baseline transfers/s
                                                                    (env TALLY_BENCH_DAY_CUT_PHASE=1|0, default on)
  --no-day-cut-phase    skip it (a closeDay() still runs once at the very end, after verification)
  --day-cut-window S    measured seconds per day-cut window         (env TALLY_BENCH_DAY_CUT_WINDOW, default: --duration)
  --day-cut-workload W  the day-cut phase's workload (uniform: the cut waits for credits between shards to land)
                                                                    (env TALLY_BENCH_DAY_CUT_WORKLOAD, default same-shard)
  --services            after the batch phases, many services sending few transfers each: ${servicesShape.connections} sockets
                        × ${servicesShape.inFlight} in flight, each request ${servicesShape.batchEventsMin}–${servicesShape.batchEventsMax} transfers at random (issue #19)
                                                                    (env TALLY_BENCH_SERVICES=1, default off)
  --connections N       sockets per phase (default: by batch size, see pipeliningFor)
  --in-flight N         requests in flight per socket (default: by batch size)
  --baseline pg|none    after the Tally phases, with the server stopped: the classic PostgreSQL ledger (one row
                        per account, SELECT … FOR UPDATE on both in id order, UPDATE ×2, INSERT journal, COMMIT;
                        fsync on commit) on a throwaway loopback cluster, the same workloads (cross-shard and
                        same-shard run as uniform: no shards there), one transfer per transaction; skipped with
                        a message where PostgreSQL is absent    (env TALLY_BENCH_BASELINE, default pg)
  --baseline-duration S measured seconds per baseline workload      (env TALLY_BENCH_BASELINE_DURATION, default: --duration)
  --baseline-connections N  baseline connections, 1..${pgConnectionsMax} (default: the sockets of the batch-1 phase)
  --pg-bin DIR          PostgreSQL server binaries                  (env TALLY_BENCH_PG_BIN, default ${pgBinDirDefault})
  --svg FILE            also draw transfers/s and p99 per workload and batch size, with the baseline (SVG)
  --sustain S           sustained mode instead of the phases: S seconds at batch ${batchEventsMax} per workload (default workloads
                        ${sustainWorkloadsDefault.join(',')}; --batches, --duration, --light, the day-cut phase and the baseline do
                        not apply); every --sustain-every seconds: transfers/s, the server's RssAnon and VmRSS, its
                        data dir size; at the end lookups of old transfers and history pages of old accounts, then
                        kill -9, restart on the same data dir and the time to /health and to the first accepted
                        write, and the ledger checks on the restarted server (env TALLY_BENCH_SUSTAIN, default off)
  --sustain-every S     seconds between two readings in sustained mode (env TALLY_BENCH_SUSTAIN_EVERY, default 15)
  --data-dir DIR        sustained mode: the server's data dir (must be empty or absent), kept after the run
                        (default: a temp dir, removed)
  --out FILE            JSON result file (default bench/out/load-<timestamp>.json, sustain-<timestamp>.json)
  --server-cpu-prof     profile the server (node --cpu-prof) and print its hot spots
  --echo-server         show the server's (and PostgreSQL's) output
  -h, --help            print this help`;

export class LoadUsageError extends Error {
  override name = 'LoadUsageError';
}

export type LoadCommand = { kind: 'help' } | { kind: 'run'; options: LoadOptions };

export function parseLoadArgs(argv: readonly string[], env: NodeJS.ProcessEnv): LoadCommand {
  const { values } = parseOrUsage(argv);
  if (values.help) return { kind: 'help' };
  const connections = values.connections === undefined ? null : integer('--connections', values.connections, 1, 1024);
  const inFlight = values['in-flight'] === undefined ? null : integer('--in-flight', values['in-flight'], 1, connectionRequestsInFlightMax);
  const shardCount = integer('--shards', values.shards ?? env.TALLY_BENCH_SHARDS ?? '2', 1, shardCountMax);
  const durationSeconds = seconds('--duration', values.duration ?? env.TALLY_BENCH_DURATION ?? '8', 0.1);
  const sustainText = values.sustain ?? env.TALLY_BENCH_SUSTAIN;
  const sustainSeconds = sustainText === undefined ? null : seconds('--sustain', sustainText, 1, sustainSecondsMax);
  const workloads = workloadList(values.workloads ?? env.TALLY_BENCH_WORKLOADS ?? (sustainSeconds === null ? workloadsDefault : sustainWorkloadsDefault).join(','));
  if (shardCount < 2 && workloads.includes('cross-shard')) {
    throw new LoadUsageError(`the cross-shard workload needs --shards 2 or more (got ${shardCount}); leave it out of --workloads`);
  }
  const accountCount = integer('--accounts', values.accounts ?? env.TALLY_BENCH_ACCOUNTS ?? '100000', 2, 50_000_000);
  if (accountCount > zipfRanksMax && workloads.includes('zipf')) {
    throw new LoadUsageError(`the zipf workload draws over at most ${zipfRanksMax} accounts (got --accounts ${accountCount}); leave it out of --workloads`);
  }
  // A sustained run has no baseline (nothing to compare its minutes with).
  const baseline = sustainSeconds !== null ? 'none' : baselineOption(values.baseline ?? env.TALLY_BENCH_BASELINE ?? 'pg', accountCount);
  const baselineConnections = values['baseline-connections'] === undefined ? null : integer('--baseline-connections', values['baseline-connections'], 1, pgConnectionsMax);
  if (baseline === 'pg' && baselineConnections === null && connections !== null && connections > pgConnectionsMax) {
    throw new LoadUsageError(`--connections ${connections} is more than the baseline can open (${pgConnectionsMax}); pass --baseline-connections N or --baseline none`);
  }
  return {
    kind: 'run',
    options: {
      shardCount,
      accountCount,
      batchSizes: batchList(values.batches ?? env.TALLY_BENCH_BATCHES ?? `1,100,${batchEventsMax}`),
      workloads,
      transitTimeoutSeconds: seconds('--transit-timeout', values['transit-timeout'] ?? env.TALLY_BENCH_TRANSIT_TIMEOUT ?? '120', 1),
      durationSeconds,
      warmupSeconds: seconds('--warmup', values.warmup ?? env.TALLY_BENCH_WARMUP ?? '1', 0),
      lightSeconds: seconds('--light', values.light ?? env.TALLY_BENCH_LIGHT ?? '5', 0),
      services: (values.services ?? false) || env.TALLY_BENCH_SERVICES === '1',
      connections,
      inFlight,
      outPath: values.out ?? null,
      serverCpuProfile: values['server-cpu-prof'] ?? false,
      echoServer: values['echo-server'] ?? false,
      dayCutPhase: dayCutPhaseOption(values['day-cut-phase'], values['no-day-cut-phase'], env.TALLY_BENCH_DAY_CUT_PHASE),
      dayCutWindowSeconds: seconds('--day-cut-window', values['day-cut-window'] ?? env.TALLY_BENCH_DAY_CUT_WINDOW ?? String(durationSeconds), 0.1),
      dayCutWorkload: dayCutWorkloadOf(values['day-cut-workload'] ?? env.TALLY_BENCH_DAY_CUT_WORKLOAD ?? 'same-shard', shardCount),
      zipfExponent: zipfExponentOption(values['zipf-exponent'] ?? env.TALLY_BENCH_ZIPF_EXPONENT ?? String(zipfExponentDefault), (message) => new LoadUsageError(message)),
      baseline,
      baselineDurationSeconds: seconds('--baseline-duration', values['baseline-duration'] ?? env.TALLY_BENCH_BASELINE_DURATION ?? String(durationSeconds), 0.1),
      baselineConnections,
      pgBinDir: values['pg-bin'] ?? env.TALLY_BENCH_PG_BIN ?? pgBinDirDefault,
      svgPath: values.svg ?? null,
      sustainSeconds,
      sustainEverySeconds: seconds('--sustain-every', values['sustain-every'] ?? env.TALLY_BENCH_SUSTAIN_EVERY ?? '15', 1),
      dataDir: values['data-dir'] ?? null,
    },
  };
}

/**
 * Defaults that keep the shards busy without queueing past what an fsync can absorb: many small
 * requests over several sockets for batch 1 (so frames coalesce on the server), a few large ones for
 * full batches (so one batch is applied while the previous one is being fsync'd).
 */
export function pipeliningFor(batchEvents: number, options: LoadOptions): Pipelining {
  // Full batches: 4 in flight keep both shards computing while earlier batches fsync; more only
  // queue (2026-11-23: 2×2 gave 554k/s, p99 248 ms; 4×2 470–516k/s; 4×4 545k/s, p99 641 ms).
  const byBatch: Pipelining = batchEvents <= 10 ? { connections: 4, inFlight: 64 } : batchEvents <= 1000 ? { connections: 4, inFlight: 16 } : { connections: 2, inFlight: 2 };
  return { connections: options.connections ?? byBatch.connections, inFlight: options.inFlight ?? byBatch.inFlight };
}

function parseOrUsage(argv: readonly string[]) {
  const options = {
    shards: { type: 'string' },
    accounts: { type: 'string' },
    batches: { type: 'string' },
    workloads: { type: 'string' },
    'transit-timeout': { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    light: { type: 'string' },
    services: { type: 'boolean' },
    connections: { type: 'string' },
    'in-flight': { type: 'string' },
    out: { type: 'string' },
    'server-cpu-prof': { type: 'boolean' },
    'echo-server': { type: 'boolean' },
    'day-cut-phase': { type: 'boolean' },
    'no-day-cut-phase': { type: 'boolean' },
    'day-cut-window': { type: 'string' },
    'day-cut-workload': { type: 'string' },
    'zipf-exponent': { type: 'string' },
    baseline: { type: 'string' },
    'baseline-duration': { type: 'string' },
    'baseline-connections': { type: 'string' },
    'pg-bin': { type: 'string' },
    svg: { type: 'string' },
    sustain: { type: 'string' },
    'sustain-every': { type: 'string' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  return parseFlags(argv, options, (message) => new LoadUsageError(message));
}

function integer(name: string, text: string, min: number, max: number): number {
  return integerOption(name, text, min, max, (message) => new LoadUsageError(message));
}

function seconds(name: string, text: string, min: number, max = 3600): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value) || value < min || value > max) throw new LoadUsageError(`${name} must be seconds in ${min}..${max}, got ${JSON.stringify(text)}`);
  return value;
}

/** --day-cut-phase / --no-day-cut-phase (not both), then TALLY_BENCH_DAY_CUT_PHASE (1 or 0), then on. */
function dayCutPhaseOption(on: boolean | undefined, off: boolean | undefined, env: string | undefined): boolean {
  if (on && off) throw new LoadUsageError('--day-cut-phase and --no-day-cut-phase contradict each other; pass one');
  if (on) return true;
  if (off) return false;
  if (env === undefined || env === '1') return true;
  if (env === '0') return false;
  throw new LoadUsageError(`TALLY_BENCH_DAY_CUT_PHASE must be 1 or 0, got ${JSON.stringify(env)}`);
}

/** --baseline: pg (the default) or none; pg needs an account count the baseline can load. */
function baselineOption(text: string, accountCount: number): Baseline {
  if (!(baselineNames as readonly string[]).includes(text)) throw new LoadUsageError(`--baseline takes ${baselineNames.join(' or ')}, got ${JSON.stringify(text)}`);
  const baseline = text as Baseline;
  if (baseline === 'pg' && (accountCount < 3 || accountCount > pgAccountCountMax)) {
    throw new LoadUsageError(`the PostgreSQL baseline loads 3..${pgAccountCountMax} accounts (got --accounts ${accountCount}); pass --baseline none`);
  }
  return baseline;
}

function batchList(text: string): number[] {
  const sizes = text.split(',').map((part) => integer('--batches', part.trim(), 1, batchEventsMax));
  if (sizes.length === 0) throw new LoadUsageError('--batches needs at least one size');
  return sizes;
}

function dayCutWorkloadOf(text: string, shardCount: number): Workload {
  const [workload] = workloadList(text);
  if (text.includes(',')) throw new LoadUsageError(`--day-cut-workload takes one workload, got ${JSON.stringify(text)}`);
  if (shardCount < 2 && workload === 'cross-shard') throw new LoadUsageError('the cross-shard workload needs --shards 2 or more; pick another --day-cut-workload');
  return workload!;
}

function workloadList(text: string): Workload[] {
  const names = text.split(',').map((part) => part.trim());
  const known = new Set<string>(workloadNames);
  for (const name of names) {
    if (!known.has(name)) throw new LoadUsageError(`--workloads takes ${workloadNames.join(', ')} (comma-separated), got ${JSON.stringify(name)}`);
  }
  if (new Set(names).size !== names.length) throw new LoadUsageError(`--workloads names a workload twice: ${JSON.stringify(text)}`);
  return names as Workload[];
}

/** The baseline's connections: --baseline-connections, else as many as the batch-1 phase has sockets (one transfer per transaction each). */
export function baselineConnectionsFor(options: LoadOptions): number {
  return options.baselineConnections ?? pipeliningFor(1, options).connections;
}
