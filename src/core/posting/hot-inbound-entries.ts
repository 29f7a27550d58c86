// The summary postings of hot-inbound accounts (core/hot/hot-inbound.ts) as apply_hot_inbound entries: planned
// live by the shard's ticker, applied as written on replay (never planned again); and what the hot accounts hold.

import { assert } from '../assert.js';
import { setHotInbound } from './account-operations.js';
import { accountStaticBytes } from '../accounts/account-table.js';
import { HotRecordKind, HotRecordLayout as H, planHotRecords, type HotInboundPolicy } from '../hot/hot-inbound.js';
import { eventOffset, type JournalEntryHeader } from './journal-entry.js';
import type { LedgerContext, WrittenEntry } from './ledger-context.js';
import type { LedgerState } from './ledger-state.js';
import { JournalEntryKind } from '../operations.js';
import { AccountFlags } from '../types.js';

/** The entry of the hot-inbound records due by `policy`, or null when none is (or a vote awaits its decision). */
export function writeHotInboundEntry(context: LedgerContext, nowNs: bigint, policy: HotInboundPolicy): WrittenEntry | null {
  if (context.prepared !== null) return null; // the next entry must decide the prepared group
  const state = context.state;
  const records = planHotRecords(state, nowNs, policy);
  if (records.length === 0) return null;
  const written = context.newEntry(JournalEntryKind.apply_hot_inbound, records.length, nowNs);
  const { entry, view } = written;
  records.forEach((record, i) => {
    const at = eventOffset(i);
    entry.set(state.accounts.statics.subarray(record.slot * accountStaticBytes, record.slot * accountStaticBytes + 16), at + H.accountId);
    view.setBigUint64(at + H.amount, record.amount, true);
    view.setBigUint64(at + H.seqThrough, BigInt(record.seqThrough), true);
    view.setUint16(at + H.kind, record.kind, true);
  });
  return written;
}

/** Applies the records of an apply_hot_inbound entry, as written (replay does not plan again). */
export function applyHotRecords(state: LedgerState, entry: Uint8Array, header: JournalEntryHeader): void {
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  for (let i = 0; i < header.count; i++) {
    const at = eventOffset(i);
    const slot = state.accounts.slotAt(view, at + H.accountId);
    assert(slot >= 0, `entry ${header.seq}: a hot-inbound record names an account of this shard`);
    const kind = view.getUint16(at + H.kind, true);
    if (kind === HotRecordKind.apply) {
      const buffer = state.buffers.get(slot);
      const amount = view.getBigUint64(at + H.amount, true);
      assert(buffer !== undefined && buffer.amount === amount, `entry ${header.seq}: a hot-inbound apply moves exactly the buffer`);
      state.applyBuffer(slot, Number(view.getBigUint64(at + H.seqThrough, true)), header.timestampBase);
      assert(buffer.amount === 0n && buffer.waiting === 0, 'a hot-inbound apply empties the buffer');
    } else if (kind === HotRecordKind.autoMark) {
      setHotInbound(state, slot, true, true, header.timestampBase);
      state.creditRates.quietWindows.set(slot, 0);
    } else {
      assert(kind === HotRecordKind.autoUnmark, `entry ${header.seq}: hot-inbound record kind ${kind} is known`);
      setHotInbound(state, slot, false, false, header.timestampBase);
      state.creditRates.quietWindows.delete(slot);
      state.buffers.delete(slot);
    }
  }
}

/** Applies every hot-inbound buffer (a cut: the closing balances hold every credit of the day). */
export function applyAllBuffers(state: LedgerState, timestampNs: bigint): void {
  for (const [slot, buffer] of state.buffers) if (buffer.waiting > 0) state.applyBuffer(slot, buffer.seqLast, timestampNs);
}

/** The ids (16 B each) of this shard's hot-outbound accounts (AccountFlags.hot_outbound). */
export function hotOutboundIds(state: LedgerState): Uint8Array {
  const accounts = state.accounts;
  const slots: number[] = [];
  for (let slot = 0; slot < accounts.count; slot++) if ((accounts.flagsOf(slot) & AccountFlags.hot_outbound) !== 0) slots.push(slot);
  const ids = new Uint8Array(slots.length * 16);
  slots.forEach((slot, i) => ids.set(accounts.statics.subarray(slot * accountStaticBytes, slot * accountStaticBytes + 16), i * 16));
  return ids;
}

/** Hot-inbound accounts now: how many, and what their buffers hold. */
export function hotInboundStatus(state: LedgerState): { accounts: number; creditsBuffered: bigint; creditsBufferedCount: number } {
  const accounts = state.hotInboundAccounts;
  let creditsBuffered = 0n;
  let creditsBufferedCount = 0;
  for (const buffer of state.buffers.values()) {
    creditsBuffered += buffer.amount;
    creditsBufferedCount += buffer.waiting;
  }
  return { accounts, creditsBuffered, creditsBufferedCount };
}
