// Options of `tally serve`: flags first, then TALLY_* environment variables, then defaults.
// Every invalid value is refused with a message naming the option; nothing is clamped.

import { parseChannels } from '../core/recon/channel-config-parse.js';
import type { ChannelsFile } from '../core/recon/channel-config.js';
import { readSettleConfig, type SettleConfig } from '../core/settle/settle-config.js';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseDayCutSchedule } from '../core/business-day.js';
import { parseChart } from '../core/books/chart-of-accounts.js';
import {
  cacheIdsMax,
  cacheIdsOtherDefault,
  cacheTransferIdsDefault,
  checkpointEntriesMax,
  checkpointSecondsMax,
  eventsPerSecondMax,
  hotApplyIntervalMsMax,
  shardCountMax,
  shutdownDeadlineMsDefault,
  shutdownDeadlineMsMax,
} from '../core/limits.js';
import { isLoopbackHost, readKeysFile, type ApiKey } from '../gateway/auth.js';
import type { TlsFiles } from '../gateway/server.js';
import { hotOutboundDefault, type HotOutboundOptions } from '../shards/set/hot-outbound-keeper.js';
import { checkpointCountGapMsDefault, checkpointDefault, hotInboundDefault, type CheckpointOptions, type HotInboundOptions } from '../shards/shard/shard-messages.js';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isLogLevel, logLevels, type LogLevel } from './logger.js';
import { checkClusterName, checkNodeName, replicationDefaults, type ReplicationOptions } from '../shards/replication/journal-stream.js';
import { hostname } from 'node:os';
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
  /** Reconciliation's channels (issue #17), read and checked, or null: the recon operations answer not configured. */
  reconChannels: { path: string; file: ChannelsFile } | null;
  /** Settlement's accounts, merchants and calendar (issue #18), read and checked, or null: the settle operations answer not configured. */
  settleConfig: { path: string; config: SettleConfig } | null;
  /** Hot-inbound accounts: summary interval and automatic marking. */
  hotInbound: HotInboundOptions;
  /** Hot-outbound accounts: slice refills and timed compensation. */
  hotOutbound: HotOutboundOptions;
  /** How often each shard flushes its history to disk (a flush_history entry; checkpoints follow them). */
  checkpoint: CheckpointOptions;
  /** The API keys file, read and checked; null: authentication is off (allowed only on a loopback host). */
  keys: { path: string; entries: readonly ApiKey[] } | null;
  /** TLS certificate and key (PEM files), or null for plain ws:// and http://. */
  tls: TlsFiles | null;
  /** Events per second of a key without its own rate (auth off: of each connection); 0 = unlimited. */
  keyRate: number;
  /** Transfer events per second per account (as debit or credit); 0 = no per-account limit. */
  accountRate: number;
  /** Scheduled backups (a snapshot every `everyMinutes` into `dir`, pruned), or null when off. */
  backup: { dir: string; everyMinutes: number; hourly: number; daily: number } | null;
  /** Least severe log level printed. */
  logLevel: LogLevel;
  /** Longest a shutdown (SIGTERM, SIGINT) may take before the process exits anyway, with status 1. */
  shutdownDeadlineMs: number;
  /** Ids per generation of each shard's id caches: transfer ids, and each of the other id tables. */
  idCache: { transferIds: number; idsOther: number };
  /** Replicated mode (issue #15): every shard's journal also on JetStream; null: embedded (no external service). */
  replication: ReplicationOptions | null;
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
                   [--checkpoint-entries N] [--checkpoint-seconds T]
                   [--keys FILE] [--tls-cert FILE --tls-key FILE] [--key-rate N] [--account-rate N]
                   [--backup-dir DIR [--backup-every-minutes N] [--backup-hourly N] [--backup-daily N]]
                   [--log-level L] [--shutdown-deadline-ms N] [--cache-transfer-ids N] [--cache-ids-other N]
                   [--nats URL[,URL...] [--node NAME] [--nats-cluster NAME] [--nats-replicas N] [--nats-ack-ms N]]
                   [--config FILE]

  --port N        TCP port, 0 for any free port    (env TALLY_PORT, default 3000)
  --host H        address to listen on              (env TALLY_HOST, default 127.0.0.1)
  --data DIR      directory of the shards' stores   (env TALLY_DATA, default ./data)
  --shards N      shards, 1..${shardCountMax}                  (env TALLY_SHARDS, default: CPUs up to ${shardCountMax})
  --day-cut T     local time the business day ends, or 'manual' for operator cuts only
                                                    (env TALLY_DAY_CUT, default 00:00)
  --time-zone TZ  IANA zone of the day cut          (env TALLY_TIME_ZONE, default UTC)
  --chart FILE    chart of accounts (JSON)          (env TALLY_CHART, default: the built-in chart)
  --recon-channels FILE  reconciliation's channels (JSON; config/recon-channels.example.json)
                                                    (env TALLY_RECON_CHANNELS, default: none)
  --settle-config FILE   clearing and settlement's channels, merchants, calendar (JSON;
                         config/settle.example.json)  (env TALLY_SETTLE_CONFIG, default: none)
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
  --checkpoint-entries N  journal entries between two history flushes of a shard (its history index moves
                        to disk; a checkpoint follows), 1..${checkpointEntriesMax}; at most one such flush every
                        ${checkpointCountGapMsDefault / 1000} s (small entries reach the count often; each flush stalls the shard briefly)
                                                    (env TALLY_CHECKPOINT_ENTRIES, default ${checkpointDefault.entries})
  --checkpoint-seconds T  longest time between two history flushes of a shard that wrote, 1..${checkpointSecondsMax}
                                                    (env TALLY_CHECKPOINT_SECONDS, default ${checkpointDefault.seconds})
  --keys FILE     API keys (JSON, made by \`tally keys new\`): every call needs one, with the scope its
                  operation needs (read, post, admin)    (env TALLY_KEYS; without it authentication is
                  off, which is allowed only when --host is a loopback address)
  --tls-cert FILE --tls-key FILE
                  serve wss:// and https:// with this PEM certificate and key, both or neither
                                                    (env TALLY_TLS_CERT, TALLY_TLS_KEY)
  --key-rate N    events per second of each key without its own eventsPerSecond (without keys: of each
                  connection), burst one second's worth; 0 = unlimited   (env TALLY_KEY_RATE, default 0)
  --account-rate N  transfer events per second per account, as debit or credit; events past it get the
                  result rate_limited, 0 = off           (env TALLY_ACCOUNT_RATE, default 0)
  --backup-dir DIR          a snapshot into DIR every --backup-every-minutes (default 60), then pruning:
                            the newest of each of the last --backup-hourly hours (24) and --backup-daily
                            days (7) are kept   (env TALLY_BACKUP_DIR, TALLY_BACKUP_EVERY_MINUTES,
                            TALLY_BACKUP_HOURLY, TALLY_BACKUP_DAILY; default: no backups)
  --log-level L   error, warn, info or debug: JSON lines on stdout   (env TALLY_LOG_LEVEL, default info)
  --shutdown-deadline-ms N  on SIGTERM or SIGINT the server stops taking requests, answers or refuses those in
                  flight, closes its stores and exits 0; past N ms it exits 1 anyway, logging what it was waiting
                  for (nothing acknowledged is lost: acknowledgements follow their fsync), 1..${shutdownDeadlineMsMax}
                                                    (env TALLY_SHUTDOWN_DEADLINE_MS, default ${shutdownDeadlineMsDefault})
  --cache-transfer-ids N  recent transfer ids each shard keeps in memory, per generation (two live: ~128 B
                  per id in all); older ids are read from the journal's id index on disk, so a retry of any
                  age still answers as before, 1..${cacheIdsMax}   (env TALLY_CACHE_TRANSFER_IDS, default ${cacheTransferIdsDefault})
  --cache-ids-other N     the same for each of the six other id tables (failed ids, account operations, closed holds,
                  cross-shard credits), 1..${cacheIdsMax}          (env TALLY_CACHE_IDS_OTHER, default ${cacheIdsOtherDefault})
  --nats URLS     replicated mode: every shard's journal entries also go to its own NATS JetStream stream
                  (tally.<cluster>.shard.<i>, file storage, kept forever) and a write is acknowledged only once
                  JetStream holds it (a majority of the stream's replicas) as well as the local disk. Without
                  it Tally runs embedded, needing no external service   (env TALLY_NATS, comma-separated)
  --node NAME     this node's name on what it publishes      (env TALLY_NODE, default: the host name)
  --nats-cluster NAME  names the streams: several ledgers can share one NATS
                                                    (env TALLY_NATS_CLUSTER, default ${replicationDefaults.cluster})
  --nats-replicas N    replicas of each stream Tally creates, 1..5; 0: 3 when the NATS server is clustered, else 1
                                                    (env TALLY_NATS_REPLICAS, default 0)
  --nats-ack-ms N ms a write waits for JetStream's acknowledgement before it is answered \`unavailable\`
                  (outcome unknown; it is published once JetStream answers), 100..600000
                                                    (env TALLY_NATS_ACK_MS, default ${replicationDefaults.ackWaitMs})
  --config FILE   a JSON object of these options (names without dashes, e.g. {"port": 4000, "day-cut": "23:30"});
                  flags and TALLY_* variables win over it; relative paths are from the file's directory
                                                    (env TALLY_CONFIG)
  -h, --help      print this help`;

export type ServeCommand = { kind: 'help' } | { kind: 'serve'; options: ServeOptions };

/** Parses `argv` (after the command name) with `env` as fallback. Throws UsageError. */
export function parseServeArgs(argv: readonly string[], processEnv: NodeJS.ProcessEnv): ServeCommand {
  const { values } = parseOrUsage(argv);
  if (values.help) return { kind: 'help' };
  // The config file fills in what neither a flag nor an environment variable gives: flags > env > file > defaults.
  const env = { ...configAsEnv(values.config ?? processEnv.TALLY_CONFIG), ...processEnv };
  const logLevel = values['log-level'] ?? env.TALLY_LOG_LEVEL ?? 'info';
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level must be one of ${logLevels.join(', ')}, got ${JSON.stringify(logLevel)}`);
  const host = textOption('--host', values.host ?? env.TALLY_HOST ?? '127.0.0.1');
  const keys = keysOption(values.keys ?? env.TALLY_KEYS);
  if (keys === null && !isLoopbackHost(host)) {
    throw new UsageError(`--host ${host} is not a loopback address: give --keys FILE (make keys with \`tally keys new\`) so that callers must authenticate`);
  }
  return {
    kind: 'serve',
    options: {
      port: integer('--port', values.port ?? env.TALLY_PORT ?? '3000', 0, 65535),
      host,
      dataDir: textOption('--data', values.data ?? env.TALLY_DATA ?? './data'),
      shardCount: integer('--shards', values.shards ?? env.TALLY_SHARDS ?? String(Math.min(availableParallelism(), shardCountMax)), 1, shardCountMax),
      dayCut: dayCutOption(values['day-cut'] ?? env.TALLY_DAY_CUT ?? '00:00', values['time-zone'] ?? env.TALLY_TIME_ZONE ?? 'UTC'),
      chartPath: chartOption(values.chart ?? env.TALLY_CHART),
      reconChannels: reconChannelsOption(values['recon-channels'] ?? env.TALLY_RECON_CHANNELS),
      settleConfig: settleConfigOption(values['settle-config'] ?? env.TALLY_SETTLE_CONFIG),
      hotInbound: {
        applyIntervalMs: integer('--hot-apply-ms', values['hot-apply-ms'] ?? env.TALLY_HOT_APPLY_MS ?? String(hotInboundDefault.applyIntervalMs), 1, hotApplyIntervalMsMax),
        autoMarkCreditsPerSecond: integer('--hot-threshold', values['hot-threshold'] ?? env.TALLY_HOT_THRESHOLD ?? String(hotInboundDefault.autoMarkCreditsPerSecond), 0, 1_000_000_000),
        unmarkQuietSeconds: integer('--hot-unmark-quiet', values['hot-unmark-quiet'] ?? env.TALLY_HOT_UNMARK_QUIET ?? String(hotInboundDefault.unmarkQuietSeconds), 1, 86_400),
      },
      hotOutbound: {
        refillMs: integer('--hot-refill-ms', values['hot-refill-ms'] ?? env.TALLY_HOT_REFILL_MS ?? String(hotOutboundDefault.refillMs), 1, 60_000),
        compensateMs: integer('--hot-compensate-ms', values['hot-compensate-ms'] ?? env.TALLY_HOT_COMPENSATE_MS ?? String(hotOutboundDefault.compensateMs), 1, 3_600_000),
      },
      checkpoint: {
        entries: integer('--checkpoint-entries', values['checkpoint-entries'] ?? env.TALLY_CHECKPOINT_ENTRIES ?? String(checkpointDefault.entries), 1, checkpointEntriesMax),
        seconds: integer('--checkpoint-seconds', values['checkpoint-seconds'] ?? env.TALLY_CHECKPOINT_SECONDS ?? String(checkpointDefault.seconds), 1, checkpointSecondsMax),
        countGapMs: checkpointCountGapMsDefault,
      },
      keys,
      tls: tlsOption(values['tls-cert'] ?? env.TALLY_TLS_CERT, values['tls-key'] ?? env.TALLY_TLS_KEY),
      keyRate: integer('--key-rate', values['key-rate'] ?? env.TALLY_KEY_RATE ?? '0', 0, eventsPerSecondMax),
      accountRate: integer('--account-rate', values['account-rate'] ?? env.TALLY_ACCOUNT_RATE ?? '0', 0, eventsPerSecondMax),
      backup: backupOption(values, env),
      logLevel,
      shutdownDeadlineMs: integer('--shutdown-deadline-ms', values['shutdown-deadline-ms'] ?? env.TALLY_SHUTDOWN_DEADLINE_MS ?? String(shutdownDeadlineMsDefault), 1, shutdownDeadlineMsMax),
      idCache: {
        transferIds: integer('--cache-transfer-ids', values['cache-transfer-ids'] ?? env.TALLY_CACHE_TRANSFER_IDS ?? String(cacheTransferIdsDefault), 1, cacheIdsMax),
        idsOther: integer('--cache-ids-other', values['cache-ids-other'] ?? env.TALLY_CACHE_IDS_OTHER ?? String(cacheIdsOtherDefault), 1, cacheIdsMax),
      },
      replication: replicationOption(values, env),
    },
  };
}

