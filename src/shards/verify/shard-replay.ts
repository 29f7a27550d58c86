// Checks 1 and 2 of tally verify for one shard: replays its journal (read-only, seq 1, 2, 3, … and never
// recoverLedger, whose discard writes) through the same Ledger code a shard runs, reporting a gap, an entry
// that does not replay (with its seq) or that replays to other bytes; then the whole-state checks, the
// per-ledger conservation, every account's posted balances against its transfer records and the history
// index. Hands each entry to the day-closing, bookkeeping and chain checks as it goes. Full mode compares the
// replay's state with each checkpoint file as it passes its seq; incremental mode starts from the newest valid
// checkpoint, replays only the tail, and skips the checks that need every entry (checkpoint-audit.ts).

import { Ledger } from '../../core/posting/ledger.js';
import { describeEntryDifference } from '../../core/verify/entry-diff.js';
import { readJournalHeader } from '../../core/posting/journal-entry.js';
import { TransferLayout } from '../../core/layout.js';
import { JournalEntryKind } from '../../core/operations.js';
import { PostedRecount, conservationProblems, ledgerSums, type LedgerSums } from '../../core/verify/state-audit.js';
import { SystemAccountKind, systemAccountSlots } from '../../core/accounts/system-accounts.js';
import { InstructionLayout } from '../../core/transit/transit.js';
import type { RetainedInstruction, ShardTransit, TransitHalf } from '../../core/verify/transit-audit.js';
import type { CarriedCredit } from '../../core/posting/chain-votes.js';
import { accountStaticBytes } from '../../core/accounts/account-table.js';
import type { JournalStore } from '../shard/journal-store.js';
import type { BookkeepingAudit } from './bookkeeping-audit.js';
import type { ChainDecisions } from './chain-decisions.js';
import type { ShardSummary } from './report.js';
import type { DayClosingsAudit } from './day-closings.js';
import { messageOf, type Problems } from './problems.js';
import { CheckpointAudit, startIncremental } from './checkpoint-audit.js';

/** Entries between two progress reports (an entry holds up to 8,190 events; the caller throttles what it prints). */
export const progressEntriesStep = 16;
/** Entries per shard whose replayed bytes differ that are described; past it they are counted. */
const entryDifferencesPerShardMax = 100;

/** full: every entry from seq 1, every check; incremental: from the newest valid checkpoint, the tail only. */
export type VerifyMode = 'full' | 'incremental';

export interface ShardReplayContext {
  mode: VerifyMode;
  /** The data directory (its checkpoint files are read, never written). */
  dataDir: string;
  warnings: string[];
  store: JournalStore;
  shard: number;
  shardCount: number;
  problems: Problems;
  days: DayClosingsAudit;
  books: BookkeepingAudit | null;
  chains: ChainDecisions;
  onProgress: (entries: number) => void;
}

/** A shard's replay: what the report shows of it (its summary, `entries` = seqLast) and what later checks use. */
export interface ShardReplay extends Omit<ShardSummary, 'entries'> {
  /** The last seq the journal stores. */
  seqLast: number;
  ledgers: LedgerSums[];
  transit: ShardTransitAtRest | null;
  historyAccountsChecked: number;
  historySampled: boolean;
  /** Checkpoint files found (full mode) and those whose state the replay matched. */
  checkpointsFound: number;
  checkpointsMatched: number;
}

