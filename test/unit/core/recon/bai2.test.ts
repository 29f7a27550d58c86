// Issue #17: BAI2 files read exactly and checked before any matching. The samples in
// test/fixtures/statements/bai2 are hand-written from the specification (SOURCES.md): the one that adds up is
// accepted with its accounts in exact minor units; the others are refused saying where and by how much. Records are
// joined with their 88 continuations, funds types take their fields (V, S, D), a 16's text keeps its `/` and `,`,
// and every trailer's control total and counts are checked.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bai2DateNumber, bai2TypeClass, checkBai2 } from '../../../../src/core/recon/bai2.js';

const dir = join(import.meta.dirname, '../../../fixtures/statements/bai2');
const read = (name: string) => readFileSync(join(dir, name), 'utf8');
const check = (name: string) => checkBai2(read(name), name);
const lines = (...records: string[]) => records.join('\n');

/** Per sample: the problem codes it is refused with (none: accepted), accounts and entries (16 records) read. */
const verdicts: Record<string, { problems: string[]; accounts: number; entries: number }> = {
  'spec-two-groups.bai': { problems: [], accounts: 3, entries: 9 },
  'wrong-account-total.bai': { problems: ['summary'], accounts: 2, entries: 3 },
  'missing-file-trailer.bai': { problems: ['incomplete'], accounts: 2, entries: 3 },
  'balance-break.bai': { problems: ['balance'], accounts: 1, entries: 2 },
};

describe('BAI2 samples', () => {
  it('covers every sample in the fixtures', () => {
    expect(readdirSync(dir).sort()).toEqual(Object.keys(verdicts).sort());
  });

  it.each(Object.entries(verdicts))('%s', (name, verdict) => {
    const report = check(name);
    expect(report.problems.map((p) => p.code)).toEqual(verdict.problems);
    expect({ accounts: report.accounts.length, entries: report.entries }).toEqual({ accounts: verdict.accounts, entries: verdict.entries });
    expect(report).toMatchObject({ format: 'bai2', file: name, warnings: [] });
  });

  it('two groups, three accounts: every trailer adds up, in minor units of each account currency', () => {
    const { accounts } = check('spec-two-groups.bai');
    expect(accounts.map((a) => [a.account, a.currency, a.asOfDate, a.groupLine, a.trailer])).toEqual([
      ['0123456789', 'USD', '040620', 2, { line: 10, controlMinor: 43_130_000n, records: 8 }], // group currency defaulted: USD
      ['9876543210', 'CAD', '040620', 2, { line: 16, controlMinor: 1_700_000n, records: 6 }], // the 03 names its own
      ['4589761203', 'EUR', '040620', 18, { line: 24, controlMinor: 30_025_000n, records: 6 }], // the group's (02) EUR
    ]);
    // 03 and its 88s: every type code with its signed amount and item count, in order.
    expect(accounts[1]!.summaries.map((s) => [s.typeCode, s.amountMinor, s.itemCount])).toEqual([
      ['010', -500_000n, null], ['100', 1_000_000n, 2], ['400', 1_200_000n, 1], ['015', -700_000n, null], ['040', -1_500_000n, null],
    ]);
    const sums = accounts.map((a) => ['credit', 'debit'].map((side) => a.details.filter((d) => d.direction === side).reduce((n, d) => n + d.amountMinor, 0n)));
    expect(sums).toEqual([[10_450_000n, 250_000n], [1_000_000n, 1_200_000n], [300_000n, 125_000n]]);
  });

  it('reads funds types with their fields, references and text continued on 88 records, text holding "/" and ","', () => {
    const details = check('spec-two-groups.bai').accounts.flatMap((a) => a.details);
    expect(details.map((d) => [d.line, d.typeCode, d.direction, d.amountMinor, d.funds.type, d.bankRef, d.customerRef, d.text])).toEqual([
      [5, '115', 'credit', 450_000n, 'S', 'LB20040620A', '', 'LOCKBOX DEPOSIT'],
      [6, '115', 'credit', 10_000_000n, 'S', 'AX13612', 'B096132', 'AMALGAMATED CORP. LOCKBOX DEPOSIT-MISC. RECEIVABLES'],
      [9, '475', 'debit', 250_000n, '0', 'CHK1001', '1001', 'CHECK PAID TO ACME/INV 77, NET 30'],
      [13, '195', 'credit', 600_000n, 'V', 'WIRE0001', 'INV-2020-01', 'INCOMING WIRE FROM BETA LTD'],
      [14, '142', 'credit', 400_000n, 'D', 'ACH0002', 'CUST0002', 'ACH CREDIT RECEIVED'],
      [15, '495', 'debit', 1_200_000n, '1', 'OUT0003', 'PO 5531', 'OUTGOING WIRE'],
      [21, '354', 'credit', 300_000n, 'Z', 'INT0001', '', 'INTEREST CREDIT'],
      [22, '698', 'debit', 25_000n, 'Z', 'FEE0001', '', 'ACCOUNT FEES'], // a defaulted funds type is Z
      [23, '555', 'debit', 100_000n, '2', 'RET0001', 'DEP 42', 'DEPOSITED ITEM RETURNED'],
    ]);
    expect(details[0]!.funds.distribution).toEqual([{ days: 0, amountMinor: 100_000n }, { days: 1, amountMinor: 200_000n }, { days: 2, amountMinor: 150_000n }]);
    expect(details[3]!.funds).toEqual({ type: 'V', valueDate: '040620', valueTime: '1530', distribution: [] });
    expect(details[4]!.funds.distribution).toEqual([{ days: 0, amountMinor: 150_000n }, { days: 1, amountMinor: 250_000n }]);
  });

  it('says where a file breaks and by how much', () => {
    expect(check('wrong-account-total.bai').problems).toEqual([
      { code: 'summary', locator: 'wrong-account-total.bai:9 49', message: 'the account control total is 14900; the amounts make 15000 (minor units)', expected: 14_900n, found: 15_000n, difference: 100n, currency: 'USD' },
    ]);
    expect(check('missing-file-trailer.bai').problems).toEqual([
      { code: 'incomplete', locator: 'missing-file-trailer.bai:10 end', message: 'the file ends without its file trailer (99)' },
    ]);
    // 1,250.00 + 230.00 − 500.00 = 980.00, not the 990.00 stated.
    expect(check('balance-break.bai').problems).toEqual([
      { code: 'balance', locator: 'balance-break.bai:3 03', message: 'account 30003: opening ledger (010) + credits − debits ≠ closing ledger (015)', expected: 98_000n, found: 99_000n, difference: 1_000n, currency: 'USD' },
    ]);
  });
});

