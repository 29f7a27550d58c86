// Issue #17: a channel's files from their bytes to rows for every format family that is not plain text in the
// channel's encoding — a BAI2 file, an OFX file in the Windows-1252 its header declares, an Alipay bill as the zip of
// GB18030 CSVs Alipay sends — and a file that is not valid in the channel's encoding refused, not misread.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseChannels } from '../../../src/core/recon/channel-config-parse.js';
import type { ChannelConfig } from '../../../src/core/recon/channel-config.js';
import { readStatementFiles } from '../../../src/recon/statement-files.js';
import { alipayDetails, alipayDetailsName, alipaySummary, alipaySummaryName, type AlipayRowInput } from '../../support/alipay-bill.js';
import { gb18030Bytes } from '../../support/gb18030.js';
import { zipOf } from '../../support/zip-writer.js';

const fixtures = join(import.meta.dirname, '../../fixtures/statements');

function channelOf(format: string, currency: string, extra: Record<string, unknown> = {}): ChannelConfig {
  return parseChannels({
    version: 1,
    channels: [{ name: 'c', format, currency, ledger: 1, timeZone: 'Asia/Shanghai', accounts: { clearing: '1' }, keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }], ...extra }],
  }).channels[0]!;
}

const problems = (read: Awaited<ReturnType<typeof readStatementFiles>>) => read.reports.flatMap((report) => report.problems.map((problem) => problem.message));

describe('readStatementFiles', () => {
  it('BAI2: the channel account\'s details as rows, numbered; another account\'s currency refused', async () => {
    const bytes = readFileSync(join(fixtures, 'bai2/spec-two-groups.bai'));
    const read = await readStatementFiles([{ name: 'day.bai', bytes }], channelOf('bai2', 'CAD', { statementAccount: '9876543210' }));
    expect(problems(read)).toEqual([]);
    expect(read.rows.map((row) => [row.rowNo, row.direction, row.currency])).toEqual([
      [1, 'credit', 'CAD'],
      [2, 'credit', 'CAD'],
      [3, 'debit', 'CAD'],
    ]);
    const everyAccount = await readStatementFiles([{ name: 'day.bai', bytes }], channelOf('bai2', 'CAD'));
    expect(problems(everyAccount).some((message) => message.includes("the channel's currency is CAD"))).toBe(true);
  });

  it('OFX: decoded by the CHARSET its header names, not the channel encoding', async () => {
    const bytes = readFileSync(join(fixtures, 'ofx/bank-sgml-102.ofx'));
    const read = await readStatementFiles([{ name: 'bank.ofx', bytes }], channelOf('ofx', 'USD'));
    expect(problems(read)).toEqual([]);
    expect(read.rows).toHaveLength(5);
    expect(read.rows.some((row) => /[éè]/.test(row.payer))).toBe(true);
  });

  it('Alipay: the zip of GB18030 CSVs, checked against its footer and summary; a broken archive refused', async () => {
    const rows: AlipayRowInput[] = [
      { serial: '2025120422001', order: 'A1', kind: '交易', fen: 1250, created: '10:00:00', completed: '10:00:05' },
      { serial: '2025120422002', order: 'A2', kind: '退款', fen: -300, created: '11:00:00', completed: '11:00:02', refundNo: 'R1' },
    ];
    const zip = zipOf([{ name: alipayDetailsName, data: gb18030Bytes(alipayDetails(rows)) }, { name: alipaySummaryName, data: gb18030Bytes(alipaySummary(rows)) }]);
    const alipay = channelOf('alipay-tradebill', 'CNY');
    const read = await readStatementFiles([{ name: 'bill.zip', bytes: zip }], alipay);
    expect(problems(read)).toEqual([]);
    expect(read.rows.map((row) => [row.merchantOrderNo, row.amountMinor, row.direction, row.type])).toEqual([
      ['A1', 1250n, 'credit', 'payment'],
      ['A2', 300n, 'debit', 'refund'],
    ]);
    const broken = await readStatementFiles([{ name: 'bill.zip', bytes: zip.subarray(0, zip.length - 30) }], alipay);
    expect(broken.rows).toEqual([]);
    expect(problems(broken).length).toBeGreaterThan(0);
  });

  it('a file that is no text of the channel encoding is refused, not misread', async () => {
    const read = await readStatementFiles([{ name: 'bill.csv', bytes: gb18030Bytes('交易时间') }], channelOf('wechatpay-tradebill', 'CNY'));
    expect(problems(read)).toEqual(["not valid utf-8 (the channel's encoding)"]);
  });
});
