// The slice keeper of hot-outbound accounts (core/hot/hot-outbound.ts), in the shard set's thread. It owns no
// state that matters: every round it reads the balances of each hot account and its slices, and moves
// money with ordinary journaled transfers (idempotent ids, durable replies), so a crash anywhere loses
// nothing and a restarted keeper simply reads again.
//   - Refill (every refillMs): a slice below half its share (the account's money, home and slices,
//     divided by the shard count) that was debited since the last round, refused a debit for want of
//     money, or was never funded, gets its share from the home account: one transfer home → slice (a
//     cross-shard transfer: the home account is debited first, the slice credited after).
//   - Timed compensation (定时补偿, every compensateMs): a slice not debited for a whole period returns
//     its money home (slice → home) but a standby of 1/8 of its share, so idle money goes back to the
//     account and its balance is fresh, while the next burst's first payments are still served at once.
//   - Gather (issue #14, item 24): a request whose routed payments a slice does not cover (SliceFunds: what the
//     slice holds and has not promised) waits while the keeper brings the shortfall to that slice — from home,
//     and from the other slices through home when home is short — so the slice refuses a payment only when the
//     account as a whole does not cover it, as one shard refuses. Gathers run one at a time with the rounds.

import { randomBytes } from 'node:crypto';
import { assert } from '../../core/assert.js';
import { errors } from '../../core/errors.js';
import { routeKeyOf, sliceAccountId, type HotOutboundRoute } from '../../core/hot/hot-outbound.js';
import { SliceFunds } from '../../core/hot/slice-funds.js';
import { AccountLayout, resultBytes } from '../../core/layout.js';
import { ResultCode } from '../../core/result-codes.js';
import { batchEventsMax, eventBytes, lookupIdsMax } from '../../core/limits.js';
import { Operation } from '../../core/operations.js';
import { decodeAccountStates, decodeResults, encodeAccounts, encodeIds, encodeTransfers, type AccountInput, type TransferInput } from '../../core/wire/records.js';
import type { AccountState } from '../../core/types.js';
import { shardOfId } from '../../core/routing.js';
import { AccountFlags } from '../../core/types.js';
import { readU128, writeU128 } from '../../core/u128.js';

export interface HotOutboundOptions {
  /** How often slices are looked at and refilled. */
  refillMs: number;
  /** How often slices idle for a whole period are returned home (timed compensation). */
  compensateMs: number;
}

export const hotOutboundDefault: HotOutboundOptions = { refillMs: 100, compensateMs: 5000 };

export interface HotOutboundStats {
  accounts: number;
  /** Transfers home → slice and slice → home acknowledged since start. */
  grants: number;
  returns: number;
  /** Debits refused on a slice for want of money since start (each one asked for a refill). */
  refusedDebits: number;
  /** Requests that waited for money to be brought to a slice before they were sent. */
  gathers: number;
}

/** An event of a request taking money from a hot-outbound account, at one of its places (home or a slice). */
export interface PlacedDebit {
  index: number;
  /** The account's own id (home) or a slice's. */
  place: bigint;
  amount: bigint;
}

/** What a request was promised of one place until it is answered. */
interface PlaceHold {
  place: bigint;
  reserved: bigint;
}

/** What a request holds of one hot-outbound account until it is answered (HotOutboundKeeper.reserve). */
export interface HotReservation {
  account: bigint;
  debits: readonly PlacedDebit[];
  holds: PlaceHold[];
  /** Ends the account's turn of a request that needed money moved (null: promised at once). */
  unlock: (() => void) | null;
}

/** Runs a request without the hot-debit routing (the keeper's own transfers name slices themselves). */
export type Execute = (operation: number, body: Uint8Array) => Promise<Uint8Array>;

/** Opens slice accounts (all of one shard) through that shard's ShardControl.openSlices; replies one result each. */
export type OpenSlices = (shard: number, body: Uint8Array) => Promise<Uint8Array>;

/** Resolves true once every credit answered for so far has landed on `shard` (TransitRelay.landedOn), false if not in time. */
export type CreditsLanded = (shard: number) => Promise<boolean>;

interface HotAccount {
  id: bigint;
  ledger: number;
  code: number;
  home: number;
  /** Per shard: the slice id, or null (home shard, or a slice id someone else's account already holds). */
  slices: (bigint | null)[];
  /** Per shard: slice debits posted at the last round and at the last compensation. */
  debitsSeen: bigint[];
  debitsAtCompensation: bigint[];
  /** Per shard: a grant on its way (the slice's credits_posted it will reach) and when it was sent. */
  grantAwaited: ({ credits: bigint; atMs: number } | null)[];
  /** Per shard: a debit was refused there for want of money. */
  starved: boolean[];
}

