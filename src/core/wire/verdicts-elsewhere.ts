// What other shards answer for a request's events (issue #14; the shard's half: core/posting/verdicts-elsewhere.ts).
// Before a create_transfers request runs, the router asks every other shard about the events that need it — a post,
// void, reversal or unfreeze_and_pay (its reference may live there), a credit to a capped payee there — and marks the
// events they answered for: transferReferenceElsewhere with the reference's code in bytes 0..1 of amountEffective
// (zero on input), transferPayeeRefusesElsewhere with the payee's in bytes 2..3. An account operation `unfreeze` whose
// freeze lives elsewhere is asked as an unfreeze_and_pay of the same account and freeze. Pure functions over request
// bodies: the router (shards/set/verdicts-elsewhere-check.ts) and the in-process cluster harness share them.

import { AccountOperationLayout as O, TransferLayout as T } from '../layout.js';
import { eventBytes } from '../limits.js';
import { ResultCode } from '../result-codes.js';
import {
  AccountOperationKind,
  TransferFlags,
  accountOperationReferenceElsewhere,
  namesReference,
  raisesPayeeCredits,
  transferKindFlags,
  transferPayeeRefusesElsewhere,
  transferPayeeRoomElsewhere,
  transferReferenceElsewhere,
  transferRouterMarks,
} from '../types.js';
import { isZeroU64At } from '../u64-words.js';

/**
 * Bytes of one event's answer in a shard's reply: the reference's code (u16), the payee's (u16), and for a whole
 * freeze paid to a capped payee held there, its room for credits + 1 (u64; 0: not given).
 */
const verdictBytes = 12;

/** What one shard is asked: events of the request routed to other shards, and their indexes. */
export interface VerdictCheck {
  shard: number;
  /** 128 B per event. */
  events: Uint8Array;
  indexes: Int32Array;
}

/** An event's answers from the other shards: the reference's code and the payee's (0: none), or the payee's room. */
export interface EventVerdict {
  reference: number;
  payee: number;
  /** A whole freeze paid to a capped payee: what the payee can still be credited; null: not given. */
  room: bigint | null;
}

/**
 * Indexes of `body`'s events the other shards are asked about: those naming a reference, and those paying a payee
 * `payeeAsked` says is capped on another shard. A caller's nonzero amountEffective is left for its shard to refuse
 * (reserved_field), and so is an event carrying a router mark already (a caller's: flags_invalid).
 */
export function askedEventsOf(body: Uint8Array, payeeAsked: (view: DataView, at: number) => boolean): number[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const indexes: number[] = [];
  for (let i = 0, at = 0; at + eventBytes <= body.byteLength; i++, at += eventBytes) {
    const flags = view.getUint16(at + T.flags, true);
    if ((flags & transferRouterMarks) !== 0 || !isZeroU64At(view, at + T.amountEffective)) continue;
    const kind = flags & transferKindFlags;
    if (namesReference(kind) || (raisesPayeeCredits(kind) && payeeAsked(view, at))) indexes.push(i);
  }
  return indexes;
}

/**
 * The events of `body` before its last asked one (`asked`, ascending) that debit an account with
 * credits_must_not_exceed_debits (`debitCapped`): they make room for a later credit to it. Sent to their own shard
 * (the payee's) with the question, which counts them, each taken as passing — exact inside a linked chain (all or
 * nothing); elsewhere a request runs such a credit in a later stage (request-stages.ts), so none is in its question.
 */
export function roomMakersOf(body: Uint8Array, asked: readonly number[], debitCapped: (view: DataView, at: number) => boolean): number[] {
  if (asked.length === 0) return [];
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const makers: number[] = [];
  for (let i = 0; i < asked[asked.length - 1]!; i++) if (debitCapped(view, i * eventBytes)) makers.push(i);
  return makers;
}

/** `asked` and `makers` (each ascending) as one ascending list without repeats: the events a question carries. */
export function questionEvents(asked: readonly number[], makers: readonly number[]): number[] {
  return makers.length === 0 ? [...asked] : [...new Set([...asked, ...makers])].sort((a, b) => a - b);
}

/**
 * Per shard, the events at `indexes` of `body` whose home (`homes`: each event's shard) is another shard, and those of
 * `alsoHome` (room makers) on their home shard too.
 */
