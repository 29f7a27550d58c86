// One channel's statement files, read and checked by the channel's format, as the standard rows the matcher takes
// (issue #17). Per file a report: the format's checks, plus what reading rows found (a statement of another account,
// a row in another currency, a bad cell). Rows come back even when a report has problems; the caller refuses the run
// then (nothing of a refused file may be matched). Rows are numbered 1.. across the files in the order given, and
// carry the key the channel's configuration derives.

import { assert } from '../core/assert.js';
import { statementRowsMax } from '../core/limits.js';
import { checkCamtStatements, type CamtStatement } from '../core/recon/camt.js';
import type { ChannelConfig } from '../core/recon/channel-config.js';
import { dateNumberOfMs } from '../core/recon/local-time.js';
import { checkSwiftStatements, type SwiftStatement } from '../core/recon/mt940.js';
import { rowsFromCamt } from '../core/recon/rows-from-camt.js';
import { ColumnRowReader, rowsFromColumns, type ColumnRowsInput } from '../core/recon/rows-from-columns.js';
import { rowsFromSwift } from '../core/recon/rows-from-swift.js';
import { checkBai2 } from '../core/recon/bai2.js';
import { rowsFromBai2 } from '../core/recon/rows-from-bai2.js';
import { checkOfxStatements, type OfxStatement } from '../core/recon/ofx.js';
import { rowsFromOfx } from '../core/recon/rows-from-ofx.js';
import { checkAlipayBill, rowsFromAlipayBill, type AlipayBill } from '../core/recon/alipay-bill.js';
import { OfxReadError, readOfx } from './ofx-reader.js';
import type { StatementProblem, StatementReport } from '../core/recon/statement-report.js';
import type { StatementRow } from '../core/recon/statement-row.js';
import { WechatBillCheck, type WechatBill } from '../core/recon/wechat-bill.js';
import { CamtReadError, readCamt } from './camt-reader.js';
import { CsvTemplateReadError, readCsvTemplate, type TemplateTable } from './csv-template-reader.js';
import { withKeys } from './row-keys.js';
import { BillReadError, readWechatBillRows } from './wechat-bill-reader.js';

export interface StatementFile {
  name: string;
  /** The file's text, decoded with the channel's encoding ('' for an Alipay bill, read from its archive). */
  text: string;
  /** An Alipay bill, read from its zip (statement-files.ts), or why it could not be. */
  alipay?: AlipayBill | { unreadable: string };
}

export interface StatementRows {
  rows: StatementRow[];
  /** One per file; any problem in any of them refuses the run. */
  reports: StatementReport[];
  /** Entries that move no money (MT940 0,00 information lines), left out. */
  skipped: number;
}

/** The column of a WeChat Pay bill that names the merchant (the channel's statement account). */
const wechatMerchantColumn = '商户号';

interface FileRows {
  report: StatementReport;
  rows: StatementRow[];
  skipped: number;
}

/**
 * `onFirstRow` hears the batch's first row as soon as it is read — for a bill, long before its last — so that the
 * caller can start reading our side of its day meanwhile (recon-service.ts).
 */
export function statementRows(files: readonly StatementFile[], channel: ChannelConfig, onFirstRow: (row: StatementRow) => void = () => {}): StatementRows {
  const out: StatementRows = { rows: [], reports: [], skipped: 0 };
  let first: ((row: StatementRow) => void) | null = onFirstRow;
  const firstRow = (row: StatementRow): void => {
    first?.(row);
    first = null;
  };
  for (const file of files) {
    const read = fileRows(file, channel, firstRow);
    if (read.rows.length > 0) firstRow(read.rows[0]!);
    checkCurrency(read, channel.currency);
    if (out.rows.length + read.rows.length > statementRowsMax) {
      read.report.problems.push({ code: 'format', locator: file.name, message: `the batch would hold more than ${statementRowsMax} rows: split it` });
      read.rows = read.rows.slice(0, Math.max(0, statementRowsMax - out.rows.length));
    }
    for (const row of read.rows) {
      // The matcher sums amounts by direction: a negative one here would be counted the wrong way round.
      assert(row.amountMinor >= 0n && row.feeMinor >= 0n, 'a statement row carries its sign in direction, never in its amounts');
      row.rowNo = out.rows.length + 1;
      out.rows.push(row);
    }
    out.reports.push(read.report);
    out.skipped += read.skipped;
  }
  withKeys(out.rows, channel.keys);
  return out;
}

function fileRows(file: StatementFile, channel: ChannelConfig, firstRow: (row: StatementRow) => void): FileRows {
  switch (channel.format) {
    case 'mt940':
    case 'mt942':
      return swiftRows(file, channel.format, channel);
    case 'camt.052':
    case 'camt.053':
    case 'camt.054':
      return camtRows(file, channel.format, channel);
    case 'wechatpay-tradebill':
      return wechatRows(file, channel, firstRow);
    case 'csv':
      return csvRows(file, channel);
    case 'bai2':
      return bai2Rows(file, channel);
    case 'ofx':
      return ofxRows(file, channel);
    case 'alipay-tradebill':
      return alipayRows(file, channel);
  }
}

