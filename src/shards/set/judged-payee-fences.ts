// Credits to judged payees one request at a time (issue #14, items 4 and 5). A payee whose credits its own shard
// judges before `ok` — one with credits_must_not_exceed_debits, or one marked for the balance-overflow rule
// (account-directory.ts DirectoryMarks) — is judged from what that shard has applied. Two requests crediting it at
// the same moment could both be judged before either credit landed, both answered `ok`, and the later credit come
// back `returned`; a credit from the payee's own shard could likewise take the room a judged credit still on its way
// counted on. So a request crediting a judged payee (from any shard) waits until the earlier ones crediting it are
// answered and their credits have landed: the payee's shard then judges each in arrival order, as one shard would.
//
// The overflow marks. Below 2^62 of credits, with every credit on its way under 2^36, no credit can overflow a
// payee (limits.ts creditsHighFrom): such payees run free. A payee is marked when a credit balance reaches 2^62
// (by its shard, kept) or when a request credits it 2^36 or more, or an amount only its payer's shard knows (marked
// here, before that request is judged; cleared once its credits landed and no request waits for the payee). The
// first request to find a payee newly marked first waits for every transfer request that arrived before it (they
// could credit the payee unjudged): from then on each credit to it is judged after all earlier ones landed.
// Requests that credit nobody judged pay one pass over their amounts (the marking), nothing more.

import type { AccountDirectory } from '../../core/accounts/account-directory.js';
import { TransferLayout } from '../../core/layout.js';
import { creditBigFrom, eventBytes } from '../../core/limits.js';
import { shardOfIdAt } from '../../core/routing.js';
import { AccountFlags, DirectoryMarks, TransferFlags, directoryMarksAll, judgedPayeeFlags, paysWholeFreeze, raisesPayeeCredits, transferKindFlags } from '../../core/types.js';
import { idKey52At } from '../../core/u128.js';
import { isZeroU64At } from '../../core/u64-words.js';
import { InstructionKind, InstructionLayout } from '../../core/transit/transit.js';

/** The high u32 word of creditBigFrom (2^36): an amount at or above it in one word read. */
const bigAmountHighWord = Number(creditBigFrom >> 32n);

/**
 * Whether the transfer at `at` of `view` raises the credits of a payee its own shard judges (the directory holds
 * every account's flags and marks), on any shard: a capped payee's for a kind that raises credits, a marked payee's
 * for a post of a hold too (it raises creditsPosted).
 */
export function judgedPayeeAt(directory: AccountDirectory, view: DataView, at: number): boolean {
  return judgedPayeeFlagsAt(directory, view, at) !== 0;
}

/** The payee's flags (with its marks) when judgedPayeeAt holds, else 0: callers that also read the marks probe once. */
function judgedPayeeFlagsAt(directory: AccountDirectory, view: DataView, at: number): number {
  const kind = view.getUint16(at + TransferLayout.flags, true) & transferKindFlags;
  const posts = kind === TransferFlags.post_pending;
  if (!posts && !raisesPayeeCredits(kind)) return 0;
  // One byte of the payee's bucket first: a chain walk only where a judged account may be.
  if (!directory.mayHoldWith(view, at + TransferLayout.creditAccountId, judgedPayeeFlags)) return 0;
  const flags = directory.flagsAt(view, at + TransferLayout.creditAccountId);
  return flags >= 0 && (flags & (posts ? directoryMarksAll : judgedPayeeFlags)) !== 0 ? flags : 0;
}

/** Whether the transfer at `at` credits its payee an amount the overflow rule marks it for (2^36 or more, or unknown). */
function creditsBigAt(view: DataView, at: number): boolean {
  const kind = view.getUint16(at + TransferLayout.flags, true) & transferKindFlags;
  if (kind !== TransferFlags.post_pending && !raisesPayeeCredits(kind)) return false;
  if (view.getUint32(at + TransferLayout.amount + 4, true) >= bigAmountHighWord) return true;
  // A whole freeze pays what the freeze holds, which only its payer's shard knows. A whole hold posted moves the
  // hold's amount, which marked the payee when the hold was made, if big (or its shown pending set creditsHigh).
  return paysWholeFreeze(kind, isZeroU64At(view, at + TransferLayout.amount));
}

/** The judged payees a request credits: keys (52 bits of each id: two sharing one only wait for each other) and their shards. */
export interface JudgedPayees {
  keys: number[];
  shards: number[];
  /** Whether a payee among them is newly marked: the request waits for every one that arrived before it. */
  newlyMarked: boolean;
}

export class JudgedPayeeFences {
  readonly #directory: AccountDirectory | null;
  readonly #shardCount: number;
  /** Payee key → the end of the last request that credits it. */
  readonly #fences = new Map<number, Promise<void>>();
  /** Payees this router marked creditsBig (key → id): cleared once no request crediting them is left. */
  readonly #big = new Map<number, Uint8Array>();
  /** Marked payees already waited for (the first request finding one marked waits for all before it). */
  readonly #known = new Set<number>();

