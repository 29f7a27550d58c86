// Checked MT940/MT942 statements (mt940.ts) as standard rows (statement-row.ts), one per :61: entry (issue #17).
// RC (reversal of a credit) books as a debit and RD as a credit, as the balances count them. Entries of 0,00 (Citi's
// BAI information lines) move no money: they are left out and counted. Keys are not derived here (row-keys).

import { dateNumberOfLocal, isPossibleLocalTime, type LocalTime } from './local-time.js';
import type { SwiftEntry, SwiftStatement } from './mt940.js';
import type { StatementProblem } from './statement-report.js';
import type { RowType, StatementRow } from './statement-row.js';

export interface SwiftRows {
  rows: StatementRow[];
  /** Entries of no amount, left out. */
  skipped: number;
  problems: StatementProblem[];
}

/** The last three letters of a :61: type code (`NTRF`, `FCHG`) as a row type; S-codes (SWIFT message types) are other. */
const typeOfCode: Readonly<Record<string, RowType>> = { CHG: 'fee', COM: 'fee', INT: 'interest', RTI: 'return' };

export function rowsFromSwift(statements: readonly SwiftStatement[], file: string): SwiftRows {
  const out: SwiftRows = { rows: [], skipped: 0, problems: [] };
  for (const statement of statements) {
    const key = statementKeyOf(statement);
    for (const entry of statement.entries) {
      if (entry.amountMinor === 0n) out.skipped++;
      else {
        const row = rowOf(entry, statement, key, file, out.problems);
        if (row !== null) out.rows.push(row);
      }
    }
  }
  return out;
}

/** `:25:/:28C:/60F date` (yyyymmdd); an MT942 report, which has no opening, by its :20: reference instead. */
function statementKeyOf(statement: SwiftStatement): string {
  const opening = statement.opening === null ? null : swiftDate(statement.opening.date);
  const third = opening === null ? statement.reference : String(dateNumberOfLocal(opening));
  return `${statement.account}/${statement.sequence}/${third}`;
}

function rowOf(entry: SwiftEntry, statement: SwiftStatement, statementKey: string, file: string, problems: StatementProblem[]): StatementRow | null {
  const locator = `${file}:${entry.line} :61:`;
  const value = swiftDate(entry.valueDate);
  const booking = value === null || entry.entryDate === null ? value : entryDate(entry.entryDate, value);
  if (value === null || booking === null) {
    problems.push({ code: 'format', locator, message: `no such date: value date ${entry.valueDate}${entry.entryDate === null ? '' : `, entry date ${entry.entryDate}`}` });
    return null;
  }
  const credit = entry.mark === 'C' || entry.mark === 'RD';
  const info = entry.info.replace(/\n/g, '');
  return {
    rowNo: 0,
    locator,
    statementKey,
    channelSerialNo: entry.bankRef,
    merchantOrderNo: entry.customerRef !== 'NONREF' ? entry.customerRef : infoField(info, 'EREF'),
    refundNo: '',
    transactionTimeMs: null,
    bookingDate: dateNumberOfLocal(booking),
    valueDate: dateNumberOfLocal(value),
    payer: infoField(info, 'NAME'),
    amountMinor: entry.amountMinor,
    direction: credit ? 'credit' : 'debit',
    feeMinor: 0n,
    currency: statement.currency,
    type: swiftType(entry.typeCode, credit),
    typeRaw: entry.typeCode,
    status: 'success',
    statusRaw: '',
    reversal: entry.mark === 'RC' || entry.mark === 'RD',
    groupKey: '',
    key128: 0n,
  };
}

function swiftType(code: string, credit: boolean): RowType {
  if (code.startsWith('S')) return 'other';
  const letters = code.slice(1);
  if (letters === 'TRF') return credit ? 'transfer_in' : 'transfer_out';
  return typeOfCode[letters] ?? 'other';
}

/** YYMMDD as a date of the 2000s; null when there is no such day. */
function swiftDate(text: string): LocalTime | null {
  const time = { year: 2000 + Number(text.slice(0, 2)), month: Number(text.slice(2, 4)), day: Number(text.slice(4, 6)), hour: 0, minute: 0, second: 0 };
  return isPossibleLocalTime(time) ? time : null;
}

/** The :61: entry date (MMDD) in the year that puts it nearest its value date (a December value date, a January entry). */
function entryDate(text: string, value: LocalTime): LocalTime | null {
  const month = Number(text.slice(0, 2));
  const year = month - value.month > 6 ? value.year - 1 : value.month - month > 6 ? value.year + 1 : value.year;
  const time = { year, month, day: Number(text.slice(2, 4)), hour: 0, minute: 0, second: 0 };
  return isPossibleLocalTime(time) ? time : null;
}

/** A `/TAG/value` field of structured :86: text (`/EREF/…/NAME/…`): up to the next `/TAG/`; `NOTPROVIDED` is none. */
function infoField(info: string, tag: string): string {
  const match = new RegExp(`/${tag}/(.*?)(?=/[A-Z]{2,4}/|/?$)`).exec(info);
  const value = match === null ? '' : match[1]!.trim();
  return value === 'NOTPROVIDED' ? '' : value;
}
