// Accounts the ledger opens by itself: per shard pair and ledger, the two halves of a transit
// (过渡) account that carries cross-shard money in flight, and one suspense (挂账) account per shard
// and ledger for money that can go nowhere else. Their ids live in a reserved range (top 32 bits
// all ones) that callers can never create, and each id is chosen so that it routes to its owner
// shard, so ordinary lookups and history queries find them.
//
// System id layout (little-endian u128):
//   bytes 0..3   nonce (the first value that makes the id route to its owner shard)
//   byte  4      shard the money leaves (transit) or the owner (suspense)
//   byte  5      shard the money goes to (transit) or 0 (suspense)
//   byte  6      SystemAccountKind
//   byte  7      0
//   bytes 8..11  ledger
//   bytes 12..15 0xffffffff (the reserved range)

import { assert } from '../assert.js';
import { AccountLayout as A } from '../layout.js';
import { shardOfIdAt } from '../routing.js';
import { AccountFlags } from '../types.js';
import type { AccountTable } from './account-table.js';

export const SystemAccountKind = {
  /** On the sending shard: credited when a payer is debited, debited when the credit comes back. */
  transitOut: 1,
  /** On the receiving shard: debited when the credit for the payee arrives. */
  transitIn: 2,
  /** On any shard: receives money returned to a payer that can no longer take it. */
  suspense: 3,
} as const;
export type SystemAccountKindNumber = (typeof SystemAccountKind)[keyof typeof SystemAccountKind];

/** Account codes of system accounts; the chart of accounts maps them to the transit and suspense subjects. */
export const SystemAccountCode = {
  transit: 9100,
  suspense: 9200,
} as const;

const reservedHighWord = 0xffffffff;
/** Nonces tried before giving up; with ≤ 64 shards a routing match is found within a few hundred. */
const systemIdNoncesMax = 1 << 20;

/** Whether the u128 at `at` lies in the reserved system range. */
export function isSystemIdAt(view: DataView, at: number): boolean {
  return view.getUint32(at + 12, true) === reservedHighWord;
}

/** Whether the u128 at `at` is a transit account id (transfers may not name those: only the ledger moves transit money). */
export function isTransitIdAt(view: DataView, at: number): boolean {
  if (!isSystemIdAt(view, at)) return false;
  const kind = view.getUint8(at + 6);
  return kind === SystemAccountKind.transitOut || kind === SystemAccountKind.transitIn;
}

/** Whether the u128 at `at` is a suspense account id. */
export function isSuspenseIdAt(view: DataView, at: number): boolean {
  return isSystemIdAt(view, at) && view.getUint8(at + 6) === SystemAccountKind.suspense;
}

/**
 * Writes the id of a system account at `at`. For transit accounts `from → to` names the direction;
 * the out-half lives on `from`, the in-half on `to`. A suspense account lives on `from` (`to` = 0).
 */
export function writeSystemAccountId(
  view: DataView,
  at: number,
  kind: SystemAccountKindNumber,
  ledger: number,
  from: number,
  to: number,
  shardCount: number,
): void {
  const owner = kind === SystemAccountKind.transitIn ? to : from;
  view.setUint8(at + 4, from);
  view.setUint8(at + 5, kind === SystemAccountKind.suspense ? 0 : to);
  view.setUint8(at + 6, kind);
  view.setUint8(at + 7, 0);
  view.setUint32(at + 8, ledger, true);
  view.setUint32(at + 12, reservedHighWord, true);
  for (let nonce = 0; nonce < systemIdNoncesMax; nonce++) {
    view.setUint32(at, nonce, true);
    if (shardCount === 1 || shardOfIdAt(view, at, shardCount) === owner) return;
  }
  assert(false, `no system account id routes to shard ${owner}`);
}

/** The id of a system account as a bigint (for clients, tests and reports). */
export function systemAccountId(kind: SystemAccountKindNumber, ledger: number, from: number, to: number, shardCount: number): bigint {
  const view = new DataView(new ArrayBuffer(16));
  writeSystemAccountId(view, 0, kind, ledger, from, to, shardCount);
  return view.getBigUint64(0, true) | (view.getBigUint64(8, true) << 64n);
}

/** What opening a system account needs of a shard's state (posting/ledger-state.ts's LedgerState has it). */
export interface SystemAccountsState {
  readonly shardIndex: number;
  readonly shardCount: number;
  readonly accounts: AccountTable;
  /** Slot of each system account opened so far, by kind, ledger and peer shard. */
  readonly systemSlots: Map<number, number>;
}

/**
 * The slot of a system account of this shard, opened on first use with the given timestamp.
 * Opening is deterministic (same batch, same order), so a replay opens it at the same point.
 * It is never undone by a failed chain: an unused zero-balance account changes no balance.
 */
export function systemAccountSlot(state: SystemAccountsState, kind: SystemAccountKindNumber, ledger: number, peer: number, timestamp: bigint): number {
  const key = (kind * 0x1_0000_0000 + ledger) * 256 + peer;
  const known = state.systemSlots.get(key);
  if (known !== undefined) return known;
  const record = new Uint8Array(128);
  const view = new DataView(record.buffer);
  const me = state.shardIndex;
  const from = kind === SystemAccountKind.transitIn ? peer : me;
  const to = kind === SystemAccountKind.transitIn ? me : kind === SystemAccountKind.transitOut ? peer : 0;
  writeSystemAccountId(view, A.id, kind, ledger, from, to, state.shardCount);
  view.setUint32(A.ledger, ledger, true);
  view.setUint16(A.code, kind === SystemAccountKind.suspense ? SystemAccountCode.suspense : SystemAccountCode.transit, true);
  view.setBigUint64(A.timestamp, timestamp, true);
  // A suspense account holds money owed to payers who could not take it back: a caller may pay it out
  // (resolving the 挂账), never more than it holds. Transit accounts carry no rule: callers cannot name them.
  const flags = kind === SystemAccountKind.suspense ? AccountFlags.debits_must_not_exceed_credits : AccountFlags.none;
  view.setUint16(A.flags, flags, true);
  assert(state.accounts.slotAt(view, A.id) === -1, 'system account opened once');
  const slot = state.accounts.add(view, A.id, ledger, flags);
  state.systemSlots.set(key, slot);
  return slot;
}