/** The first group of the specification's sample file, in a file of its own: 49 totals 9150000 and 4000000, 98 13150000 of 2 accounts and 11 records. */
const specGroup = [
  '02,031001234,122099999,1,040620,2359,,2/',
  '03,0123456789,,010,+4350000,,,040,2830000,,/',
  '88,072,1020000,,,074,500000,,/',
  '16,115,450000,S,100000,200000,150000/',
  '49,9150000,4/',
  '03,9876543210,,010,-500000,,,100,1000000,,,400,2000000,,,190/',
  '88,500000,,,110,1000000,,,072,500000,,,074,500000,,,040/',
  '88,-1500000,,/',
  '16,115,500000,S,,200000,300000,,,LOCK BOX NO.68751',
  '49,4000000,5/',
  '98,13150000,2,11/',
];
const specFile = lines('01,122099999,123456789,040621,0200,1,65,,2/', ...specGroup, '99,13150000,1,13/');

describe('BAI2 records and checks', () => {
  it("the specification's sample: controls and counts hold (distributions are no part of them); its summaries are not its details", () => {
    const report = checkBai2(specFile, 'spec.bai');
    expect(report.accounts.map((a) => a.trailer?.controlMinor)).toEqual([9_150_000n, 4_000_000n]);
    expect(report.accounts[1]!.details[0]).toMatchObject({ amountMinor: 500_000n, text: 'LOCK BOX NO.68751', funds: { type: 'S', distribution: [{ days: 0, amountMinor: 0n }, { days: 1, amountMinor: 200_000n }, { days: 2, amountMinor: 300_000n }] } });
    // The example states total credits 1,000,000 and debits 2,000,000 but details one credit of 500,000 only.
    expect(report.problems.map((p) => [p.code, p.locator, p.expected, p.found, p.difference])).toEqual([
      ['summary', 'spec.bai:7 03', 1_000_000n, 500_000n, -500_000n],
      ['summary', 'spec.bai:7 03', 2_000_000n, 0n, -2_000_000n],
    ]);
  });

  it('credits not detailed (105) and debits not detailed (406) complete the details; item counts are checked', () => {
    const account = (summary: string, total: number) =>
      lines('01,A,B,230101,0000,1,,,2/', '02,B,A,1,230101,,,2/', `03,1,,${summary}/`, '16,142,700,0,R1,,X/', '16,451,300,0,R2,,Y/', `49,${total},4/`, `98,${total},1,6/`, `99,${total},1,8/`);
    expect(checkBai2(account('100,1000,1,,105,300,,,400,300,1,', 2600), 'x').problems).toEqual([]);
    const counted = checkBai2(account('100,700,2,,400,300,1,', 2000), 'x').problems;
    expect(counted).toEqual([{ code: 'summary', locator: 'x:3 03', message: 'account 1: total credits (100) counts 2 items; the details are 1' }]);
    expect(checkBai2(account('100,700,,,400,300,,,406,50,,', 2050), 'x').problems).toMatchObject([{ code: 'summary', expected: 300n, found: 350n, difference: 50n }]);
    // Reported in summary only: no details to add up.
    const summaryOnly = lines('01,A,B,230101,0000,1,,,2/', '02,B,A,1,230101,,,2/', '03,1,,100,700,1,/', '49,700,2/', '98,700,1,4/', '99,700,1,6/');
    expect(checkBai2(summaryOnly, 'x').problems).toEqual([]);
  });

  it('checks group and file trailers against the trailers they close', () => {
    const file = (g98: string, f99: string) => lines('01,A,B,230101,0000,1,,,2/', '02,B,A,1,230101,,JPY,2/', '03,1,,010,5,,/', '49,5,2/', '03,2,,010,-7,,/', '49,-7,2/', g98, f99);
    expect(checkBai2(file('98,-2,2,6/', '99,-2,1,8/'), 'x').problems).toEqual([]);
    expect(checkBai2(file('98,-3,3,7/', '99,-3,2,9/'), 'x').problems).toEqual([
      { code: 'summary', locator: 'x:7 98', message: 'the group (Σ its 49 totals) control total is -3; the amounts make -2 (minor units)', expected: -3n, found: -2n, difference: 1n, currency: 'JPY' },
      { code: 'summary', locator: 'x:7 98', message: 'states 3 accounts; the file has 2' },
      { code: 'summary', locator: 'x:7 98', message: 'states 7 records (02 … 98, 88 included); the file has 6' },
      { code: 'summary', locator: 'x:8 99', message: 'states 2 groups; the file has 1' },
      { code: 'summary', locator: 'x:8 99', message: 'states 9 records (01 … 99, 88 included); the file has 8' },
    ]);
  });

  it.each([
    ['an account without its 49', ['03,1,,010,5,,/', '98,5,1,3/', '99,5,1,5/'], [['incomplete', 'x:4 98']]],
    ['a group without its 98', ['03,1,,010,5,,/', '49,5,2/', '99,5,1,5/'], [['incomplete', 'x:5 99']]],
    ['a 16 outside an account', ['16,142,5,0,R,,T/', '98,0,0,3/', '99,0,1,5/'], [['format', 'x:3 16']]],
    ['a status code on a 16', ['03,1,/', '16,015,5,0,R,,T/', '49,5,3/', '98,5,1,5/', '99,5,1,7/'], [['format', 'x:4 16']]],
    ['a signed amount on a 16', ['03,1,/', '16,142,-5,0,R,,T/', '49,0,3/', '98,0,1,5/', '99,0,1,7/'], [['amount', 'x:4 16']]],
    ['a decimal point', ['03,1,,010,5.00,,/', '49,0,2/', '98,0,1,4/', '99,0,1,6/'], [['amount', 'x:3 03']]],
    ['an unknown funds type', ['03,1,/', '16,142,5,X,R,,T/', '49,5,3/', '98,5,1,5/', '99,5,1,7/'], [['format', 'x:4 16']]],
    ['D without its count', ['03,1,/', '16,142,5,D/', '49,5,3/', '98,5,1,5/', '99,5,1,7/'], [['format', 'x:4 16']]],
    ['D with fewer pairs than it states', ['03,1,/', '16,142,5,D,2,0,5/', '49,5,3/', '98,5,1,5/', '99,5,1,7/'], [['format', 'x:4 16']]],
    ['a value date on no day', ['03,1,/', '16,142,5,V,230230,,R,,T/', '49,5,3/', '98,5,1,5/', '99,5,1,7/'], [['format', 'x:4 16']]],
    ['an unknown currency', ['03,1,XYZ,010,5,,/', '49,5,2/', '98,5,1,4/', '99,5,1,6/'], [['currency', 'x:3 03']]],
    ['an unknown record', ['03,1,/', '17,1/', '49,0,3/', '98,0,1,5/', '99,0,1,7/'], [['format', 'x:4 17']]],
    ['a record after 99', ['98,0,0,2/', '99,0,1,4/', '02,B,A,1,230101,,,2/'], [['format', 'x:5 02']]],
    ['an unreadable trailer', ['98,0,zero,2/', '99,0,1,4/'], [['format', 'x:3 98']]],
    ['a line that is no record', ['HELLO', '98,0,0,2/', '99,0,1,4/'], [['format', 'x:3']]],
  ])('refuses %s', (_, records, expected) => {
    const report = checkBai2(lines('01,A,B,230101,0000,1,,,2/', '02,B,A,1,230101,,,2/', ...records), 'x');
    expect(report.problems.map((p) => [p.code, p.locator])).toEqual(expected);
  });

  it('refuses what is no BAI2 file: no header, version 1, an 88 continuing nothing', () => {
    expect(checkBai2('', 'x').problems).toEqual([{ code: 'format', locator: 'x', message: 'no BAI2 file header (01)' }]);
    expect(checkBai2(read('spec-two-groups.bai').replace(',80,,2/', ',80,,1/'), 'x').problems.map((p) => [p.code, p.message])).toEqual([['format', 'version "1": only BAI version 2 is read']]);
    expect(checkBai2(`88,1/\n${specFile}`, 'x').problems.map((p) => [p.code, p.locator])).toContainEqual(['format', 'x:1 88']);
  });

  it('warns of a summary type code BAI2 does not define, and counts it in the control total', () => {
    const report = checkBai2(lines('01,A,B,230101,0000,1,,,2/', '02,B,A,1,230101,,,2/', '03,1,,801,5,,/', '49,5,2/', '98,5,1,4/', '99,5,1,6/'), 'x');
    expect(report.problems).toEqual([]);
    expect(report.warnings).toEqual(['x:3 03: type code "801" is none of BAI2\'s (counted in the control total only)']);
  });

  it('accepts a BOM, CRLF, padded fixed-length records and blank lines', () => {
    const padded = '\uFEFF' + specFile.split('\n').map((record) => record.padEnd(80, ' ')).join('\r\n') + '\r\n\r\n';
    expect(checkBai2(padded, 'x').accounts.map((a) => a.trailer?.controlMinor)).toEqual([9_150_000n, 4_000_000n]);
  });

  it('classes type codes by the ranges of the specification and reads dates in the 2000s', () => {
    expect(['010', '015', '100', '399', '400', '699', '700', '899', '900', '919', '920', '959', '960', '999', '12', 'ABC'].map(bai2TypeClass)).toEqual([
      'status', 'status', 'credit', 'credit', 'debit', 'debit', 'unknown', 'unknown', 'status', 'status', 'credit', 'credit', 'debit', 'debit', 'unknown', 'unknown',
    ]);
    expect(['040620', '240229', '230229', '2306', ''].map(bai2DateNumber)).toEqual([20040620, 20240229, 0, 0, 0]);
  });
});
