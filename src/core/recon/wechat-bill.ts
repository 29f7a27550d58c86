// A WeChat Pay trade bill (微信支付交易账单, the merchant's daily bill; issue #17) checked before any matching: the
// detail rows under a header of named columns, then a summary header and one summary row. Checks: the columns the
// match needs are there, every row is in one known currency, every amount is exact at its scale, and the summary's
// count and sums (应结订单总金额, 退款总金额, 充值券退款总金额, 手续费总金额, 订单总金额, 申请退款总金额) equal the rows'. A bill
// without its summary is truncated. Cells are read as text (src/recon/wechat-bill-reader.ts strips the back-tick
// WeChat puts before every value); one that a spreadsheet would run as a formula refuses the file.

import { assert } from '../assert.js';
import { currencyOfCode } from '../currencies.js';
import { isFormulaLike } from './formula-cell.js';
// Amounts read signed, as the row reader and the Alipay bill read them: WeChat writes the fee it pays back on a
// refund negative, and 手续费总金额 is the net of both.
import { readAmountText } from './rows-from-columns.js';
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

/** What WechatBillCheck found in a part of a bill: structured-cloneable, to pass between threads. */
export interface WechatBillCheckPart {
  rows: number;
  sums: bigint[];
  problems: StatementProblem[];
  currency: string;
}

export function checkWechatBill(bill: WechatBill, file: string): StatementReport {
  const check = new WechatBillCheck(bill.header, file);
  for (const row of bill.rows) check.row(row.line, row.cells);
  return check.finish(bill.summary);
}

/**
 * The checks of checkWechatBill a row at a time, so that a bill's rows can be read into standard rows as they are
 * parsed and never held as cells (a million-row bill's cells are gigabytes of heap).
 */
export class WechatBillCheck {
  /** False when the header lacks the columns the match needs (a problem names them): no row can be read then. */
  readonly readable: boolean;
  readonly #file: string;
  readonly #problems: StatementProblem[] = [];
  readonly #columns: number;
  readonly #currencyAt: number;
  /** Per summed column (summed's order): its index in the header, and the rows' sum so far. */
  readonly #summedAt: number[];
  readonly #sums: bigint[];
  #currency = '';
  #rows = 0;

  /**
   * `later`: the check of a later part of the bill, read on its own after its first part (whose check reports the
   * header, and takes this one's part in): its rows are held to `later.currency`, the bill's first row's, as a
   * whole read would hold them.
   */
  constructor(header: readonly string[], file: string, later?: { currency: string }) {
    this.#file = file;
    this.#currency = later?.currency ?? '';
    this.#columns = header.length;
    const missing = required.filter((name) => !header.includes(name));
    this.readable = missing.length === 0;
    if (!this.readable && later === undefined) this.#problems.push({ code: 'format', locator: `${file}:1`, message: `the header lacks ${missing.join(', ')} (is this a WeChat Pay trade bill?)` });
    this.#currencyAt = header.indexOf('货币种类');
    this.#summedAt = summed.map(([, name]) => header.indexOf(name));
    this.#sums = summed.map(() => 0n);
  }

  row(line: number, cells: readonly string[]): void {
    this.#rows++;
    if (!this.readable) return;
    const where = `${this.#file}:${line}`;
    if (cells.length !== this.#columns) this.#problems.push({ code: 'format', locator: where, message: `${cells.length} cells in a bill of ${this.#columns} columns` });
    const formula = cells.find(isFormulaLike);
    if (formula !== undefined) this.#problems.push({ code: 'format', locator: where, message: `a cell a spreadsheet would run as a formula: ${JSON.stringify(formula.slice(0, 40))}` });
    const rowCurrency = cells[this.#currencyAt] ?? '';
    if (this.#currency === '') this.#currency = rowCurrency;
    const known = currencyOfCode(rowCurrency);
    if (known === undefined || rowCurrency !== this.#currency) {
      this.#problems.push({ code: 'currency', locator: where, message: known === undefined ? `currency ${JSON.stringify(rowCurrency)} is not one this build knows` : `a row in ${rowCurrency} in a bill of ${this.#currency}` });
      return;
    }
    for (let i = 0; i < summed.length; i++) {
      const read = readAmountText(cells[this.#summedAt[i]!] ?? '', known.scale, '.', '');
      if ('refused' in read) this.#problems.push({ code: 'amount', locator: `${where} ${summed[i]![1]}`, message: read.refused });
      else this.#sums[i]! += read.minor;
    }
  }

  /** The bill's currency: its first row's ('' before any row). */
  get currency(): string {
    return this.#currency;
  }

  /** What this part of the bill found (rows, sums, problems), for the check of its first part to take in. */
  part(): WechatBillCheckPart {
    return { rows: this.#rows, sums: [...this.#sums], problems: [...this.#problems], currency: this.#currency };
  }

  /** Takes in a later part of the bill, checked on its own with this check's header and currency. */
  absorb(part: WechatBillCheckPart): void {
    assert(part.sums.length === this.#sums.length, 'a part of the bill sums the same columns');
    // A part whose rows were all refused before any set the currency leaves it as it was.
    if (this.#currency === '') this.#currency = part.currency;
    this.#rows += part.rows;
    for (let i = 0; i < part.sums.length; i++) this.#sums[i]! += part.sums[i]!;
    this.#problems.push(...part.problems);
  }

  /** The report, once every row was checked; `summary` null when the bill has none (truncated). */
  finish(summary: WechatBill['summary']): StatementReport {
    if (this.readable) {
      const sums = new Map(summed.map(([, name], i) => [name, this.#sums[i]!]));
      checkSummary(summary, this.#rows, this.#file, this.#currency, sums, this.#problems);
    }
    return { format: 'wechat-bill', file: this.#file, entries: this.#rows, problems: this.#problems, warnings: [] };
  }
}

function checkSummary(summary: WechatBill['summary'], rows: number, file: string, currency: string, sums: ReadonlyMap<string, bigint>, problems: StatementProblem[]): void {
  if (summary === null) {
    problems.push({ code: 'incomplete', locator: file, message: 'no summary rows (总交易单数 …): the bill is truncated' });
    return;
  }
  const where = `${file}:${summary.line}`;
  const at = (name: string): string | undefined => summary.cells[summary.header.indexOf(name)];
  const count = at('总交易单数');
  if (count === undefined || !/^[0-9]+$/.test(count) || Number(count) !== rows) {
    problems.push({ code: 'summary', locator: where, message: `the summary counts ${count ?? 'no'} orders (总交易单数); the bill holds ${rows} rows` });
  }
  const scale = currencyOfCode(currency)?.scale;
  if (scale === undefined) return;
  for (const [total, name] of summed) {
    const text = at(total);
    const read = text === undefined ? null : readAmountText(text, scale, '.', '');
    if (read === null || 'refused' in read) {
      problems.push({ code: 'summary', locator: `${where} ${total}`, message: read === null ? `the summary has no ${total}` : read.refused });
      continue;
    }
    const found = sums.get(name)!;
    if (read.minor !== found) problems.push({ code: 'summary', locator: `${where} ${total}`, message: `the summary's ${total} ≠ the rows' ${name}`, expected: read.minor, found, difference: found - read.minor, currency });
  }
}
