// Accounts the ledger opens by itself: per shard pair and ledger, the two halves of a transit
// (过渡) account that carries cross-shard money in flight, and one suspense (挂账) account per shard
// and ledger for money that can go nowhere else. Their ids live in a reserved range (top 32 bits
// all ones) that callers can never create, and each id is chosen so that it routes to its owner
// shard, so ordinary lookups and history queries find them.
//
// Generations: a balance is a u64 turnover counter, and a transit account carries the turnover of every caller
// of its shard pair, so it would fill where no caller's account does (two payments of 2^63 − 1 across shards, from
// any account without a rule, and every later one between those shards would answer balance_overflow for good:
// a hostile caller stopping writes for everyone). So when the one in use can no longer take a posting whole (its
// posted plus pending balance of that side, and the amount, past 2^64 − 1), the shard moves to an older generation
// that can, or else opens the next one. A hold or shown hold stays on the generation it opened on: posting it moves
// pending to posted there, which the rule keeps room for. Audits and the day report sum a pair's generations.
// A new generation opens only when every one before it is more than half full, and only callers' accounts fill
// them — with posted turnover (each account debits at most 2^64 − 1, ever) or open holds (each at most 2^64 − 1
// pending at once): holds opened and voided again and again reuse the generations they emptied. So generations
// stay below four per account of the shard's callers; 2^24 per pair and ledger (one attacker moving 2^64 through
// each of 4M accounts to exhaust one pair) is the documented limit: past it, balance_overflow.
//
// System id layout (little-endian u128):
//   bytes 0..1   nonce (the first value that makes the id route to its owner shard)
//   bytes 2..3   generation, low 16 bits (0 for the first account of its kind, ledger and pair)
//   byte  4      shard the money leaves (transit) or the owner (suspense)
//   byte  5      shard the money goes to (transit) or 0 (suspense)
//   byte  6      SystemAccountKind
//   byte  7      generation, high 8 bits
//   bytes 8..11  ledger
//   bytes 12..15 0xffffffff (the reserved range)

import { assert } from '../assert.js';
import { Balance, accountStaticBytes, type AccountTable } from './account-table.js';
import { AccountLayout as A } from '../layout.js';
import { balanceMax } from '../limits.js';
import { shardOfIdAt } from '../routing.js';
import { AccountFlags } from '../types.js';

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
/** Nonces tried before giving up (u16); with ≤ 64 shards a routing match is found within a few hundred. */
const systemIdNoncesMax = 1 << 16;
/** Generations of one system account (kind, ledger, pair): 24 bits of its id. */
export const systemGenerationsMax = 1 << 24;

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

/** The generation of the system account whose id is at `at` (0: the first of its kind, ledger and pair). */
export function generationOfSystemIdAt(view: DataView, at: number): number {
  return view.getUint16(at + 2, true) + view.getUint8(at + 7) * 0x1_0000;
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
  generation = 0,
): void {
  assert(Number.isInteger(generation) && generation >= 0 && generation < systemGenerationsMax, 'a system account generation is 0..2^24 − 1');
  const owner = kind === SystemAccountKind.transitIn ? to : from;
  view.setUint16(at + 2, generation & 0xffff, true);
  view.setUint8(at + 4, from);
  view.setUint8(at + 5, kind === SystemAccountKind.suspense ? 0 : to);
  view.setUint8(at + 6, kind);
  view.setUint8(at + 7, generation >>> 16);
  view.setUint32(at + 8, ledger, true);
  view.setUint32(at + 12, reservedHighWord, true);
  for (let nonce = 0; nonce < systemIdNoncesMax; nonce++) {
    view.setUint16(at, nonce, true);
    if (shardCount === 1 || shardOfIdAt(view, at, shardCount) === owner) return;
  }
  assert(false, `no system account id routes to shard ${owner}`);
}

/** The id of a system account as a bigint (for clients, tests and reports). */
export function systemAccountId(kind: SystemAccountKindNumber, ledger: number, from: number, to: number, shardCount: number, generation = 0): bigint {
  const view = new DataView(new ArrayBuffer(16));
  writeSystemAccountId(view, 0, kind, ledger, from, to, shardCount, generation);
  return view.getBigUint64(0, true) | (view.getBigUint64(8, true) << 64n);
}

