// BAI2 (Cash Management Balance Reporting Specifications, version 2; BAI, now ASC X9) read into accounts of exact
// amounts, and the checks a file must pass before anything of it is matched (issue #17): every trailer's control
// total, account/group count and record count (49, 98, 99); opening ledger (010) + credit details − debit details =
// closing ledger (015); total credits/debits (100/400) = the details. Our own reader: there is no well-kept npm one.

import { assert } from '../assert.js';
import { currencyOfCode } from '../currencies.js';
import { statementRecordBytesMax } from '../limits.js';
import { dateNumberOfLocal, isPossibleLocalTime } from './local-time.js';
import type { StatementProblem, StatementReport } from './statement-report.js';

export type Bai2FundsType = '0' | '1' | '2' | 'S' | 'V' | 'D' | 'Z';

/** When the money is available: a code, a value date (V) or a distribution (S: days 0, 1, 2; D: as stated). */
export interface Bai2Funds {
  /** A defaulted (empty) funds type is Z, unknown availability. */
  type: Bai2FundsType;
  /** V: YYMMDD and HHMM as written ('' when none or defaulted). */
  valueDate: string;
  valueTime: string;
  /** S and D: minor units available after so many days; not part of any control total. */
  distribution: { days: number; amountMinor: bigint }[];
}

/** An amount, item count and funds type of an 03 record (status or summary), or of its 88 continuations. */
export interface Bai2Summary {
  line: number;
  typeCode: string;
  /** Minor units, signed as written; null when defaulted. */
  amountMinor: bigint | null;
  itemCount: number | null;
  funds: Bai2Funds;
}

/** One 16 record (with its 88 continuations): a movement on the account. */
export interface Bai2Detail {
  line: number;
  typeCode: string;
  /** By the type code: 100–399 and 920–959 credit, 400–699 and 960–999 debit. */
  direction: 'credit' | 'debit';
  /** Minor units, never negative (the type code carries the direction). */
  amountMinor: bigint;
  funds: Bai2Funds;
  bankRef: string;
  customerRef: string;
  /** Free text: the rest of the record, `/` and `,` included; text continued on 88 records joined with a space. */
  text: string;
}

export interface Bai2Account {
  /** Line of the 03 record. */
  line: number;
  account: string;
  /** 03's currency, else its group's (02), else USD. */
  currency: string;
  /** The group's (02) as-of date, YYMMDD as written, its line and originator. */
  asOfDate: string;
  groupLine: number;
  originator: string;
  summaries: Bai2Summary[];
  details: Bai2Detail[];
  /** The 49 record, null when the account has none (the file is then incomplete). */
  trailer: { line: number; controlMinor: bigint; records: number } | null;
}

export type Bai2TypeClass = 'status' | 'credit' | 'debit' | 'unknown';

/** The spec's ranges: 001–099 and 900–919 status, 100–399 and 920–959 credits, 400–699 and 960–999 debits; 700–899 are none of BAI's. */
export function bai2TypeClass(typeCode: string): Bai2TypeClass {
  if (!/^[0-9]{3}$/.test(typeCode)) return 'unknown';
  const code = Number(typeCode);
  if ((code >= 1 && code <= 99) || (code >= 900 && code <= 919)) return 'status';
  if ((code >= 100 && code <= 399) || (code >= 920 && code <= 959)) return 'credit';
  if ((code >= 400 && code <= 699) || code >= 960) return 'debit';
  return 'unknown';
}

/** A logical record: its physical record and the 88 records continuing it (each part as written, trailing blanks cut). */
interface LogicalRecord {
  code: string;
  line: number;
  parts: string[];
}

/**
 * Reads a record's fields in order across its parts. A `/` ends a part's fields (what follows it on the line is
 * ignored); an 88 continues with the next field. `rest()` takes the free text of a 16 from where the fields stopped.
 */
class FieldReader {
  private part = -1;
  private at = 0;

  constructor(private readonly parts: readonly string[]) {
    this.nextPart();
  }

  /** The next field, '' when defaulted, undefined when the record has no more. */
  next(): string | undefined {
    if (this.part >= this.parts.length) return undefined;
    const text = this.parts[this.part]!;
    const comma = text.indexOf(',', this.at);
    const slash = text.indexOf('/', this.at);
    const stop = Math.min(comma < 0 ? text.length : comma, slash < 0 ? text.length : slash);
    const field = text.slice(this.at, stop);
    if (text[stop] === ',') this.at = stop + 1;
    else this.nextPart();
    return field;
  }

