// SWIFT MT940 (customer statement) and MT942 (interim report) read into statements of exact entries, and the
// checks a statement must pass before anything of it is matched (issue #17): per statement, opening (60F/60M) +
// Σ entries = closing (62F/62M); a page closed with 62M continued by a 60M of the same account and amount, and a
// statement's 62F by the next statement's 60F of the same account; a file may not end on an intermediate page; the
// ING summary line after 62F (counts and sums) equals the entries. MT942: the 90D/90C counts and sums equal the
// entries, and no entry is below its 34F floor. Parsed by our own reader: the npm MT940 parsers return JS numbers.

import { currencyOfCode } from '../currencies.js';
import { readStatementAmount } from './statement-amount.js';
import { swiftMessages, type SwiftField, type SwiftMessage } from './swift-fields.js';
import type { StatementProblem, StatementReport } from './statement-report.js';

export type EntryMark = 'C' | 'D' | 'RC' | 'RD';

/** One :61: line: an entry of a statement. Amounts are minor units of the statement's currency. */
export interface SwiftEntry {
  line: number;
  valueDate: string;
  entryDate: string | null;
  mark: EntryMark;
  amountMinor: bigint;
  /** The amount with its sign on the account: credits and reversed debits (RD) add, debits and reversed credits (RC) take away. */
  signedMinor: bigint;
  typeCode: string;
  customerRef: string;
  bankRef: string;
  /** The :86: text that follows it, if any. */
  info: string;
}

export interface SwiftBalance {
  line: number;
  /** F: first/final; M: intermediate (a page of a statement continued on the next). */
  kind: 'F' | 'M';
  date: string;
  currency: string;
  signedMinor: bigint;
}

export interface SwiftStatement {
  line: number;
  reference: string;
  account: string;
  sequence: string;
  currency: string;
  opening: SwiftBalance | null;
  closing: SwiftBalance | null;
  entries: SwiftEntry[];
  /** MT942: counts and sums stated (90D, 90C), floors (34F). */
  stated: { debits?: { count: number; sumMinor: bigint; line: number }; credits?: { count: number; sumMinor: bigint; line: number } };
  floors: { mark: 'C' | 'D' | 'both'; minor: bigint; line: number }[];
  /** The ING summary after 62F: counts and sums of debits and credits. */
  summary: { debits: number; credits: number; debitMinor: bigint; creditMinor: bigint; line: number } | null;
}

const entryPattern = /^([0-9]{6})([0-9]{4}| {4})?(RC|RD|C|D)([A-Z])?([0-9]+(?:,[0-9]*)?)([NSF][A-Z0-9 ]{3})([^\n]*)(?:\n([\s\S]*))?$/;
const balancePattern = /^(C|D)([0-9]{6})([A-Z]{3})([0-9]+(?:,[0-9]*)?)$/;
const statedPattern = /^([0-9]+)([A-Z]{3})([0-9]+(?:,[0-9]*)?)$/;
const floorPattern = /^([A-Z]{3})(C|D)?([0-9]+(?:,[0-9]*)?)$/;
const ingSummaryPattern = /^D([0-9]{6})C([0-9]{6})D([0-9]+,[0-9]*)C([0-9]+,[0-9]*)/;
const sumSummaryPattern = /^\/SUM\/([0-9]+)\/([0-9]+)\/([0-9]+,[0-9]*)\/([0-9]+,[0-9]*)\//;

/** Reads and checks an MT940 or MT942 file: its statements, and every reason it may not be reconciled. */
export function checkSwiftStatements(text: string, format: 'mt940' | 'mt942', file: string): StatementReport & { statements: SwiftStatement[] } {
  const problems: StatementProblem[] = [];
  const warnings: string[] = [];
  if (text.includes('\uFFFD')) warnings.push(`${file}: the text holds U+FFFD replacement characters (it was decoded with the wrong encoding before it came here)`);
  const statements = swiftMessages(text).map((message) => readStatement(message, file, problems, warnings));
  if (statements.length === 0) problems.push({ code: 'format', locator: `${file}`, message: 'no statement found (no :20: field)' });
  if (format === 'mt940') checkStatements(statements, file, problems);
  else checkReports(statements, file, problems);
  return { format, file, statements, entries: statements.reduce((n, s) => n + s.entries.length, 0), problems, warnings };
}

