// Byte offsets of Tally's fixed-layout records (little-endian). Client, gateway, shards,
// journal and tests all read this one table; a field never moves once released.

/** Transfer record, 128 bytes: the request event, the journal copy and the lookup/history prefix. */
export const TransferLayout = {
  id: 0, // u128
  debitAccountId: 16, // u128
  creditAccountId: 32, // u128
  amount: 48, // u64: requested amount (0 on post_pending/void_pending/unfreeze_and_pay = whole)
  /** u64, zero on input. The journal copy holds the amount that actually moved (or was held). */
  amountEffective: 56,
  pendingId: 64, // u128: pending transfer, reversed original, or freeze
  userData128: 80, // u128
  userData64: 96, // u64
  userData32: 104, // u32
  timeoutSeconds: 108, // u32
  ledger: 112, // u32
  code: 116, // u16
  flags: 118, // u16
  timestamp: 120, // u64 ns, zero on input, assigned by the ledger
} as const;

/** Lookup-transfer reply entry: transfer record (amount = effective amount) + state, 160 bytes. */
export const TransferStateLayout = {
  status: 128, // u16, TransferStatus
  returnReason: 130, // u16 result code, status `returned` only (else 0)
  amountPosted: 136, // u64
  amountReversed: 144, // u64
  bytes: 160,
} as const;

/** Account-history reply entry: transfer record + the account's balances after it, 160 bytes. */
export const HistoryEntryLayout = {
  debitsPosted: 128,
  creditsPosted: 136,
  debitsPending: 144,
  creditsPending: 152,
  bytes: 160,
} as const;

/** Account record, 128 bytes. Bytes 64..127 must be zero on input; lookups fill them. */
export const AccountLayout = {
  id: 0, // u128
  userData128: 16, // u128
  userData64: 32, // u64
  userData32: 40, // u32
  ledger: 44, // u32
  code: 48, // u16
  flags: 50, // u16
  reserved: 52, // u32, zero
  timestamp: 56, // u64
  debitsPosted: 64, // u64 (output)
  creditsPosted: 72,
  debitsPending: 80,
  creditsPending: 88,
  frozen: 96,
  status: 104, // u16 AccountStatus (output)
  hot: 106, // u16 HotBits (output): hot-inbound, marked automatically
  creditsBufferedCount: 108, // u32 (output): credits accepted to a hot-inbound account, not yet applied
  creditsBuffered: 112, // u64 (output): their sum
  /** u64 (output, hot-outbound accounts): available money held in its slices on other shards. */
  sliceBalances: 120,
  outputStart: 64,
} as const;

/** Account operation record, 128 bytes (freeze, unfreeze, block, unblock, close). */
export const AccountOperationLayout = {
  id: 0, // u128
  accountId: 16, // u128
  freezeId: 32, // u128 (unfreeze)
  amount: 48, // u64
  reserved: 56, // u64, zero
  userData128: 64, // u128
  userData64: 80, // u64
  userData32: 88, // u32
  kind: 92, // u16 AccountOperationKind
  flags: 94, // u16 AccountOperationFlags
  timestamp: 96, // u64, zero on input
  tailStart: 104, // 104..127 reserved, zero
} as const;

/** Account-history filter, the body of get_account_transfers, 64 bytes. */
export const HistoryFilterLayout = {
  accountId: 0, // u128
  timestampMin: 16, // u64, 0 = unbounded
  timestampMax: 24, // u64, 0 = unbounded
  limit: 32, // u32, 1..historyPageMax
  flags: 36, // u32, HistoryFilterFlags
  reservedStart: 40, // 40..63 reserved, zero
  bytes: 64,
} as const;

export const HistoryFilterFlags = {
  /** Newest first. */
  reversed: 1,
} as const;

/**
 * Query filter, the body of query_transfers and query_accounts, 128 bytes (docs/PROTOCOL.md). A zero field
 * filters nothing. query_transfers needs at least one of account_id, user_data_128/64/32, ledger, code: each is
 * indexed, and a query never scans history. Rows come in (timestamp, id) order, oldest first unless reversed;
 * a page continues strictly after the cursor (afterTimestamp, afterId), which a reply hands back.
 */
export const QueryFilterLayout = {
  accountId: 0, // u128: transfers debiting or crediting it (query_transfers only)
  userData128: 16, // u128
  userData64: 32, // u64
  userData32: 40, // u32
  ledger: 44, // u32
  code: 48, // u16
  flagsAll: 50, // u16: TransferFlags (or AccountFlags) that must all be set
  status: 52, // u16: TransferStatus (or AccountStatus); 0 = any
  direction: 54, // u16 QueryDirection, with account_id only
  timestampMin: 56, // u64, 0 = unbounded
  timestampMax: 64, // u64, 0 = unbounded
  afterTimestamp: 72, // u64 cursor: 0 = from the first row
  afterId: 80, // u128 cursor: rows after (afterTimestamp, afterId)
  limit: 96, // u32, 1..queryPageMax
  flags: 100, // u32 QueryFilterFlags
  reservedStart: 104, // 104..127 reserved, zero
  bytes: 128,
} as const;

export const QueryFilterFlags = {
  /** Newest first. */
  reversed: 1,
} as const;

/** Which side of account_id a transfer must be on. */
export const QueryDirection = {
  any: 0,
  debits: 1,
  credits: 2,
} as const;

/**
 * Header of a query reply, 32 bytes, then `count` rows (160-byte transfer states, or 128-byte accounts). When
 * `more` is set the rows may go on: ask again with the cursor (nextTimestamp, nextId). A page can hold fewer
 * rows than its limit and still have more (each call does bounded work); only `more` = 0 says the end.
 */
export const QueryReplyLayout = {
  count: 0, // u32
  more: 4, // u32: 1 = more rows may follow the cursor
  nextTimestamp: 8, // u64
  nextId: 16, // u128
  bytes: 32,
} as const;

/** Per-event result in create replies: u16 result code + u16 detail (e.g. CloseRefusedReason). */
export const resultBytes = 4;

/** Bytes of one id in lookup request bodies. */
export const idBytes = 16;

/** Body of get_balance_at_day: account id u128 @0, day u32 @16, 12 zero bytes. */
export const BalanceAtDayLayout = { accountId: 0, day: 16, bytes: 32 } as const;
/** Body of get_account_statement: account id @0, from day u32 @16, to day u32 @20, limit u32 @24, 4 zero bytes. */
export const StatementLayout = { accountId: 0, fromDay: 16, toDay: 20, limit: 24, bytes: 32 } as const;
/** Statement reply header: opening (dp, cp, dpend, cpend) @0, closing @32, count u32 @64, flags u32 @68 (1 truncated), then 160-byte history entries. */
export const StatementReplyLayout = { opening: 0, closing: 32, count: 64, flags: 68, bytes: 96 } as const;
export const StatementFlags = { truncated: 1 } as const;
