// Issue #17: an Alipay trade bill (支付宝业务明细 and its 汇总, GB18030 CSVs in a zip) checked before any matching and
// read into standard rows. A good bill is accepted with exact rows; a footer or summary sum off by one fen, a count
// off, a missing end marker, an inexact amount, a formula-like cell, a refund written positive each refuse it with
// the reason; bytes that are no GB18030 and files that are no Alipay bill are unreadable.

import { describe, expect, it } from 'vitest';
import { alipayStatementKey, checkAlipayBill, rowsFromAlipayBill, type AlipayBill } from '../../../src/core/recon/alipay-bill.js';
import { AlipayBillReadError, readAlipayBill } from '../../../src/recon/alipay-bill-reader.js';
import { readZipEntries } from '../../../src/recon/zip-archive.js';
import { alipayDetails, alipayDetailsName, alipaySummary, alipaySummaryName, type AlipayRowInput } from '../../support/alipay-bill.js';
import { gb18030Bytes } from '../../support/gb18030.js';
import { zipOf } from '../../support/zip-writer.js';

const rows: AlipayRowInput[] = [
  { serial: '2025120422001400000000000001', order: 'T20251204001', kind: '交易', fen: 10_000, feeFen: -60, created: '10:00:00', completed: '10:00:05' },
  { serial: '2025120422001400000000000002', order: 'T20251204002', kind: '交易', fen: 3_580, feeFen: -21, created: '11:00:00', completed: '' },
  { serial: '2025120422001400000000000002', order: 'T20251204002', kind: '退款', fen: -3_580, feeFen: 21, created: '12:00:00', completed: '12:00:03', refundNo: 'R20251204002' },
];

/** The bill zipped as Alipay sends it: GB18030 CSVs, GBK names without the UTF-8 flag. */
function billZip(details: string, summary: string | null = alipaySummary(rows)): Buffer {
  const entries = [{ name: gb18030Bytes(alipayDetailsName), data: gb18030Bytes(details) }];
  if (summary !== null) entries.push({ name: gb18030Bytes(alipaySummaryName), data: gb18030Bytes(summary) });
  return zipOf(entries);
}

const readZip = async (zip: Buffer): Promise<AlipayBill> => readAlipayBill(await readZipEntries(zip));
const problemsOf = (bill: AlipayBill) => checkAlipayBill(bill, 'bill.zip').problems;

