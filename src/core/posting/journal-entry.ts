// One journal entry per write batch: the events as posted (timestamps and effective amounts
// filled in), the result of each, and for transfers both accounts' balances after each one.
// Entries are append-only; balances are always re-derivable by replaying them in seq order.

import { assert } from '../assert.js';
import { JournalEntryKind } from '../operations.js';
import { eventBytes } from '../limits.js';
import { resultBytes } from '../layout.js';
import { instructionTrailerBytes } from '../transit/transit.js';
import { chainGroupTrailerBytes, chainEndBytes } from '../chains/prepared-chains.js';

export const journalEntryVersion = 1;
export const journalHeaderBytes = 32;
/** Per transfer: debit account (dp, cp, dpend, cpend) then credit account, u64 each. */
export const balancesAfterBytes = 64;

export const JournalHeader = {
  version: 0, // u16
  operation: 2, // u16
  count: 4, // u32
  timestampBase: 8, // u64: event i has timestamp base + i
  seq: 16, // u64
  /** u32 yyyymmdd: the business day the entry's postings belong to (for a day_cut, the day it begins); 0 before the first cut. */
  businessDay: 24,
  /** u32 JournalEntryFlags. */
  flags: 28,
} as const;

export const JournalEntryFlags = {
  /**
   * The entry re-executes the events of the prepare_chains entry just before it (the group committed):
   * each event applies on its own (the dry run already applied the chains whole), nothing expires first.
   */
  commitsPrepared: 1,
  /**
   * A create_accounts entry of the ledger's own (ShardControl.openSlices): it opens slices of hot-outbound
   * accounts, ids in the slice range that no caller's entry may open (core/posting/validate.ts validateSliceAccount).
   */
  opensSlices: 2,
} as const;

export interface JournalEntryHeader {
  operation: number;
  count: number;
  timestampBase: bigint;
  seq: number;
  businessDay: number;
  /** JournalEntryFlags; 0 when absent. */
  flags?: number;
}

/**
 * The detail (high 16 bits) of an `ok` result of a committed carried credit's halves (core/chains/prepared-chains.ts),
 * kept in the commit entry: readers of the journal alone (books, audits, the change stream) tell a credit half,
 * booked as a credit landing, from a transfer by it.
 */
export const CarriedCreditDetail = {
  creditCarried: 1,
  creditHalf: 2,
} as const;

/** Whether `result` (a stored u32 of a create_transfers entry) is an `ok` credit half carried for another shard. */
export function isCreditHalfResult(result: number): boolean {
  return result === (CarriedCreditDetail.creditHalf << 16); // ok is code 0
}

/** Whether entries of `operation` keep both accounts' balances after each event. */
export function keepsBalancesAfter(operation: number): boolean {
  return operation === JournalEntryKind.create_transfers || operation === JournalEntryKind.apply_inbound;
}

/** apply_inbound entries keep each instruction's trailer (pair, sequence, kind) after the balances. */
function hasTrailers(operation: number): boolean {
  return operation === JournalEntryKind.apply_inbound;
}

export function journalEntryBytes(operation: number, count: number): number {
  if (operation === JournalEntryKind.prepare_chains) return journalHeaderBytes + count * (eventBytes + resultBytes + chainEndBytes) + chainGroupTrailerBytes;
  if (operation === JournalEntryKind.abort_chains) return journalHeaderBytes + count * (eventBytes + resultBytes) + chainGroupTrailerBytes;
  const perEvent = eventBytes + resultBytes + (keepsBalancesAfter(operation) ? balancesAfterBytes : 0) + (hasTrailers(operation) ? instructionTrailerBytes : 0);
  return journalHeaderBytes + count * perEvent;
}

/**
 * One record cut out of its entry (JournalSource.recordSlice): the event as posted, its stored result, and the
 * two accounts' balances after it where the entry keeps them — what a lookup or a history line reads, without
 * copying the whole entry (up to 1.6 MB) out of the store.
 */
export const RecordSlice = { event: 0, result: eventBytes, balances: eventBytes + resultBytes } as const;

/** Which parts of a record a reader needs (a bit set): each may lie in another stored piece of its entry. */
export const RecordParts = { event: 1, result: 2, balances: 4, all: 7 } as const;

