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
// A debit no slice can cover is refused insufficient_funds on the payee's shard (it does not wait); the
// refusal marks the slice for refill in the next round, so a retry shortly after finds money there.

import { randomBytes } from 'node:crypto';
import { assert } from '../../core/assert.js';
import { errors } from '../../core/errors.js';
import { routeKeyOf, sliceAccountId, type HotOutboundRoute } from '../../core/hot/hot-outbound.js';
import { AccountLayout } from '../../core/layout.js';
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
  readonly #stats: HotOutboundStats = { accounts: 0, grants: 0, returns: 0, refusedDebits: 0 };
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
      const sliceIds = accounts.flatMap((a) => a.slices.filter((id): id is bigint => id !== null));
      const states = new Map((await this.#lookup(sliceIds)).map((s) => [s.id, s]));
      const returns: TransferInput[] = [];
      for (const account of accounts) {
        for (const sliceId of account.slices) {
          const slice = sliceId === null ? undefined : states.get(sliceId);
          if (slice === undefined || availableOf(slice) <= 0n) continue;
          returns.push(this.#transfer(account, sliceId!, account.id, availableOf(slice)));
        }
      }
      if (returns.length === 0) return;
      const posted = await this.#send(returns);
      this.#stats.returns += posted.filter(Boolean).length;
      // A return refused (a payment took part of that money meanwhile) is looked at again with fresh balances.
      if (posted.every(Boolean)) return;
    }
    throw errors.overloaded(`the slices of a hot-outbound account kept paying out while it was being closed; the close was not applied`);
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
    const ids = accounts.flatMap((a) => [a.id, ...a.slices.filter((id): id is bigint => id !== null)]);
    const states = new Map((await this.#lookup(ids)).map((s) => [s.id, s]));
    const grants: TransferInput[] = [];
    const returns: TransferInput[] = [];
    /** Per return: whose slice it empties, so that its own debit does not read as demand. */
    const returned: { account: HotAccount; shard: number }[] = [];
    const nowMs = performance.now();
    for (const account of accounts) {
      if (this.#closing.has(account.id)) continue; // recallForClose brought its money home: none goes back out
      const home = states.get(account.id);
      if (home === undefined) continue;
      const slices = account.slices.map((id) => (id === null ? undefined : states.get(id)));
      let homeAvailable = availableOf(home);
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
          const excess = balance - share / sliceStandbyDivisor;
          if (idle && excess > 0n && account.grantAwaited[shard] === null) {
            returns.push(this.#transfer(account, account.slices[shard]!, account.id, excess));
            returned.push({ account, shard });
            return;
          }
        }
        const wanted = debited || account.starved[shard] || slice.creditsPosted === 0n;
        if (!wanted || account.grantAwaited[shard] !== null || balance * 2n >= share) return;
        const amount = share - balance < homeAvailable ? share - balance : homeAvailable;
        if (amount <= 0n) return;
        homeAvailable -= amount;
        account.starved[shard] = false;
        account.grantAwaited[shard] = { credits: slice.creditsPosted + amount, atMs: nowMs };
        grants.push(this.#transfer(account, account.id, account.slices[shard]!, amount));
      });
    }
    // Each a plain transfer; one that meets a balance moved meanwhile is refused and tried again next round.
    const [grantsOk, returnsOk] = await Promise.all([this.#send(grants), this.#send(returns)]);
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
