// Operation numbers carried in request frames and journal entries. Fixed forever.

export const Operation = {
  create_accounts: 1,
  create_transfers: 2,
  account_operations: 3,
  lookup_accounts: 4,
  lookup_transfers: 5,
  get_account_transfers: 6,
  /** Journal-only: a tick that expires due pending transfers while the shard is idle. */
  expire_pending: 7,
  /** Journal-only: cross-shard instructions (credits and returns) applied by their receiving shard. */
  apply_inbound: 8,
  /** Journal-only: the day cut (日切). Entries after it belong to the business day in its header. */
  day_cut: 9,
  /** Books and days (bodies and replies: docs/PROTOCOL.md). */
  close_day: 10,
  get_day_report: 11,
  get_balance_at_day: 12,
  get_account_statement: 13,
  get_subject_balances: 14,
  get_trial_balance: 15,
  get_bookkeeping_status: 16,
  /**
   * Journal-only: a shard's vote on its part of linked chains that span shards (core/chains/prepared-chains.ts).
   * The caller's events, the dry run's results, where each part's chains end and the group; it moves
   * nothing. The next entry of that shard decides it: the same events re-executed (header flag
   * commitsPrepared) or an abort_chains entry.
   */
  prepare_chains: 17,
  /** Journal-only: the prepared group of the entry before it is abandoned; nothing moves. */
  abort_chains: 18,
  /**
   * Journal-only: the summary postings of hot-inbound accounts (core/hot/hot-inbound.ts): per record, a
   * buffer applied onto creditsPosted, or an automatic mark or un-mark. Written by the shard's ticker.
   */
  apply_hot_inbound: 19,
  /**
   * Operating the ledger (admin scope; bodies and replies: docs/PROTOCOL.md). Numbered apart from the
   * shards' control tasks (20..29, 255): these never reach a shard as such.
   */
  submit_adjustment: 40,
  approve_adjustment: 41,
  reject_adjustment: 42,
  get_adjustments: 43,
  get_audit_log: 44,
  start_snapshot: 45,
  get_snapshot_status: 46,
} as const;

export type OperationName = keyof typeof Operation;
export type OperationNumber = (typeof Operation)[OperationName];

/** Operations that change state: journaled, durable before their reply. */
export function isWriteOperation(op: number): boolean {
  return op === Operation.create_accounts || op === Operation.create_transfers || op === Operation.account_operations;
}

export function isKnownOperation(op: number): op is OperationNumber {
  return Number.isInteger(op) && ((op >= 1 && op <= 6) || isBooksOperation(op) || isAdminOperation(op));
}

/** Operations that run the ledger rather than post to it: adjustments (maker–checker), the audit log, snapshots. */
export function isAdminOperation(op: number): boolean {
  return op >= Operation.submit_adjustment && op <= Operation.get_snapshot_status;
}

/** Operations on business days and the books: answered by the day books and the bookkeeping shard. */
export function isBooksOperation(op: number): boolean {
  return op >= Operation.close_day && op <= Operation.get_bookkeeping_status;
}
