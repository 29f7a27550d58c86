// The ledger's nouns as plain data: accounts, transfers, account operations, and their flags.
// Ids and money are bigint (u128 ids, u64 amounts and balances); nothing here is ever a float.

import type { ResultName } from './result-codes.js';

export const AccountFlags = {
  none: 0,
  /** Part of a linked chain with the next event: all post or none. */
  linked: 1 << 0,
  /** No overdraft: debits (posted + pending + frozen) may never exceed posted credits. */
  debits_must_not_exceed_credits: 1 << 1,
  /** The mirror, for debit-normal accounts: credits may never exceed posted debits. */
  credits_must_not_exceed_debits: 1 << 2,
  /**
   * Hot-outbound (缓存预留): the account's money is kept partly in per-shard slice accounts so that its
   * debits are served on the payee's shard (core/hot/hot-outbound.ts; the slice keeper that refills them is
   * src/shards/set/hot-outbound-keeper.ts). Set at creation only (routing of its debits must never change under
   * a retry), and only with debits_must_not_exceed_credits.
   */
  hot_outbound: 1 << 3,
} as const;
export const accountFlagsKnown = 0b1111;

/**
 * Marks the ledger keeps beside an account's AccountFlags (bits callers cannot set: accountFlagsKnown is 0b1111), for
 * the router's balance-overflow rule (issue #14, item 5): a payee so marked has its credits judged by its own shard
 * before `ok`, one request at a time, as a capped payee's are (shards/set/judged-payee-fences.ts).
 */
export const DirectoryMarks = {
  /** A credit balance (posted, pending, or posted with its hot-inbound buffer) reached 2^62: set by the account's shard, kept. */
  creditsHigh: 1 << 6,
  /** A credit of 2^36 or more (or of an amount only its payer's shard knows) is on its way: set and cleared by the router. */
  creditsBig: 1 << 7,
} as const;
export const directoryMarksAll = DirectoryMarks.creditsHigh | DirectoryMarks.creditsBig;
/** Flags of a payee whose credits its own shard judges before `ok` (a capped account, or one marked for overflow). */
export const judgedPayeeFlags = AccountFlags.credits_must_not_exceed_debits | directoryMarksAll;

export const TransferFlags = {
  none: 0,
  linked: 1 << 0,
  /** Two-phase step one: a hold on the amount, optionally expiring after `timeoutSeconds`. */
  pending: 1 << 1,
  /** Posts the pending transfer named by `pendingId`, whole (amount 0) or in part. */
  post_pending: 1 << 2,
  /** Voids the pending transfer named by `pendingId`, releasing its hold. */
  void_pending: 1 << 3,
  /** A new, opposite posting of the posted transfer named by `pendingId` (full or partial). */
  reversal: 1 << 4,
  /** Consumes `amount` of the freeze named by `pendingId` and pays it, in one step. */
  unfreeze_and_pay: 1 << 5,
} as const;
export const transferFlagsKnown = 0b111111;
/**
 * Not a caller's flag. The shard set sets it on a transfer whose id another shard has already taken (ids are unique
 * ledger-wide: core/wire/ids-elsewhere.ts); the shard then answers exists_with_different_fields where one shard
 * would, after its own duplicate check. A caller's event with this bit is made invalid before it reaches a shard
 * (withCallerMarksInvalid), so the bit a shard sees is always the router's.
 */
export const transferIdTakenElsewhere = 1 << 15;
/** A flag no caller's transfer may carry (unknown): set beside a caller's own copy of a router mark (flags_invalid). */
export const transferCallerMarkInvalid = 1 << 14;
/**
 * Not a caller's flag either. The shard set sets it on a post, void, reversal or unfreeze_and_pay whose reference
 * (pendingId) lives on another shard, with the code one shard would answer at that reference's check in the
 * event's amountEffective (zero on input): the event's own shard answers it when it does not hold the reference
 * itself (core/wire/verdicts-elsewhere.ts). Taken off the event before its checks (entry-apply.ts).
 */
