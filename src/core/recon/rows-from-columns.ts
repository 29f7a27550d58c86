// Rows of text cells under a header (a CSV template's lines, a WeChat Pay bill's rows) as standard rows, by a
// channel's column mapping (issue #17). Amounts are exact or refused, never rounded: the template's decimal mark and
// thousands separator (only in its valid places) are taken off first, digits past the currency's scale must be zeros
// (WeChat prints fees as `0.00000`). A row whose status maps to refund, when the mapping names a refund amount
// column, is that amount paid back (debit, type refund). Every bad cell is a problem naming its line and column.

import { currencyOfCode } from '../currencies.js';
import type { ColumnMapping, ColumnRule, CsvTemplate, MappedField } from './channel-config.js';
import { dateNumberOfLocal, localTimeFormatProblem, readLocalTime, zonedMs } from './local-time.js';
import { readStatementAmount } from './statement-amount.js';
import type { StatementProblem } from './statement-report.js';
import { rowStatuses, rowTypes, type RowDirection, type StatementRow } from './statement-row.js';

export interface ColumnRowsInput {
  file: string;
  format: 'csv' | 'wechatpay-tradebill';
  header: readonly string[];
  /** Line of the header (where a missing column is reported). */
  headerLine: number;
  rows: readonly { line: number; cells: readonly string[] }[];
  mapping: ColumnMapping;
  /** The template (format csv): decimal mark, thousands separator, how amounts state their direction. */
  csv: CsvTemplate | null;
  /** The channel's currency: rows are in it unless the mapping names a currency column. */
  currency: string;
  /** The channel's zone: local times are read in it. */
  timeZone: string;
  statementKey: string;
}

/** What reading rows needs besides the rows. */
export type ColumnRowsSetup = Omit<ColumnRowsInput, 'rows'>;

export interface ColumnRows {
  rows: StatementRow[];
  problems: StatementProblem[];
}

const defaultFormats: Partial<Record<MappedField, string>> = { transactionTime: 'yyyy-MM-dd HH:mm:ss', bookingDate: 'yyyy-MM-dd', valueDate: 'yyyy-MM-dd' };
/** How an amount's text is written: WeChat's bills use a point and no grouping. */
const plainNumbers = { decimalMark: '.', thousandsSeparator: '' } as const;

/** A row's cells by field and column: reads each into its type, adding a problem for every bad one. */
interface RowReader {
  /** A column's text, trimmed. */
  cell(column: string): string;
  /** The text of the column a field is mapped to ('' when it is not mapped). */
  text(field: MappedField): string;
  has(field: MappedField): boolean;
  /** Signed minor units; null when the cell is empty (or bad: a problem was added). */
  amount(column: string, scale: number): bigint | null;
  problem(column: string, message: string, code?: StatementProblem['code']): void;
  failed(): boolean;
}

export function rowsFromColumns(input: ColumnRowsInput): ColumnRows {
  const out: ColumnRows = { rows: [], problems: [] };
  const reader = new ColumnRowReader(input, out.problems);
  if (!reader.ready) return out;
  for (const { line, cells } of input.rows) {
    const row = reader.read(line, cells);
    if (row !== null) out.rows.push(row);
  }
  return out;
}

/** rowsFromColumns a row at a time (a bill's rows read as they are parsed, never held as cells). */
export class ColumnRowReader {
  /** False when a column the mapping names is missing or a date format is bad (a problem says so): no row reads. */
  readonly ready: boolean;
  readonly #input: ColumnRowsSetup;
  readonly #cells: CellReader;

  /** Problems go to `problems`, in the order rowsFromColumns reports them. */
  constructor(input: ColumnRowsSetup, problems: StatementProblem[]) {
    this.#input = input;
    const columns = columnIndexes(input, problems);
    this.ready = columns !== null;
    this.#cells = new CellReader(input, columns ?? new Map(), problems);
  }

