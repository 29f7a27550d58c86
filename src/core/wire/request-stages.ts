// Issue #14, item 11 inside one request (and 12): one shard applies a request's events in index order, so a later
// event sees what an earlier one did. Across shards the parts run at once and a credit to another shard lands only
// after its part answered: `[A→B 10, B→C 10]` with B no-overdraft and empty answers `ok, ok` on one shard and
// `ok, insufficient_funds` when A and B live apart. The router cuts such a request into stages run one after
// another, each once the credits of the ones before have landed on the shards it touches, so every stage sees the
// earlier events as one shard would (answers, balances, and the order of the histories it writes in).
//
// A stage starts at an event (or linked chain) that depends on an earlier event of the current stage through
// another shard:
// - it pays from an account that cannot overdraw and that an earlier event credited from another shard;
// - it names (post, void, reversal) the id of an earlier event whose debit account lives on another shard than its
//   own (a reversal of a cross-shard transfer; a hold named with the wrong accounts);
// - it credits an account whose credits its own shard judges (credits_must_not_exceed_debits, or marked for the
//   balance-overflow rule: account-directory.ts DirectoryMarks) that an earlier event debited or credited, when
//   either credit comes from another shard (its room is judged before the request runs, from the balances before
//   it; a credit from its own shard is posted there before one from elsewhere lands);
// - it is a linked chain whose debit accounts span shards after other events (the coordinator runs those after the
//   request's other events: staged, it runs in its place), or the event after such chains. Consecutive chains across
//   shards share a stage: the coordinator decides them in one group, in request order, each seeing the ones before
//   it (their credits to other shards are carried in the group: core/chains/prepared-chains.ts).
// A dependency inside one linked chain cannot be cut (a chain is all or nothing); those stay as they are.
// Only the accounts the rules name are looked up, and only while the directory holds an account with the rule:
// requests without such dependencies (every bench workload) run whole, as before.

import { eventBytes } from '../limits.js';
import { TransferLayout } from '../layout.js';
import { shardOfIdAt } from '../routing.js';
import { idKey52At as keyAt } from '../u128.js';
import { AccountFlags, TransferFlags, judgedPayeeFlags, namesReference, transferKindFlags } from '../types.js';

/** What the staging reads of the accounts a request names (the account directory). */
export interface AccountFlagsSource {
  /** The account's AccountFlags, or −1 when unknown. */
  flagsAt(view: DataView, at: number): number;
  /** Whether any account holds one of `flags` (cheap: lets a request skip every lookup). */
  holdsAnyWith(flags: number): boolean;
  /** False when the account at `at` cannot have any of `flags` (cheap, before flagsAt); true: maybe. */
  mayHoldWith(view: DataView, at: number, flags: number): boolean;
}

/**
 * The indexes (ascending, none 0) where a create_transfers `body` must start a new stage to be answered as one shard
 * answers it; empty for nearly every request.
 */
export function stageStartsOf(body: Uint8Array, shardCount: number, accounts: AccountFlagsSource): number[] {
  const eventCount = Math.floor(body.byteLength / eventBytes);
  if (shardCount === 1 || eventCount < 2) return [];
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const stage = new StageTracker(view, shardCount, accounts);
  if (!stage.tracksAny && !anyLinked(view)) return [];
  const starts: number[] = [];
  let stageStart = 0;
  // Whether the current stage holds chains across shards (the coordinator's) or other events: never both.
  let stageOfCrossChains = false;
  for (let first = 0; first < eventCount; ) {
    const last = chainLastOf(view, first, eventCount);
    const crossChain = last > first && spansShards(view, first, last, shardCount);
    if (first > stageStart && (crossChain !== stageOfCrossChains || stage.dependsOn(first, last))) {
      starts.push(first);
      stageStart = first;
      stage.clear();
    }
    stageOfCrossChains = crossChain;
    stage.add(first, last);
    first = last + 1;
  }
  return starts;
}

/** What the events of the current stage did that a later event may depend on. */
class StageTracker {
  readonly #view: DataView;
  readonly #shardCount: number;
  readonly #accounts: AccountFlagsSource;
  /** Whether any account cannot overdraw / has its credits judged by its shard: else the rule needs no bookkeeping. */
  readonly #noOverdraft: boolean;
  readonly #judged: boolean;
  /** Whether the request names any reference: else ids need no bookkeeping. */
  readonly #references: boolean;
  /** Accounts credited from another shard in this stage. */
  readonly #creditedAcross = new Set<number>();
  /** Accounts debited or credited in this stage, and those credited from another shard (kept only while judged payees exist). */
  readonly #touched = new Set<number>();
  readonly #touchedAcross = new Set<number>();
  /** Ids of this stage's events → their debit account's shard. */
  readonly #idShards = new Map<number, number>();

