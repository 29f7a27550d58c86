// References another shard holds (issue #14, items 20 and 21; the shard's half: core/posting/references-elsewhere.ts).
// Before a create_transfers request runs, the router asks every other shard what one shard would answer at the
// reference check of each post, void, reversal and unfreeze_and_pay routed elsewhere, and marks the events they
// answered for with transferReferenceElsewhere and the code (in amountEffective, zero on input). Pure functions over
// request bodies: the router (shards/set/references-elsewhere-check.ts) and the in-process cluster harness share them.

import { AccountOperationLayout as O, TransferLayout as T } from '../layout.js';
import { eventBytes } from '../limits.js';
import { ResultCode } from '../result-codes.js';
import { AccountOperationKind, TransferFlags, accountOperationReferenceElsewhere, namesReference, transferKindFlags, transferReferenceElsewhere, transferRouterMarks } from '../types.js';
import { isZeroU64At } from '../u64-words.js';

/** What one shard is asked: the events naming a reference that are routed to other shards, and their indexes. */
export interface ReferenceCheck {
  shard: number;
  /** 128 B per event. */
  events: Uint8Array;
  indexes: Int32Array;
}

/**
 * Indexes of `body`'s events that name a reference and may be marked: a caller's nonzero amountEffective is left for
 * its shard to refuse (reserved_field), and so is an event carrying a router mark already (a caller's: flags_invalid).
 */
export function referenceEventsOf(body: Uint8Array): number[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const indexes: number[] = [];
  for (let i = 0, at = 0; at + eventBytes <= body.byteLength; i++, at += eventBytes) {
    const flags = view.getUint16(at + T.flags, true);
    if (!namesReference(flags & transferKindFlags) || (flags & transferRouterMarks) !== 0) continue;
    if (isZeroU64At(view, at + T.amountEffective)) indexes.push(i);
  }
  return indexes;
}

/** Per shard, the events at `indexes` of `body` whose home (`homes`: each event's shard) is another shard. */
export function referenceChecksByShard(body: Uint8Array, indexes: readonly number[], homes: Uint8Array, shardCount: number): ReferenceCheck[] {
  const checks: ReferenceCheck[] = [];
  if (indexes.length === 0 || shardCount === 1) return checks;
  for (let shard = 0; shard < shardCount; shard++) {
    const asked = indexes.filter((i) => homes[i] !== shard);
    if (asked.length === 0) continue;
    const events = new Uint8Array(asked.length * eventBytes);
    asked.forEach((i, k) => events.set(body.subarray(i * eventBytes, (i + 1) * eventBytes), k * eventBytes));
    checks.push({ shard, events, indexes: Int32Array.from(asked) });
  }
  return checks;
}

/** Per event index, the code the shards' replies (2 B per asked event, in check order) combine to; absent: none. */
export function combinedVerdicts(checks: readonly ReferenceCheck[], replies: readonly Uint8Array[]): Map<number, number> {
  const verdicts = new Map<number, number>();
  checks.forEach((check, k) => {
    for (let j = 0; j < check.indexes.length; j++) {
      const code = verdictAt(replies[k]!, j);
      if (code === 0) continue;
      const index = check.indexes[j]!;
      if (strongerVerdict(verdicts.get(index) ?? 0, code)) verdicts.set(index, code);
    }
  });
  return verdicts;
}

/**
 * An account_operations body's unfreezes as the transfer events the shards are asked about (an unfreeze_and_pay of
 * the same account and freeze: its verdict is the unfreeze's), and their indexes; null when it has none to ask.
 */
export function unfreezeQuestionsOf(body: Uint8Array): { events: Uint8Array; indexes: number[] } | null {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const indexes: number[] = [];
  for (let i = 0, at = 0; at + eventBytes <= body.byteLength; i++, at += eventBytes) {
    const flags = view.getUint16(at + O.flags, true);
    if (view.getUint16(at + O.kind, true) === AccountOperationKind.unfreeze && (flags & transferRouterMarks) === 0) indexes.push(i);
  }
  if (indexes.length === 0) return null;
  // At their own index, so that each question's home is its operation's; the others stay zero (never asked).
  const events = new Uint8Array(body.byteLength);
  const out = new DataView(events.buffer);
  for (const i of indexes) {
    const at = i * eventBytes;
    events.set(body.subarray(at + O.accountId, at + O.accountId + 16), at + T.debitAccountId);
    events.set(body.subarray(at + O.freezeId, at + O.freezeId + 16), at + T.pendingId);
    out.setUint16(at + T.flags, TransferFlags.unfreeze_and_pay, true);
  }
  return { events, indexes };
}

/** An account_operations `body` with each operation of `verdicts` marked accountOperationReferenceElsewhere (a copy when any is). */
export function withOperationReferenceMarks(body: Uint8Array, verdicts: ReadonlyMap<number, number>): Uint8Array {
  if (verdicts.size === 0) return body;
  const out = body.slice();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const index of verdicts.keys()) {
    const at = index * eventBytes + O.flags;
    view.setUint16(at, view.getUint16(at, true) | accountOperationReferenceElsewhere, true);
  }
  return out;
}

/** `body` with each event of `verdicts` marked transferReferenceElsewhere, its code in amountEffective (a copy when any is). */
export function withReferenceVerdicts(body: Uint8Array, verdicts: ReadonlyMap<number, number>): Uint8Array {
  if (verdicts.size === 0) return body;
  const out = body.slice();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const [index, code] of verdicts) {
    const at = index * eventBytes;
    view.setUint16(at + T.flags, view.getUint16(at + T.flags, true) | transferReferenceElsewhere, true);
    view.setUint16(at + T.amountEffective, code, true);
  }
  return out;
}

/** Whether `b` outranks `a` for one event (one shard checks a reversal's original is reversible before its accounts). */
function strongerVerdict(a: number, b: number): boolean {
  return a === 0 || (b === ResultCode.original_not_reversible && a !== b);
}

/** The u16 verdict of event `index` of a shard's reply (2 B per event). */
function verdictAt(reply: Uint8Array, index: number): number {
  return reply[index * 2]! | (reply[index * 2 + 1]! << 8);
}
