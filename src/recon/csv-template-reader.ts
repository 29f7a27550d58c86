// A channel's CSV export read by its template (core/recon/channel-config.ts CsvTemplate) into text cells, with
// csv-parse: strings only (never cast), explicit separator and quote, a bounded record. Lines before the header row
// are skipped unparsed (banks put free text there); a row whose first cell starts a footer ends the details. The
// channel's value prefix (WeChat's back-tick) is taken off once per cell. A cell a spreadsheet would run as a
// formula refuses the file: exports get opened in spreadsheets, and a statement is no place for code.

import { csvRecords, CsvRecordsError, type CsvRecord } from './csv-records.js';
import type { CsvTemplate } from '../core/recon/channel-config.js';
import { isFormulaLike } from '../core/recon/formula-cell.js';

export interface TemplateRow {
  /** 1-based line of the file where the row ends. */
  line: number;
  cells: string[];
}

export interface TemplateTable {
  header: string[];
  headerLine: number;
  rows: TemplateRow[];
  /** The footer's rows (from the first that starts with a footer prefix to the end), [] when none. */
  footer: TemplateRow[];
}

export class CsvTemplateReadError extends Error {
  constructor(
    message: string,
    /** Line of the file, or null when the error is the file's as a whole. */
    readonly line: number | null,
  ) {
    super(message);
  }
}

export { isFormulaLike };

/** The header, detail rows and footer of `text`; throws CsvTemplateReadError for what is no such CSV. */
export function readCsvTemplate(text: string, template: CsvTemplate): TemplateTable {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const skipped = template.headerRow - 1;
  const start = lineStart(body, skipped);
  if (start === null) throw new CsvTemplateReadError(`the file has fewer than ${template.headerRow} lines: no header row at line ${template.headerRow}`, null);
  const records = parseRecords(body.slice(start), template, skipped);
  const [head, ...rest] = records;
  if (head === undefined) throw new CsvTemplateReadError(`no header row at line ${template.headerRow}`, null);
  const table: TemplateTable = { header: head.cells, headerLine: head.line, rows: [], footer: [] };
  const footerAt = rest.findIndex((row) => template.footerStartsWith.some((prefix) => (row.cells[0] ?? '').startsWith(prefix)));
  table.rows = footerAt < 0 ? rest : rest.slice(0, footerAt);
  table.footer = footerAt < 0 ? [] : rest.slice(footerAt);
  const ragged = table.rows.find((row) => row.cells.length !== table.header.length);
  if (ragged !== undefined) throw new CsvTemplateReadError(`line ${ragged.line}: ${ragged.cells.length} cells under a header of ${table.header.length} columns`, ragged.line);
  return table;
}

/** Offset where line `skipped + 1` begins, or null when the text has fewer lines. */
function lineStart(text: string, skipped: number): number | null {
  let at = 0;
  for (let i = 0; i < skipped; i++) {
    const end = text.indexOf('\n', at);
    if (end < 0) return null;
    at = end + 1;
  }
  return at < text.length || skipped === 0 ? at : null;
}

function parseRecords(text: string, template: CsvTemplate, linesBefore: number): TemplateRow[] {
  let records: CsvRecord[];
  try {
    records = csvRecords(text, { delimiter: template.separator, quote: template.quote, linesBefore });
  } catch (error) {
    if (!(error instanceof CsvRecordsError)) throw error;
    throw new CsvTemplateReadError(error.message, error.line);
  }
  return records.map(({ line, cells }) => ({ line, cells: cells.map((raw, i) => cellOf(raw, template.valuePrefix, line, i)) }));
}

function cellOf(raw: string, prefix: string, line: number, index: number): string {
  const value = prefix !== '' && raw.startsWith(prefix) ? raw.slice(prefix.length) : raw;
  if (isFormulaLike(value)) throw new CsvTemplateReadError(`line ${line}, cell ${index + 1}: a cell a spreadsheet would run as a formula: ${JSON.stringify(value.slice(0, 40))}`, line);
  return value.trim();
}
