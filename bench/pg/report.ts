// What the PostgreSQL baseline prints and saves: the table of workloads, the checks, and the JSON
// record (bench/out/pg-baseline-…). Machine facts and the progress line are the load bench's own.

import type { MachineInfo } from '../load/report.js';
import type { PgPhaseResult } from './driver.js';
import type { PgBaselineOptions } from './options.js';
import type { PgVerification } from './verify.js';

/** One JSON file per run; `skipped` is set, and nothing else measured, when PostgreSQL is not there. */
export interface PgBaselineRecord {
  machine: MachineInfo;
  command: string;
  options?: PgBaselineOptions;
  server?: Record<string, string>;
  /** The row shape each transfer runs, so a reader of the JSON knows what was measured. */
  transaction?: string;
  phases?: PgPhaseJson[];
  verification?: PgVerification;
  runSeconds?: number;
  skipped?: string;
}

/** A phase as JSON: the bigint total as a decimal string. */
export type PgPhaseJson = Omit<PgPhaseResult, 'amountCommittedMinorTotal'> & { amountCommittedMinorTotal: string };

export function phaseJson(p: PgPhaseResult): PgPhaseJson {
  return { ...p, amountCommittedMinorTotal: String(p.amountCommittedMinorTotal) };
}

const rate = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(value < 10 ? 2 : 1) : '—';
}

export function printTable(phases: readonly PgPhaseResult[]): void {
  const header = ['workload', 'connections', 'transfers/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'insufficient', 'cores bench/server', 'retried'];
  const rows = phases.map((p) => [
    p.workload,
    String(p.connections),
    rate.format(p.transfersPerSecond),
    ms(p.latency.p50Ms),
    ms(p.latency.p99Ms),
    ms(p.latency.p999Ms),
    ms(p.latency.maxMs),
    rate.format(p.insufficientFunds),
    `${p.benchCores.toFixed(2)} / ${p.serverCores === null ? '?' : p.serverCores.toFixed(2)}`,
    Object.keys(p.failures).length === 0 ? '0' : JSON.stringify(p.failures),
  ]);
  // The same layout as the load bench's tables: the first column left-aligned, the figures right-aligned.
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log('');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

export function printVerification(v: PgVerification): void {
  console.log('');
  console.log(
    `verification: ${v.passed ? 'PASSED' : 'FAILED'} — ${rate.format(v.accounts)} accounts; ` +
      `Σ balances ${v.conserved ? '=' : '≠'} Σ opening balances (${v.balanceMinorSum} / ${v.balanceMinorSumExpected}); ` +
      `journal rows ${rate.format(v.journalRows)} / ${rate.format(v.journalRowsExpected)} committed; ` +
      `journal amount ${v.journalAmountMinor} / ${v.journalAmountMinorExpected}; ` +
      `Σ debits = Σ credits = journal amount: ${v.debitsEqualCredits}; ` +
      `accounts off opening − debits + credits: ${rate.format(v.accountsMismatched)}`,
  );
}
