// One measured session of the classic ledger on a throwaway PostgreSQL cluster: start it, load the
// funded accounts, run each workload on N connections, check the ledger. The cluster is always stopped
// and its temp dir removed: at the end, on errors, and on SIGINT/SIGTERM (then PgInterruptedError).
// Shared by `npm run bench:pg` and the load bench's side-by-side baseline; it prints progress, not results.

import pg from 'pg';
import { clusterUser, durableSettings, newCluster, type PgCluster } from './cluster.js';
import { runWorkload, TransferIds, type PgPhaseResult } from './driver.js';
import type { PgBaselineOptions } from './options.js';
import { createLedger, serverFacts } from './schema.js';
import type { PgVerification } from './verify.js';
import { verifyLedger } from './verify.js';

/** A transfer statement waiting longer than this on a lock is an error, not a slow figure. */
const transferStatementTimeoutMs = 30_000;
/** Loading and checking 10M accounts takes well under this here. */
const adminStatementTimeoutMs = 600_000;
const connectTimeoutMs = 10_000;

/** SIGINT or SIGTERM arrived while the session ran: the cluster is gone, nothing was measured to the end. */
export class PgInterruptedError extends Error {
  override name = 'PgInterruptedError';
}

export interface PgSession {
  server: Record<string, string>;
  phases: PgPhaseResult[];
  verification: PgVerification;
}

/**
 * Runs `options.workloads` on a fresh cluster (clusterUnavailable() is the caller's to check first).
 * A second signal during the cleanup exits the process at once, naming the dir that may be left behind.
 */
export async function runPgSession(options: PgBaselineOptions, exitCodeOnSecondSignal: number): Promise<PgSession> {
  const cluster = newCluster(options.pgBinDir, options.echoServer);
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupt.signal.aborted) {
      console.error(`\n${signal} again: exiting now; ${cluster.rootDir ?? 'the temp dir'} may be left behind`);
      process.exit(exitCodeOnSecondSignal);
    }
    console.error(`\n${signal}: stopping PostgreSQL and removing its dir`);
    interrupt.abort();
    // Stopping the server also ends any long statement in flight (the account load, the checks).
    void cluster.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await measure(cluster, options, interrupt.signal);
  } catch (error) {
    if (interrupt.signal.aborted) throw new PgInterruptedError('interrupted while the PostgreSQL baseline ran');
    throw error;
  } finally {
    await cluster.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Starts the cluster, loads the ledger, runs every workload, checks the ledger; leaves stopping the cluster to the caller. */
async function measure(cluster: PgCluster, options: PgBaselineOptions, signal: AbortSignal): Promise<PgSession> {
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