function replicationOption(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): ReplicationOptions | null {
  const text = (values.nats as string | undefined) ?? env.TALLY_NATS;
  const rest = ['node', 'nats-cluster', 'nats-replicas', 'nats-ack-ms'].filter((name) => values[name] !== undefined);
  if (text === undefined) {
    if (rest.length > 0) throw new UsageError(`--${rest[0]} needs --nats`);
    return null;
  }
  const servers = text.split(',').map((url) => url.trim()).filter((url) => url.length > 0);
  if (servers.length === 0) throw new UsageError('--nats needs at least one URL, e.g. nats://127.0.0.1:4222');
  for (const url of servers) if (!/^(nats|tls):\/\/[^\s/]+$|^[^\s/:]+:\d+$/.test(url)) throw new UsageError(`--nats: ${JSON.stringify(url)} is not a NATS URL (nats://host:port)`);
  const cluster = (values['nats-cluster'] as string | undefined) ?? env.TALLY_NATS_CLUSTER ?? replicationDefaults.cluster;
  const badCluster = checkClusterName(cluster);
  if (badCluster !== null) throw new UsageError(`--nats-cluster: ${badCluster}`);
  const node = (values.node as string | undefined) ?? env.TALLY_NODE ?? hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);
  const badNode = checkNodeName(node);
  if (badNode !== null) throw new UsageError(`--node: ${badNode}`);
  return {
    servers,
    cluster,
    node,
    replicas: integer('--nats-replicas', (values['nats-replicas'] as string | undefined) ?? env.TALLY_NATS_REPLICAS ?? String(replicationDefaults.replicas), 0, 5),
    ackWaitMs: integer('--nats-ack-ms', (values['nats-ack-ms'] as string | undefined) ?? env.TALLY_NATS_ACK_MS ?? String(replicationDefaults.ackWaitMs), 100, 600_000),
  };
}

