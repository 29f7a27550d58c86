// One shard's ledger: applies write batches in arrival order, stamps them, turns each into one
// journal entry, and answers reads. Pure: the caller persists the entry (durably) BEFORE it
// sends the reply, and rebuilds a Ledger by replaying entries in seq order after a restart.
// A thin front: each capability lives in a module of its own (batch-entries, inbound-batches, chain-votes,
// day-cuts, expiry-entries, hot-inbound-entries, transit-status, queries), and entry-dispatch applies every
// entry, live or replayed, through a handler per journal entry kind.

import { assert } from '../assert.js';
import { writeBatchEntry } from './batch-entries.js';
import { bytesEqual } from '../bytes.js';
import type { PrepareRequest, RememberedFailure } from '../chains/prepared-chains.js';
import { carriedCreditsOf, type CarriedCredit } from './chain-votes.js';
import { writeAbortEntry, writeCommitEntry, writePrepareEntry } from './chain-votes.js';
import { writeCutEntry } from './day-cuts.js';
import { applyEntry } from './entry-dispatch.js';
import { errors } from '../errors.js';
import { writeExpireEntry } from './expiry-entries.js';
import type { FlushedRuns } from '../accounts/history-runs.js';
import { writeFlushEntry } from './history-flush.js';
import type { HotInboundPolicy } from '../hot/hot-inbound.js';
import { hotInboundStatus, hotOutboundIds, writeHotInboundEntry } from './hot-inbound-entries.js';
import { writeInboundEntry } from './inbound-batches.js';
import { readJournalHeader, resultsOffset } from './journal-entry.js';
import { resultBytes } from '../layout.js';
import { LedgerContext, type ClosedDay, type WrittenEntry } from './ledger-context.js';
import { encodeCheckpoint, restoreCheckpoint } from './ledger-checkpoint.js';
import { LedgerState, type JournalSource } from './ledger-state.js';
import { noIdIndex, type IdCacheCapacity, type IdIndexSource } from '../accounts/id-cache.js';
import { WireOperation } from '../operations.js';
import { accountHistory, lookupAccounts, lookupTransfers, operationIdsTaken, transferIdsTaken } from './queries.js';
import { queryTransfers } from './transfer-queries.js';
import { queryAccounts } from './account-queries.js';
import { eventVerdicts } from './verdicts-elsewhere.js';
import { acknowledgeOutbox, outboxAfter, transitStatus } from './transit-status.js';
import type { AccountDirectory } from '../accounts/account-directory.js';
import { DirectoryMarks } from '../types.js';
import { accountEntries } from '../accounts/directory-updates.js';

export type { HistorySource, JournalSource } from './ledger-state.js';
export type { FlushedRuns } from '../accounts/history-runs.js';
export type { ClosedDay } from './ledger-context.js';

export interface LedgerOptions {
  shardIndex: number;
  shardCount: number;
  journal: JournalSource;
  /** Transfer ids to size an unbounded id table for up front (without `idIndex`; a bounded cache sizes itself). */
  transferIdsExpected?: number;
  /**
   * Per peer shard, a pair sequence that peer is known to have applied (a hint kept beside the journal):
   * replay retains only instructions above it. Too low only means re-sending what the peer skips.
   */
  outboxAcknowledged?: readonly number[];
  /**
   * The journal's id index on disk and the id caches' sizes (ids per generation). Absent: every id stays in
   * memory for good (tests, read-only replays).
   */
  idIndex?: { source: IdIndexSource; capacity: IdCacheCapacity };
  /**
   * A checkpoint body (encodeLedgerCheckpoint) to start from instead of seq 0: the ledger stands after its seq,
   * and replays only the entries after it. Its outbox keeps what is above the higher of its own and the hints'
   * acknowledgements.
   */
  checkpoint?: Uint8Array;
  /**
   * Every account of the ledger, whichever shard holds it (core/accounts/account-directory.ts): a payee on
   * another shard is then checked before `ok`. Absent: only when its credit arrives (tests, read-only tools).
   */
  directory?: AccountDirectory;
}

export interface ExecutedBatch {
  seq: number;
  entry: Uint8Array;
  reply: Uint8Array;
  /** Cross-shard instructions this batch issued (InstructionLayout each), or null; deliver once `entry` is durable. */
  outbound: Uint8Array | null;
}