export function verdictChecksByShard(body: Uint8Array, indexes: readonly number[], homes: Uint8Array, shardCount: number, alsoHome?: ReadonlySet<number>): VerdictCheck[] {
  const checks: VerdictCheck[] = [];
  if (indexes.length === 0 || shardCount === 1) return checks;
  for (let shard = 0; shard < shardCount; shard++) {
    const asked = indexes.filter((i) => homes[i] !== shard || alsoHome?.has(i) === true);
    if (asked.length === 0) continue;
    const events = new Uint8Array(asked.length * eventBytes);
    asked.forEach((i, k) => events.set(body.subarray(i * eventBytes, (i + 1) * eventBytes), k * eventBytes));
    checks.push({ shard, events, indexes: Int32Array.from(asked) });
  }
  return checks;
}

/** Per event index, what the shards' replies (in check order) combine to; absent: nothing to mark. */
export function combinedVerdicts(checks: readonly VerdictCheck[], replies: readonly Uint8Array[]): Map<number, EventVerdict> {
  const verdicts = new Map<number, EventVerdict>();
  checks.forEach((check, k) => {
    const reply = new DataView(replies[k]!.buffer, replies[k]!.byteOffset, replies[k]!.byteLength);
    for (let j = 0; j < check.indexes.length; j++) {
      const reference = reply.getUint16(j * verdictBytes, true);
      const payee = reply.getUint16(j * verdictBytes + 2, true);
      const roomPlusOne = reply.getBigUint64(j * verdictBytes + 4, true);
      if (reference === 0 && payee === 0 && roomPlusOne === 0n) continue;
      const index = check.indexes[j]!;
      const verdict = verdicts.get(index) ?? { reference: 0, payee: 0, room: null };
      if (roomPlusOne !== 0n) verdict.room = roomPlusOne - 1n; // only the payee's own shard gives it
      // One shard checks a reversal's original is reversible before its accounts: that code outranks the other.
      if (reference !== 0 && (verdict.reference === 0 || reference === ResultCode.original_not_reversible)) verdict.reference = reference;
      if (payee !== 0) verdict.payee = payee; // only the payee's own shard answers for it
      verdicts.set(index, verdict);
    }
  });
  return verdicts;
}

/** `body` with each event of `verdicts` marked, its codes in amountEffective (a copy when any is; else `body`). */
export function withRouterVerdicts(body: Uint8Array, verdicts: ReadonlyMap<number, EventVerdict>): Uint8Array {
  if (verdicts.size === 0) return body;
  const out = body.slice();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const [index, { reference, payee, room }] of verdicts) {
    const at = index * eventBytes;
    let flags = view.getUint16(at + T.flags, true);
    if (reference !== 0) {
      flags |= transferReferenceElsewhere;
      view.setUint16(at + T.amountEffective, reference, true);
    } else if (room !== null) {
      // A whole freeze's room fills the word; with a reference refused the event never reaches its payee's rule.
      flags |= transferPayeeRoomElsewhere;
      view.setBigUint64(at + T.amountEffective, room, true);
    }
    if (payee !== 0) {
      flags |= transferPayeeRefusesElsewhere;
      view.setUint16(at + T.amountEffective + 2, payee, true);
    }
    view.setUint16(at + T.flags, flags, true);
  }
  return out;
}

/**
 * An account_operations body's unfreezes as the transfer events the shards are asked about (an unfreeze_and_pay of
 * the same account and freeze: its reference's verdict is the unfreeze's), and their indexes; null when it has none.
 */
export function unfreezeQuestionsOf(body: Uint8Array): { events: Uint8Array; indexes: number[] } | null {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const indexes: number[] = [];
  for (let i = 0, at = 0; at + eventBytes <= body.byteLength; i++, at += eventBytes) {
    const flags = view.getUint16(at + O.flags, true);
    if (view.getUint16(at + O.kind, true) === AccountOperationKind.unfreeze && (flags & transferRouterMarks) === 0) indexes.push(i);
  }
  if (indexes.length === 0) return null;
  // At their own index, so that each question's home is its operation's; the others stay zero (never asked). The
  // amount stays zero: an unfreeze pays no one, so no payee is judged.
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

/** An account_operations `body` with each operation of `verdicts` whose reference answered marked (a copy when any is). */
export function withOperationVerdicts(body: Uint8Array, verdicts: ReadonlyMap<number, EventVerdict>): Uint8Array {
  let out: Uint8Array | null = null;
  for (const [index, { reference }] of verdicts) {
    if (reference === 0) continue;
    out ??= body.slice();
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const at = index * eventBytes + O.flags;
    view.setUint16(at, view.getUint16(at, true) | accountOperationReferenceElsewhere, true);
  }
  return out ?? body;
}
