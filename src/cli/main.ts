#!/usr/bin/env node
// The `tally` command. Thin: parses options, starts the shards and the gateway, and shuts both down
// on SIGINT/SIGTERM — the gateway first (no new requests, in-flight ones answered or refused), then the
// shards, then the admin store (audit log, adjustments) — within --shutdown-deadline-ms, or exits anyway.

import { AdminService } from '../admin/admin-service.js';
import { startServer } from '../gateway/server.js';
import { AdminStore } from '../admin/admin-store.js';
import { ReconService } from '../recon/recon-service.js';
import { ReconStore } from '../recon/recon-store.js';
import { SettleService } from '../settle/settle-service.js';
import { SettleStore } from '../settle/settle-store.js';
import { AdminReplica } from '../admin/admin-replica.js';
import { lookupCommand } from './lookup.js';
import { queryCommand } from './query.js';
import { reconCommand } from './recon.js';
import { settleCommand } from './settle.js';
import { NativeGatewayMissing, nativeUws } from '../gateway/native-uws.js';
import { BusinessCalendar, parseDayCutSchedule } from '../core/business-day.js';
import { backupDirProblem, scheduleBackups } from '../shards/snapshots/backups.js';
import { startShards, type ShardSet, type StartShardsOptions } from '../shards/set/shard-set.js';
import type { LedgerService } from '../gateway/ledger-service.js';
import { errors, type TallyError } from '../core/errors.js';
import { SwitchableService } from './switchable-service.js';
import { ReplicatedNode } from './replicated-node.js';
import { jsonLineSink, jsonLogger } from './logger.js';
import { auditCommand } from './audit.js';
import { backupCommand } from './backup.js';
import { restoreCommand } from './restore.js';
import { snapshotCommand } from './snapshot.js';
import { closeDayCommand } from './close-day.js';
import { keysCommand } from './keys.js';
import { verifyCommand } from './verify.js';
import { tailCommand } from './tail.js';
import { monitorCommand } from './monitor.js';
import { UsageError, followUsage, parseFollowArgs, parseServeArgs, serveUsage, type ServeOptions } from './serve-options.js';
import { countShardStreams } from '../shards/replication/journal-stream.js';
import { shutdownDrainMsMax } from '../core/limits.js';

const usage = `usage: tally <command> [options]

commands:
  serve       run a Tally server (tally serve --help for its options)
  tail        the change stream of a replicated ledger: every event its journals committed (tally tail --help)
  monitor     balance monitors on that stream: an alert on NATS when a watched balance crosses a threshold
              (tally monitor --help)
  follow      a live (or --delay'd) replica of a server running with --nats: applies its JetStream streams,
              serves reads, refuses writes not_primary (tally follow --help)
  close-day   cut the business day on a running server and print its day report
              (tally close-day --help); exit status 1 when a check of the report failed
  audit       print the audit log of a running server: admin actions and refused calls
              (tally audit --help)
  account ID  look up an account on a running server: status, balances (tally account --help)
  transfer ID look up a transfer (tally transfer --help)
  history ID  an account's transfers with its balances after each (tally history --help)
  transfers   the transfers that match a filter: account, user data, ledger, code, status, time
              (tally transfers --help)
  accounts    the accounts that match a filter (tally accounts --help)
  recon check statement files (MT940/942, camt, WeChat bills) read and checked before reconciliation:
              balances, chains, summaries (tally recon --help); exit status 1 when a file is refused
  recon match a channel's statement of a closed day matched with the ledger both ways: mismatches,
              duplicates, missing either side (tally recon match --help); exit status 1 on exceptions
  recon import  a channel's statement reconciled and stored on the server as a batch (pending pool,
              duplicates refused); recon batches | show | exceptions read them (tally recon import --help)
  settle      clearing and settlement (清结算) of a run date: preview, run (posts the transfers), report a
              merchant's statement (--csv), fee strategies under maker–checker (tally settle --help);
              exit status 1 when a run failed
  keys new    make an API key: adds its hash to a keys file, prints its secret once
              (tally keys --help)
  snapshot    an online snapshot of a running server: one cut across all shards, a manifest
              with checksums (tally snapshot --help)
  restore     a snapshot into an empty data directory, every file checked (tally restore --help)
  backup      a snapshot into a backup directory, then pruning by policy: hourly N, daily M
              (tally backup --help; for cron — tally serve --backup-dir runs it from the server)
  verify      check a stopped server's data directory or a snapshot, changing nothing: replays every
              journal, checks balances, conservation, transit, the books (tally verify --help);
              exit status 1 when a check failed, 2 when the directory is no Tally data directory

exit status: 0 success, 1 the command ran and failed (it says why), 2 usage error`;