/** An idle slice keeps 1/this of its share at a timed compensation (a standby for the next burst). */
const sliceStandbyDivisor = 8n;
/** How long a grant may stay in transit before the keeper stops waiting for it (it is retried then). */
const grantWaitMsMax = 2000;
/** Looks at the slices of an account being closed at most this often to bring their money home (payments race it). */
const recallTriesMax = 5;

export class HotOutboundKeeper {
  readonly #execute: Execute;
  readonly #openSlicesOn: OpenSlices;
  readonly #landed: CreditsLanded;
  readonly #shardCount: number;
  readonly #options: HotOutboundOptions;
  readonly #accounts = new Map<bigint, HotAccount>();
  /** What routeHotDebits needs (HotOutboundRoutes). */
  readonly routes = new Map<number, { id: Uint8Array; route: HotOutboundRoute }[]>();
  readonly #stats: HotOutboundStats = { accounts: 0, grants: 0, returns: 0, refusedDebits: 0, gathers: 0 };
  /** Each slice's money as the set knows it (core/hot/slice-funds.ts). */
  readonly #funds = new SliceFunds();
  /** Slice id → its account and shard. */
  readonly #sliceOwners = new Map<bigint, { account: HotAccount; shard: number }>();
  /** Per account, the turn of the last request that needed money moved, and the accounts whose turn runs now. */
  readonly #locks = new Map<bigint, Promise<void>>();
  readonly #locked = new Set<bigint>();
  #timer: ReturnType<typeof setInterval> | null = null;
  /** Rounds run one after another; the timer adds none while one waits. */
  #rounds: Promise<void> = Promise.resolve();
  #roundsQueued = 0;
  #lastCompensationMs = performance.now();
  /** Accounts whose close is under way (how many closes of each): rounds move none of their money meanwhile. */
  readonly #closing = new Map<bigint, number>();

  constructor(execute: Execute, openSlicesOn: OpenSlices, shardCount: number, options: HotOutboundOptions = hotOutboundDefault, landed: CreditsLanded = async () => true) {
    this.#execute = execute;
    this.#openSlicesOn = openSlicesOn;
    this.#landed = landed;
    this.#shardCount = shardCount;
    this.#options = options;
  }