/** Where the three parts of record `index` lie in an entry of `count` events of `operation` (balances −1: not kept). */
export function recordRanges(operation: number, count: number, index: number): { event: number; result: number; balances: number } {
  assert(Number.isInteger(index) && index >= 0 && index < count, 'a record slice names an event of its entry');
  return {
    event: eventOffset(index),
    result: resultsOffset(count) + index * resultBytes,
    balances: keepsBalancesAfter(operation) ? balancesAfterOffset(count, index) : -1,
  };
}

/** The bytes of a RecordSlice of a record whose entry keeps (or not) balances after. */
export function recordSliceBytes(keepsBalances: boolean): number {
  return RecordSlice.balances + (keepsBalances ? balancesAfterBytes : 0);
}

/** The most bytes a RecordSlice takes: a scratch buffer this long holds any record. */
export const recordSliceMax = RecordSlice.balances + balancesAfterBytes;

/** A RecordSlice of `bytes`: zeros at the start of `into` (a caller's scratch, recordSliceMax long), or a new one. */
export function recordSliceRoom(bytes: number, into?: Uint8Array): Uint8Array {
  if (into === undefined) return new Uint8Array(bytes);
  assert(into.byteLength >= recordSliceMax, 'a record scratch holds the largest RecordSlice');
  return into.fill(0, 0, bytes).subarray(0, bytes);
}

/**
 * A copy of record `index` of `entry` laid out as RecordSlice (balances present only where the entry keeps them):
 * in `into` when given (see recordSliceRoom), else in a new buffer.
 */
export function recordSliceOf(entry: Uint8Array, index: number, into?: Uint8Array): Uint8Array {
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const operation = view.getUint16(JournalHeader.operation, true);
  const count = view.getUint32(JournalHeader.count, true);
  assert(entry.byteLength === journalEntryBytes(operation, count), 'journal entry length mismatch');
  const ranges = recordRanges(operation, count, index);
  const slice = recordSliceRoom(recordSliceBytes(ranges.balances >= 0), into);
  const from = entry.byteOffset;
  slice.set(new Uint8Array(entry.buffer, from + ranges.event, eventBytes), RecordSlice.event);
  slice.set(new Uint8Array(entry.buffer, from + ranges.result, resultBytes), RecordSlice.result);
  if (ranges.balances >= 0) slice.set(new Uint8Array(entry.buffer, from + ranges.balances, balancesAfterBytes), RecordSlice.balances);
  return slice;
}

/** Where instruction `index`'s 16-byte trailer lies in an apply_inbound entry of `count` events. */
export function trailerOffset(count: number, index: number): number {
  return balancesAfterOffset(count, count) + index * instructionTrailerBytes;
}

export function eventOffset(index: number): number {
  return journalHeaderBytes + index * eventBytes;
}

export function resultsOffset(count: number): number {
  return journalHeaderBytes + count * eventBytes;
}

export function balancesAfterOffset(count: number, index: number): number {
  return resultsOffset(count) + count * resultBytes + index * balancesAfterBytes;
}

export function writeJournalHeader(view: DataView, header: JournalEntryHeader): void {
  view.setUint16(JournalHeader.version, journalEntryVersion, true);
  view.setUint16(JournalHeader.operation, header.operation, true);
  view.setUint32(JournalHeader.count, header.count, true);
  view.setBigUint64(JournalHeader.timestampBase, header.timestampBase, true);
  view.setBigUint64(JournalHeader.seq, BigInt(header.seq), true);
  view.setUint32(JournalHeader.businessDay, header.businessDay, true);
  view.setUint32(JournalHeader.flags, header.flags ?? 0, true);
}

export function readJournalHeader(entry: Uint8Array): JournalEntryHeader {
  assert(entry.byteLength >= journalHeaderBytes, 'journal entry shorter than its header');
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  assert(view.getUint16(JournalHeader.version, true) === journalEntryVersion, 'journal entry version unknown');
  const header = {
    operation: view.getUint16(JournalHeader.operation, true),
    count: view.getUint32(JournalHeader.count, true),
    timestampBase: view.getBigUint64(JournalHeader.timestampBase, true),
    seq: Number(view.getBigUint64(JournalHeader.seq, true)),
    businessDay: view.getUint32(JournalHeader.businessDay, true),
    flags: view.getUint32(JournalHeader.flags, true),
  };
  assert(entry.byteLength === journalEntryBytes(header.operation, header.count), 'journal entry length mismatch');
  return header;
}
