// Hot outbound accounts (缓存预留 + 定时补偿). An account created with AccountFlags.hot_outbound keeps part
// of its money in one *slice account* per other shard (二级子账户): an ordinary no-overdraft account, owned
// by that shard, whose id derives from the hot account's. A transfer that debits the hot account and
// credits an account of shard k is served on k, from k's slice (its debit account rewritten to the slice
// before routing): no round trip to the hot account's home shard. The shard set's slice keeper
// (shards/set/hot-outbound-keeper.ts) refills slices from the home account and returns idle ones (timed
// compensation), with ordinary journaled transfers. Never overdrawn: every slice and the home account
// are no-overdraft accounts, and money reaches a slice only by a transfer that debited the home account.
//
// Slice id (u128, little-endian): bytes 0..7 = the hot account's low 64 bits; bytes 8..11 = nonce (the
// first value that routes the id to its shard); bytes 12..15 = sliceTag. Outside the system range.

import { shardOfIdAt } from '../routing.js';
import { TransferLayout as T } from '../layout.js';
import { eventBytes } from '../limits.js';
import { TransferFlags, transferKindFlags } from '../types.js';
import { readU128, writeU128 } from '../u128.js';

/** High word of every slice id ('SLC' + 1): marks it as derived; never the system range's 0xffffffff. */
export const sliceTag = 0x534c_4301;
const sliceNoncesMax = 1 << 20;

/**
 * Whether the u128 at `at` lies in the slice range (its top word is sliceTag). Only the ledger opens
 * accounts there (ShardControl.openSlices): a caller's account in that range could pose as a slice.
 */
export function isSliceIdAt(view: DataView, at: number): boolean {
  return view.getUint32(at + 12, true) === sliceTag;
}

/** The id of the hot account `hotId`'s slice on `shard`. */
export function sliceAccountId(hotId: bigint, shard: number, shardCount: number): bigint {
  const view = new DataView(new ArrayBuffer(16));
  writeU128(view, 0, hotId & 0xffff_ffff_ffff_ffffn);
  view.setUint32(12, sliceTag, true);
  for (let nonce = 0; nonce < sliceNoncesMax; nonce++) {
    view.setUint32(8, nonce, true);
    if (shardOfIdAt(view, 0, shardCount) === shard) return readU128(view, 0);
  }
  throw new Error(`no slice id of account ${hotId} routes to shard ${shard}`);
}

/** One hot-outbound account as the router needs it. */
export interface HotOutboundRoute {
  /** The hot account's home shard. */
  readonly home: number;
  /** Per shard, the slice id's 16 bytes, or null where debits are not (yet) served by a slice (the home shard). */
  readonly slices: readonly (Uint8Array | null)[];
}

/** A create_transfers body after routeHotDebits, and which events now debit a slice. */
export interface HotDebitsRouted {
  /** The caller's body when no event was rewritten, else a rewritten copy (the caller's is never changed). */
  body: Uint8Array;
  /** Index of every rewritten event, ascending. */
  rewritten: number[];
  /**
   * Per hot account (its id), in event order, every event that takes from its available money — a payment (at
   * home, or rewritten to a slice), a hold, a reversal — with the place it takes from (the slice's id, or the
   * account's own for home) and its amount as sent (issue #14, item 24: shards/set/hot-outbound-keeper.ts).
   */
  debits: Map<bigint, HotDebit[]>;
}

/** One event taking money from a hot-outbound account (HotDebitsRouted.debits). */
export interface HotDebit {
  index: number;
  /** The id of the slice the event debits, or of the hot account itself (home). */
  place: bigint;
  amount: bigint;
}

/** Hot-outbound accounts by their id's low 32 bits (a first test that allocates nothing; the full id is compared after). */
export type HotOutboundRoutes = ReadonlyMap<number, readonly { id: Uint8Array; route: HotOutboundRoute }[]>;

/** The key of `id` in HotOutboundRoutes. */
export function routeKeyOf(id: bigint): number {
  return Number(id & 0xffff_ffffn);
}

/**
 * Rewrites every single-phase debit of a hot-outbound account whose credit account lives on another shard
 * than the hot account's home to that shard's slice.
 */
