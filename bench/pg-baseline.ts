// The classic row-locked SQL ledger on PostgreSQL, as the baseline Tally is compared with (issue #4):
// a throwaway PostgreSQL 15 cluster (durable commits), 100k funded accounts, N connections each
// running the classic transfer transaction back to back for each workload (uniform, hot-credit,
// hot-debit, zipf). Prints progress each second, a table, the end checks, and writes bench/out/pg-baseline-….json.
// The cluster is always stopped and its temp dir removed: at the end, on errors, and on SIGINT/SIGTERM.
// Without the PostgreSQL server binaries it prints why, records {"skipped": …} and exits 0.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { machineInfo, type MachineInfo } from './load/report.js';
import { repoRoot } from '../test/support/server-process.js';
import { clusterUnavailable } from './pg/cluster.js';
import { parsePgBaselineArgs, pgBaselineUsage, PgUsageError, type PgBaselineCommand } from './pg/options.js';
import { phaseJson, printTable, printVerification, type PgBaselineRecord } from './pg/report.js';
import { PgInterruptedError, runPgSession } from './pg/session.js';
import { classicTransactionSteps } from './pg/transfer.js';

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
  try {
    const result = await runPgSession(options, exitInterrupted);
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
    if (!(error instanceof PgInterruptedError)) throw error;
    console.error('interrupted: no results written');
    return exitInterrupted;
  }
}

/** The load bench's machine line under this bench's own title. */
function printHeader(m: MachineInfo): void {
  console.log(`tally pg baseline — ${m.date}`);
  console.log(`machine: ${m.cpuCount} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}; node ${m.node}; load average ${m.loadAverageAtStart}`);
  if (m.loadAverageAtStart > m.cpuCount / 2) console.log('warning: the machine is busy with other work; figures will be low and noisy');
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
