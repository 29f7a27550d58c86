// A bank's CSV export written from movements by a channel's column template (src/recon/csv-template-reader.ts and
// core/recon/rows-from-columns.ts read it): free-text lines before the header row (one with a stray quote, which the
// reader must skip unparsed), the header, a row per movement, a closing-balance footer. The template decides the
// separator, the decimal mark and thousands separator, the value prefix and how an amount states its direction
// (signed, debit/credit columns, or an indicator column); cells holding the separator or the quote are quoted.
// Columns are those `csvMappingOf` maps for a test's channel: booking and value date, the local time, the bank's
// reference, ours, the refund's id, the counterparty, type and status words, the fee and the currency.

import type { CsvTemplate } from '../../../src/core/recon/channel-config.js';
import { bookedNet, dateNumberOf, decimalText, scaleOf, type Movement, type ReadsAs, type StatementSpec, type WrittenFile } from './movement.js';

export interface CsvOptions {
  /** How a signed amount writes a negative: `-12,50`, `12,50-` or `(12,50)`. */
  negative: 'minus' | 'trailing' | 'parentheses';
  encoding: 'utf-8' | 'latin1';
  /** A counterparty holding the separator and quotes (quoted cells, the strict parser) or plain text (the fast one). */
  quotedPayer: boolean;
  /** How the booking and value dates are written (the channel's mapping names the same format). */
  dateFormat: 'dd.MM.yyyy' | 'yyyy-MM-dd' | 'MM/dd/yyyy' | 'yyyyMMdd';
}

/** The transaction time's column format: an ISO-like local time (T is a literal of date formats). */
const timeFormat = 'yyyy-MM-ddTHH:mm:ss';

const statusWords = { success: 'GEBUCHT', pending: 'VORGEMERKT', failed: 'STORNIERT', refunded: 'ERSTATTET' } as const;
const typeWords = { payment: 'Zahlung', refund: 'Erstattung' } as const;

/** The channel mapping (JSON, as in a channels file) of the columns this writer writes for a template and options. */
export function csvMappingOf(template: CsvTemplate, options: CsvOptions): Record<string, unknown> {
  return { ...csvMapping, ...amountMapping(template), bookingDate: { column: 'Buchungstag', format: options.dateFormat }, valueDate: { column: 'Valuta', format: options.dateFormat } };
}

const csvMapping = {
  transactionTime: { column: 'Zeitpunkt', format: timeFormat },
  channelSerialNo: 'Bankreferenz',
  merchantOrderNo: 'Verwendungszweck',
  refundNo: 'Erstattungsnummer',
  payer: 'Empfänger/Zahlungspflichtiger',
  fee: 'Gebühr',
  currency: 'Währung',
  type: { column: 'Art', map: { [typeWords.payment]: 'payment', [typeWords.refund]: 'refund' } },
  status: { column: 'Status', map: { [statusWords.success]: 'success', [statusWords.pending]: 'pending', [statusWords.failed]: 'failed', [statusWords.refunded]: 'refund' } },
} as const;

/** The mapping's amount column for a template's mode (debit/credit columns are the template's own). */
function amountMapping(template: CsvTemplate): { amount?: string } {
  if (template.amount.mode === 'debitCredit') return {};
  return { amount: template.amount.mode === 'indicator' ? 'Umsatz' : 'Betrag' };
}

/** The amount columns a template's mode reads (the indicator mode's are `Umsatz` and `Soll/Haben`, S debit, H credit). */
function amountColumns(template: CsvTemplate): string[] {
  if (template.amount.mode === 'debitCredit') return [template.amount.debitColumn, template.amount.creditColumn];
  if (template.amount.mode === 'indicator') return ['Umsatz', template.amount.column];
  return ['Betrag'];
}

const statusWord = (m: Movement): string => (m.type === 'refund' && m.status === 'success' ? statusWords.refunded : statusWords[m.status]);
/** 'YYYY-MM-DD' in a date format of yyyy, MM and dd. */
const formatted = (date: string, format: string): string => format.replace('yyyy', date.slice(0, 4)).replace('MM', date.slice(5, 7)).replace('dd', date.slice(8, 10));