describe('Alipay trade bill', () => {
  it('reads the same from shared memory, as the recon store hands files out (a SharedArrayBuffer)', async () => {
    const zip = billZip(alipayDetails(rows));
    const shared = Buffer.from(new SharedArrayBuffer(zip.byteLength));
    zip.copy(shared);
    expect(await readZip(shared)).toEqual(await readZip(zip));
  });

  it('reads a good bill from its zip: header, rows without padding, footer, summary; the checks pass', async () => {
    const bill = await readZip(billZip(alipayDetails(rows)));
    expect(bill).toMatchObject({ account: '20881234567890120156', periodStart: '2025年12月04日 00:00:00', periodEnd: '2025年12月05日 00:00:00', headerLine: 5, ended: true, ignored: [] });
    expect(bill.header).toHaveLength(25);
    expect(bill.rows.map((row) => row.line)).toEqual([6, 7, 8]);
    expect(bill.rows[0]!.cells.slice(0, 3)).toEqual(['2025120422001400000000000001', 'T20251204001', '交易']);
    expect(bill.totals).toEqual([
      { line: 10, kind: '交易', count: '2', sums: [{ name: '商家实收', amount: '135.80' }, { name: '商家优惠', amount: '0.00' }] },
      { line: 11, kind: '退款', count: '1', sums: [{ name: '商家实收退款', amount: '-35.80' }, { name: '商家优惠退款', amount: '0.00' }] },
    ]);
    expect(bill.summary).toMatchObject({ name: alipaySummaryName, ended: true, account: '20881234567890120156' });
    expect(checkAlipayBill(bill, 'bill.zip')).toEqual({ format: 'alipay-bill', file: 'bill.zip', entries: 3, problems: [], warnings: [] });
    expect(alipayStatementKey(bill)).toBe('20881234567890120156/20251204');
  });

  it('turns the rows into standard rows with exact values: refunds paid back, fees by size, 创建时间 when 完成时间 is empty', async () => {
    const bill = await readZip(billZip(alipayDetails(rows)));
    const read = rowsFromAlipayBill(bill, 'bill.zip', 'Asia/Shanghai');
    expect(read.problems).toEqual([]);
    const common = { rowNo: 0, statementKey: '20881234567890120156/20251204', currency: 'CNY', bookingDate: 0, valueDate: 0, payer: '*庚辰(182****01)', reversal: false, groupKey: '', key128: 0n };
    expect(read.rows).toEqual([
      { ...common, locator: 'bill.zip:6', channelSerialNo: '2025120422001400000000000001', merchantOrderNo: 'T20251204001', refundNo: '', transactionTimeMs: Date.UTC(2025, 11, 4, 2, 0, 5), amountMinor: 10_000n, direction: 'credit', feeMinor: 60n, type: 'payment', typeRaw: '交易', status: 'success', statusRaw: '交易' },
      { ...common, locator: 'bill.zip:7', channelSerialNo: '2025120422001400000000000002', merchantOrderNo: 'T20251204002', refundNo: '', transactionTimeMs: Date.UTC(2025, 11, 4, 3, 0, 0), amountMinor: 3_580n, direction: 'credit', feeMinor: 21n, type: 'payment', typeRaw: '交易', status: 'success', statusRaw: '交易' },
      { ...common, locator: 'bill.zip:8', channelSerialNo: '2025120422001400000000000002', merchantOrderNo: 'T20251204002', refundNo: 'R20251204002', transactionTimeMs: Date.UTC(2025, 11, 4, 4, 0, 3), amountMinor: 3_580n, direction: 'debit', feeMinor: 21n, type: 'refund', typeRaw: '退款', status: 'refund', statusRaw: '退款' },
    ]);
  });

  it('refuses a footer sum off by 0.01, saying by how much, and a count the rows do not make', async () => {
    expect(problemsOf(await readZip(billZip(alipayDetails(rows, { adjustFen: 1 }))))).toEqual([
      { code: 'summary', locator: 'bill.zip:10 商家实收', message: "#交易合计's 商家实收 ≠ the rows' 商家实收（元）", expected: 13_581n, found: 13_580n, difference: -1n, currency: 'CNY' },
    ]);
    const miscounted = alipayDetails(rows).replace('#交易合计：2笔', '#交易合计：3笔');
    expect(problemsOf(await readZip(billZip(miscounted)))).toEqual([
      expect.objectContaining({ code: 'summary', locator: 'bill.zip:10', message: '#交易合计 counts 3 笔; the bill holds 2 row(s) of 业务类型 交易' }),
    ]);
  });

  it("refuses a 汇总 whose 合计 the details do not make, and one of another day", async () => {
    expect(problemsOf(await readZip(billZip(alipayDetails(rows), alipaySummary(rows, 1))))).toEqual([
      expect.objectContaining({ code: 'summary', locator: `bill.zip ${alipaySummaryName}:7 订单金额（元）`, expected: 10_001n, found: 10_000n, difference: -1n }),
      expect.objectContaining({ code: 'summary', locator: `bill.zip ${alipaySummaryName}:7 商家实收（元）`, expected: 10_001n, found: 10_000n, difference: -1n }),
    ]);
    const otherDay = alipaySummary(rows).replace('2025年12月04日 00:00:00', '2025年12月03日 00:00:00');
    expect(problemsOf(await readZip(billZip(alipayDetails(rows), otherDay))).map((p) => p.code)).toEqual(['summary']);
  });

  it('warns of rows of a 业务类型 the footer does not total (blank included), and reads them as other/info', async () => {
    const more = [...rows, { serial: '2025120422001400000000000003', order: 'T3', kind: '冻结', fen: 0, created: '13:00:00' }, { serial: '2025120422001400000000000004', order: 'T4', kind: '', fen: 0, created: '14:00:00' }];
    const bill = await readZip(billZip(alipayDetails(more), alipaySummary(more)));
    const report = checkAlipayBill(bill, 'bill.zip');
    expect(report.problems).toEqual([]);
    expect(report.warnings).toEqual(['bill.zip: 1 row(s) of 业务类型 "冻结", which the footer does not total', 'bill.zip: 1 row(s) of 业务类型 "", which the footer does not total']);
    expect(rowsFromAlipayBill(bill, 'bill.zip', 'Asia/Shanghai').rows.slice(3).map((row) => [row.type, row.status, row.amountMinor])).toEqual([['other', 'info', 0n], ['other', 'info', 0n]]);
  });

  it('refuses a bill without its end marker as truncated', async () => {
    const bill = await readZip(billZip(alipayDetails(rows, { ended: false }), null));
    expect(bill.ended).toBe(false);
    expect(problemsOf(bill)).toEqual([{ code: 'incomplete', locator: 'bill.zip', message: 'no end marker (#…业务明细列表结束…): the bill is truncated' }]);
  });

  it('refuses an inexact amount, a formula-like cell, a refund written positive, a header without the columns', async () => {
    const details = alipayDetails(rows);
    expect(problemsOf(await readZip(billZip(details.replace(',100.00,100.00,', ',100.001,100.00,'), null))).map((p) => [p.code, p.locator])).toEqual([['amount', 'bill.zip:6 订单金额（元）']]);
    expect(problemsOf(await readZip(billZip(details.replace('商品\t', '=1+2'), null))).map((p) => p.code)).toEqual(['format']);
    const positive = readAlipayBill([{ name: alipayDetailsName, bytes: gb18030Bytes(details.replaceAll('-35.80', '35.80')) }]);
    expect(rowsFromAlipayBill(positive, 'bill.csv', 'Asia/Shanghai').problems).toEqual([
      { code: 'amount', locator: 'bill.csv:8 商家实收（元）', message: 'a refund of 35.80: Alipay writes payments positive and refunds negative' },
    ]);
    const renamed = readAlipayBill([{ name: alipayDetailsName, bytes: gb18030Bytes(details.replace('商家实收（元）', '实收（元）')) }]);
    expect(checkAlipayBill(renamed, 'bill.csv').problems.map((p) => [p.code, p.locator])).toEqual([['format', 'bill.csv:5']]);
  });

  it('reads UTF-8 with a BOM; refuses bytes that are no GB18030, and files that are no Alipay bill', async () => {
    const utf8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(alipayDetails(rows), 'utf8')]);
    expect(checkAlipayBill(readAlipayBill([{ name: alipayDetailsName, bytes: utf8 }]), 'bill.csv').problems).toEqual([]);
    const broken = Buffer.concat([gb18030Bytes(alipayDetails(rows).slice(0, 40)), Buffer.from([0x81, 0x20, 0xff])]);
    expect(() => readAlipayBill([{ name: alipayDetailsName, bytes: broken }])).toThrow(/is not GB18030 text .*no Alipay bill/);
    expect(() => readAlipayBill([{ name: alipayDetailsName, bytes: gb18030Bytes('交易时间,微信订单号\n') }])).toThrow(/no "#----业务明细列表----" line/);
    expect(() => readAlipayBill([{ name: 'a.csv', bytes: Buffer.alloc(0) }, { name: 'b.csv', bytes: Buffer.alloc(0) }])).toThrow(AlipayBillReadError);
    await expect(readZip(billZip(alipayDetails(rows).replace('商品\t', '"x"y'), null))).rejects.toThrow(AlipayBillReadError);
  });
});
