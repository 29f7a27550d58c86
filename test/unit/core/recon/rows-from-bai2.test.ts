// Issue #17: checked BAI2 accounts as standard rows — one per 16 record, the direction and row type from the type
// code, the bank reference the channel serial and the customer reference ours, booked on the group's as-of date,
// value-dated by a V funds type, in the account's currency; exact values from the hand-written samples.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBai2 } from '../../../../src/core/recon/bai2.js';
import { rowsFromBai2 } from '../../../../src/core/recon/rows-from-bai2.js';

const dir = join(import.meta.dirname, '../../../fixtures/statements/bai2');
const rowsOf = (text: string, file: string) => rowsFromBai2(checkBai2(text, file).accounts, file);
const sample = (name: string) => rowsOf(readFileSync(join(dir, name), 'utf8'), name);

describe('rows from BAI2', () => {
  it('one row per 16 record, in file order, across groups and accounts', () => {
    const { rows, problems } = sample('spec-two-groups.bai');
    expect(problems).toEqual([]);
    expect(rows[0]).toEqual({
      rowNo: 0, locator: 'spec-two-groups.bai:5 16', statementKey: '0123456789/20040620', channelSerialNo: 'LB20040620A', merchantOrderNo: '', refundNo: '',
      transactionTimeMs: null, bookingDate: 20040620, valueDate: 0, payer: '', amountMinor: 450_000n, direction: 'credit', feeMinor: 0n, currency: 'USD',
      type: 'payment', typeRaw: '115', status: 'success', statusRaw: '', reversal: false, groupKey: '', key128: 0n,
    });
    expect(rows.map((r) => [r.locator, r.statementKey, r.channelSerialNo, r.merchantOrderNo, r.amountMinor, r.direction, r.currency, r.type, r.typeRaw, r.valueDate])).toEqual([
      ['spec-two-groups.bai:5 16', '0123456789/20040620', 'LB20040620A', '', 450_000n, 'credit', 'USD', 'payment', '115', 0],
      ['spec-two-groups.bai:6 16', '0123456789/20040620', 'AX13612', 'B096132', 10_000_000n, 'credit', 'USD', 'payment', '115', 0],
      ['spec-two-groups.bai:9 16', '0123456789/20040620', 'CHK1001', '1001', 250_000n, 'debit', 'USD', 'other', '475', 0],
      ['spec-two-groups.bai:13 16', '9876543210/20040620', 'WIRE0001', 'INV-2020-01', 600_000n, 'credit', 'CAD', 'transfer_in', '195', 20040620],
      ['spec-two-groups.bai:14 16', '9876543210/20040620', 'ACH0002', 'CUST0002', 400_000n, 'credit', 'CAD', 'transfer_in', '142', 0],
      ['spec-two-groups.bai:15 16', '9876543210/20040620', 'OUT0003', 'PO 5531', 1_200_000n, 'debit', 'CAD', 'transfer_out', '495', 0],
      ['spec-two-groups.bai:21 16', '4589761203/20040620', 'INT0001', '', 300_000n, 'credit', 'EUR', 'interest', '354', 0],
      ['spec-two-groups.bai:22 16', '4589761203/20040620', 'FEE0001', '', 25_000n, 'debit', 'EUR', 'fee', '698', 0],
      ['spec-two-groups.bai:23 16', '4589761203/20040620', 'RET0001', 'DEP 42', 100_000n, 'debit', 'EUR', 'return', '555', 0],
    ]);
  });

  it('books on the as-of date of the group, also when the file was made on another day', () => {
    const { rows } = sample('balance-break.bai');
    expect(rows.map((r) => [r.statementKey, r.bookingDate, r.direction, r.amountMinor, r.type, r.merchantOrderNo])).toEqual([
      ['30003/20230314', 20230314, 'credit', 23_000n, 'transfer_in', 'SUB-4431'],
      ['30003/20230314', 20230314, 'debit', 50_000n, 'transfer_out', 'RENT-03'],
    ]);
  });

  it('reads custom credit and debit codes by their ranges, as other; keeps a detail of no amount as a row', () => {
    const text = [
      '01,A,B,231231,0000,1,,,2/', '02,B,A,1,231231,,JPY,2/', '03,ACC,/',
      '16,925,1500,V,240102,,R1,C1,BANK CODE/', '16,975,0,0,R2,,ZERO/', '16,399,1,0,R3,,MISC/',
      '49,1501,5/', '98,1501,1,7/', '99,1501,1,9/',
    ].join('\n');
    const { rows, problems } = rowsOf(text, 'x.bai');
    expect(problems).toEqual([]);
    expect(rows.map((r) => [r.direction, r.amountMinor, r.currency, r.type, r.bookingDate, r.valueDate])).toEqual([
      ['credit', 1500n, 'JPY', 'other', 20231231, 20240102],
      ['debit', 0n, 'JPY', 'other', 20231231, 0],
      ['credit', 1n, 'JPY', 'other', 20231231, 0],
    ]);
  });

  it('refuses a row dated on no calendar day', () => {
    const text = ['01,A,B,230101,0000,1,,,2/', '02,B,A,1,230230,,,2/', '03,ACC,/', '16,142,5,0,R,,T/', '49,5,3/', '98,5,1,5/', '99,5,1,7/'].join('\n');
    const { rows, problems } = rowsOf(text, 'bad.bai');
    expect(rows).toEqual([]);
    expect(problems).toEqual([expect.objectContaining({ code: 'format', locator: 'bad.bai:2 02' })]);
  });
});