/** Replays and checks one shard; problems go to `ctx.problems`, never thrown. */
export function replayShard(ctx: ShardReplayContext): ShardReplay {
  const { store, shard, shardCount } = ctx;
  const { ledger, seqFrom } = ctx.mode === 'incremental'
    ? startIncremental(store, shard, shardCount, ctx.dataDir, ctx.warnings)
    : { ledger: new Ledger({ shardIndex: shard, shardCount, journal: store, outboxAcknowledged: store.outboxAcknowledged(shardCount) }), seqFrom: 0 };
  const checkpoints = ctx.mode === 'full' ? new CheckpointAudit(store, shard, shardCount, ctx.dataDir, ctx.problems) : null;
  const recount = new PostedRecount();
  const { replayed, failed } = replayEntries(ctx, ledger, recount, seqFrom, checkpoints);
  const seqLast = store.seqLast;
  if (!failed && replayed < seqLast) reportGap(ctx, replayed, seqLast);
  const complete = !failed && replayed === seqLast;
  const unreached = checkpoints?.unreached() ?? [];
  if (unreached.length > 0) ctx.warnings.push(`shard ${shard}: checkpoints at seq ${unreached.join(', ')} not compared: the replay stopped at seq ${replayed}`);
  ctx.days.endShard(shard, complete, seqFrom);
  ctx.chains.endShard(shard, complete ? ledger.chainGroupInDoubt : null);
  const state = ledger.state;
  const systemSlots = systemAccountSlots(state.accounts);
  const result: ShardReplay = {
    shard,
    seqLast,
    seqFrom,
    replayed,
    entriesReplayed: replayed - seqFrom,
    complete,
    accounts: state.accounts.count - systemSlots.length,
    systemAccounts: systemSlots.length,
    transfers: recount.transfers,
    creditsApplied: recount.inbound,
    businessDay: ledger.businessDay,
    ledgers: [],
    transit: null,
    historyAccountsChecked: 0,
    historySampled: false,
    checkpointsFound: checkpoints?.filesFound ?? 0,
    checkpointsMatched: checkpoints?.filesMatched ?? 0,
  };
  if (failed) return result;
  checkState(ctx, ledger, recount, result, seqFrom === 0);
  if (complete) result.transit = transitOf(ledger, store, shard, shardCount, systemSlots);
  return result;
}

/** Replays the entries after `seqFrom` (0: from seq 1); `checkpoints` (full mode) compares states on the way. */
function replayEntries(ctx: ShardReplayContext, ledger: Ledger, recount: PostedRecount, seqFrom: number, checkpoints: CheckpointAudit | null): { replayed: number; failed: boolean } {
  const { store, shard, problems } = ctx;
  const counts = { replayed: seqFrom, differences: 0 };
  for (const [seq, entry] of store.entries(seqFrom + 1)) {
    const stored = entry.slice(); // replay writes the fields it assigns into `entry`
    const before = ledger.chainGroupInDoubt;
    try {
      ledger.replay(seq, entry);
    } catch (error) {
      problems.add('replay', `shard ${shard} seq ${seq}: the entry does not replay: ${messageOf(error)}`);
      return { replayed: counts.replayed, failed: true };
    }
    try {
      checkEntry(ctx, ledger, recount, { seq, stored, replayed: entry, before }, counts);
    } catch (error) {
      problems.add('replay', `shard ${shard} seq ${seq}: checking the replayed entry failed: ${messageOf(error)}`);
    }
    checkpoints?.onReplayed(seq, ledger, stored);
    counts.replayed = seq;
    if (seq % progressEntriesStep === 0) ctx.onProgress(seq);
  }
  if (counts.differences > entryDifferencesPerShardMax) {
    problems.add('entries', `shard ${shard}: ${counts.differences - entryDifferencesPerShardMax} more entries replay to other bytes than the journal holds`);
  }
  ctx.onProgress(counts.replayed);
  return { replayed: counts.replayed, failed: false };
}

interface ReplayedEntry {
  seq: number;
  /** The entry as the journal stores it. */
  stored: Uint8Array;
  /** The same entry after replay wrote what the ledger assigns. */
  replayed: Uint8Array;
  /** The chain group in doubt before the entry. */
  before: bigint | null;
}

/** The per-entry checks: bytes as replayed, the recount, bookkeeping, day closings, chain decisions. */
function checkEntry(ctx: ShardReplayContext, ledger: Ledger, recount: PostedRecount, entry: ReplayedEntry, counts: { differences: number }): void {
  const header = readJournalHeader(entry.stored);
  // Buffer.equals is a memcmp: most entries are equal, and a byte loop over every journal costs seconds.
  const same = Buffer.from(entry.stored.buffer, entry.stored.byteOffset, entry.stored.byteLength).equals(entry.replayed);
  const difference = same ? null : describeEntryDifference(entry.stored, entry.replayed);
  if (difference !== null && ++counts.differences <= entryDifferencesPerShardMax) ctx.problems.add('entries', `shard ${ctx.shard} seq ${entry.seq}: ${difference}`);
  recount.add(ledger.state, entry.stored);
  ctx.books?.onEntry(entry.seq, entry.stored);
  if (header.operation === JournalEntryKind.day_cut) for (const closed of ledger.takeClosedDays()) ctx.days.onClosed(ctx.store, ledger.state, closed);
  if (header.operation === JournalEntryKind.flush_history) checkHistoryRuns(ctx, ledger, entry.seq);
  ctx.chains.observe(ctx.shard, header, entry.before, ledger.chainGroupInDoubt);
}

