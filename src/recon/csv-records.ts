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
  if (recordsAreLines(text, options.quote)) unquotedRecords(text, options, visit);
  else quotedRecords(text, options, visit);
}

/** Whether text (or a file's bytes, for an ASCII quote) holds no quote character: then each record is one line. */
export function recordsAreLines(text: string | Uint8Array, quote: string): boolean {
  if (quote === '') return true;
  return typeof text === 'string' ? !text.includes(quote) : !text.includes(quote.charCodeAt(0));
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
  const lineBreak = lineBreakOfBytes(bytes);
  return { lineBreak, [Symbol.iterator]: () => piecesOf(bytes, new TextDecoder(label), size, lineBreak) };
}

function* piecesOf(bytes: Uint8Array, decoder: { decode(bytes: Uint8Array): string }, size: number, lineBreak: TextPieces['lineBreak']): Generator<string> {
  let start = 0;
  for (;;) {
    const end = start + size < bytes.length ? lineBreakAt(bytes, start + size, lineBreak) : -1;
    if (end < 0) {
      yield decoder.decode(bytes.subarray(start));
      return;
    }
    yield decoder.decode(bytes.subarray(start, end));
    start = end + lineBreak.length;
  }
}

/** lineBreakOf for bytes in an ASCII-compatible encoding (a line break byte is never part of another character). */
export function lineBreakOfBytes(bytes: Uint8Array): TextPieces['lineBreak'] {
  const lf = bytes.indexOf(0x0a);
  // A CR matters only before the first LF: not a scan of the whole file for one it may not hold (hundreds of MB).
  const cr = (lf < 0 ? bytes : bytes.subarray(0, lf)).indexOf(0x0d);
  if (cr < 0 || (lf >= 0 && lf < cr)) return '\n';
  return bytes[cr + 1] === 0x0a ? '\r\n' : '\r';
}

/** Where the first `lineBreak` at or after `from` begins in `bytes`, or −1 (a lone CR or LF is no CRLF). */
function lineBreakAt(bytes: Uint8Array, from: number, lineBreak: TextPieces['lineBreak']): number {
  if (lineBreak === '\r') return bytes.indexOf(0x0d, from);
  let at = bytes.indexOf(0x0a, from);
  if (lineBreak === '\r\n') while (at >= 0 && (at === 0 || bytes[at - 1] !== 0x0d)) at = bytes.indexOf(0x0a, at + 1);
  return lineBreak === '\r\n' && at >= 0 ? at - 1 : at;
}

/**
 * Where each line of `bytes` begins, the lines as the quote-free parser counts them (split at `lineBreak` only):
 * line n (1-based) is bytes[starts[n − 1], starts[n] − lineBreak.length), the last one to the end.
 */
export function lineStarts(bytes: Uint8Array, lineBreak: TextPieces['lineBreak']): Float64Array {
  const starts: number[] = [0];
  for (let at = lineBreakAt(bytes, 0, lineBreak); at >= 0; at = lineBreakAt(bytes, at + lineBreak.length, lineBreak)) starts.push(at + lineBreak.length);
  return Float64Array.from(starts);
}

/** How many `lineBreak`s `bytes` holds before `end`: the lines of the file before a part that starts there. */
export function lineBreaksBefore(bytes: Uint8Array, end: number, lineBreak: TextPieces['lineBreak']): number {
  let count = 0;
  for (let at = lineBreakAt(bytes, 0, lineBreak); at >= 0 && at + lineBreak.length <= end; at = lineBreakAt(bytes, at + lineBreak.length, lineBreak)) count++;
  return count;
}

/** The start of the first line that begins at or after `at` (just past a `lineBreak`), or −1 when none does. */
export function lineStartFrom(bytes: Uint8Array, at: number, lineBreak: TextPieces['lineBreak']): number {
  const found = lineBreakAt(bytes, Math.max(0, at - lineBreak.length), lineBreak);
  return found < 0 || found + lineBreak.length >= bytes.length ? -1 : found + lineBreak.length;
}