function backupOption(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): ServeOptions['backup'] {
  const dir = (values['backup-dir'] as string | undefined) ?? env.TALLY_BACKUP_DIR;
  const timing = ['backup-every-minutes', 'backup-hourly', 'backup-daily'].filter((name) => values[name] !== undefined);
  if (dir === undefined) {
    if (timing.length > 0) throw new UsageError(`--${timing[0]} needs --backup-dir`);
    return null;
  }
  return {
    dir: textOption('--backup-dir', dir),
    everyMinutes: integer('--backup-every-minutes', (values['backup-every-minutes'] as string | undefined) ?? env.TALLY_BACKUP_EVERY_MINUTES ?? '60', 1, 525_600),
    hourly: integer('--backup-hourly', (values['backup-hourly'] as string | undefined) ?? env.TALLY_BACKUP_HOURLY ?? '24', 0, 100_000),
    daily: integer('--backup-daily', (values['backup-daily'] as string | undefined) ?? env.TALLY_BACKUP_DAILY ?? '7', 0, 100_000),
  };
}

/** Options that name files: relative paths in a config file are taken from the file's directory. */
const pathOptions = new Set(['data', 'chart', 'recon-channels', 'settle-config', 'keys', 'tls-cert', 'tls-key', 'backup-dir']);

