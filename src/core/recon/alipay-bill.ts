// An Alipay trade bill (支付宝业务明细, the merchant's bill download; issue #17) checked before any matching, and its
// rows as standard rows. The details file: `#` header lines (账号, 起始/终止日期), the list marker, a header of named
// columns, the detail rows, the end marker, then footer totals per business type (`#交易合计：N笔，商家实收共X元，…`);
// the 汇总 file, when present, totals the same columns per store and in all (合计). Checks: the columns are there,
// every money cell is exact in fen, the footer's and the summary's counts and sums equal the rows', a file without
// its end marker is truncated, a cell a spreadsheet would run as a formula refuses the file. Cells are text
// (src/recon/alipay-bill-reader.ts decodes GB18030 and trims Alipay's tab padding); amounts are CNY, exact, never rounded.

import { assert } from '../assert.js';
import type { ColumnMapping, ColumnRule } from './channel-config.js';
import { isFormulaLike } from './formula-cell.js';
import { dateNumberOfLocal, localTimeFormatProblem, localTimeMs, readLocalTime } from './local-time.js';
import { readAmountText } from './rows-from-columns.js';
import type { StatementProblem, StatementReport } from './statement-report.js';
import { rowStatuses, rowTypes, type RowDirection, type RowType, type StatementRow } from './statement-row.js';

/** One list of an Alipay bill file (the details, or the 汇总's per-store totals) as text cells. */
export interface AlipayTable {
  /** The file's name (in its archive). */
  name: string;
  /** From `#账号：[…]`; '' when the header states none. */
  account: string;
  /** From `#起始日期：[…]   终止日期：[…]` as written (`2025年12月04日 00:00:00`); '' when none. */
  periodStart: string;
  periodEnd: string;
  /** 1-based line of the column header; 0 when the list marker has nothing after it. */
  headerLine: number;
  header: string[];
  rows: { line: number; cells: string[] }[];
  /** Whether the list's end marker (…列表结束) was there: without it the file is cut short. */
  ended: boolean;
}

/** A footer line `#交易合计：6笔，商家实收共0.06元，商家优惠共0.00元`, its parts as written. */
export interface AlipayFooterTotal {
  line: number;
  /** The business type (业务类型) it totals: 交易 or 退款. */
  kind: string;
  /** N of `N笔`; '' when the line states no count. */
  count: string;
  /** Each `名称共X元`: 商家实收, 商家优惠 (退款: 商家实收退款, 商家优惠退款). */
  sums: { name: string; amount: string }[];
}

export interface AlipayBill extends AlipayTable {
  totals: AlipayFooterTotal[];
  summary: AlipayTable | null;
  /** Files of the archive that are neither the details nor their 汇总 (left unread). */
  ignored: string[];
}

/** The bill's columns under Alipay's own header names; a channel's mapping replaces them field by field. */
export const alipayTradeBillMapping: Readonly<ColumnMapping> = {
  transactionTime: { column: '完成时间', format: 'yyyy-MM-dd HH:mm:ss' },
  channelSerialNo: { column: '支付宝交易号' },
  merchantOrderNo: { column: '商户订单号' },
  refundNo: { column: '退款批次号/请求号' },
  payer: { column: '对方账户' },
  amount: { column: '商家实收（元）' },
  fee: { column: '服务费（元）' },
  type: { column: '业务类型', map: { 交易: 'payment', 退款: 'refund', '*': 'other' } },
  status: { column: '业务类型', map: { 交易: 'success', 退款: 'refund', '*': 'info' } },
};

/** When a row has no completion time (an order still open), its creation time stands for it. */
export const alipayCreatedTimeColumn = '创建时间';
/** The columns the footer's totals are about; their words are Alipay's format, not the channel's mapping. */
const kindColumn = '业务类型';
const footerColumns: Readonly<Record<string, string>> = {
  商家实收: '商家实收（元）',
  商家实收退款: '商家实收（元）',
  商家优惠: '商家优惠（元）',
  商家优惠退款: '商家优惠（元）',
};
/** The 汇总's count columns → the business type they count. */
const summaryCounts: Readonly<Record<string, string>> = { 交易订单总笔数: '交易', 退款订单总笔数: '退款' };
const summaryTotalsRow = '合计';
const moneyColumn = /[(（]元[)）]$/;
const periodFormat = 'yyyy年MM月dd日 HH:mm:ss';
const currency = 'CNY';
const scale = 2;
const msPerDay = 86_400_000;

