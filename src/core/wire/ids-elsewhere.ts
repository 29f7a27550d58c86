// Transfer ids unique ledger-wide (issue #14). A transfer lives on its debit account's shard, and each shard's
// duplicate check sees only its own ids: the same id with a debit account on another shard would post there again.
// So before a create_transfers request runs, the router asks every other shard which of its ids they hold
// (taken: posted, or refused with a failure that is remembered), and marks those events with
// transferIdTakenElsewhere; their shard answers exists_with_different_fields in the place one shard would (after
// its own duplicate check, so a retry that reaches the holder still answers exists). A same-fields retry always
// reaches the holder: the fields name the debit account, and that picks the shard.
// Pure functions over request bodies: the router (shards/set/ids-elsewhere-check.ts) and the in-process cluster
// harness share them.

import { AccountOperationLayout as O, TransferLayout as T, idBytes } from '../layout.js';
import { eventBytes } from '../limits.js';
import { shardOfIdAt } from '../routing.js';
import { idKey52At } from '../u128.js';
import { transferCallerMarkInvalid as callerMarkInvalid, transferIdTakenElsewhere, transferRouterMarks } from '../types.js';

/** Where an event's id lives and how it is marked: transfers live on their debit account's shard, operations on their account's. */
export interface IdEventLayout {
  /** The account whose shard holds the event (and its id). */
  routeAt: number;
  /** The event's u16 flags, where the mark (transferIdTakenElsewhere: bit 15) goes. */
  flagsAt: number;
}
export const transferIdEvents: IdEventLayout = { routeAt: T.debitAccountId, flagsAt: T.flags };
export const operationIdEvents: IdEventLayout = { routeAt: O.accountId, flagsAt: O.flags };
// Both kinds keep their id in the first 16 bytes.
const idAt = 0;

/**
 * `body` with every event a caller marked with one of the shard set's marks (transferIdTakenElsewhere,
 * transferReferenceElsewhere) made invalid (that bit and callerMarkInvalid too: flags_invalid, as one shard answers
 * an unknown flag), or `body` itself when no event carries one.
 */
export function withCallerMarksInvalid(body: Uint8Array, layout: IdEventLayout = transferIdEvents): Uint8Array {
  let out: Uint8Array | null = null;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) {
    const flags = view.getUint16(at + layout.flagsAt, true);
    if ((flags & transferRouterMarks) === 0) continue;
    out ??= body.slice();
    new DataView(out.buffer, out.byteOffset, out.byteLength).setUint16(at + layout.flagsAt, flags | callerMarkInvalid, true);
  }
  return out ?? body;
}

/** What one shard is asked: the ids of the events routed to other shards, and those events' indexes. */
export interface IdCheck {
  shard: number;
  /** 16 B per id. */
  ids: Uint8Array;
  events: Int32Array;
}

/** Per shard, the ids of `body`'s events that live on another shard (`homes`: each event's shard). */
export function idChecksByShard(body: Uint8Array, homes: Uint8Array, shardCount: number): IdCheck[] {
  if (shardCount === 1) return [];
  const count = homes.length;
  const checks: IdCheck[] = [];
  for (let shard = 0; shard < shardCount; shard++) {
    let asked = 0;
    for (let i = 0; i < count; i++) if (homes[i] !== shard) asked++;
    if (asked === 0) continue;
    const ids = new Uint8Array(asked * idBytes);
    const events = new Int32Array(asked);
    let k = 0;
    for (let i = 0; i < count; i++) {
      if (homes[i] === shard) continue;
      ids.set(body.subarray(i * eventBytes + idAt, i * eventBytes + idAt + idBytes), k * idBytes);
      events[k++] = i;
    }
    checks.push({ shard, ids, events });
  }
  return checks;
}

/**
 * A number per event from 52 bits of its id (newId()'s random low bits): equal ids have equal keys; two ids may
 * share one (then compared whole where it matters).
 */
export function idKeysOf(body: Uint8Array): Float64Array {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const keys = new Float64Array(body.byteLength / eventBytes);
  for (let i = 0; i < keys.length; i++) keys[i] = idKey52At(view, i * eventBytes + idAt);
  return keys;
}

/** Each event's home shard: a transfer's debit account's, an operation's account's. */
export function homeShardsOf(body: Uint8Array, shardCount: number, layout: IdEventLayout = transferIdEvents): Uint8Array {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const homes = new Uint8Array(body.byteLength / eventBytes);
  for (let i = 0; i < homes.length; i++) homes[i] = shardOfIdAt(view, i * eventBytes + layout.routeAt, shardCount);
  return homes;
}

/**
 * Events of `body` whose id appears at an earlier index with a debit account on another shard (`homes`): one shard
 * would find that id taken by the earlier event when it reaches them (unless the earlier one failed in a way no id
 * is remembered for: the one case where this answers exists_with_different_fields and one shard might not).
 * `keys`: a number per event from its id (equal ids, equal keys); ids are compared whole where keys meet.
 */
export function repeatedAcrossShards(body: Uint8Array, keys: Float64Array, homes: Uint8Array): number[] {
  const first = new Map<number, number>();
  let repeated: number[] | null = null;
  for (let i = 0; i < keys.length; i++) {
    const earlier = first.get(keys[i]!);
    if (earlier === undefined) {
      first.set(keys[i]!, i);
      continue;
    }
    // The first event with this key, or any earlier one with the same id (a key shared by two ids is rare).
    for (let j = earlier; j < i; j++) {
      if (keys[j] !== keys[i] || !sameIdAt(body, j, i)) continue;
      if (homes[j] !== homes[i]) (repeated ??= []).push(i);
      break;
    }
  }
  return repeated ?? [];
}

/** `body` with the events at `indexes` marked transferIdTakenElsewhere (a copy when any is; else `body`). */
export function withIdsTakenElsewhere(body: Uint8Array, indexes: Iterable<number>, layout: IdEventLayout = transferIdEvents): Uint8Array {
  let out: Uint8Array | null = null;
  for (const index of indexes) {
    out ??= body.slice();
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const at = index * eventBytes + layout.flagsAt;
    view.setUint16(at, view.getUint16(at, true) | transferIdTakenElsewhere, true);
  }
  return out ?? body;
}

/** Whether events `a` and `b` of `body` carry the same id. */
function sameIdAt(body: Uint8Array, a: number, b: number): boolean {
  const at = a * eventBytes + idAt;
  const bt = b * eventBytes + idAt;
  for (let k = 0; k < idBytes; k++) if (body[at + k] !== body[bt + k]) return false;
  return true;
}
