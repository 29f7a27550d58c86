// Options of `tally serve`: flags first, then TALLY_* environment variables, then defaults.
// Every invalid value is refused with a message naming the option; nothing is clamped.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseDayCutSchedule } from '../core/business-day.js';
import { parseChart } from '../core/chart-of-accounts.js';
import { hotApplyIntervalMsMax, shardCountMax } from '../core/limits.js';
import { hotOutboundDefault, type HotOutboundOptions } from '../shards/hot-outbound-keeper.js';
import { hotInboundDefault, type HotInboundOptions } from '../shards/shard-messages.js';
import { integerOption, parseFlags } from './option-values.js';

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  shardCount: number;
  /** When business days end; `scheduled` false: only on an operator's close_day. */
  dayCut: { cutTime: string; timeZone: string; scheduled: boolean };
  /** Chart of accounts file, or null for the default chart. */
  chartPath: string | null;
  /** Hot-inbound accounts: summary interval and automatic marking. */
  hotInbound: HotInboundOptions;
  /** Hot-outbound accounts: slice refills and timed compensation. */
  hotOutbound: HotOutboundOptions;
}

/** A command-line mistake: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The help text to print after the message. */
    readonly usage: string = serveUsage,
  ) {
    super(message);
  }
}

export const serveUsage = `usage: tally serve [--port N] [--host H] [--data DIR] [--shards N] [--day-cut HH:MM|manual] [--time-zone TZ] [--chart FILE]
                   [--hot-apply-ms N] [--hot-threshold N] [--hot-unmark-quiet S] [--hot-refill-ms N] [--hot-compensate-ms N]

  --port N        TCP port, 0 for any free port    (env TALLY_PORT, default 3000)
  --host H        address to listen on              (env TALLY_HOST, default 127.0.0.1)
  --data DIR      directory of the shards' stores   (env TALLY_DATA, default ./data)
  --shards N      shards, 1..${shardCountMax}                  (env TALLY_SHARDS, default: CPUs up to ${shardCountMax})
  --day-cut T     local time the business day ends, or 'manual' for operator cuts only
                                                    (env TALLY_DAY_CUT, default 00:00)
  --time-zone TZ  IANA zone of the day cut          (env TALLY_TIME_ZONE, default UTC)
  --chart FILE    chart of accounts (JSON)          (env TALLY_CHART, default: the built-in chart)
  --hot-apply-ms N      hot-inbound accounts: ms between summary postings of their buffered credits,
                        1..${hotApplyIntervalMsMax}          (env TALLY_HOT_APPLY_MS, default ${hotInboundDefault.applyIntervalMs})
  --hot-threshold N     credits per second that mark an account hot-inbound by itself, 0 = never
                                                    (env TALLY_HOT_THRESHOLD, default ${hotInboundDefault.autoMarkCreditsPerSecond})
  --hot-unmark-quiet S  seconds below half the threshold that end an automatic mark
                                                    (env TALLY_HOT_UNMARK_QUIET, default ${hotInboundDefault.unmarkQuietSeconds})
  --hot-refill-ms N     hot-outbound accounts: ms between looks at their slices (refills)
                                                    (env TALLY_HOT_REFILL_MS, default ${hotOutboundDefault.refillMs})
  --hot-compensate-ms N ms between timed compensations (idle slices return home)
                                                    (env TALLY_HOT_COMPENSATE_MS, default ${hotOutboundDefault.compensateMs})
  -h, --help      print this help`;

export type ServeCommand = { kind: 'help' } | { kind: 'serve'; options: ServeOptions };

/** Parses `argv` (after the command name) with `env` as fallback. Throws UsageError. */
export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ServeCommand {
  const { values } = parseOrUsage(argv);
  if (values.help) return { kind: 'help' };
  return {
    kind: 'serve',
    options: {
      port: integer('--port', values.port ?? env.TALLY_PORT ?? '3000', 0, 65535),
      host: textOption('--host', values.host ?? env.TALLY_HOST ?? '127.0.0.1'),
      dataDir: textOption('--data', values.data ?? env.TALLY_DATA ?? './data'),
      shardCount: integer('--shards', values.shards ?? env.TALLY_SHARDS ?? String(Math.min(availableParallelism(), shardCountMax)), 1, shardCountMax),
      dayCut: dayCutOption(values['day-cut'] ?? env.TALLY_DAY_CUT ?? '00:00', values['time-zone'] ?? env.TALLY_TIME_ZONE ?? 'UTC'),
      chartPath: chartOption(values.chart ?? env.TALLY_CHART),
      hotInbound: {
        applyIntervalMs: integer('--hot-apply-ms', values['hot-apply-ms'] ?? env.TALLY_HOT_APPLY_MS ?? String(hotInboundDefault.applyIntervalMs), 1, hotApplyIntervalMsMax),
        autoMarkCreditsPerSecond: integer('--hot-threshold', values['hot-threshold'] ?? env.TALLY_HOT_THRESHOLD ?? String(hotInboundDefault.autoMarkCreditsPerSecond), 0, 1_000_000_000),
        unmarkQuietSeconds: integer('--hot-unmark-quiet', values['hot-unmark-quiet'] ?? env.TALLY_HOT_UNMARK_QUIET ?? String(hotInboundDefault.unmarkQuietSeconds), 1, 86_400),
      },
      hotOutbound: {
        refillMs: integer('--hot-refill-ms', values['hot-refill-ms'] ?? env.TALLY_HOT_REFILL_MS ?? String(hotOutboundDefault.refillMs), 1, 60_000),
        compensateMs: integer('--hot-compensate-ms', values['hot-compensate-ms'] ?? env.TALLY_HOT_COMPENSATE_MS ?? String(hotOutboundDefault.compensateMs), 1, 3_600_000),
      },
    },
  };
}

function dayCutOption(cut: string, timeZone: string): ServeOptions['dayCut'] {
  const scheduled = cut !== 'manual';
  try {
    // A manual day still needs a zone and a time to name its first day by the calendar.
    const schedule = parseDayCutSchedule(scheduled ? cut : '00:00', timeZone);
    return { cutTime: schedule.cutTime, timeZone: schedule.timeZone, scheduled };
  } catch (error) {
    throw new UsageError(`--day-cut/--time-zone: ${(error as Error).message}`);
  }
}

function chartOption(path: string | undefined): string | null {
  if (path === undefined) return null;
  try {
    parseChart(JSON.parse(readFileSync(path, 'utf8')) as unknown);
  } catch (error) {
    throw new UsageError(`--chart ${path}: ${(error as Error).message}`);
  }
  return path;
}

function parseOrUsage(argv: readonly string[]) {
  const options = {
    port: { type: 'string' },
    host: { type: 'string' },
    data: { type: 'string' },
    shards: { type: 'string' },
    'day-cut': { type: 'string' },
    'time-zone': { type: 'string' },
    chart: { type: 'string' },
    'hot-apply-ms': { type: 'string' },
    'hot-threshold': { type: 'string' },
    'hot-unmark-quiet': { type: 'string' },
    'hot-refill-ms': { type: 'string' },
    'hot-compensate-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  return parseFlags(argv, options, (message) => new UsageError(message));
}

function integer(name: string, text: string, min: number, max: number): number {
  return integerOption(name, text, min, max, (message) => new UsageError(message));
}

function textOption(name: string, text: string): string {
  if (text.trim() === '') throw new UsageError(`${name} must not be empty`);
  return text;
}
