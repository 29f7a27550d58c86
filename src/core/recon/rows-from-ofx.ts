// OFX/QFX statements (ofx.ts) as standard rows (statement-row.ts), issue #17: one row per STMTTRN, its FITID the
// channel's serial, |TRNAMT| the amount and its sign the direction (positive = money into the account = credit, for
// a card account too: a payment to the card is a credit). Times: DTUSER when it states a time, else DTPOSTED when it
// does, in the zone the text states — OFX's rule is that a time without a zone is UTC, so no channel zone is applied —
// and null when both are dates alone. Keys are not derived here (row-keys).

import { assert } from '../assert.js';
import { currencyOfCode } from '../currencies.js';
import { parseOfxDate, readOfxAmount, type OfxStatement, type OfxTransaction } from './ofx.js';
import type { StatementProblem } from './statement-report.js';
import type { RowType, StatementRow } from './statement-row.js';

export interface OfxRows {
  rows: StatementRow[];
  problems: StatementProblem[];
}

/** TRNTYPEs that say what a movement is whatever its sign. */
const typeOfCode: Readonly<Record<string, RowType>> = { INT: 'interest', FEE: 'fee', SRVCHG: 'fee' };
/** TRNTYPEs of money moved in or out: the row's type follows its sign (a POS credit, an XFER either way). */
const transferCodes: ReadonlySet<string> = new Set(['CREDIT', 'DEP', 'DIRECTDEP', 'DEBIT', 'PAYMENT', 'CHECK', 'ATM', 'POS', 'DIRECTDEBIT', 'XFER', 'CASH', 'REPEATPMT']);

/** Rows of checked statements, numbered 0 (the caller numbers a batch's rows); what cannot be a row is a problem. */
export function rowsFromOfx(statements: readonly OfxStatement[], file: string): OfxRows {
  const out: OfxRows = { rows: [], problems: [] };
  for (const statement of statements) {
    const statementKey = `${statement.accountId}/${statement.start}-${statement.end}`;
    const known = currencyOfCode(statement.currency);
    if (known === undefined) {
      out.problems.push({ code: 'currency', locator: `${file}:${statement.line}`, message: `CURDEF ${JSON.stringify(statement.currency)} is not a currency this build knows (ISO 4217)` });
      continue;
    }
    for (const transaction of statement.transactions) {
      const row = transactionRow(transaction, statement.currency, known.scale, statementKey, file, out.problems);
      if (row !== null) out.rows.push(row);
    }
  }
  return out;
}

function transactionRow(t: OfxTransaction, curdef: string, scale: number, statementKey: string, file: string, problems: StatementProblem[]): StatementRow | null {
  const locator = `${file}:${t.line} STMTTRN`;
  const amount = readOfxAmount(t.amount, scale);
  if ('refused' in amount) {
    problems.push({ code: 'amount', locator: `${file}:${t.amountLine} TRNAMT`, message: amount.refused });
    return null;
  }
  const posted = parseOfxDate(t.posted);
  if (posted === null) {
    problems.push({ code: 'format', locator, message: `DTPOSTED ${JSON.stringify(t.posted)} is no OFX date` });
    return null;
  }
  const user = t.user === '' ? null : parseOfxDate(t.user);
  const available = t.available === '' ? null : parseOfxDate(t.available);
  const credit = amount.minor > 0n;
  const amountMinor = credit ? amount.minor : -amount.minor;
  assert(amountMinor >= 0n, 'a row carries its sign in direction');
  return {
    rowNo: 0,
    locator,
    statementKey,
    channelSerialNo: t.fitId,
    merchantOrderNo: t.referenceNumber || t.checkNumber,
    refundNo: '',
    transactionTimeMs: user?.hasTime === true ? user.ms : posted.hasTime ? posted.ms : null,
    bookingDate: posted.date,
    valueDate: (available ?? posted).date,
    payer: t.name || t.payeeName,
    amountMinor,
    direction: credit ? 'credit' : 'debit',
    feeMinor: 0n,
    currency: t.currency || curdef,
    type: ofxType(t.type, credit),
    typeRaw: t.type,
    status: 'success',
    statusRaw: '',
    reversal: false,
    groupKey: '',
    key128: 0n,
  };
}

/** TRNTYPE as a row type: interest and fees by code, transfers by sign, the rest (DIV, HOLD, OTHER, unknown) other. */
function ofxType(code: string, credit: boolean): RowType {
  const known = typeOfCode[code];
  if (known !== undefined) return known;
  if (transferCodes.has(code)) return credit ? 'transfer_in' : 'transfer_out';
  return 'other';
}