  /** The row's standard record, or null when a cell is bad (a problem names it). */
  read(line: number, cells: readonly string[]): StatementRow | null {
    const reader = this.#cells.at(line, cells);
    const row = rowOf(this.#input, reader, line);
    return row !== null && !reader.failed() ? row : null;
  }
}

/** Header index of every column the mapping and template name; null (and a problem) when any is missing or a date format is bad. */
function columnIndexes(input: ColumnRowsSetup, problems: StatementProblem[]): Map<string, number> | null {
  const names = Object.values(input.mapping).map((rule: ColumnRule) => rule.column);
  const mode = input.csv?.amount;
  if (mode?.mode === 'debitCredit') names.push(mode.debitColumn, mode.creditColumn);
  if (mode?.mode === 'indicator') names.push(mode.column);
  const indexes = new Map(names.map((name) => [name, input.header.indexOf(name)]));
  const missing = [...indexes].filter(([, index]) => index < 0).map(([name]) => name);
  if (missing.length > 0) problems.push({ code: 'format', locator: `${input.file}:${input.headerLine}`, message: `the header lacks the column(s) ${missing.map((m) => JSON.stringify(m)).join(', ')} the channel maps` });
  for (const [field, format] of Object.entries(defaultFormats) as [MappedField, string][]) {
    const rule = input.mapping[field];
    const problem = rule === undefined ? null : localTimeFormatProblem(rule.format ?? format);
    if (problem !== null) problems.push({ code: 'format', locator: `${input.file}:${input.headerLine} ${rule!.column}`, message: `the channel's date format for ${field}: ${problem}` });
  }
  return problems.length > 0 ? null : indexes;
}

/** The RowReader of one ColumnRowReader, pointed at each row in turn (no closures made per row). */
class CellReader implements RowReader {
  #line = 0;
  #cells: readonly string[] = [];
  #problemsBefore = 0;
  readonly #numbers: { decimalMark: '.' | ','; thousandsSeparator: string };

  constructor(readonly input: ColumnRowsSetup, readonly columns: ReadonlyMap<string, number>, readonly problems: StatementProblem[]) {
    this.#numbers = input.csv ?? plainNumbers;
  }

  at(line: number, cells: readonly string[]): this {
    this.#line = line;
    this.#cells = cells;
    this.#problemsBefore = this.problems.length;
    return this;
  }

