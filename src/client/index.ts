// The public entry of `tally-ledger/client`: connect(), the ledger's types and constants, id and amount helpers.
// Everything a caller matches on is re-exported from core so client and server agree by construction.

export { connect, type BalancesAt, type Client, type ConnectOptions } from './client.js';
export type { ClientTls } from './connection.js';
export { newId, newIdOnShardOf } from './ids.js';
export { subscribeChanges, decodeJournalEntry, changeEventsVersion, type ChangeEvent, type ChangesOptions, type Balances } from './changes.js';
export { parseAmount, formatAmount } from './amounts.js';
export { referenceOf, type ReferenceEncoding } from './references.js';
export type { AccountStatement, DayBalances } from './books.js';
export type { DayReport } from '../core/books/day-report.js';
export type { ShardLag, SubjectBalanceRow, TrialBalanceReply, TrialBalanceRow } from '../core/books/books-replies.js';
export type { AdjustmentFilter, AdjustmentInput, AdjustmentWithTransfers, AuditLogPage } from './admin.js';
export type { Adjustment, AdjustmentResult, AdjustmentStatus } from '../core/admin/adjustments.js';
export type { AuditRecord } from '../core/admin/audit-log.js';
export type { SnapshotStatus, SnapshotPhase } from '../core/admin/snapshot-manifest.js';
export type { ReconBatchesFilter, ReconExceptionsFilter, ReconImportInput, ReconUploadReply } from './recon.js';
export type { ReconBatch, ReconBatchFile, ReconBatchStatus, ReconException, ReconExceptionsPage, ReconOutcomeTotal } from '../core/recon/batches.js';
export type { ReconOutcomeName } from '../core/recon/outcomes.js';
export { settlementStatementCsv, settleRunTimeoutMsMin, type SettleMerchantsPage, type SettleStrategiesFilter, type SettleStrategyInput } from './settle.js';
export type {
  SettleBalanceCheck,
  SettleChangeStatus,
  SettleChannelDay,
  SettleMerchantSummary,
  SettlePreviewReply,
  SettleRunFailure,
  SettleRunReply,
  SettleStatement,
  SettleStatementLine,
  SettleStatementPage,
  SettleStatementPageLine,
  SettleStatementPosting,
  SettleStatementRun,
  SettleStatementRunSummary,
  SettleStrategyChange,
} from '../core/wire/settle-bodies.js';
export { settleChangesPageMax, settleMerchantsPageMax, settleStatementLinesPageMax } from '../core/wire/settle-bodies.js';

export type { AccountInput, TransferInput, AccountOperationInput, HistoryFilterInput, EventResult, QueryFilterInput, QueryPage, QueryCursor } from '../core/wire/records.js';
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
  adjustmentTransfersMax,
  adjustmentsPageMax,
  auditPageMax,
  reconChunkBytesMax,
  reconFileBytesMax,
  reconBatchesPageMax,
  reconExceptionsPageMax,
} from '../core/limits.js';