  /** Everything after the fields read: this part's rest and the parts after it, each without one trailing `/`. */
  rest(): string {
    const pieces: string[] = [];
    if (this.part < this.parts.length) pieces.push(this.parts[this.part]!.slice(this.at));
    for (let p = this.part + 1; p < this.parts.length; p++) pieces.push(this.parts[p]!.slice(3));
    return pieces.map((piece) => (piece.endsWith('/') ? piece.slice(0, -1) : piece).trim()).filter((piece) => piece !== '').join(' ');
  }

  /** Fields of a part start after its record code and comma (`16,`, `88,`); a part without them has none. */
  private nextPart(): void {
    do this.part++;
    while (this.part < this.parts.length && this.parts[this.part]![2] !== ',');
    this.at = 3;
  }
}

/** Physical lines to logical records: an 88 continues the record before it. Blank lines are no records. */
function logicalRecords(text: string, file: string, problems: StatementProblem[]): { records: LogicalRecord[]; physical: Map<LogicalRecord, number> } {
  const records: LogicalRecord[] = [];
  const physical = new Map<LogicalRecord, number>();
  text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line.trim() === '') return;
    const code = line.slice(0, 2);
    const last = records[records.length - 1];
    if (!/^[0-9]{2}(?:[,/]|$)/.test(line)) problems.push({ code: 'format', locator: `${file}:${i + 1}`, message: `a BAI2 record starts with its two-digit code and a comma; got ${JSON.stringify(line.slice(0, 16))}` });
    else if (code === '88' && last !== undefined) {
      last.parts.push(line);
      physical.set(last, physical.get(last)! + 1);
    } else if (code === '88') problems.push({ code: 'format', locator: `${file}:${i + 1} 88`, message: 'a continuation (88) with no record before it to continue' });
    else {
      const record = { code, line: i + 1, parts: [line] };
      records.push(record);
      physical.set(record, 1);
    }
  });
  for (const record of records) {
    if (record.parts.reduce((n, part) => n + part.length, 0) > statementRecordBytesMax) {
      problems.push({ code: 'format', locator: `${file}:${record.line} ${record.code}`, message: `a record longer than ${statementRecordBytesMax} characters with its continuations` });
    }
  }
  return { records, physical };
}

interface OpenGroup {
  line: number;
  originator: string;
  asOfDate: string;
  currency: string;
  records: number;
  accounts: number;
  /** Σ the control totals its 49 records state. */
  controlMinor: bigint;
}

interface OpenAccount {
  account: Bai2Account;
  records: number;
  /** Σ every amount of its 03 and 16 records read (distributions excluded), whatever else is wrong with them. */
  controlMinor: bigint;
}

interface ReadState {
  file: string;
  problems: StatementProblem[];
  warnings: string[];
  accounts: Bai2Account[];
  header: { line: number; records: number; groups: number; controlMinor: bigint; currencies: Set<string> } | null;
  closed: boolean;
  group: OpenGroup | null;
  account: OpenAccount | null;
}

/** Reads and checks a BAI2 file: its accounts, and every reason it may not be reconciled. */
export function checkBai2(text: string, file: string): StatementReport & { accounts: Bai2Account[] } {
  const state: ReadState = { file, problems: [], warnings: [], accounts: [], header: null, closed: false, group: null, account: null };
  const { records, physical } = logicalRecords(text, file, state.problems);
  for (const record of records) readRecord(record, physical.get(record)!, state);
  closeAtEnd(records[records.length - 1]?.line ?? 0, state);
  const entries = state.accounts.reduce((n, a) => n + a.details.length, 0);
  assert(state.closed || state.problems.some((p) => p.code === 'incomplete' || p.code === 'format'), 'a file read to its end has its 99, or says why not');
  return { format: 'bai2', file, accounts: state.accounts, entries, problems: state.problems, warnings: state.warnings };
}

