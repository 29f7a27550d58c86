// OFX/QFX bank and credit-card statements (1.x SGML and 2.x XML, read by src/recon/ofx-reader.ts) and the checks
// before any matching (issue #17): every amount exact at CURDEF's scale, CURDEF a currency this build knows, FITID
// present and unique per account (the specification makes it so), dates readable, DTPOSTED within DTSTART..DTEND
// (a warning otherwise). OFX states no opening balance, so nothing adds up inside a file: the only balance check is
// the chain of LEDGERBAL against the previous accepted import, which is not this module's. Texts are kept as written.

import { assert } from '../assert.js';
import { currencyOfCode } from '../currencies.js';
import { isPossibleLocalTime } from './local-time.js';
import { readStatementAmount } from './statement-amount.js';
import type { StatementProblem, StatementReport } from './statement-report.js';

/** One STMTTRN as written (texts trimmed, entities decoded; '' when the element is absent). */
export interface OfxTransaction {
  /** Line of the file where the STMTTRN opens. */
  line: number;
  /** TRNTYPE: CREDIT, DEBIT, INT, DIV, FEE, SRVCHG, DEP, ATM, POS, XFER, CHECK, PAYMENT, CASH, DIRECTDEP, DIRECTDEBIT, REPEATPMT, HOLD, OTHER. */
  type: string;
  /** DTPOSTED, DTUSER, DTAVAIL as written (`20251204120000.000[-5:EST]`). */
  posted: string;
  user: string;
  available: string;
  /** TRNAMT as written: signed decimal, negative = money out of the account. */
  amount: string;
  amountLine: number;
  fitId: string;
  checkNumber: string;
  /** REFNUM. */
  referenceNumber: string;
  name: string;
  /** PAYEE/NAME (a payee aggregate instead of NAME). */
  payeeName: string;
  memo: string;
  /** CURRENCY/CURSYM: the transaction's amounts are in this currency, not CURDEF. */
  currency: string;
  /** ORIGCURRENCY/CURSYM: the amounts are in CURDEF, converted from this one (informative). */
  originalCurrency: string;
  /** CORRECTFITID and CORRECTACTION (REPLACE, DELETE) of a correction of an earlier transaction (OFX 2.x). */
  correctFitId: string;
  correctAction: string;
}

/** LEDGERBAL or AVAILBAL: BALAMT (signed decimal text) as of DTASOF. */
export interface OfxBalance {
  amount: string;
  line: number;
  asOf: string;
}

/** One STMTRS (bank) or CCSTMTRS (credit card). */
export interface OfxStatement {
  /** Line of the file where STMTRS/CCSTMTRS opens. */
  line: number;
  kind: 'bank' | 'creditcard';
  /** CURDEF. */
  currency: string;
  /** BANKACCTFROM's BANKID ('' for a card), ACCTID, ACCTTYPE ('' for a card). */
  bankId: string;
  accountId: string;
  accountType: string;
  /** BANKTRANLIST's DTSTART and DTEND as written. */
  start: string;
  end: string;
  transactions: OfxTransaction[];
  ledgerBalance: OfxBalance | null;
  availableBalance: OfxBalance | null;
}

/** An OFX date read: the instant and the calendar date as written (in the zone it states). */
export interface OfxDate {
  /** ms since the epoch (UTC); a time without a zone is UTC (the specification's default), a date alone is its midnight. */
  ms: number;
  /** yyyymmdd as written. */
  date: number;
  /** Whether the text states a time of day (a date alone does not). */
  hasTime: boolean;
}

/** `YYYYMMDD[HHMM[SS[.sss]]][[+-]h[.mm][:TZ]]` (.sss: milliseconds). HHMM without seconds appears in the 1.0.2 specification's own examples. */
const ofxDatePattern = /^([0-9]{4})([0-9]{2})([0-9]{2})(?:([0-9]{2})([0-9]{2})(?:([0-9]{2})(?:\.([0-9]{1,3}))?)?)?(?:\[([+-]?)([0-9]{1,2})(?:\.([0-9]{2}))?(?::[A-Za-z0-9_/+-]*)?\])?$/;
/** No zone is further from UTC than +14:00 (Kiribati) or −12:00. */
const offsetHoursMax = 14;

