// One shard's ledger: applies write batches in arrival order, stamps them, turns each into one
// journal entry, and answers reads. Pure: the caller persists the entry (durably) BEFORE it
// sends the reply, and rebuilds a Ledger by replaying entries in seq order after a restart.

import { assert } from './assert.js';
import { applyAccountOperation, createAccount } from './account-operations.js';
import { errors } from './errors.js';
import {
  balancesAfterOffset,
  eventOffset,
  journalEntryBytes,
  readJournalHeader,
  resultsOffset,
  writeJournalHeader,
  type JournalEntryHeader,
} from './journal-entry.js';
import { AccountLayout, AccountOperationLayout, TransferLayout, resultBytes } from './layout.js';
import { LedgerState, locationOf, type JournalSource } from './ledger-state.js';
import { batchEventsMax, eventBytes } from './limits.js';
import { Operation, isWriteOperation } from './operations.js';
import { accountHistory, lookupAccounts, lookupTransfers } from './queries.js';
import { ResultCode } from './result-codes.js';
import { expireHold, isOpenHold, postTransfer } from './transfer-posting.js';
import { isZero128 } from './u128.js';
import { isMax128, validateAccount, validateAccountOperation, validateTransfer } from './validate.js';

export type { JournalSource } from './ledger-state.js';

export interface LedgerOptions {
  shardIndex: number;
  shardCount: number;
  journal: JournalSource;
  /** Transfer ids to size the id table for up front (a long-running shard passes transferIdsExpected). */
  transferIdsExpected?: number;
}

export interface ExecutedBatch {
  seq: number;
  entry: Uint8Array;
  reply: Uint8Array;
}

interface OperationRules {
  validate: (view: DataView, at: number, assignedChecked: boolean) => number;
  timestampAt: number;
  flagsAt: number;
  linkedFlag: number;
}