  /**
   * Before hot-outbound accounts are created: opens their slice accounts on every other shard (no-overdraft,
   * same ledger and code, user_data_128 = the hot account), so that routing never sees a hot account
   * without its slices. Slice ids lie in a range only the ledger opens accounts in (ShardControl.openSlices),
   * so no caller can take one first; register() still checks every property a slice is trusted for.
   */
  async openSlices(accounts: readonly AccountInput[]): Promise<void> {
    const byShard: AccountInput[][] = Array.from({ length: this.#shardCount }, () => []);
    for (const account of accounts) {
      const home = shardOfId(account.id, this.#shardCount);
      for (let shard = 0; shard < this.#shardCount; shard++) {
        if (shard === home) continue;
        byShard[shard]!.push({ id: sliceAccountId(account.id, shard, this.#shardCount), ledger: account.ledger, code: account.code, flags: AccountFlags.debits_must_not_exceed_credits, userData128: account.id });
      }
    }
    await Promise.all(byShard.map((slices, shard) => (slices.length === 0 ? null : this.#openSlicesOn(shard, encodeAccounts(slices)))));
  }

  /** Learns hot-outbound accounts (created now, or found at start): checks their slices, then routes their debits. */
  async register(ids: readonly bigint[]): Promise<void> {
    const fresh = ids.filter((id) => !this.#accounts.has(id));
    if (fresh.length === 0) return;
    const homes = await this.#lookup(fresh);
    const sliceIds = homes.flatMap((a) => this.#sliceIdsOf(a.id).filter((id): id is bigint => id !== null));
    const found = new Map((await this.#lookup(sliceIds)).map((s) => [s.id, s]));
    for (const hot of homes) {
      if ((hot.flags & AccountFlags.hot_outbound) === 0) continue;
      // A slice counts only if it is exactly what openSlices opens for this account; any other leaves that
      // shard without a slice (its debits stay on the home shard), never trusted with the account's money.
      const slices = this.#sliceIdsOf(hot.id).map((id) => {
        const slice = id === null ? undefined : found.get(id);
        return slice !== undefined && isSliceOf(slice, hot) ? id : null;
      });
      const account: HotAccount = {
        id: hot.id,
        ledger: hot.ledger,
        code: hot.code,
        home: shardOfId(hot.id, this.#shardCount),
        slices,
        debitsSeen: slices.map(() => 0n),
        debitsAtCompensation: slices.map(() => -1n),
        grantAwaited: slices.map(() => null),
        starved: slices.map(() => false),
      };
      this.#accounts.set(hot.id, account);
      this.#funds.read(hot.id, availableOf(hot), this.#funds.mark(hot.id));
      slices.forEach((id, shard) => {
        if (id === null) return;
        this.#sliceOwners.set(id, { account, shard });
        this.#funds.read(id, availableOf(found.get(id)!), this.#funds.mark(id));
      });
      const low = routeKeyOf(hot.id);
      const route = { home: account.home, slices: slices.map((id) => (id === null ? null : idBytes(id))) };
      this.routes.set(low, [...(this.routes.get(low) ?? []), { id: idBytes(hot.id), route }]);
    }
    this.#stats.accounts = this.#accounts.size;
  }

  /** Per hot account: the money available in its slices now. */
  async sliceBalances(hotIds: readonly bigint[]): Promise<bigint[]> {
    const sliceIds = hotIds.map((id) => this.#accounts.get(id)?.slices.filter((s): s is bigint => s !== null) ?? []);
    const states = new Map((await this.#lookup(sliceIds.flat())).map((s) => [s.id, s]));
    const sliceAvailable = (id: bigint): bigint => {
      const state = states.get(id);
      if (state === undefined) return 0n;
      const available = availableOf(state);
      assert(available >= 0n, `slice ${id} is a no-overdraft account`);
      return available;
    };
    return sliceIds.map((ids) => ids.reduce((sum, id) => sum + sliceAvailable(id), 0n));
  }

  /**
   * Before a close of hot-outbound accounts: brings all the money of their slices home, so that the close, which
   * runs on the home shard, sees the account's whole money, as one shard would (a close that found the home
   * account empty while its slices held money would leave that money with a closed account). From now until
   * closeAnswered, rounds grant these accounts nothing: a grant after the recall could leave the home account
   * empty again (paid out from home while the slice keeps the grant). Runs between rounds; waits for grants in
   * flight to land first. Rejects `overloaded` (and leaves the accounts as they were marked before) when the
   * slices' money could not all be brought home: payments from them kept changing it, or a shard did not answer.
   */
  async recallForClose(hotIds: readonly bigint[]): Promise<void> {
    const accounts = [...new Set(hotIds)].flatMap((id) => this.#accounts.get(id) ?? []);
    if (accounts.length === 0) return;
    for (const account of accounts) this.#closing.set(account.id, (this.#closing.get(account.id) ?? 0) + 1);
    const recall = this.#rounds.then(() => this.#recall(accounts));
    this.#rounds = recall.catch(() => {});
    try {
      await recall;
    } catch (error) {
      this.closeAnswered(accounts.map((a) => a.id));
      throw error;
    }
  }

  /** An account operation on these hot accounts was answered (a freeze moves home money unseen): read home again. */
  homeChanged(hotIds: readonly bigint[]): void {
    for (const id of hotIds) if (this.#accounts.has(id)) this.#funds.unsettled(id, 0n);
  }

  /** Whether `id` is a hot-outbound account the keeper looks after. */
  isHotOutbound(id: bigint): boolean {
    return this.#accounts.has(id);
  }

  /** The close that recallForClose prepared has been answered (closed or refused): rounds look after these accounts again. */
  closeAnswered(hotIds: readonly bigint[]): void {
    for (const id of new Set(hotIds)) {
      const count = this.#closing.get(id);
      if (count === undefined) continue;
      if (count <= 1) this.#closing.delete(id);
      else this.#closing.set(id, count - 1);
    }
  }

  async #recall(accounts: readonly HotAccount[]): Promise<void> {
    const sliceShards = new Set(accounts.flatMap((a) => a.slices.flatMap((id, shard) => (id === null ? [] : [shard]))));
    for (const shard of sliceShards) {
      if (!(await this.#landed(shard))) throw errors.overloaded(`grants on their way to shard ${shard} did not land in time; the close was not applied`);
    }
    for (let attempt = 0; attempt < recallTriesMax; attempt++) {
      // The grants that landed count in first: a slice promises (and returns) only money the set has counted.
      for (const account of accounts) await this.#landGrants(account);
      const sliceIds = accounts.flatMap((a) => a.slices.filter((id): id is bigint => id !== null));
      const marks = sliceIds.map((id) => this.#funds.mark(id));
      const states = new Map((await this.#lookup(sliceIds)).map((s) => [s.id, s]));
      sliceIds.forEach((id, i) => {
        const state = states.get(id);
        if (state !== undefined) this.#funds.read(id, availableOf(state), marks[i]!);
      });
      const returns: TransferInput[] = [];
      const holds: PlaceHold[] = [];
      for (const account of accounts) {
        for (const sliceId of account.slices) {
          const slice = sliceId === null ? undefined : states.get(sliceId);
          if (slice === undefined || availableOf(slice) <= 0n) continue;
          // Money a payment in flight was promised stays for it: the next attempt reads what it left. A slice whose
          // money the set does not know returns what the read found (refused if a payment took it meanwhile).
          const known = this.#funds.isKnown(sliceId!);
          const take = known ? min(availableOf(slice), this.#funds.unreserved(sliceId!)) : availableOf(slice);
          if (take <= 0n || (known && !this.#funds.reserve(sliceId!, take))) continue;
          holds.push({ place: sliceId!, reserved: known ? take : 0n });
          returns.push(this.#transfer(account, sliceId!, account.id, take));
        }
      }
      if (returns.length === 0) {
        if (accounts.every((a) => a.slices.every((id) => id === null || (states.get(id) === undefined ? true : availableOf(states.get(id)!) <= 0n)))) return;
        continue;
      }
      let posted: boolean[];
      try {
        posted = await this.#send(returns);
      } catch (error) {
        for (const hold of holds) this.#funds.unsettled(hold.place, hold.reserved);
        for (const account of accounts) this.#funds.unsettled(account.id, 0n);
        throw error;
      }
      posted.forEach((ok, i) => {
        this.#funds.settle(holds[i]!.place, holds[i]!.reserved, ok ? returns[i]!.amount : 0n);
        if (ok) this.#funds.granted(returns[i]!.creditAccountId, returns[i]!.amount);
      });
      this.#stats.returns += posted.filter(Boolean).length;
      // A return refused (a payment took part of that money meanwhile) is looked at again with fresh balances.
      if (posted.every(Boolean)) return;
    }
    throw errors.overloaded(`the slices of a hot-outbound account kept paying out while it was being closed; the close was not applied`);
  }

  /**
   * Before a request taking money from hot-outbound accounts is sent (`debits`: per account, its events that take
   * from the account's available money, in order, each with the place it takes from — home or a slice), each place
   * is promised what the request asks of it. When every place covers its part, that is all (the common case). Else,
   * one request at a time per account and after the rounds queued before it, the keeper decides the request's events
   * in order against the account's whole unpromised money, as one shard would, brings to each place what its
   * events will take (recalling the slices' money home, granting home's to the slices), and promises it; a place
   * where an event will be refused is promised all it has, so that it refuses exactly where one shard does. Settle
   * every reservation with settle() or unsettled().
   */
  async reserve(debits: ReadonlyMap<bigint, readonly PlacedDebit[]>): Promise<HotReservation[]> {
    const reservations: HotReservation[] = [];
    const gathered: HotReservation[] = [];
    try {
      for (const [hotId, placed] of debits) {
        const account = this.#accounts.get(hotId);
        if (account === undefined || placed.length === 0) continue;
        const quick = this.#reserveAtOnce(account, placed);
        if (quick !== null) reservations.push(quick);
        else gathered.push({ account: hotId, debits: placed, holds: [], unlock: null });
      }
      // Turns taken in one order (by account id), so that two requests paying from the same two accounts never
      // wait for each other's.
      gathered.sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
      for (const reservation of gathered) {
        reservations.push(reservation);
        reservation.unlock = await this.#lock(reservation.account);
      }
      for (const reservation of gathered) {
        const account = this.#accounts.get(reservation.account)!;
        await this.#queued(() => this.#gather(account, reservation.debits, reservation));
      }
    } catch (error) {
      for (const reservation of reservations) this.#release(reservation, new Map());
      throw error;
    }
    return reservations;
  }

  /** The request holding `reservations` was answered (`results`: its reply, 4 B per event). */
  settle(reservations: readonly HotReservation[], results: DataView): void {
    for (const reservation of reservations) {
      const taken = new Map<bigint, bigint>();
      for (const debit of reservation.debits) {
        if (results.getUint16(debit.index * resultBytes, true) === ResultCode.ok) taken.set(debit.place, (taken.get(debit.place) ?? 0n) + debit.amount);
      }
      this.#release(reservation, taken);
    }
  }

  /** The request holding `reservations` was refused whole before any shard ran it (overloaded): nothing was taken. */
  released(reservations: readonly HotReservation[]): void {
    for (const reservation of reservations) this.#release(reservation, new Map());
  }

  /** The request holding `reservations` failed with an outcome nobody knows (a shard failed under it). */
  unsettled(reservations: readonly HotReservation[]): void {
    for (const reservation of reservations) {
      for (const hold of reservation.holds) this.#funds.unsettled(hold.place, hold.reserved);
      for (const debit of reservation.debits) this.#funds.unsettled(debit.place, 0n);
      reservation.unlock?.();
    }
  }

  #release(reservation: HotReservation, taken: ReadonlyMap<bigint, bigint>): void {
    const held = new Set<bigint>();
    for (const hold of reservation.holds) {
      held.add(hold.place);
      this.#funds.settle(hold.place, hold.reserved, taken.get(hold.place) ?? 0n);
    }
    // A place the request took from without a promise (its money was not known): still not known.
    for (const [place, amount] of taken) if (!held.has(place) && amount > 0n) this.#funds.unsettled(place, 0n);
    reservation.unlock?.();
  }

  /** Each place's part promised at once when every place covers it; null when one does not (or is not known). */
  #reserveAtOnce(account: HotAccount, placed: readonly PlacedDebit[]): HotReservation | null {
    const parts = partsOf(placed);
    for (const [place, amount] of parts) if (!this.#funds.isKnown(place) || this.#funds.unreserved(place) < amount) return null;
    const holds: PlaceHold[] = [];
    for (const [place, amount] of parts) {
      const promised = this.#funds.reserve(place, amount);
      assert(promised, 'a place that covers its part is promised it');
      holds.push({ place, reserved: amount });
    }
    return { account: account.id, debits: placed, holds, unlock: null };
  }

  /** Waits for the account's previous gathered request to be answered; resolves with the release of this one's turn. */
  async #lock(hotId: bigint): Promise<() => void> {
    const previous = this.#locks.get(hotId) ?? Promise.resolve();
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    const chained = previous.then(() => turn);
    this.#locks.set(hotId, chained);
    await previous;
    this.#locked.add(hotId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#locked.delete(hotId);
      if (this.#locks.get(hotId) === chained) this.#locks.delete(hotId);
      release();
    };
  }

  /** Runs `work` after the rounds and gathers queued before it, as one of them. */
  #queued(work: () => Promise<void>): Promise<void> {
    const run = this.#rounds.then(work);
    this.#rounds = run.catch(() => {});
    return run;
  }

  /**
   * Decides `placed` in order against the account's unpromised money (one shard's answer), moves what each place
   * needs there, and promises it in `reservation`. A place whose money is not known even after a read leaves the
   * request to the shards as they stand (nothing promised): exact again once a round reads it at a quiet moment.
   */
  async #gather(account: HotAccount, placed: readonly PlacedDebit[], reservation: HotReservation): Promise<void> {
    await this.#landGrants(account);
    const places = [account.id, ...account.slices.filter((id): id is bigint => id !== null)];
    // Read every place: money the set does not see arriving (a caller's credit home, a hold voided) counts too.
    const marks = places.map((place) => this.#funds.mark(place));
    const states = new Map((await this.#lookup(places)).map((s) => [s.id, s]));
    places.forEach((place, i) => {
      const state = states.get(place);
      if (state !== undefined) this.#funds.read(place, availableOf(state), marks[i]!);
    });
    if (this.#closing.has(account.id) || places.some((place) => !this.#funds.isKnown(place))) return;
    // One shard's answer: each event in order against the whole account's money not promised to others.
    let left = places.reduce((sum, place) => sum + this.#funds.unreserved(place), 0n);
    const needs = new Map<bigint, bigint>(places.map((place) => [place, 0n]));
    const refusedAt = new Set<bigint>();
    for (const debit of placed) {
      if (left >= debit.amount) {
        left -= debit.amount;
        needs.set(debit.place, needs.get(debit.place)! + debit.amount);
      } else refusedAt.add(debit.place);
    }
    const short = (place: bigint): bigint => needs.get(place)! - this.#funds.unreserved(place);
    if (places.some((place) => short(place) > 0n)) {
      this.#stats.gathers++;
      await this.#moveToNeeds(account, needs);
    }
    for (const place of new Set(placed.map((debit) => debit.place))) {
      const need = needs.get(place)!;
      const reserved = !refusedAt.has(place) && this.#funds.reserve(place, need) ? need : this.#funds.reserveAll(place);
      reservation.holds.push({ place, reserved });
    }
  }

  /**
   * Moves the account's unpromised money so that each place holds its need: the slices' surplus comes home first
   * when home cannot cover its own need and the slices' shortfalls, then home grants each short slice its shortfall.
   * Every move is an ordinary transfer holding its source's money until answered; one refused leaves a place short.
   */
  async #moveToNeeds(account: HotAccount, needs: ReadonlyMap<bigint, bigint>): Promise<void> {
    const home = account.id;
    const surplus = (place: bigint): bigint => this.#funds.unreserved(place) - needs.get(place)!;
    const slices = account.slices.filter((id): id is bigint => id !== null);
    const sliceShortfall = slices.reduce((sum, id) => (surplus(id) < 0n ? sum - surplus(id) : sum), 0n);
    let wanted = sliceShortfall - surplus(home);
    if (wanted > 0n) {
      const recalls: { from: bigint; amount: bigint }[] = [];
      for (const id of slices) {
        const spare = surplus(id);
        if (wanted <= 0n || spare <= 0n) continue;
        const amount = spare < wanted ? spare : wanted;
        wanted -= amount;
        recalls.push({ from: id, amount });
      }
      const recalled = await this.#moves(account, recalls.map(({ from, amount }) => ({ from, to: home, amount })));
      if (recalled > 0n) await this.#landGrants(account);
    }
    const grants = slices.flatMap((id) => (surplus(id) < 0n ? [{ from: home, to: id, amount: -surplus(id) }] : []));
    let homeSpare = surplus(home);
    const affordable = grants.flatMap((grant) => {
      const amount = grant.amount < homeSpare ? grant.amount : homeSpare;
      homeSpare -= amount;
      return amount > 0n ? [{ ...grant, amount }] : [];
    });
    if ((await this.#moves(account, affordable)) > 0n) await this.#landGrants(account);
  }

  /** Sends `moves` (each holding its source's money until answered); counts the posted ones in on their way. Resolves with what moved. */
  async #moves(account: HotAccount, moves: readonly { from: bigint; to: bigint; amount: bigint }[]): Promise<bigint> {
    const sent = moves.filter((move) => this.#funds.reserve(move.from, move.amount));
    if (sent.length === 0) return 0n;
    let posted: boolean[];
    try {
      posted = await this.#send(sent.map((move) => this.#transfer(account, move.from, move.to, move.amount)));
    } catch (error) {
      for (const move of sent) {
        this.#funds.unsettled(move.from, move.amount);
        this.#funds.unsettled(move.to, 0n);
      }
      throw error;
    }
    let moved = 0n;
    posted.forEach((ok, i) => {
      const move = sent[i]!;
      this.#funds.settle(move.from, move.amount, ok ? move.amount : 0n);
      if (!ok) return;
      moved += move.amount;
      this.#funds.granted(move.to, move.amount);
      if (move.to === account.id) this.#stats.returns++;
      else this.#stats.grants++;
    });
    return moved;
  }

  /** Waits until the money moved so far to `account`'s places (grants to slices, returns home) has landed, and counts it in. */
  async #landGrants(account: HotAccount): Promise<void> {
    const places: [bigint, number][] = [[account.id, account.home], ...account.slices.flatMap((id, shard): [bigint, number][] => (id === null ? [] : [[id, shard]]))];
    await Promise.all(
      places.map(async ([place, shard]) => {
        if (!this.#funds.grantsLanding(place)) return;
        const through = this.#funds.grantedTotal(place);
        if (await this.#landed(shard)) this.#funds.landedThrough(place, through);
      }),
    );
  }

  /** A debit of `hotId` routed to `shard`'s slice was refused for want of money: refill it next round. */
  starved(hotId: bigint, shard: number): void {
    const account = this.#accounts.get(hotId);
    if (account === undefined) return;
    account.starved[shard] = true;
    this.#stats.refusedDebits++;
  }

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#roundsQueued === 0) void this.runRound().catch(() => {}); // a shard down: the next round tries again
    }, this.#options.refillMs);
    this.#timer.unref();
  }

  /** Stops the timer and resolves once the rounds already queued have ended. */
  stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    return this.#rounds;
  }

  stats(): HotOutboundStats {
    return { ...this.#stats };
  }

  /** One round (refills, and the compensation when its period is over, or when asked), after any round queued before. */
  runRound(compensate?: boolean): Promise<void> {
    this.#roundsQueued++;
    const round = this.#rounds.then(() => this.#roundOnce(compensate ?? performance.now() - this.#lastCompensationMs >= this.#options.compensateMs));
    this.#rounds = round.catch(() => {}).finally(() => this.#roundsQueued--);
    return round;
  }

  async #roundOnce(compensate: boolean): Promise<void> {
    if (this.#accounts.size === 0) return;
    if (compensate) this.#lastCompensationMs = performance.now();
    const accounts = [...this.#accounts.values()];
    // Grants count in once landed; a round does not wait for the relay (under load that is its whole lag).
    for (const account of accounts) void this.#landGrants(account).catch(() => {});
    const ids = accounts.flatMap((a) => [a.id, ...a.slices.filter((id): id is bigint => id !== null)]);
    const marks = ids.map((id) => this.#funds.mark(id));
    const states = new Map((await this.#lookup(ids)).map((s) => [s.id, s]));
    // A quiet slice's read is what the set knows of it from now on (it repairs one a failed request left unknown).
    ids.forEach((id, i) => {
      const state = states.get(id);
      if (state !== undefined) this.#funds.read(id, availableOf(state), marks[i]!);
    });
    const grants: TransferInput[] = [];
    const returns: TransferInput[] = [];
    /** Per return: what it holds of its slice until answered. */
    const returnHolds: PlaceHold[] = [];
    /** Per return: whose slice it empties, so that its own debit does not read as demand. */
    const returned: { account: HotAccount; shard: number }[] = [];
    const nowMs = performance.now();
    for (const account of accounts) {
      if (this.#closing.has(account.id)) continue; // recallForClose brought its money home: none goes back out
      if (this.#locked.has(account.id)) continue; // a request's gathered money stays where it was put until answered
      const home = states.get(account.id);
      if (home === undefined) continue;
      const slices = account.slices.map((id) => (id === null ? undefined : states.get(id)));
      // Grants take only home money no request was promised (SliceFunds).
      let homeAvailable = min(availableOf(home), this.#funds.unreserved(account.id));
      const share = (homeAvailable + slices.reduce((sum, s) => sum + (s === undefined ? 0n : availableOf(s)), 0n)) / BigInt(this.#shardCount);
      slices.forEach((slice, shard) => {
        if (slice === undefined) return;
        const balance = availableOf(slice);
        const awaited = account.grantAwaited[shard];
        if (awaited !== null && (slice.creditsPosted >= awaited.credits || nowMs - awaited.atMs > grantWaitMsMax)) account.grantAwaited[shard] = null;
        const debited = slice.debitsPosted > account.debitsSeen[shard]!;
        account.debitsSeen[shard] = slice.debitsPosted;
        if (compensate) {
          // Idle for a whole period: its money goes home but a standby amount (what a grant in flight brings
          // stays for the next period). The standby serves the first payments of the next burst at once;
          // they mark the slice debited, and the next look refills it.
          const idle = slice.debitsPosted === account.debitsAtCompensation[shard];
          account.debitsAtCompensation[shard] = slice.debitsPosted;
          // Only money no request was promised goes home (SliceFunds).
          const unpromised = this.#funds.unreserved(account.slices[shard]!);
          const excess = min(balance - share / sliceStandbyDivisor, unpromised);
          if (idle && excess > 0n && account.grantAwaited[shard] === null && this.#funds.reserve(account.slices[shard]!, excess)) {
            returns.push(this.#transfer(account, account.slices[shard]!, account.id, excess));
            returnHolds.push({ place: account.slices[shard]!, reserved: excess });
            returned.push({ account, shard });
            return;
          }
        }
        const wanted = debited || account.starved[shard] || slice.creditsPosted === 0n;
        if (!wanted || account.grantAwaited[shard] !== null || balance * 2n >= share) return;
        const amount = share - balance < homeAvailable ? share - balance : homeAvailable;
        if (amount <= 0n || !this.#funds.reserve(account.id, amount)) return;
        homeAvailable -= amount;
        account.starved[shard] = false;
        account.grantAwaited[shard] = { credits: slice.creditsPosted + amount, atMs: nowMs };
        grants.push(this.#transfer(account, account.id, account.slices[shard]!, amount));
      });
    }
    // Each a plain transfer; one that meets a balance moved meanwhile is refused and tried again next round.
    let grantsOk: boolean[];
    let returnsOk: boolean[];
    try {
      [grantsOk, returnsOk] = await Promise.all([this.#send(grants), this.#send(returns)]);
    } catch (error) {
      // Posted or not: every place these moves touch is read again before it promises anything.
      for (const hold of returnHolds) this.#funds.unsettled(hold.place, hold.reserved);
      for (const grant of grants) {
        this.#funds.unsettled(grant.debitAccountId, grant.amount);
        this.#funds.unsettled(grant.creditAccountId, 0n);
      }
      for (const ret of returns) this.#funds.unsettled(ret.creditAccountId, 0n);
      throw error;
    }
    grantsOk.forEach((ok, i) => {
      const grant = grants[i]!;
      this.#funds.settle(grant.debitAccountId, grant.amount, ok ? grant.amount : 0n);
      if (ok) this.#funds.granted(grant.creditAccountId, grant.amount);
    });
    returnsOk.forEach((ok, i) => {
      this.#funds.settle(returnHolds[i]!.place, returnHolds[i]!.reserved, ok ? returnHolds[i]!.reserved : 0n);
      if (ok) this.#funds.granted(returns[i]!.creditAccountId, returns[i]!.amount);
    });
    this.#stats.grants += grantsOk.filter(Boolean).length;
    this.#stats.returns += returnsOk.filter(Boolean).length;
    returnsOk.forEach((ok, i) => {
      if (!ok) return;
      const { account, shard } = returned[i]!;
      account.debitsSeen[shard]! += returns[i]!.amount;
      account.debitsAtCompensation[shard]! += returns[i]!.amount;
    });
  }

  /** Which of `transfers` were posted. */
  async #send(transfers: TransferInput[]): Promise<boolean[]> {
    const posted: boolean[] = [];
    // In batches a shard takes: the number of hot accounts (and so of transfers a round sends) is the callers'.
    for (let from = 0; from < transfers.length; from += batchEventsMax) {
      const reply = await this.#execute(Operation.create_transfers, encodeTransfers(transfers.slice(from, from + batchEventsMax)));
      for (const { result } of decodeResults(reply)) posted.push(result === 'ok');
    }
    return posted;
  }

  #transfer(account: HotAccount, debitAccountId: bigint, creditAccountId: bigint, amount: bigint): TransferInput {
    return { id: newTransferId(), debitAccountId, creditAccountId, amount, ledger: account.ledger, code: account.code };
  }

  /** Accounts found among `ids`, slices included (an empty list asks nothing). */
  async #lookup(ids: readonly bigint[]): Promise<AccountState[]> {
    const found: AccountState[] = [];
    for (let from = 0; from < ids.length; from += lookupIdsMax) {
      found.push(...decodeAccountStates(await this.#execute(Operation.lookup_ledger_accounts, encodeIds(ids.slice(from, from + lookupIdsMax)))));
    }
    return found;
  }

  #sliceIdsOf(hotId: bigint): (bigint | null)[] {
    const home = shardOfId(hotId, this.#shardCount);
    return Array.from({ length: this.#shardCount }, (_, shard) => (shard === home ? null : sliceAccountId(hotId, shard, this.#shardCount)));
  }
}

/** A slice's money is the hot account's only while no debit can take it below zero: the no-overdraft rule is what the keeper relies on. */
function isSliceOf(slice: AccountState, hot: AccountState): boolean {
  return (
    slice.userData128 === hot.id &&
    slice.ledger === hot.ledger &&
    slice.code === hot.code &&
    slice.flags === AccountFlags.debits_must_not_exceed_credits &&
    availableOf(slice) >= 0n
  );
}

/** What `placed` takes from each place, in total. */
function partsOf(placed: readonly PlacedDebit[]): Map<bigint, bigint> {
  const parts = new Map<bigint, bigint>();
  for (const debit of placed) parts.set(debit.place, (parts.get(debit.place) ?? 0n) + debit.amount);
  return parts;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function availableOf(balances: { creditsPosted: bigint; debitsPosted: bigint; debitsPending: bigint; frozen: bigint }): bigint {
  return balances.creditsPosted - balances.debitsPosted - balances.debitsPending - balances.frozen;
}

function idBytes(id: bigint): Uint8Array {
  const bytes = new Uint8Array(16);
  writeU128(new DataView(bytes.buffer), 0, id);
  return bytes;
}

/** A random 128-bit id (never 0, never the max, outside the system range: its top word is not all ones). */
function newTransferId(): bigint {
  const bytes = randomBytes(16);
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  view.setUint32(12, view.getUint32(12, true) & 0x7fff_ffff, true);
  const id = readU128(view, 0);
  return id === 0n ? 1n : id;
}

/** Events of a create_accounts body that ask for a hot-outbound account. */
export function hotOutboundAccountsIn(body: Uint8Array): AccountInput[] {
  const found: AccountInput[] = [];
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) {
    if ((view.getUint16(at + AccountLayout.flags, true) & AccountFlags.hot_outbound) === 0) continue;
    found.push({ id: readU128(view, at + AccountLayout.id), ledger: view.getUint32(at + AccountLayout.ledger, true), code: view.getUint16(at + AccountLayout.code, true) });
  }
  return found;
}