/** The run blocks a flush_history entry replays to must be the ones stored with it (later history reads use them). */
function checkHistoryRuns(ctx: ShardReplayContext, ledger: Ledger, seq: number): void {
  const runs = ledger.takeFlushedRuns();
  if (runs === null) return;
  const { missing, different } = ctx.store.compareRuns(runs);
  if (missing.length > 0) ctx.problems.add('history', `shard ${ctx.shard} seq ${seq}: the history run blocks ${missing.join(', ')} of this flush are not stored (a start writes them again)`);
  if (different.length > 0) ctx.problems.add('history', `shard ${ctx.shard} seq ${seq}: the stored history run blocks ${different.join(', ')} differ from what the flush replays to`);
}

function reportGap(ctx: ShardReplayContext, replayed: number, seqLast: number): void {
  const next = ctx.store.seqFirstAfter(replayed);
  ctx.problems.add(
    'journal',
    `shard ${ctx.shard}: journal seq ${replayed + 1} is missing: entries run 1..${replayed}, then resume at seq ${String(next)} and end at seq ${seqLast} ` +
      '(a start would drop every entry past the gap as never acknowledged)',
  );
}

/**
 * The whole-state checks. `fromSeqOne` false (an incremental replay): the recount of every account's posted
 * balances and history from its transfer records is skipped, since the records before the checkpoint were not read.
 */
function checkState(ctx: ShardReplayContext, ledger: Ledger, recount: PostedRecount, result: ShardReplay, fromSeqOne: boolean): void {
  const { problems, shard } = ctx;
  try {
    ledger.verify(); // totals against every account, holds and freezes against pending and frozen balances
  } catch (error) {
    problems.add('state', `shard ${shard}: the whole-state check failed: ${messageOf(error)}`);
  }
  const sums = ledgerSums(ledger.state);
  result.ledgers = [...sums.values()].sort((a, b) => a.ledger - b.ledger);
  problems.addAll('state', conservationProblems(ledger.state, sums));
  if (!fromSeqOne) return;
  problems.addAll('balances', recount.balanceProblems(ledger.state));
  const history = recount.historyProblems(ledger.state);
  problems.addAll('history', history.problems);
  result.historyAccountsChecked = history.accountsChecked;
  result.historySampled = history.sampled;
}

/** A shard's side of transit, with the chain group it is in doubt of (if any) and the credits it carries in it. */
export interface ShardTransitAtRest extends ShardTransit {
  inDoubt: bigint | null;
  creditHalvesInDoubt: readonly CarriedCredit[];
}

/** The shard's side of transit: marks, the transit halves, and the instructions its outbox retains. */
function transitOf(ledger: Ledger, store: JournalStore, shard: number, shardCount: number, systemSlots: readonly number[]): ShardTransitAtRest {
  const status = ledger.transitStatus();
  const state = ledger.state;
  const halves: TransitHalf[] = [];
  for (const slot of systemSlots) {
    const at = slot * accountStaticBytes;
    const kind = state.accounts.statics[at + 6]!;
    if (kind === SystemAccountKind.suspense) continue;
    const peer = kind === SystemAccountKind.transitOut ? state.accounts.statics[at + 5]! : state.accounts.statics[at + 4]!;
    halves.push({ kind, ledger: state.accounts.ledgerOf(slot), peer, debitsPosted: state.accounts.balance('debitsPosted', slot), creditsPosted: state.accounts.balance('creditsPosted', slot) });
  }
  const retained: RetainedInstruction[] = [];
  for (let peer = 0; peer < shardCount; peer++) {
    if (peer === shard) continue;
    for (let after = 0; ; ) {
      const chunk = ledger.outboxAfter(peer, after);
      if (chunk.byteLength === 0) break;
      const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let at = 0; at < chunk.byteLength; at += InstructionLayout.bytes) {
        after = Number(view.getBigUint64(at + InstructionLayout.pairSeq, true));
        retained.push({ to: peer, pairSeq: after, kind: view.getUint16(at + InstructionLayout.kind, true), ledger: view.getUint32(at + TransferLayout.ledger, true), amount: view.getBigUint64(at + TransferLayout.amountEffective, true) });
      }
    }
  }
  return {
    shard,
    issued: [...status.subarray(0, shardCount)],
    applied: [...status.subarray(shardCount, 2 * shardCount)],
    acknowledged: store.outboxAcknowledged(shardCount),
    halves,
    retained,
    inDoubt: ledger.chainGroupInDoubt,
    creditHalvesInDoubt: ledger.creditHalvesInDoubt,
  };
}