function readRecord(record: LogicalRecord, count: number, state: ReadState): void {
  const where = `${state.file}:${record.line} ${record.code}`;
  if (state.closed) {
    state.problems.push({ code: 'format', locator: where, message: 'a record after the file trailer (99)' });
    return;
  }
  if (record.code !== '01' && state.header === null) {
    state.problems.push({ code: 'format', locator: where, message: 'a record before the file header (01)' });
    return;
  }
  if (state.header !== null) state.header.records += count;
  if (state.group !== null) state.group.records += count;
  if (state.account !== null) state.account.records += count;
  const fields = new FieldReader(record.parts);
  switch (record.code) {
    case '01':
      return readFileHeader(fields, record, count, where, state);
    case '02':
      return readGroupHeader(fields, record, count, where, state);
    case '03':
      return readAccount(fields, record, count, where, state);
    case '16':
      return readDetail(fields, record, where, state);
    case '49':
      return readAccountTrailer(fields, where, record.line, state);
    case '98':
      return readGroupTrailer(fields, where, state);
    case '99':
      return readFileTrailer(fields, where, state);
    default:
      state.problems.push({ code: 'format', locator: where, message: `no BAI2 record starts with ${JSON.stringify(record.code)} (01 02 03 16 88 49 98 99)` });
  }
}

function readFileHeader(fields: FieldReader, record: LogicalRecord, count: number, where: string, state: ReadState): void {
  if (state.header !== null) {
    state.problems.push({ code: 'format', locator: where, message: `a second file header (the first at line ${state.header.line})` });
    return;
  }
  const values = Array.from({ length: 8 }, () => fields.next() ?? '');
  if (values[7] !== '2') state.problems.push({ code: 'format', locator: where, message: `version ${JSON.stringify(values[7])}: only BAI version 2 is read` });
  if (!isDate(values[2]!)) state.problems.push({ code: 'format', locator: where, message: `file creation date ${JSON.stringify(values[2])} is no YYMMDD day` });
  state.header = { line: record.line, records: count, groups: 0, controlMinor: 0n, currencies: new Set() };
}

function readGroupHeader(fields: FieldReader, record: LogicalRecord, count: number, where: string, state: ReadState): void {
  closeGroup(where, state);
  const [, originator, , asOfDate, , currencyText] = Array.from({ length: 6 }, () => fields.next() ?? '') as [string, string, string, string, string, string];
  if (!isDate(asOfDate)) state.problems.push({ code: 'format', locator: where, message: `as-of date ${JSON.stringify(asOfDate)} is no YYMMDD day` });
  const currency = knownCurrency(currencyText === '' ? 'USD' : currencyText, where, state.problems);
  state.group = { line: record.line, originator, asOfDate, currency, records: count, accounts: 0, controlMinor: 0n };
  state.header!.currencies.add(currency);
}

function readAccount(fields: FieldReader, record: LogicalRecord, count: number, where: string, state: ReadState): void {
  closeAccount(where, state);
  const group = state.group;
  if (group === null) {
    state.problems.push({ code: 'format', locator: where, message: 'an account identifier (03) outside a group (02 … 98)' });
    return;
  }
  const accountId = fields.next() ?? '';
  const currencyText = fields.next() ?? '';
  if (accountId === '') state.problems.push({ code: 'format', locator: where, message: 'an account identifier (03) without its account number' });
  const currency = currencyText === '' ? group.currency : knownCurrency(currencyText, where, state.problems);
  const account: Bai2Account = { line: record.line, account: accountId, currency, asOfDate: group.asOfDate, groupLine: group.line, originator: group.originator, summaries: [], details: [], trailer: null };
  const open: OpenAccount = { account, records: count, controlMinor: 0n };
  for (let typeCode = fields.next(); typeCode !== undefined; typeCode = fields.next()) {
    const amountText = fields.next() ?? '';
    const countText = fields.next() ?? '';
    if (typeCode === '' && amountText === '' && countText === '') continue; // a trailing defaulted field
    const funds = readFunds(fields, true, where, state.problems);
    const amountMinor = amountText === '' ? null : readAmount(amountText, true, where, state.problems);
    if (amountMinor !== null) open.controlMinor += amountMinor;
    if (!/^[0-9]*$/.test(countText)) state.problems.push({ code: 'format', locator: where, message: `item count ${JSON.stringify(countText)} of type code ${typeCode} is no number` });
    if (bai2TypeClass(typeCode) === 'unknown') state.warnings.push(`${where}: type code ${JSON.stringify(typeCode)} is none of BAI2's (counted in the control total only)`);
    if (funds !== null) account.summaries.push({ line: record.line, typeCode, amountMinor, itemCount: countText === '' ? null : Number(countText), funds });
  }
  state.account = open;
  state.accounts.push(account);
}