/** Counts and sums of money columns (fen) over some rows. */
interface Tally {
  rows: number;
  sums: Map<string, bigint>;
}

/** The rows tallied in all and per business type (业务类型, as written). */
interface Tallies {
  all: Tally;
  byKind: Map<string, Tally>;
}

export function checkAlipayBill(bill: AlipayBill, file: string, mapping: Readonly<ColumnMapping> = alipayTradeBillMapping): StatementReport {
  const report: StatementReport = { format: 'alipay-bill', file, entries: bill.rows.length, problems: [], warnings: [] };
  const { problems } = report;
  for (const name of bill.ignored) report.warnings.push(`${file}: ${name} is no 业务明细 file of the bill and was not read`);
  if (bill.account === '') problems.push({ code: 'format', locator: `${file}:1`, message: 'the header states no account (#账号：[…])' });
  if (periodOf(bill) === null) problems.push({ code: 'format', locator: `${file}:1`, message: `the header states no period this reader knows (#起始日期：[${periodFormat}]   终止日期：[…]), found ${JSON.stringify(bill.periodStart)}` });
  const missing = requiredColumns(mapping).filter((column) => !bill.header.includes(column));
  if (missing.length > 0) {
    const lacks = bill.header.length === 0 ? 'no column header follows the list marker' : `the header lacks ${missing.join(', ')}`;
    problems.push({ code: 'format', locator: `${file}:${Math.max(bill.headerLine, 1)}`, message: `${lacks} (is this an Alipay 业务明细 bill?)` });
    return report;
  }
  const tallies = tallyRows(bill, file, problems);
  if (!bill.ended) problems.push({ code: 'incomplete', locator: file, message: 'no end marker (#…业务明细列表结束…): the bill is truncated' });
  else checkFooter(bill, file, tallies, report);
  if (bill.summary !== null) checkSummary(bill, bill.summary, `${file} ${bill.summary.name}`, tallies, problems);
  return report;
}

/** The columns the checks and the mapping read. */
function requiredColumns(mapping: Readonly<ColumnMapping>): string[] {
  const mapped = Object.values(mapping).map((rule: ColumnRule) => rule.column);
  return [...new Set([kindColumn, ...Object.values(footerColumns), ...mapped])];
}

/** In all and per business type: rows and the sum of every money column; bad cells are problems. */
function tallyRows(bill: AlipayBill, file: string, problems: StatementProblem[]): Tallies {
  const tallies: Tallies = { all: { rows: 0, sums: new Map() }, byKind: new Map() };
  const kindAt = bill.header.indexOf(kindColumn);
  const money = bill.header.flatMap((name, at) => (moneyColumn.test(name) ? [{ name, at }] : []));
  for (const row of bill.rows) {
    const where = `${file}:${row.line}`;
    if (row.cells.length !== bill.header.length) problems.push({ code: 'format', locator: where, message: `${row.cells.length} cells in a bill of ${bill.header.length} columns` });
    const formula = row.cells.find(isFormulaLike);
    if (formula !== undefined) problems.push({ code: 'format', locator: where, message: `a cell a spreadsheet would run as a formula: ${JSON.stringify(formula.slice(0, 40))}` });
    const kind = row.cells[kindAt] ?? '';
    if (!tallies.byKind.has(kind)) tallies.byKind.set(kind, { rows: 0, sums: new Map() });
    const both = [tallies.all, tallies.byKind.get(kind)!];
    for (const tally of both) tally.rows++;
    for (const { name, at } of money) {
      const text = row.cells[at] ?? '';
      const read = text === '' ? { minor: 0n } : readAmountText(text, scale, '.', '');
      if ('refused' in read) problems.push({ code: 'amount', locator: `${where} ${name}`, message: read.refused });
      else for (const tally of both) tally.sums.set(name, (tally.sums.get(name) ?? 0n) + read.minor);
    }
  }
  assert(tallies.all.rows === bill.rows.length, 'every row tallied once in all');
  assert([...tallies.byKind.values()].reduce((rows, tally) => rows + tally.rows, 0) === bill.rows.length, 'every row tallied under one business type');
  return tallies;
}