/**
 * A config file (JSON: flag names without dashes as keys, e.g. {"port": 4000, "day-cut": "23:30"}) as the
 * TALLY_* variables those flags read, so it slots in below the real environment. Unknown keys are refused.
 */
function configAsEnv(path: string | undefined): Record<string, string> {
  if (path === undefined) return {};
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    throw new UsageError(`--config ${path}: ${(error as Error).message}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new UsageError(`--config ${path}: not a JSON object of options`);
  const known = new Set(Object.keys(serveFlags).filter((name) => name !== 'help' && name !== 'config'));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(config)) {
    if (!known.has(name)) throw new UsageError(`--config ${path}: unknown option ${JSON.stringify(name)} (options are the flag names of tally serve --help, without dashes)`);
    if (typeof value !== 'string' && typeof value !== 'number') throw new UsageError(`--config ${path}: ${name} must be a string or a number`);
    const text = String(value);
    env[`TALLY_${name.toUpperCase().replaceAll('-', '_')}`] = pathOptions.has(name) && !isAbsolute(text) ? resolve(dirname(path), text) : text;
  }
  return env;
}

function keysOption(path: string | undefined): ServeOptions['keys'] {
  if (path === undefined) return null;
  if (path.trim() === '') throw new UsageError('--keys must not be empty');
  try {
    return { path, entries: readKeysFile(path) };
  } catch (error) {
    throw new UsageError(`--keys: ${(error as Error).message}`);
  }
}

function tlsOption(certFile: string | undefined, keyFile: string | undefined): TlsFiles | null {
  if (certFile === undefined && keyFile === undefined) return null;
  if (certFile === undefined || keyFile === undefined) throw new UsageError('--tls-cert and --tls-key go together: give both or neither');
  for (const [name, file] of [['--tls-cert', certFile], ['--tls-key', keyFile]] as const) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`${name}: cannot read ${file}: ${(error as Error).message}`);
    }
    if (!text.includes('-----BEGIN ')) throw new UsageError(`${name}: ${file} is not a PEM file`);
  }
  return { certFile, keyFile };
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

function reconChannelsOption(path: string | undefined): ServeOptions['reconChannels'] {
  if (path === undefined) return null;
  try {
    return { path, file: parseChannels(JSON.parse(readFileSync(path, 'utf8')) as unknown) };
  } catch (error) {
    throw new UsageError(`--recon-channels ${path}: ${(error as Error).message}`);
  }
}

function settleConfigOption(path: string | undefined): ServeOptions['settleConfig'] {
  if (path === undefined) return null;
  try {
    return { path, config: readSettleConfig(JSON.parse(readFileSync(path, 'utf8')) as unknown) };
  } catch (error) {
    throw new UsageError(`--settle-config ${path}: ${(error as Error).message}`);
  }
}

function parseOrUsage(argv: readonly string[]) {
  return parseFlags(argv, serveFlags, (message) => new UsageError(message));
}

const serveFlags = {
  port: { type: 'string' },
  host: { type: 'string' },
  data: { type: 'string' },
  shards: { type: 'string' },
  'day-cut': { type: 'string' },
  'time-zone': { type: 'string' },
  chart: { type: 'string' },
  'recon-channels': { type: 'string' },
  'settle-config': { type: 'string' },
  'hot-apply-ms': { type: 'string' },
  'hot-threshold': { type: 'string' },
  'hot-unmark-quiet': { type: 'string' },
  'hot-refill-ms': { type: 'string' },
  'hot-compensate-ms': { type: 'string' },
  'checkpoint-entries': { type: 'string' },
  'checkpoint-seconds': { type: 'string' },
  keys: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'key-rate': { type: 'string' },
  'account-rate': { type: 'string' },
  'backup-dir': { type: 'string' },
  'backup-every-minutes': { type: 'string' },
  'backup-hourly': { type: 'string' },
  'backup-daily': { type: 'string' },
  'log-level': { type: 'string' },
  'shutdown-deadline-ms': { type: 'string' },
  'cache-transfer-ids': { type: 'string' },
  'cache-ids-other': { type: 'string' },
  nats: { type: 'string' },
  node: { type: 'string' },
  'nats-cluster': { type: 'string' },
  'nats-replicas': { type: 'string' },
  'nats-ack-ms': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function integer(name: string, text: string, min: number, max: number): number {
  return integerOption(name, text, min, max, (message) => new UsageError(message));
}

function textOption(name: string, text: string): string {
  if (text.trim() === '') throw new UsageError(`${name} must not be empty`);
  return text;
}

export const followUsage = `usage: tally follow --nats URL[,URL...] [--delay D] [--data DIR] [--port N] [--shards N] [tally serve's other options]

A live replica of a ledger running in replicated mode (issue #15): it reads every shard's JetStream stream, applies
each entry as a restart replays it (every stored result re-derived and compared) into its own data directory, and
serves reads — lookups, histories, statements, day reports, snapshots — while writes answer not_primary naming
the primary. Its lag is in GET /health (replication) and GET /metrics (tally_replication_lag_*).

  --nats URLS     the NATS servers holding the streams (as tally serve --nats), with the same --nats-cluster
  --delay D       a delayed replica: apply an entry only once JetStream has held it this long (e.g. 30s, 15m, 1h,
                  2d; default 0): a bad batch on the primary can be caught before it reaches it (env TALLY_FOLLOW_DELAY)
  --until TIME    apply only what JetStream stored up to TIME (ISO 8601, e.g. 2026-12-07T09:30:00Z), then hold: the
                  point a delayed replica is promoted at after a bad batch — stop the primary and this follower,
                  then start \`tally serve --nats … --nats-cluster NEW\` on its data dir: new streams begin from
                  it, the old ones stay as they were   (env TALLY_FOLLOW_UNTIL)
  --shards N      must be the primary's; default: the number of shard streams found
  (every other option of tally serve: --data, --port, --host, --keys, --backup-dir, …)`;

export type FollowCommand = { kind: 'help' } | { kind: 'follow'; options: ServeOptions & { replication: ReplicationOptions }; delayMs: number; untilMs: number | null; shardsGiven: boolean };

/** Parses `tally follow`'s arguments: tally serve's, `--delay`, and --nats required. Throws UsageError. */
export function parseFollowArgs(argv: readonly string[], processEnv: NodeJS.ProcessEnv): FollowCommand {
  const rest: string[] = [];
  let delayText: string | undefined = processEnv.TALLY_FOLLOW_DELAY;
  let untilText: string | undefined = processEnv.TALLY_FOLLOW_UNTIL;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--delay') {
      delayText = argv[++i];
      if (delayText === undefined) throw new UsageError('--delay needs a duration, e.g. 1h', followUsage);
    } else if (arg.startsWith('--delay=')) delayText = arg.slice('--delay='.length);
    else if (arg === '--until') {
      untilText = argv[++i];
      if (untilText === undefined) throw new UsageError('--until needs a time, e.g. 2026-12-07T09:30:00Z', followUsage);
    } else if (arg.startsWith('--until=')) untilText = arg.slice('--until='.length);
    else rest.push(arg);
  }
  let untilMs: number | null = null;
  if (untilText !== undefined) {
    untilMs = Date.parse(untilText);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(untilText) || !Number.isFinite(untilMs)) throw new UsageError(`--until must be an ISO 8601 time such as 2026-12-07T09:30:00Z, got ${JSON.stringify(untilText)}`, followUsage);
  }
  const parsed = parseServeArgs(rest, processEnv);
  if (parsed.kind === 'help') return { kind: 'help' };
  const { replication } = parsed.options;
  if (replication === null) throw new UsageError('tally follow needs --nats URL (the NATS servers holding the primary\'s streams)', followUsage);
  const shardsGiven = rest.some((arg) => arg === '--shards' || arg.startsWith('--shards=')) || processEnv.TALLY_SHARDS !== undefined;
  return { kind: 'follow', options: { ...parsed.options, replication }, delayMs: delayText === undefined ? 0 : durationMs('--delay', delayText), untilMs, shardsGiven };
}

function durationMs(name: string, text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (match === null) throw new UsageError(`${name} must be a duration such as 500ms, 30s, 15m, 1h or 2d, got ${JSON.stringify(text)}`, followUsage);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 'ms') as 'ms'];
  const ms = Number(match[1]) * unit;
  if (!Number.isSafeInteger(ms) || ms > 30 * 86_400_000) throw new UsageError(`${name} is at most 30d, got ${JSON.stringify(text)}`, followUsage);
  return ms;
}
