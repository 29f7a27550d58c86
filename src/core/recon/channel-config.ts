// A channel's reconciliation configuration (issue #17): which statements it sends, in which format and currency,
// which ledger account mirrors it (its clearing account, 内部户), how a statement row's fields map to the standard
// record (statement-row.ts), which keys match a row to our postings, the tolerances, and the strategy table. Read
// from a JSON file (`--recon-channels FILE`); amounts and u128 ids are decimal strings there, exact here.

import type { RowStatus, RowType } from './statement-row.js';

export const channelFormats = ['mt940', 'mt942', 'camt.052', 'camt.053', 'camt.054', 'bai2', 'ofx', 'wechatpay-tradebill', 'alipay-tradebill', 'csv'] as const;
export type ChannelFormat = (typeof channelFormats)[number];

/**
 * Which statement field a key reads, and which ledger field it is compared with. `groupKey` (a camt batch's
 * PmtInfId/MsgId, or a mapped column) keys a lump: one statement row against every posting carrying its value.
 */
export const keyStatementFields = ['merchantOrderNo', 'channelSerialNo', 'refundNo', 'groupKey'] as const;
export const keyLedgerFields = ['user_data_128', 'user_data_64', 'user_data_32', 'id'] as const;
/** How the text becomes a number: first 16 bytes of SHA-256 of the trimmed UTF-8 text, a decimal id, a hex id. */
export const keyEncodings = ['sha256-128', 'decimal', 'hex'] as const;

export interface MatchKey {
  statement: (typeof keyStatementFields)[number];
  ledger: (typeof keyLedgerFields)[number];
  encode: (typeof keyEncodings)[number];
}

/** One statement column read into a field: its header name, a date format, a value map (raw → ours; `*` = any other). */
export interface ColumnRule {
  column: string;
  format?: string;
  map?: Readonly<Record<string, string>>;
}

/** Standard-record fields a column-based format (CSV template, bills) maps. */
export const mappedFields = [
  'transactionTime', 'bookingDate', 'valueDate', 'channelSerialNo', 'merchantOrderNo', 'refundNo', 'payer', 'amount',
  'refundAmount', 'fee', 'currency', 'type', 'status', 'groupKey',
] as const;
export type MappedField = (typeof mappedFields)[number];
export type ColumnMapping = Partial<Record<MappedField, ColumnRule>>;

/** How a CSV template states an amount's direction. */
export type CsvAmountMode =
  /** One signed column (mapping.amount): negative = money out at the channel. */
  | { mode: 'signed' }
  /** Two unsigned columns, one of them filled per row. */
  | { mode: 'debitCredit'; debitColumn: string; creditColumn: string }
  /** An unsigned amount (mapping.amount) and a column whose value says credit or debit. */
  | { mode: 'indicator'; column: string; credit: readonly string[]; debit: readonly string[] };

export interface CsvTemplate {
  separator: string;
  quote: string;
  decimalMark: '.' | ',';
  /** '' when amounts carry none. */
  thousandsSeparator: string;
  /** 1-based line of the header row (lines before it are skipped). */
  headerRow: number;
  /** Rows whose first cell starts with one of these end the detail rows (a footer). */
  footerStartsWith: readonly string[];
  /** Text a channel puts before every value (WeChat's back-tick), taken off once. */
  valuePrefix: string;
  amount: CsvAmountMode;
}

export const strategyActions = ['post_missing_credit', 'post_pending', 'void_pending', 'post_refund', 'post_fee_difference', 'hold'] as const;
export type StrategyAction = (typeof strategyActions)[number];
/** Our side of a row as the matcher saw it. */
export const ourStatuses = ['none', 'posted', 'pending', 'voided', 'expired', 'reversed'] as const;
export type OurStatus = (typeof ourStatuses)[number];

export interface StrategyRule {
  type: RowType | '*';
  ours: OurStatus | '*';
  theirs: RowStatus | '*';
  action: StrategyAction;
  /** Above this amount the action becomes hold; null = no bound. */
  amountMaxMinor: bigint | null;
}

export interface ChannelConfig {
  name: string;
  format: ChannelFormat;
  encoding: 'utf-8' | 'latin1' | 'gb18030';
  /** The channel's account its statements are about (IBAN, :25:, mch_id); null = any. */
  statementAccount: string | null;
  /** ISO 4217 alphabetic; every row must be in it. */
  currency: string;
  ledger: number;
  /** IANA zone the channel's local times are in (Asia/Shanghai). */
  timeZone: string;
  accounts: { clearing: bigint; unidentified: bigint | null; fees: bigint | null };
  /** asset: money in at the channel (credit) is a debit of our clearing account; liability: the reverse. */
  direction: 'asset' | 'liability';
  /** Which date of a row puts it in a business day. */
  businessDay: 'transactionTime' | 'bookingDate' | 'valueDate';
  /** camt: one row per Ntry (entry) or per TxDtls (transaction). */
  granularity: 'entry' | 'transaction';
  /** Column-based formats: columns → fields; null for formats whose fields are fixed (MT940, camt). */
  mapping: ColumnMapping | null;
  /** format csv only. */
  csv: CsvTemplate | null;
  /** Exact keys in priority order (at least one). */
  keys: readonly MatchKey[];
  /** The fallback among rows no key matched: amount and value date, one-to-one where unique both ways. */
  fallback: 'amount+valueDate' | null;
  /** Ledger transfer codes by what they are at the channel. */
  ledgerCodes: { payment: readonly number[]; refund: readonly number[]; fee: readonly number[] };
  tolerance: { amountMinor: bigint; feeMinor: bigint; dateWindowSeconds: number };
  /** Days a ledger row missing at the channel waits in the pending pool before it is an error. */
  pendingDaysMax: number;
  strategies: readonly StrategyRule[];
  checks: { balanceBasis: 'booking' | 'value' };
}

export interface ChannelsFile {
  version: 1;
  channels: readonly ChannelConfig[];
}