export const transferReferenceElsewhere = 1 << 13;
/**
 * The shard set's mark on a transfer whose payee, on another shard, refuses the credit for its balance rule
 * (credits_must_not_exceed_debits): the code in bytes 2..3 of amountEffective (core/posting/verdicts-elsewhere.ts).
 */
export const transferPayeeRefusesElsewhere = 1 << 12;
/**
 * The shard set's mark on an unfreeze_and_pay of a whole freeze to such a payee: the amount is known only here, so its
 * shard sends the room the payee has for credits instead, in the whole amountEffective word (u64).
 */
export const transferPayeeRoomElsewhere = 1 << 11;
/**
 * The shard set's mark on a caller's transfer naming an account the ledger opens itself that exists only with more
 * than one shard — a hot-outbound slice, or a suspense account outside an approved adjustment: its shard answers
 * account_id_invalid where it answers it for a transit account, so the reply is the same at every shard count
 * (core/posting/ledger-accounts-named.ts; issue #14, item 31). Kept on the journal copy: replay and a resend (marked
 * again) answer the same. A caller's own copy of the bit is made flags_invalid (transferCallerMarkInvalid beside it).
 */
export const transferNamesLedgerAccount = 1 << 10;
/** The marks only the shard set may put on a transfer (a caller's copy of one is made flags_invalid). */
export const transferRouterMarks = transferIdTakenElsewhere | transferReferenceElsewhere | transferPayeeRefusesElsewhere | transferPayeeRoomElsewhere;

/**
 * The same mark on an account operation (its u16 flags): an operation id is unique ledger-wide too, and the shard set
 * marks one whose id another shard holds (core/wire/ids-elsewhere.ts, operationIdEvents).
 */
export const accountOperationIdTakenElsewhere = transferIdTakenElsewhere;

/**
 * The same mark as transferReferenceElsewhere on an unfreeze whose freeze lives on another shard (its account named
 * wrongly): no code travels with it, the answer is always accounts_mismatch (verdicts-elsewhere.ts).
 */
export const accountOperationReferenceElsewhere = transferReferenceElsewhere;

/** Whether `flags` (a transfer's or an account operation's) carry the shard set's mark, not a caller's forged copy of it. */
export function isIdTakenElsewhereMark(flags: number): boolean {
  return (flags & (transferIdTakenElsewhere | transferCallerMarkInvalid)) === transferIdTakenElsewhere;
}
/** The flags that choose a transfer's kind: at most one may be set. */
export const transferKindFlags = 0b111110;

/**
 * Kinds whose payee's credit limit is checked before `ok` wherever it lives: a payment, a hold, a reversal, an
 * unfreeze_and_pay. A post or void raises nothing its hold did not.
 */
export function raisesPayeeCredits(kind: number): boolean {
  return kind === 0 || kind === TransferFlags.pending || kind === TransferFlags.reversal || kind === TransferFlags.unfreeze_and_pay;
}

/** An unfreeze_and_pay of the whole freeze (amount 0): how much it pays only the payer's shard knows. */
export function paysWholeFreeze(kind: number, amountZero: boolean): boolean {
  return kind === TransferFlags.unfreeze_and_pay && amountZero;
}

/** Kinds that name a reference in pendingId: the hold (post, void), the original (reversal) or the freeze. */
export function namesReference(kind: number): boolean {
  return kind === TransferFlags.post_pending || kind === TransferFlags.void_pending || kind === TransferFlags.reversal || kind === TransferFlags.unfreeze_and_pay;
}

export const AccountOperationKind = {
  freeze: 1,
  unfreeze: 2,
  block: 3,
  unblock: 4,
  close: 5,
  /** Marks the account hot (flags: credits = hot-inbound, its credits buffered and applied in summary). */
  mark_hot: 6,
  /** Ends a hot mark (flags as mark_hot); a hot-inbound account's buffer is applied first. */
  unmark_hot: 7,
} as const;
export type AccountOperationKindName = keyof typeof AccountOperationKind;