  cell(column: string): string {
    return (this.#cells[this.columns.get(column)!] ?? '').trim();
  }

  text(field: MappedField): string {
    const rule = this.input.mapping[field];
    return rule === undefined ? '' : this.cell(rule.column);
  }

  has(field: MappedField): boolean {
    return this.input.mapping[field] !== undefined;
  }

  amount(column: string, scale: number): bigint | null {
    const text = this.cell(column);
    if (text === '') return null;
    const read = readAmountText(text, scale, this.#numbers.decimalMark, this.#numbers.thousandsSeparator);
    if ('minor' in read) return read.minor;
    this.problem(column, read.refused, 'amount');
    return null;
  }

  problem(column: string, message: string, code: StatementProblem['code'] = 'format'): void {
    this.problems.push({ code, locator: `${this.input.file}:${this.#line} ${column}`, message });
  }

  failed(): boolean {
    return this.problems.length > this.#problemsBefore;
  }
}

function rowOf(input: ColumnRowsSetup, reader: RowReader, line: number): StatementRow | null {
  const { mapping } = input;
  const currency = reader.has('currency') ? reader.text('currency') : input.currency;
  const scale = currencyOfCode(currency)?.scale;
  if (scale === undefined) {
    reader.problem(mapping.currency?.column ?? 'currency', `currency ${JSON.stringify(currency)} is not one this build knows (ISO 4217)`, 'currency');
    return null;
  }
  const status = mapped(reader, mapping.status, 'status', rowStatuses, 'success');
  const refund = status === 'refund' && mapping.refundAmount !== undefined;
  const money = refund ? refundMoney(reader, mapping.refundAmount!.column, scale) : amountMoney(input, reader, scale);
  if (money === null) return null;
  return {
    rowNo: 0,
    locator: `${input.file}:${line}`,
    statementKey: input.statementKey,
    channelSerialNo: reader.text('channelSerialNo'),
    merchantOrderNo: reader.text('merchantOrderNo'),
    // WeChat writes 0 for "no refund".
    refundNo: reader.text('refundNo') === '0' ? '' : reader.text('refundNo'),
    transactionTimeMs: timeOf(input, reader),
    bookingDate: dateOf(reader, mapping, 'bookingDate'),
    valueDate: dateOf(reader, mapping, 'valueDate'),
    payer: reader.text('payer'),
    amountMinor: money.amountMinor,
    direction: money.direction,
    feeMinor: feeOf(reader, mapping, scale, refund),
    currency,
    type: refund ? 'refund' : mapped(reader, mapping.type, 'type', rowTypes, 'payment'),
    typeRaw: reader.text('type'),
    status,
    statusRaw: reader.text('status'),
    reversal: false,
    groupKey: reader.text('groupKey'),
    key128: 0n,
  };
}

interface Money {
  amountMinor: bigint;
  direction: RowDirection;
}

/** A refund's amount: money paid back, whatever sign the column writes it with. */
function refundMoney(reader: RowReader, column: string, scale: number): Money | null {
  const minor = reader.amount(column, scale);
  if (minor === null) {
    if (reader.cell(column) === '') reader.problem(column, 'a refund without its amount', 'amount');
    return null;
  }
  return { amountMinor: minor < 0n ? -minor : minor, direction: 'debit' };
}

/** The amount and its direction as the template states them (a bill: unsigned, money in). */
function amountMoney(input: ColumnRowsSetup, reader: RowReader, scale: number): Money | null {
  const mode = input.csv?.amount ?? null;
  if (mode?.mode === 'debitCredit') return debitCreditMoney(reader, mode.debitColumn, mode.creditColumn, scale);
  const column = input.mapping.amount?.column;
  if (column === undefined) {
    reader.problem('amount', 'the channel maps no amount column');
    return null;
  }
  const minor = reader.amount(column, scale);
  if (minor === null) {
    if (reader.cell(column) === '') reader.problem(column, 'no amount', 'amount');
    return null;
  }
  if (mode?.mode === 'signed') return { amountMinor: minor < 0n ? -minor : minor, direction: minor < 0n ? 'debit' : 'credit' };
  if (minor < 0n) {
    reader.problem(column, `a negative amount where the ${mode === null ? 'bill' : 'template'} states direction apart`, 'amount');
    return null;
  }
  if (mode === null) return { amountMinor: minor, direction: 'credit' };
  const indicator = reader.cell(mode.column);
  const direction: RowDirection | null = mode.credit.includes(indicator) ? 'credit' : mode.debit.includes(indicator) ? 'debit' : null;
  if (direction === null) {
    reader.problem(mode.column, `${JSON.stringify(indicator)} is neither credit (${mode.credit.join(', ')}) nor debit (${mode.debit.join(', ')})`);
    return null;
  }
  return { amountMinor: minor, direction };
}

/** Two columns, one of them filled (the other empty or zero); a debit may carry its minus, a credit may not. */
function debitCreditMoney(reader: RowReader, debitColumn: string, creditColumn: string, scale: number): Money | null {
  const debit = reader.amount(debitColumn, scale) ?? 0n;
  const credit = reader.amount(creditColumn, scale) ?? 0n;
  if (reader.failed()) return null;
  if (debit !== 0n && credit !== 0n) {
    reader.problem(debitColumn, `both the debit (${debitColumn}) and the credit (${creditColumn}) column hold an amount`, 'amount');
    return null;
  }
  if (credit < 0n) {
    reader.problem(creditColumn, 'a negative amount in the credit column', 'amount');
    return null;
  }
  return debit !== 0n ? { amountMinor: debit < 0n ? -debit : debit, direction: 'debit' } : { amountMinor: credit, direction: 'credit' };
}

/** The fee, ≥ 0; a refund's fee (WeChat writes what it pays back negative) by its size. */
function feeOf(reader: RowReader, mapping: ColumnMapping, scale: number, refund: boolean): bigint {
  if (mapping.fee === undefined) return 0n;
  const minor = reader.amount(mapping.fee.column, scale) ?? 0n;
  if (minor >= 0n) return minor;
  if (!refund) reader.problem(mapping.fee.column, 'a negative fee on a row that is no refund', 'amount');
  return -minor;
}

/** The mapped value of a type or status cell: the rule's map (`*` = any other value), else the text itself. */
function mapped<T extends string>(reader: RowReader, rule: ColumnRule | undefined, field: 'type' | 'status', values: readonly T[], fallback: T): T {
  if (rule === undefined) return fallback;
  const raw = reader.cell(rule.column);
  const ours = rule.map === undefined ? raw : (rule.map[raw] ?? rule.map['*']);
  if (ours !== undefined && (values as readonly string[]).includes(ours)) return ours as T;
  reader.problem(rule.column, ours === undefined ? `${field} ${JSON.stringify(raw)} is not in the channel's map (and it has no "*")` : `${field} ${JSON.stringify(ours)} is none of ${values.join(', ')}`);
  return fallback;
}

function timeOf(input: ColumnRowsSetup, reader: RowReader): number | null {
  const rule = input.mapping.transactionTime;
  const text = reader.text('transactionTime');
  if (rule === undefined || text === '') return null;
  const time = readLocalTime(text, rule.format ?? defaultFormats.transactionTime!);
  if (time === null) reader.problem(rule.column, `${JSON.stringify(text)} is no time in the format ${rule.format ?? defaultFormats.transactionTime}`);
  return time === null ? null : zonedMs(time, input.timeZone);
}

function dateOf(reader: RowReader, mapping: ColumnMapping, field: 'bookingDate' | 'valueDate'): number {
  const rule = mapping[field];
  const text = reader.text(field);
  if (rule === undefined || text === '') return 0;
  const time = readLocalTime(text, rule.format ?? defaultFormats[field]!);
  if (time === null) reader.problem(rule.column, `${JSON.stringify(text)} is no date in the format ${rule.format ?? defaultFormats[field]}`);
  return time === null ? 0 : dateNumberOfLocal(time);
}

/**
 * Amount text to signed minor units: a sign as `-x`, `+x`, `x-` or `(x)`; thousands separators taken off where they
 * group digits in threes left of the decimal mark (anywhere else the text is refused); then exact at `scale`.
 */
export function readAmountText(text: string, scale: number, decimalMark: '.' | ',', thousandsSeparator: string): { minor: bigint } | { refused: string } {
  let body = text;
  let negative = false;
  if (body.startsWith('(') && body.endsWith(')')) [body, negative] = [body.slice(1, -1), true];
  else if (body.startsWith('-') || body.startsWith('+')) [body, negative] = [body.slice(1), body.startsWith('-')];
  else if (body.endsWith('-')) [body, negative] = [body.slice(0, -1), true];
  if (thousandsSeparator !== '') {
    const ungrouped = withoutThousands(body, decimalMark, thousandsSeparator);
    if (ungrouped === null) return { refused: `${JSON.stringify(text)}: the thousands separator "${thousandsSeparator}" is out of place` };
    body = ungrouped;
  }
  const read = readStatementAmount(body, scale, decimalMark);
  if ('refused' in read) return { refused: read.refused.replace(JSON.stringify(body), JSON.stringify(text)) };
  return { minor: negative ? -read.minor : read.minor };
}

function withoutThousands(body: string, decimalMark: string, separator: string): string | null {
  const at = body.indexOf(decimalMark);
  const whole = at < 0 ? body : body.slice(0, at);
  const rest = at < 0 ? '' : body.slice(at);
  if (rest.includes(separator)) return null;
  if (!whole.includes(separator)) return body;
  const groups = whole.split(separator);
  const grouped = /^[0-9]{1,3}$/.test(groups[0]!) && groups.slice(1).every((group) => /^[0-9]{3}$/.test(group));
  return grouped ? groups.join('') + rest : null;
}
