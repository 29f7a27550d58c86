// The hot-debit account as the end checks see it when it is hot-outbound: one group, the account and its
// slice accounts (one per other shard, src/core/hot/hot-outbound.ts). The keeper's refills (home → slice) and
// returns (slice → home) move money only inside the group, so only the group's sum is predictable; pure
// arithmetic over balances read elsewhere, nothing here reads or waits.

import type { AccountBalances } from '../../src/client/index.js';
import { sliceAccountId } from '../../src/core/hot/hot-outbound.js';
import { shardOfId } from '../../src/core/routing.js';

export interface HotOutboundGroup {
  readonly hotId: bigint;
  /** The hot account's own shard: payees there are paid by the account itself. */
  readonly home: number;
  /** Per shard, its slice's id; null on the home shard (no slice there). */
  readonly slices: readonly (bigint | null)[];
}

export function hotOutboundGroup(hotId: bigint, shardCount: number): HotOutboundGroup {
  const home = shardOfId(hotId, shardCount);
  const slices = Array.from({ length: shardCount }, (_, shard) => (shard === home ? null : sliceAccountId(hotId, shard, shardCount)));
  return { hotId, home, slices };
}

/** The slice ids, in shard order. */
export function sliceIdsOf(group: HotOutboundGroup): bigint[] {
  return group.slices.filter((id): id is bigint => id !== null);
}

export interface GroupCheck {
  /** Σ over the account and its slices of credits posted − debits posted. */
  netMinor: bigint;
  /** What the bench sent: the funding less every hot-debit transfer posted. */
  expectedMinor: bigint;
  matches: boolean;
  /** Σ debits posted and Σ credits posted over the group, the keeper's moves included. */
  debitsMinor: bigint;
  creditsMinor: bigint;
  /**
   * The keeper's moves inside the group, each counted once: refills = Σ slices' credits posted (only the
   * keeper credits a slice), returns = the account's credits posted − the funding (only the funding and
   * returns credit it). Each move is one debit and one credit inside the group.
   */
  internalMinor: bigint;
  /** Σ over the slices of credits posted − debits posted: their money now. */
  slicesNetMinor: bigint;
  /** Slices the read found (each must exist: the server opens them before the account). */
  slicesFound: number;
}

/**
 * The group's sum against `fundedMinor − paidMinor`, from one read of its accounts (`states` by id). Holds
 * only when no keeper move is half done (debited on one shard, not yet credited on the other): read again then.
 */
export function checkGroup(group: HotOutboundGroup, states: ReadonlyMap<bigint, AccountBalances>, fundedMinor: bigint, paidMinor: bigint): GroupCheck {
  const hot = states.get(group.hotId);
  const slices = sliceIdsOf(group).map((id) => states.get(id)).filter((s): s is AccountBalances => s !== undefined);
  const hotDebits = hot?.debitsPosted ?? 0n;
  const hotCredits = hot?.creditsPosted ?? 0n;
  const sliceDebits = slices.reduce((sum, s) => sum + s.debitsPosted, 0n);
  const sliceCredits = slices.reduce((sum, s) => sum + s.creditsPosted, 0n);
  const netMinor = hotCredits + sliceCredits - hotDebits - sliceDebits;
  const expectedMinor = fundedMinor - paidMinor;
  return {
    netMinor,
    expectedMinor,
    matches: hot !== undefined && netMinor === expectedMinor,
    debitsMinor: hotDebits + sliceDebits,
    creditsMinor: hotCredits + sliceCredits,
    internalMinor: sliceCredits + (hotCredits - fundedMinor),
    slicesNetMinor: sliceCredits - sliceDebits,
    slicesFound: slices.length,
  };
}

/**
 * What the keeper carried across shards, per ordered shard pair at [from × shardCount + to]: refills
 * home → k are slice k's credits posted; returns k → home are slice k's debits posted less the hot-debit
 * payments it served (`paidByShard[k]`: the payees on shard k). Every other pair: 0.
 */
export function keeperMovesByPair(group: HotOutboundGroup, states: ReadonlyMap<bigint, AccountBalances>, paidByShard: ArrayLike<number>, shardCount: number): bigint[] {
  const moves = Array.from({ length: shardCount * shardCount }, () => 0n);
  group.slices.forEach((id, shard) => {
    const slice = id === null ? undefined : states.get(id);
    if (slice === undefined) return;
    moves[group.home * shardCount + shard] += slice.creditsPosted;
    moves[shard * shardCount + group.home] += slice.debitsPosted - BigInt(paidByShard[shard]);
  });
  return moves;
}
