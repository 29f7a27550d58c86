// Issue #17: a channel's statement files as the rows the matcher takes — the reader picked by the channel's format,
// only the channel's account, every row in the channel's currency, rows numbered across files and keyed by the
// channel's keys. A file with a problem still yields its rows, and its report says why the run is refused.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChannelConfig } from '../../../src/core/recon/channel-config.js';
import { statementRows } from '../../../src/recon/statement-rows.js';
import { wechatTradeBillMapping as wechatMapping } from '../../../src/core/recon/channel-config-parse.js';
import { giro, giroTemplate } from '../../support/statement-samples.js';

const fixtures = join(import.meta.dirname, '../../fixtures/statements');
const file = (path: string) => ({ name: path.split('/').pop()!, text: readFileSync(join(fixtures, path), 'utf8') });
const sha128 = (text: string) => BigInt(`0x${createHash('sha256').update(text).digest('hex').slice(0, 32)}`);


function channel(fields: Partial<ChannelConfig> & Pick<ChannelConfig, 'format' | 'currency'>): ChannelConfig {
  return {
    name: 'test', encoding: 'utf-8', statementAccount: null, ledger: 1, timeZone: 'Europe/Zurich', accounts: { clearing: 1n, unidentified: null, fees: null },
    direction: 'asset', businessDay: 'bookingDate', granularity: 'entry', mapping: null, csv: null,
    keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }], fallback: null,
    ledgerCodes: { payment: [1], refund: [2], fee: [] }, tolerance: { amountMinor: 0n, feeMinor: 0n, dateWindowSeconds: 86_400 }, pendingDaysMax: 3,
    strategies: [{ type: '*', ours: '*', theirs: '*', action: 'hold', amountMaxMinor: null }], checks: { balanceBasis: 'booking' },
    ...fields,
  };
}

const codes = (reports: readonly { problems: readonly { code: string }[] }[]) => reports.map((report) => report.problems.map((p) => p.code));

