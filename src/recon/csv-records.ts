// The one way reconciliation reads CSV text into records (issue #17), with csv-parse: strings only (never cast to
// numbers: amounts stay exact text), ragged rows kept for the checks to name, empty lines skipped, each record
// bounded, and every record with its 1-based line in the file — `linesBefore` lines of the file came before `text`
// (a bank's header block, Alipay's `#` lines), so lines in records and in parse errors are the file's own.

import { parse } from 'csv-parse/sync';
import { statementRecordBytesMax } from '../core/limits.js';

export interface CsvRecord {
  line: number;
  cells: string[];
}

/** What csv-parse refused, with the file's line where it knows one. */
export class CsvRecordsError extends Error {
  constructor(message: string, readonly line: number | null) {
    super(message);
  }
}

export function csvRecords(text: string, options: { delimiter: string; quote: string; linesBefore: number }): CsvRecord[] {
  const { linesBefore } = options;
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(text, {
      delimiter: options.delimiter,
      quote: options.quote,
      bom: false, // callers take a BOM off before they look for where the records begin
      cast: false,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: statementRecordBytesMax,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    const message = (error as Error).message.replace(/\bline ([0-9]+)/g, (_, n: string) => `line ${Number(n) + linesBefore}`);
    throw new CsvRecordsError(message, typeof line === 'number' ? line + linesBefore : null);
  }
  return parsed.map(({ record, info }) => ({ line: info.lines + linesBefore, cells: record }));
}
