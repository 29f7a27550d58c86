// What tally verify reports: the summary (shards, entries, accounts, transfers, ledgers with their totals,
// transit in flight, bookkeeping progress, what each check covered), warnings, and every problem found —
// as one JSON-ready object (amounts as decimal strings) and as text for a terminal.

import type { BookkeepingSummary } from './bookkeeping-audit.js';
import type { SnapshotInfo } from './data-dir.js';
import type { VerifyProblem } from './problems.js';

/** Problems printed as text; the rest are counted in one line (--json carries every kept one). */
export const verifyProblemsPrintedMax = 100;

export interface ShardSummary {
  shard: number;
  /** The last seq its journal stores. */
  entries: number;
  /** Replayed through this seq (from seqFrom + 1). */
  replayed: number;
  /** The checkpoint seq the replay started after (0: from seq 1; only --incremental starts later). */
  seqFrom: number;
  /** Entries this run replayed: replayed − seqFrom. */
  entriesReplayed: number;
  /** Replayed through the last seq: no gap, no entry that failed. */
  complete: boolean;
  accounts: number;
  systemAccounts: number;
  /** Transfer records read: every one in full mode, those of the replayed tail in incremental mode. */
  transfers: number;
  creditsApplied: number;
  businessDay: number;
}

export interface LedgerSummary {
  ledger: number;
  accounts: number;
  debitsPosted: string;
  creditsPosted: string;
  debitsPending: string;
  creditsPending: string;
}

export interface InFlightSummary {
  ledger: number;
  from: number;
  to: number;
  amount: string;
}

export interface VerifyReport {
  dataDir: string;
  mode: 'full' | 'incremental';
  shardCount: number;
  snapshot: SnapshotInfo | null;
  shards: ShardSummary[];
  entries: number;
  accounts: number;
  transfers: number;
  ledgers: LedgerSummary[];
  transit: { pairs: number; inFlight: InFlightSummary[] } | null;
  bookkeeping: BookkeepingSummary | null;
  /** What each check covered, and what it skipped. */
  coverage: string[];
  warnings: string[];
  passed: boolean;
  problemCount: number;
  problems: VerifyProblem[];
  elapsedMs: number;
}

/** Counts as people read them: 1,234,567. */
export const count = new Intl.NumberFormat('en-US');

/** The report as text: the summary, then `verify: PASSED` or `verify: FAILED (N problems)` and the problems. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines = [`verify: ${report.dataDir}: ${report.shardCount} shard(s)${snapshotNote(report.snapshot)}, ${(report.elapsedMs / 1000).toFixed(1)} s`];
  for (const shardReport of report.shards) {
    const replay = shardReport.complete ? '' : ` (replayed through seq ${count.format(shardReport.replayed)} only)`;
    const read = shardReport.seqFrom === 0 ? '' : ' in them';
    lines.push(
      `  shard ${shardReport.shard}: ${count.format(shardReport.entries)} entries${replay}, ${replayedNote(shardReport)}, ${count.format(shardReport.accounts)} accounts (+${shardReport.systemAccounts} transit/suspense), ` +
        `${count.format(shardReport.transfers)} transfers${read}, ${count.format(shardReport.creditsApplied)} credits from other shards${read}, business day ${shardReport.businessDay}`,
    );
  }
  lines.push(`  total: ${count.format(report.entries)} entries, ${count.format(report.accounts)} accounts, ${count.format(report.transfers)} transfers`);
  for (const sums of report.ledgers) {
    lines.push(`  ledger ${sums.ledger}: ${count.format(sums.accounts)} accounts, posted debits ${sums.debitsPosted} / credits ${sums.creditsPosted}, pending debits ${sums.debitsPending} / credits ${sums.creditsPending}`);
  }
  lines.push(transitLine(report));
  if (report.bookkeeping !== null) lines.push(bookkeepingLine(report.bookkeeping));
  else lines.push(report.mode === 'incremental' ? '  bookkeeping: not checked (--incremental)' : '  bookkeeping: no bookkeeping store');
  for (const check of report.coverage) lines.push(`  checked: ${check}`);
  for (const warning of report.warnings) lines.push(`  note: ${warning}`);
  if (report.passed) {
    lines.push('verify: PASSED');
    return lines.join('\n');
  }
  lines.push(`verify: FAILED (${report.problemCount} problem${report.problemCount === 1 ? '' : 's'})`);
  for (const problem of report.problems.slice(0, verifyProblemsPrintedMax)) lines.push(`- [${problem.check}] ${problem.message}`);
  if (report.problemCount > verifyProblemsPrintedMax) lines.push(`… and ${count.format(report.problemCount - verifyProblemsPrintedMax)} more`);
  return lines.join('\n');
}

function replayedNote(shard: ShardSummary): string {
  if (shard.seqFrom === 0) return `${count.format(shard.entriesReplayed)} replayed from seq 1`;
  return `${count.format(shard.entriesReplayed)} replayed after the checkpoint at seq ${count.format(shard.seqFrom)}`;
}

function snapshotNote(snapshot: SnapshotInfo | null): string {
  if (snapshot === null) return '';
  return `, a snapshot${snapshot.cutAt === null ? '' : ` cut at ${snapshot.cutAt}`}`;
}

function transitLine(report: VerifyReport): string {
  if (report.transit === null) return '  transit: not checked';
  const moving = report.transit.inFlight.map((f) => `ledger ${f.ledger} ${f.from}→${f.to}: ${f.amount}`);
  return `  transit: ${report.transit.pairs} ledger/pair row(s), in flight: ${moving.length === 0 ? 'nothing' : moving.join(', ')}`;
}

function bookkeepingLine(books: BookkeepingSummary): string {
  const progress = books.shards.map((p) => `shard ${p.shard} booked ${count.format(p.booked)} of ${count.format(p.journaled)}`).join(', ');
  const rechecked = books.reports.filter((r) => r.rechecked).length;
  const passed = books.reports.filter((r) => r.passed).length;
  return `  bookkeeping: ${progress}; ${count.format(books.vouchersChecked)} vouchers checked; ${books.reports.length} day report(s), ${passed} passed, ${rechecked} rebuilt and compared`;
}

/** The report as one JSON object (bigints never appear: amounts are already strings). */
export function verifyReportJson(report: VerifyReport): string {
  return JSON.stringify(report);
}