function readDetail(fields: FieldReader, record: LogicalRecord, where: string, state: ReadState): void {
  const open = state.account;
  if (open === null) {
    state.problems.push({ code: 'format', locator: where, message: 'a transaction detail (16) outside an account (03 … 49)' });
    return;
  }
  const typeCode = fields.next() ?? '';
  const amountText = fields.next() ?? '';
  const funds = readFunds(fields, false, where, state.problems);
  const bankRef = (fields.next() ?? '').trim();
  const customerRef = (fields.next() ?? '').trim();
  const text = fields.rest();
  const amountMinor = amountText === '' ? null : readAmount(amountText, false, where, state.problems);
  if (amountText === '') state.problems.push({ code: 'format', locator: where, message: 'a transaction detail (16) without its amount' });
  if (amountMinor !== null) open.controlMinor += amountMinor;
  const kind = bai2TypeClass(typeCode);
  if (kind !== 'credit' && kind !== 'debit') {
    state.problems.push({ code: 'format', locator: where, message: `type code ${JSON.stringify(typeCode)} is no credit (100–399, 920–959) or debit (400–699, 960–999): a detail must be one` });
    return;
  }
  if (amountMinor === null || funds === null) return;
  assert(amountMinor >= 0n, 'a detail amount is read unsigned');
  open.account.details.push({ line: record.line, typeCode, direction: kind, amountMinor, funds, bankRef, customerRef, text });
}

/** A funds type and the fields it takes: V a date and time, S three amounts, D a count and that many (days, amount) pairs. */
function readFunds(fields: FieldReader, signed: boolean, where: string, problems: StatementProblem[]): Bai2Funds | null {
  const code = fields.next() ?? '';
  const funds: Bai2Funds = { type: 'Z', valueDate: '', valueTime: '', distribution: [] };
  if (code === '' || code === 'Z' || code === '0' || code === '1' || code === '2') {
    funds.type = code === '' ? 'Z' : code;
    return funds;
  }
  if (code === 'V') {
    funds.type = 'V';
    funds.valueDate = fields.next() ?? '';
    funds.valueTime = fields.next() ?? '';
    if (!isDate(funds.valueDate)) problems.push({ code: 'format', locator: where, message: `value date ${JSON.stringify(funds.valueDate)} (funds type V) is no YYMMDD day` });
    return funds;
  }
  if (code === 'S' || code === 'D') {
    funds.type = code;
    const countText = code === 'S' ? '3' : (fields.next() ?? '');
    if (!/^[0-9]+$/.test(countText)) {
      problems.push({ code: 'format', locator: where, message: `funds type D needs its number of distributions; got ${JSON.stringify(countText)}` });
      return null;
    }
    for (let i = 0; i < Number(countText); i++) {
      const days = code === 'S' ? String(i) : fields.next();
      const amountText = fields.next();
      if (days === undefined || amountText === undefined || !/^[0-9]+$/.test(days)) {
        problems.push({ code: 'format', locator: where, message: `funds type ${code} states ${countText} distributions; distribution ${i + 1} is missing or has no day count` });
        return null;
      }
      const amountMinor = amountText === '' ? 0n : readAmount(amountText, signed, where, problems);
      if (amountMinor === null) return null;
      funds.distribution.push({ days: Number(days), amountMinor });
    }
    return funds;
  }
  problems.push({ code: 'format', locator: where, message: `funds type ${JSON.stringify(code)} is none of 0 1 2 S V D Z` });
  return null;
}

function readAccountTrailer(fields: FieldReader, where: string, line: number, state: ReadState): void {
  const open = state.account;
  if (open === null) {
    state.problems.push({ code: 'format', locator: where, message: 'an account trailer (49) with no account (03) open' });
    return;
  }
  const stated = readTrailer(fields, 1, where, state.problems);
  state.account = null;
  if (state.group !== null) state.group.accounts++;
  checkAccountBalances(open.account, state.file, state.problems);
  if (stated === null) return;
  const [controlMinor, records] = stated as [bigint, number];
  if (state.group !== null) state.group.controlMinor += controlMinor;
  open.account.trailer = { line, controlMinor, records };
  checkControl(where, 'account', { controlMinor, counts: [['records (03 … 49, 88 included)', records, open.records]] }, open.controlMinor, open.account.currency, state.problems);
}