/** Each footer line's count and sums equal the rows of its business type; 交易 is always totalled, 退款 when there are refunds. */
function checkFooter(bill: AlipayBill, file: string, { byKind: tallies }: Tallies, report: StatementReport): void {
  const kinds = new Set(bill.totals.map((total) => total.kind));
  for (const kind of ['交易', '退款']) {
    if (!kinds.has(kind) && (kind === '交易' || tallies.has(kind))) report.problems.push({ code: 'summary', locator: file, message: `the footer has no #${kind}合计 line` });
  }
  for (const [kind, tally] of tallies) {
    if (!kinds.has(kind) && kind !== '交易' && kind !== '退款') report.warnings.push(`${file}: ${tally.rows} row(s) of 业务类型 ${JSON.stringify(kind)}, which the footer does not total`);
  }
  for (const total of bill.totals) {
    const where = `${file}:${total.line}`;
    const tally = tallies.get(total.kind) ?? { rows: 0, sums: new Map<string, bigint>() };
    const label = `#${total.kind}合计`;
    if (!/^[0-9]+$/.test(total.count) || Number(total.count) !== tally.rows) {
      report.problems.push({ code: 'summary', locator: where, message: `${label} counts ${total.count === '' ? 'no' : total.count} 笔; the bill holds ${tally.rows} row(s) of 业务类型 ${total.kind}` });
    }
    for (const { name, amount } of total.sums) {
      const column = footerColumns[name];
      if (column === undefined) {
        report.warnings.push(`${where}: ${label}'s ${name} is no column this reader totals (not checked)`);
        continue;
      }
      compareSum(report.problems, `${where} ${name}`, `${label}'s ${name}`, amount, tally.sums.get(column) ?? 0n, column);
    }
  }
}

/** The 汇总 file: the same account and period, not cut short, and its 合计 row's counts and money columns equal the details'. */
function checkSummary(bill: AlipayBill, summary: AlipayTable, where: string, tallies: Tallies, problems: StatementProblem[]): void {
  if (summary.account !== bill.account || summary.periodStart !== bill.periodStart || summary.periodEnd !== bill.periodEnd) {
    problems.push({ code: 'summary', locator: `${where}:1`, message: `the summary is of ${summary.account} ${summary.periodStart}–${summary.periodEnd}, the details of ${bill.account} ${bill.periodStart}–${bill.periodEnd}` });
  }
  if (!summary.ended) problems.push({ code: 'incomplete', locator: where, message: 'no end marker (#…业务汇总列表结束…): the summary is truncated' });
  const totals = summary.rows.find((row) => row.cells[0] === summaryTotalsRow);
  if (totals === undefined) {
    problems.push({ code: 'summary', locator: where, message: `the summary has no ${summaryTotalsRow} row` });
    return;
  }
  summary.header.forEach((name, at) => {
    const text = totals.cells[at] ?? '';
    const locator = `${where}:${totals.line} ${name}`;
    const kind = summaryCounts[name];
    if (kind !== undefined) {
      const found = tallies.byKind.get(kind)?.rows ?? 0;
      if (!/^[0-9]+$/.test(text) || Number(text) !== found) problems.push({ code: 'summary', locator, message: `the summary's ${name} is ${JSON.stringify(text)}; the bill holds ${found} row(s) of 业务类型 ${kind}` });
    } else if (moneyColumn.test(name) && bill.header.includes(name)) {
      compareSum(problems, locator, `the summary's ${name}`, text, tallies.all.sums.get(name) ?? 0n, name);
    }
  });
}

