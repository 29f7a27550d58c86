// query_accounts on one shard (issue #16): a page of the accounts that match a filter, in (timestamp, id) order.
// Accounts are bounded state held in memory, and a shard's slots are in creation order, so timestamps ascend with
// the slot: the cursor is found by binary search, and the page reads slots from there, at most queryExaminedMax of
// them per call (the reply's cursor goes on from the last one read). The ledger's own accounts never show.

import { accountStaticBytes, statusNumber } from '../accounts/account-table.js';
import { isZeroAt } from '../bytes.js';
import { AccountLayout as A, QueryFilterLayout as Q } from '../layout.js';
import { eventBytes, queryExaminedMax } from '../limits.js';
import { boundsAfterCursor, isAfterCursor, isWithinBounds, parseQueryFilter, queryReply, type QueryFilter } from '../query-filter.js';
import { viewOf } from '../u128.js';
import type { LedgerState } from './ledger-state.js';
import { lowerBound, writeAccount } from './queries.js';
import { isDerivedIdAt } from './validate.js';

/** Filter fields checked against an account's static record (bytes 0..63 of AccountLayout). */
const checkedFields = [
  { filter: Q.userData128, account: A.userData128, bytes: 16 },
  { filter: Q.userData64, account: A.userData64, bytes: 8 },
  { filter: Q.userData32, account: A.userData32, bytes: 4 },
  { filter: Q.ledger, account: A.ledger, bytes: 4 },
  { filter: Q.code, account: A.code, bytes: 2 },
] as const;

export function queryAccounts(state: LedgerState, body: Uint8Array): Uint8Array {
  const filter = parseQueryFilter(body, 'accounts');
  const accounts = state.accounts;
  const statics = accounts.statics;
  const view = accounts.staticsView;
  const named = checkedFields.filter(({ filter: at, bytes }) => !isZeroAt(body, at, bytes));
  const timestampOf = (slot: number): bigint => view.getBigUint64(slot * accountStaticBytes + A.timestamp, true);
  const { from, to } = boundsAfterCursor(filter);
  const count = accounts.count;
  // Slots in creation order, timestamps ascending: the first slot after the bound, or the last one before it.
  let slot = filter.reversed ? lowerBound(count, (s) => timestampOf(s) > to) - 1 : lowerBound(count, (s) => timestampOf(s) >= from);
  const step = filter.reversed ? -1 : 1;
  const rows: Uint8Array[] = [];
  let examined = 0;
  let last: { timestamp: bigint; id: Uint8Array } | null = null;
  let more = false;
  for (; slot >= 0 && slot < count; slot += step) {
    const at = slot * accountStaticBytes;
    const timestamp = timestampOf(slot);
    if (!isWithinBounds(filter, timestamp)) break;
    if (rows.length === filter.limit || examined === queryExaminedMax) {
      more = true;
      break;
    }
    examined++;
    if (!isAfterCursor(filter, timestamp, view, at + A.id)) continue;
    last = { timestamp, id: statics.slice(at + A.id, at + A.id + 16) };
    if (!matches(filter, named, state, slot)) continue;
    const row = new Uint8Array(eventBytes);
    writeAccount(state, slot, row, viewOf(row), 0);
    rows.push(row);
  }
  return queryReply(rows, eventBytes, more && last !== null ? last : null);
}

function matches(filter: QueryFilter, named: readonly (typeof checkedFields)[number][], state: LedgerState, slot: number): boolean {
  const view = state.accounts.staticsView;
  const at = slot * accountStaticBytes;
  if (isDerivedIdAt(view, at + A.id)) return false;
  for (const field of named) {
    for (let i = 0; i < field.bytes; i++) if (filter.bytes[field.filter + i] !== view.getUint8(at + field.account + i)) return false;
  }
  if ((view.getUint16(at + A.flags, true) & filter.flagsAll) !== filter.flagsAll) return false;
  return filter.status === 0 || statusNumber(state.accounts.statusOf(slot)) === filter.status;
}