function amountText(minor: bigint, spec: StatementSpec, template: CsvTemplate): string {
  return decimalText(minor, scaleOf(spec.currency), template.decimalMark, { group: template.thousandsSeparator });
}

function signedText(minor: bigint, spec: StatementSpec, template: CsvTemplate, options: CsvOptions): string {
  const size = amountText(minor < 0n ? -minor : minor, spec, template);
  if (minor >= 0n) return size;
  return options.negative === 'minus' ? `-${size}` : options.negative === 'trailing' ? `${size}-` : `(${size})`;
}

/** The amount cells of a row in the template's mode. */
function amountCells(m: Movement, spec: StatementSpec, template: CsvTemplate, options: CsvOptions): string[] {
  const size = amountText(m.amountMinor, spec, template);
  const mode = template.amount;
  if (mode.mode === 'debitCredit') return m.direction === 'debit' ? [`-${size}`, ''] : ['', size];
  if (mode.mode === 'indicator') return [size, m.direction === 'credit' ? mode.credit[0]! : mode.debit[0]!];
  return [signedText(m.direction === 'credit' ? m.amountMinor : -m.amountMinor, spec, template, options)];
}

function cell(text: string, template: CsvTemplate, prefixed: boolean): string {
  const value = prefixed ? `${template.valuePrefix}${text}` : text;
  const quoted = value.includes(template.separator) || value.includes(template.quote) || /[\r\n]/.test(value);
  return quoted ? `${template.quote}${value.split(template.quote).join(template.quote + template.quote)}${template.quote}` : value;
}

export function writeCsv(movements: readonly Movement[], spec: StatementSpec, template: CsvTemplate, options: CsvOptions): WrittenFile[] {
  const header = ['Buchungstag', 'Valuta', 'Zeitpunkt', 'Bankreferenz', 'Verwendungszweck', 'Erstattungsnummer', 'Empfänger/Zahlungspflichtiger', 'Art', 'Status', ...amountColumns(template), 'Gebühr', 'Währung'];
  const line = (cells: readonly string[], prefixed: boolean) => cells.map((text) => cell(text, template, prefixed)).join(template.separator);
  const rows = movements.map((m) => line([
    formatted(spec.date, options.dateFormat), formatted(m.valueDate, options.dateFormat), `${spec.date}T${m.time}`, m.serial, m.reference, m.refundNo, options.quotedPayer ? 'Müller; "Hans" & Söhne' : 'Müller und Söhne', typeWords[m.type], statusWord(m),
    ...amountCells(m, spec, template, options), amountText(m.feeMinor, spec, template), spec.currency,
  ], true));
  // Free text before the header: the reader skips these lines unparsed, stray quote and all.
  const preamble = [`Umsätze Girokonto;"${spec.account}`, `Zeitraum: ${formatted(spec.date, options.dateFormat)} - ${formatted(spec.date, options.dateFormat)}`, 'Alle Beträge in der Kontowährung'].slice(0, template.headerRow - 1);
  while (preamble.length < template.headerRow - 1) preamble.push('');
  const closing = signedText(spec.openingMinor + bookedNet(movements), spec, template, { ...options, negative: 'minus' });
  const footer = line([template.footerStartsWith[0] ?? 'Kontostand', formatted(spec.date, options.dateFormat), closing, spec.currency], false);
  const text = [...preamble, line(header, false), ...rows, '', ...(template.footerStartsWith.length > 0 ? [footer] : []), ''].join('\r\n');
  return [{ name: `${spec.account}-${spec.date}.csv`, bytes: Buffer.from(text, options.encoding === 'latin1' ? 'latin1' : 'utf8') }];
}

/** What the template's mapping makes of a row: type and status by their words (ERSTATTET a refund done). */
export function csvReadsAs(m: Movement, spec: StatementSpec): ReadsAs {
  return {
    bookingDate: dateNumberOf(spec.date), valueDate: dateNumberOf(m.valueDate),
    merchantOrderNo: m.reference, channelSerialNo: m.serial, refundNo: m.refundNo, amountMinor: m.amountMinor, direction: m.direction,
    feeMinor: m.feeMinor, status: m.type === 'refund' && m.status === 'success' ? 'refund' : m.status, type: m.type,
  };
}
