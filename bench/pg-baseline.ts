// The classic row-locked SQL ledger on PostgreSQL, as the baseline Tally is compared with (issue #4):
// a throwaway PostgreSQL 15 cluster (durable commits), 100k funded accounts, N connections each
// running the classic transfer transaction back to back for each workload (uniform, hot-credit,
// hot-debit). Prints progress each second, a table, the end checks, and writes bench/out/pg-baseline-….json.
// The cluster is always stopped and its temp dir removed: at the end, on errors, and on SIGINT/SIGTERM.
// Without the PostgreSQL server binaries it prints why, records {"skipped": …} and exits 0.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { machineInfo, type MachineInfo } from './load/report.js';
import { repoRoot } from '../test/support/server-process.js';
import { clusterUnavailable, clusterUser, durableSettings, newCluster, type PgCluster } from './pg/cluster.js';
import { runWorkload, TransferIds, type PgPhaseResult } from './pg/driver.js';
import { parsePgBaselineArgs, pgBaselineUsage, PgUsageError, type PgBaselineCommand, type PgBaselineOptions } from './pg/options.js';
import { phaseJson, printTable, printVerification, type PgBaselineRecord } from './pg/report.js';
import { createLedger, serverFacts } from './pg/schema.js';
import { classicTransactionSteps } from './pg/transfer.js';
import { verifyLedger, type PgVerification } from './pg/verify.js';

/** A transfer statement waiting longer than this on a lock is an error, not a slow figure. */
const transferStatementTimeoutMs = 30_000;
/** Loading and checking 10M accounts takes well under this here. */
const adminStatementTimeoutMs = 600_000;
const connectTimeoutMs = 10_000;
/** Exit codes: 130 after SIGINT/SIGTERM, as a shell reports an interrupted command. */
const exitInterrupted = 130;

async function main(): Promise<number> {
  const startedMs = Date.now();
  let command: PgBaselineCommand;
  try {
    command = parsePgBaselineArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof PgUsageError)) throw error;
    console.error(`${error.message}\n\n${pgBaselineUsage}`);
    return 2;
  }
  if (command.kind === 'help') {
    console.log(pgBaselineUsage);
    return 0;
  }
  const options = command.options;
  const machine = machineInfo();
  printHeader(machine);
  const outDir = path.join(repoRoot(), 'bench', 'out');
  await mkdir(outDir, { recursive: true });
  const outPath = options.outPath ?? path.join(outDir, `pg-baseline-${machine.date.replace(/[:.]/g, '-')}.json`);
  const base = { machine, command: `node dist/bench/pg-baseline.js ${process.argv.slice(2).join(' ')}`.trim() };

  const unavailable = clusterUnavailable(options.pgBinDir);
  if (unavailable !== null) {
    console.log(`skipped: ${unavailable}`);
    await writeRecord(outPath, { ...base, skipped: unavailable });
    return 0;
  }
  const cluster = newCluster(options.pgBinDir, options.echoServer);
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupt.signal.aborted) {
      console.error(`\n${signal} again: exiting now; ${cluster.rootDir ?? 'the temp dir'} may be left behind`);
      process.exit(exitInterrupted);
    }
    console.error(`\n${signal}: stopping PostgreSQL and removing its dir`);
    interrupt.abort();
    // Stopping the server also ends any long statement in flight (the account load, the checks).
    void cluster.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await measure(cluster, options, interrupt.signal);
    printTable(result.phases);
    printVerification(result.verification);
    const runSeconds = (Date.now() - startedMs) / 1000;
    console.log(`\nrun time: ${runSeconds.toFixed(1)} s (initdb, start, load, ${options.workloads.length} × ${options.warmupSeconds + options.durationSeconds} s, checks)`);
    await writeRecord(outPath, {
      ...base,
      options,
      server: result.server,
      transaction: classicTransactionSteps.join('; '),
      phases: result.phases.map(phaseJson),
      verification: result.verification,
      runSeconds,
    });
    return result.verification.passed ? 0 : 1;
  } catch (error) {
    if (!interrupt.signal.aborted) throw error;
    console.error('interrupted: no results written');
    return exitInterrupted;
  } finally {
    await cluster.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The load bench's machine line under this bench's own title. */
function printHeader(m: MachineInfo): void {
  console.log(`tally pg baseline — ${m.date}`);
  console.log(`machine: ${m.cpuCount} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}; node ${m.node}; load average ${m.loadAverageAtStart}`);
  if (m.loadAverageAtStart > m.cpuCount / 2) console.log('warning: the machine is busy with other work; figures will be low and noisy');
}

interface Measured {
  server: Record<string, string>;
  phases: PgPhaseResult[];
  verification: PgVerification;
}

/** Starts the cluster, loads the ledger, runs every workload, checks the ledger; leaves stopping the cluster to the caller. */
async function measure(cluster: PgCluster, options: PgBaselineOptions, signal: AbortSignal): Promise<Measured> {
  await cluster.start();
  console.log(`postgres: pid ${cluster.pid}, ${cluster.host}:${cluster.port}, dir ${cluster.rootDir}, ${durableSettings.join(' ')}`);
  const admin = await connectClient(cluster, adminStatementTimeoutMs);
  const clients: pg.Client[] = [];
  try {
    const loadStartMs = Date.now();
    await createLedger(admin, options.accountCount);
    const server = await serverFacts(admin);
    console.log(`ledger: ${options.accountCount.toLocaleString('en-US')} accounts funded, ANALYZEd, CHECKPOINTed in ${((Date.now() - loadStartMs) / 1000).toFixed(1)} s; PostgreSQL ${server.server_version}, shared_buffers ${server.shared_buffers}`);
    for (let i = 0; i < options.connections; i++) clients.push(await connectClient(cluster, transferStatementTimeoutMs));
    console.log(`workloads: ${options.workloads.join(', ')}; ${options.connections} connections; ${options.warmupSeconds} s warm-up + ${options.durationSeconds} s each`);
    const ids = new TransferIds();
    const phases: PgPhaseResult[] = [];
    for (const workload of options.workloads) phases.push(await runWorkload(clients, workload, options, ids, cluster, signal));
    const committedTotal = phases.reduce((sum, p) => sum + p.committedTotal, 0);
    const amountTotal = phases.reduce((sum, p) => sum + p.amountCommittedMinorTotal, 0n);
    const verification = await verifyLedger(admin, options.accountCount, committedTotal, amountTotal);
    return { server, phases, verification };
  } finally {
    await Promise.all([admin, ...clients].map((db) => db.end().catch(() => {})));
  }
}

/** A connection with every option spelled out (defaults change between releases). */
async function connectClient(cluster: PgCluster, statementTimeoutMs: number): Promise<pg.Client> {
  const db = new pg.Client({
    host: cluster.host,
    port: cluster.port,
    user: clusterUser,
    database: 'postgres',
    application_name: 'tally-pg-baseline',
    statement_timeout: statementTimeoutMs,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: false,
  });
  // When the server goes away (shutdown on SIGINT), an idle client emits 'error'; unheard, that would
  // crash the process before the cleanup. The query in flight, if any, rejects and carries the error.
  db.on('error', () => {});
  await db.connect();
  return db;
}

async function writeRecord(outPath: string, record: PgBaselineRecord): Promise<void> {
  await writeFile(outPath, JSON.stringify(record, null, 2) + '\n');
  console.log(`\nresults written to ${path.relative(process.cwd(), outPath) || outPath}`);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