/** What opening a system account needs of a shard's state (posting/ledger-state.ts's LedgerState has it). */
export interface SystemAccountsState {
  readonly shardIndex: number;
  readonly shardCount: number;
  readonly accounts: AccountTable;
  /** Slot of the generation in use of each system account opened so far, by kind, ledger and peer shard (systemKey). */
  readonly systemSlots: Map<number, number>;
  /** Every generation's slot, oldest first, by systemKey: built on the first need (a scan of the accounts), then kept. */
  systemGenerations: Map<number, number[]> | null;
}

/** The systemSlots key of (kind, ledger, peer shard): 2 + 32 + 8 bits, exact in a double. */
export function systemKey(kind: number, ledger: number, peer: number): number {
  return (kind * 0x1_0000_0000 + ledger) * 256 + peer;
}

/** The systemSlots key of the system account whose id is at `at` on shard `me` (any generation). */
export function systemKeyOfIdAt(view: DataView, at: number, me: number): number {
  const kind = view.getUint8(at + 6);
  // The peer of a transit-out is where the money goes; of a transit-in, where it comes from; a suspense has none.
  const peer = kind === SystemAccountKind.transitOut ? view.getUint8(at + 5) : kind === SystemAccountKind.transitIn ? view.getUint8(at + 4) : me;
  return systemKey(kind, view.getUint32(at + 8, true), peer);
}

/** Which side of a system account a posting raises: debits (posted, pending) or credits. */
export type SystemSide = 'debits' | 'credits';

/**
 * The slot of a system account of this shard, opened on first use with the given timestamp.
 * Opening is deterministic (same batch, same order), so a replay opens it at the same point.
 * It is never undone by a failed chain: an unused zero-balance account changes no balance.
 */
export function systemAccountSlot(state: SystemAccountsState, kind: SystemAccountKindNumber, ledger: number, peer: number, timestamp: bigint): number {
  const known = state.systemSlots.get(systemKey(kind, ledger, peer));
  if (known !== undefined) return known;
  return openSystemAccount(state, kind, ledger, peer, timestamp, 0);
}

/**
 * The slot of the system account (kind, ledger, peer) that can take `amount` more on `side` whole — its posted plus
 * pending balance of that side and the amount within 2^64 − 1, so that a hold it takes can always be posted there:
 * the generation in use; when it cannot, the oldest that can (it is in use from then on); when none can, a new
 * generation; -1 when the last one possible is taken (balance_overflow). Deterministic, like opening: a replay
 * makes the same choice at the same posting.
 */
export function systemAccountWithRoom(state: SystemAccountsState, kind: SystemAccountKindNumber, ledger: number, peer: number, timestamp: bigint, side: SystemSide, amount: bigint): number {
  const slot = systemAccountSlot(state, kind, ledger, peer, timestamp);
  if (hasRoom(state.accounts, slot, side, amount)) return slot;
  return systemAccountWithRoomElsewhere(state, kind, ledger, peer, timestamp, side, amount, slot);
}

/**
 * The system account (kind, ledger, peer) in use when it is open and both balances of `side` are below 2^53 (any
 * amount then fits: no BigInt needed), else -1: the caller asks systemAccountWithRoom. The posting path's check.
 */
export function systemAccountRoomyNow(state: SystemAccountsState, kind: SystemAccountKindNumber, ledger: number, peer: number, side: SystemSide): number {
  const slot = state.systemSlots.get(systemKey(kind, ledger, peer));
  if (slot === undefined) return -1;
  return roomyInNumbers(state.accounts, slot, side) ? slot : -1;
}

/** The rare part of systemAccountWithRoom: the one in use (`slot`) cannot take `amount`. */
function systemAccountWithRoomElsewhere(state: SystemAccountsState, kind: SystemAccountKindNumber, ledger: number, peer: number, timestamp: bigint, side: SystemSide, amount: bigint, slot: number): number {
  // Rare (2^63 of turnover fills a generation): a walk over the pair's generations is fine here.
  const key = systemKey(kind, ledger, peer);
  const generations = generationsOf(state).get(key)!;
  for (const older of generations) {
    if (older === slot || !hasRoom(state.accounts, older, side, amount)) continue;
    state.systemSlots.set(key, older);
    return older;
  }
  if (generations.length >= systemGenerationsMax) return -1;
  return openSystemAccount(state, kind, ledger, peer, timestamp, generations.length);
}

