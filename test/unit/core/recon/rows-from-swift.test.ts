// Issue #17: checked MT940 statements as standard rows — one per :61: entry, RC a debit and RD a credit (both
// reversals), the entry date's year rolled over from the value date, NONREF replaced by the :86: /EREF/, 0,00
// information lines (Citi) left out and counted; exact values from the real samples.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSwiftStatements } from '../../../../src/core/recon/mt940.js';
import { rowsFromSwift } from '../../../../src/core/recon/rows-from-swift.js';

const dir = join(import.meta.dirname, '../../../fixtures/statements/mt940');
const rowsOf = (text: string, file: string) => rowsFromSwift(checkSwiftStatements(text, 'mt940', file).statements, file);
const sample = (name: string) => rowsOf(readFileSync(join(dir, name), 'utf8'), name);

describe('rows from MT940', () => {
  it('jejik generic: one debit per statement, keyed by account, sequence and opening date', () => {
    const { rows, skipped, problems } = sample('mt940_tests_jejik_generic.sta');
    expect({ skipped, problems }).toEqual({ skipped: 0, problems: [] });
    expect(rows).toEqual([
      {
        rowNo: 0, locator: 'mt940_tests_jejik_generic.sta:5 :61:', statementKey: '11111111/1/20110101', channelSerialNo: '', merchantOrderNo: '', refundNo: '',
        transactionTimeMs: null, bookingDate: 20110101, valueDate: 20110101, payer: '', amountMinor: 1000n, direction: 'debit', feeMinor: 0n, currency: 'EUR',
        type: 'other', typeRaw: 'N000', status: 'success', statusRaw: '', reversal: false, groupKey: '', key128: 0n,
      },
      expect.objectContaining({ locator: 'mt940_tests_jejik_generic.sta:13 :61:', statementKey: '11111111/2/20110201', amountMinor: 1000n, direction: 'debit', bookingDate: 20110201 }),
    ]);
  });

  it('ABN AMRO: the entry date (MMDD) is the booking date; /NAME/ is the payer; /EREF/NOTPROVIDED is no reference', () => {
    const { rows } = sample('mt940js_abn-amro-1.STA');
    expect(rows).toEqual([expect.objectContaining({ bookingDate: 20110715, valueDate: 20110714, amountMinor: 541n, direction: 'credit', payer: 'TT TEST', merchantOrderNo: '', currency: 'EUR', typeRaw: 'N426' })]);
  });

  it('Citi: the two 0,00 BAI information lines are left out and counted', () => {
    const { rows, skipped } = sample('mt940_tests_citi_mt940.txt');
    expect(skipped).toBe(2);
    expect(rows.map((r) => [r.locator, r.amountMinor, r.direction, r.currency])).toEqual([
      ['mt940_tests_citi_mt940.txt:5 :61:', 21239n, 'debit', 'USD'],
      ['mt940_tests_citi_mt940.txt:9 :61:', 36928n, 'debit', 'USD'],
      ['mt940_tests_citi_mt940.txt:17 :61:', 56108n, 'debit', 'USD'],
    ]);
  });

  it('betterplace: RC is a reversal booked as a debit; the bank reference after // is the channel serial', () => {
    const { rows } = sample('mt940_tests_betterplace_sepa_mt9401.sta');
    expect(rows.find((r) => r.locator.endsWith(':19 :61:'))).toMatchObject({ amountMinor: 20488n, direction: 'debit', reversal: true, type: 'return', typeRaw: 'NRTI' });
    expect(rows.find((r) => r.locator.endsWith(':30 :61:'))).toMatchObject({ amountMinor: 1500005n, direction: 'credit', reversal: false, type: 'transfer_in', channelSerialNo: '0724710290621954' });
  });

  it('rolls the entry date into the next or previous year, reads NONREF from /EREF/, RD as a credit reversal', () => {
    const text = [
      ':20:X', ':25:ACC', ':28C:7/1', ':60F:C231231EUR0,00',
      ':61:2312310102C1,00NTRFREF1//BANK1', ':86:/EREF/E2E-1/NAME/ACME GMBH/REMI/x',
      ':61:2401021231RD2,00NCHGNONREF//BANK2', ':86:/EREF/E2E-2/',
      ':62F:C240102EUR3,00', '-',
    ].join('\n');
    const { rows, problems } = rowsOf(text, 'roll.sta');
    expect(problems).toEqual([]);
    expect(rows.map((r) => [r.statementKey, r.bookingDate, r.valueDate, r.merchantOrderNo, r.channelSerialNo, r.payer, r.direction, r.reversal, r.type])).toEqual([
      ['ACC/7/1/20231231', 20240102, 20231231, 'REF1', 'BANK1', 'ACME GMBH', 'credit', false, 'transfer_in'],
      ['ACC/7/1/20231231', 20231231, 20240102, 'E2E-2', 'BANK2', '', 'credit', true, 'fee'],
    ]);
  });

  it('refuses an entry dated on no calendar day', () => {
    const text = [':20:X', ':25:ACC', ':28C:1', ':60F:C230201EUR0,00', ':61:230231C1,00NTRFX', ':62F:C230201EUR1,00'].join('\n');
    const { rows, problems } = rowsOf(text, 'bad.sta');
    expect(rows).toEqual([]);
    expect(problems).toEqual([expect.objectContaining({ code: 'format', locator: 'bad.sta:5 :61:' })]);
  });
});
