// What the fuzzer sent and what the server answered: every account, transfer and account operation by id
// with each attempt and its outcome, plus the pools the generator draws from (accounts by ledger and role,
// holds, money-moving transfers, freezes, adjustments, days, snapshots). Pure bookkeeping: it never reads
// the server. The generator reads only what was sent (so the requests follow from the seed alone); the
// checker reads the outcomes.

import type { AccountInput, AccountOperationInput, ResultName, TransferInput } from '../../src/client/index.js';
import { AccountFlags, TransferFlags } from '../../src/client/index.js';
import { shardOfId } from '../../src/core/routing.js';

/** An attempt's outcome: a result, refused whole by the gateway (nothing done), unknown (no answer), or not yet answered. */
export type Outcome = ResultName | 'refused' | 'unknown' | 'in-flight';

/** Results after which the ledger does not remember the id as failed: a retry may still post. */
const notRemembered: ReadonlySet<Outcome> = new Set<Outcome>(['ok', 'exists', 'exists_with_different_fields', 'id_invalid', 'linked_event_failed', 'linked_event_chain_open', 'rate_limited']);

export interface Attempt<I> {
  input: I;
  outcome: Outcome;
}

export interface Tracked<I> {
  attempts: Attempt<I>[];
}

/** What an account is for; the generator draws payers and payees by role. */
export type Role = 'bank' | 'customer' | 'merchant' | 'debit-normal' | 'hot' | 'doomed' | 'hostile';

export interface TrackedAccount extends Tracked<Required<AccountInput>> {
  role: Role;
  shard: number;
}

export interface TrackedTransfer extends Tracked<Required<TransferInput>> {
  /** Submitted in an adjustment: posts only if approved. */
  adjustment: boolean;
}

export interface Freeze {
  id: bigint;
  accountId: bigint;
  ledger: number;
}

export interface AdjustmentSent {
  maker: 'opsA' | 'opsB';
  /** The server's id once the submission answered. */
  id: string | null;
  transferIds: bigint[];
  /** The last decision asked for, if any. */
  decided: 'approved' | 'rejected' | null;
}

export function fullAccount(a: AccountInput): Required<AccountInput> {
  return { flags: 0, userData128: 0n, userData64: 0n, userData32: 0, timestamp: 0n, ...a };
}

export function fullTransfer(t: TransferInput): Required<TransferInput> {
  return { pendingId: 0n, userData128: 0n, userData64: 0n, userData32: 0, timeoutSeconds: 0, flags: 0, timestamp: 0n, ...t };
}

export function fullOperation(o: AccountOperationInput): Required<AccountOperationInput> {
  return { freezeId: 0n, amount: 0n, userData128: 0n, userData64: 0n, userData32: 0, flags: 0, timestamp: 0n, ...o };
}

/** Kinds of transfer by their flag (at most one is set on a valid transfer). */
export function transferKind(flags: number): 'single' | 'pending' | 'post' | 'void' | 'reversal' | 'pay-freeze' {
  if (flags & TransferFlags.pending) return 'pending';
  if (flags & TransferFlags.post_pending) return 'post';
  if (flags & TransferFlags.void_pending) return 'void';
  if (flags & TransferFlags.reversal) return 'reversal';
  if (flags & TransferFlags.unfreeze_and_pay) return 'pay-freeze';
  return 'single';
}

export class Model {
  readonly accounts = new Map<bigint, TrackedAccount>();
  readonly transfers = new Map<bigint, TrackedTransfer>();
  readonly operations = new Map<bigint, Tracked<Required<AccountOperationInput>>>();
  /** Per ledger, per role: accounts sent (valid ones), in the order sent. */
  private readonly pools = new Map<number, Map<Role, bigint[]>>();
  /** Accounts sent with the hot_outbound flag. */
  readonly hotAccounts: bigint[] = [];
  /** Derived slice ids created by a caller (slice-squat): the checker judges them as slices, not as accounts. */
  readonly squattedIds = new Set<bigint>();
  /** Transfers sent unlinked and valid: the ones a retry resends. */
  readonly retryable: bigint[] = [];
  readonly accountsRetryable: bigint[] = [];
  /** Holds sent (for posts and voids), and transfers that move money (for reversals). */
  readonly holds: bigint[] = [];
  readonly moved: bigint[] = [];
  readonly freezes: Freeze[] = [];
  readonly adjustments: AdjustmentSent[] = [];
  /** Accounts whose close was answered ok: they must read back closed. */
  readonly closedAcked = new Set<bigint>();
  /** Business days with a report. */
  readonly closedDays: number[] = [];
  /** The business day the last report says began (0 until a day was closed). */
  begunDay = 0;
  /**
   * Days whose close a kill cut short before their report was stored. Rebuilt later, such a report cannot
   * check the transit at the cut: the instructions then in flight were delivered and acknowledged since, and
   * the relay no longer holds them (a documented limit of this version, docs/ARCHITECTURE.md).
   */
  readonly daysCloseCutShort = new Set<number>();
  /** Snapshot directories whose status read `done`, and the one started last. */
  readonly snapshotsDone: string[] = [];
  snapshotRunning: string | null = null;