/** Whether `side` of `slot` (posted + pending) can take `amount` (≤ 2^63 − 1) more and stay within 2^64 − 1. */
function hasRoom(accounts: AccountTable, slot: number, side: SystemSide, amount: bigint): boolean {
  if (roomyInNumbers(accounts, slot, side)) return true;
  const sum = side === 'debits' ? accounts.balance('debitsPosted', slot) + accounts.balance('debitsPending', slot) : accounts.balance('creditsPosted', slot) + accounts.balance('creditsPending', slot);
  return sum + amount <= balanceMax;
}

/** The slots of every system account of `accounts` (all generations), in slot order. O(accounts): for audits. */
export function systemAccountSlots(accounts: AccountTable): number[] {
  const slots: number[] = [];
  for (let slot = 0; slot < accounts.count; slot++) if (isSystemIdAt(accounts.staticsView, slot * accountStaticBytes)) slots.push(slot);
  return slots;
}

/** Both balances of `side` below 2^53 (the common case; Infinity above): their sum and any amount (< 2^63) stay below 2^64. */
function roomyInNumbers(accounts: AccountTable, slot: number, side: SystemSide): boolean {
  const posted = side === 'debits' ? Balance.debitsPosted : Balance.creditsPosted;
  const pending = side === 'debits' ? Balance.debitsPending : Balance.creditsPending;
  return accounts.balanceNumber(posted, slot) + accounts.balanceNumber(pending, slot) < 2 ** 62;
}

/** Every system account's generations by systemKey, oldest first (slots are given in opening order). */
function generationsOf(state: SystemAccountsState): Map<number, number[]> {
  if (state.systemGenerations !== null) return state.systemGenerations;
  const generations = new Map<number, number[]>();
  const statics = state.accounts.staticsView;
  for (const slot of systemAccountSlots(state.accounts)) {
    const at = slot * accountStaticBytes;
    const key = systemKeyOfIdAt(statics, at, state.shardIndex);
    const list = generations.get(key) ?? [];
    assert(generationOfSystemIdAt(statics, at) === list.length, 'a system account\'s generations open in order');
    list.push(slot);
    generations.set(key, list);
  }
  state.systemGenerations = generations;
  return generations;
}

function openSystemAccount(state: SystemAccountsState, kind: SystemAccountKindNumber, ledger: number, peer: number, timestamp: bigint, generation: number): number {
  const record = new Uint8Array(128);
  const view = new DataView(record.buffer);
  const me = state.shardIndex;
  const from = kind === SystemAccountKind.transitIn ? peer : me;
  const to = kind === SystemAccountKind.transitIn ? me : kind === SystemAccountKind.transitOut ? peer : 0;
  writeSystemAccountId(view, A.id, kind, ledger, from, to, state.shardCount, generation);
  view.setUint32(A.ledger, ledger, true);
  view.setUint16(A.code, kind === SystemAccountKind.suspense ? SystemAccountCode.suspense : SystemAccountCode.transit, true);
  view.setBigUint64(A.timestamp, timestamp, true);
  // A suspense account holds money owed to payers who could not take it back: a caller may pay it out
  // (resolving the 挂账), never more than it holds. Transit accounts carry no rule: callers cannot name them.
  const flags = kind === SystemAccountKind.suspense ? AccountFlags.debits_must_not_exceed_credits : AccountFlags.none;
  view.setUint16(A.flags, flags, true);
  assert(state.accounts.slotAt(view, A.id) === -1, 'system account opened once');
  const slot = state.accounts.add(view, A.id, ledger, flags);
  const key = systemKey(kind, ledger, peer);
  state.systemSlots.set(key, slot);
  const generations = state.systemGenerations;
  if (generations !== null) {
    const list = generations.get(key) ?? [];
    assert(generation === list.length, 'a system account opens its next generation');
    list.push(slot);
    generations.set(key, list);
  }
  return slot;
}