/** Resolves with the exit status, or 'running' while the server serves (it exits from its signal handler). */
async function main(argv: string[]): Promise<number | 'running'> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(usage);
    return command === undefined ? 2 : 0;
  }
  if (command === 'close-day') return closeDayCommand(rest, process.env);
  if (command === 'audit') return auditCommand(rest, process.env);
  if (command === 'account' || command === 'transfer' || command === 'history') return lookupCommand(command, rest, process.env);
  if (command === 'transfers' || command === 'accounts') return queryCommand(command, rest, process.env);
  if (command === 'recon') return reconCommand(rest);
  if (command === 'settle') return settleCommand(rest);
  if (command === 'keys') return keysCommand(rest, process.env);
  if (command === 'snapshot') return snapshotCommand(rest, process.env);
  if (command === 'restore') return restoreCommand(rest);
  if (command === 'backup') return backupCommand(rest, process.env);
  if (command === 'verify') return verifyCommand(rest, process.env);
  if (command === 'tail') return tailCommand(rest, process.env);
  if (command === 'monitor') return monitorCommand(rest, process.env);
  if (command === 'follow') {
    const parsed = parseFollowArgs(rest, process.env);
    if (parsed.kind === 'help') {
      console.log(followUsage);
      return 0;
    }
    const streams = await countShardStreams(parsed.options.replication);
    if (streams === 0) throw new UsageError(`no shard streams of cluster ${parsed.options.replication.cluster} at ${parsed.options.replication.servers.join(',')}: start the primary with --nats first`, followUsage);
    if (parsed.shardsGiven && parsed.options.shardCount !== streams) throw new UsageError(`--shards ${parsed.options.shardCount}, but the primary writes ${streams} shard streams`, followUsage);
    await serve({ ...parsed.options, shardCount: streams }, { delayMs: parsed.delayMs, ...(parsed.untilMs === null ? {} : { untilMs: parsed.untilMs }) });
    return 'running';
  }
  if (command !== 'serve') throw new UsageError(`unknown command ${JSON.stringify(command)}`, usage);
  const parsed = parseServeArgs(rest, process.env);
  if (parsed.kind === 'help') {
    console.log(serveUsage);
    return 0;
  }
  await serve(parsed.options);
  return 'running';
}

