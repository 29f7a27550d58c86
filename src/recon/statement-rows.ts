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
import { WechatBillCheck, type WechatBill, type WechatBillCheckPart } from '../core/recon/wechat-bill.js';
import { CamtReadError, readCamt } from './camt-reader.js';
import { CsvTemplateReadError, readCsvTemplate, type TemplateTable } from './csv-template-reader.js';
import { rowKeyer } from './row-keys.js';
import { StatementRowTable, type RowRemaker, type StatementRowSource, type StatementRowTablePart } from '../core/recon/statement-row-table.js';
import { BillReadError, readWechatBillRows, stripBillCell, type BillPart } from './wechat-bill-reader.js';
import { lineBreakOfBytes, lineBreaksBefore, lineStarts, recordsAreLines, textPieces, type TextPieces } from './csv-records.js';

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
  const batch = new BatchRows(channel, onFirstRow);
  for (const file of files) {
    const from = batch.length; // a bill's rows go into the table as they are read
    batch.add(file, fileRows(file, channel, batch.firstRow, batch.sink), from);
  }
  return batch.done();
}

/**
 * statementRows of one WeChat Pay bill read in two parts side by side (a million-row bill is seconds of parsing, and
 * one import's thread left the machine's other core idle): this thread reads the bill up to `split.at`, a line
 * start near its middle; `split.start` reads the rest elsewhere (bill-half.worker.ts), begun as soon as this part's
 * first row is checked (the later part's rows are held to that row's currency). The later part's rows, checks and
 * problems are then taken in after this part's, so the batch reads as the whole bill read in one go would.
 */
export async function splitBillRows(file: StatementFile & { bytes: { data: Uint8Array; encoding: string } }, split: BillSplit, channel: ChannelConfig, onFirstRow: (row: StatementRow) => void = () => {}): Promise<StatementRows> {
  const batch = new BatchRows(channel, onFirstRow);
  const from = batch.length;
  const bytes = file.bytes.data;
  const lineBreak = lineBreakOfBytes(bytes);
  const bill = new BillRowsReader(file.name, channel, batch.sink, file.bytes, batch.firstRow);
  // The later part as this part's header and first row say it (read elsewhere, or here when never started).
  const laterPart = (): BillHalfInput => ({ file: file.name, bytes, encoding: file.bytes.encoding, at: split.at, header: bill.header, currency: bill.check?.currency ?? '', channel });
  let later: ReturnType<BillSplit['start']> | null = null;
  const startLater = (): void => {
    if (later !== null || bill.check === null || !bill.check.readable || bill.check.currency === '') return;
    later = split.start(laterPart());
  };
  // This part ends before the line break that ends its last line (the later part's first line starts after it).
  const first = bill.read(textPieces(bytes.subarray(0, split.at - lineBreak.length), file.bytes.encoding), undefined, startLater);
  const started = later as ReturnType<BillSplit['start']> | null;
  // A layout one read of the whole takes otherwise than two halves — no header in this part (a file opening with
  // empty lines), or a summary here (a whole read stops at it) — is read again whole, here: splitting must never
  // change what a bill says. The first row was told already.
  if (first === null && (bill.header.length === 0 || bill.summary !== null)) {
    started?.stop();
    return statementRows([{ name: file.name, text: '', bytes: file.bytes, pieces: () => textPieces(bytes, file.bytes.encoding) }], channel);
  }
  if (first !== null) started?.stop();
  // Not started (no row had a currency yet, or the header lacks columns): the rest is read here, as a whole read would.
  const result = first !== null ? { refused: first } : started !== null ? await started.result : readBillHalf(laterPart());
  batch.add(file, 'refused' in result ? refused(file, 'wechat-bill', result.refused) : bill.finish(result), from);
  return batch.done();
}

/** A batch's rows as its files are read: numbered and keyed in order, checked for currency, bounded. */
class BatchRows {
  readonly #table = new StatementRowTable();
  readonly #reports: StatementReport[] = [];
  readonly #ofxLinks: OfxChainLink[] = [];
  #skipped = 0;
  readonly sink: RowSink;
  #first: ((row: StatementRow) => void) | null;
  readonly firstRow = (row: StatementRow): void => {
    this.#first?.(row);
    this.#first = null;
  };

