// A hot-outbound account's slice pays in its name (core/hot/hot-outbound.ts): the account's own debit block or
// close holds for the money in its slices too, as it would for that money on one shard. The slice's shard reads the
// account's status in the account directory (the slice's user_data_128 names it); on replay, and when a vote's
// commit re-executes its events, from the result the event was decided with (the directory has moved on since).
// Deciding on the slice's shard, not by routing elsewhere, keeps a retry on the shard that answered it first: an id
// paid before a block still answers `exists`, one refused during it still answers its refusal after an unblock.

import { StatusBits, accountStaticBytes } from '../accounts/account-table.js';
import { notInDirectory, statusOfEntry } from '../accounts/account-directory.js';
import { AccountLayout, TransferLayout as T } from '../layout.js';
import { ResultCode } from '../result-codes.js';
import { equalIdsAt } from '../u128.js';
import type { LedgerState } from './ledger-state.js';
import { storedResultCode } from './remote-payee.js';

/** The owner's StatusBits that stop its payments: closed, blocked for debits. */
const stopsPayments = StatusBits.closed | StatusBits.debitBlocked;

/**
 * StatusBits of the hot-outbound account that owns the slice in slot `debit`, as far as they stop the transfer at
 * `at` (event `location`) from paying: 0 when they do not. The keeper's return of a slice's money to its owner is
 * the account's own money moving, never stopped.
 */
export function sliceOwnerStatus(state: LedgerState, debit: number, view: DataView, at: number, location: number): number {
  const statics = state.accounts.staticsView;
  const ownerAt = debit * accountStaticBytes + AccountLayout.userData128;
  if (equalIdsAt(statics, ownerAt, view, at + T.creditAccountId)) return 0;
  const verdicts = state.payeeVerdicts;
  if (verdicts !== null) {
    const code = storedResultCode(verdicts, location);
    if (code === ResultCode.account_closed) return StatusBits.closed;
    return code === ResultCode.account_blocked ? StatusBits.debitBlocked : 0;
  }
  if (state.directory === null) return 0;
  const owner = state.directory.entryAt(statics, ownerAt);
  return owner === notInDirectory ? 0 : statusOfEntry(owner) & stopsPayments;
}
