// The standard record of reconciliation (issue #17): one money movement as a channel states it, whatever the
// format it came in (MT940 :61:, camt Ntry/TxDtls, a bill's row, a CSV template's line). Every reader produces
// these; the matcher (matcher.ts) compares them with the ledger's own postings. Amounts are exact minor units at
// the channel's currency scale, never negative: `direction` carries the sign as the channel books it.

/** Money into our account at the channel (credit) or out of it (debit), as the channel books it. */
export type RowDirection = 'credit' | 'debit';

export const rowTypes = ['payment', 'refund', 'fee', 'return', 'transfer_in', 'transfer_out', 'interest', 'other'] as const;
export type RowType = (typeof rowTypes)[number];

export const rowStatuses = ['success', 'refund', 'pending', 'failed', 'closed', 'reversed', 'info'] as const;
export type RowStatus = (typeof rowStatuses)[number];

export interface StatementRow {
  /** 1-based order of the row in its batch (all files of one run, in the order given). */
  rowNo: number;
  /** Where the row is in its file: `bill.csv:14`, `stmt.xml:88 Ntry 5`, `file.sta:14 :61:`. */
  locator: string;
  /** The statement the row belongs to (account, sequence, period); rows of one statement share it. */
  statementKey: string;
  /** The channel's own id of the movement (微信订单号, camt AcctSvcrRef+NtryRef, MT940 bank reference). */
  channelSerialNo: string;
  /** Our reference as the channel echoes it (商户订单号, camt EndToEndId, MT940 customer reference). */
  merchantOrderNo: string;
  /** A refund's id at the channel ('' when none). */
  refundNo: string;
  /** When the movement happened, ms since the epoch (UTC), local times read in the channel's time zone; null if the format has none. */
  transactionTimeMs: number | null;
  /** Booking and value dates as yyyymmdd (0 when the format has none). */
  bookingDate: number;
  valueDate: number;
  /** Counterparty as stated (name, account or user id), '' when none. */
  payer: string;
  amountMinor: bigint;
  direction: RowDirection;
  feeMinor: bigint;
  /** ISO 4217 alphabetic code. */
  currency: string;
  type: RowType;
  typeRaw: string;
  status: RowStatus;
  statusRaw: string;
  /** The channel marks the row as the reversal of an earlier one (camt RvslInd, MT940 RC/RD). */
  reversal: boolean;
  /** The lump a grouped row belongs to (camt batch id), '' when none. */
  groupKey: string;
  /** The matching key derived from the row by the channel's configuration (row-keys); 0n = none. */
  key128: bigint;
}

/** yyyymmdd from 'YYYY-MM-DD' (or its first 10 characters); 0 when the text is no such date. */
export function dateNumber(text: string): number {
  const match = /^([0-9]{4})-([0-9]{2})-([0-9]{2})/.exec(text);
  return match === null ? 0 : Number(match[1]) * 10_000 + Number(match[2]) * 100 + Number(match[3]);
}
