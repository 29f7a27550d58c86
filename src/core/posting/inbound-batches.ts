// Instructions from other shards (credits and returns) sorted into duplicates, gaps and the ones to apply, which
// become one apply_inbound entry: each instruction exactly once, in pair-sequence order per sending shard.

import { assert } from '../assert.js';
import { errors } from '../errors.js';
import { eventOffset, trailerOffset } from './journal-entry.js';
import type { LedgerContext, WrittenEntry } from './ledger-context.js';
import { eventBytes, transitDeliveryInstructionsMax } from '../limits.js';
import { JournalEntryKind } from '../operations.js';
import { InboundStatus, InstructionLayout as I, isInstructionKind } from '../transit/transit.js';

/** One InboundStatus per instruction of `body`, and the entry of those to apply (null when none). */
export function writeInboundEntry(context: LedgerContext, body: Uint8Array, nowNs: bigint): { statuses: Uint8Array; written: WrittenEntry | null } {
  const count = body.byteLength / I.bytes;
  if (!Number.isInteger(count) || count < 1 || count > transitDeliveryInstructionsMax) {
    throw errors.bodyInvalid(`an inbound delivery is 1..${transitDeliveryInstructionsMax} instructions of ${I.bytes} bytes`);
  }
  const statuses = new Uint8Array(count);
  const accepted = acceptInOrder(context, body, statuses);
  if (accepted.length === 0) return { statuses, written: null };
  const written = context.newEntry(JournalEntryKind.apply_inbound, accepted.length, nowNs);
  accepted.forEach((i, k) => {
    written.entry.set(body.subarray(i * I.bytes, i * I.bytes + eventBytes), eventOffset(k));
    written.entry.set(body.subarray(i * I.bytes + eventBytes, (i + 1) * I.bytes), trailerOffset(accepted.length, k));
  });
  return { statuses, written };
}

/** The positions of the instructions next in their pair's order; the others' statuses (duplicate, gap) set. */
function acceptInOrder(context: LedgerContext, body: Uint8Array, statuses: Uint8Array): number[] {
  const state = context.state;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const next = new Map<number, number>();
  const accepted: number[] = [];
  for (let i = 0; i < statuses.length; i++) {
    const at = i * I.bytes;
    const from = view.getUint16(at + I.fromShard, true);
    assert(from < state.shardCount && from !== state.shardIndex && view.getUint16(at + I.toShard, true) === state.shardIndex, 'instruction addressed here');
    const kind = view.getUint16(at + I.kind, true);
    assert(isInstructionKind(kind), 'instruction kind known');
    const pairSeq = Number(view.getBigUint64(at + I.pairSeq, true));
    const expected = next.get(from) ?? state.inboundApplied[from]! + 1;
    if (pairSeq < expected) statuses[i] = InboundStatus.duplicate;
    else if (pairSeq > expected) statuses[i] = InboundStatus.gap;
    else {
      accepted.push(i);
      next.set(from, expected + 1);
    }
  }
  return accepted;
}
