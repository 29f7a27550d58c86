// Issue #17: rows of text cells as standard rows by a channel's column mapping. Amount text is exact or refused:
// signs in four spellings, thousands separators only where they group threes, digits past the scale only if zero
// (WeChat's `0.00000` fees). The WeChat bill: 应结订单金额 in, a REFUND row its 退款金额 out; local times in Shanghai.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ColumnMapping, CsvTemplate } from '../../../../src/core/recon/channel-config.js';
import { wechatTradeBillMapping as wechatMapping } from '../../../../src/core/recon/channel-config-parse.js';
import { readAmountText, rowsFromColumns, type ColumnRowsInput } from '../../../../src/core/recon/rows-from-columns.js';
import { readWechatBill } from '../../../../src/recon/wechat-bill-reader.js';

const sample = readFileSync(join(import.meta.dirname, '../../../fixtures/statements/wechatpay/gunsluo_tradebill_ALL_20210128.csv'), 'utf8');


const wechatRows = (text: string, mapping: ColumnMapping = wechatMapping) => {
  const bill = readWechatBill(text);
  return rowsFromColumns({ file: 'bill.csv', format: 'wechatpay-tradebill', header: bill.header, headerLine: 1, rows: bill.rows, mapping, csv: null, currency: 'CNY', timeZone: 'Asia/Shanghai', statementKey: 'k' });
};
const firstRow = '`2021-01-28 17:07:11,`wx81be3101902f7cb2,`1601959334,`0,`,`4200000925202101284997714292,`S20210128170702357723,`ofyak5qR_1wYsC99CsWA6R9MJazA,`NATIVE,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00,`0,`0,`0.00,`0.00,`,`,`for testing,`cipher code,`0.00000,`1.00%,`0.01,`0.00,`';

describe('readAmountText', () => {
  it.each([
    ['1.234,56', ',', '.', 123456n],
    ['-1.234,56', ',', '.', -123456n],
    ['1.234.567,8', ',', '.', 123456780n],
    ['1.234', ',', '.', 123400n],
    ['(12,00)', ',', '', -1200n],
    ['12,00-', ',', '', -1200n],
    ['+0,5', ',', '', 50n],
    ['500,', ',', '', 50000n],
    ['000001000,00', ',', '', 100000n],
    ['1,234.5', '.', ',', 123450n],
    ["1'234.50", '.', "'", 123450n],
    ['1 234,50', ',', ' ', 123450n],
    ['5442.09000', '.', '', 544209n],
  ] as const)('%s (mark %s, thousands "%s") = %s', (text, mark, thousands, minor) => {
    expect(readAmountText(text, 2, mark, thousands)).toEqual({ minor });
  });

  it.each([
    ['1.23,00', ',', '.', 'out of place'],
    ['12.34', ',', '.', 'out of place'],
    ['1234.567,00', ',', '.', 'out of place'],
    ['1,234,5', ',', '.', 'no amount'],
    ['18,155', ',', '', 'refusing to round'],
    ['0.00001', '.', '', 'refusing to round'],
    ['12 EUR', '.', '', 'no amount'],
    ['--1', '.', '', 'no amount'],
  ] as const)('%s (mark %s, thousands "%s") is refused: %s', (text, mark, thousands, reason) => {
    const read = readAmountText(text, 2, mark, thousands);
    expect('refused' in read && read.refused).toContain(reason);
  });
});

describe('rows from columns: the WeChat Pay bill', () => {
  it('reads the sample: three payments of 0.01 CNY, times in Shanghai, fees 0.00000 exact', () => {
    const { rows, problems } = wechatRows(sample);
    expect(problems).toEqual([]);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({
      rowNo: 0, locator: 'bill.csv:2', statementKey: 'k', channelSerialNo: '4200000925202101284997714292', merchantOrderNo: 'S20210128170702357723', refundNo: '',
      transactionTimeMs: Date.UTC(2021, 0, 28, 9, 7, 11), bookingDate: 0, valueDate: 0, payer: 'ofyak5qR_1wYsC99CsWA6R9MJazA', amountMinor: 1n, direction: 'credit',
      feeMinor: 0n, currency: 'CNY', type: 'payment', typeRaw: 'NATIVE', status: 'success', statusRaw: 'SUCCESS', reversal: false, groupKey: '', key128: 0n,
    });
    expect(rows.map((r) => r.transactionTimeMs)).toEqual([Date.UTC(2021, 0, 28, 9, 7, 11), Date.UTC(2021, 0, 28, 7, 35, 18), Date.UTC(2021, 0, 28, 8, 59, 46)]);
  });

  it('a REFUND row is its 退款金额 paid back: debit, type refund, its refund id; the fee WeChat returns counts by its size', () => {
    const refund = firstRow.replace('`SUCCESS', '`REFUND').replace('`0,`0,`0.00,`0.00', '`50300000000000000001,`R1,`0.01,`0.00').replace('`0.00000', '`-0.01000');
    const { rows, problems } = wechatRows(sample.replace(firstRow, refund));
    expect(problems).toEqual([]);
    expect(rows[0]).toMatchObject({ amountMinor: 1n, direction: 'debit', type: 'refund', typeRaw: 'NATIVE', status: 'refund', statusRaw: 'REFUND', refundNo: '50300000000000000001', feeMinor: 1n });
  });

  it('refuses a fee with a non-zero digit past the cent, a status the map does not know, a time not in the format, a missing column', () => {
    const fee = wechatRows(sample.replace(firstRow, firstRow.replace('`0.00000', '`0.00001')));
    expect(fee.problems).toEqual([expect.objectContaining({ code: 'amount', locator: 'bill.csv:2 手续费' })]);
    expect(fee.rows).toHaveLength(2);
    const strict = { ...wechatMapping, status: { column: '交易状态', map: { SUCCESS: 'success' } } };
    expect(wechatRows(sample.replace(firstRow, firstRow.replace('`SUCCESS', '`NOTPAY')), strict).problems).toEqual([expect.objectContaining({ code: 'format', locator: 'bill.csv:2 交易状态', message: expect.stringContaining('"NOTPAY" is not in the channel\'s map') })]);
    expect(wechatRows(sample.replace('`2021-01-28 17:07:11', '`2021/01/28 17:07:11')).problems).toEqual([expect.objectContaining({ locator: 'bill.csv:2 交易时间' })]);
    const missing = wechatRows(sample, { ...wechatMapping, groupKey: { column: '批次号' } });
    expect(missing).toEqual({ rows: [], problems: [expect.objectContaining({ code: 'format', locator: 'bill.csv:1', message: expect.stringContaining('"批次号"') })] });
  });
});

