// The public entry of `tally-ledger/client`: connect(), the ledger's types and constants, id and amount helpers.
// Everything a caller matches on is re-exported from core so client and server agree by construction.

export { connect, type Client, type ConnectOptions } from './client.js';
export { newId, newIdOnShardOf } from './ids.js';
export { parseAmount, formatAmount } from './amounts.js';
export type { AccountStatement, DayBalances } from './books.js';
export type { DayReport } from '../core/day-report.js';
export type { ShardLag, SubjectBalanceRow } from '../core/books-replies.js';

export type { AccountInput, TransferInput, AccountOperationInput, HistoryFilterInput, EventResult } from '../core/records.js';
export {
  AccountFlags,
  TransferFlags,
  AccountOperationKind,
  AccountOperationFlags,
  AccountStatus,
  TransferStatus,
  type Account,
  type AccountBalances,
  type AccountState,
  type AccountStatusName,
  type Transfer,
  type TransferState,
  type TransferStatusName,
  type AccountOperation,
  type AccountOperationKindName,
  type AccountHistoryEntry,
  type AccountHistoryFilter,
} from '../core/types.js';
export { ResultCode, resultName, CloseRefusedReason, type ResultName, type CloseRefusedReasonName } from '../core/result-codes.js';
export { TallyError, ErrorCode, type ErrorCodeName } from '../core/errors.js';
export {
  batchEventsMax,
  lookupIdsMax,
  historyPageMax,
  amountMax,
  idMax,
  clientTimeoutMsDefault,
  clientTimeoutMsMax,
  clientFramesQueuedMax,
  amountScaleMax,
} from '../core/limits.js';