export const AccountOperationFlags = {
  none: 0,
  linked: 1 << 0,
  /** With block/unblock: the debit side (no money out). */
  debits: 1 << 1,
  /** With block/unblock: the credit side (no money in). */
  credits: 1 << 2,
} as const;
export const accountOperationFlagsKnown = 0b111;

export const AccountStatus = {
  active: 1,
  debit_blocked: 2,
  credit_blocked: 3,
  blocked: 4,
  closed: 5,
} as const;
export type AccountStatusName = keyof typeof AccountStatus;

export const TransferStatus = {
  /** Single-phase, post-pending, reversal or unfreeze-and-pay: money moved. */
  posted: 1,
  /** A hold that is still open. */
  pending: 2,
  pending_posted: 3,
  pending_voided: 4,
  pending_expired: 5,
  /** Cross-shard: the credit was refused on the payee's shard and the amount went back (see returnReason). */
  returned: 6,
} as const;
export type TransferStatusName = keyof typeof TransferStatus;

export interface Account {
  id: bigint;
  ledger: number;
  code: number;
  flags: number;
  userData128: bigint;
  userData64: bigint;
  userData32: number;
  /** Assigned by the ledger; zero on input. */
  timestamp: bigint;
}

export interface AccountBalances {
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
  frozen: bigint;
}

export interface AccountState extends Account, AccountBalances {
  status: AccountStatusName;
  /** Hot-inbound: credits are buffered and applied in summary (core/hot/hot-inbound.ts). */
  hotInbound?: boolean;
  /** The hot-inbound mark came from the credit-rate threshold (it ends by itself when the account goes quiet). */
  hotInboundAuto?: boolean;
  /** Credits accepted (durable, answered ok) but not yet applied to creditsPosted, and how many. */
  creditsBuffered?: bigint;
  creditsBufferedCount?: number;
  /** Hot-outbound: money held for its debits in slice accounts on other shards (available = own + this). */
  sliceBalances?: bigint;
}

export interface Transfer {
  id: bigint;
  debitAccountId: bigint;
  creditAccountId: bigint;
  amount: bigint;
  /** The pending transfer (post/void), the original (reversal) or the freeze (unfreeze-and-pay). */
  pendingId: bigint;
  userData128: bigint;
  userData64: bigint;
  userData32: number;
  timeoutSeconds: number;
  ledger: number;
  code: number;
  flags: number;
  /** Assigned by the ledger (the accounting success time, ns since the epoch); zero on input. */
  timestamp: bigint;
}

export interface TransferState extends Transfer {
  status: TransferStatusName;
  /** For a pending transfer: the amount its post moved (0 until posted). */
  amountPosted: bigint;
  /** For a posted transfer: how much reversals have given back so far. */
  amountReversed: bigint;
  /** Status `returned` only: why the payee's shard refused the credit (e.g. account_closed). */
  returnReason?: ResultName;
}

export interface AccountOperation {
  /** The operation's own id; for a freeze it is also the freeze's id. */
  id: bigint;
  accountId: bigint;
  /** For unfreeze: the freeze to release. */
  freezeId: bigint;
  /** Freeze: amount to freeze. Unfreeze: amount to release, 0 for all that remains. */
  amount: bigint;
  userData128: bigint;
  userData64: bigint;
  userData32: number;
  kind: AccountOperationKindName;
  flags: number;
  timestamp: bigint;
}

/** One line of an account's cashflow (流水): the transfer and the account's balances after it. */
export interface AccountHistoryEntry {
  transfer: Transfer;
  balanceAfter: Omit<AccountBalances, 'frozen'>;
}

export interface AccountHistoryFilter {
  accountId: bigint;
  /** Inclusive bounds on the transfer timestamp; 0 means unbounded. */
  timestampMin: bigint;
  timestampMax: bigint;
  limit: number;
  /** Newest first when true. */
  reversed: boolean;
}
