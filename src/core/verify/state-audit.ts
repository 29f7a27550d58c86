// Whole-state checks of one replayed shard that name what is wrong instead of stopping at the first failed
// assertion (tally verify): per-ledger sums over every account against double entry and the running totals,
// and every account's posted balances recounted from the transfer records of its journal, with the history
// index (the cashflow view) checked against that recount. Pure: reads state and entry bytes, changes nothing.

import { accountStaticBytes } from '../accounts/account-table.js';
import { eventOffset, isCreditHalfResult, readJournalHeader, resultsOffset, trailerOffset } from '../posting/journal-entry.js';
import { movesMoney } from '../posting/verdicts-elsewhere.js';
import { TransferLayout as T, resultBytes } from '../layout.js';
import type { LedgerState } from '../posting/ledger-state.js';
import { eventBytes } from '../limits.js';
import { JournalEntryKind } from '../operations.js';
import { ResultCode } from '../result-codes.js';
import { shardOfIdAt } from '../routing.js';
import { SystemAccountKind, isSystemIdAt, systemAccountSlots, systemKeyOfIdAt, writeSystemAccountId, type SystemAccountKindNumber } from '../accounts/system-accounts.js';
import { InstructionKind, InstructionLayout as I, instructionMovesMoney } from '../transit/transit.js';
import { TransferFlags, transferKindFlags } from '../types.js';
import { readU128, viewOf } from '../u128.js';

/** Accounts whose history index is walked when a shard has more: a stratified sample (every k-th slot, plus every system account). */
export const historyAuditAccountsMax = 10_000;
/** Mismatching accounts described per shard and check; past it they are only counted (one sentence says how many). */
export const accountProblemsPerCheckMax = 100;

/** One ledger's sums over every account of a shard (creditsPosted counts hot-inbound buffers, as the totals do). */
export interface LedgerSums {
  ledger: number;
  accounts: number;
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

/** Per ledger, sums over every account of the shard, transit and suspense accounts included. O(accounts). */
export function ledgerSums(state: LedgerState): Map<number, LedgerSums> {
  const sums = new Map<number, LedgerSums>();
  const accounts = state.accounts;
  for (let slot = 0; slot < accounts.count; slot++) {
    const ledger = accounts.ledgerOf(slot);
    let sum = sums.get(ledger);
    if (sum === undefined) sums.set(ledger, (sum = { ledger, accounts: 0, debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n }));
    sum.accounts++;
    sum.debitsPosted += accounts.balance('debitsPosted', slot);
    sum.creditsPosted += accounts.balance('creditsPosted', slot) + state.buffered(slot);
    sum.debitsPending += accounts.balance('debitsPending', slot);
    sum.creditsPending += accounts.balance('creditsPending', slot);
  }
  return sums;
}

/** Double entry per ledger, posted and pending apart, and the accounts' sums against the running totals core keeps. */
export function conservationProblems(state: LedgerState, sums: ReadonlyMap<number, LedgerSums>): string[] {
  const shard = `shard ${state.shardIndex}`;
  const problems: string[] = [];
  for (const sum of [...sums.values()].sort((x, y) => x.ledger - y.ledger)) {
    const { ledger } = sum;
    if (sum.debitsPosted !== sum.creditsPosted) {
      problems.push(`${shard} ledger ${ledger}: posted debits ${sum.debitsPosted} != posted credits ${sum.creditsPosted} over its ${sum.accounts} accounts (credits − debits: ${sum.creditsPosted - sum.debitsPosted})`);
    }
    if (sum.debitsPending !== sum.creditsPending) {
      problems.push(`${shard} ledger ${ledger}: pending debits ${sum.debitsPending} != pending credits ${sum.creditsPending} over its ${sum.accounts} accounts (credits − debits: ${sum.creditsPending - sum.debitsPending})`);
    }
    const totals = state.totals.get(ledger);
    if (totals === undefined) continue;
    for (const field of ['debitsPosted', 'creditsPosted', 'debitsPending', 'creditsPending'] as const) {
      if (totals[field] !== sum[field]) problems.push(`${shard} ledger ${ledger}: the running total of ${field} is ${totals[field]} but the accounts sum to ${sum[field]}`);
    }
  }
  return problems;
}

/** How an account is named in a problem: its id in hex, and what it is when it is a system account. */
export function describeAccount(state: LedgerState, slot: number): string {
  const statics = viewOf(state.accounts.statics);
  const at = slot * accountStaticBytes;
  const id = `0x${readU128(statics, at).toString(16)}`;
  if (!isSystemIdAt(statics, at)) return `account ${id}`;
  const kind = statics.getUint8(at + 6);
  const from = statics.getUint8(at + 4);
  const to = statics.getUint8(at + 5);
  if (kind === SystemAccountKind.transitOut) return `transit-out ${from}→${to} account ${id}`;
  if (kind === SystemAccountKind.transitIn) return `transit-in ${from}→${to} account ${id}`;
  return `suspense account ${id}`;
}

const recountSlotsInitial = 1024;

/** The two accounts a successful record names on this shard, whether it moves posted money, and whether both histories hold it. */
interface PostingSides {
  debit: number;
  credit: number;
  movesPosted: boolean;
  inHistory: boolean;
}

/**
 * Every account's posted debits and credits recounted from the transfer records of the shard's journal, as
 * journaled (amountEffective of each successful posting, on the side the account took), and how many
 * transfer records name each account (its history nodes). Fed entry by entry right after the ledger
 * replayed each (so the accounts an entry opens exist); compared with the balances at the end.
 */
export class PostedRecount {
  #debits = new BigUint64Array(recountSlotsInitial);
  #credits = new BigUint64Array(recountSlotsInitial);
  #nodes = new Uint32Array(recountSlotsInitial);
  /**
   * System accounts are recounted per family (systemKey: kind, ledger, peer) over all its generations: a record
   * does not say which generation took it (system-accounts.ts), and a family's turnover may pass 2^64.
   */
  readonly #families = new Map<number, FamilyCount>();
  /** The generation-0 slot of a family, by systemKey (finding a system id's nonce costs hash rounds). */
  readonly #systemSlots = new Map<number, number>();
  readonly #scratch = new DataView(new ArrayBuffer(16));
  /** Successful records whose accounts this shard does not hold (each is a problem), by description. */
  readonly unplaced: string[] = [];
  transfers = 0;
  /** Instructions from other shards applied here that moved money (credits, returns; not holds shown or taken off). */
  inbound = 0;