  constructor(readonly shardCount: number) {}

  shardOf(id: bigint): number {
    return shardOfId(id, this.shardCount);
  }

  // ------------------------------------------------------------------ sending

  sendAccount(input: Required<AccountInput>, role: Role, pooled: boolean): Attempt<Required<AccountInput>> {
    let tracked = this.accounts.get(input.id);
    if (tracked === undefined) {
      tracked = { role, shard: this.shardOf(input.id), attempts: [] };
      this.accounts.set(input.id, tracked);
      if (pooled) this.pool(input.ledger, role).push(input.id);
      if (pooled) this.accountsRetryable.push(input.id);
      if (pooled && (input.flags & AccountFlags.hot_outbound) !== 0) this.hotAccounts.push(input.id);
    }
    return push(tracked, input);
  }

  sendTransfer(input: Required<TransferInput>, options: { retryable: boolean; pooled: boolean; adjustment?: boolean }): Attempt<Required<TransferInput>> {
    let tracked = this.transfers.get(input.id);
    if (tracked === undefined) {
      tracked = { adjustment: options.adjustment ?? false, attempts: [] };
      this.transfers.set(input.id, tracked);
      if (options.retryable) this.retryable.push(input.id);
      const kind = transferKind(input.flags);
      if (options.pooled && kind === 'pending') this.holds.push(input.id);
      if (options.pooled && (kind === 'single' || kind === 'post')) this.moved.push(input.id);
    }
    return push(tracked, input);
  }

  sendOperation(input: Required<AccountOperationInput>, ledger: number | null): Attempt<Required<AccountOperationInput>> {
    let tracked = this.operations.get(input.id);
    if (tracked === undefined) {
      tracked = { attempts: [] };
      this.operations.set(input.id, tracked);
      if (input.kind === 'freeze' && ledger !== null) this.freezes.push({ id: input.id, accountId: input.accountId, ledger });
    }
    return push(tracked, input);
  }

  // ------------------------------------------------------------------ pools

  pool(ledger: number, role: Role): bigint[] {
    let byRole = this.pools.get(ledger);
    if (byRole === undefined) this.pools.set(ledger, (byRole = new Map()));
    let ids = byRole.get(role);
    if (ids === undefined) byRole.set(role, (ids = []));
    return ids;
  }

  /** Accounts of `ledger` in any of `roles`, optionally only those on `shard`. */
  accountsOf(ledger: number, roles: readonly Role[], shard?: number): bigint[] {
    const ids = roles.flatMap((role) => this.pool(ledger, role));
    return shard === undefined ? ids : ids.filter((id) => this.shardOf(id) === shard);
  }

  ledgerOf(accountId: bigint): number | null {
    return this.accounts.get(accountId)?.attempts[0]?.input.ledger ?? null;
  }

  // ------------------------------------------------------------------ outcomes

  /**
   * The first attempt's outcome when it is known and fixes what a retry answers: ok (a retry answers exists)
   * or a failure the ledger remembers. Null when it is unknown or not remembered.
   */
  settledOutcome(tracked: Tracked<unknown> | undefined): ResultName | null {
    const first = tracked?.attempts[0]?.outcome;
    if (first === undefined || first === 'refused' || first === 'unknown' || first === 'in-flight') return null;
    if (first === 'exists') return 'ok';
    return notRemembered.has(first) && first !== 'ok' ? null : first;
  }
}

function push<I>(tracked: Tracked<I>, input: I): Attempt<I> {
  const attempt: Attempt<I> = { input, outcome: 'in-flight' };
  tracked.attempts.push(attempt);
  return attempt;
}

/**
 * What an id's attempts say of its record: it must exist (an attempt answered ok or exists), must not
 * (every attempt was refused or failed: nothing was applied), or may (some outcome is unknown).
 */
export function presence(tracked: Tracked<unknown>): 'must' | 'must-not' | 'may' {
  const outcomes = tracked.attempts.map((a) => a.outcome);
  if (outcomes.some((o) => o === 'ok' || o === 'exists')) return 'must';
  // Every other answer (exists_with_different_fields too) says this attempt applied nothing.
  if (outcomes.every((o) => o !== 'unknown' && o !== 'in-flight')) return 'must-not';
  return 'may';
}
