// The four reads reconciliation makes of the ledger (issue #17), one interface for both places it runs: the CLI
// (`tally recon match`, through the client over the socket) and the server (`recon_import`, straight to the ledger
// service the gateway serves, with the importing caller, encoded and decoded as the client does — or, for the
// history pages of a big day, left as the reply's bytes: LedgerBytesReads).

import { decodeJson, decodeStatement, encodeDay, encodeStatement, type AccountStatement } from '../client/books.js';
import type { DayReport } from '../core/books/day-report.js';
import { historyPageMax } from '../core/limits.js';
import { Operation } from '../core/operations.js';
import type { AccountHistoryEntry, TransferState } from '../core/types.js';
import { decodeHistoryEntries, decodeTransferStates, encodeHistoryFilter, encodeIds, type HistoryFilterInput } from '../core/wire/records.js';
import type { Caller, LedgerService } from '../gateway/ledger-service.js';

export interface LedgerReads {
  getDayReport(day: number): Promise<DayReport | null>;
  getAccountStatement(accountId: bigint, fromDay: number, toDay: number): Promise<AccountStatement | null>;
  getAccountTransfers(filter: HistoryFilterInput): Promise<AccountHistoryEntry[]>;
  lookupTransfers(ids: readonly bigint[]): Promise<TransferState[]>;
}

/**
 * The same reads as the ledger service's reply bytes where rows are built from them (ledger-day.ts
 * readLedgerDayPacked): the statement and history pages are not decoded into transfers.
 */
export interface LedgerBytesReads extends Pick<LedgerReads, 'getDayReport' | 'lookupTransfers'> {
  /** get_account_statement's reply: empty when the account does not exist. */
  statementBytes(accountId: bigint, fromDay: number, toDay: number): Promise<Uint8Array>;
  /** get_account_transfers' reply: history entries. */
  historyBytes(filter: HistoryFilterInput): Promise<Uint8Array>;
}

/** The reads through a ledger service, as `caller` (whose scopes the service checks as for any request). */
export function ledgerReadsOf(service: LedgerService, caller?: Caller): LedgerReads & LedgerBytesReads {
  return {
    statementBytes: (accountId, fromDay, toDay) => service.execute(Operation.get_account_statement, encodeStatement(accountId, fromDay, toDay, historyPageMax), caller),
    historyBytes: (filter) => service.execute(Operation.get_account_transfers, encodeHistoryFilter(filter), caller),
    getDayReport: async (day) => decodeJson<DayReport | null>(await service.execute(Operation.get_day_report, encodeDay(day), caller)),
    getAccountStatement: async (accountId, fromDay, toDay) =>
      decodeStatement(accountId, fromDay, toDay, await service.execute(Operation.get_account_statement, encodeStatement(accountId, fromDay, toDay, historyPageMax), caller)),
    getAccountTransfers: async (filter) => decodeHistoryEntries(await service.execute(Operation.get_account_transfers, encodeHistoryFilter(filter), caller)),
    lookupTransfers: async (ids) => decodeTransferStates(await service.execute(Operation.lookup_transfers, encodeIds(ids), caller)),
  };
}