export function routeHotDebits(body: Uint8Array, shardCount: number, hot: HotOutboundRoutes): HotDebitsRouted {
  const rewritten: number[] = [];
  const debits = new Map<bigint, HotDebit[]>();
  if (hot.size === 0) return { body, rewritten, debits };
  // Ids as numbers, read once per request from the routes' own byte arrays (shared by their events).
  const ids = new Map<Uint8Array, bigint>();
  const idOf = (bytes: Uint8Array): bigint => {
    let id = ids.get(bytes);
    if (id === undefined) ids.set(bytes, (id = readU128(new DataView(bytes.buffer, bytes.byteOffset, 16), 0)));
    return id;
  };
  // The last account's list and id: a batch paying from a hot account usually pays from it in every event.
  let last: { for: Uint8Array; home: bigint; placed: HotDebit[] } | undefined;
  let out: Uint8Array | null = null;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  // Try the last match first.
  let lastEntry: { id: Uint8Array; route: HotOutboundRoute } | undefined;
  for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) {
    const entry = lastEntry !== undefined && sameId(body, at + T.debitAccountId, lastEntry.id) ? lastEntry : hotEntryAt(body, view, at + T.debitAccountId, hot);
    if (entry === undefined) continue;
    lastEntry = entry;
    const index = at / eventBytes;
    const amount = view.getBigUint64(at + T.amount, true);
    if (last?.for !== entry.id) {
      const home = idOf(entry.id);
      let list = debits.get(home);
      if (list === undefined) debits.set(home, (list = []));
      last = { for: entry.id, home, placed: list };
    }
    const { home, placed } = last;
    // Holds, posts, voids, reversals and pay-from-freeze stay with the account itself on its home shard; of
    // those, a hold and a reversal take from its available money (a post or void settles a hold, a pay-from-freeze
    // takes frozen money).
    const kind = view.getUint16(at + T.flags, true) & transferKindFlags;
    if (kind !== 0) {
      if (kind === TransferFlags.pending || kind === TransferFlags.reversal) placed.push({ index, place: home, amount });
      continue;
    }
    const shard = shardOfIdAt(view, at + T.creditAccountId, shardCount);
    const slice = entry.route.slices[shard];
    if (shard === entry.route.home || slice === null || slice === undefined) {
      placed.push({ index, place: home, amount });
      continue;
    }
    out ??= body.slice();
    out.set(slice, at + T.debitAccountId);
    rewritten.push(index);
    placed.push({ index, place: idOf(slice), amount });
  }
  return { body: out ?? body, rewritten, debits };
}

/**
 * Where `body` must be cut so that no part credits a hot-outbound account and then debits it: one shard lets the
 * later debit spend the credit, while across shards the credit lands at home and the debit may be served from a
 * slice (or judged by what the shard set promised before the request). Each part then runs after the one before it
 * is answered (shards/set/hot-outbound-requests.ts). Returns the first event index of every part after the first;
 * never cuts inside a linked chain.
 */
export function creditThenDebitCuts(body: Uint8Array, hot: HotOutboundRoutes): number[] {
  const cuts: number[] = [];
  if (hot.size === 0) return cuts;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let credited: Uint8Array[] = [];
  let inChain = false;
  for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) {
    // The debit is looked at only once the part credited a hot account: most requests credit none.
    const debit = credited.length === 0 ? undefined : hotEntryAt(body, view, at + T.debitAccountId, hot);
    if (debit !== undefined && !inChain && credited.includes(debit.id)) {
      cuts.push(at / eventBytes);
      credited = [];
    }
    const credit = hotEntryAt(body, view, at + T.creditAccountId, hot);
    if (credit !== undefined && !credited.includes(credit.id)) credited.push(credit.id);
    inChain = (view.getUint16(at + T.flags, true) & TransferFlags.linked) !== 0;
  }
  return cuts;
}

function hotEntryAt(body: Uint8Array, view: DataView, at: number, hot: HotOutboundRoutes): { id: Uint8Array; route: HotOutboundRoute } | undefined {
  const candidates = hot.get(view.getUint32(at, true));
  if (candidates === undefined) return undefined;
  for (const candidate of candidates) if (sameId(body, at, candidate.id)) return candidate;
  return undefined;
}

function sameId(body: Uint8Array, at: number, id: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (body[at + i] !== id[i]) return false;
  return true;
}
