// What the shard set knows of the money in each slice of a hot-outbound account (issue #14, item 24), so that a
// payment routed to a slice is sent only once the slice is known to cover it: one shard would pay it from the
// account as a whole. Exact because the shard set is the only writer of a slice: callers cannot name one
// (ledger-accounts-named.ts), the hot routing debits it, the keeper credits and empties it. A slice's money is
// read at quiet moments (nothing reserved, no grant on its way, nothing settled since the read was asked) and
// then moved only by what the set sees: a payment reserves its amount before it is sent and settles it by its
// result; a grant counts once it has landed; an outcome the set cannot know (a shard failed mid-request) makes the
// slice promise nothing until it is read again. Pure bookkeeping, no I/O (shards/set/hot-outbound-keeper.ts does
// the reading and moving).

import { assert } from '../assert.js';

interface SliceFund {
  /** Money in the slice, as of the results settled (grants counted once landed). */
  available: bigint;
  /** Promised to requests in flight. */
  reserved: bigint;
  /** Grants answered ok at home, in total, and how much of that has landed on the slice. */
  granted: bigint;
  landed: bigint;
  /** False until read, and after an outcome the set could not see: the slice promises nothing then. */
  known: boolean;
  /** Bumped by every change: a read asked before a change is stale. */
  version: number;
  /** Bumped by every settled payment that took money, and every grant counted in: what makes a read too high. */
  spent: number;
}

/** Marks taken before asking for a read of a place (SliceFunds.mark), for learn() and raise(). */
export interface ReadMark {
  version: number;
  spent: number;
}

export class SliceFunds {
  readonly #funds = new Map<bigint, SliceFund>();

  #fund(slice: bigint): SliceFund {
    let fund = this.#funds.get(slice);
    if (fund === undefined) {
      fund = { available: 0n, reserved: 0n, granted: 0n, landed: 0n, known: false, version: 0, spent: 0 };
      this.#funds.set(slice, fund);
    }
    return fund;
  }

  /** A mark to take before asking for a read of the place; learn() and raise() use the read only as it allows. */
  mark(slice: bigint): ReadMark {
    const fund = this.#fund(slice);
    return { version: fund.version, spent: fund.spent };
  }

  /**
   * What a read of the place found (a lookup that waited for every credit answered before it to land), asked at
   * `mark`: taken whole when nothing changed since and nothing is promised or on its way (learn), else as a floor
   * when no money was spent and no grant counted in since (raise: money only the read saw arrived — a caller's
   * credit, a hold voided). Returns whether the place is known now.
   */
  read(slice: bigint, available: bigint, mark: ReadMark): boolean {
    if (this.learn(slice, available, mark.version)) return true;
    const fund = this.#fund(slice);
    if (fund.known && fund.spent === mark.spent && fund.granted === fund.landed && available > fund.available) {
      fund.available = available;
      fund.version++;
    }
    return fund.known;
  }

  /**
   * The slice's available money as read, asked at `version`: taken only when nothing changed since and nothing
   * is reserved or on its way, else the read may miss a settled payment or count a grant twice.
   */
  learn(slice: bigint, available: bigint, version: number): boolean {
    const fund = this.#fund(slice);
    if (fund.version !== version || fund.reserved !== 0n || fund.granted !== fund.landed) return false;
    assert(available >= 0n, `slice ${slice} is a no-overdraft account`);
    fund.available = available;
    fund.known = true;
    fund.version++;
    return true;
  }

  /** Whether the slice's money is known (read, and no outcome unseen since). */
  isKnown(slice: bigint): boolean {
    return this.#funds.get(slice)?.known === true;
  }

  /** What the slice can promise now (0 while it is not known). */
  unreserved(slice: bigint): bigint {
    const fund = this.#funds.get(slice);
    return fund === undefined || !fund.known ? 0n : fund.available - fund.reserved;
  }

  /** Promises `amount` of the slice to a request when it has that much unpromised. */
  reserve(slice: bigint, amount: bigint): boolean {
    assert(amount >= 0n, 'a reservation is not negative');
    if (this.unreserved(slice) < amount) return false;
    const fund = this.#fund(slice);
    fund.reserved += amount;
    fund.version++;
    return true;
  }

  /** Promises whatever the slice has unpromised (a request the slice may not cover whole); returns it. */
  reserveAll(slice: bigint): bigint {
    const amount = this.unreserved(slice);
    if (amount > 0n) this.reserve(slice, amount);
    return amount;
  }

  /** A request holding `reserved` of the slice was answered: `consumed` of it left the slice, the rest is free again. */
  settle(slice: bigint, reserved: bigint, consumed: bigint): void {
    const fund = this.#fund(slice);
    assert(reserved >= 0n && consumed >= 0n && fund.reserved >= reserved, `slice ${slice}: settled only what was reserved`);
    fund.reserved -= reserved;
    fund.available -= consumed;
    fund.version++;
    if (consumed > 0n) fund.spent++;
    // A payment no reservation covered took money the set did not promise (a slice refused less than it held,
    // or more was paid than held): only a read can tell the truth again.
    if (consumed > reserved || fund.available < 0n) fund.known = false;
  }

  /** A request's outcome is unknown (a shard failed under it): its reservation ends, the slice must be read again. */
  unsettled(slice: bigint, reserved: bigint): void {
    this.settle(slice, reserved, 0n);
    this.#fund(slice).known = false;
  }

  /** A grant home → slice was answered ok: its credit is on its way. Returns the total granted, for landedThrough. */
  granted(slice: bigint, amount: bigint): bigint {
    const fund = this.#fund(slice);
    fund.granted += amount;
    fund.version++;
    return fund.granted;
  }

  /** Whether a grant answered to the slice has not been seen landed yet. */
  grantsLanding(slice: bigint): boolean {
    const fund = this.#funds.get(slice);
    return fund !== undefined && fund.granted !== fund.landed;
  }

  /** Total granted so far: once the relay says every credit answered until now landed, landedThrough(this). */
  grantedTotal(slice: bigint): bigint {
    return this.#fund(slice).granted;
  }

  /** Every grant up to `grantedTotal` (a total read before waiting for the relay) has landed on the slice. */
  landedThrough(slice: bigint, grantedTotal: bigint): void {
    const fund = this.#fund(slice);
    if (grantedTotal <= fund.landed) return;
    assert(grantedTotal <= fund.granted, 'only what was granted lands');
    fund.available += grantedTotal - fund.landed;
    fund.landed = grantedTotal;
    fund.version++;
    fund.spent++;
  }
}
