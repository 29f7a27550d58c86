// Checked camt.052/053/054 statements (camt.ts) as standard rows (statement-row.ts), issue #17. Granularity `entry`:
// one row per Ntry (a batch booked as one sum stays one row, its batch id the group key). `transaction`: one row per
// TxDtls when the details carry amounts — they must add up to the entry, else the file is refused — and the entry's
// own row when they carry none. CdtDbtInd is the effective direction, also for a reversal (RvslInd), as the checks
// count it. Keys are not derived here (row-keys).

import { currencyOfCode } from '../currencies.js';
import type { CamtEntry, CamtStatement, CamtTransaction } from './camt.js';
import { isoTimeMs } from './local-time.js';
import { readStatementAmount } from './statement-amount.js';
import type { StatementProblem } from './statement-report.js';
import { dateNumber, type RowStatus, type RowType, type StatementRow } from './statement-row.js';

export interface CamtRows {
  rows: StatementRow[];
  problems: StatementProblem[];
}

export interface CamtRowOptions {
  file: string;
  granularity: 'entry' | 'transaction';
  /** The channel's zone: a DtTm without one is local time there. */
  timeZone: string;
}

const statusOfCode: Readonly<Record<string, RowStatus>> = { BOOK: 'success', PDNG: 'pending', INFO: 'info' };
/** Sub-families of a bank transaction code that say what a movement is, whatever its family. */
const typeOfSubFamily: Readonly<Record<string, RowType>> = { CHRG: 'fee', COMM: 'fee', FEES: 'fee', INTR: 'interest', RRTN: 'return', UPDD: 'return', RPCR: 'return' };

export function rowsFromCamt(statements: readonly CamtStatement[], options: CamtRowOptions): CamtRows {
  const out: CamtRows = { rows: [], problems: [] };
  for (const statement of statements) {
    const statementKey = `${statement.account}/${statement.id}`;
    statement.entries.forEach((entry, i) => {
      const base = entryRow(entry, statementKey, `${options.file}:${entry.line} Ntry ${i + 1}`, options, out.problems);
      if (base === null) return;
      const split = options.granularity === 'transaction' ? transactionRows(entry, i + 1, base, options, out.problems) : null;
      out.rows.push(...(split ?? [base]));
    });
  }
  return out;
}

function entryRow(entry: CamtEntry, statementKey: string, locator: string, options: CamtRowOptions, problems: StatementProblem[]): StatementRow | null {
  const amountMinor = minorOf(entry.amount.text, entry.amount.currency, `${options.file}:${entry.amount.line}`, problems);
  if (amountMinor === null) return null;
  const credit = entry.creditDebit === 'CRDT';
  const single: CamtTransaction | undefined = entry.transactions.length === 1 ? entry.transactions[0] : undefined;
  const time = entry.bookingTime !== '' ? entry.bookingTime : (single?.time ?? '');
  return {
    rowNo: 0,
    locator,
    statementKey,
    channelSerialNo: serialOf(entry),
    merchantOrderNo: single === undefined ? '' : endToEndOf(single),
    refundNo: '',
    transactionTimeMs: timeOf(time, locator, options.timeZone, problems),
    bookingDate: dateNumber(entry.bookingDate),
    valueDate: dateNumber(entry.valueDate),
    payer: single === undefined ? '' : credit ? single.debtorName : single.creditorName,
    amountMinor,
    direction: credit ? 'credit' : 'debit',
    feeMinor: 0n,
    currency: entry.amount.currency,
    type: camtType(entry.bankTransactionCode, credit),
    typeRaw: entry.bankTransactionCode,
    status: statusOfCode[entry.status] ?? 'info',
    statusRaw: entry.status,
    reversal: entry.reversal,
    groupKey: entry.batchId,
    key128: 0n,
  };
}

