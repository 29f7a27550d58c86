// Options of the end-to-end load benchmark: flags first, then TALLY_BENCH_* environment variables,
// then defaults. Every invalid value is refused with a message naming the option; nothing is clamped.

import { integerOption, parseFlags } from '../../src/cli/option-values.js';
import { batchEventsMax, connectionRequestsInFlightMax, shardCountMax } from '../../src/core/limits.js';
import { workloadNames, type Workload } from './transfer-source.js';

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
}

export const loadUsage = `usage: node dist/bench/load.js [options]     (npm run bench -- [options])

  --shards N            server shards                               (env TALLY_BENCH_SHARDS, default 2)
  --accounts N          accounts created before the load            (env TALLY_BENCH_ACCOUNTS, default 100000)
  --batches A,B,…       transfers per request, one phase each       (env TALLY_BENCH_BATCHES, default 1,100,8190)
  --workloads W,…       each phase runs once per workload, in order (env TALLY_BENCH_WORKLOADS, default same-shard,cross-shard)
                        same-shard: both accounts on one shard; cross-shard: the credit account on another
                        shard (acknowledged once the debit is durable, credited there just after)
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
  --connections N       sockets per phase (default: by batch size, see pipeliningFor)
  --in-flight N         requests in flight per socket (default: by batch size)
  --out FILE            JSON result file (default bench/out/load-<timestamp>.json)
  --server-cpu-prof     profile the server (node --cpu-prof) and print its hot spots
  --echo-server         show the server's output
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
  const workloads = workloadList(values.workloads ?? env.TALLY_BENCH_WORKLOADS ?? workloadNames.join(','));
  if (shardCount < 2 && workloads.includes('cross-shard')) {
    throw new LoadUsageError(`the cross-shard workload needs --shards 2 or more (got ${shardCount}); pass --workloads same-shard`);
  }
  return {
    kind: 'run',
    options: {
      shardCount,
      accountCount: integer('--accounts', values.accounts ?? env.TALLY_BENCH_ACCOUNTS ?? '100000', 2, 50_000_000),
      batchSizes: batchList(values.batches ?? env.TALLY_BENCH_BATCHES ?? `1,100,${batchEventsMax}`),
      workloads,
      transitTimeoutSeconds: seconds('--transit-timeout', values['transit-timeout'] ?? env.TALLY_BENCH_TRANSIT_TIMEOUT ?? '120', 1),
      durationSeconds,
      warmupSeconds: seconds('--warmup', values.warmup ?? env.TALLY_BENCH_WARMUP ?? '1', 0),
      lightSeconds: seconds('--light', values.light ?? env.TALLY_BENCH_LIGHT ?? '5', 0),
      connections,
      inFlight,
      outPath: values.out ?? null,
      serverCpuProfile: values['server-cpu-prof'] ?? false,
      echoServer: values['echo-server'] ?? false,
      dayCutPhase: dayCutPhaseOption(values['day-cut-phase'], values['no-day-cut-phase'], env.TALLY_BENCH_DAY_CUT_PHASE),
      dayCutWindowSeconds: seconds('--day-cut-window', values['day-cut-window'] ?? env.TALLY_BENCH_DAY_CUT_WINDOW ?? String(durationSeconds), 0.1),
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
    connections: { type: 'string' },
    'in-flight': { type: 'string' },
    out: { type: 'string' },
    'server-cpu-prof': { type: 'boolean' },
    'echo-server': { type: 'boolean' },
    'day-cut-phase': { type: 'boolean' },
    'no-day-cut-phase': { type: 'boolean' },
    'day-cut-window': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  return parseFlags(argv, options, (message) => new LoadUsageError(message));
}

function integer(name: string, text: string, min: number, max: number): number {
  return integerOption(name, text, min, max, (message) => new LoadUsageError(message));
}

function seconds(name: string, text: string, min: number): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value) || value < min || value > 3600) throw new LoadUsageError(`${name} must be seconds in ${min}..3600, got ${JSON.stringify(text)}`);
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

function batchList(text: string): number[] {
  const sizes = text.split(',').map((part) => integer('--batches', part.trim(), 1, batchEventsMax));
  if (sizes.length === 0) throw new LoadUsageError('--batches needs at least one size');
  return sizes;
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
