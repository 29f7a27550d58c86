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
import { ColumnRowReader, rowsFromColumns, type ColumnRowsInput, type ColumnRowsSetup } from '../core/recon/rows-from-columns.js';
import { rowsFromSwift } from '../core/recon/rows-from-swift.js';
import { checkBai2 } from '../core/recon/bai2.js';
import { rowsFromBai2 } from '../core/recon/rows-from-bai2.js';
import { checkOfxStatements, type OfxStatement } from '../core/recon/ofx.js';
import { rowsFromOfx } from '../core/recon/rows-from-ofx.js';
import { ofxChainLinks, type OfxChainLink } from '../core/recon/ofx-chain.js';
import { checkAlipayBill, rowsFromAlipayBill, type AlipayBill } from '../core/recon/alipay-bill.js';
import { OfxReadError, readOfx } from './ofx-reader.js';
import type { StatementProblem, StatementReport } from '../core/recon/statement-report.js';
import type { StatementRow } from '../core/recon/statement-row.js';
import { WechatBillCheck, type WechatBill } from '../core/recon/wechat-bill.js';
import { CamtReadError, readCamt } from './camt-reader.js';
import { CsvTemplateReadError, readCsvTemplate, type TemplateTable } from './csv-template-reader.js';
import { rowKeyer } from './row-keys.js';
import { StatementRowTable, type RowRemaker, type StatementRowSource } from '../core/recon/statement-row-table.js';
import { BillReadError, readWechatBillRows, stripBillCell } from './wechat-bill-reader.js';
import { lineBreakOfBytes, lineStarts, recordsAreLines, type TextPieces } from './csv-records.js';

export interface StatementFile {
  name: string;
  /** The file's text, decoded with the channel's encoding ('' for an Alipay bill, read from its archive). */
  text: string;
  /**
   * The file's bytes, when the text is their decoding with `encoding` (an ASCII-compatible one: a line break byte is
   * never part of another character): a bill's packed rows are made whole again from them, so the text can go.
   */
  bytes?: { data: Uint8Array; encoding: string };
  /** The text as pieces (csv-records.ts textPieces), in place of `text`, for a bill with no quote character. */
  pieces?: () => TextPieces;
  /** An Alipay bill, read from its zip (statement-files.ts), or why it could not be. */
  alipay?: AlipayBill | { unreadable: string };
}

export interface StatementRows {
  /** The rows, by index (row i is row number i + 1): a bill's packed (statement-row-table.ts), the others' kept whole. */
  source: StatementRowSource;
  /** Every row made whole, in order: for small statements and tests (a million-row bill's import reads `source`). */
  readonly rows: StatementRow[];
  /** One per file; any problem in any of them refuses the run. */
  reports: StatementReport[];
  /** Entries that move no money (MT940 0,00 information lines), left out. */
  skipped: number;
  /** OFX statements' links of their accounts' balance chains, in file order: the import checks them against the store. */
  ofxLinks: OfxChainLink[];
}

/** The column of a WeChat Pay bill that names the merchant (the channel's statement account). */
const wechatMerchantColumn = '商户号';

interface FileRows {
  report: StatementReport;
  /** The file's rows as objects; null when they went into the batch's table as they were read (a bill). */
  rows: StatementRow[] | null;
  skipped: number;
  /** Rows were left out: the batch reached statementRowsMax. */
  over?: boolean;
  /** An OFX file's statements of the channel's account, as links of their account's balance chain (ofx-chain.ts). */
  ofxLinks?: OfxChainLink[];
}

/** Where a file's rows go: the batch's table, numbered and keyed as they come, up to the batch's bound. */
interface RowSink {
  table: StatementRowTable;
  keyOf: (row: StatementRow) => bigint;
  /** Rows the batch may still take (statementRowsMax). */
  room(): number;
}

/**
 * `onFirstRow` hears the batch's first row as soon as it is read — for a bill, long before its last — so that the
 * caller can start reading our side of its day meanwhile (recon-service.ts).
 */
