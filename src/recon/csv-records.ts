// The one way reconciliation reads CSV text into records (issue #17): strings only (never cast to numbers: amounts
// stay exact text), ragged rows kept for the checks to name, empty lines skipped, each record bounded, and every
// record with its 1-based line in the file — `linesBefore` lines of the file came before `text` (a bank's header
// block, Alipay's `#` lines), so lines in records and in errors are the file's own.
//
// Two parsers, chosen by the text. Text that holds the quote character goes through csv-parse, which is strict
// about quoting (a quote inside an unquoted cell, an unclosed quote: refused with the line). Text without it — a
// WeChat Pay or Alipay bill, most bank exports — has one record per line and nothing to unquote, and goes through
// papaparse's fast mode: ~1 s for a million-row bill against 9–12 s for csv-parse (bench/RESULTS.md, 2026-12-07),
// which also let a bill's rows be built as they are read instead of held as records (gigabytes of cells).

import { parse as parseStrict } from 'csv-parse/sync';
import Papa from 'papaparse';
import { statementRecordBytesMax } from '../core/limits.js';

export interface CsvRecord {
  line: number;
  cells: string[];
}

export interface CsvOptions {
  delimiter: string;
  quote: string;
  /** Lines of the file before `text`: added to every line number. */
  linesBefore: number;
}

/** What the parser refused, with the file's line where it knows one. */
export class CsvRecordsError extends Error {
  constructor(message: string, readonly line: number | null) {
    super(message);
  }
}

/** Every record of `text`, in order. */
export function csvRecords(text: string, options: CsvOptions): CsvRecord[] {
  const records: CsvRecord[] = [];
  forEachCsvRecord(text, options, (line, cells) => {
    records.push({ line, cells });
  });
  return records;
}

/**
 * Hands each record to `visit` as it is parsed, none kept; `visit` returns false to stop early (a footer reached).
 * Throws CsvRecordsError for text that is no CSV (the records before it were visited).
 */
export function forEachCsvRecord(text: string, options: CsvOptions, visit: (line: number, cells: string[]) => boolean | void): void {
  if (options.quote !== '' && text.includes(options.quote)) quotedRecords(text, options, visit);
  else unquotedRecords(text, options, visit);
}

function quotedRecords(text: string, options: CsvOptions, visit: (line: number, cells: string[]) => boolean | void): void {
  const { linesBefore } = options;
  let stopped = false;
  let visitFailed: { error: unknown } | null = null;
  try {
    parseStrict(text, {
      delimiter: options.delimiter,
      quote: options.quote,
      bom: false, // callers take a BOM off before they look for where the records begin
      cast: false,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: statementRecordBytesMax,
      // Records are handed on here and dropped (null): csv-parse keeps none of them.
      // A throw in here would come back as csv-parse's own error: it is kept and thrown as it was.
      on_record: (record: string[], info: { lines: number }) => {
        if (stopped) return null;
        try {
          if (visit(info.lines + linesBefore, record) === false) stopped = true;
        } catch (error) {
          visitFailed = { error };
          stopped = true;
        }
        return null;
      },
    });
  } catch (error) {
    if (visitFailed !== null) throw (visitFailed as { error: unknown }).error;
    const line = (error as { lines?: number }).lines;
    const message = (error as Error).message.replace(/\bline ([0-9]+)/g, (_, n: string) => `line ${Number(n) + linesBefore}`);
    throw new CsvRecordsError(message, typeof line === 'number' ? line + linesBefore : null);
  }
  if (visitFailed !== null) throw (visitFailed as { error: unknown }).error;
}

/** The record separator of quote-free text, as csv-parse finds it: the first line break, `\r\n`, `\n` or `\r`. */
function lineBreakOf(text: string): '\r\n' | '\n' | '\r' {
  const at = text.search(/[\r\n]/);
  if (at < 0 || text[at] === '\n') return '\n';
  return text[at + 1] === '\n' ? '\r\n' : '\r';
}

/** Text in pieces (textPieces), with the line break its lines end with (the first one of the whole text). */
export interface TextPieces extends Iterable<string> {
  readonly lineBreak: '\r\n' | '\n' | '\r';
}

