// A WeChat Pay trade bill (微信支付交易账单, the merchant's daily bill; issue #17) checked before any matching: the
// detail rows under a header of named columns, then a summary header and one summary row. Checks: the columns the
// match needs are there, every row is in one known currency, every amount is exact at its scale, and the summary's
// count and sums (应结订单总金额, 退款总金额, 充值券退款总金额, 手续费总金额, 订单总金额, 申请退款总金额) equal the rows'. A bill
// without its summary is truncated. Cells are read as text (src/recon/wechat-bill-reader.ts strips the back-tick
// WeChat puts before every value); one that a spreadsheet would run as a formula refuses the file.

import { currencyOfCode } from '../currencies.js';
import { isFormulaLike } from './formula-cell.js';
import { readStatementAmount } from './statement-amount.js';
import type { StatementProblem, StatementReport } from './statement-report.js';

/** The bill as rows of text cells: its header, its detail rows and, when present, its summary header and row. */
export interface WechatBill {
  header: string[];
  rows: { line: number; cells: string[] }[];
  summary: { line: number; header: string[]; cells: string[] } | null;
}

/** Summary column → the detail column it sums. */
const summed: readonly (readonly [string, string])[] = [
  ['应结订单总金额', '应结订单金额'],
  ['退款总金额', '退款金额'],
  ['充值券退款总金额', '充值券退款金额'],
  ['手续费总金额', '手续费'],
  ['订单总金额', '订单金额'],
  ['申请退款总金额', '申请退款金额'],
];
const required = ['交易时间', '微信订单号', '商户订单号', '交易类型', '交易状态', '货币种类', ...summed.map(([, column]) => column)];

export function checkWechatBill(bill: WechatBill, file: string): StatementReport {
  const problems: StatementProblem[] = [];
  const column = (name: string): number => bill.header.indexOf(name);
  const missing = required.filter((name) => column(name) < 0);
  if (missing.length > 0) {
    problems.push({ code: 'format', locator: `${file}:1`, message: `the header lacks ${missing.join(', ')} (is this a WeChat Pay trade bill?)` });
    return { format: 'wechat-bill', file, entries: bill.rows.length, problems, warnings: [] };
  }
  const currencyAt = column('货币种类');
  let currency = '';
  const sums = new Map<string, bigint>(summed.map(([, name]) => [name, 0n]));
  for (const row of bill.rows) {
    const where = `${file}:${row.line}`;
    if (row.cells.length !== bill.header.length) problems.push({ code: 'format', locator: where, message: `${row.cells.length} cells in a bill of ${bill.header.length} columns` });
    const formula = row.cells.find(isFormulaLike);
    if (formula !== undefined) problems.push({ code: 'format', locator: where, message: `a cell a spreadsheet would run as a formula: ${JSON.stringify(formula.slice(0, 40))}` });
    const rowCurrency = row.cells[currencyAt] ?? '';
    if (currency === '') currency = rowCurrency;
    const known = currencyOfCode(rowCurrency);
    if (known === undefined || rowCurrency !== currency) {
      problems.push({ code: 'currency', locator: where, message: known === undefined ? `currency ${JSON.stringify(rowCurrency)} is not one this build knows` : `a row in ${rowCurrency} in a bill of ${currency}` });
      continue;
    }
    for (const [, name] of summed) {
      const read = readStatementAmount(row.cells[column(name)] ?? '', known.scale, '.');
      if ('refused' in read) problems.push({ code: 'amount', locator: `${where} ${name}`, message: read.refused });
      else sums.set(name, sums.get(name)! + read.minor);
    }
  }
  checkSummary(bill, file, currency, sums, problems);
  return { format: 'wechat-bill', file, entries: bill.rows.length, problems, warnings: [] };
}

function checkSummary(bill: WechatBill, file: string, currency: string, sums: ReadonlyMap<string, bigint>, problems: StatementProblem[]): void {
  const summary = bill.summary;
  if (summary === null) {
    problems.push({ code: 'incomplete', locator: file, message: 'no summary rows (总交易单数 …): the bill is truncated' });
    return;
  }
  const where = `${file}:${summary.line}`;
  const at = (name: string): string | undefined => summary.cells[summary.header.indexOf(name)];
  const count = at('总交易单数');
  if (count === undefined || !/^[0-9]+$/.test(count) || Number(count) !== bill.rows.length) {
    problems.push({ code: 'summary', locator: where, message: `the summary counts ${count ?? 'no'} orders (总交易单数); the bill holds ${bill.rows.length} rows` });
  }
  const scale = currencyOfCode(currency)?.scale;
  if (scale === undefined) return;
  for (const [total, name] of summed) {
    const text = at(total);
    const read = text === undefined ? null : readStatementAmount(text, scale, '.');
    if (read === null || 'refused' in read) {
      problems.push({ code: 'summary', locator: `${where} ${total}`, message: read === null ? `the summary has no ${total}` : read.refused });
      continue;
    }
    const found = sums.get(name)!;
    if (read.minor !== found) problems.push({ code: 'summary', locator: `${where} ${total}`, message: `the summary's ${total} ≠ the rows' ${name}`, expected: read.minor, found, difference: found - read.minor, currency });
  }
}