  constructor(readonly channel: ChannelConfig, onFirstRow: (row: StatementRow) => void) {
    this.#first = onFirstRow;
    this.sink = { table: this.#table, keyOf: rowKeyer(channel.keys), room: () => statementRowsMax - this.#table.length };
  }

  get length(): number {
    return this.#table.length;
  }

  /** `read`: the file's rows (fileRows); those it put into the table as it read them start at `from`. */
  add(file: StatementFile, read: FileRows, from: number): void {
    if (read.rows !== null) {
      if (read.rows.length > 0) this.firstRow(read.rows[0]!);
      for (const row of read.rows) {
        if (this.sink.room() === 0) {
          read.over = true;
          break;
        }
        assertUnsigned(row);
        row.key128 = this.sink.keyOf(row);
        this.#table.addKept(row);
      }
    }
    checkCurrency(this.#table, from, read.report, this.channel.currency);
    if (read.over === true) read.report.problems.push(tooMany(file.name));
    this.#ofxLinks.push(...(read.ofxLinks ?? []));
    this.#reports.push(read.report);
    this.#skipped += read.skipped;
  }

  done(): StatementRows {
    const table = this.#table;
    let whole: StatementRow[] | null = null;
    return {
      source: table,
      get rows() {
        whole ??= Array.from({ length: table.length }, (_, i) => table.row(i));
        return whole;
      },
      reports: this.#reports,
      skipped: this.#skipped,
      ofxLinks: this.#ofxLinks,
    };
  }
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
  // Rows are packed where they can be made whole again from the file's bytes: a record is a line (no quotes).
  // Otherwise (a bill with quotes, or only its text) they are kept as they are read.
  const packed = file.bytes !== undefined && recordsAreLines(file.bytes.data, '"') ? file.bytes : null;
  const bill = new BillRowsReader(file.name, channel, sink, packed, firstRow);
  const refusal = bill.read(file.pieces?.() ?? file.text);
  return refusal !== null ? refused(file, 'wechat-bill', refusal) : bill.finish(null);
}

/** Where a big bill splits, and how its later part is read elsewhere (splitBillRows). */
export interface BillSplit {
  /** The byte where the later part begins: the start of a line past the header and the first row. */
  at: number;
  /** Starts reading the later part (on another thread): its result, and a stop for when it is no longer wanted. */
  start(input: BillHalfInput): { result: Promise<BillHalfResult>; stop(): void };
}

/** What reading a bill's later part needs: structured-cloneable (the bytes may be a SharedArrayBuffer's). */
export interface BillHalfInput {
  file: string;
  /** The whole bill (rows are made whole again from it by line), and its encoding. */
  bytes: Uint8Array;
  encoding: string;
  at: number;
  /** The bill's header, as the first part read it, and its first row's currency. */
  header: string[];
  currency: string;
  channel: ChannelConfig;
}

/** A later part of a bill, read (readBillHalf), or why it could not be (the text is no CSV there). */
export type BillHalfResult =
  | { refused: string }
  | { table: StatementRowTablePart; check: WechatBillCheckPart; merchant: MerchantCheckPart; rowProblems: StatementProblem[]; earliestMs: number; summary: WechatBill['summary'] };

/** Reads a bill's later part as its first part's reader would (bill-half.worker.ts runs it; so do tests, in process). */
export function readBillHalf(input: BillHalfInput): BillHalfResult {
  const { bytes, at } = input;
  const lineBreak = lineBreakOfBytes(bytes);
  const table = new StatementRowTable();
  // The bound applies to the whole batch: the first part's reader cuts there when it takes this part in.
  const sink: RowSink = { table, keyOf: rowKeyer(input.channel.keys), room: () => statementRowsMax };
  const bill = new BillRowsReader(input.file, input.channel, sink, { data: bytes, encoding: input.encoding }, () => {}, { currency: input.currency });
  bill.onHeader(input.header);
  const refusal = bill.read(textPieces(bytes.subarray(at), input.encoding), { header: input.header, linesBefore: lineBreaksBefore(bytes, at, lineBreak) });
  if (refusal !== null) return { refused: refusal };
  assert(bill.check !== null, 'a later part is read with its header');
  return { table: table.part(), check: bill.check.part(), merchant: bill.merchant.part(), rowProblems: bill.rowProblems, earliestMs: bill.earliestMs, summary: bill.summary };
}

/** One bill, or a part of it, read into a batch's table: its checks, its merchant's, its rows' problems. */
class BillRowsReader {
  check: WechatBillCheck | null = null;
  reader: ColumnRowReader | null = null;
  summary: WechatBill['summary'] = null;
  header: string[] = [];
  fileNo = -1;
  over = false;
  earliestMs = Infinity;
  readonly merchant: MerchantCheck;
  readonly rowProblems: StatementProblem[] = [];

  constructor(
    readonly file: string,
    readonly channel: ChannelConfig,
    readonly sink: RowSink,
    /** The file's bytes when its rows are packed (made whole again from them), else null: rows kept whole. */
    readonly packed: { data: Uint8Array; encoding: string } | null,
    readonly firstRow: (row: StatementRow) => void,
    /** A later part of the bill read on its own: the bill's currency as its first part's first row set it. */
    readonly later?: { currency: string },
  ) {
    this.merchant = new MerchantCheck(channel.statementAccount);
  }

  /** Reads `text` (all of the bill, or with `part` a later part of it); the refusal's message when it is no CSV. `onRow` follows each row. */
  read(text: string | TextPieces, part?: BillPart, onRow: () => void = () => {}): string | null {
    try {
      readWechatBillRows(text, {
        header: (header) => this.onHeader(header),
        row: (line, cells) => {
          this.onRow(line, cells);
          onRow();
        },
        summary: (read) => (this.summary = read),
      }, part);
    } catch (error) {
      if (!(error instanceof BillReadError)) throw error;
      return error.message;
    }
    return null;
  }

  onHeader(header: string[]): void {
    this.header = header;
    this.check = new WechatBillCheck(header, this.file, this.later);
    if (!this.check.readable) return; // the check says which columns are missing: no rows to read
    this.merchant.column = header.indexOf(wechatMerchantColumn);
    // The header's own copies: the remaker keeps them, and must keep nothing of the bill's text.
    const setup = { file: this.file, format: 'wechatpay-tradebill', header: header.map(ownedText), headerLine: 1, csv: null, statementKey: '' } as const;
    const input: ColumnRowsSetup = { ...setup, mapping: this.channel.mapping ?? {}, currency: this.channel.currency, timeZone: this.channel.timeZone };
    this.reader = new ColumnRowReader(input, this.rowProblems);
    this.fileNo = this.sink.table.addFile(this.packed === null ? unpackedBill : billRowRemaker(this.packed, input));
  }

  onRow(line: number, cells: string[]): void {
    this.check!.row(line, cells);
    if (this.reader === null) return;
    this.merchant.row(line, cells);
    const row = this.reader.read(line, cells);
    if (row === null) return;
    if (row.transactionTimeMs !== null && row.transactionTimeMs < this.earliestMs) this.earliestMs = row.transactionTimeMs;
    this.firstRow(row);
    if (this.sink.room() === 0) {
      this.over = true;
      return;
    }
    assertUnsigned(row);
    row.key128 = this.sink.keyOf(row);
    if (this.packed === null) this.sink.table.addKept(row, this.fileNo);
    else this.sink.table.addPacked(this.fileNo, line, row, ownedText(row.channelSerialNo), ownedText(row.refundNo));
  }

  /** The file's rows once read, with `later` (a later part read elsewhere) taken in after this part's. */
  finish(later: Exclude<BillHalfResult, { refused: string }> | null): FileRows {
    if (later !== null) {
      this.check!.absorb(later.check);
      this.merchant.absorb(later.merchant);
      this.rowProblems.push(...later.rowProblems);
      this.earliestMs = Math.min(this.earliestMs, later.earliestMs);
      this.summary = later.summary;
      const room = this.sink.room();
      if (later.table.length > room) this.over = true;
      // Rows only where the header let any be read (a file of the table).
      if (later.table.length > 0) this.sink.table.appendPart(this.fileNo, later.table, Math.min(room, later.table.length));
    }
    const report = this.check!.finish(this.summary);
    if (this.reader === null) return { report, rows: [], skipped: 0 };
    this.merchant.report(report);
    report.problems.push(...this.rowProblems);
    // A bill's identity: its merchant and the local day of its earliest row (rows are not in time order).
    this.sink.table.setStatementKey(this.fileNo, `${this.merchant.first}/${this.earliestMs === Infinity ? 0 : dateNumberOfMs(this.earliestMs, this.channel.timeZone)}`);
    return { report, rows: null, skipped: 0, over: this.over };
  }
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

/** What MerchantCheck counted in a part of a bill: structured-cloneable. */
export interface MerchantCheckPart {
  first: string;
  rows: number;
  others: number;
  firstOther: { line: number; merchant: string } | null;
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

  /** What this part of the bill found, for the first part's check to take in. */
  part(): MerchantCheckPart {
    return { first: this.first, rows: this.#rows, others: this.#others, firstOther: this.#firstOther };
  }

  /** Takes in a later part of the bill, counted on its own. */
  absorb(part: MerchantCheckPart): void {
    if (this.#rows === 0) this.first = part.first;
    this.#rows += part.rows;
    this.#others += part.others;
    this.#firstOther ??= part.firstOther;
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