describe('statementRows', () => {
  it('MT940: rows of the channel\'s account, numbered across files; a refused file still yields rows, its report says why', () => {
    const mt940 = channel({ format: 'mt940', currency: 'EUR' });
    const read = statementRows([file('mt940/mt940_tests_jejik_generic.sta'), file('mt940/mt940js_abn-amro-1.STA')], mt940);
    expect(read.rows.map((r) => [r.rowNo, r.locator, r.amountMinor, r.direction])).toEqual([
      [1, 'mt940_tests_jejik_generic.sta:5 :61:', 1000n, 'debit'],
      [2, 'mt940_tests_jejik_generic.sta:13 :61:', 1000n, 'debit'],
      [3, 'mt940js_abn-amro-1.STA:8 :61:', 541n, 'credit'],
    ]);
    expect(codes(read.reports)).toEqual([[], ['balance']]);
    expect(read.skipped).toBe(0);
    const other = statementRows([file('mt940/mt940_tests_jejik_generic.sta')], { ...mt940, statementAccount: '22222222' });
    expect(other.rows).toEqual([]);
    expect(other.reports[0]!.problems).toEqual([expect.objectContaining({ code: 'format', message: expect.stringContaining('no statement of the channel\'s account 22222222 (the file is about 11111111)') })]);
  });

  it('refuses rows in another currency than the channel\'s, once per currency', () => {
    const read = statementRows([file('mt940/mt940_tests_citi_mt940.txt')], channel({ format: 'mt940', currency: 'EUR', statementAccount: '123456789' }));
    expect(read.skipped).toBe(2);
    expect(read.rows).toHaveLength(3);
    expect(read.reports[0]!.problems).toEqual([{ code: 'currency', locator: 'mt940_tests_citi_mt940.txt:5 :61:', message: "3 row(s) in USD; the channel's currency is EUR" }]);
  });

  it('camt.053 per transaction, on the channel\'s balance basis, keyed by EndToEndId', () => {
    const fi = channel({ format: 'camt.053', currency: 'EUR', statementAccount: 'FI7433010001222090', granularity: 'transaction', timeZone: 'Europe/Helsinki' });
    const read = statementRows([file('camt/fi_fkl_camt053_v02.xml')], fi);
    expect(codes(read.reports)).toEqual([[]]);
    expect(read.rows).toHaveLength(13);
    expect(read.rows[10]).toMatchObject({ rowNo: 11, merchantOrderNo: 'EndToEndIdSCT01', key128: sha128('EndToEndIdSCT01'), amountMinor: 1000000n });
    expect(read.rows.filter((r) => r.key128 !== 0n)).toHaveLength(1);
    // The Finnish bank books its value-dated entry inside CLBD: on a value basis the file is refused.
    expect(codes(statementRows([file('camt/fi_fkl_camt053_v02.xml')], { ...fi, checks: { balanceBasis: 'value' } }).reports)).toEqual([['balance']]);
    expect(codes(statementRows([{ name: 'bad.xml', text: '<Document><Stmt>' }], fi).reports)).toEqual([['format']]);
  });

  it('WeChat Pay bill: three payments of the merchant, keyed by 商户订单号, the bill identified by merchant and day', () => {
    const wechat = channel({ format: 'wechatpay-tradebill', currency: 'CNY', statementAccount: '1601959334', timeZone: 'Asia/Shanghai', businessDay: 'transactionTime', mapping: wechatMapping });
    const read = statementRows([file('wechatpay/gunsluo_tradebill_ALL_20210128.csv')], wechat);
    expect(codes(read.reports)).toEqual([[]]);
    expect(read.rows[1]).toEqual({
      rowNo: 2, locator: 'gunsluo_tradebill_ALL_20210128.csv:3', statementKey: '1601959334/20210128', channelSerialNo: '4200000910202101282955148400',
      merchantOrderNo: 'S20210128153505214586', refundNo: '', transactionTimeMs: Date.UTC(2021, 0, 28, 7, 35, 18), bookingDate: 0, valueDate: 0,
      payer: 'ofyak5qR_1wYsC99CsWA6R9MJazA', amountMinor: 1n, direction: 'credit', feeMinor: 0n, currency: 'CNY', type: 'payment', typeRaw: 'NATIVE',
      status: 'success', statusRaw: 'SUCCESS', reversal: false, groupKey: '', key128: sha128('S20210128153505214586'),
    });
    const elsewhere = statementRows([file('wechatpay/gunsluo_tradebill_ALL_20210128.csv')], { ...wechat, statementAccount: '1700000000' });
    expect(elsewhere.reports[0]!.problems).toEqual([expect.objectContaining({ code: 'format', message: expect.stringContaining("none of its rows is of the channel's merchant 1700000000") })]);
  });

  it('CSV template: decimal comma, thousands separator, debit/credit columns, a footer', () => {
    const csv = channel({
      format: 'csv', currency: 'EUR', csv: giroTemplate, timeZone: 'Europe/Berlin',
      mapping: { bookingDate: { column: 'Buchungstag', format: 'dd.MM.yyyy' }, valueDate: { column: 'Valuta', format: 'dd.MM.yyyy' }, merchantOrderNo: { column: 'Verwendungszweck' }, payer: { column: 'Empfänger/Zahlungspflichtiger' }, currency: { column: 'Währung' } },
    });
    const read = statementRows([{ name: 'giro.csv', text: giro }], csv);
    expect(read.reports).toEqual([{ format: 'csv', file: 'giro.csv', entries: 3, problems: [], warnings: [] }]);
    expect(read.rows.map((r) => [r.rowNo, r.locator, r.statementKey, r.bookingDate, r.valueDate, r.merchantOrderNo, r.payer, r.amountMinor, r.direction, r.currency])).toEqual([
      [1, 'giro.csv:4', 'giro.csv', 20240201, 20240202, 'ORDER-1001', 'Müller; Hans', 123456n, 'credit', 'EUR'],
      [2, 'giro.csv:5', 'giro.csv', 20240205, 20240205, 'Miete Februar', 'Hausverwaltung GmbH', 1200000n, 'debit', 'EUR'],
      [3, 'giro.csv:6', 'giro.csv', 20240229, 20240301, 'ORDER-1002', 'ACME "Shop"', 50n, 'credit', 'EUR'],
    ]);
    const inexact = statementRows([{ name: 'giro.csv', text: giro.replace(';;0,50;EUR', ';;0,505;EUR') }], csv);
    expect(inexact.reports[0]!.problems).toEqual([expect.objectContaining({ code: 'amount', locator: 'giro.csv:6 Haben', message: expect.stringContaining('refusing to round') })]);
    const formula = statementRows([{ name: 'giro.csv', text: giro.replace('Miete Februar', '=1+1') }], csv);
    expect(formula.rows).toEqual([]);
    expect(formula.reports[0]!.problems).toEqual([expect.objectContaining({ code: 'format', locator: 'giro.csv:5', message: expect.stringContaining('formula') })]);
  });
});
