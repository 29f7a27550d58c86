// Credits to capped payees one request at a time (issue #14, item 4 under concurrency). A payee with
// credits_must_not_exceed_debits on another shard is judged by its shard before `ok` (verdicts-elsewhere-check.ts),
// from what that shard has applied. Two requests crediting it at the same moment could both be judged before either
// credit landed, both answered `ok`, and the later credit come back `returned`; a credit from the payee's own shard
// could likewise take the room a judged credit still on its way counted on. So a request crediting a capped payee
// (from any shard) waits until the earlier ones crediting it are answered and their credits have landed: the
// payee's shard then judges each in arrival order, as one shard would. Only capped payees, which the directory
// names (and while none exists, no transfer pays a thing for this).

import type { AccountDirectory } from '../../core/accounts/account-directory.js';
import { TransferLayout } from '../../core/layout.js';
import { eventBytes } from '../../core/limits.js';
import { shardOfIdAt } from '../../core/routing.js';
import { AccountFlags, raisesPayeeCredits, transferKindFlags } from '../../core/types.js';
import { idKey52At } from '../../core/u128.js';

/**
 * Whether the transfer at `at` of `view` raises the credits of an account with credits_must_not_exceed_debits (the
 * directory holds every account's flags), on any shard.
 */
export function creditsCappedPayeeAt(directory: AccountDirectory, view: DataView, at: number): boolean {
  if (!raisesPayeeCredits(view.getUint16(at + TransferLayout.flags, true) & transferKindFlags)) return false;
  // One byte of the payee's bucket first: a chain walk only where a capped account may be.
  if (!directory.mayHoldWith(view, at + TransferLayout.creditAccountId, AccountFlags.credits_must_not_exceed_debits)) return false;
  const flags = directory.flagsAt(view, at + TransferLayout.creditAccountId);
  return flags >= 0 && (flags & AccountFlags.credits_must_not_exceed_debits) !== 0;
}

/** The capped payees a request credits: keys (52 bits of each id: two sharing one only wait for each other) and their shards. */
export interface CappedPayees {
  keys: number[];
  shards: number[];
}

export class CappedPayeeFences {
  readonly #directory: AccountDirectory | null;
  readonly #shardCount: number;
  /** Payee key → the end of the last request that credits it. */
  readonly #fences = new Map<number, Promise<void>>();

  constructor(directory: AccountDirectory | null, shardCount: number) {
    this.#directory = directory;
    this.#shardCount = shardCount;
  }

  /** Payee keys fenced now (tests, metrics). */
  get size(): number {
    return this.#fences.size;
  }

  /** The capped payees `body` (create_transfers) raises the credits of, or null when none (or one shard). */
  payeesOf(body: Uint8Array): CappedPayees | null {
    const directory = this.#directory;
    if (directory === null || this.#shardCount === 1 || !directory.holdsAnyWith(AccountFlags.credits_must_not_exceed_debits)) return null;
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    let found: CappedPayees | null = null;
    for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) {
      if (!creditsCappedPayeeAt(directory, view, at)) continue;
      found ??= { keys: [], shards: [] };
      const key = idKey52At(view, at + TransferLayout.creditAccountId);
      if (!found.keys.includes(key)) found.keys.push(key);
      const shard = shardOfIdAt(view, at + TransferLayout.creditAccountId, this.#shardCount);
      if (!found.shards.includes(shard)) found.shards.push(shard);
    }
    return found;
  }

  /**
   * Takes the payees' fences from now (a request arriving later waits for this one), waits for the earlier holders,
   * and returns the release: call it once the request is answered and its credits to them have landed.
   */
  async fence(payees: CappedPayees): Promise<() => void> {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const earlier = payees.keys.flatMap((key) => this.#fences.get(key) ?? []);
    for (const key of payees.keys) this.#fences.set(key, ended);
    await Promise.all(earlier);
    return () => {
      for (const key of payees.keys) if (this.#fences.get(key) === ended) this.#fences.delete(key);
      end();
    };
  }
}
