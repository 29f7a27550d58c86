// Three number spaces, each with its own type, fixed forever (clients send them, journals store them):
// wire operations (what a client may send), journal entry kinds (what a journal entry can be) and, in
// src/shards, shard control tasks (ShardControl). The batches a client writes are journaled under their wire
// number, so the three write operations are both; every other number belongs to one space only
// (test/unit/core/operations.test.ts checks the relations).

/** Operations a client may send in a request frame (docs/PROTOCOL.md). */
export const WireOperation = {
  create_accounts: 1,
  create_transfers: 2,
  account_operations: 3,
  lookup_accounts: 4,
  lookup_transfers: 5,
  get_account_transfers: 6,
  /** Books and days (bodies and replies: docs/PROTOCOL.md). */
  close_day: 10,
  get_day_report: 11,
  get_balance_at_day: 12,
  get_account_statement: 13,
  get_subject_balances: 14,
  get_trial_balance: 15,
  get_bookkeeping_status: 16,
  /**
   * Operating the ledger (admin scope; bodies and replies: docs/PROTOCOL.md). Numbered apart from the
   * shards' control tasks and day queries (20..39, 255): these never reach a shard as such, but for lookup_ledger_accounts.
   */
  submit_adjustment: 40,
  approve_adjustment: 41,
  reject_adjustment: 42,
  get_adjustments: 43,
  get_audit_log: 44,
  start_snapshot: 45,
  get_snapshot_status: 46,
  /**
   * lookup_accounts that also answers the accounts the ledger opens itself (transit, suspense, slices), which a
   * caller's lookup_accounts answers as unknown. Admin scope; unlike the other admin operations, a read the shards
   * answer (routed as lookup_accounts).
   */
  lookup_ledger_accounts: 47,
  /**
   * Queries (scope read; body a 128-byte QueryFilterLayout, reply a QueryReplyLayout header and rows): transfers
   * by account, user data, ledger or code through the shards' indexes; accounts by the same fields.
   */
  query_transfers: 49,
  query_accounts: 50,
  /**
   * Reconciliation (对账, issue #17; admin scope; bodies and replies: docs/PROTOCOL.md): a channel's statement files
   * uploaded in chunks, imported and matched as one batch, batches and their exceptions read back. Answered by the
   * recon service (src/recon) from its own store, never by a shard; numbered apart from them all the same.
   */
  recon_upload: 51,
  recon_import: 52,
  get_recon_batches: 53,
  get_recon_batch: 54,
  get_recon_exceptions: 55,
  /**
   * Clearing and settlement (清结算, issue #18; admin scope; bodies and replies: docs/PROTOCOL.md): fee strategy
   * changes under maker–checker, a run previewed or posted for a run date, a merchant's statement. Answered by the
   * settle service (src/settle) from its own store and the ledger's closed days; it posts through create_transfers.
   */
  submit_settle_strategy: 56,
  approve_settle_strategy: 57,
  reject_settle_strategy: 58,
  get_settle_strategies: 59,
  settle_preview: 60,
  settle_run: 61,
  get_settle_statement: 62,
} as const;

export type WireOperationName = keyof typeof WireOperation;
/** The first number above every wire operation: unknown today (tests and the fuzzer send it to be refused). */
export const firstUnusedWireOperation = Math.max(...Object.values(WireOperation)) + 1;
export type WireOperationNumber = (typeof WireOperation)[WireOperationName];

/** What a journal entry can be: the u16 `operation` field of its header (core/posting/journal-entry.ts). */
export const JournalEntryKind = {
  /** A caller's batch of the wire operation with the same number. */
  create_accounts: WireOperation.create_accounts,
  create_transfers: WireOperation.create_transfers,
  account_operations: WireOperation.account_operations,
  /** A tick that expires due pending transfers while the shard is idle. */
  expire_pending: 7,
  /** Cross-shard instructions (credits and returns) applied by their receiving shard. */
  apply_inbound: 8,
  /** The day cut (日切). Entries after it belong to the business day in its header. */
  day_cut: 9,
  /**
   * A shard's vote on its part of linked chains that span shards (core/chains/prepared-chains.ts).
   * The caller's events, the dry run's results, where each part's chains end and the group; it moves
   * nothing. The next entry of that shard decides it: the same events re-executed (header flag
   * commitsPrepared) or an abort_chains entry.
   */
  prepare_chains: 17,
  /** The prepared group of the entry before it is abandoned; nothing moves. */
  abort_chains: 18,
  /**
   * The summary postings of hot-inbound accounts (core/hot/hot-inbound.ts): per record, a buffer applied
   * onto creditsPosted, or an automatic mark or un-mark. Written by the shard's ticker.
   */
  apply_hot_inbound: 19,
  /**
   * Moves every account's history nodes buffered since the last flush into runs stored beside the journal
   * (core/accounts/account-history.ts); it moves no money. Written by the shard every --checkpoint-entries
   * entries or --checkpoint-seconds: the state right after it is what a checkpoint captures.
   */
  flush_history: 48,
} as const;

export type JournalEntryKindName = keyof typeof JournalEntryKind;
export type JournalEntryKindNumber = (typeof JournalEntryKind)[JournalEntryKindName];

/**
 * @deprecated Both spaces in one table, kept so that code not yet moved to WireOperation or
 * JournalEntryKind still compiles; new code names the space it means.
 */
export const Operation = { ...WireOperation, ...JournalEntryKind } as const;

/** @deprecated Use WireOperationNumber. */
export type OperationNumber = WireOperationNumber;

/** Operations that change state: journaled, durable before their reply. */
export function isWriteOperation(op: number): boolean {
  return op === WireOperation.create_accounts || op === WireOperation.create_transfers || op === WireOperation.account_operations;
}

/** A number a client may send as its request's operation. */
export function isWireOperation(op: number): op is WireOperationNumber {
  return Number.isInteger(op) && ((op >= 1 && op <= 6) || op === WireOperation.query_transfers || op === WireOperation.query_accounts || isBooksOperation(op) || isAdminOperation(op));
}

/** A number a journal entry's header may carry. */
export function isJournalEntryKind(op: number): op is JournalEntryKindNumber {
  return Number.isInteger(op) && ((op >= 1 && op <= 3) || (op >= 7 && op <= 9) || (op >= 17 && op <= 19) || op === JournalEntryKind.flush_history);
}

/** Operations that run the ledger rather than post to it: adjustments (maker–checker), the audit log, snapshots, reconciliation, settlement. */
export function isAdminOperation(op: number): boolean {
  return (op >= WireOperation.submit_adjustment && op <= WireOperation.lookup_ledger_accounts) || isReconOperation(op) || isSettleOperation(op);
}

/** Settlement's operations (admin scope): strategy changes, runs previewed and posted, statements. */
export function isSettleOperation(op: number): boolean {
  return op >= WireOperation.submit_settle_strategy && op <= WireOperation.get_settle_statement;
}

/** Reconciliation's operations (admin scope): statement uploads and imports, batches and their exceptions. */
export function isReconOperation(op: number): boolean {
  return op >= WireOperation.recon_upload && op <= WireOperation.get_recon_exceptions;
}

/** Reads whose body is a list of ids (16 B each, 1..lookupIdsMax). */
export function isIdLookupOperation(op: number): boolean {
  return op === WireOperation.lookup_accounts || op === WireOperation.lookup_transfers || op === WireOperation.lookup_ledger_accounts;
}

/** Operations on business days and the books: answered by the day books and the bookkeeping shard. */
export function isBooksOperation(op: number): boolean {
  return op >= WireOperation.close_day && op <= WireOperation.get_bookkeeping_status;
}
