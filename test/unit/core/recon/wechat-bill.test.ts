// Issue #17: a WeChat Pay trade bill checked before any matching — the sample adds up (3 orders of 0.01 CNY, fees
// printed to 5 decimals, all zero past the cent); an edited amount, a missing summary, a row in another currency,
// a fee with a non-zero fifth decimal and a formula-like cell each refuse the file with the reason.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkWechatBill } from '../../../../src/core/recon/wechat-bill.js';
import { BillReadError, readWechatBill } from '../../../../src/recon/wechat-bill-reader.js';

const sample = readFileSync(join(import.meta.dirname, '../../../fixtures/statements/wechatpay/gunsluo_tradebill_ALL_20210128.csv'), 'utf8');
const check = (text: string) => checkWechatBill(readWechatBill(text), 'bill.csv');

describe('WeChat Pay trade bill', () => {
  it('reads the sample: 3 rows, back-ticks off, the summary adds up', () => {
    const bill = readWechatBill(sample);
    expect(bill.header).toHaveLength(27);
    expect(bill.rows).toHaveLength(3);
    expect(bill.rows[0]!.cells[bill.header.indexOf('微信订单号')]).toBe('4200000925202101284997714292');
    expect(bill.summary!.cells).toEqual(['3', '0.03', '0.00', '0.00', '0.00000', '0.03', '0.00']);
    expect(check(sample)).toMatchObject({ entries: 3, problems: [] });
  });

  it('refuses a bill whose summary the rows do not make, saying by how much', () => {
    const edited = sample.replace('`S20210128170702357723,`ofyak5qR_1wYsC99CsWA6R9MJazA,`NATIVE,`SUCCESS,`OTHERS,`CNY,`0.01', '`S20210128170702357723,`ofyak5qR_1wYsC99CsWA6R9MJazA,`NATIVE,`SUCCESS,`OTHERS,`CNY,`0.02');
    expect(check(edited).problems).toEqual([expect.objectContaining({ code: 'summary', expected: 3n, found: 4n, difference: 1n, currency: 'CNY' })]);
    const truncated = sample.slice(0, sample.indexOf('总交易单数'));
    expect(check(truncated).problems.map((p) => p.code)).toEqual(['incomplete']);
    const fewer = sample.replace('`3,`0.03', '`4,`0.03');
    expect(check(fewer).problems.map((p) => p.code)).toEqual(['summary']);
  });

  it('refuses another currency, an amount it would round, a formula-like cell, and what is no bill', () => {
    expect(check(sample.replace('`OTHERS,`CNY,', '`OTHERS,`USD,')).problems.map((p) => p.code)).toContain('currency');
    expect(check(sample.replace('`0.00000,`1.00%', '`0.00001,`1.00%')).problems.map((p) => p.code)).toEqual(['amount']);
    expect(check(sample.replace('`for testing', '`=SUM(A1:A9)')).problems.map((p) => p.code)).toEqual(['format']);
    expect(() => readWechatBill(sample.replace('`for testing', '`=HYPERLINK("x")'))).toThrow(BillReadError); // a stray quote: no CSV
    expect(check('a,b\n1,2\n').problems.map((p) => p.code)).toEqual(['format']);
  });
});