describe('rows from columns: CSV templates', () => {
  const template = (amount: CsvTemplate['amount']): CsvTemplate => ({ separator: ';', quote: '"', decimalMark: ',', thousandsSeparator: '.', headerRow: 1, footerStartsWith: [], valuePrefix: '', amount });
  const input = (header: string[], cells: string[][], csv: CsvTemplate, mapping: ColumnMapping): ColumnRowsInput => ({
    file: 'x.csv', format: 'csv', header, headerLine: 1, rows: cells.map((c, i) => ({ line: i + 2, cells: c })), mapping, csv, currency: 'EUR', timeZone: 'Europe/Berlin', statementKey: 'x.csv',
  });

  it('signed: a negative amount is a debit; a date column gives the booking date', () => {
    const { rows, problems } = rowsFromColumns(input(['Datum', 'Betrag'], [['01.02.2024', '-1.234,56'], ['02.02.2024', '7,00']], template({ mode: 'signed' }), { bookingDate: { column: 'Datum', format: 'dd.MM.yyyy' }, amount: { column: 'Betrag' } }));
    expect(problems).toEqual([]);
    expect(rows.map((r) => [r.bookingDate, r.amountMinor, r.direction, r.type, r.status])).toEqual([[20240201, 123456n, 'debit', 'payment', 'success'], [20240202, 700n, 'credit', 'payment', 'success']]);
  });

  it('indicator: the column says credit or debit, anything else is refused; a negative amount is refused', () => {
    const csv = template({ mode: 'indicator', column: 'S/H', credit: ['H'], debit: ['S'] });
    const mapping = { amount: { column: 'Umsatz' } };
    const { rows, problems } = rowsFromColumns(input(['Umsatz', 'S/H'], [['10,00', 'H'], ['2,50', 'S'], ['1,00', 'X'], ['-1,00', 'H']], csv, mapping));
    expect(rows.map((r) => [r.amountMinor, r.direction])).toEqual([[1000n, 'credit'], [250n, 'debit']]);
    expect(problems.map((p) => [p.code, p.locator])).toEqual([['format', 'x.csv:4 S/H'], ['amount', 'x.csv:5 Umsatz']]);
  });

  it('debit/credit columns: one of them holds the amount; both, or a negative credit, are refused', () => {
    const csv = template({ mode: 'debitCredit', debitColumn: 'Soll', creditColumn: 'Haben' });
    const { rows, problems } = rowsFromColumns(input(['Soll', 'Haben'], [['', '1.000,00'], ['-5,00', ''], ['0,00', '3,00'], ['1,00', '1,00'], ['', '-1,00']], csv, {}));
    expect(rows.map((r) => [r.amountMinor, r.direction])).toEqual([[100000n, 'credit'], [500n, 'debit'], [300n, 'credit']]);
    expect(problems.map((p) => [p.code, p.locator])).toEqual([['amount', 'x.csv:5 Soll'], ['amount', 'x.csv:6 Haben']]);
  });

  it('refuses a date format the reader does not know, once, before any row', () => {
    const { rows, problems } = rowsFromColumns(input(['Datum', 'Betrag'], [['01.02.24', '1,00']], template({ mode: 'signed' }), { bookingDate: { column: 'Datum', format: 'dd.MM.yy' }, amount: { column: 'Betrag' } }));
    expect(rows).toEqual([]);
    expect(problems).toEqual([expect.objectContaining({ code: 'format', locator: 'x.csv:1 Datum' })]);
  });
});
