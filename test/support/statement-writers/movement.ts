// What the statement writers write (issue #17 round trips): a channel's day as a list of simple movements, and the
// statement they belong to. Each writer (one module per format) turns these into the bytes a channel would send,
// with whatever its format needs to be valid and add up (balances, control totals, counts, summaries), so that
// tests can go from a ledger day through the real readers (bytes → rows) instead of hand-built rows.

import { currencyOfCode } from '../../../src/core/currencies.js';

export type MovementStatus = 'success' | 'pending' | 'failed';

export interface Movement {
  /** Our reference as the channel echoes it (order number, EndToEndId, customer reference); the key's text. */
  reference: string;
  /** The channel's own id of the movement (bank reference, 微信订单号, FITID). */
  serial: string;
  /** A refund's id at the channel ('' when none; only formats that carry one write it). */
  refundNo: string;
  /** Minor units of the statement's currency, > 0: the direction carries the sign. */
  amountMinor: bigint;
  /** Money into our account at the channel (credit) or out of it (debit). */
  direction: 'credit' | 'debit';
  /** The channel's fee on the movement, ≥ 0 (formats without a fee column require 0). */
  feeMinor: bigint;
  status: MovementStatus;
  type: 'payment' | 'refund';
  /** Local time of day 'HH:MM:SS' on the statement's date, in the channel's zone. */
  time: string;
  /** 'YYYY-MM-DD' the money is value-dated (formats with a value date write it; it may precede the statement's date). */
  valueDate: string;
}

export interface StatementSpec {
  /** The statement's day, 'YYYY-MM-DD'. */
  date: string;
  /** The channel's account the statement is about (IBAN, account number, mch_id, Alipay account). */
  account: string;
  /** ISO 4217 alphabetic code; amounts are minor units at its scale. */
  currency: string;
  /** Signed balance before the day's movements (bank formats state it; bills do not). */
  openingMinor: bigint;
}

/** A file as a channel sends it. */
export interface WrittenFile {
  name: string;
  bytes: Uint8Array;
}

/** The fields of the standard row a reader must make of a movement (what the writer meant, for round-trip checks). */
export interface ReadsAs {
  merchantOrderNo: string;
  channelSerialNo: string;
  refundNo: string;
  amountMinor: bigint;
  direction: 'credit' | 'debit';
  feeMinor: bigint;
  status: string;
  type: string;
  /** yyyymmdd, 0 when the format states none. */
  bookingDate: number;
  valueDate: number;
}

export function scaleOf(currency: string): number {
  const known = currencyOfCode(currency);
  if (known === undefined) throw new Error(`no currency ${currency}`);
  return known.scale;
}

/** Minor units as decimal text at `scale` (`1234,56`, `1234.`, `-0.05`), exactly: bigint digits, never a float. */
export function decimalText(minor: bigint, scale: number, mark: '.' | ',' = '.', options: { group?: string; markWhenWhole?: boolean } = {}): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const grouped = options.group === undefined || options.group === '' ? whole : whole.replace(/\B(?=([0-9]{3})+$)/g, options.group);
  const fraction = scale === 0 ? (options.markWhenWhole === true ? mark : '') : `${mark}${digits.slice(digits.length - scale)}`;
  return `${negative ? '-' : ''}${grouped}${fraction}`;
}

/** 'YYYY-MM-DD' → its parts. */
export function dateParts(date: string): { year: string; month: string; day: string } {
  const match = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(date);
  if (match === null) throw new Error(`no date ${date}`);
  return { year: match[1]!, month: match[2]!, day: match[3]! };
}

/** YYMMDD (SWIFT, BAI2). */
export function yymmdd(date: string): string {
  const { year, month, day } = dateParts(date);
  return `${year.slice(2)}${month}${day}`;
}

/** yyyymmdd as a number (the standard row's dates). */
export function dateNumberOf(date: string): number {
  const { year, month, day } = dateParts(date);
  return Number(year) * 10_000 + Number(month) * 100 + Number(day);
}

/** The signed sum of movements as the account books them (credits add, debits take away); pending and failed ones moved nothing. */
export function bookedNet(movements: readonly Movement[]): bigint {
  return movements.filter((m) => m.status === 'success').reduce((sum, m) => sum + (m.direction === 'credit' ? m.amountMinor : -m.amountMinor), 0n);
}

export function sumOf(movements: readonly Movement[], pick: (m: Movement) => bigint): bigint {
  return movements.reduce((sum, m) => sum + pick(m), 0n);
}

/** Refuses what a format cannot state: a writer asked for it was called by a test that forgot the format's limits. */
export function requireThat(condition: boolean, message: string): void {
  if (!condition) throw new Error(`statement writer: ${message}`);
}

/** Decimal text as banks vary it: `exact` at the currency's scale, `trimmed` of trailing zeros (and of a bare mark), `padded` with zeros past it. */
export type DecimalStyle = 'exact' | 'trimmed' | 'padded';

export function styledDecimal(minor: bigint, scale: number, style: DecimalStyle, mark: '.' | ',' = '.'): string {
  const exact = decimalText(minor, scale, mark);
  if (style === 'padded') return scale === 0 ? `${exact}${mark}000` : `${exact}000`;
  if (style === 'trimmed' && scale > 0) return exact.replace(/0+$/, '').replace(new RegExp(`\\${mark}$`), '');
  return exact;
}