function alipayRows(file: StatementFile, channel: ChannelConfig): FileRows {
  const bill = file.alipay;
  if (bill === undefined || 'unreadable' in bill) return refused(file, 'alipay-bill', bill?.unreadable ?? 'an Alipay bill is read from its archive');
  const report = checkAlipayBill(bill, file.name);
  if (channel.statementAccount !== null && bill.account !== channel.statementAccount) {
    report.problems.push({ code: 'format', locator: file.name, message: `the bill is account ${bill.account}'s, not the channel's ${channel.statementAccount}` });
  }
  const read = rowsFromAlipayBill(bill, file.name, channel.timeZone);
  report.problems.push(...read.problems);
  return { report, rows: read.rows, skipped: 0 };
}

function ofxRows(file: StatementFile, channel: ChannelConfig): FileRows {
  let statements: OfxStatement[];
  try {
    statements = readOfx(file.text);
  } catch (error) {
    if (!(error instanceof OfxReadError)) throw error;
    return refused(file, 'ofx', error.message);
  }
  const report = checkOfxStatements(statements, file.name);
  const ours = channel.statementAccount === null ? statements : statements.filter((statement) => statement.accountId === channel.statementAccount);
  if (ours.length === 0 && statements.length > 0) {
    report.problems.push({ code: 'format', locator: file.name, message: `no statement of account ${channel.statementAccount} (the file is about ${[...new Set(statements.map((st) => st.accountId))].join(', ')})` });
  }
  const read = rowsFromOfx(ours, file.name);
  report.problems.push(...read.problems);
  return { report, rows: read.rows, skipped: 0 };
}

function bai2Rows(file: StatementFile, channel: ChannelConfig): FileRows {
  const { accounts, ...report } = checkBai2(file.text, file.name);
  const ours = channel.statementAccount === null ? accounts : accounts.filter((account) => account.account === channel.statementAccount);
  if (ours.length === 0 && accounts.length > 0) {
    report.problems.push({ code: 'format', locator: file.name, message: `no account ${channel.statementAccount} in the file (it reports ${[...new Set(accounts.map((a) => a.account))].join(', ')})` });
  }
  const read = rowsFromBai2(ours, file.name);
  report.problems.push(...read.problems);
  return { report, rows: read.rows, skipped: 0 };
}

function swiftRows(file: StatementFile, format: 'mt940' | 'mt942', channel: ChannelConfig): FileRows {
  const { statements, ...report } = checkSwiftStatements(file.text, format, file.name);
  const ours = ofAccount(statements, channel, report);
  const read = rowsFromSwift(ours, file.name);
  report.problems.push(...read.problems);
  return { report, rows: read.rows, skipped: read.skipped };
}

function camtRows(file: StatementFile, format: string, channel: ChannelConfig): FileRows {
  let statements: CamtStatement[];
  try {
    statements = readCamt(file.text);
  } catch (error) {
    if (!(error instanceof CamtReadError)) throw error;
    return refused(file, format, error.message);
  }
  const report = checkCamtStatements(statements, format, file.name, channel.checks.balanceBasis);
  const read = rowsFromCamt(ofAccount(statements, channel, report), { file: file.name, granularity: channel.granularity, timeZone: channel.timeZone });
  report.problems.push(...read.problems);
  return { report, rows: read.rows, skipped: 0 };
}

/** The statements of the channel's account (all when it names none); a file holding none of them is a problem. */
function ofAccount<T extends SwiftStatement | CamtStatement>(statements: readonly T[], channel: ChannelConfig, report: StatementReport): T[] {
  if (channel.statementAccount === null) return [...statements];
  const ours = statements.filter((statement) => statement.account === channel.statementAccount);
  if (ours.length === 0 && statements.length > 0) {
    const accounts = [...new Set(statements.map((statement) => statement.account))].join(', ');
    report.problems.push({ code: 'format', locator: report.file, message: `no statement of the channel's account ${channel.statementAccount} (the file is about ${accounts})` });
  }
  return ours;
}

/**
 * A bill read as it is parsed: each detail row checked (core/recon/wechat-bill.ts), checked for the merchant and
 * read into its standard row at once, never held as cells. Problems are reported in the order a whole-bill read
 * gives them: the bill's checks, the merchant's, then the rows' own.
 */
