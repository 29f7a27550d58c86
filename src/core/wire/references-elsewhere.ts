// References another shard holds (issue #14, items 20 and 21; the shard's half: core/posting/references-elsewhere.ts).
// Before a create_transfers request runs, the router asks every other shard what one shard would answer at the
// reference check of each post, void, reversal and unfreeze_and_pay routed elsewhere, and marks the events they
// answered for with transferReferenceElsewhere and the code (in amountEffective, zero on input). Pure functions over
// request bodies: the router (shards/set/references-elsewhere-check.ts) and the in-process cluster harness share them.

import { TransferLayout as T } from '../layout.js';
import { eventBytes } from '../limits.js';
import { namesReference, strongerVerdict, verdictAt } from '../posting/references-elsewhere.js';
import { transferKindFlags, transferReferenceElsewhere, transferRouterMarks } from '../types.js';
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
