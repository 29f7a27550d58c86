// What a durable write changes in the account directory (account-directory.ts), read from the request and its
// reply: accounts created, and the status a payee's checks read (closed, blocked for credits). The writer of
// the directory applies these once the shard holding the accounts has made the write durable and before the
// caller hears the reply, so that any request sent after it is checked against it.

import { assert } from '../assert.js';
import { AccountLayout, AccountOperationLayout, resultBytes } from '../layout.js';
import { eventBytes } from '../limits.js';
import { ResultCode } from '../result-codes.js';
import { AccountOperationFlags, AccountOperationKind } from '../types.js';
import { StatusBits, accountStaticBytes, type AccountTable } from './account-table.js';
import type { AccountDirectory } from './account-directory.js';

/** The accounts a create_accounts request (`body`, its events) created, by its reply (a u32 result per event). */
export function publishCreatedAccounts(directory: AccountDirectory, body: Uint8Array, reply: Uint8Array): void {
  forEachOk(body, reply, (view, at) => directory.publishAt(view, at + AccountLayout.id, view.getUint32(at + AccountLayout.ledger, true), 0, view.getUint16(at + AccountLayout.flags, true)));
}

/** The closes and credit blocks an account_operations request made. */
export function publishAccountOperations(directory: AccountDirectory, body: Uint8Array, reply: Uint8Array): void {
  forEachOk(body, reply, (view, at) => {
    const change = statusChangeAt(view, at);
    if (change !== null) directory.changeStatusAt(view, at + AccountOperationLayout.accountId, change.set, change.clear);
  });
}

/**
 * Every StatusBits change of the account operation at `at`: closed, blocked for credits (payers' shards check
 * payees by it), blocked for debits (a hot-outbound account's slices pay by it: core/posting/slice-owner.ts). The
 * directory holds all three, as the shards' own entries fill it at start. Null when it changes none.
 */
export function statusChangeAt(view: DataView, at: number): { set: number; clear: number } | null {
  const kind = view.getUint16(at + AccountOperationLayout.kind, true);
  const flags = view.getUint16(at + AccountOperationLayout.flags, true);
  const sides = ((flags & AccountOperationFlags.credits) !== 0 ? StatusBits.creditBlocked : 0) | ((flags & AccountOperationFlags.debits) !== 0 ? StatusBits.debitBlocked : 0);
  if (kind === AccountOperationKind.close) return { set: StatusBits.closed, clear: 0 };
  if (kind === AccountOperationKind.block && sides !== 0) return { set: sides, clear: 0 };
  if (kind === AccountOperationKind.unblock && sides !== 0) return { set: 0, clear: sides };
  return null;
}

/**
 * What the account operation at `at` changes of the status a payer's shard checks (closed, blocked for credits):
 * the StatusBits it sets and clears, or null when it changes none of them.
 */
export function payeeStatusChangeAt(view: DataView, at: number): { set: number; clear: number } | null {
  const change = statusChangeAt(view, at);
  const payeeBits = StatusBits.closed | StatusBits.creditBlocked;
  if (change === null || ((change.set | change.clear) & payeeBits) === 0) return null;
  return { set: change.set & payeeBits, clear: change.clear & payeeBits };
}

function forEachOk(body: Uint8Array, reply: Uint8Array, each: (view: DataView, at: number) => void): void {
  const count = body.byteLength / eventBytes;
  assert(Number.isInteger(count) && reply.byteLength === count * resultBytes, 'a reply holds one result per event');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const results = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  for (let i = 0; i < count; i++) if (results.getUint16(i * resultBytes, true) === ResultCode.ok) each(view, i * eventBytes);
}

/** Bytes per account in accountEntries: id (16), ledger (u32), StatusBits (u32), AccountFlags (u32). */
const entryBytes = 28;

/** Every account a shard holds, for the directory at process start (publishEntries). */
export function accountEntries(accounts: AccountTable, marksOf: (slot: number) => number = () => 0): Uint8Array {
  const bytes = new Uint8Array(accounts.count * entryBytes);
  const view = new DataView(bytes.buffer);
  for (let slot = 0; slot < accounts.count; slot++) {
    bytes.set(accounts.statics.subarray(slot * accountStaticBytes, slot * accountStaticBytes + 16), slot * entryBytes);
    view.setUint32(slot * entryBytes + 16, accounts.ledgerOf(slot), true);
    view.setUint32(slot * entryBytes + 20, accounts.statusOf(slot), true);
    view.setUint32(slot * entryBytes + 24, accounts.flagsOf(slot) | marksOf(slot), true);
  }
  return bytes;
}

export function publishEntries(directory: AccountDirectory, bytes: Uint8Array): void {
  assert(bytes.byteLength % entryBytes === 0, `account entries are ${entryBytes} bytes each`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.byteLength; at += entryBytes) directory.publishAt(view, at, view.getUint32(at + 16, true), view.getUint32(at + 20, true), view.getUint32(at + 24, true));
}
