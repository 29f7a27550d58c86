// One shard's ledger: applies write batches in arrival order, stamps them, turns each into one
// journal entry, and answers reads. Pure: the caller persists the entry (durably) BEFORE it
// sends the reply, and rebuilds a Ledger by replaying entries in seq order after a restart.

import { assert } from '../assert.js';
import { applyAccountOperation, createAccount, setHotInbound } from './account-operations.js';
import { errors } from '../errors.js';
import { accountStaticBytes } from '../accounts/account-table.js';
import { bytesEqual } from '../bytes.js';
import { isBusinessDay } from '../business-day.js';
import { HotRecordKind, HotRecordLayout as H, planHotRecords, type HotInboundPolicy } from '../hot/hot-inbound.js';
import { applyInstruction } from './inbound-posting.js';
import {
  JournalEntryFlags,
  balancesAfterOffset,
  eventOffset,
  journalEntryBytes,
  readJournalHeader,
  resultsOffset,
  trailerOffset,
  writeJournalHeader,
  type JournalEntryHeader,
} from './journal-entry.js';
import { AccountLayout, AccountOperationLayout, TransferLayout, resultBytes } from '../layout.js';
import { LedgerState, locationOf, type JournalSource } from './ledger-state.js';
import { batchEventsMax, eventBytes, transitDeliveryInstructionsMax } from '../limits.js';
import { JournalEntryKind, WireOperation, isWriteOperation } from '../operations.js';
import { chainGroupTrailerBytes, type PrepareRequest } from '../chains/prepared-chains.js';
import { accountHistory, lookupAccounts, lookupTransfers } from './queries.js';
import { ResultCode } from '../result-codes.js';
import { expireHold, isOpenHold, postTransfer } from './transfer-posting.js';
import { InboundStatus, InstructionKind, InstructionLayout as I } from '../transit/transit.js';
import { isZero128 } from '../u128.js';
import { setU64SumAt, u64WordsOf } from '../u64-words.js';
import { AccountFlags } from '../types.js';
import { isMax128, validateAccount, validateAccountOperation, validateSliceAccount, validateTransfer } from './validate.js';

export type { JournalSource } from './ledger-state.js';

export interface LedgerOptions {
  shardIndex: number;
  shardCount: number;
  journal: JournalSource;
  /** Transfer ids to size the id table for up front (a long-running shard passes transferIdsExpected). */
  transferIdsExpected?: number;
  /**
   * Per peer shard, a pair sequence that peer is known to have applied (a hint kept beside the journal):
   * replay retains only instructions above it. Too low only means re-sending what the peer skips.
   */
  outboxAcknowledged?: readonly number[];
}

export interface ExecutedBatch {
  seq: number;
  entry: Uint8Array;
  reply: Uint8Array;
  /** Cross-shard instructions this batch issued (InstructionLayout each), or null; deliver once `entry` is durable. */
  outbound: Uint8Array | null;
}

/** The state at a day cut: every account's balances as the closed day ended (its closing balances). */
export interface ClosedDay {
  /** The business day that ended (0: everything before the first cut). */
  day: number;
  /** The day that began. */
  dayBegun: number;
  /** Seq and timestamp of the day_cut entry: every earlier entry of this shard belongs to `day`. */
  cutSeq: number;
  cutTimestamp: bigint;
  accountCount: number;
  /** balanceStride words per account slot, slot order (see account-table.ts). */
  balances: BigUint64Array;
  /** transitStatus() at the cut: per peer the last pair sequence issued, then the last applied from it. */
  transitMarks: Float64Array;
}

export interface InboundBatch {
  /** The journal entry of the applied instructions, or null when none applied (all duplicates or gaps). */
  applied: { seq: number; entry: Uint8Array } | null;
  /** One InboundStatus per instruction handed in. */
  statuses: Uint8Array;
  /** Returns issued for refused credits, or null; deliver once the entry is durable. */
  outbound: Uint8Array | null;
}

/** A group of cross-shard chains this shard voted on and that is not decided yet (core/chains/prepared-chains.ts). */
interface PreparedGroup {
  group: bigint;
  operation: number;
  count: number;
  /** The caller's events, as the commit re-executes them. */
  events: Uint8Array;
  /** The dry run's results (u32 each): the commit must reproduce them. */
  results: Uint8Array;
}

/** The prepared group's u16 inner operation and u64 group number, at the end of its entries. */
const ChainGroupTrailer = { operation: 0, group: 8 } as const;

interface OperationRules {
  validate: (view: DataView, at: number, assignedChecked: boolean) => number;
  timestampAt: number;
  flagsAt: number;
  linkedFlag: number;
}

const rules: Record<number, OperationRules> = {
  [JournalEntryKind.create_accounts]: { validate: validateAccount, timestampAt: AccountLayout.timestamp, flagsAt: AccountLayout.flags, linkedFlag: 1 },
  [JournalEntryKind.create_transfers]: { validate: validateTransfer, timestampAt: TransferLayout.timestamp, flagsAt: TransferLayout.flags, linkedFlag: 1 },
  [JournalEntryKind.account_operations]: {
    validate: validateAccountOperation,
    timestampAt: AccountOperationLayout.timestamp,
    flagsAt: AccountOperationLayout.flags,
    linkedFlag: 1,
  },
  // Instructions were validated and applied by their sending shard; they are never linked here.
  [JournalEntryKind.apply_inbound]: { validate: () => ResultCode.ok, timestampAt: TransferLayout.timestamp, flagsAt: TransferLayout.flags, linkedFlag: 0 },
};