async function serve(options: ServeOptions, follow: { delayMs: number; untilMs?: number } | null = null): Promise<void> {
  // Before any store is opened: a Node without the gateway's native build never serves (gateway/native-uws.ts).
  nativeUws();
  const backupProblem = options.backup === null ? null : backupDirProblem(options.backup.dir, options.dataDir);
  if (backupProblem !== null) throw new UsageError(backupProblem, serveUsage);
  const log = jsonLogger(options.logLevel);
  // The audit log and the adjustments (DATA/admin); the gateway records into it, so it closes after the gateway.
  const admin = AdminStore.open(options.dataDir);
  // Reconciliation's files, batches and pools (DATA/recon, issue #17); closed with the admin store.
  const recon = ReconStore.open(options.dataDir);
  // Settlement's strategy changes, run state, runs and statements (DATA/settle, issue #18); closed with the admin store.
  const settle = SettleStore.open(options.dataDir);
  const startOptions = (extra: Pick<StartShardsOptions, 'follow' | 'writeGate'>): StartShardsOptions => ({
    dataDir: options.dataDir,
    shardCount: options.shardCount,
    dayCut: { ...options.dayCut, scheduled: false },
    chartPath: options.chartPath,
    hotInbound: options.hotInbound,
    hotOutbound: options.hotOutbound,
    accountRate: options.accountRate,
    checkpoint: options.checkpoint,
    idCache: options.idCache,
    ...(options.replication === null ? {} : { replication: options.replication }),
    ...extra,
  });
  // Day cuts are the primary's (a follower's come through the streams).
  const scheduleCuts = (set: ShardSet): void => {
    if (options.dayCut.scheduled) set.scheduleDays(new BusinessCalendar(parseDayCutSchedule(options.dayCut.cutTime, options.dayCut.timeZone)), jsonLineSink(log));
  };
  let inner: LedgerService;
  let current: () => ShardSet | null;
  let node: ReplicatedNode | null = null;
  let adminReplica: AdminReplica | null = null;
  if (options.replication === null) {
    const shards = await startShards(startOptions({})).catch(async (error: unknown) => {
      await admin.close();
      await recon.close();
      await settle.close();
      throw error;
    });
    scheduleCuts(shards);
    inner = shards;
    current = () => shards;
  } else {
    // Replicated (issue #15): the gateway listens first (answering unavailable); the node then takes its role.
    const switchable = new SwitchableService(options.shardCount);
    // DATA/admin is replicated too: a follower applies the admin log, the primary writes it (admin/admin-replica.ts).
    const replica = await AdminReplica.open(admin, options.replication, log).catch(async (error: unknown) => {
      await admin.close();
      await recon.close();
      await settle.close();
      throw error;
    });
    adminReplica = replica;
    const events = { onPrimary: scheduleCuts, onFollower: (refusal: TallyError, hold: { delayMs: number; untilMs?: number }) => replica.follow(refusal, hold), beforePrimary: (writeGate: () => Error | null) => replica.lead(writeGate) };
    node = new ReplicatedNode(options.replication, switchable, (extra) => startShards(startOptions(extra)), events, log);
    inner = switchable;
    current = () => switchable.current;
  }
  // Reconciliation runs on an embedded server: its store is not on the replicated streams yet.
  if (options.reconChannels !== null && options.replication !== null) log({ level: 'warn', msg: 'tally: --recon-channels is ignored in replicated mode (reconciliation runs on an embedded server in this version)' });
  const reconChannels = options.replication === null ? (options.reconChannels?.file ?? null) : null;
  if (options.settleConfig !== null && options.replication !== null) log({ level: 'warn', msg: 'tally: --settle-config is ignored in replicated mode (settlement runs on an embedded server in this version)' });
  const settleConfig = options.replication === null ? (options.settleConfig?.config ?? null) : null;
  const service = new SettleService(new ReconService(new AdminService(inner, admin), recon, reconChannels, admin), settle, settleConfig, recon, admin);
  // auditAdmin false: AdminService records every admin action itself (with its subject); the gateway records refusals.
  const access = { keys: options.keys?.entries, tls: options.tls ?? undefined, keyRate: options.keyRate, auditAdmin: false };
  const gatewayLog = (line: string): void => log({ level: 'warn', msg: line });
  // The gateway's drain takes at most half the shutdown deadline: the stores need the rest to close.
  const limits = { shutdownDrainMsMax: Math.min(shutdownDrainMsMax, Math.ceil(options.shutdownDeadlineMs / 2)) };
  const server = await startServer({ host: options.host, port: options.port, service, audit: admin, log: gatewayLog, limits, ...access }).catch(async (error: unknown) => {
    await service.close();
    await admin.close();
    await recon.close();
    await settle.close();
    throw error;
  });
  if (node !== null && options.replication !== null) {
    const { servers, cluster } = options.replication;
    log({ level: 'info', msg: `tally: replicated mode, node ${options.replication.node}: streams TALLY_${cluster}_SHARD_0..${options.shardCount - 1} at ${servers.join(',')}` });
    const started = node;
    await started.start(`${options.tls ? 'wss' : 'ws'}://${options.host}:${server.port}`, follow).catch(async (error: unknown) => {
      await server.close();
      await service.close();
      await started.close();
      await adminReplica?.close();
      await admin.close();
      await recon.close();
      await settle.close();
      throw error;
    });
  }
  if (options.keys === null) log({ level: 'warn', msg: `tally: warning: authentication is off (no --keys): every connection may read, post and run admin operations; allowed only because ${options.host} is a loopback address` });
  else log({ level: 'info', msg: `tally: ${options.keys.entries.length} API keys from ${options.keys.path}` });
  const snapshots = {
    startSnapshot: (out: string) => {
      const set = current();
      if (set === null) throw errors.unavailable('this node is changing roles');
      return set.startSnapshot(out);
    },
    snapshotSettled: () => current()?.snapshotSettled() ?? Promise.resolve(null),
  };
  const stopBackups = options.backup === null ? null : scheduleBackups(snapshots, { dir: options.backup.dir, everyMs: options.backup.everyMinutes * 60_000, policy: options.backup }, log);
  let stopping = false;
  /** What the shutdown waits for now, named in the log if it overruns its deadline. */
  let waitingFor = '';
  const stop = (signal: NodeJS.Signals) => {
    // A second signal while stopping means "now": give up on a clean shutdown.
    if (stopping) process.exit(1);
    stopping = true;
    const deadlineMs = options.shutdownDeadlineMs;
    log({ level: 'info', msg: `tally: ${signal}, shutting down`, deadlineMs });
    // Whatever is stuck, the process ends. Exiting here is a crash as far as the stores go, and loses nothing
    // acknowledged: every acknowledgement follows its fsync (shards, chain log, audit log), and the next start
    // recovers as after a kill. The timer is not unref'd: an empty event loop must not end the process with 0.
    const deadline = setTimeout(() => {
      const stuck = waitingFor === 'the ledger service' ? `the ledger service: ${current()?.closingStep() ?? 'closing'}` : waitingFor;
      log({ level: 'error', msg: `tally: shutdown did not finish within ${deadlineMs} ms (--shutdown-deadline-ms), exiting anyway; it was waiting for ${stuck}`, waitingFor: stuck });
      process.exit(1);
    }, deadlineMs);
    const steps: [string, () => Promise<unknown> | undefined][] = [
      ['the gateway: requests in flight', () => server.close()],
      ['the backup in progress', () => stopBackups?.()],
      ['the ledger service', () => service.close()],
      // After the shards drained (everything acknowledged is in the streams): a follower may take over at once.
      ['the primary lease', () => node?.close()],
      ['the admin log stream', () => adminReplica?.close()],
      ['the admin store (audit log, adjustments)', () => admin.close()],
      ['the recon store', () => recon.close()],
      ['the settle store', () => settle.close()],
    ];
    const run = async (): Promise<void> => {
      for (const [name, step] of steps) {
        waitingFor = name;
        await step();
      }
    };
    run().then(() => {
      clearTimeout(deadline);
      log({ level: 'info', msg: 'tally: shut down' });
      process.exit(0);
    }, (error: unknown) => {
      log({ level: 'error', msg: 'tally: shutdown failed', waitingFor, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      process.exit(1);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Printed whatever the level: tools and tests wait for this line. Only once the handlers are in place:
  // whoever waits for it may signal at once, and before them a SIGTERM ends the process with no shutdown.
  jsonLogger('debug')({ level: 'info', msg: `tally listening on ${options.tls ? 'https' : 'http'}://${options.host}:${server.port} (${options.shardCount} shards, data ${options.dataDir})`, port: server.port, shards: options.shardCount, dataDir: options.dataDir, event: 'listening' });
}

main(process.argv.slice(2)).then(
  (status) => {
    if (status !== 'running') process.exitCode = status;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`tally: ${error.message}\n\n${error.usage}`);
      process.exit(2);
    }
    if (error instanceof NativeGatewayMissing) {
      console.error(error.message);
      process.exit(1);
    }
    console.error('tally:', error);
    process.exit(1);
  },
);
