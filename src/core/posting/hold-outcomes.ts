// What became of a hold, read back rather than remembered: LedgerState keeps open holds only, so that memory
// grows with the holds open, not with every hold ever taken. A hold posted or voided has a resolution (the
// `resolutions` id cache, in front of the id index on disk: the pending id → the closing event); a hold that
// is neither open nor resolved expired — expiry is implicit (expiry-entries.ts), no event names it.

import { assert } from '../assert.js';
import { TransferLayout as T } from '../layout.js';
import type { LedgerState } from './ledger-state.js';
import { TransferFlags, TransferStatus, transferKindFlags } from '../types.js';
import { idKeyAt } from '../u128.js';

export interface HoldOutcome {
  status: number; // TransferStatus
  amountPosted: bigint;
}

const open: HoldOutcome = { status: TransferStatus.pending, amountPosted: 0n };
const voided: HoldOutcome = { status: TransferStatus.pending_voided, amountPosted: 0n };
const expired: HoldOutcome = { status: TransferStatus.pending_expired, amountPosted: 0n };

/**
 * The outcome of the pending transfer whose id is at `view[at..at+16)` (a stored pending transfer, whose
 * timeout is `timeoutSeconds`): open, posted (with the amount the post took), voided or expired.
 */
export function holdOutcome(state: LedgerState, view: DataView, at: number, timeoutSeconds: number): HoldOutcome {
  if (state.pendings.has(idKeyAt(view, at))) return open;
  const location = state.resolutions.getAt(view, at);
  if (location >= 0) {
    const closing = state.record(location);
    const kind = closing.view.getUint16(closing.at + T.flags, true) & transferKindFlags;
    if (kind === TransferFlags.post_pending) return { status: TransferStatus.pending_posted, amountPosted: closing.view.getBigUint64(closing.at + T.amountEffective, true) };
    assert(kind === TransferFlags.void_pending, 'a hold is resolved by a post or a void');
    return voided;
  }
  // Neither open nor resolved: only the deadline closes a hold without an event of its own.
  assert(timeoutSeconds > 0, 'a closed hold without a resolution expired, so it had a timeout');
  return expired;
}
