// Which scope each request operation needs: read (lookups, books reads), post (writes), admin (the day cut
// and operating the ledger). Scopes do not imply each other. Kept as bits in a table indexed by operation
// number, so the gateway's check is two array reads and an AND per frame.

import { assert } from '../core/assert.js';
import { WireOperation, isAdminOperation, isWireOperation } from '../core/operations.js';
import type { Scope } from './ledger-service.js';

export const scopeNames: readonly Scope[] = ['read', 'post', 'admin'];

export const ScopeBit: Readonly<Record<Scope, number>> = { read: 1, post: 2, admin: 4 };

/** Every scope: the caller when authentication is off. */
export const allScopesMask = ScopeBit.read | ScopeBit.post | ScopeBit.admin;

/** Operation numbers are u8 on the wire's side of things (the catalog stays below 256). */
const operationsMax = 256;

const needed = new Uint8Array(operationsMax);
for (const op of [WireOperation.lookup_accounts, WireOperation.lookup_transfers, WireOperation.get_account_transfers, WireOperation.query_transfers, WireOperation.query_accounts]) needed[op] = ScopeBit.read;
for (let op: number = WireOperation.get_day_report; op <= WireOperation.get_bookkeeping_status; op++) needed[op] = ScopeBit.read;
for (const op of [WireOperation.create_accounts, WireOperation.create_transfers, WireOperation.account_operations]) needed[op] = ScopeBit.post;
needed[WireOperation.close_day] = ScopeBit.admin;
for (let op = 0; op < operationsMax; op++) if (isAdminOperation(op)) needed[op] = ScopeBit.admin;
for (let op = 0; op < operationsMax; op++) assert(isWireOperation(op) === (needed[op] !== 0), `operation ${op} has a scope exactly when it is a request operation`);

/** The scope bit `operation` needs (a request operation, already checked by the frame codec). */
export function scopeBitOf(operation: number): number {
  const bit = needed[operation] ?? 0;
  assert(bit !== 0, `operation ${operation} is a request operation`);
  return bit;
}

/** The scope `operation` needs. */
export function scopeOf(operation: number): Scope {
  const bit = scopeBitOf(operation);
  return scopeNames.find((name) => ScopeBit[name] === bit)!;
}

/** A caller's scopes as bits. */
export function scopeMask(scopes: Iterable<Scope>): number {
  let mask = 0;
  for (const scope of scopes) mask |= ScopeBit[scope];
  return mask;
}