  /** Adds the records of `entry` (its bytes as journaled). */
  add(state: LedgerState, entry: Uint8Array): void {
    const { operation, count, seq } = readJournalHeader(entry);
    if (operation !== JournalEntryKind.create_transfers && operation !== JournalEntryKind.apply_inbound) return;
    this.#grow(state.accounts.count);
    const view = viewOf(entry);
    for (let i = 0; i < count; i++) {
      const result = view.getUint32(resultsOffset(count) + i * resultBytes, true);
      if ((result & 0xffff) !== ResultCode.ok) continue;
      const at = eventOffset(i);
      const ledger = view.getUint32(at + T.ledger, true);
      // A credit half carried in a chain group is another shard's transfer landing here, as an instruction's would.
      const creditHalf = operation === JournalEntryKind.create_transfers && isCreditHalfResult(result);
      const sides =
        operation !== JournalEntryKind.create_transfers ? this.#inboundSides(state, view, count, i, ledger) : creditHalf ? this.#creditHalfSides(state, view, at, ledger) : this.#transferSides(state, view, at, ledger);
      if (sides.debit < 0 || sides.credit < 0) {
        if (this.unplaced.length < accountProblemsPerCheckMax) this.unplaced.push(`shard ${state.shardIndex} seq ${seq} event ${i}: a successful posting names an account the shard does not hold`);
        continue;
      }
      if (operation === JournalEntryKind.create_transfers && !creditHalf) this.transfers++;
      else if (sides.movesPosted) this.inbound++;
      const amount = sides.movesPosted ? view.getBigUint64(at + T.amountEffective, true) : 0n;
      this.#count(state, sides.debit, 'debits', amount, sides.inHistory);
      this.#count(state, sides.credit, 'credits', amount, sides.inHistory);
    }
  }

  /** One side of a successful record: `amount` posted (0n: none) to `slot`, and a history node when both histories hold it. */
  #count(state: LedgerState, slot: number, side: 'debits' | 'credits', amount: bigint, inHistory: boolean): void {
    const statics = state.accounts.staticsView;
    if (isSystemIdAt(statics, slot * accountStaticBytes)) {
      const family = this.#familyOf(systemKeyOfIdAt(statics, slot * accountStaticBytes, state.shardIndex));
      family[side] += amount;
      if (inHistory) family.nodes++;
      return;
    }
    if (inHistory) this.#nodes[slot]!++;
    if (amount === 0n) return;
    if (side === 'debits') this.#debits[slot] = this.#debits[slot]! + amount;
    else this.#credits[slot] = this.#credits[slot]! + amount;
  }

