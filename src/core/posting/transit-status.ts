// Where this shard stands with each peer in cross-shard transit: the instructions it retains for a peer until
// acknowledged, and the pair sequences issued and applied. Reads and acknowledgements only; no entry.

import { assert } from '../assert.js';
import type { LedgerState } from './ledger-state.js';
import { transitDeliveryInstructionsMax } from '../limits.js';

/** Instructions retained for `peer` after `pairSeq` (at most a delivery's worth), for a relay that lost them. */
export function outboxAfter(state: LedgerState, peer: number, pairSeq: number): Uint8Array {
  assert(peer >= 0 && peer < state.shardCount && peer !== state.shardIndex, 'outbox peer is another shard');
  return state.outbox.after(peer, pairSeq, transitDeliveryInstructionsMax);
}

/** `peer` applied this shard's instructions up to `pairSeq`: stop retaining them. */
export function acknowledgeOutbox(state: LedgerState, peer: number, pairSeq: number): void {
  assert(peer >= 0 && peer < state.shardCount && peer !== state.shardIndex, 'outbox peer is another shard');
  state.outbox.acknowledge(peer, pairSeq);
}

/** Per peer: the last pair sequence issued to it, then (from index shardCount) the last applied from it. */
export function transitStatus(state: LedgerState): Float64Array {
  const shardCount = state.shardCount;
  const status = new Float64Array(2 * shardCount);
  status.set(state.outbox.pairSeqLast.subarray(0, shardCount), 0);
  status.set(state.inboundApplied.subarray(0, shardCount), shardCount);
  return status;
}