/** A stated total (amount text) against the rows' sum; a mismatch says by how much. */
function compareSum(problems: StatementProblem[], locator: string, what: string, text: string, found: bigint, column: string): void {
  const read = readAmountText(text, scale, '.', '');
  if ('refused' in read) {
    problems.push({ code: 'summary', locator, message: `${what}: ${read.refused}` });
    return;
  }
  if (read.minor !== found) problems.push({ code: 'summary', locator, message: `${what} ≠ the rows' ${column}`, expected: read.minor, found, difference: found - read.minor, currency });
}

/** The bill's period: `yyyymmdd` of a one-day bill (midnight to midnight), else `yyyymmdd-yyyymmdd` (end exclusive); null when the header states none. */
function periodOf(bill: AlipayTable): string | null {
  const start = readLocalTime(bill.periodStart, periodFormat);
  const end = readLocalTime(bill.periodEnd, periodFormat);
  if (start === null || end === null) return null;
  const utc = (t: typeof start): number => Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  const oneDay = utc(end) - utc(start) === msPerDay && start.hour === 0 && start.minute === 0 && start.second === 0;
  return oneDay ? String(dateNumberOfLocal(start)) : `${dateNumberOfLocal(start)}-${dateNumberOfLocal(end)}`;
}

/** The statement a bill is: `${account}/${period}` (`2088…/20251204`); the period as written when it is unreadable. */
export function alipayStatementKey(bill: AlipayTable): string {
  return `${bill.account}/${periodOf(bill) ?? `${bill.periodStart}-${bill.periodEnd}`}`;
}

export interface AlipayRows {
  rows: StatementRow[];
  problems: StatementProblem[];
}

/** A row's cells by column name, with every bad cell added as a problem at `file:line column`. */
interface RowCells {
  text(rule: ColumnRule | undefined): string;
  problem(column: string, message: string, code?: StatementProblem['code']): void;
  failed(): boolean;
}

/**
 * The bill's detail rows as standard rows (rowNo 0: the batch numbers them). Amount from 商家实收 (a refund is written
 * negative: money out, its size the amount), fee by its size from 服务费, time from 完成时间 else 创建时间 in
 * `timeZone`. A row with a bad cell is left out and the cell is a problem.
 */
export function rowsFromAlipayBill(bill: AlipayBill, file: string, timeZone: string, mapping: Readonly<ColumnMapping> = alipayTradeBillMapping): AlipayRows {
  const out: AlipayRows = { rows: [], problems: [] };
  const missing = Object.values(mapping).map((rule: ColumnRule) => rule.column).filter((column) => !bill.header.includes(column));
  if (missing.length > 0) out.problems.push({ code: 'format', locator: `${file}:${bill.headerLine}`, message: `the header lacks the column(s) ${missing.map((m) => JSON.stringify(m)).join(', ')} the channel maps` });
  const timeRule = mapping.transactionTime;
  const formatProblem = timeRule === undefined ? null : localTimeFormatProblem(timeRule.format ?? 'yyyy-MM-dd HH:mm:ss');
  if (formatProblem !== null) out.problems.push({ code: 'format', locator: `${file}:${bill.headerLine} ${timeRule!.column}`, message: `the channel's date format for transactionTime: ${formatProblem}` });
  if (out.problems.length > 0) return out;
  const statementKey = alipayStatementKey(bill);
  for (const { line, cells } of bill.rows) {
    const before = out.problems.length;
    const reader: RowCells = {
      text: (rule) => (rule === undefined ? '' : (cells[bill.header.indexOf(rule.column)] ?? '').trim()),
      problem: (column, message, code = 'format') => out.problems.push({ code, locator: `${file}:${line} ${column}`, message }),
      failed: () => out.problems.length > before,
    };
    const row = rowOf(bill, reader, mapping, timeZone);
    if (row === null || reader.failed()) continue;
    // The matcher sums amounts by direction: a sign left in an amount would count it the wrong way round.
    assert(row.amountMinor >= 0n && row.feeMinor >= 0n, 'a row carries its sign in direction, never in its amounts');
    out.rows.push({ ...row, locator: `${file}:${line}`, statementKey });
  }
  assert(out.rows.length <= bill.rows.length, 'at most one standard row per detail row');
  return out;
}