  constructor(view: DataView, shardCount: number, accounts: AccountFlagsSource) {
    this.#view = view;
    this.#shardCount = shardCount;
    this.#accounts = accounts;
    this.#noOverdraft = accounts.holdsAnyWith(AccountFlags.debits_must_not_exceed_credits);
    this.#judged = accounts.holdsAnyWith(judgedPayeeFlags);
    this.#references = anyReference(view);
  }

  /** Whether any rule applies to this request (else only chains across shards can cut it). */
  get tracksAny(): boolean {
    return this.#noOverdraft || this.#judged || this.#references;
  }

  clear(): void {
    this.#creditedAcross.clear();
    this.#touched.clear();
    this.#touchedAcross.clear();
    this.#idShards.clear();
  }

  /** Whether an event of `first..last` depends, through another shard, on an event of the stage before it. */
  dependsOn(first: number, last: number): boolean {
    for (let i = first; i <= last; i++) if (this.#eventDepends(i * eventBytes)) return true;
    return false;
  }

  /** Notes what the events `first..last` do. */
  add(first: number, last: number): void {
    const view = this.#view;
    for (let i = first; i <= last; i++) {
      const at = i * eventBytes;
      const debitAt = at + TransferLayout.debitAccountId;
      const creditAt = at + TransferLayout.creditAccountId;
      // Only no-overdraft payees are noted: one directory probe per event, the shards hashed only for those.
      if (this.#noOverdraft && this.#accounts.mayHoldWith(view, creditAt, AccountFlags.debits_must_not_exceed_credits)) {
        const flags = this.#accounts.flagsAt(view, creditAt);
        if (flags > 0 && (flags & AccountFlags.debits_must_not_exceed_credits) !== 0 && this.#across(debitAt, creditAt)) this.#creditedAcross.add(keyAt(view, creditAt));
      }
      if (this.#judged) {
        this.#touched.add(keyAt(view, debitAt));
        this.#touched.add(keyAt(view, creditAt));
        if (this.#across(debitAt, creditAt)) this.#touchedAcross.add(keyAt(view, creditAt));
      }
      if (this.#references) this.#idShards.set(keyAt(view, at + TransferLayout.id), shardOfIdAt(view, debitAt, this.#shardCount));
    }
  }

  #across(debitAt: number, creditAt: number): boolean {
    return shardOfIdAt(this.#view, debitAt, this.#shardCount) !== shardOfIdAt(this.#view, creditAt, this.#shardCount);
  }

  #eventDepends(at: number): boolean {
    const view = this.#view;
    const debitAt = at + TransferLayout.debitAccountId;
    const creditAt = at + TransferLayout.creditAccountId;
    // Noted only when no-overdraft (add): a key shared by two accounts costs a cut not needed, never a missing one.
    if (this.#creditedAcross.size > 0 && this.#creditedAcross.has(keyAt(view, debitAt))) return true;
    if (this.#idShards.size > 0 && namesReference(view.getUint16(at + TransferLayout.flags, true) & transferKindFlags)) {
      const shard = this.#idShards.get(keyAt(view, at + TransferLayout.pendingId));
      if (shard !== undefined && shard !== shardOfIdAt(view, debitAt, this.#shardCount)) return true;
    }
    if (this.#touched.size > 0 && this.#touched.has(keyAt(view, creditAt))) {
      const flags = this.#accounts.flagsAt(view, creditAt);
      if (flags > 0 && (flags & judgedPayeeFlags) !== 0 && (this.#across(debitAt, creditAt) || this.#touchedAcross.has(keyAt(view, creditAt)))) return true;
    }
    return false;
  }
}

/** The last index of the linked chain starting at `first` (`first` itself for an event not linked; an open chain runs to the end). */
function chainLastOf(view: DataView, first: number, eventCount: number): number {
  let i = first;
  while (i < eventCount - 1 && (view.getUint16(i * eventBytes + TransferLayout.flags, true) & TransferFlags.linked) !== 0) i++;
  return i;
}

/** Whether the debit accounts of events `first..last` live on more than one shard. */
function spansShards(view: DataView, first: number, last: number, shardCount: number): boolean {
  const shard = shardOfIdAt(view, first * eventBytes + TransferLayout.debitAccountId, shardCount);
  for (let i = first + 1; i <= last; i++) if (shardOfIdAt(view, i * eventBytes + TransferLayout.debitAccountId, shardCount) !== shard) return true;
  return false;
}

function anyLinked(view: DataView): boolean {
  for (let at = 0; at + eventBytes <= view.byteLength; at += eventBytes) if ((view.getUint16(at + TransferLayout.flags, true) & TransferFlags.linked) !== 0) return true;
  return false;
}

function anyReference(view: DataView): boolean {
  for (let at = 0; at + eventBytes <= view.byteLength; at += eventBytes) if (namesReference(view.getUint16(at + TransferLayout.flags, true) & transferKindFlags)) return true;
  return false;
}
