// tally verify: checks a stopped server's data directory (or a snapshot) end to end without changing it —
// replays every shard's journal and checks each shard's state (shards/verify/shard-replay.ts), the closed
// days (day-closings.ts), transit across shards (core/verify/transit-audit.ts), the chain decisions
// (chain-decisions.ts) and the bookkeeping store (bookkeeping-audit.ts). Sequential, one shard in memory at
// a time. Never opens a file of the directory for writing: stores are opened read-only through links in a
// scratch directory (read-only-env.ts), removed at the end.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChartOfAccounts } from '../../core/books/chart-of-accounts.js';
import { historyAuditAccountsMax, type LedgerSums } from '../../core/verify/state-audit.js';
import { auditTransit, type ShardTransit } from '../../core/verify/transit-audit.js';
import { BookkeepingStore } from '../bookkeeping/bookkeeping-store.js';
import { ChainLog } from '../chains/chain-log.js';
import { JournalStore } from '../shard/journal-store.js';
import { BookkeepingAudit, type BookkeepingSummary } from './bookkeeping-audit.js';
import { ChainDecisions } from './chain-decisions.js';
import { inspectDataDir, type DataDirLayout } from './data-dir.js';
import { DayClosingsAudit } from './day-closings.js';
import { Problems, messageOf } from './problems.js';
import { count, type LedgerSummary, type ShardSummary, type VerifyReport } from './report.js';
import { replayShard, type ShardReplay, type ShardTransitAtRest, type VerifyMode } from './shard-replay.js';

export { DataDirError } from './data-dir.js';
export type { VerifyReport } from './report.js';

export interface VerifyProgress {
  shard: number;
  shardCount: number;
  entries: number;
  /** The shard's journal has this many entries (its last seq). */
  entriesTotal: number;
  done: boolean;
}

export interface VerifyOptions {
  dataDir: string;
  /** The chart of accounts the server ran with (the bookkeeping checks map account codes by it). */
  chart: ChartOfAccounts;
  onProgress?: (progress: VerifyProgress) => void;
  /** Where the scratch directory (LMDB lock files) goes; default the system's temp directory. */
  scratchParent?: string;
  /** Default 'full'; 'incremental' replays each shard's tail after its newest valid checkpoint (fewer checks). */
  mode?: VerifyMode;
}

