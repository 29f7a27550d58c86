// An Alipay trade bill's files (the zip's entries, src/recon/zip-archive.ts) read into text tables that
// core/recon/alipay-bill.ts checks: GB18030 decoded with `fatal` (UTF-8 when the bytes open with its BOM), the `#`
// header (账号, 起始/终止日期), the list between its markers with csv-parse (strings only, Alipay's tab and space
// padding trimmed), the footer's totals, and the 汇总 file when present. Never rounds, never casts a cell.

import { csvRecords, CsvRecordsError, type CsvRecord } from './csv-records.js';
import type { AlipayBill, AlipayFooterTotal, AlipayTable } from '../core/recon/alipay-bill.js';

export class AlipayBillReadError extends Error {
  readonly code = 'alipay_bill_unreadable';
  override name = 'AlipayBillReadError';
}

export interface BillFile {
  name: string;
  bytes: Uint8Array;
}

/** Which list a file holds: the details (业务明细列表) or the per-store totals (业务汇总列表). */
type ListKind = '业务明细列表' | '业务汇总列表';

const detailsName = /业务明细\.csv$/i;
const summaryName = /业务明细[(（]汇总[)）]\.csv$/i;
const utf8Bom = [0xef, 0xbb, 0xbf] as const;
const accountLine = /^#账号[：:]\s*\[([^\]]*)\]/;
const periodLine = /^#起始日期[：:]\s*\[([^\]]*)\]\s*终止日期[：:]\s*\[([^\]]*)\]/;
const totalLine = /^#(\S+?)合计[：:]\s*(.*)$/;
const countPart = /^([0-9]+)笔$/;
const sumPart = /^(.+?)共(.*)元$/;

/** The bill in `files` (a details file and, optionally, its 汇总); throws AlipayBillReadError for what is no Alipay bill. */
export function readAlipayBill(files: readonly BillFile[]): AlipayBill {
  const base = (file: BillFile): string => file.name.slice(file.name.lastIndexOf('/') + 1);
  const summaries = files.filter((file) => summaryName.test(base(file)));
  let details = files.filter((file) => detailsName.test(base(file)) && !summaryName.test(base(file)));
  // A details CSV uploaded by itself may carry any name.
  if (details.length === 0 && files.length === 1) details = [...files];
  if (details.length !== 1) throw new AlipayBillReadError(`${details.length === 0 ? 'no' : details.length} …_业务明细.csv file(s) among ${files.map((file) => JSON.stringify(file.name)).join(', ') || 'no files'}: an Alipay bill has one`);
  if (summaries.length > 1) throw new AlipayBillReadError(`${summaries.length} …_业务明细(汇总).csv files: an Alipay bill has at most one`);
  const detailsFile = details[0]!;
  const lines = linesOf(detailsFile);
  const { table, after } = readList(detailsFile.name, lines, '业务明细列表');
  const summary = summaries.length === 1 ? readList(summaries[0]!.name, linesOf(summaries[0]!), '业务汇总列表').table : null;
  const ignored = files.filter((file) => file !== detailsFile && file !== summaries[0]).map((file) => file.name);
  return { ...table, totals: table.ended ? footerTotals(lines, after) : [], summary, ignored };
}

/** The file's text as lines (without their ends): GB18030, or UTF-8 when it opens with the BOM. */
function linesOf(file: BillFile): string[] {
  const bom = utf8Bom.every((byte, i) => file.bytes[i] === byte);
  let text: string;
  try {
    text = new TextDecoder(bom ? 'utf-8' : 'gb18030', { fatal: true, ignoreBOM: false }).decode(file.bytes);
  } catch (error) {
    throw new AlipayBillReadError(`${file.name} is not ${bom ? 'UTF-8' : 'GB18030'} text (${(error as Error).message}): no Alipay bill`);
  }
  return text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

/** The header block, then the list from its marker to its end marker (or the file's end: `ended` false); `after` = index of the line after the end marker. */
function readList(name: string, lines: readonly string[], kind: ListKind): { table: AlipayTable; after: number } {
  const table: AlipayTable = { name, account: '', periodStart: '', periodEnd: '', headerLine: 0, header: [], rows: [], ended: false };
  const marker = new RegExp(`^#-+${kind}-+$`);
  const endMarker = new RegExp(`^#-+${kind}结束-+$`);
  let at = 0;
  for (; at < lines.length && !marker.test(lines[at]!.trim()); at++) readHeaderLine(lines[at]!.trim(), table);
  if (at === lines.length) throw new AlipayBillReadError(`${name}: no "#----${kind}----" line: not an Alipay ${kind === '业务明细列表' ? '业务明细' : '业务明细(汇总)'} file`);
  const first = at + 1;
  // The list ends at its end marker; a `#` line before it means the file was cut and something else appended.
  let end = first;
  while (end < lines.length && !lines[end]!.trimStart().startsWith('#')) end++;
  table.ended = end < lines.length && endMarker.test(lines[end]!.trim());
  const records = parseList(name, lines.slice(first, end).join('\n'), first);
  const [head, ...rows] = records;
  if (head !== undefined) Object.assign(table, { headerLine: head.line, header: head.cells, rows });
  return { table, after: end + 1 };
}

function readHeaderLine(line: string, table: AlipayTable): void {
  const account = accountLine.exec(line);
  if (account !== null) table.account = account[1]!.trim();
  const period = periodLine.exec(line);
  if (period !== null) [table.periodStart, table.periodEnd] = [period[1]!.trim(), period[2]!.trim()];
}

/** The list's CSV: records with their 1-based line in the file (`linesBefore` lines precede the text). */
function parseList(name: string, text: string, linesBefore: number): CsvRecord[] {
  let records: CsvRecord[];
  try {
    records = csvRecords(text, { delimiter: ',', quote: '"', linesBefore });
  } catch (error) {
    if (!(error instanceof CsvRecordsError)) throw error;
    throw new AlipayBillReadError(`${name}: ${error.message}`);
  }
  // Alipay pads values with tabs and spaces (`2019…\t,`): the padding is no part of the value.
  return records.map(({ line, cells }) => ({ line, cells: cells.map((cell) => cell.trim()) }));
}

/** `#交易合计：N笔，商家实收共X元，商家优惠共Y元` and its kin after the end marker, parts as written. */
function footerTotals(lines: readonly string[], from: number): AlipayFooterTotal[] {
  const totals: AlipayFooterTotal[] = [];
  for (let at = from; at < lines.length; at++) {
    const match = totalLine.exec(lines[at]!.trim());
    if (match === null) continue;
    const [countText = '', ...parts] = match[2]!.split(/[，,]/).map((part) => part.trim());
    const sums = parts.map((part) => {
      const sum = sumPart.exec(part);
      return sum === null ? { name: part, amount: '' } : { name: sum[1]!, amount: sum[2]!.trim() };
    });
    totals.push({ line: at + 1, kind: match[1]!, count: countPart.exec(countText)?.[1] ?? '', sums });
  }
  return totals;
}
