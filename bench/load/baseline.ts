// The load bench's PostgreSQL baseline, run in the same process after the Tally server has stopped (so
// the two never share the CPU): bench/pg's throwaway cluster and classic transaction, the same workloads
// (see side-by-side.ts for the mapping), as many connections as the batch-1 phase has sockets, one
// transfer per transaction. Skips with a reason, never fails the Tally figures, when it cannot run.

import type { PgPhaseResult } from '../pg/driver.js';
import { clusterUnavailable } from '../pg/cluster.js';
import type { PgBaselineOptions } from '../pg/options.js';
import { phaseJson, printTable, printVerification, type PgPhaseJson } from '../pg/report.js';
import { PgInterruptedError, runPgSession } from '../pg/session.js';
import { classicTransactionSteps } from '../pg/transfer.js';
import type { PgVerification } from '../pg/verify.js';
import type { PgWorkload } from '../pg/workload.js';
import { baselineConnectionsFor, pipeliningFor, type LoadOptions } from './options.js';
import { baselineWorkloads } from './side-by-side.js';
import type { Workload } from './workloads.js';

/** Exit code after SIGINT/SIGTERM during the baseline's cleanup, as a shell reports an interrupted command. */
export const exitInterrupted = 130;

/** The baseline as the JSON records it: skipped with a reason, failed with an error, or measured. */
export type BaselineRecord =
  | { skipped: string }
  | { failed: string }
  | {
      system: 'PostgreSQL (classic row-locked ledger)';
      transaction: string;
      connections: number;
      /** What the Tally batch-1 phase had in flight, for the reader comparing the two. */
      tallyBatch1: string;
      warmupSeconds: number;
      durationSeconds: number;
      accountCount: number;
      workloads: PgWorkload[];
      server: Record<string, string>;
      phases: PgPhaseJson[];
      verification: PgVerification;
      seconds: number;
    };

export interface BaselineOutcome {
  record: BaselineRecord;
  /** Empty unless measured. */
  phases: PgPhaseResult[];
  /** Why there are no figures ("skipped: …" or "failed: …"), or null. */
  missing: string | null;
  /** false only when the baseline ran and its ledger checks failed. */
  verificationPassed: boolean;
  interrupted: boolean;
}

/** Runs the baseline for these Tally workloads, or says why not. Prints its progress, table and checks. */
export async function runBaseline(options: LoadOptions, workloads: readonly Workload[]): Promise<BaselineOutcome> {
  const skip = (why: string): BaselineOutcome => {
    console.log(`\nbaseline skipped: ${why}`);
    return { record: { skipped: why }, phases: [], missing: `skipped: ${why}`, verificationPassed: true, interrupted: false };
  };
  if (options.baseline === 'none') return skip('not requested (--baseline none)');
  const unavailable = clusterUnavailable(options.pgBinDir);
  if (unavailable !== null) return skip(unavailable);
  const pgOptions = baselineOptions(options, baselineWorkloads(workloads));
  const batch1 = pipeliningFor(1, options);
  console.log(
    `\nbaseline: PostgreSQL, the classic row-locked ledger, on a throwaway loopback cluster; ${pgOptions.connections} connections ` +
      `(the batch-1 phase's ${batch1.connections} sockets; there each keeps ${batch1.inFlight} single-transfer requests in flight, ` +
      `here each runs one transaction, one transfer, at a time), ${pgOptions.workloads.join(', ')}`,
  );
  const startMs = Date.now();
  try {
    const session = await runPgSession(pgOptions, exitInterrupted);
    printTable(session.phases);
    printVerification(session.verification);
    return {
      record: {
        system: 'PostgreSQL (classic row-locked ledger)',
        transaction: classicTransactionSteps.join('; '),
        connections: pgOptions.connections,
        tallyBatch1: `${batch1.connections} sockets × ${batch1.inFlight} requests in flight, 1 transfer each`,
        warmupSeconds: pgOptions.warmupSeconds,
        durationSeconds: pgOptions.durationSeconds,
        accountCount: pgOptions.accountCount,
        workloads: pgOptions.workloads,
        server: session.server,
        phases: session.phases.map(phaseJson),
        verification: session.verification,
        seconds: (Date.now() - startMs) / 1000,
      },
      phases: session.phases,
      missing: null,
      verificationPassed: session.verification.passed,
      interrupted: false,
    };
  } catch (error) {
    if (error instanceof PgInterruptedError) {
      const outcome = skip('interrupted (SIGINT/SIGTERM) while it ran');
      return { ...outcome, interrupted: true };
    }
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.log(`\nBASELINE FAILED: ${message}`);
    return { record: { failed: message }, phases: [], missing: `failed: ${message.split('\n')[0]}`, verificationPassed: false, interrupted: false };
  }
}

function baselineOptions(options: LoadOptions, workloads: PgWorkload[]): PgBaselineOptions {
  return {
    durationSeconds: options.baselineDurationSeconds,
    warmupSeconds: options.warmupSeconds,
    connections: baselineConnectionsFor(options),
    accountCount: options.accountCount,
    workloads,
    zipfExponent: options.zipfExponent,
    pgBinDir: options.pgBinDir,
    outPath: null,
    echoServer: options.echoServer,
  };
}