export interface InboundBatch {
  /** The journal entry of the applied instructions, or null when none applied (all duplicates or gaps). */
  applied: { seq: number; entry: Uint8Array } | null;
  /** One InboundStatus per instruction handed in. */
  statuses: Uint8Array;
  /** Returns issued for refused credits, or null; deliver once the entry is durable. */
  outbound: Uint8Array | null;
}

export class Ledger {
  readonly #context: LedgerContext;

  constructor(options: LedgerOptions) {
    assert(Number.isInteger(options.shardCount) && options.shardCount >= 1, 'shardCount must be a positive integer');
    assert(options.shardIndex >= 0 && options.shardIndex < options.shardCount, 'shardIndex out of range');
    const { shardIndex, shardCount, journal, transferIdsExpected, outboxAcknowledged, idIndex } = options;
    const state = new LedgerState(shardIndex, shardCount, journal, transferIdsExpected ?? 0, outboxAcknowledged, idIndex?.source, idIndex?.capacity ?? null);
    state.directory = options.directory ?? null;
    this.#context = new LedgerContext(state);
    if (options.checkpoint !== undefined) {
      restoreCheckpoint(this.#context, options.checkpoint);
      // The id caches start empty: every id of the entries through the checkpoint is found on disk.
      (idIndex?.source ?? noIdIndex).restoredThrough(this.#context.lastSeq);
    }
  }

  /**
   * The checkpoint body of the state as it stands (core/posting/ledger-checkpoint.ts): canonical, so equal
   * states give equal bytes. Taken right after a flush_history entry (nothing in the history buffer); copies only.
   */
  encodeCheckpoint(sections?: Map<number, number>): Uint8Array {
    return encodeCheckpoint(this.#context, sections);
  }

  get seqLast(): number {
    return this.#context.lastSeq;
  }

  /** The business day new postings belong to (0 until the first cut). */
  get businessDay(): number {
    return this.#context.businessDay;
  }

  /** Cuts applied so far (ascending): the day each began and the cut entry's timestamp and seq. */
  get dayCuts(): readonly { day: number; timestamp: bigint; seq: number }[] {
    return this.#context.cuts;
  }

  /** The internal state, for invariant checks in tests and verification tools. */
  get state(): LedgerState {
    return this.#context.state;
  }

  /**
   * The day cut (日切): one journal entry after which postings belong to `day`. The balances at that
   * point are the closing balances of the day that ends; takeClosedDays() hands them to the caller.
   */
  cutDay(day: number, nowNs: bigint): { seq: number; entry: Uint8Array } {
    return this.#apply(writeCutEntry(this.#context, day, nowNs));
  }

  /** The newest cut's closed day (taken or not), or null before the first cut. */
  get closedDayLast(): ClosedDay | null {
    return this.#context.closedLast;
  }

  /** Closing states of the days cut since the last call (by cutDay or by replay), oldest first. */
  takeClosedDays(): ClosedDay[] {
    const closed = this.#context.closedDays;
    this.#context.closedDays = [];
    return closed;
  }

  /** The group of cross-shard chains this shard prepared and that awaits its decision, or null. */
  get chainGroupInDoubt(): bigint | null {
    return this.#context.prepared?.group ?? null;
  }

  /**
   * The credit halves of the group in doubt (carried for payers on other shards), money-moving ones only: once their
   * payers' shards committed, that money left them and has not landed here yet (tally verify counts it in flight).
   */
  get creditHalvesInDoubt(): CarriedCredit[] {
    const prepared = this.#context.prepared;
    return prepared === null ? [] : carriedCreditsOf(prepared, this.state.shardCount);
  }

  /**
   * Votes on this shard's part of a group of cross-shard chains: dry-runs `request.events` (each sub-chain,
   * delimited by `request.chainEnds`, whole or not at all), undoes every change, and returns the prepare
   * entry that records the events and the dry run's results. Until commitPrepared or abortPrepared the
   * ledger runs nothing else: the caller holds every other write, read and tick back.
   */
  prepareChains(request: PrepareRequest, nowNs: bigint): { seq: number; entry: Uint8Array; results: Uint8Array } {
    const written = writePrepareEntry(this.#context, request, nowNs);
    const { seq, entry } = this.#apply(written);
    const count = written.header.count;
    const from = resultsOffset(count);
    return { seq, entry, results: entry.slice(from, from + count * resultBytes) };
  }

  /** The prepared group committed: its events again, as an ordinary entry that must give the dry run's results. */
  commitPrepared(nowNs: bigint): ExecutedBatch {
    return this.#executed(writeCommitEntry(this.#context, nowNs));
  }

  /**
   * The prepared group was abandoned: an entry that moves nothing. It keeps the prepared events at
   * `remember` (positions in the part) with their failures, remembered by id like any failed event, so
   * that a retry of a failed chain fails again.
   */
  abortPrepared(nowNs: bigint, remember: readonly RememberedFailure[] = []): { seq: number; entry: Uint8Array } {
    return this.#apply(writeAbortEntry(this.#context, nowNs, remember));
  }

  /** `flags` (JournalEntryFlags) is 0 for callers' batches; only the shard itself opens slices (opensSlices). */
  execute(operation: number, body: Uint8Array, nowNs: bigint, flags = 0): ExecutedBatch {
    return this.#executed(writeBatchEntry(this.#context, operation, body, nowNs, flags));
  }

  /**
   * Applies instructions from other shards: each one exactly once, in pair-sequence order. Those at or
   * below this shard's mark for their sender are duplicates; one past a missing predecessor is a gap,
   * and so is everything after it from that sender. The rest become one journal entry.
   */
  applyInbound(body: Uint8Array, nowNs: bigint): InboundBatch {
    const { statuses, written } = writeInboundEntry(this.#context, body, nowNs);
    if (written === null) return { applied: null, statuses, outbound: null };
    return { applied: this.#apply(written), statuses, outbound: this.#context.outboundLast };
  }

  /** Writes a journal entry that expires every hold due by now, or returns null if none is due. */
  expireDue(nowNs: bigint): { seq: number; entry: Uint8Array } | null {
    const written = writeExpireEntry(this.#context, nowNs);
    return written === null ? null : this.#apply(written);
  }

  /**
   * Writes a flush_history entry: every history node buffered since the last flush moves into stored runs,
   * returned with the entry (store them in the same transaction). Null while a vote awaits its decision.
   */
  flushHistory(nowNs: bigint): { seq: number; entry: Uint8Array; runs: FlushedRuns } | null {
    const written = writeFlushEntry(this.#context, nowNs);
    if (written === null) return null;
    const { seq, entry } = this.#apply(written);
    return { seq, entry, runs: this.takeFlushedRuns()! };
  }

  /** The runs of the last flush_history entry applied (by flushHistory or replay) and not taken yet, or null. */
  takeFlushedRuns(): FlushedRuns | null {
    const runs = this.#context.flushedRuns;
    this.#context.flushedRuns = null;
    return runs;
  }

  /** History nodes buffered since the last flush (memory that the next flush_history entry empties). */
  get historyBufferedNodes(): number {
    return this.#context.state.accounts.history.bufferedNodes;
  }

  /**
   * Writes the summary postings of hot-inbound accounts that are due (core/hot/hot-inbound.ts), or returns
   * null when none is: every non-empty buffer applied, automatic marks and un-marks by `policy`.
   */
  applyHotInbound(nowNs: bigint, policy: HotInboundPolicy): { seq: number; entry: Uint8Array } | null {
    const written = writeHotInboundEntry(this.#context, nowNs, policy);
    return written === null ? null : this.#apply(written);
  }

  /** Buffer delays (ns) of the credits applied live since the last call. */
  takeHotDelaysNs(): number[] {
    const delays = this.#context.hotDelaysNs;
    this.#context.hotDelaysNs = [];
    return delays;
  }

  /**
   * Every account of this shard (id, ledger, status, flags with DirectoryMarks.creditsHigh where a credit balance is
   * that high), for the account directory at process start.
   */
  directoryEntries(): Uint8Array {
    const state = this.#context.state;
    return accountEntries(state.accounts, (slot) => (state.creditsHigh(slot) ? DirectoryMarks.creditsHigh : 0));
  }

  /**
   * Per transfer event of `body` (128 B each, routed to another shard), the u16 code one shard would answer at its
   * reference's check when the reference lives here, else 0 (posting/verdicts-elsewhere.ts).
   */
  eventVerdicts(body: Uint8Array): Uint8Array {
    return eventVerdicts(this.#context.state, body);
  }

  /** Which of the transfer ids in `body` (16 B each) this shard has taken: one byte each (queries.ts transferIdsTaken). */
  transferIdsTaken(body: Uint8Array): Uint8Array {
    return transferIdsTaken(this.#context.state, body);
  }

  /** Which of the account-operation ids in `body` (16 B each) this shard has taken: one byte each. */
  operationIdsTaken(body: Uint8Array): Uint8Array {
    return operationIdsTaken(this.#context.state, body);
  }

  /** The ids (16 B each) of this shard's hot-outbound accounts (AccountFlags.hot_outbound). */
  hotOutboundIds(): Uint8Array {
    return hotOutboundIds(this.#context.state);
  }

  /** Hot-inbound accounts now: how many, and what their buffers hold. */
  hotInboundStatus(): { accounts: number; creditsBuffered: bigint; creditsBufferedCount: number } {
    return hotInboundStatus(this.#context.state);
  }

  replay(seq: number, entry: Uint8Array): void {
    const header = readJournalHeader(entry);
    assert(header.seq === seq && seq === this.#context.lastSeq + 1, `journal replay out of order at seq ${seq}`);
    const from = resultsOffset(header.count);
    const stored = entry.slice(from, from + header.count * resultBytes);
    applyEntry(this.#context, entry, header, false);
    this.#context.state.noteOwnedIds(seq, entry);
    this.#context.hotDelaysNs = []; // waits measured live only
    const replayed = entry.subarray(from, from + header.count * resultBytes);
    assert(bytesEqual(stored, replayed), `journal replay at seq ${seq} produced different results`);
  }

  /** Instructions retained for `peer` after `pairSeq` (at most a delivery's worth), for a relay that lost them. */
  outboxAfter(peer: number, pairSeq: number): Uint8Array {
    return outboxAfter(this.#context.state, peer, pairSeq);
  }

  /** `peer` applied this shard's instructions up to `pairSeq`: stop retaining them. */
  acknowledgeOutbox(peer: number, pairSeq: number): void {
    acknowledgeOutbox(this.#context.state, peer, pairSeq);
  }

  /** Per peer: the last pair sequence issued to it, then (from index shardCount) the last applied from it. */
  transitStatus(): Float64Array {
    return transitStatus(this.#context.state);
  }

  /**
   * A read. The ledger's own accounts (transit, suspense, slices) answer as unknown ones unless `ledgerOwn`
   * (lookup_ledger_accounts always shows them; a test's white-box history read passes true).
   */
  query(operation: number, body: Uint8Array, ledgerOwn = false): Uint8Array {
    const state = this.#context.state;
    if (operation === WireOperation.lookup_accounts) return lookupAccounts(state, body, ledgerOwn);
    if (operation === WireOperation.lookup_ledger_accounts) return lookupAccounts(state, body, true);
    if (operation === WireOperation.lookup_transfers) return lookupTransfers(state, body);
    if (operation === WireOperation.get_account_transfers) return accountHistory(state, body, ledgerOwn);
    if (operation === WireOperation.query_transfers) return queryTransfers(state, body);
    if (operation === WireOperation.query_accounts) return queryAccounts(state, body);
    throw errors.operationUnknown(operation);
  }

  /** The whole-state check (balances vs totals, holds, freezes, conservation). O(accounts). */
  verify(): void {
    this.#context.state.verifyAllBalances();
  }

  /** Applies a new entry (its checks on assigned fields run now) and returns its seq and bytes. */
  #apply(written: WrittenEntry): { seq: number; entry: Uint8Array } {
    applyEntry(this.#context, written.entry, written.header, true);
    this.#context.state.noteOwnedIds(written.header.seq, written.entry);
    return { seq: written.header.seq, entry: written.entry };
  }

  /** Applies a batch's new entry and answers: the entry, one result (u32) per event, and the instructions it issued. */
  #executed(written: WrittenEntry): ExecutedBatch {
    const { seq, entry } = this.#apply(written);
    const from = resultsOffset(written.header.count);
    return { seq, entry, reply: entry.slice(from, from + written.header.count * resultBytes), outbound: this.#context.outboundLast };
  }
}

/** The checkpoint body of `ledger` (Ledger.encodeCheckpoint): what restoreLedger starts from. */
export function encodeLedgerCheckpoint(ledger: Ledger): Uint8Array {
  return ledger.encodeCheckpoint();
}

/** A ledger that stands where the checkpoint `body` was taken; replay the journal's entries after its seq. */
export function restoreLedger(body: Uint8Array, options: Omit<LedgerOptions, 'checkpoint'>): Ledger {
  return new Ledger({ ...options, checkpoint: body });
}