/** Verifies `options.dataDir`; rejects with DataDirError when it is no data directory verify can read. */
export async function verifyDataDir(options: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const scratch = mkdtempSync(join(options.scratchParent ?? tmpdir(), 'tally-verify-'));
  try {
    const layout = await inspectDataDir(options.dataDir, scratch);
    return await verifyLayout(layout, options, scratch, started);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Each shard's transit with the credits it carries in a chain group it is in doubt of counted in flight where the
 * payer's shard committed that group: the chain log holds the commit and the payer is not in doubt of it.
 */
async function withCarriedInFlight(shards: readonly ShardTransitAtRest[], chainLog: ChainLog | null): Promise<ShardTransit[]> {
  const inDoubtOf = new Map(shards.map((t) => [t.shard, t.inDoubt] as const));
  return Promise.all(
    shards.map(async (t) => {
      if (t.inDoubt === null || t.creditHalvesInDoubt.length === 0 || chainLog === null || !(await chainLog.wasCommitted(t.inDoubt))) return t;
      return { ...t, carriedInFlight: t.creditHalvesInDoubt.filter((c) => inDoubtOf.has(c.from) && inDoubtOf.get(c.from) !== c.group) };
    }),
  );
}

async function verifyLayout(layout: DataDirLayout, options: VerifyOptions, scratch: string, started: number): Promise<VerifyReport> {
  const problems = new Problems();
  const warnings: string[] = [];
  const mode = options.mode ?? 'full';
  // The bookkeeping audit rebuilds the general ledger from every journal entry: an incremental run reads the tails only.
  const books = layout.hasBookkeeping && mode === 'full' ? openOrReport(() => BookkeepingStore.openReadOnly(layout.dataDir, scratch), 'bookkeeping', problems) : null;
  const chainLog = layout.hasChains ? openOrReport(() => ChainLog.openReadOnly(layout.dataDir, scratch), 'chains', problems) : null;
  try {
    const days = new DayClosingsAudit(problems, warnings);
    const bookkeeping = books === null ? null : new BookkeepingAudit(books, options.chart, layout.shardCount, problems, warnings);
    const chains = new ChainDecisions();
    const replays: ShardReplay[] = [];
    for (let shard = 0; shard < layout.shardCount; shard++) {
      replays.push(await verifyShard(layout, shard, { mode, scratch, problems, warnings, days, bookkeeping, chains, onProgress: options.onProgress }));
    }
    const transitShards = replays.map((r) => r.transit).filter((t): t is ShardTransitAtRest => t !== null);
    const transit = auditTransit(await withCarriedInFlight(transitShards, chainLog));
    problems.addAll('transit', transit.problems);
    chains.finish(chainLog, problems, warnings);
    const bookkeepingSummary = bookkeeping?.finish(days.closes) ?? null;
    snapshotWarnings(layout, replays, warnings);
    return {
      dataDir: layout.dataDir,
      mode,
      shardCount: layout.shardCount,
      snapshot: layout.snapshot,
      shards: replays.map(shardSummary),
      entries: replays.reduce((sum, r) => sum + r.seqLast, 0),
      accounts: replays.reduce((sum, r) => sum + r.accounts, 0),
      transfers: replays.reduce((sum, r) => sum + r.transfers, 0),
      ledgers: ledgerSummaries(replays),
      transit: transitShards.length < 2 && layout.shardCount > 1 ? null : {
        pairs: transit.rows.length,
        inFlight: transit.rows.filter((r) => r.inFlight !== 0n).map((r) => ({ ledger: r.ledger, from: r.from, to: r.to, amount: r.inFlight.toString() })),
      },
      bookkeeping: bookkeepingSummary,
      coverage: coverage(mode, replays, { transitShards: transitShards.length, layout, books: bookkeepingSummary, days, chainGroups: chains.groupCount }),
      warnings,
      passed: problems.count === 0,
      problemCount: problems.count,
      problems: problems.kept,
      elapsedMs: Math.round(performance.now() - started),
    };
  } finally {
    await Promise.all([books?.close(), chainLog?.close()]);
  }
}

/** An optional store that exists but cannot be opened is a problem of its check, not a crash of verify. */
function openOrReport<T>(open: () => T, check: 'bookkeeping' | 'chains', problems: Problems): T | null {
  try {
    return open();
  } catch (error) {
    problems.add(check, `the ${check} store cannot be opened: ${messageOf(error)}`);
    return null;
  }
}

interface ShardRun {
  mode: VerifyMode;
  scratch: string;
  problems: Problems;
  warnings: string[];
  days: DayClosingsAudit;
  bookkeeping: BookkeepingAudit | null;
  chains: ChainDecisions;
  onProgress: VerifyOptions['onProgress'];
}

async function verifyShard(layout: DataDirLayout, shard: number, run: ShardRun): Promise<ShardReplay> {
  const store = JournalStore.openReadOnly(layout.dataDir, shard, run.scratch);
  try {
    run.days.beginShard(store);
    run.bookkeeping?.beginShard(shard);
    const entriesTotal = store.seqLast;
    const progress = (entries: number, done: boolean) => run.onProgress?.({ shard, shardCount: layout.shardCount, entries, entriesTotal, done });
    const replay = replayShard({
      mode: run.mode,
      dataDir: layout.dataDir,
      warnings: run.warnings,
      store,
      shard,
      shardCount: layout.shardCount,
      problems: run.problems,
      days: run.days,
      books: run.bookkeeping,
      chains: run.chains,
      onProgress: (entries) => progress(entries, false),
    });
    run.bookkeeping?.endShard(replay.seqLast, replay.replayed);
    progress(replay.replayed, true);
    return replay;
  } finally {
    await store.close();
  }
}

function shardSummary({ shard, seqLast, replayed, seqFrom, entriesReplayed, complete, accounts, systemAccounts, transfers, creditsApplied, businessDay }: ShardReplay): ShardSummary {
  return { shard, entries: seqLast, replayed, seqFrom, entriesReplayed, complete, accounts, systemAccounts, transfers, creditsApplied, businessDay };
}

/** Per ledger over every shard (transit and suspense accounts included: across shards they hold the money in flight). */
function ledgerSummaries(replays: readonly ShardReplay[]): LedgerSummary[] {
  const totals = new Map<number, LedgerSums>();
  for (const sums of replays.flatMap((r) => r.ledgers)) {
    const total = totals.get(sums.ledger) ?? { ledger: sums.ledger, accounts: 0, debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n };
    total.accounts += sums.accounts;
    total.debitsPosted += sums.debitsPosted;
    total.creditsPosted += sums.creditsPosted;
    total.debitsPending += sums.debitsPending;
    total.creditsPending += sums.creditsPending;
    totals.set(sums.ledger, total);
  }
  return [...totals.values()]
    .sort((a, b) => a.ledger - b.ledger)
    .map((total) => ({
      ledger: total.ledger,
      accounts: total.accounts,
      debitsPosted: total.debitsPosted.toString(),
      creditsPosted: total.creditsPosted.toString(),
      debitsPending: total.debitsPending.toString(),
      creditsPending: total.creditsPending.toString(),
    }));
}

interface CoverageInputs {
  transitShards: number;
  layout: DataDirLayout;
  books: BookkeepingSummary | null;
  days: DayClosingsAudit;
  chainGroups: number;
}

function coverage(mode: VerifyMode, replays: readonly ShardReplay[], { transitShards, layout, books, days, chainGroups }: CoverageInputs): string[] {
  if (mode === 'incremental') return incrementalCoverage(replays, { transitShards, layout, books, days, chainGroups });
  const accounts = replays.reduce((sum, r) => sum + r.accounts + r.systemAccounts, 0);
  const history = replays.reduce((sum, r) => sum + r.historyAccountsChecked, 0);
  const sampled = replays.some((r) => r.historySampled);
  const lines = [
    `journals: ${replays.filter((r) => r.complete).length} of ${replays.length} shard(s) replayed from seq 1 to their last entry; every replayed entry compared byte for byte with its replay`,
    `balances: whole-state check, conservation per ledger and ${count.format(accounts)} accounts' posted balances against their transfer records`,
    `history index: ${count.format(history)} accounts${sampled ? ` (a stratified sample of at most ${count.format(historyAuditAccountsMax)} per shard, plus every transit/suspense account)` : ' (all)'}`,
    `checkpoints: ${replays.reduce((sum, r) => sum + r.checkpointsMatched, 0)} of ${replays.reduce((sum, r) => sum + r.checkpointsFound, 0)} checkpoint file(s) hold the state the replay reached at their seq`,
    `transit: ${transitShards} of ${layout.shardCount} shard(s)' outboxes, marks and transit halves`,
    `day closings: ${days.daysChecked} stored closed day(s) against the replay's cuts (balances chunk by chunk, summary, cut seq)`,
    `chains: ${chainGroups} decided cross-shard chain group(s)${layout.hasChains ? ' against the chain log' : ''}`,
  ];
  if (books !== null) {
    lines.push(`bookkeeping: ${count.format(books.vouchersChecked)} vouchers rebuilt from their entries, the general ledger against them, ${books.reports.length} day report(s); the money in flight at a cut is taken from the report (checked only where the cut marks say none)`);
  }
  return lines;
}

/** What an incremental run checked, and what it skipped because it needs every entry from seq 1. */
function incrementalCoverage(replays: readonly ShardReplay[], { transitShards, layout, days, chainGroups }: CoverageInputs): string[] {
  const tails = replays.map((r) => (r.seqFrom === 0 ? `shard ${r.shard}: ${count.format(r.entriesReplayed)} from seq 1 (no usable checkpoint)` : `shard ${r.shard}: ${count.format(r.entriesReplayed)} after checkpoint ${r.seqFrom}`));
  return [
    `journals (--incremental): ${replays.filter((r) => r.complete).length} of ${replays.length} shard(s) replayed to their last entry from their newest valid checkpoint (${tails.join('; ')}); every replayed entry compared byte for byte with its replay`,
    'balances: whole-state check and conservation per ledger on the restored and replayed state',
    `transit: ${transitShards} of ${layout.shardCount} shard(s)' outboxes, marks and transit halves (the outbox as the checkpoint captured it, then replayed)`,
    `day closings: ${days.daysChecked} stored closed day(s) cut in the replayed tails; ${days.daysSkipped} cut before a checkpoint not checked`,
    `chains: ${chainGroups} cross-shard chain group(s) decided in the replayed tails${layout.hasChains ? ' against the chain log' : ''}`,
    'skipped (they need every entry from seq 1; run verify without --incremental): the recount of every account\'s posted balances and history index from all its transfer records, ' +
      'the comparison of each checkpoint with a full replay, the bytes of entries before the checkpoint, closed days cut before it, and the bookkeeping store (its general ledger is rebuilt from every entry)',
  ];
}

function snapshotWarnings(layout: DataDirLayout, replays: readonly ShardReplay[], warnings: string[]): void {
  const seqs = layout.snapshot?.shardSeqs ?? [];
  seqs.forEach((seq, shard) => {
    const replay = replays[shard];
    if (seq !== null && replay !== undefined && seq !== replay.seqLast) warnings.push(`snapshot manifest: shard ${shard} cut at seq ${seq}, its journal ends at seq ${replay.seqLast}`);
  });
}
