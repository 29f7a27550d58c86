// A payee on another shard, as the payer's shard checks it (issue #14): found, on which ledger, closed or
// blocked for credits — the checks one shard makes of both accounts, made here before the payer hears `ok`.
// Live, from the account directory every shard shares. On replay, and when a vote's commit re-executes its
// events, from the result the event was decided with: the directory has moved on since, the answer must not.
// The payee's balance rules (credits_must_not_exceed_debits, overflow) are still checked when the credit lands.

import { StatusBits } from '../accounts/account-table.js';
import type { DirectoryEntry } from '../accounts/account-directory.js';
import { resultBytes } from '../layout.js';
import { locationEventsPerBatchMax } from '../limits.js';
import { ResultCode } from '../result-codes.js';
import type { LedgerState } from './ledger-state.js';
import { isDerivedIdAt } from './validate.js';

/** The payee whose id is at `at`, of the event at `location`: undefined when it does not exist. */
export function remotePayee(state: LedgerState, view: DataView, at: number, ledger: number, location: number): DirectoryEntry | undefined {
  const verdicts = state.payeeVerdicts;
  if (verdicts !== null) return fromVerdict(verdicts, location % locationEventsPerBatchMax, ledger);
  // Without a directory the payee is taken as found, open and on the transfer's ledger (its shard decides), and so
  // is an account the ledger opens itself (transit, suspense, a hot account's slice): never published, callers
  // cannot open one, and its own shard checks the credit when it lands.
  if (state.directory === null || isDerivedIdAt(view, at)) return { ledger, status: 0 };
  return state.directory.findAt(view, at);
}

/**
 * The payee as the stored result says it was. A payee refusal shows as its code; a code the payer's own
 * checks gave (a closed or blocked payer, another ledger) leads to the same code whatever the payee is taken as.
 */
function fromVerdict(verdicts: Uint8Array, index: number, ledger: number): DirectoryEntry | undefined {
  const code = new DataView(verdicts.buffer, verdicts.byteOffset, verdicts.byteLength).getUint16(index * resultBytes, true);
  if (code === ResultCode.account_not_found) return undefined;
  if (code === ResultCode.ledger_mismatch) return { ledger: (ledger + 1) >>> 0, status: 0 };
  if (code === ResultCode.account_closed) return { ledger, status: StatusBits.closed };
  if (code === ResultCode.account_blocked) return { ledger, status: StatusBits.creditBlocked };
  return { ledger, status: 0 };
}