function readStatement(message: SwiftMessage, file: string, problems: StatementProblem[], warnings: string[]): SwiftStatement {
  const statement: SwiftStatement = { line: message.line, reference: '', account: '', sequence: '', currency: '', opening: null, closing: null, entries: [], stated: {}, floors: [], summary: null };
  const at = (field: SwiftField): string => `${file}:${field.line} :${field.tag}:`;
  let scale = 2;
  const amount = (field: SwiftField, text: string): bigint | null => {
    const read = readStatementAmount(text, scale, ',');
    if ('refused' in read) {
      problems.push({ code: 'amount', locator: at(field), message: read.refused });
      return null;
    }
    if (read.withoutMark) warnings.push(`${at(field)}: amount ${text} has no decimal comma: read as whole units`);
    return read.minor;
  };
  const useCurrency = (field: SwiftField, currency: string): void => {
    const known = currencyOfCode(currency);
    if (known === undefined) problems.push({ code: 'currency', locator: at(field), message: `currency ${currency} is not one this build knows (ISO 4217)` });
    else scale = known.scale;
    if (statement.currency === '') statement.currency = currency;
    else if (statement.currency !== currency) problems.push({ code: 'currency', locator: at(field), message: `currency ${currency} in a statement of ${statement.currency}` });
  };
  let closed = false;
  for (const field of message.fields) {
    const text = field.text.trim();
    switch (field.tag) {
      case '20':
        statement.reference = text;
        break;
      case '25':
        statement.account = text;
        break;
      case '28':
      case '28C':
        statement.sequence = text;
        break;
      case '60F':
      case '60M':
      case '62F':
      case '62M': {
        const match = balancePattern.exec(text);
        if (match === null) {
          problems.push({ code: 'format', locator: at(field), message: `a balance is C|D, YYMMDD, a currency and an amount; got ${JSON.stringify(text)}` });
          break;
        }
        useCurrency(field, match[3]!);
        const minor = amount(field, match[4]!);
        if (minor === null) break;
        const balance: SwiftBalance = { line: field.line, kind: field.tag.endsWith('F') ? 'F' : 'M', date: match[2]!, currency: match[3]!, signedMinor: match[1] === 'C' ? minor : -minor };
        if (field.tag.startsWith('60')) statement.opening = balance;
        else {
          statement.closing = balance;
          closed = true;
        }
        break;
      }
      case '61': {
        const entry = readEntry(field, (t) => amount(field, t), problems, file);
        if (entry !== null) statement.entries.push(entry);
        break;
      }
      case '86': {
        const last = statement.entries[statement.entries.length - 1];
        if (closed) statement.summary = readSummary(text, field, (t) => amount(field, t));
        else if (last !== undefined && last.info === '') last.info = text;
        break;
      }
      case '90D':
      case '90C': {
        const match = statedPattern.exec(text);
        if (match === null) {
          problems.push({ code: 'format', locator: at(field), message: `a count, a currency and an amount; got ${JSON.stringify(text)}` });
          break;
        }
        useCurrency(field, match[2]!);
        const minor = amount(field, match[3]!);
        if (minor !== null) statement.stated[field.tag === '90D' ? 'debits' : 'credits'] = { count: Number(match[1]), sumMinor: minor, line: field.line };
        break;
      }
      case '34F': {
        const match = floorPattern.exec(text);
        if (match === null) {
          problems.push({ code: 'format', locator: at(field), message: `a floor is a currency, C|D and an amount; got ${JSON.stringify(text)}` });
          break;
        }
        useCurrency(field, match[1]!);
        const minor = amount(field, match[3]!);
        if (minor !== null) statement.floors.push({ mark: (match[2] as 'C' | 'D' | undefined) ?? 'both', minor, line: field.line });
        break;
      }
      default:
        break; // 13D, 64, 65, NS and others: informative
    }
  }
  if (statement.account === '') problems.push({ code: 'format', locator: `${file}:${message.line}`, message: 'a statement without its account (:25:)' });
  return statement;
}

function readEntry(field: SwiftField, amount: (text: string) => bigint | null, problems: StatementProblem[], file: string): SwiftEntry | null {
  const match = entryPattern.exec(field.text);
  if (match === null) {
    problems.push({ code: 'format', locator: `${file}:${field.line} :61:`, message: `an entry is YYMMDD[MMDD](C|D|RC|RD)[funds]amount type reference; got ${JSON.stringify(field.text.split('\n')[0])}` });
    return null;
  }
  const minor = amount(match[5]!);
  if (minor === null) return null;
  const mark = match[3] as EntryMark;
  const [customerRef, bankRef] = splitReference(match[7]!);
  const entryDate = match[2] === undefined || match[2].trim() === '' ? null : match[2];
  return { line: field.line, valueDate: match[1]!, entryDate, mark, amountMinor: minor, signedMinor: mark === 'C' || mark === 'RD' ? minor : -minor, typeCode: match[6]!, customerRef, bankRef, info: '' };
}

function splitReference(text: string): [string, string] {
  const at = text.indexOf('//');
  return at < 0 ? [text.trim(), ''] : [text.slice(0, at).trim(), text.slice(at + 2).trim()];
}

function readSummary(text: string, field: SwiftField, amount: (text: string) => bigint | null): SwiftStatement['summary'] {
  const firstLine = text.split('\n')[0]!.trim();
  const ing = ingSummaryPattern.exec(firstLine) ?? sumSummaryPattern.exec(firstLine);
  if (ing === null) return null;
  const debitMinor = amount(ing[3]!);
  const creditMinor = amount(ing[4]!);
  if (debitMinor === null || creditMinor === null) return null;
  return { debits: Number(ing[1]), credits: Number(ing[2]), debitMinor, creditMinor, line: field.line };
}