/** Entries flagged opensSlices: the ledger's own create_accounts, slices only (never linked). */
const sliceRules: OperationRules = { ...rules[JournalEntryKind.create_accounts]!, validate: validateSliceAccount, linkedFlag: 0 };

/** Codes after which an id is not remembered as failed: no usable id, or nothing was wrong with the event itself. */
const notRemembered = new Set<number>([
  ResultCode.ok,
  ResultCode.exists,
  ResultCode.exists_with_different_fields,
  ResultCode.id_invalid,
  ResultCode.linked_event_failed,
  ResultCode.linked_event_chain_open,
]);

export class Ledger {
  readonly #state: LedgerState;
  #lastSeq = 0;
  private timestampLast = 0n;
  /** The instructions issued by the entry applied last (null when none). */
  private outboundLast: Uint8Array | null = null;
  private businessDayValue = 0;
  /** Days begun by a cut, ascending, with the cut's timestamp: postings of day d lie between the cut that began d and the next. */
  private readonly cuts: { day: number; timestamp: bigint; seq: number }[] = [];
  private closedDays: ClosedDay[] = [];
  /** Set by a prepare_chains entry until the next entry decides it; nothing else may run meanwhile. */
  private prepared: PreparedGroup | null = null;
  /** How long each credit applied live waited in its hot-inbound buffer (ns), until taken. */
  private hotDelaysNs: number[] = [];