const rules: Record<number, OperationRules> = {
  [Operation.create_accounts]: { validate: validateAccount, timestampAt: AccountLayout.timestamp, flagsAt: AccountLayout.flags, linkedFlag: 1 },
  [Operation.create_transfers]: { validate: validateTransfer, timestampAt: TransferLayout.timestamp, flagsAt: TransferLayout.flags, linkedFlag: 1 },
  [Operation.account_operations]: {
    validate: validateAccountOperation,
    timestampAt: AccountOperationLayout.timestamp,
    flagsAt: AccountOperationLayout.flags,
    linkedFlag: 1,
  },
};

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
  private readonly s: LedgerState;
  private seqLastValue = 0;
  private timestampLast = 0n;

  constructor(options: LedgerOptions) {
    assert(Number.isInteger(options.shardCount) && options.shardCount >= 1, 'shardCount must be a positive integer');
    assert(options.shardIndex >= 0 && options.shardIndex < options.shardCount, 'shardIndex out of range');
    this.s = new LedgerState(options.shardIndex, options.shardCount, options.journal, options.transferIdsExpected ?? 0);
  }

  get seqLast(): number {
    return this.seqLastValue;
  }

  /** The internal state, for invariant checks in tests and verification tools. */
  get state(): LedgerState {
    return this.s;
  }

  execute(operation: number, body: Uint8Array, nowNs: bigint): ExecutedBatch {
    if (!isWriteOperation(operation)) throw errors.operationUnknown(operation);
    const count = body.byteLength / eventBytes;
    if (!Number.isInteger(count) || count < 1) throw errors.bodyInvalid(`a batch is 1..${batchEventsMax} events of ${eventBytes} bytes`);
    if (count > batchEventsMax) throw errors.batchTooLarge(count, batchEventsMax);
    const header = { operation, count, timestampBase: this.nextTimestamp(nowNs), seq: this.seqLastValue + 1 };
    const entry = new Uint8Array(journalEntryBytes(operation, count));
    writeJournalHeader(new DataView(entry.buffer), header);
    entry.set(body, eventOffset(0));
    this.applyEntry(entry, header, true);
    const from = resultsOffset(count);
    return { seq: header.seq, entry, reply: entry.slice(from, from + count * resultBytes) };
  }

  /** Writes a journal entry that expires every hold due by now, or returns null if none is due. */
  expireDue(nowNs: bigint): { seq: number; entry: Uint8Array } | null {
    // Holds posted, voided or undone since they were scheduled leave stale deadlines: none is due.
    for (let top = this.s.expiry.peek(); top !== undefined && !isOpenHold(this.s, top.key, top.expiresAtNs); top = this.s.expiry.peek()) {
      this.s.expiry.pop();
    }
    const due = this.s.expiry.peek();
    const timestampBase = this.nextTimestamp(nowNs);
    if (due === undefined || due.expiresAtNs > timestampBase) return null;
    const header = { operation: Operation.expire_pending, count: 0, timestampBase, seq: this.seqLastValue + 1 };
    const entry = new Uint8Array(journalEntryBytes(header.operation, 0));
    writeJournalHeader(new DataView(entry.buffer), header);
    this.applyEntry(entry, header, true);
    return { seq: header.seq, entry };
  }

  replay(seq: number, entry: Uint8Array): void {
    const header = readJournalHeader(entry);
    assert(header.seq === seq && seq === this.seqLastValue + 1, `journal replay out of order at seq ${seq}`);
    const from = resultsOffset(header.count);
    const stored = entry.slice(from, from + header.count * resultBytes);
    this.applyEntry(entry, header, false);
    const replayed = entry.subarray(from, from + header.count * resultBytes);
    assert(bytesEqual(stored, replayed), `journal replay at seq ${seq} produced different results`);
  }

  query(operation: number, body: Uint8Array): Uint8Array {
    if (operation === Operation.lookup_accounts) return lookupAccounts(this.s, body);
    if (operation === Operation.lookup_transfers) return lookupTransfers(this.s, body);
    if (operation === Operation.get_account_transfers) return accountHistory(this.s, body);
    throw errors.operationUnknown(operation);
  }

  /** The whole-state check (balances vs totals, holds, freezes, conservation). O(accounts). */
  verify(): void {
    this.s.verifyAllBalances();
  }

  private nextTimestamp(nowNs: bigint): bigint {
    return nowNs > this.timestampLast ? nowNs : this.timestampLast + 1n;
  }

  private applyEntry(entry: Uint8Array, header: JournalEntryHeader, assignedChecked: boolean): void {
    const { operation, count, timestampBase, seq } = header;
    this.s.remember(seq, entry);
    const timestampLast = timestampBase + BigInt(Math.max(count, 1) - 1);
    this.expireThrough(timestampLast);
    if (count > 0) {
      const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
      const results = new Uint32Array(count);
      this.validateAll(rules[operation]!, view, header, results, assignedChecked);
      this.applyAll(operation, view, header, results);
    }
    this.s.assertConservation();
    this.seqLastValue = seq;
    this.timestampLast = timestampLast;
  }

  private expireThrough(timestampNs: bigint): void {
    for (let due = this.s.expiry.peek(); due !== undefined && due.expiresAtNs <= timestampNs; due = this.s.expiry.peek()) {
      this.s.expiry.pop();
      expireHold(this.s, due.key, due.expiresAtNs);
    }
  }

  /** Pass one: field checks, then stamp every event (failed ones too) with its timestamp. */
  private validateAll(rule: OperationRules, view: DataView, header: JournalEntryHeader, results: Uint32Array, assignedChecked: boolean): void {
    for (let i = 0; i < header.count; i++) {
      const at = eventOffset(i);
      results[i] = rule.validate(view, at, assignedChecked);
      // On replay the journal copy carries the assigned timestamp and amount, so the checks of what
      // the caller put there cannot run again; their verdicts (checked first) come from the journal.
      if (!assignedChecked) results[i] = assignedFieldsVerdict(view, header.count, i) ?? results[i]!;
      view.setBigUint64(at + rule.timestampAt, header.timestampBase + BigInt(i), true);
    }
  }

  /** Pass two: apply events in order; a linked chain applies all or nothing. */
  private applyAll(operation: number, view: DataView, header: JournalEntryHeader, results: Uint32Array): void {
    const rule = rules[operation]!;
    const linked = (i: number) => (view.getUint16(eventOffset(i) + rule.flagsAt, true) & rule.linkedFlag) !== 0;
    for (let i = 0; i < header.count; ) {
      if (!linked(i)) {
        if (results[i] === ResultCode.ok) results[i] = this.applyOne(operation, view, header, i);
        this.settle(operation, view, header, results, i, i);
        i++;
        continue;
      }
      let last = i;
      while (last < header.count - 1 && linked(last)) last++;
      this.applyChain(operation, view, header, results, i, last, linked(last));
      this.settle(operation, view, header, results, i, last);
      i = last + 1;
    }
  }

  private applyChain(operation: number, view: DataView, header: JournalEntryHeader, results: Uint32Array, first: number, last: number, open: boolean): void {
    const undo: (() => void)[] = [];
    this.s.undo = undo;
    let failedAt = -1;
    // The event that leaves a chain open is never applied: linked_event_chain_open outranks its own checks.
    const applyLast = open ? last - 1 : last;
    for (let i = first; i <= applyLast && failedAt < 0; i++) {
      if (results[i] === ResultCode.ok) results[i] = this.applyOne(operation, view, header, i);
      const code = results[i]! & 0xffff;
      if (code !== ResultCode.ok && code !== ResultCode.exists) failedAt = i;
    }
    this.s.undo = null;
    if (failedAt < 0 && open) {
      failedAt = last;
      results[last] = ResultCode.linked_event_chain_open;
    }
    if (failedAt < 0) return;
    for (let u = undo.length - 1; u >= 0; u--) undo[u]!();
    for (let i = first; i <= last; i++) if (i !== failedAt) results[i] = ResultCode.linked_event_failed;
  }

  private applyOne(operation: number, view: DataView, header: JournalEntryHeader, index: number): number {
    const at = eventOffset(index);
    const location = locationOf(header.seq, index);
    if (operation === Operation.create_transfers) {
      return postTransfer(this.s, view, at, location, { view, at: balancesAfterOffset(header.count, index) });
    }
    if (operation === Operation.create_accounts) return createAccount(this.s, view, at);
    return applyAccountOperation(this.s, view, at, location);
  }

  /**
   * Writes the final results of events first..last (u16 code, u16 detail) into the entry and
   * remembers their failed ids at once, so that a later event of the same batch retrying a failed
   * id gets the original failure too: where batches are cut must never turn a failure into a late success.
   */
  private settle(operation: number, view: DataView, header: JournalEntryHeader, results: Uint32Array, first: number, last: number): void {
    const failed =
      operation === Operation.create_transfers ? this.s.transfersFailed : operation === Operation.create_accounts ? this.s.accountsFailed : this.s.operationsFailed;
    const from = resultsOffset(header.count);
    for (let i = first; i <= last; i++) {
      view.setUint32(from + i * resultBytes, results[i]!, true);
      if (notRemembered.has(results[i]! & 0xffff)) continue;
      // An event refused for an earlier fault (say, a timestamp) may also carry id 0 or 2^128−1: no id to remember.
      if (isZero128(view, eventOffset(i)) || isMax128(view, eventOffset(i))) continue;
      if (!failed.hasAt(view, eventOffset(i))) failed.setAt(view, eventOffset(i), locationOf(header.seq, i));
    }
  }
}

/** The journaled verdict of the checks on assigned fields (timestamp, effective amount), if one failed. */
function assignedFieldsVerdict(view: DataView, count: number, index: number): number | undefined {
  const code = view.getUint16(resultsOffset(count) + index * resultBytes, true);
  return code === ResultCode.timestamp_must_be_zero || code === ResultCode.reserved_field ? code : undefined;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