/**
 * An OFX date-time (`20251204`, `20251204120000`, `20251204120000.000[-5:EST]`, `[5.30:IST]`), or null when it is
 * none. The offset is hours, optionally `.mm` minutes (as the issue reads `h[.mm]`); the zone name is not read.
 */
export function parseOfxDate(text: string): OfxDate | null {
  const match = ofxDatePattern.exec(text);
  if (match === null) return null;
  const [, y, mo, d, h, mi, s, fraction, sign, offsetH, offsetM] = match;
  const time = { year: Number(y), month: Number(mo), day: Number(d), hour: Number(h ?? 0), minute: Number(mi ?? 0), second: Number(s ?? 0) };
  if (!isPossibleLocalTime(time)) return null;
  const offsetMinutes = offsetH === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(offsetH) * 60 + Number(offsetM ?? 0));
  if (Math.abs(offsetMinutes) > offsetHoursMax * 60 || Number(offsetM ?? 0) > 59) return null;
  const fractionMs = Number((fraction ?? '').padEnd(3, '0'));
  assert(fractionMs >= 0 && fractionMs <= 999, 'a fraction of at most three digits is under a second');
  const ms = Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second) + fractionMs - offsetMinutes * 60_000;
  return { ms, date: time.year * 10_000 + time.month * 100 + time.day, hasTime: h !== undefined };
}

export type OfxAmountReading = { minor: bigint } | { refused: string };

/**
 * A TRNAMT or BALAMT (`-12.50`, `+3`, `1500.5`) as signed minor units at `scale`: fewer decimals are exact, more are
 * refused unless zeros. The specification lets the decimal mark be a point or a comma; no thousands separator.
 */
export function readOfxAmount(text: string, scale: number): OfxAmountReading {
  const negative = text.startsWith('-');
  const digits = negative || text.startsWith('+') ? text.slice(1) : text;
  const read = readStatementAmount(digits, scale, digits.includes(',') && !digits.includes('.') ? ',' : '.');
  if ('refused' in read) return read;
  return { minor: negative ? -read.minor : read.minor };
}

/** Checks the statements read from one OFX/QFX file. */
export function checkOfxStatements(statements: readonly OfxStatement[], file: string): StatementReport {
  const problems: StatementProblem[] = [];
  const warnings: string[] = [];
  if (statements.length === 0) problems.push({ code: 'format', locator: file, message: 'no statement found (STMTRS, CCSTMTRS)' });
  /** Per account (BANKID/ACCTID): the line of each FITID seen, across the statements of the file. */
  const fitIds = new Map<string, Map<string, number>>();
  for (const statement of statements) {
    const where = `${file}:${statement.line} ${statement.kind === 'bank' ? 'STMTRS' : 'CCSTMTRS'}`;
    const known = currencyOfCode(statement.currency);
    if (known === undefined) {
      problems.push({ code: 'currency', locator: where, message: `CURDEF ${JSON.stringify(statement.currency)} is not a currency this build knows (ISO 4217)` });
      continue;
    }
    if (statement.accountId === '') problems.push({ code: 'format', locator: where, message: `no ACCTID in ${statement.kind === 'bank' ? 'BANKACCTFROM' : 'CCACCTFROM'}` });
    const period = checkPeriod(statement, where, problems);
    const account = `${statement.bankId}/${statement.accountId}`;
    if (!fitIds.has(account)) fitIds.set(account, new Map());
    for (const transaction of statement.transactions) {
      checkTransaction(transaction, statement.currency, known.scale, period, file, fitIds.get(account)!, problems, warnings);
    }
    checkBalance(statement.ledgerBalance, 'LEDGERBAL', known.scale, file, problems);
    checkBalance(statement.availableBalance, 'AVAILBAL', known.scale, file, problems);
    if (statement.ledgerBalance === null) warnings.push(`${where}: no LEDGERBAL: OFX states no opening balance, so without it nothing of this statement can be chained to the previous one`);
  }
  // A statement whose CURDEF is unknown is not read further, so it must have been refused.
  assert(statements.every((s) => currencyOfCode(s.currency) !== undefined) || problems.some((p) => p.code === 'currency'), 'an unread statement refuses the file');
  return { format: 'ofx', file, entries: statements.reduce((n, s) => n + s.transactions.length, 0), problems, warnings };
}