function wechatRows(file: StatementFile, channel: ChannelConfig, firstRow: (row: StatementRow) => void): FileRows {
  let check: WechatBillCheck | null = null;
  let reader: ColumnRowReader | null = null;
  let summary: WechatBill['summary'] = null;
  const merchant = new MerchantCheck(channel.statementAccount);
  const rowProblems: StatementProblem[] = [];
  const rows: StatementRow[] = [];
  let earliestMs = Infinity;
  try {
    readWechatBillRows(file.text, {
      header: (header) => {
        check = new WechatBillCheck(header, file.name);
        if (!check.readable) return; // the check says which columns are missing: no rows to read
        merchant.column = header.indexOf(wechatMerchantColumn);
        const setup = { file: file.name, format: 'wechatpay-tradebill', header, headerLine: 1, csv: null, statementKey: '' } as const;
        reader = new ColumnRowReader({ ...setup, mapping: channel.mapping ?? {}, currency: channel.currency, timeZone: channel.timeZone }, rowProblems);
      },
      row: (line, cells) => {
        check!.row(line, cells);
        if (reader === null) return;
        merchant.row(line, cells);
        const row = reader.read(line, cells);
        if (row === null) return;
        if (row.transactionTimeMs !== null && row.transactionTimeMs < earliestMs) earliestMs = row.transactionTimeMs;
        if (rows.push(row) === 1) firstRow(row);
      },
      summary: (read) => (summary = read),
    });
  } catch (error) {
    if (!(error instanceof BillReadError)) throw error;
    return refused(file, 'wechat-bill', error.message);
  }
  const report = check!.finish(summary);
  if (reader === null) return { report, rows: [], skipped: 0 };
  merchant.report(report);
  report.problems.push(...rowProblems);
  // A bill's identity: its merchant and the local day of its earliest row (rows are not in time order).
  const statementKey = `${merchant.first}/${earliestMs === Infinity ? 0 : dateNumberOfMs(earliestMs, channel.timeZone)}`;
  for (const row of rows) row.statementKey = statementKey;
  return { report, rows, skipped: 0 };
}

/** Every row of a bill is the channel's merchant's: counted as the rows go by. */
class MerchantCheck {
  /** The bill's merchant column (−1: it has none). */
  column = -1;
  /** The first row's merchant: the bill's, in its identity. */
  first = '';
  #rows = 0;
  #others = 0;
  #firstOther: { line: number; merchant: string } | null = null;

  constructor(readonly statementAccount: string | null) {}

  row(line: number, cells: readonly string[]): void {
    const merchant = cells[this.column] ?? '';
    if (this.#rows++ === 0) this.first = merchant;
    if (this.statementAccount === null || this.column < 0 || merchant === this.statementAccount) return;
    this.#others++;
    this.#firstOther ??= { line, merchant };
  }

  report(report: StatementReport): void {
    if (this.statementAccount === null || this.#rows === 0) return;
    if (this.column < 0) {
      report.problems.push({ code: 'format', locator: `${report.file}:1`, message: `the bill has no ${wechatMerchantColumn} column to tell whose it is` });
      return;
    }
    if (this.#firstOther === null) return;
    const what = this.#others === this.#rows ? 'none of its rows is' : `${this.#others} of its ${this.#rows} rows are not`;
    report.problems.push({ code: 'format', locator: `${report.file}:${this.#firstOther.line}`, message: `${what} of the channel's merchant ${this.statementAccount} (${wechatMerchantColumn} ${this.#firstOther.merchant})` });
  }
}

function csvRows(file: StatementFile, channel: ChannelConfig): FileRows {
  let table: TemplateTable;
  try {
    table = readCsvTemplate(file.text, channel.csv!);
  } catch (error) {
    if (!(error instanceof CsvTemplateReadError)) throw error;
    return refused(file, 'csv', error.message, error.line);
  }
  const report: StatementReport = { format: 'csv', file: file.name, entries: table.rows.length, problems: [], warnings: [] };
  const rows = columnRows({ file: file.name, format: 'csv', header: table.header, headerLine: table.headerLine, rows: table.rows, csv: channel.csv, statementKey: file.name }, channel, report);
  return { report, rows, skipped: 0 };
}

function columnRows(input: Omit<ColumnRowsInput, 'mapping' | 'currency' | 'timeZone'>, channel: ChannelConfig, report: StatementReport): StatementRow[] {
  const read = rowsFromColumns({ ...input, mapping: channel.mapping ?? {}, currency: channel.currency, timeZone: channel.timeZone });
  report.problems.push(...read.problems);
  return read.rows;
}

/** Rows in another currency than the channel's: one problem per currency, naming the first such row. */
function checkCurrency(read: FileRows, currency: string): void {
  const foreign = new Map<string, { count: number; first: StatementRow }>();
  for (const row of read.rows) {
    if (row.currency === currency) continue;
    const seen = foreign.get(row.currency);
    if (seen === undefined) foreign.set(row.currency, { count: 1, first: row });
    else seen.count++;
  }
  for (const [other, { count, first }] of foreign) {
    read.report.problems.push({ code: 'currency', locator: first.locator, message: `${count} row(s) in ${other}; the channel's currency is ${currency}` });
  }
}

function refused(file: StatementFile, format: string, message: string, line: number | null = null): FileRows {
  const problem: StatementProblem = { code: 'format', locator: line === null ? file.name : `${file.name}:${line}`, message };
  return { report: { format, file: file.name, entries: 0, problems: [problem], warnings: [] }, rows: [], skipped: 0 };
}
