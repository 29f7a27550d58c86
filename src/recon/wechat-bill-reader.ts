// A WeChat Pay trade bill's text to rows of text cells (core/recon/wechat-bill.ts checks them), by csv-records.ts:
// strings only (never cast to numbers), a BOM taken off, ragged rows kept for the check to name. WeChat prefixes
// every value with a back-tick so that spreadsheets keep ids as text: exactly one is taken off each cell. Rows are
// handed on as they are parsed (readWechatBillRows): a million-row bill is never held as cells.

import type { WechatBill } from '../core/recon/wechat-bill.js';
import { CsvRecordsError, forEachCsvRecord, forEachCsvRecordOfPieces, type TextPieces } from './csv-records.js';

export class BillReadError extends Error {}

/** What a bill is read into, in the file's order: its header, each detail row, then its summary when it has one. */
export interface WechatBillSink {
  header(cells: string[]): void;
  row(line: number, cells: string[]): void;
  summary(summary: NonNullable<WechatBill['summary']>): void;
}

/** The marker in the first cell of the summary's header row. */
const summaryMarker = '总交易单数';

/** A cell as its value: one back-tick taken off the front, then trimmed. */
export const stripBillCell = (cell: string): string => (cell.startsWith('`') ? cell.slice(1) : cell).trim();
const strip = stripBillCell;

/**
 * A later part of a bill read on its own (statement-rows.ts reads a big bill's halves side by side): the header the
 * first part read, and the lines of the file before the part.
 */
export interface BillPart {
  header: string[];
  linesBefore: number;
}

/**
 * Reads the bill into `sink`; throws BillReadError for text that is no CSV (a stray quote, a record past the bound).
 * The bill is its whole text, or pieces of it (csv-records.ts textPieces) when it holds no quote character. With
 * `part`, the text is a later part of the bill's: its header is read already (the sink hears none) and its lines
 * are numbered from the part's place in the file.
 */
export function readWechatBillRows(bill: string | TextPieces, sink: WechatBillSink, part?: BillPart): void {
  let headerSeen = part !== undefined;
  let summaryHeader: { line: number; header: string[] } | null = null;
  try {
    const visit = (line: number, record: string[]): boolean => {
      if (!headerSeen) {
        headerSeen = true;
        sink.header(record.map((cell) => cell.trim()));
      } else if (summaryHeader !== null) {
        sink.summary({ line, header: summaryHeader.header, cells: record.map(strip) });
        summaryHeader = null;
        return false;
      } else if (strip(record[0] ?? '') === summaryMarker) summaryHeader = { line, header: record.map(strip) };
      else sink.row(line, record.map(strip));
      return true;
    };
    const options = { delimiter: ',', quote: '"', linesBefore: part?.linesBefore ?? 0 };
    // A byte-order mark starts the file only: a later part's text is taken as it is.
    if (typeof bill === 'string') forEachCsvRecord(part === undefined ? withoutBom(bill) : bill, options, visit);
    else forEachCsvRecordOfPieces(part === undefined ? piecesWithoutBom(bill) : bill, options, visit);
  } catch (error) {
    if (error instanceof CsvRecordsError) throw new BillReadError(error.message);
    throw error;
  }
  if (!headerSeen) sink.header([]);
  // A summary header with no row under it: the check finds its totals missing.
  const pending = summaryHeader as { line: number; header: string[] } | null;
  if (pending !== null) sink.summary({ line: pending.line, header: pending.header, cells: [] });
}

const withoutBom = (text: string): string => (text.startsWith('\uFEFF') ? text.slice(1) : text);

function piecesWithoutBom(pieces: TextPieces): TextPieces {
  return {
    lineBreak: pieces.lineBreak,
    *[Symbol.iterator]() {
      let first = true;
      for (const piece of pieces) {
        yield first ? withoutBom(piece) : piece;
        first = false;
      }
    },
  };
}

/** The whole bill as rows of cells (tally recon check, tests). */
export function readWechatBill(text: string): WechatBill {
  const bill: WechatBill = { header: [], rows: [], summary: null };
  readWechatBillRows(text, {
    header: (cells) => (bill.header = cells),
    row: (line, cells) => bill.rows.push({ line, cells }),
    summary: (summary) => (bill.summary = summary),
  });
  return bill;
}
