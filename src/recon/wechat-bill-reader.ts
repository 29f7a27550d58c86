// A WeChat Pay trade bill's text to rows of text cells (core/recon/wechat-bill.ts checks them), with csv-parse:
// strings only (never cast to numbers), a BOM taken off, ragged rows kept for the check to name. WeChat prefixes
// every value with a back-tick so that spreadsheets keep ids as text: exactly one is taken off each cell.

import { parse } from 'csv-parse/sync';
import { statementRecordBytesMax } from '../core/limits.js';
import type { WechatBill } from '../core/recon/wechat-bill.js';

export class BillReadError extends Error {}

/** The bill's rows; throws BillReadError for text that is no CSV (a stray quote, a cell past the bound). */
export function readWechatBill(text: string): WechatBill {
  let parsed: unknown;
  try {
    parsed = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, max_record_size: statementRecordBytesMax, info: true });
  } catch (error) {
    throw new BillReadError((error as Error).message);
  }
  const records = parsed as { record: string[]; info: { lines: number } }[];
  const strip = (cell: string): string => (cell.startsWith('`') ? cell.slice(1) : cell).trim();
  const [headerRecord, ...rest] = records;
  const bill: WechatBill = { header: (headerRecord?.record ?? []).map((cell) => cell.trim()), rows: [], summary: null };
  for (let i = 0; i < rest.length; i++) {
    const { record, info } = rest[i]!;
    if (strip(record[0] ?? '') === '总交易单数') {
      const values = rest[i + 1];
      bill.summary = { line: values?.info.lines ?? info.lines, header: record.map(strip), cells: (values?.record ?? []).map(strip) };
      break;
    }
    bill.rows.push({ line: info.lines, cells: record.map(strip) });
  }
  return bill;
}