function readGroupTrailer(fields: FieldReader, where: string, state: ReadState): void {
  closeAccount(where, state);
  const group = state.group;
  if (group === null) {
    state.problems.push({ code: 'format', locator: where, message: 'a group trailer (98) with no group (02) open' });
    return;
  }
  const stated = readTrailer(fields, 2, where, state.problems);
  state.group = null;
  if (state.header !== null) state.header.groups++;
  if (stated === null) return;
  const [controlMinor, accounts, records] = stated as [bigint, number, number];
  if (state.header !== null) state.header.controlMinor += controlMinor;
  const counts: [string, number, number][] = [['accounts', accounts, group.accounts], ['records (02 … 98, 88 included)', records, group.records]];
  checkControl(where, 'group (Σ its 49 totals)', { controlMinor, counts }, group.controlMinor, group.currency, state.problems);
}

function readFileTrailer(fields: FieldReader, where: string, state: ReadState): void {
  closeGroup(where, state);
  const header = state.header!;
  state.closed = true;
  const stated = readTrailer(fields, 2, where, state.problems);
  if (stated === null) return;
  const [controlMinor, groups, records] = stated as [bigint, number, number];
  const counts: [string, number, number][] = [['groups', groups, header.groups], ['records (01 … 99, 88 included)', records, header.records]];
  // A file of groups in different currencies has a control total that is a checksum only: no one currency to name.
  const currency = header.currencies.size === 1 ? [...header.currencies][0] : undefined;
  checkControl(where, 'file (Σ its 98 totals)', { controlMinor, counts }, header.controlMinor, currency, state.problems);
}

/** A trailer's control total (signed) and its `counts` numbers; null (and a problem) when any is unreadable. */
function readTrailer(fields: FieldReader, counts: number, where: string, problems: StatementProblem[]): [bigint, ...number[]] | null {
  const controlMinor = readAmount(fields.next() ?? '', true, where, problems);
  const numbers = Array.from({ length: counts }, () => fields.next() ?? '');
  if (controlMinor === null) return null;
  if (numbers.some((n) => !/^[0-9]+$/.test(n))) {
    problems.push({ code: 'format', locator: where, message: `a trailer states its control total and ${counts} counts; got ${JSON.stringify(numbers)}` });
    return null;
  }
  return [controlMinor, ...numbers.map(Number)];
}

function checkControl(
  where: string,
  what: string,
  stated: { controlMinor: bigint; counts: [string, number, number][] },
  foundMinor: bigint,
  currency: string | undefined,
  problems: StatementProblem[],
): void {
  if (stated.controlMinor !== foundMinor) {
    const difference = foundMinor - stated.controlMinor;
    problems.push({ code: 'summary', locator: where, message: `the ${what} control total is ${stated.controlMinor}; the amounts make ${foundMinor} (minor units)`, expected: stated.controlMinor, found: foundMinor, difference, ...(currency === undefined ? {} : { currency }) });
  }
  for (const [name, said, found] of stated.counts) {
    if (said !== found) problems.push({ code: 'summary', locator: where, message: `states ${said} ${name}; the file has ${found}` });
  }
}