  constructor(directory: AccountDirectory | null, shardCount: number) {
    this.#directory = directory;
    this.#shardCount = shardCount;
  }

  /** Payee keys fenced now (tests, metrics). */
  get size(): number {
    return this.#fences.size;
  }

  /** Payees marked creditsBig now (tests, metrics). */
  get markedBig(): number {
    return this.#big.size;
  }

  /**
   * Marks the payees `body` (create_transfers) credits 2^36 or more, or an amount only the payer's shard knows, before
   * anything of it is judged (payeesOf then finds them). Call before payeesOf and the request's staging.
   */
  markBigCredits(body: Uint8Array): void {
    if (this.#directory === null || this.#shardCount === 1) return;
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) if (creditsBigAt(view, at)) this.#markBig(view, at + TransferLayout.creditAccountId);
  }

  /**
   * The same for the instructions the relay takes (whole, 144 B each): a credit or hold of 2^36 or more marks its
   * payee (those of requests answered before a restart are taken before the set serves: TransitRelay.takeRetained).
   */
  markBigInstructions(bytes: Uint8Array): void {
    if (this.#directory === null || this.#shardCount === 1) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at + InstructionLayout.bytes <= bytes.byteLength; at += InstructionLayout.bytes) {
      const kind = view.getUint16(at + InstructionLayout.kind, true);
      if (kind !== InstructionKind.credit && kind !== InstructionKind.hold) continue;
      const recordAt = at + InstructionLayout.record;
      if (view.getUint32(recordAt + TransferLayout.amountEffective + 4, true) >= bigAmountHighWord) this.#markBig(view, recordAt + TransferLayout.creditAccountId);
    }
  }

  #markBig(view: DataView, idAt: number): void {
    const key = idKey52At(view, idAt);
    if (this.#big.has(key)) return;
    if (!this.#directory!.markAt(view, idAt, DirectoryMarks.creditsBig)) return; // no such payee: refused anyway
    this.#big.set(key, new Uint8Array(view.buffer, view.byteOffset + idAt, 16).slice());
  }

  /** The judged payees `body` (create_transfers) credits, or null when none (or one shard). Synchronous: call before any await. */
  payeesOf(body: Uint8Array): JudgedPayees | null {
    const directory = this.#directory;
    if (directory === null || this.#shardCount === 1 || !directory.holdsAnyWith(judgedPayeeFlags)) return null;
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    // Sets: a request may credit thousands of judged payees (a list's includes would be quadratic).
    let keys: Set<number> | null = null;
    const shards = new Set<number>();
    let newlyMarked = false;
    for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) {
      const flags = judgedPayeeFlagsAt(directory, view, at);
      if (flags === 0) continue;
      const key = idKey52At(view, at + TransferLayout.creditAccountId);
      // Two accounts sharing a key share a fence; each one's shard is waited for, each one's marks count.
      (keys ??= new Set()).add(key);
      shards.add(shardOfIdAt(view, at + TransferLayout.creditAccountId, this.#shardCount));
      if ((flags & directoryMarksAll) !== 0 && !this.#known.has(key)) {
        this.#known.add(key);
        newlyMarked = true;
      }
    }
    return keys === null ? null : { keys: [...keys], shards: [...shards].sort((a, b) => a - b), newlyMarked };
  }

  /**
   * Takes the payees' fences from now (a request arriving later waits for this one; synchronous, before the returned
   * promise resolves), waits for the earlier holders, and returns the release: call it once the request is answered
   * and its credits to them have landed.
   */
  async fence(payees: JudgedPayees): Promise<() => void> {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const earlier = payees.keys.flatMap((key) => this.#fences.get(key) ?? []);
    for (const key of payees.keys) this.#fences.set(key, ended);
    await Promise.all(earlier);
    return () => {
      for (const key of payees.keys) {
        if (this.#fences.get(key) !== ended) continue; // a later request waits for it: still judged
        this.#fences.delete(key);
        this.#unmarkBig(key);
      }
      end();
    };
  }

  /** Every credit to the payee `key` landed and none waits: a creditsBig mark goes (creditsHigh stays, and so it stays known). */
  #unmarkBig(key: number): void {
    const id = this.#big.get(key);
    if (id === undefined) return;
    this.#big.delete(key);
    const view = new DataView(id.buffer);
    this.#directory!.unmarkAt(view, 0, DirectoryMarks.creditsBig);
    if ((this.#directory!.flagsAt(view, 0) & judgedPayeeFlags & ~AccountFlags.credits_must_not_exceed_debits) === 0) this.#known.delete(key);
  }
}