export function statementRows(files: readonly StatementFile[], channel: ChannelConfig, onFirstRow: (row: StatementRow) => void = () => {}): StatementRows {
  const table = new StatementRowTable();
  const reports: StatementReport[] = [];
  const ofxLinks: OfxChainLink[] = [];
  let skipped = 0;
  const sink: RowSink = { table, keyOf: rowKeyer(channel.keys), room: () => statementRowsMax - table.length };
  let first: ((row: StatementRow) => void) | null = onFirstRow;
  const firstRow = (row: StatementRow): void => {
    first?.(row);
    first = null;
  };
  for (const file of files) {
    const from = table.length;
    const read = fileRows(file, channel, firstRow, sink);
    if (read.rows !== null) {
      if (read.rows.length > 0) firstRow(read.rows[0]!);
      for (const row of read.rows) {
        if (sink.room() === 0) {
          read.over = true;
          break;
        }
        assertUnsigned(row);
        row.key128 = sink.keyOf(row);
        table.addKept(row);
      }
    }
    checkCurrency(table, from, read.report, channel.currency);
    if (read.over === true) read.report.problems.push(tooMany(file.name));
    ofxLinks.push(...(read.ofxLinks ?? []));
    reports.push(read.report);
    skipped += read.skipped;
  }
  let whole: StatementRow[] | null = null;
  return {
    source: table,
    get rows() {
      whole ??= Array.from({ length: table.length }, (_, i) => table.row(i));
      return whole;
    },
    reports,
    skipped,
    ofxLinks,
  };
}

function tooMany(file: string): StatementProblem {
  return { code: 'format', locator: file, message: `the batch would hold more than ${statementRowsMax} rows: split it` };
}

/** The matcher sums amounts by direction: a negative one here would be counted the wrong way round. */
function assertUnsigned(row: StatementRow): void {
  assert(row.amountMinor >= 0n && row.feeMinor >= 0n, 'a statement row carries its sign in direction, never in its amounts');
}