function rowOf(bill: AlipayBill, reader: RowCells, mapping: Readonly<ColumnMapping>, timeZone: string): Omit<StatementRow, 'locator' | 'statementKey'> | null {
  const type = mapped(reader, mapping.type, 'type', rowTypes, 'payment');
  const money = moneyOf(reader, mapping.amount, type);
  if (money === null) return null;
  return {
    rowNo: 0,
    channelSerialNo: reader.text(mapping.channelSerialNo),
    merchantOrderNo: reader.text(mapping.merchantOrderNo),
    refundNo: reader.text(mapping.refundNo),
    transactionTimeMs: timeOf(bill, reader, mapping.transactionTime, timeZone),
    bookingDate: 0,
    valueDate: 0,
    payer: reader.text(mapping.payer),
    amountMinor: money.amountMinor,
    direction: money.direction,
    feeMinor: feeOf(reader, mapping.fee),
    currency,
    type,
    typeRaw: reader.text(mapping.type),
    status: mapped(reader, mapping.status, 'status', rowStatuses, 'success'),
    statusRaw: reader.text(mapping.status),
    reversal: false,
    groupKey: reader.text(mapping.groupKey),
    key128: 0n,
  };
}

/** 商家实收 signed: money in (credit) or, written negative, paid back (debit). A payment paid back or a refund paid in is refused. */
function moneyOf(reader: RowCells, rule: ColumnRule | undefined, type: RowType): { amountMinor: bigint; direction: RowDirection } | null {
  if (rule === undefined) {
    reader.problem('amount', 'the channel maps no amount column');
    return null;
  }
  const text = reader.text(rule);
  const read = text === '' ? { refused: 'no amount' } : readAmountText(text, scale, '.', '');
  if ('refused' in read) {
    reader.problem(rule.column, read.refused, 'amount');
    return null;
  }
  if ((type === 'payment' && read.minor < 0n) || (type === 'refund' && read.minor > 0n)) {
    reader.problem(rule.column, `a ${type} of ${text}: Alipay writes payments positive and refunds negative`, 'amount');
    return null;
  }
  return { amountMinor: read.minor < 0n ? -read.minor : read.minor, direction: read.minor < 0n ? 'debit' : 'credit' };
}

/** 服务费 by its size: Alipay writes the fee a payment costs and the fee a refund returns with opposite signs. */
function feeOf(reader: RowCells, rule: ColumnRule | undefined): bigint {
  const text = reader.text(rule);
  if (rule === undefined || text === '') return 0n;
  const read = readAmountText(text, scale, '.', '');
  if ('refused' in read) {
    reader.problem(rule.column, read.refused, 'amount');
    return 0n;
  }
  return read.minor < 0n ? -read.minor : read.minor;
}

function timeOf(bill: AlipayBill, reader: RowCells, rule: ColumnRule | undefined, timeZone: string): number | null {
  if (rule === undefined) return null;
  const created = bill.header.includes(alipayCreatedTimeColumn) ? { column: alipayCreatedTimeColumn } : undefined;
  const completed = reader.text(rule);
  const [text, column] = completed !== '' ? [completed, rule.column] : [reader.text(created), alipayCreatedTimeColumn];
  if (text === '') return null;
  const format = rule.format ?? 'yyyy-MM-dd HH:mm:ss';
  const ms = localTimeMs(text, format, timeZone);
  if (ms === null) reader.problem(column, `${JSON.stringify(text)} is no time in the format ${format}`);
  return ms;
}

/** A type or status cell through the rule's map (`*` = any other value), else the text itself. */
function mapped<T extends string>(reader: RowCells, rule: ColumnRule | undefined, field: 'type' | 'status', values: readonly T[], fallback: T): T {
  if (rule === undefined) return fallback;
  const raw = reader.text(rule);
  const ours = rule.map === undefined ? raw : (rule.map[raw] ?? rule.map['*']);
  if (ours !== undefined && (values as readonly string[]).includes(ours)) return ours as T;
  reader.problem(rule.column, ours === undefined ? `${field} ${JSON.stringify(raw)} is not in the channel's map (and it has no "*")` : `${field} ${JSON.stringify(ours)} is none of ${values.join(', ')}`);
  return fallback;
}