const sum = (entries: readonly SwiftEntry[]): bigint => entries.reduce((total, e) => total + e.signedMinor, 0n);

function checkStatements(statements: readonly SwiftStatement[], file: string, problems: StatementProblem[]): void {
  statements.forEach((statement, i) => {
    const where = `${file}:${statement.line} statement ${statement.reference || i + 1}`;
    if (statement.opening === null || statement.closing === null) {
      problems.push({ code: 'format', locator: where, message: `a statement needs its opening (:60F:/:60M:) and closing (:62F:/:62M:) balances` });
      return;
    }
    const expected = statement.opening.signedMinor + sum(statement.entries);
    if (expected !== statement.closing.signedMinor) {
      problems.push({ code: 'balance', locator: where, message: 'opening + entries ≠ closing', expected, found: statement.closing.signedMinor, difference: statement.closing.signedMinor - expected, currency: statement.currency });
    }
    checkSummary(statement, where, problems);
    const next = statements.slice(i + 1).find((s) => s.account === statement.account);
    if (statement.closing.kind === 'M' && (next === undefined || next.opening?.kind !== 'M')) {
      problems.push({ code: 'incomplete', locator: where, message: 'the statement closes a page (:62M:) that no page continues (:60M:): the file is incomplete' });
    }
    if (next?.opening !== null && next?.opening !== undefined && next.opening.signedMinor !== statement.closing.signedMinor) {
      problems.push({
        code: 'chain',
        locator: `${file}:${next.line} statement ${next.reference}`,
        message: `opens with a balance other than the one the statement before it (line ${statement.line}) closed with`,
        expected: statement.closing.signedMinor,
        found: next.opening.signedMinor,
        difference: next.opening.signedMinor - statement.closing.signedMinor,
        currency: statement.currency,
      });
    }
  });
}

function checkSummary(statement: SwiftStatement, where: string, problems: StatementProblem[]): void {
  const summary = statement.summary;
  if (summary === null) return;
  const debits = statement.entries.filter((e) => e.signedMinor < 0n || (e.signedMinor === 0n && (e.mark === 'D' || e.mark === 'RC')));
  const credits = statement.entries.filter((e) => !debits.includes(e));
  const debitMinor = -sum(debits);
  const creditMinor = sum(credits);
  if (summary.debits !== debits.length || summary.credits !== credits.length || summary.debitMinor !== debitMinor || summary.creditMinor !== creditMinor) {
    problems.push({
      code: 'summary',
      locator: `${where}, summary at line ${summary.line}`,
      message: `the summary says ${summary.debits} debits of ${summary.debitMinor} and ${summary.credits} credits of ${summary.creditMinor} (minor units); the entries are ${debits.length} of ${debitMinor} and ${credits.length} of ${creditMinor}`,
    });
  }
}

function checkReports(reports: readonly SwiftStatement[], file: string, problems: StatementProblem[]): void {
  reports.forEach((report, i) => {
    const where = `${file}:${report.line} report ${report.reference || i + 1}`;
    const debits = report.entries.filter((e) => e.signedMinor < 0n || (e.signedMinor === 0n && (e.mark === 'D' || e.mark === 'RC')));
    const credits = report.entries.filter((e) => !debits.includes(e));
    for (const [side, stated, found] of [['debits', report.stated.debits, debits], ['credits', report.stated.credits, credits]] as const) {
      if (stated === undefined) continue;
      const foundSum = side === 'debits' ? -sum(found) : sum(found);
      if (stated.count !== found.length || stated.sumMinor !== foundSum) {
        problems.push({ code: 'summary', locator: `${file}:${stated.line} :90${side === 'debits' ? 'D' : 'C'}:`, message: `states ${stated.count} ${side} of ${stated.sumMinor} (minor units); the entries are ${found.length} of ${foundSum}`, expected: stated.sumMinor, found: foundSum, difference: foundSum - stated.sumMinor, currency: report.currency });
      }
    }
    if (report.stated.debits === undefined && report.stated.credits === undefined) problems.push({ code: 'format', locator: where, message: 'an interim report states its debits and credits (:90D:, :90C:)' });
    for (const entry of report.entries) {
      const isDebit = debits.includes(entry);
      const floor = report.floors.find((f) => f.mark === 'both' || f.mark === (isDebit ? 'D' : 'C'));
      if (floor !== undefined && entry.amountMinor < floor.minor) {
        problems.push({ code: 'floor', locator: `${file}:${entry.line} :61:`, message: `an entry of ${entry.amountMinor} under the report's floor of ${floor.minor} (:34F: line ${floor.line})` });
      }
    }
  });
}