/**
 * forEachCsvRecord over text that comes in pieces, each ending where a line ends (the line break between two pieces
 * is left out of both: see textPieces), and that holds no quote character: the quote-free path of forEachCsvRecord,
 * line numbers running on across the pieces. A million-row bill is then never one string.
 */
export function forEachCsvRecordOfPieces(pieces: TextPieces, options: CsvOptions, visit: (line: number, cells: string[]) => boolean | void): void {
  let line = options.linesBefore;
  let stopped = false;
  for (const piece of pieces) {
    // An empty piece is one empty line (papaparse visits nothing in empty text, but counts an empty line in others).
    if (piece === '') {
      line++;
      continue;
    }
    line = unquotedRecords(piece, { ...options, linesBefore: line }, (at, cells) => {
      const more = visit(at, cells);
      if (more === false) stopped = true;
      return more;
    }, pieces.lineBreak);
    if (stopped) return;
  }
}

function unquotedRecords(text: string, options: CsvOptions, visit: (line: number, cells: string[]) => boolean | void, newline = lineBreakOf(text)): number {
  let line = options.linesBefore;
  let failure: CsvRecordsError | null = null;
  Papa.parse<string[]>(text, {
    delimiter: options.delimiter,
    newline,
    fastMode: true, // no quote in the text: a record is a line, split at the delimiter
    skipEmptyLines: false, // every line is counted here, so that line numbers stay the file's
    step: (result, parser) => {
      line++;
      const cells = result.data;
      if (cells.length === 1 && cells[0] === '') return; // an empty line
      let chars = cells.length - 1;
      for (const cell of cells) chars += cell.length;
      if (chars > statementRecordBytesMax) failure = new CsvRecordsError(`line ${line} holds ${chars} characters: a record is at most ${statementRecordBytesMax}`, line);
      else if (visit(line, cells) !== false) return;
      parser.abort();
    },
  });
  if (failure !== null) throw failure;
  return line;
}

/** Bytes of a file decoded at a time by textPieces: a few megabytes of text alive at once, not the whole file. */
const pieceBytes = 8 * 1024 * 1024;

/**
 * The text of `bytes` (in an ASCII-compatible encoding, where a line break byte is never part of another
 * character) decoded piece by piece, each piece ending where a line ends, the line break between two pieces in
 * neither: the pieces forEachCsvRecordOfPieces reads. The line break is the first one the bytes hold (as
 * lineBreakOf finds it in text); a piece is cut at the first such break `size` bytes or more past its start.
 */
export function textPieces(bytes: Uint8Array, label: string, size = pieceBytes): TextPieces {
  const lf = bytes.indexOf(0x0a);
  const cr = bytes.indexOf(0x0d);
  const crFirst = cr >= 0 && (lf < 0 || cr < lf);
  const crlf = crFirst && bytes[cr + 1] === 0x0a;
  // Pieces are cut at the byte that ends a line break: LF for "\n" and "\r\n", CR for a lone "\r".
  const breakByte = crFirst && !crlf ? 0x0d : 0x0a;
  return { lineBreak: crlf ? '\r\n' : crFirst ? '\r' : '\n', [Symbol.iterator]: () => piecesOf(bytes, new TextDecoder(label), size, breakByte, crlf) };
}

function* piecesOf(bytes: Uint8Array, decoder: { decode(bytes: Uint8Array): string }, size: number, breakByte: number, crlf: boolean): Generator<string> {
  let start = 0;
  for (;;) {
    // The first line break at or past start + size (for CRLF, an LF right after a CR).
    let at = start + size < bytes.length ? bytes.indexOf(breakByte, start + size) : -1;
    while (crlf && at >= 0 && bytes[at - 1] !== 0x0d) at = bytes.indexOf(breakByte, at + 1);
    if (at < 0) {
      yield decoder.decode(bytes.subarray(start));
      return;
    }
    yield decoder.decode(bytes.subarray(start, crlf ? at - 1 : at));
    start = at + 1;
  }
}