  constructor(options: LedgerOptions) {
    assert(Number.isInteger(options.shardCount) && options.shardCount >= 1, 'shardCount must be a positive integer');
    assert(options.shardIndex >= 0 && options.shardIndex < options.shardCount, 'shardIndex out of range');
    const { shardIndex, shardCount, journal, transferIdsExpected, outboxAcknowledged } = options;
    this.#state = new LedgerState(shardIndex, shardCount, journal, transferIdsExpected ?? 0, outboxAcknowledged);
    this.#state.onBufferApplied = (delays) => {
      for (const delay of delays) this.hotDelaysNs.push(delay);
    };
  }

  get seqLast(): number {
    return this.#lastSeq;
  }

  /** The business day new postings belong to (0 until the first cut). */
  get businessDay(): number {
    return this.businessDayValue;
  }

  /** Cuts applied so far (ascending): the day each began and the cut entry's timestamp and seq. */
  get dayCuts(): readonly { day: number; timestamp: bigint; seq: number }[] {
    return this.cuts;
  }

  /**
   * The day cut (日切): one journal entry after which postings belong to `day`. The balances at that
   * point are the closing balances of the day that ends; takeClosedDays() hands them to the caller.
   */
  cutDay(day: number, nowNs: bigint): { seq: number; entry: Uint8Array } {
    assert(Number.isInteger(day) && day > this.businessDayValue, `a cut begins a later day (${day} after ${this.businessDayValue})`);
    // Callers refuse other days first (the day book: body_invalid); replay does not check, so that a journal
    // an earlier version wrote with such a cut still opens.
    assert(isBusinessDay(day), `a cut begins a real date (${day})`);
    const header = { operation: JournalEntryKind.day_cut, count: 0, timestampBase: this.nextTimestamp(nowNs), seq: this.#lastSeq + 1, businessDay: day };
    const entry = new Uint8Array(journalEntryBytes(header.operation, 0));
    writeJournalHeader(new DataView(entry.buffer), header);
    this.applyEntry(entry, header, true);
    return { seq: header.seq, entry };
  }

  /** The group of cross-shard chains this shard prepared and that awaits its decision, or null. */
  get chainGroupInDoubt(): bigint | null {
    return this.prepared?.group ?? null;
  }

  /**
   * Votes on this shard's part of a group of cross-shard chains: dry-runs `request.events` (each sub-chain,
   * delimited by `request.chainEnds`, whole or not at all), undoes every change, and returns the prepare
   * entry that records the events and the dry run's results. Until commitPrepared or abortPrepared the
   * ledger runs nothing else: the caller holds every other write, read and tick back.
   */
  prepareChains(request: PrepareRequest, nowNs: bigint): { seq: number; entry: Uint8Array; results: Uint8Array } {
    assert(this.prepared === null, 'one prepared group at a time');
    const { operation, events, chainEnds, group } = request;
    if (!isWriteOperation(operation)) throw errors.operationUnknown(operation);
    const count = events.byteLength / eventBytes;
    if (!Number.isInteger(count) || count < 1 || count > batchEventsMax) throw errors.bodyInvalid(`a prepared part is 1..${batchEventsMax} events`);
    assert(chainEnds.byteLength === count && chainEnds[count - 1] === 1, 'every sub-chain of a prepared part ends');
    if (operation === JournalEntryKind.create_transfers && this.#state.outbox.full) {
      throw errors.overloaded(`shard ${this.#state.shardIndex} holds ${this.#state.outbox.retainedCount} cross-shard instructions no receiver acknowledged yet`);
    }
    const header = { operation: JournalEntryKind.prepare_chains, count, timestampBase: this.nextTimestamp(nowNs), seq: this.#lastSeq + 1, businessDay: this.businessDayValue };
    const entry = new Uint8Array(journalEntryBytes(header.operation, count));
    const view = new DataView(entry.buffer);
    writeJournalHeader(view, header);
    entry.set(events, eventOffset(0));
    entry.set(chainEnds, chainEndsOffset(count));
    const trailer = entry.byteLength - chainGroupTrailerBytes;
    view.setUint16(trailer + ChainGroupTrailer.operation, operation, true);
    view.setBigUint64(trailer + ChainGroupTrailer.group, group, true);
    this.applyEntry(entry, header, true);
    const from = resultsOffset(count);
    return { seq: header.seq, entry, results: entry.slice(from, from + count * resultBytes) };
  }

  /** The prepared group committed: its events again, as an ordinary entry that must give the dry run's results. */
  commitPrepared(nowNs: bigint): ExecutedBatch {
    const prepared = this.prepared;
    assert(prepared !== null, 'a commit needs a prepared group');
    const header = {
      operation: prepared.operation,
      count: prepared.count,
      timestampBase: this.nextTimestamp(nowNs),
      seq: this.#lastSeq + 1,
      businessDay: this.businessDayValue,
      flags: JournalEntryFlags.commitsPrepared,
    };
    const entry = new Uint8Array(journalEntryBytes(header.operation, header.count));
    writeJournalHeader(new DataView(entry.buffer), header);
    entry.set(prepared.events, eventOffset(0));
    this.applyEntry(entry, header, true);
    const from = resultsOffset(header.count);
    return { seq: header.seq, entry, reply: entry.slice(from, from + header.count * resultBytes), outbound: this.outboundLast };
  }

  /**
   * The prepared group was abandoned: an entry that moves nothing. It keeps the prepared events at
   * `remember` (positions in the part) with their failures, remembered by id like any failed event, so
   * that a retry of a failed chain fails again.
   */
  abortPrepared(nowNs: bigint, remember: readonly number[] = []): { seq: number; entry: Uint8Array } {
    const prepared = this.prepared;
    assert(prepared !== null, 'an abort needs a prepared group');
    const count = remember.length;
    assert(remember.every((p) => Number.isInteger(p) && p >= 0 && p < prepared.count), 'remembered failures are events of the part');
    const header = { operation: JournalEntryKind.abort_chains, count, timestampBase: this.nextTimestamp(nowNs), seq: this.#lastSeq + 1, businessDay: this.businessDayValue };
    const entry = new Uint8Array(journalEntryBytes(header.operation, count));
    const view = new DataView(entry.buffer);
    writeJournalHeader(view, header);
    remember.forEach((position, k) => {
      entry.set(prepared.events.subarray(position * eventBytes, (position + 1) * eventBytes), eventOffset(k));
      entry.set(prepared.results.subarray(position * resultBytes, (position + 1) * resultBytes), resultsOffset(count) + k * resultBytes);
    });
    view.setUint16(entry.byteLength - chainGroupTrailerBytes + ChainGroupTrailer.operation, prepared.operation, true);
    view.setBigUint64(entry.byteLength - chainGroupTrailerBytes + ChainGroupTrailer.group, prepared.group, true);
    this.applyEntry(entry, header, true);
    return { seq: header.seq, entry };
  }

  /** Closing states of the days cut since the last call (by cutDay or by replay), oldest first. */
  takeClosedDays(): ClosedDay[] {
    const closed = this.closedDays;
    this.closedDays = [];
    return closed;
  }

  /** The internal state, for invariant checks in tests and verification tools. */
  get state(): LedgerState {
    return this.#state;
  }

  /** `flags` (JournalEntryFlags) is 0 for callers' batches; only the shard itself opens slices (opensSlices). */
  execute(operation: number, body: Uint8Array, nowNs: bigint, flags = 0): ExecutedBatch {
    if (!isWriteOperation(operation)) throw errors.operationUnknown(operation);
    assert(flags === 0 || (flags === JournalEntryFlags.opensSlices && operation === JournalEntryKind.create_accounts), 'only create_accounts entries open slices');
    assert(this.prepared === null, 'a shard with a prepared group runs nothing else until it is decided');
    const count = body.byteLength / eventBytes;
    if (!Number.isInteger(count) || count < 1) throw errors.bodyInvalid(`a batch is 1..${batchEventsMax} events of ${eventBytes} bytes`);
    if (count > batchEventsMax) throw errors.batchTooLarge(count, batchEventsMax);
    if (operation === JournalEntryKind.create_transfers && this.#state.outbox.full) {
      throw errors.overloaded(`shard ${this.#state.shardIndex} holds ${this.#state.outbox.retainedCount} cross-shard instructions no receiver acknowledged yet`);
    }
    const header = { operation, count, timestampBase: this.nextTimestamp(nowNs), seq: this.#lastSeq + 1, businessDay: this.businessDayValue, flags };
    const entry = new Uint8Array(journalEntryBytes(operation, count));
    writeJournalHeader(new DataView(entry.buffer), header);
    entry.set(body, eventOffset(0));
    this.applyEntry(entry, header, true);
    const from = resultsOffset(count);
    return { seq: header.seq, entry, reply: entry.slice(from, from + count * resultBytes), outbound: this.outboundLast };
  }

  /**
   * Applies instructions from other shards: each one exactly once, in pair-sequence order. Those at or
   * below this shard's mark for their sender are duplicates; one past a missing predecessor is a gap,
   * and so is everything after it from that sender. The rest become one journal entry.
   */
  applyInbound(body: Uint8Array, nowNs: bigint): InboundBatch {
    const count = body.byteLength / I.bytes;
    if (!Number.isInteger(count) || count < 1 || count > transitDeliveryInstructionsMax) {
      throw errors.bodyInvalid(`an inbound delivery is 1..${transitDeliveryInstructionsMax} instructions of ${I.bytes} bytes`);
    }
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const statuses = new Uint8Array(count);
    const next = new Map<number, number>();
    const accepted: number[] = [];
    for (let i = 0; i < count; i++) {
      const at = i * I.bytes;
      const from = view.getUint16(at + I.fromShard, true);
      assert(from < this.#state.shardCount && from !== this.#state.shardIndex && view.getUint16(at + I.toShard, true) === this.#state.shardIndex, 'instruction addressed here');
      const kind = view.getUint16(at + I.kind, true);
      assert(kind === InstructionKind.credit || kind === InstructionKind.return, 'instruction kind known');
      const pairSeq = Number(view.getBigUint64(at + I.pairSeq, true));
      const expected = next.get(from) ?? this.#state.inboundApplied[from]! + 1;
      if (pairSeq < expected) statuses[i] = InboundStatus.duplicate;
      else if (pairSeq > expected) statuses[i] = InboundStatus.gap;
      else {
        accepted.push(i);
        next.set(from, expected + 1);
      }
    }
    if (accepted.length === 0) return { applied: null, statuses, outbound: null };
    const header = { operation: JournalEntryKind.apply_inbound, count: accepted.length, timestampBase: this.nextTimestamp(nowNs), seq: this.#lastSeq + 1, businessDay: this.businessDayValue };
    const entry = new Uint8Array(journalEntryBytes(header.operation, header.count));
    writeJournalHeader(new DataView(entry.buffer), header);
    accepted.forEach((i, k) => {
      entry.set(body.subarray(i * I.bytes, i * I.bytes + eventBytes), eventOffset(k));
      entry.set(body.subarray(i * I.bytes + eventBytes, (i + 1) * I.bytes), trailerOffset(header.count, k));
    });
    this.applyEntry(entry, header, true);
    return { applied: { seq: header.seq, entry }, statuses, outbound: this.outboundLast };
  }

  /** Writes a journal entry that expires every hold due by now, or returns null if none is due. */
  expireDue(nowNs: bigint): { seq: number; entry: Uint8Array } | null {
    if (this.prepared !== null) return null; // the next entry must decide the prepared group
    // Holds posted, voided or undone since they were scheduled leave stale deadlines: none is due.
    for (let top = this.#state.expiry.peek(); top !== undefined && !isOpenHold(this.#state, top.key, top.expiresAtNs); top = this.#state.expiry.peek()) {
      this.#state.expiry.pop();
    }
    const due = this.#state.expiry.peek();
    const timestampBase = this.nextTimestamp(nowNs);
    if (due === undefined || due.expiresAtNs > timestampBase) return null;
    const header = { operation: JournalEntryKind.expire_pending, count: 0, timestampBase, seq: this.#lastSeq + 1, businessDay: this.businessDayValue };
    const entry = new Uint8Array(journalEntryBytes(header.operation, 0));
    writeJournalHeader(new DataView(entry.buffer), header);
    this.applyEntry(entry, header, true);
    return { seq: header.seq, entry };
  }

  /**
   * Writes the summary postings of hot-inbound accounts that are due (core/hot/hot-inbound.ts), or returns
   * null when none is: every non-empty buffer applied, automatic marks and un-marks by `policy`.
   */
  applyHotInbound(nowNs: bigint, policy: HotInboundPolicy): { seq: number; entry: Uint8Array } | null {
    if (this.prepared !== null) return null; // the next entry must decide the prepared group
    const records = planHotRecords(this.#state, nowNs, policy);
    if (records.length === 0) return null;
    const header = { operation: JournalEntryKind.apply_hot_inbound, count: records.length, timestampBase: this.nextTimestamp(nowNs), seq: this.#lastSeq + 1, businessDay: this.businessDayValue };
    const entry = new Uint8Array(journalEntryBytes(header.operation, header.count));
    const view = new DataView(entry.buffer);
    writeJournalHeader(view, header);
    records.forEach((record, i) => {
      const at = eventOffset(i);
      entry.set(this.#state.accounts.statics.subarray(record.slot * accountStaticBytes, record.slot * accountStaticBytes + 16), at + H.accountId);
      view.setBigUint64(at + H.amount, record.amount, true);
      view.setBigUint64(at + H.seqThrough, BigInt(record.seqThrough), true);
      view.setUint16(at + H.kind, record.kind, true);
    });
    this.applyEntry(entry, header, true);
    return { seq: header.seq, entry };
  }

  /** Buffer delays (ns) of the credits applied live since the last call. */
  takeHotDelaysNs(): number[] {
    const delays = this.hotDelaysNs;
    this.hotDelaysNs = [];
    return delays;
  }

  /** The ids (16 B each) of this shard's hot-outbound accounts (AccountFlags.hot_outbound). */
  hotOutboundIds(): Uint8Array {
    const accounts = this.#state.accounts;
    const slots: number[] = [];
    for (let slot = 0; slot < accounts.count; slot++) if ((accounts.flagsOf(slot) & AccountFlags.hot_outbound) !== 0) slots.push(slot);
    const ids = new Uint8Array(slots.length * 16);
    slots.forEach((slot, i) => ids.set(accounts.statics.subarray(slot * accountStaticBytes, slot * accountStaticBytes + 16), i * 16));
    return ids;
  }

  /** Hot-inbound accounts now: how many, and what their buffers hold. */
  hotInboundStatus(): { accounts: number; creditsBuffered: bigint; creditsBufferedCount: number } {
    const accounts = this.#state.hotInboundAccounts;
    let creditsBuffered = 0n;
    let creditsBufferedCount = 0;
    for (const buffer of this.#state.buffers.values()) {
      creditsBuffered += buffer.amount;
      creditsBufferedCount += buffer.waiting;
    }
    return { accounts, creditsBuffered, creditsBufferedCount };
  }

  replay(seq: number, entry: Uint8Array): void {
    const header = readJournalHeader(entry);
    assert(header.seq === seq && seq === this.#lastSeq + 1, `journal replay out of order at seq ${seq}`);
    const from = resultsOffset(header.count);
    const stored = entry.slice(from, from + header.count * resultBytes);
    this.applyEntry(entry, header, false);
    this.hotDelaysNs = []; // waits measured live only
    const replayed = entry.subarray(from, from + header.count * resultBytes);
    assert(bytesEqual(stored, replayed), `journal replay at seq ${seq} produced different results`);
  }

  /** Instructions retained for `peer` after `pairSeq` (at most a delivery's worth), for a relay that lost them. */
  outboxAfter(peer: number, pairSeq: number): Uint8Array {
    assert(peer >= 0 && peer < this.#state.shardCount && peer !== this.#state.shardIndex, 'outbox peer is another shard');
    return this.#state.outbox.after(peer, pairSeq, transitDeliveryInstructionsMax);
  }

  /** `peer` applied this shard's instructions up to `pairSeq`: stop retaining them. */
  acknowledgeOutbox(peer: number, pairSeq: number): void {
    assert(peer >= 0 && peer < this.#state.shardCount && peer !== this.#state.shardIndex, 'outbox peer is another shard');
    this.#state.outbox.acknowledge(peer, pairSeq);
  }

  /** Per peer: the last pair sequence issued to it, then (from index shardCount) the last applied from it. */
  transitStatus(): Float64Array {
    const shardCount = this.#state.shardCount;
    const status = new Float64Array(2 * shardCount);
    status.set(this.#state.outbox.pairSeqLast.subarray(0, shardCount), 0);
    status.set(this.#state.inboundApplied.subarray(0, shardCount), shardCount);
    return status;
  }

  query(operation: number, body: Uint8Array): Uint8Array {
    if (operation === WireOperation.lookup_accounts) return lookupAccounts(this.#state, body);
    if (operation === WireOperation.lookup_transfers) return lookupTransfers(this.#state, body);
    if (operation === WireOperation.get_account_transfers) return accountHistory(this.#state, body);
    throw errors.operationUnknown(operation);
  }

  /** The whole-state check (balances vs totals, holds, freezes, conservation). O(accounts). */
  verify(): void {
    this.#state.verifyAllBalances();
  }

  private nextTimestamp(nowNs: bigint): bigint {
    return nowNs > this.timestampLast ? nowNs : this.timestampLast + 1n;
  }

  private applyEntry(entry: Uint8Array, header: JournalEntryHeader, assignedChecked: boolean): void {
    const { operation, count, timestampBase, seq } = header;
    const commits = ((header.flags ?? 0) & JournalEntryFlags.commitsPrepared) !== 0;
    const decides = commits || operation === JournalEntryKind.abort_chains;
    assert(decides === (this.prepared !== null), `entry ${seq} ${decides ? 'decides a group no entry prepared' : 'follows a prepared group it does not decide'}`);
    if (operation === JournalEntryKind.day_cut) return this.applyCut(entry, header);
    assert(header.businessDay === this.businessDayValue, `entry ${seq} belongs to the current business day`);
    if (operation === JournalEntryKind.prepare_chains) return this.applyPrepare(entry, header);
    if (operation === JournalEntryKind.abort_chains) return this.applyAbort(entry, header);
    this.#state.remember(seq, entry);
    const timestampLast = timestampBase + BigInt(Math.max(count, 1) - 1);
    // A commit applies against the state its vote saw: holds due since then expire with the next entry.
    if (!commits) this.expireThrough(timestampLast);
    if (operation === JournalEntryKind.apply_hot_inbound) this.applyHotRecords(entry, header);
    else if (count > 0) {
      const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
      const results = new Uint32Array(count);
      const opensSlices = ((header.flags ?? 0) & JournalEntryFlags.opensSlices) !== 0;
      assert(!opensSlices || operation === JournalEntryKind.create_accounts, `entry ${seq}: only create_accounts entries open slices`);
      const rule = opensSlices ? sliceRules : rules[operation]!;
      this.validateAll(rule, view, header, results, assignedChecked);
      // The vote applied each chain whole; its commit applies the same events one by one, and all pass.
      const linked = commits ? () => false : (i: number) => (view.getUint16(eventOffset(i) + rule.flagsAt, true) & rule.linkedFlag) !== 0;
      this.applyAll(operation, view, header, results, linked, false);
    }
    if (commits) this.checkCommit(entry, header);
    this.#state.assertConservation();
    this.outboundLast = this.#state.outbox.commitStaged();
    this.#lastSeq = seq;
    this.timestampLast = timestampLast;
  }

  /** The vote: expiry up to its moment (real), then the dry run on a copy (undone), results into the entry. */
  private applyPrepare(entry: Uint8Array, header: JournalEntryHeader): void {
    const { count, seq, timestampBase } = header;
    const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
    const trailer = entry.byteLength - chainGroupTrailerBytes;
    const operation = view.getUint16(trailer + ChainGroupTrailer.operation, true);
    assert(isWriteOperation(operation) && count >= 1, `prepare entry ${seq} holds write events`);
    const timestampLast = timestampBase + BigInt(count - 1);
    this.expireThrough(timestampLast);
    // The dry run stamps and fills in its copy; the entry keeps the caller's events for the commit.
    const dryHeader = { operation, count, timestampBase, seq, businessDay: header.businessDay };
    const dry = new Uint8Array(journalEntryBytes(operation, count));
    const dryView = new DataView(dry.buffer);
    writeJournalHeader(dryView, dryHeader);
    dry.set(entry.subarray(eventOffset(0), eventOffset(count)), eventOffset(0));
    this.#state.remember(seq, dry);
    const chainEnds = entry.subarray(chainEndsOffset(count), chainEndsOffset(count) + count);
    const undo: (() => void)[] = [];
    this.#state.undo = undo;
    const results = new Uint32Array(count);
    this.validateAll(rules[operation]!, dryView, dryHeader, results, true);
    this.applyAll(operation, dryView, dryHeader, results, (i) => chainEnds[i] === 0, true);
    this.#state.undo = null;
    for (let u = undo.length - 1; u >= 0; u--) undo[u]!();
    assert(this.#state.outbox.stagedCount === 0, 'a dry run leaves no instruction staged');
    this.#state.assertConservation();
    const from = resultsOffset(count);
    entry.set(dry.subarray(from, from + count * resultBytes), from);
    this.#state.remember(seq, entry);
    this.prepared = {
      group: view.getBigUint64(trailer + ChainGroupTrailer.group, true),
      operation,
      count,
      events: entry.slice(eventOffset(0), eventOffset(count)),
      results: entry.slice(from, from + count * resultBytes),
    };
    this.outboundLast = null;
    this.#lastSeq = seq;
    this.timestampLast = timestampLast;
  }

  private applyAbort(entry: Uint8Array, header: JournalEntryHeader): void {
    const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
    const trailer = entry.byteLength - chainGroupTrailerBytes;
    const group = view.getBigUint64(trailer + ChainGroupTrailer.group, true);
    assert(group === this.prepared!.group, `abort entry ${header.seq} names the prepared group`);
    this.#state.remember(header.seq, entry);
    const operation = view.getUint16(trailer + ChainGroupTrailer.operation, true);
    const from = resultsOffset(header.count);
    for (let i = 0; i < header.count; i++) this.rememberFailure(operation, view, header.seq, i, view.getUint32(from + i * resultBytes, true));
    this.prepared = null;
    this.outboundLast = null;
    this.#lastSeq = header.seq;
    this.timestampLast = header.timestampBase;
  }

  /** Same state, same events, same order: a commit that differs from its vote is a bug, never an answer. */
  private checkCommit(entry: Uint8Array, header: JournalEntryHeader): void {
    const prepared = this.prepared!;
    assert(header.operation === prepared.operation && header.count === prepared.count, `commit ${header.seq} re-executes the prepared events`);
    const from = resultsOffset(header.count);
    const results = entry.subarray(from, from + header.count * resultBytes);
    assert(bytesEqual(results, prepared.results), `commit ${header.seq} reproduces the results of its vote`);
    this.prepared = null;
  }

  /** Applies the records of an apply_hot_inbound entry, as written (replay does not plan again). */
  private applyHotRecords(entry: Uint8Array, header: JournalEntryHeader): void {
    const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
    for (let i = 0; i < header.count; i++) {
      const at = eventOffset(i);
      const slot = this.#state.accounts.slotAt(view, at + H.accountId);
      assert(slot >= 0, `entry ${header.seq}: a hot-inbound record names an account of this shard`);
      const kind = view.getUint16(at + H.kind, true);
      if (kind === HotRecordKind.apply) {
        const buffer = this.#state.buffers.get(slot);
        const amount = view.getBigUint64(at + H.amount, true);
        assert(buffer !== undefined && buffer.amount === amount, `entry ${header.seq}: a hot-inbound apply moves exactly the buffer`);
        this.#state.applyBuffer(slot, Number(view.getBigUint64(at + H.seqThrough, true)), header.timestampBase);
        assert(buffer.amount === 0n && buffer.waiting === 0, 'a hot-inbound apply empties the buffer');
      } else if (kind === HotRecordKind.autoMark) {
        setHotInbound(this.#state, slot, true, true, header.timestampBase);
        this.#state.creditRates.quietWindows.set(slot, 0);
      } else {
        assert(kind === HotRecordKind.autoUnmark, `entry ${header.seq}: hot-inbound record kind ${kind} is known`);
        setHotInbound(this.#state, slot, false, false, header.timestampBase);
        this.#state.creditRates.quietWindows.delete(slot);
        this.#state.buffers.delete(slot);
      }
    }
  }

  /** Applies every hot-inbound buffer (a cut: the closing balances hold every credit of the day). */
  private applyAllBuffers(timestampNs: bigint): void {
    for (const [slot, buffer] of this.#state.buffers) if (buffer.waiting > 0) this.#state.applyBuffer(slot, buffer.seqLast, timestampNs);
  }

  private applyCut(entry: Uint8Array, header: JournalEntryHeader): void {
    assert(header.count === 0 && header.businessDay > this.businessDayValue, `cut at seq ${header.seq} begins a later day`);
    assert(header.timestampBase > this.timestampLast || this.#lastSeq === 0, `cut at seq ${header.seq} is stamped after every earlier entry`);
    this.#state.remember(header.seq, entry);
    this.expireThrough(header.timestampBase); // holds due before the cut expire within the day that ends
    this.applyAllBuffers(header.timestampBase);
    const accounts = this.#state.accounts;
    this.closedDays.push({
      day: this.businessDayValue,
      dayBegun: header.businessDay,
      cutSeq: header.seq,
      cutTimestamp: header.timestampBase,
      accountCount: accounts.count,
      balances: accounts.balancesBySlot(),
      transitMarks: this.transitStatus(),
    });
    this.cuts.push({ day: header.businessDay, timestamp: header.timestampBase, seq: header.seq });
    this.businessDayValue = header.businessDay;
    this.outboundLast = null;
    this.#lastSeq = header.seq;
    this.timestampLast = header.timestampBase;
  }

  private expireThrough(timestampNs: bigint): void {
    // Expiry is not part of any chain: it cannot be undone, and never is.
    assert(this.#state.undo === null, 'holds expire outside linked chains');
    for (let due = this.#state.expiry.peek(); due !== undefined && due.expiresAtNs <= timestampNs; due = this.#state.expiry.peek()) {
      this.#state.expiry.pop();
      expireHold(this.#state, due.key, due.expiresAtNs);
    }
  }

  /** Pass one: field checks, then stamp every event (failed ones too) with its timestamp. */
  private validateAll(rule: OperationRules, view: DataView, header: JournalEntryHeader, results: Uint32Array, assignedChecked: boolean): void {
    const timestampBase = u64WordsOf(header.timestampBase);
    for (let i = 0; i < header.count; i++) {
      const at = eventOffset(i);
      results[i] = rule.validate(view, at, assignedChecked);
      // On replay the journal copy carries the assigned timestamp and amount, so the checks of what
      // the caller put there cannot run again; their verdicts (checked first) come from the journal.
      if (!assignedChecked) results[i] = assignedFieldsVerdict(view, header.count, i) ?? results[i]!;
      setU64SumAt(view, at + rule.timestampAt, timestampBase, i); // timestampBase + i
    }
  }

  /**
   * Pass two: apply events in order; a linked chain (`linked(i)`: event i chains to the next) applies all
   * or nothing. A dry run remembers no failed id: everything it does is undone.
   */
  private applyAll(operation: number, view: DataView, header: JournalEntryHeader, results: Uint32Array, linked: (i: number) => boolean, dryRun: boolean): void {
    for (let i = 0; i < header.count; ) {
      if (!linked(i)) {
        if (results[i] === ResultCode.ok) results[i] = this.applyOne(operation, view, header, i);
        this.settle(operation, view, header, results, i, i, dryRun);
        i++;
        continue;
      }
      let last = i;
      while (last < header.count - 1 && linked(last)) last++;
      this.applyChain(operation, view, header, results, i, last, linked(last));
      this.settle(operation, view, header, results, i, last, dryRun);
      i = last + 1;
    }
  }

  private applyChain(operation: number, view: DataView, header: JournalEntryHeader, results: Uint32Array, first: number, last: number, open: boolean): void {
    // Inside a dry run the chain's changes join the run's own undo once the chain holds.
    const outer = this.#state.undo;
    assert(first < last || open, 'a linked chain holds two events or is left open');
    const undo: (() => void)[] = [];
    this.#state.undo = undo;
    let failedAt = -1;
    // The event that leaves a chain open is never applied: linked_event_chain_open outranks its own checks.
    const applyLast = open ? last - 1 : last;
    for (let i = first; i <= applyLast && failedAt < 0; i++) {
      if (results[i] === ResultCode.ok) results[i] = this.applyOne(operation, view, header, i);
      const code = results[i]! & 0xffff;
      if (code !== ResultCode.ok && code !== ResultCode.exists) failedAt = i;
    }
    assert(this.#state.undo === undo, 'a chain records its changes in its own undo list');
    this.#state.undo = null; // reverting records nothing
    if (failedAt < 0 && open) {
      failedAt = last;
      results[last] = ResultCode.linked_event_chain_open;
    }
    if (failedAt >= 0) {
      for (let u = undo.length - 1; u >= 0; u--) undo[u]!();
      for (let i = first; i <= last; i++) if (i !== failedAt) results[i] = ResultCode.linked_event_failed;
    } else if (outer !== null) {
      for (const revert of undo) outer.push(revert);
    }
    this.#state.undo = outer;
  }

  private applyOne(operation: number, view: DataView, header: JournalEntryHeader, index: number): number {
    const at = eventOffset(index);
    const location = locationOf(header.seq, index);
    if (operation === JournalEntryKind.create_transfers) {
      return postTransfer(this.#state, view, at, location, { view, at: balancesAfterOffset(header.count, index) });
    }
    if (operation === JournalEntryKind.create_accounts) return createAccount(this.#state, view, at);
    if (operation === JournalEntryKind.apply_inbound) return this.applyInstructionAt(view, header, index, location);
    return applyAccountOperation(this.#state, view, at, location);
  }

  private applyInstructionAt(view: DataView, header: JournalEntryHeader, index: number, location: number): number {
    const trailer = trailerOffset(header.count, index) - eventBytes; // InstructionLayout offsets count from the record
    const fromShard = view.getUint16(trailer + I.fromShard, true);
    const pairSeq = Number(view.getBigUint64(trailer + I.pairSeq, true));
    // A constant message: this runs per instruction, and a template literal is built whether the assertion holds or not.
    assert(pairSeq === this.#state.inboundApplied[fromShard]! + 1, 'the instructions of a shard pair apply in order, each once');
    this.#state.inboundApplied[fromShard] = pairSeq;
    const instruction = { kind: view.getUint16(trailer + I.kind, true), fromShard, reason: view.getUint16(trailer + I.reason, true) };
    return applyInstruction(this.#state, view, eventOffset(index), instruction, location, { view, at: balancesAfterOffset(header.count, index) });
  }

  /**
   * Writes the final results of events first..last (u16 code, u16 detail) into the entry and
   * remembers their failed ids at once, so that a later event of the same batch retrying a failed
   * id gets the original failure too: where batches are cut must never turn a failure into a late success.
   */
  private settle(operation: number, view: DataView, header: JournalEntryHeader, results: Uint32Array, first: number, last: number, dryRun: boolean): void {
    const remembers = operation !== JournalEntryKind.apply_inbound && !dryRun; // an instruction is never retried by id
    const from = resultsOffset(header.count);
    for (let i = first; i <= last; i++) {
      view.setUint32(from + i * resultBytes, results[i]!, true);
      if (remembers && results[i] !== ResultCode.ok) this.rememberFailure(operation, view, header.seq, i, results[i]!);
    }
  }

  /** Remembers the failed id of event `index` of entry `seq` (a retry gets the same answer), unless nothing is to remember. */
  private rememberFailure(operation: number, view: DataView, seq: number, index: number, result: number): void {
    if (notRemembered.has(result & 0xffff)) return;
    // An event refused for an earlier fault (say, a timestamp) may also carry id 0 or 2^128−1: no id to remember.
    if (isZero128(view, eventOffset(index)) || isMax128(view, eventOffset(index))) return;
    const failed =
      operation === JournalEntryKind.create_transfers ? this.#state.transfersFailed : operation === JournalEntryKind.create_accounts ? this.#state.accountsFailed : this.#state.operationsFailed;
    if (!failed.hasAt(view, eventOffset(index))) failed.setAt(view, eventOffset(index), locationOf(seq, index));
  }
}

/** Where a prepare_chains entry of `count` events keeps its chain-end bytes (after the results). */
function chainEndsOffset(count: number): number {
  return resultsOffset(count) + count * resultBytes;
}

/** The journaled verdict of the checks on assigned fields (timestamp, effective amount), if one failed. */
function assignedFieldsVerdict(view: DataView, count: number, index: number): number | undefined {
  const code = view.getUint16(resultsOffset(count) + index * resultBytes, true);
  return code === ResultCode.timestamp_must_be_zero || code === ResultCode.reserved_field ? code : undefined;
}

