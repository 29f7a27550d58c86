// A caller's transfers may not name the accounts the ledger opens itself (issue #14, item 31). Transit accounts are
// refused by the field checks (validate.ts); slices of hot-outbound accounts and suspense accounts cannot be, since
// the ledger names them itself in the same kind of event: the shard set routes a hot account's payment to its slice,
// the keeper refills and empties slices, an approved adjustment pays out of suspense (resolving 挂账). All of them
// exist only with more than one shard, so a caller naming one got `ok` (or insufficient_funds) where one shard
// answers account_not_found. The shard set therefore marks a caller's transfer naming one, before it routes
// anything (transferNamesLedgerAccount), and every shard answers it account_id_invalid, at every shard count.

import { isSuspenseIdAt } from '../accounts/system-accounts.js';
import { TransferLayout as T } from '../layout.js';
import { eventBytes } from '../limits.js';
import { transferCallerMarkInvalid, transferNamesLedgerAccount } from '../types.js';
import { isDerivedIdAt } from './validate.js';

/** Who sent the transfers: a caller, or an approved adjustment (which may pay out of, or into, suspense). */
export type LedgerAccountsAllowed = 'none' | 'suspense';

/**
 * `body` (create_transfers events) with each event that names a ledger's own account `allowed` does not cover
 * marked transferNamesLedgerAccount, and each carrying the caller's own copy of that mark made flags_invalid. The
 * body itself when nothing changes, else a copy: the caller's bytes are never written.
 */
export function markLedgerAccountsNamed(body: Uint8Array, allowed: LedgerAccountsAllowed): Uint8Array {
  let out: Uint8Array | null = null;
  let view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) {
    const flags = view.getUint16(at + T.flags, true);
    const forged = (flags & transferNamesLedgerAccount) !== 0;
    if (!forged && !namesLedgerAccount(view, at + T.debitAccountId, allowed) && !namesLedgerAccount(view, at + T.creditAccountId, allowed)) continue;
    if (out === null) {
      out = body.slice();
      view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    }
    view.setUint16(at + T.flags, flags | (forged ? transferCallerMarkInvalid : transferNamesLedgerAccount), true);
  }
  return out ?? body;
}

function namesLedgerAccount(view: DataView, at: number, allowed: LedgerAccountsAllowed): boolean {
  return isDerivedIdAt(view, at) && !(allowed === 'suspense' && isSuspenseIdAt(view, at));
}