/** DTSTART..DTEND as yyyymmdd (both inclusive: banks write the period's last day as DTEND), null when unreadable. */
function checkPeriod(statement: OfxStatement, where: string, problems: StatementProblem[]): { start: number; end: number } | null {
  const start = parseOfxDate(statement.start);
  const end = parseOfxDate(statement.end);
  if (start === null) problems.push({ code: 'format', locator: where, message: `BANKTRANLIST/DTSTART ${JSON.stringify(statement.start)} is no OFX date` });
  if (end === null) problems.push({ code: 'format', locator: where, message: `BANKTRANLIST/DTEND ${JSON.stringify(statement.end)} is no OFX date` });
  if (start === null || end === null) return null;
  if (start.ms > end.ms) problems.push({ code: 'format', locator: where, message: `DTSTART ${statement.start} is after DTEND ${statement.end}` });
  return { start: start.date, end: end.date };
}

function checkTransaction(t: OfxTransaction, currency: string, scale: number, period: { start: number; end: number } | null, file: string, fitIds: Map<string, number>, problems: StatementProblem[], warnings: string[]): void {
  const at = `${file}:${t.line} STMTTRN`;
  if (t.type === '') problems.push({ code: 'format', locator: at, message: 'no TRNTYPE' });
  if (t.currency !== '' && t.currency !== currency) problems.push({ code: 'currency', locator: at, message: `an amount in ${t.currency} (CURRENCY) in a statement of ${currency}` });
  const amount = t.amount === '' ? null : readOfxAmount(t.amount, scale);
  if (amount === null) problems.push({ code: 'format', locator: at, message: 'no TRNAMT' });
  else if ('refused' in amount) problems.push({ code: 'amount', locator: `${file}:${t.amountLine} TRNAMT`, message: `${amount.refused} (${currency})` });
  const seen = fitIds.get(t.fitId);
  if (t.fitId === '') problems.push({ code: 'format', locator: at, message: 'no FITID (the bank\'s id of the transaction, unique per account)' });
  else if (seen !== undefined) problems.push({ code: 'format', locator: at, message: `FITID ${JSON.stringify(t.fitId)} again (first at line ${seen}): it must be unique per account` });
  else fitIds.set(t.fitId, t.line);
  const posted = parseOfxDate(t.posted);
  if (posted === null) problems.push({ code: 'format', locator: at, message: `DTPOSTED ${JSON.stringify(t.posted)} is no OFX date` });
  for (const [name, text] of [['DTUSER', t.user], ['DTAVAIL', t.available]] as const) {
    if (text !== '' && parseOfxDate(text) === null) problems.push({ code: 'format', locator: at, message: `${name} ${JSON.stringify(text)} is no OFX date` });
  }
  if (posted !== null && period !== null && (posted.date < period.start || posted.date > period.end)) {
    warnings.push(`${at}: DTPOSTED ${t.posted} is outside the statement's period ${period.start}..${period.end}`);
  }
  if (t.correctFitId !== '') warnings.push(`${at}: corrects FITID ${JSON.stringify(t.correctFitId)} (${t.correctAction || 'no CORRECTACTION'}): read as a transaction of its own`);
}

function checkBalance(balance: OfxBalance | null, name: string, scale: number, file: string, problems: StatementProblem[]): void {
  if (balance === null) return;
  const at = `${file}:${balance.line} ${name}`;
  const amount = balance.amount === '' ? null : readOfxAmount(balance.amount, scale);
  if (amount === null) problems.push({ code: 'format', locator: at, message: 'no BALAMT' });
  else if ('refused' in amount) problems.push({ code: 'amount', locator: at, message: amount.refused });
  if (parseOfxDate(balance.asOf) === null) problems.push({ code: 'format', locator: at, message: `DTASOF ${JSON.stringify(balance.asOf)} is no OFX date` });
}