/** One row per TxDtls with its own amount; null when the details carry no amounts (the entry stays one row). */
function transactionRows(entry: CamtEntry, entryNo: number, base: StatementRow, options: CamtRowOptions, problems: StatementProblem[]): StatementRow[] | null {
  const at = base.locator;
  const withAmount = entry.transactions.filter((t) => t.amount !== null);
  if (withAmount.length === 0) return null;
  if (withAmount.length < entry.transactions.length) {
    problems.push({ code: 'format', locator: at, message: `${withAmount.length} of the entry's ${entry.transactions.length} transaction details carry an amount: the entry cannot be split` });
    return null;
  }
  const rows: StatementRow[] = [];
  let signedMinor = 0n;
  entry.transactions.forEach((transaction, k) => {
    const locator = `${options.file}:${transaction.line} Ntry ${entryNo} TxDtls ${k + 1}`;
    const amountMinor = minorOf(transaction.amount!.text, transaction.amount!.currency, `${options.file}:${transaction.amount!.line}`, problems);
    if (amountMinor === null) return;
    const credit = (transaction.creditDebit || entry.creditDebit) === 'CRDT';
    signedMinor += credit ? amountMinor : -amountMinor;
    rows.push({
      ...base,
      locator,
      channelSerialNo: transaction.accountServicerRef || base.channelSerialNo,
      merchantOrderNo: endToEndOf(transaction),
      transactionTimeMs: entry.bookingTime !== '' ? base.transactionTimeMs : timeOf(transaction.time, locator, options.timeZone, problems),
      payer: credit ? transaction.debtorName : transaction.creditorName,
      amountMinor,
      direction: credit ? 'credit' : 'debit',
      currency: transaction.amount!.currency,
      // Several details booked as one entry: the entry is their lump. One detail is the entry (its batch stays).
      groupKey: entry.transactions.length > 1 ? base.channelSerialNo : base.groupKey,
    });
  });
  const entryMinor = base.direction === 'credit' ? base.amountMinor : -base.amountMinor;
  if (rows.length === entry.transactions.length && signedMinor !== entryMinor) {
    problems.push({ code: 'summary', locator: at, message: `the entry's transaction details add up to ${signedMinor}, the entry to ${entryMinor} (minor units, signed)`, expected: entryMinor, found: signedMinor, difference: signedMinor - entryMinor, currency: base.currency });
  }
  return rows;
}

function minorOf(text: string, currency: string, locator: string, problems: StatementProblem[]): bigint | null {
  const known = currencyOfCode(currency);
  if (known === undefined) {
    problems.push({ code: 'currency', locator, message: `currency ${JSON.stringify(currency)} is not one this build knows (ISO 4217)` });
    return null;
  }
  const read = readStatementAmount(text.trim(), known.scale, '.');
  if ('refused' in read) {
    problems.push({ code: 'amount', locator, message: read.refused });
    return null;
  }
  return read.minor;
}

function timeOf(text: string, locator: string, timeZone: string, problems: StatementProblem[]): number | null {
  if (text === '') return null;
  const ms = isoTimeMs(text, timeZone);
  if (ms === null) problems.push({ code: 'format', locator, message: `${JSON.stringify(text)} is no ISO 8601 date and time` });
  return ms;
}

/** `AcctSvcrRef/NtryRef` (either may be empty; AcctSvcrRef alone is not unique in some banks' files), '' when both are. */
function serialOf(entry: CamtEntry): string {
  return entry.accountServicerRef === '' && entry.entryRef === '' ? '' : `${entry.accountServicerRef}/${entry.entryRef}`;
}

/** The EndToEndId, '' for none or SEPA's NOTPROVIDED. */
function endToEndOf(transaction: CamtTransaction): string {
  return transaction.endToEndId === 'NOTPROVIDED' ? '' : transaction.endToEndId;
}

/** `PMNT/RCDT/ESCT` as a row type: fees, interest and returns by sub-family; other payments in or out by direction. */
function camtType(code: string, credit: boolean): RowType {
  const [domain, , subFamily] = code.split('/');
  const known = subFamily === undefined ? undefined : typeOfSubFamily[subFamily];
  if (known !== undefined) return known;
  if (domain === 'PMNT') return credit ? 'transfer_in' : 'transfer_out';
  return 'other';
}