  #familyOf(key: number): FamilyCount {
    let family = this.#families.get(key);
    if (family === undefined) this.#families.set(key, (family = { debits: 0n, credits: 0n, nodes: 0 }));
    return family;
  }

  /** Accounts whose posted balances differ from the recount (creditsPosted counts the hot-inbound buffer). */
  balanceProblems(state: LedgerState): string[] {
    const problems: string[] = [...this.unplaced];
    let more = 0;
    const accounts = state.accounts;
    const families = new Map<number, { debits: bigint; credits: bigint; slot: number }>();
    for (let slot = 0; slot < accounts.count; slot++) {
      const debits = accounts.balance('debitsPosted', slot);
      const credits = accounts.balance('creditsPosted', slot) + state.buffered(slot);
      if (isSystemIdAt(accounts.staticsView, slot * accountStaticBytes)) {
        // Summed over the family's generations, compared below.
        const key = systemKeyOfIdAt(accounts.staticsView, slot * accountStaticBytes, state.shardIndex);
        const family = families.get(key) ?? { debits: 0n, credits: 0n, slot };
        family.debits += debits;
        family.credits += credits;
        families.set(key, family);
        continue;
      }
      const recounted = { debits: slot < this.#debits.length ? this.#debits[slot]! : 0n, credits: slot < this.#credits.length ? this.#credits[slot]! : 0n };
      if (debits === recounted.debits && credits === recounted.credits) continue;
      if (problems.length >= accountProblemsPerCheckMax) more++;
      else problems.push(...postedProblems(state, slot, describeAccount(state, slot), { debits, credits }, recounted));
    }
    for (const [key, family] of families) {
      const recounted = this.#families.get(key) ?? { debits: 0n, credits: 0n };
      if (family.debits === recounted.debits && family.credits === recounted.credits) continue;
      if (problems.length >= accountProblemsPerCheckMax) more++;
      else problems.push(...postedProblems(state, family.slot, `${describeAccount(state, family.slot)} (all its generations)`, family, recounted));
    }
    for (const key of this.#families.keys()) if (!families.has(key)) problems.push(`shard ${state.shardIndex}: transfer records post to system account family ${key}, which has no account`);
    if (more > 0) problems.push(`shard ${state.shardIndex}: ${more} more accounts whose posted balances differ from their transfer records`);
    return problems;
  }

  /**
   * The history index against the recount: every account (or, past historyAuditAccountsMax, a stratified
   * sample plus every system account) lists exactly its transfer records, in posting order.
   */
  historyProblems(state: LedgerState): { problems: string[]; accountsChecked: number; sampled: boolean } {
    const count = state.accounts.count;
    const sampled = count > historyAuditAccountsMax;
    const stride = sampled ? Math.ceil(count / historyAuditAccountsMax) : 1;
    const statics = state.accounts.staticsView;
    const slots = new Set<number>();
    for (let slot = 0; slot < count; slot += stride) if (!isSystemIdAt(statics, slot * accountStaticBytes)) slots.add(slot);
    const problems: string[] = [];
    for (const slot of [...slots].sort((x, y) => x - y)) {
      const expected = slot < this.#nodes.length ? this.#nodes[slot]! : 0;
      const { listed, ordered } = listedHistory(state, slot);
      if (listed === expected && ordered) continue;
      if (problems.length >= accountProblemsPerCheckMax) break;
      const why = listed === expected ? 'out of posting order' : `${listed} entries, but ${expected} transfer records name it`;
      problems.push(`shard ${state.shardIndex} ${describeAccount(state, slot)}: its history index lists ${why}`);
    }
    // Every system account, per family: its generations' histories together list its records, each in order.
    const families = new Map<number, { listed: number; ordered: boolean; slot: number }>();
    for (const slot of systemAccountSlots(state.accounts)) {
      const key = systemKeyOfIdAt(statics, slot * accountStaticBytes, state.shardIndex);
      const family = families.get(key) ?? { listed: 0, ordered: true, slot };
      const { listed, ordered } = listedHistory(state, slot);
      family.listed += listed;
      family.ordered &&= ordered;
      families.set(key, family);
      slots.add(slot);
    }
    for (const [key, family] of families) {
      const expected = this.#families.get(key)?.nodes ?? 0;
      if (family.listed === expected && family.ordered) continue;
      if (problems.length >= accountProblemsPerCheckMax) break;
      const why = family.listed === expected ? 'out of posting order' : `${family.listed} entries, but ${expected} transfer records name it`;
      problems.push(`shard ${state.shardIndex} ${describeAccount(state, family.slot)} (all its generations): its history index lists ${why}`);
    }
    return { problems, accountsChecked: slots.size, sampled };
  }

  #transferSides(state: LedgerState, view: DataView, at: number, ledger: number): PostingSides {
    const kind = view.getUint16(at + T.flags, true) & transferKindFlags;
    const movesPosted = movesMoney(kind);
    const debit = state.accounts.slotAt(view, at + T.debitAccountId);
    const creditShard = state.shardCount === 1 ? state.shardIndex : shardOfIdAt(view, at + T.creditAccountId, state.shardCount);
    // A payee on another shard: the transit-out half of this pair took the credit here.
    const credit = creditShard === state.shardIndex ? state.accounts.slotAt(view, at + T.creditAccountId) : this.#systemSlot(state, SystemAccountKind.transitOut, ledger, creditShard);
    return { debit, credit, movesPosted, inHistory: true };
  }

  /** A carried credit half: transit-in (from the payer's shard) → the payee, a hold shown or money posted. */
  #creditHalfSides(state: LedgerState, view: DataView, at: number, ledger: number): PostingSides {
    const kind = view.getUint16(at + T.flags, true) & transferKindFlags;
    const movesPosted = movesMoney(kind);
    const from = shardOfIdAt(view, at + T.debitAccountId, state.shardCount);
    return { debit: this.#systemSlot(state, SystemAccountKind.transitIn, ledger, from), credit: state.accounts.slotAt(view, at + T.creditAccountId), movesPosted, inHistory: true };
  }

  #inboundSides(state: LedgerState, view: DataView, count: number, index: number, ledger: number): PostingSides {
    const trailer = trailerOffset(count, index) - eventBytes; // InstructionLayout offsets count from the record
    const from = view.getUint16(trailer + I.fromShard, true);
    const kind = view.getUint16(trailer + I.kind, true);
    // A credit (or a hold shown, or taken off) debits transit-in (from → here), a return transit-out (here → from);
    // the record's credit account takes it. Holds move no posted money; an expiry's release is in no history.
    const debit = this.#systemSlot(state, kind === InstructionKind.return ? SystemAccountKind.transitOut : SystemAccountKind.transitIn, ledger, from);
    const expiry = kind === InstructionKind.release && (view.getUint16(eventOffset(index) + T.flags, true) & transferKindFlags) === TransferFlags.pending;
    return { debit, credit: state.accounts.slotAt(view, eventOffset(index) + T.creditAccountId), movesPosted: instructionMovesMoney(kind), inHistory: !expiry };
  }

  #systemSlot(state: LedgerState, kind: SystemAccountKindNumber, ledger: number, peer: number): number {
    const key = (kind * 0x1_0000_0000 + ledger) * 256 + peer;
    let slot = this.#systemSlots.get(key);
    if (slot === undefined) {
      const me = state.shardIndex;
      const from = kind === SystemAccountKind.transitIn ? peer : me;
      const to = kind === SystemAccountKind.transitIn ? me : peer;
      writeSystemAccountId(this.#scratch, 0, kind, ledger, from, to, state.shardCount);
      slot = state.accounts.slotAt(this.#scratch, 0);
      if (slot >= 0) this.#systemSlots.set(key, slot);
    }
    return slot;
  }

  #grow(count: number): void {
    if (count <= this.#nodes.length) return;
    let length = this.#nodes.length;
    while (length < count) length *= 2;
    const debits = new BigUint64Array(length);
    debits.set(this.#debits);
    this.#debits = debits;
    const credits = new BigUint64Array(length);
    credits.set(this.#credits);
    this.#credits = credits;
    const nodes = new Uint32Array(length);
    nodes.set(this.#nodes);
    this.#nodes = nodes;
  }
}

/** A family's recount: posted debits and credits over all its generations, and the records naming it. */
interface FamilyCount {
  debits: bigint;
  credits: bigint;
  nodes: number;
}

/** Every stored run of the account's history and its buffer, oldest first (nothing held as a whole): how many, in order. */
function listedHistory(state: LedgerState, slot: number): { listed: number; ordered: boolean } {
  let listed = 0;
  let ordered = true;
  let previous = -1;
  for (const location of state.accounts.history.allLocations(slot)) {
    ordered &&= location > previous;
    previous = location;
    listed++;
  }
  return { listed, ordered };
}

/** What differs between an account's (or family's) posted balances and their recount. */
function postedProblems(state: LedgerState, slot: number, which: string, actual: { debits: bigint; credits: bigint }, recounted: { debits: bigint; credits: bigint }): string[] {
  const problems: string[] = [];
  const ledger = state.accounts.ledgerOf(slot);
  if (actual.debits !== recounted.debits) problems.push(`shard ${state.shardIndex} ${which} ledger ${ledger}: debitsPosted is ${actual.debits} but its transfer records sum to ${recounted.debits}`);
  if (actual.credits !== recounted.credits) problems.push(`shard ${state.shardIndex} ${which} ledger ${ledger}: creditsPosted (with its hot-inbound buffer) is ${actual.credits} but its transfer records sum to ${recounted.credits}`);
  return problems;
}
