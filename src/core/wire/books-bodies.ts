// Encoding and decoding of the books operations (business days, day reports, subjects, trial balance):
// the fixed layouts of balance and statement queries, JSON for reports. Used by the client and by the
// gateway's HTTP/JSON API.

import { isBusinessDay } from '../business-day.js';
import { BalanceAtDayLayout, StatementFlags, StatementLayout, StatementReplyLayout, HistoryEntryLayout } from '../layout.js';
import { decodeHistoryEntries } from './records.js';
import type { AccountHistoryEntry } from '../types.js';
import { writeU128 } from '../u128.js';

export interface DayBalances {
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

export interface AccountStatement {
  accountId: bigint;
  fromDay: number;
  toDay: number;
  /** Balances at the end of the day before `fromDay` (= the opening of `fromDay`). */
  opening: DayBalances;
  /** Balances at the end of `toDay`. */
  closing: DayBalances;
  /** The account's transfers in those days, oldest first, with its balances after each. */
  entries: AccountHistoryEntry[];
  /** True when `entries` filled the limit: page on with getAccountTransfers from the last timestamp. */
  truncated: boolean;
}

export function encodeBalanceAtDay(accountId: bigint, day: number): Uint8Array {
  const body = new Uint8Array(BalanceAtDayLayout.bytes);
  const view = new DataView(body.buffer);
  writeU128(view, BalanceAtDayLayout.accountId, accountId);
  view.setUint32(BalanceAtDayLayout.day, checkDay(day, 'day'), true);
  return body;
}

/** Null when the account does not exist. */
export function decodeBalanceAtDay(reply: Uint8Array): DayBalances | null {
  if (reply.byteLength === 0) return null;
  return balancesAt(new DataView(reply.buffer, reply.byteOffset, reply.byteLength), 0);
}

export function encodeStatement(accountId: bigint, fromDay: number, toDay: number, limit: number): Uint8Array {
  const body = new Uint8Array(StatementLayout.bytes);
  const view = new DataView(body.buffer);
  writeU128(view, StatementLayout.accountId, accountId);
  view.setUint32(StatementLayout.fromDay, checkDay(fromDay, 'fromDay'), true);
  view.setUint32(StatementLayout.toDay, checkDay(toDay, 'toDay'), true);
  view.setUint32(StatementLayout.limit, limit, true);
  return body;
}

export function decodeStatement(accountId: bigint, fromDay: number, toDay: number, reply: Uint8Array): AccountStatement | null {
  if (reply.byteLength === 0) return null;
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const count = view.getUint32(StatementReplyLayout.count, true);
  const entries = decodeHistoryEntries(reply.subarray(StatementReplyLayout.bytes, StatementReplyLayout.bytes + count * HistoryEntryLayout.bytes));
  return {
    accountId,
    fromDay,
    toDay,
    opening: balancesAt(view, StatementReplyLayout.opening),
    closing: balancesAt(view, StatementReplyLayout.closing),
    entries,
    truncated: (view.getUint32(StatementReplyLayout.flags, true) & StatementFlags.truncated) !== 0,
  };
}

export function encodeDay(day: number): Uint8Array {
  const body = new Uint8Array(4);
  new DataView(body.buffer).setUint32(0, checkDay(day, 'day', true), true);
  return body;
}

export function encodeLedgerDay(ledger: number, day: number): Uint8Array {
  const body = new Uint8Array(8);
  const view = new DataView(body.buffer);
  if (!Number.isInteger(ledger) || ledger < 1 || ledger > 0xffff_ffff) throw new TypeError(`ledger must be a u32 above 0, got ${String(ledger)}`);
  view.setUint32(0, ledger, true);
  view.setUint32(4, checkDay(day, 'day', true), true);
  return body;
}

export function decodeJson<T>(reply: Uint8Array): T {
  return JSON.parse(new TextDecoder().decode(reply)) as T;
}

function balancesAt(view: DataView, at: number): DayBalances {
  return {
    debitsPosted: view.getBigUint64(at, true),
    creditsPosted: view.getBigUint64(at + 8, true),
    debitsPending: view.getBigUint64(at + 16, true),
    creditsPending: view.getBigUint64(at + 24, true),
  };
}

/**
 * A business day is a real date written yyyymmdd (e.g. 20261123; the server refuses anything else with
 * body_invalid too); 0 is allowed where it means "none / everything".
 */
function checkDay(day: number, name: string, zeroAllowed = false): number {
  if (zeroAllowed && day === 0) return 0;
  if (!isBusinessDay(day)) throw new TypeError(`${name} must be a real date written yyyymmdd (years 1900–9999), got ${String(day)}`);
  return day;
}