function fileRows(file: StatementFile, channel: ChannelConfig, firstRow: (row: StatementRow) => void, sink: RowSink): FileRows {
  switch (channel.format) {
    case 'mt940':
    case 'mt942':
      return swiftRows(file, channel.format, channel);
    case 'camt.052':
    case 'camt.053':
    case 'camt.054':
      return camtRows(file, channel.format, channel);
    case 'wechatpay-tradebill':
      return wechatRows(file, channel, firstRow, sink);
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
  return { report, rows: read.rows, skipped: 0, ofxLinks: ofxChainLinks(ours, file.name) };
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
 * read into its standard row at once, then packed into the batch's table where it can be made whole again from the
 * file's bytes (its compared fields only: a million rows as objects, and the bill's text their cells kept alive,
 * were most of a big import's heap), else kept as it is. Problems are reported
 * in the order a whole-bill read gives them: the bill's checks, the merchant's, then the rows' own.
 */
function wechatRows(file: StatementFile, channel: ChannelConfig, firstRow: (row: StatementRow) => void, sink: RowSink): FileRows {
  let check: WechatBillCheck | null = null;
  let reader: ColumnRowReader | null = null;
  let summary: WechatBill['summary'] = null;
  let fileNo = -1;
  let over = false;
  const merchant = new MerchantCheck(channel.statementAccount);
  const rowProblems: StatementProblem[] = [];
  let earliestMs = Infinity;
  // Rows are packed where they can be made whole again from the file's bytes: a record is a line (no quotes).
  // Otherwise (a bill with quotes, or only its text) they are kept as they are read.
  const packed = file.bytes !== undefined && recordsAreLines(file.bytes.data, '"') ? file.bytes : null;
  try {
    readWechatBillRows(file.pieces?.() ?? file.text, {
      header: (header) => {
        check = new WechatBillCheck(header, file.name);
        if (!check.readable) return; // the check says which columns are missing: no rows to read
        merchant.column = header.indexOf(wechatMerchantColumn);
        // The header's own copies: the remaker keeps them, and must keep nothing of the bill's text.
        const setup = { file: file.name, format: 'wechatpay-tradebill', header: header.map(ownedText), headerLine: 1, csv: null, statementKey: '' } as const;
        const input: ColumnRowsSetup = { ...setup, mapping: channel.mapping ?? {}, currency: channel.currency, timeZone: channel.timeZone };
        reader = new ColumnRowReader(input, rowProblems);
        fileNo = sink.table.addFile(packed === null ? unpackedBill : billRowRemaker(packed, input));
      },
      row: (line, cells) => {
        check!.row(line, cells);
        if (reader === null) return;
        merchant.row(line, cells);
        const row = reader.read(line, cells);
        if (row === null) return;
        if (row.transactionTimeMs !== null && row.transactionTimeMs < earliestMs) earliestMs = row.transactionTimeMs;
        firstRow(row);
        if (sink.room() === 0) {
          over = true;
          return;
        }
        assertUnsigned(row);
        row.key128 = sink.keyOf(row);
        if (packed === null) sink.table.addKept(row, fileNo);
        else sink.table.addPacked(fileNo, line, row, ownedText(row.channelSerialNo), ownedText(row.refundNo));
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
  sink.table.setStatementKey(fileNo, `${merchant.first}/${earliestMs === Infinity ? 0 : dateNumberOfMs(earliestMs, channel.timeZone)}`);
  return { report, rows: null, skipped: 0, over };
}

/**
 * A copy of `text` that holds nothing else: a cell is a slice of the bill's whole text, and one kept slice keeps
 * all of it (hundreds of megabytes) alive. JSON's round trip makes a flat string of its own, one byte per
 * character where it can (measured: 0.3 µs a cell, half the heap of a slice's copy by concatenation).
 */
function ownedText(text: string): string {
  return text === '' ? '' : (JSON.parse(JSON.stringify(text)) as string);
}

/** The remaker of a bill whose rows are all kept whole: never asked. */
const unpackedBill: RowRemaker = () => {
  assert(false, 'a bill whose rows are kept whole has none to make again');
};

/**
 * Makes a bill's row whole again from its line in the file's bytes (which the table keeps instead of the text),
 * split and stripped as readWechatBillRows does, read by a reader of the same header. Line starts are found once,
 * on the first row made again (most imports never make one: their matched rows are counted, not made).
 * Top-level, so that the closure holds only its own scope: one made inside wechatRows would keep that call's scope,
 * and with it the file's text, alive as long as the table.
 */
function billRowRemaker(file: { data: Uint8Array; encoding: string }, input: ColumnRowsSetup): RowRemaker {
  const lineBreak = lineBreakOfBytes(file.data);
  const decoder = new TextDecoder(file.encoding);
  let starts: Float64Array | null = null;
  let reader: ColumnRowReader | null = null;
  return (line) => {
    starts ??= lineStarts(file.data, lineBreak);
    reader ??= new ColumnRowReader(input, []);
    const start = starts[line - 1];
    assert(start !== undefined, 'a packed row is on a line of its file');
    const end = line < starts.length ? starts[line]! - lineBreak.length : file.data.length;
    const row = reader.read(line, decoder.decode(file.data.subarray(start, end)).split(',').map(stripBillCell));
    assert(row !== null, 'a bill row read once reads again');
    return row;
  };
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

/** Rows of a file (table rows from `from` on) in another currency than the channel's: one problem per currency, naming the first such row. */
function checkCurrency(table: StatementRowTable, from: number, report: StatementReport, currency: string): void {
  const foreign = new Map<string, { count: number; first: number }>();
  for (let i = from; i < table.length; i++) {
    const other = table.currency(i);
    if (other === currency) continue;
    const seen = foreign.get(other);
    if (seen === undefined) foreign.set(other, { count: 1, first: i });
    else seen.count++;
  }
  for (const [other, { count, first }] of foreign) {
    report.problems.push({ code: 'currency', locator: table.row(first).locator, message: `${count} row(s) in ${other}; the channel's currency is ${currency}` });
  }
}

function refused(file: StatementFile, format: string, message: string, line: number | null = null): FileRows {
  const problem: StatementProblem = { code: 'format', locator: line === null ? file.name : `${file.name}:${line}`, message };
  return { report: { format, file: file.name, entries: 0, problems: [problem], warnings: [] }, rows: [], skipped: 0 };
}
