// A payee on another shard, as the payer's shard checks it (issue #14): found, on which ledger, closed or
// blocked for credits — the checks one shard makes of both accounts, made here before the payer hears `ok`.
// Live, from the account directory every shard shares. On replay, and when a vote's commit re-executes its
// events, from the result the event was decided with: the directory has moved on since, the answer must not.
// The payee's credit limit (credits_must_not_exceed_debits) its own shard answers, asked by the router
// (verdicts-elsewhere.ts); it and an overflow are checked again when the credit lands.
// Answers are packed numbers (account-directory.ts packEntry): this runs for every cross-shard transfer.

import { StatusBits } from '../accounts/account-table.js';
import { notInDirectory, packEntry, type PackedEntry } from '../accounts/account-directory.js';
import { resultBytes } from '../layout.js';
import { locationEventsPerBatchMax } from '../limits.js';
import { ResultCode } from '../result-codes.js';
import type { LedgerState } from './ledger-state.js';
import { isDerivedIdAt } from './validate.js';

/** The payee whose id is at `at`, of the event at `location`, packed; notInDirectory when it does not exist. */
export function remotePayee(state: LedgerState, view: DataView, at: number, ledger: number, location: number): PackedEntry {
  const verdicts = state.payeeVerdicts;
  if (verdicts !== null) return fromVerdict(storedResultCode(verdicts, location), ledger);
  // Without a directory the payee is taken as found, open and on the transfer's ledger (its shard decides), and so
  // is an account the ledger opens itself (transit, suspense, a hot account's slice): never published, callers
  // cannot open one, and its own shard checks the credit when it lands.
  if (state.directory === null || isDerivedIdAt(view, at)) return packEntry(ledger, 0);
  return state.directory.entryAt(view, at);
}

/** The result code event `location` was decided with, from the entry's (or the vote's) results: state.payeeVerdicts. */
export function storedResultCode(verdicts: Uint8Array, location: number): number {
  const at = (location % locationEventsPerBatchMax) * resultBytes;
  return verdicts[at]! | (verdicts[at + 1]! << 8); // the u16 result code, little-endian
}

/**
 * The payee as the stored result says it was. A payee refusal shows as its code; a code the payer's own
 * checks gave (a closed or blocked payer, another ledger) leads to the same code whatever the payee is taken as.
 */
function fromVerdict(code: number, ledger: number): PackedEntry {
  if (code === ResultCode.account_not_found) return notInDirectory;
  if (code === ResultCode.ledger_mismatch) return packEntry((ledger + 1) >>> 0, 0);
  if (code === ResultCode.account_closed) return packEntry(ledger, StatusBits.closed);
  if (code === ResultCode.account_blocked) return packEntry(ledger, StatusBits.creditBlocked);
  return packEntry(ledger, 0);
}