/** 010 + credit details − debit details = 015 where both are stated; 100 (+105) and 400 (+406) = the details, amounts and item counts. */
function checkAccountBalances(account: Bai2Account, file: string, problems: StatementProblem[]): void {
  const where = `${file}:${account.line} 03`;
  const summary = (code: string) => account.summaries.find((s) => s.typeCode === code && s.amountMinor !== null);
  const credits = account.details.filter((d) => d.direction === 'credit');
  const debits = account.details.filter((d) => d.direction === 'debit');
  const creditMinor = credits.reduce((total, d) => total + d.amountMinor, 0n);
  const debitMinor = debits.reduce((total, d) => total + d.amountMinor, 0n);
  const opening = summary('010');
  const closing = summary('015');
  if (opening !== undefined && closing !== undefined) {
    const expected = opening.amountMinor! + creditMinor - debitMinor;
    const found = closing.amountMinor!;
    if (expected !== found) problems.push({ code: 'balance', locator: where, message: `account ${account.account}: opening ledger (010) + credits − debits ≠ closing ledger (015)`, expected, found, difference: found - expected, currency: account.currency });
  }
  // An account reported in summary only has no details to add up; a bank that details some states the rest as 105/406.
  if (account.details.length === 0) return;
  for (const [total, notDetailed, side, details, detailMinor] of [['100', '105', 'credits', credits, creditMinor], ['400', '406', 'debits', debits, debitMinor]] as const) {
    const stated = summary(total);
    if (stated === undefined) continue;
    const found = detailMinor + (summary(notDetailed)?.amountMinor ?? 0n);
    if (stated.amountMinor !== found) {
      problems.push({ code: 'summary', locator: where, message: `account ${account.account}: total ${side} (${total}) ≠ the ${side} detailed${notDetailed === '105' ? ' + 105' : ' + 406'}`, expected: stated.amountMinor!, found, difference: found - stated.amountMinor!, currency: account.currency });
    }
    if (stated.itemCount !== null && stated.itemCount !== details.length) {
      problems.push({ code: 'summary', locator: where, message: `account ${account.account}: total ${side} (${total}) counts ${stated.itemCount} items; the details are ${details.length}` });
    }
  }
}

/** A record that opens an account, a group or the end: the account still open never got its 49. */
function closeAccount(where: string, state: ReadState): void {
  if (state.account === null) return;
  state.problems.push({ code: 'incomplete', locator: where, message: `account ${state.account.account.account} (line ${state.account.account.line}) has no account trailer (49)` });
  // Counted as if its 49 had stated what it holds, so that the group's trailer names no second, derived problem.
  if (state.group !== null) {
    state.group.accounts++;
    state.group.controlMinor += state.account.controlMinor;
  }
  checkAccountBalances(state.account.account, state.file, state.problems);
  state.account = null;
}

function closeGroup(where: string, state: ReadState): void {
  closeAccount(where, state);
  if (state.group === null) return;
  state.problems.push({ code: 'incomplete', locator: where, message: `the group of line ${state.group.line} has no group trailer (98)` });
  if (state.header !== null) {
    state.header.groups++;
    state.header.controlMinor += state.group.controlMinor;
  }
  state.group = null;
}

function closeAtEnd(lastLine: number, state: ReadState): void {
  const where = `${state.file}:${lastLine} end`;
  if (state.header === null) {
    state.problems.push({ code: 'format', locator: `${state.file}`, message: 'no BAI2 file header (01)' });
    return;
  }
  closeGroup(where, state);
  if (!state.closed) state.problems.push({ code: 'incomplete', locator: where, message: 'the file ends without its file trailer (99)' });
}

/** Digits of minor units (BAI2 amounts have implied decimals: the currency's), a sign where `signed`. */
function readAmount(text: string, signed: boolean, where: string, problems: StatementProblem[]): bigint | null {
  const match = (signed ? /^([+-]?)([0-9]+)$/ : /^()([0-9]+)$/).exec(text);
  if (match === null) {
    problems.push({ code: 'amount', locator: where, message: `${JSON.stringify(text)} is no BAI2 amount (${signed ? 'an optional sign and ' : ''}digits, the decimals implied)` });
    return null;
  }
  const minor = BigInt(match[2]!);
  return match[1] === '-' ? -minor : minor;
}

function knownCurrency(code: string, where: string, problems: StatementProblem[]): string {
  if (currencyOfCode(code) === undefined) problems.push({ code: 'currency', locator: where, message: `currency ${code} is not one this build knows (ISO 4217)` });
  return code;
}

/** yyyymmdd of a BAI2 date (YYMMDD, no century: read in the 2000s); 0 when it names no day. */
export function bai2DateNumber(text: string): number {
  if (!/^[0-9]{6}$/.test(text)) return 0;
  const time = { year: 2000 + Number(text.slice(0, 2)), month: Number(text.slice(2, 4)), day: Number(text.slice(4, 6)), hour: 0, minute: 0, second: 0 };
  return isPossibleLocalTime(time) ? dateNumberOfLocal(time) : 0;
}

const isDate = (text: string): boolean => bai2DateNumber(text) !== 0;
