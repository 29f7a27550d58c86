// Credits answered to no-overdraft accounts and still on their way (issue #14). One shard would let such an
// account spend a credit the moment it was answered; across shards the credit lands a moment later, so a write
// paying from the account waits for it, as a read does (RequestRouting, with TransitRelay.landedOn), instead of
// answering insufficient_funds. Only accounts that cannot overdraw are tracked and waited for: for any other the
// answer does not depend on the credit, and under full load nearly every account has one on its way.
//
// Memory: one entry per such payee with a credit noted and not yet seen landed, pruned as they land; bounded by
// the instructions in flight (transitInstructionsAdmittedMax) plus one pruning interval.

import type { AccountDirectory } from '../../core/accounts/account-directory.js';
import { TransferLayout } from '../../core/layout.js';
import { eventBytes } from '../../core/limits.js';
import { shardOfIdAt } from '../../core/routing.js';
import { InstructionKind, InstructionLayout } from '../../core/transit/transit.js';
import { AccountFlags } from '../../core/types.js';
import { idKey52At as accountKeyAt } from '../../core/u128.js';

/** Notes between two sweeps of entries whose credits all landed. */
const notesPerPrune = 1 << 16;

export class PayerCreditsInFlight {
  readonly #directory: AccountDirectory;
  readonly #shardCount: number;
  /** The highest pair sequence `to` has applied from `from`, as the relay knows it. */
  readonly #appliedThrough: (from: number, to: number) => number;
  /**
   * Payee → per sending shard, the pair sequence of its newest credit noted (0: none), then the payee's own shard.
   * Keyed by 52 bits of the id (a number: no string per event on the request path); two accounts sharing a key
   * only make one wait for the other's credits, never skip a wait.
   */
  readonly #newest = new Map<number, Float64Array>();
  #notesSincePrune = 0;

  constructor(directory: AccountDirectory, shardCount: number, appliedThrough: (from: number, to: number) => number) {
    this.#directory = directory;
    this.#shardCount = shardCount;
    this.#appliedThrough = appliedThrough;
  }

  /** Accounts tracked now (for tests and metrics). */
  get size(): number {
    return this.#newest.size;
  }

  /** Notes the credits among `bytes` (whole instructions, as the relay takes them) that pay no-overdraft accounts. */
  note(bytes: Uint8Array): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at + InstructionLayout.bytes <= bytes.byteLength; at += InstructionLayout.bytes) {
      if (view.getUint16(at + InstructionLayout.kind, true) !== InstructionKind.credit) continue;
      if (!this.#directory.mayHoldWith(view, at + TransferLayout.creditAccountId, AccountFlags.debits_must_not_exceed_credits)) continue;
      const flags = this.#directory.flagsAt(view, at + TransferLayout.creditAccountId);
      if (flags < 0 || (flags & AccountFlags.debits_must_not_exceed_credits) === 0) continue;
      const key = accountKeyAt(view, at + TransferLayout.creditAccountId);
      let newest = this.#newest.get(key);
      if (newest === undefined) {
        this.#newest.set(key, (newest = new Float64Array(this.#shardCount + 1)));
        newest[this.#shardCount] = view.getUint16(at + InstructionLayout.toShard, true);
      }
      const from = view.getUint16(at + InstructionLayout.fromShard, true);
      const pairSeq = view.getUint32(at + InstructionLayout.pairSeq, true) + view.getUint32(at + InstructionLayout.pairSeq + 4, true) * 0x1_0000_0000;
      if (pairSeq > newest[from]!) newest[from] = pairSeq;
      if (++this.#notesSincePrune >= notesPerPrune) this.#prune();
    }
  }

  /**
   * The shards (ascending) of the accounts a transfer body debits that have a credit noted and not yet landed:
   * the request waits for those shards' credits before it starts. Usually none, at no cost when nothing is tracked.
   */
  shardsToAwait(body: Uint8Array): number[] {
    if (this.#newest.size === 0) return [];
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    let shards: Set<number> | null = null;
    for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) {
      const key = accountKeyAt(view, at + TransferLayout.debitAccountId);
      const newest = this.#newest.get(key);
      if (newest === undefined) continue;
      const shard = shardOfIdAt(view, at + TransferLayout.debitAccountId, this.#shardCount);
      if (this.#landed(newest)) this.#newest.delete(key);
      else (shards ??= new Set()).add(shard);
    }
    return shards === null ? [] : [...shards].sort((a, b) => a - b);
  }

  /** Whether every credit noted in `newest` has been applied by its payee's shard. */
  #landed(newest: Float64Array): boolean {
    const to = newest[this.#shardCount]!;
    for (let from = 0; from < this.#shardCount; from++) if (newest[from]! > this.#appliedThrough(from, to)) return false;
    return true;
  }

  /** Forgets the accounts whose noted credits have all landed. */
  #prune(): void {
    this.#notesSincePrune = 0;
    for (const [key, newest] of this.#newest) if (this.#landed(newest)) this.#newest.delete(key);
  }
}
