// Issue #17: MT940 / MT942 statements read exactly and checked before any matching. Every sample in
// test/fixtures/statements/mt940 (real files from open-source parsers' test suites: SOURCES.md) gets the verdict
// its arithmetic gives — those that add up are accepted with their entries in exact minor units, those that do not
// are refused saying where and by how much — and bad input is refused with a reason, never half read.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSwiftStatements } from '../../../../src/core/recon/mt940.js';
import { formatStatementAmount, readStatementAmount } from '../../../../src/core/recon/statement-amount.js';

const dir = join(import.meta.dirname, '../../../fixtures/statements/mt940');
const read = (name: string) => readFileSync(join(dir, name), 'utf8');
const check = (name: string) => checkSwiftStatements(read(name), /942/.test(name) ? 'mt942' : 'mt940', name);

/** Per sample: the problem codes it is refused with (none: accepted), statements and entries read. */
const verdicts: Record<string, { problems: string[]; statements: number; entries: number }> = {
  'centrapay_test1.mt940': { problems: ['chain'], statements: 2, entries: 3 },
  'centrapay_test1.mt942': { problems: [], statements: 1, entries: 2 },
  'centrapay_test2.mt942': { problems: [], statements: 1, entries: 3 },
  'mt940_tests_ASNB_mt940.txt': { problems: [], statements: 31, entries: 8 },
  'mt940_tests_betterplace_sepa_mt9401.sta': { problems: [], statements: 26, entries: 97 },
  'mt940_tests_citi_mt940.txt': { problems: [], statements: 1, entries: 5 },
  'mt940_tests_cmxl_mt940.sta': { problems: [], statements: 3, entries: 16 },
  'mt940_tests_jejik_abnamro.sta': { problems: ['balance', 'chain', 'balance', 'incomplete'], statements: 2, entries: 10 },
  'mt940_tests_jejik_generic.sta': { problems: [], statements: 2, entries: 2 },
  'mt940_tests_jejik_ing.sta': { problems: ['balance', 'summary'], statements: 1, entries: 7 },
  'mt940_tests_jejik_rabobank-iban.sta': { problems: [], statements: 2, entries: 4 },
  'mt940_tests_mBank_mt940.sta': { problems: [], statements: 1, entries: 3 },
  'mt940_tests_mBank_mt942.sta': { problems: [], statements: 1, entries: 3 },
  'mt940_tests_sberbank_171011_01234945.sta': { problems: [], statements: 1, entries: 3 },
  'mt940js_abn-amro-1.STA': { problems: ['balance'], statements: 1, entries: 1 },
  'mt940js_base-1.mta': { problems: [], statements: 3, entries: 9 },
  'mt940js_base-2.mta': { problems: [], statements: 1, entries: 2 },
  'mt940js_ing-1.mta': { problems: [], statements: 1, entries: 3 },
  'mt940js_ing-2.mta': { problems: [], statements: 1, entries: 0 },
};

describe('MT940 / MT942 samples', () => {
  it('covers every sample in the fixtures', () => {
    expect(readdirSync(dir).filter((name) => !name.endsWith('.json')).sort()).toEqual(Object.keys(verdicts).sort());
  });

  it.each(Object.entries(verdicts))('%s', (name, verdict) => {
    const report = check(name);
    expect(report.problems.map((p) => p.code)).toEqual(verdict.problems);
    expect({ statements: report.statements.length, entries: report.entries }).toEqual({ statements: verdict.statements, entries: verdict.entries });
  });

  it('says where a statement breaks and by how much, in minor units', () => {
    const [chain] = check('centrapay_test1.mt940').problems;
    // The first statement closes at 500.00; the second opens at 3058.98.
    expect(chain).toMatchObject({ code: 'chain', expected: 50000n, found: 305898n, difference: 255898n });
    expect(chain!.locator).toContain('centrapay_test1.mt940:12');
    expect(check('mt940js_abn-amro-1.STA').problems[0]).toMatchObject({ code: 'balance', difference: -21351n });
    expect(check('mt940_tests_jejik_ing.sta').problems[1]!.message).toContain('the summary says 4 debits of 2524 and 2 credits of 2871');
  });

  it('reads entries exactly: marks, reversals, funds codes, references, amounts without decimals', () => {
    const base2 = check('mt940js_base-2.mta').statements[0]!;
    expect(base2.entries.map((e) => e.amountMinor)).toEqual([70n, 70n]); // `0,7`: never 0.7 as a float
    const betterplace = check('mt940_tests_betterplace_sepa_mt9401.sta').statements.flatMap((s) => s.entries);
    const reversal = betterplace.find((e) => e.mark === 'RC')!;
    expect(reversal).toMatchObject({ amountMinor: 20488n, signedMinor: -20488n, typeCode: 'NRTI' });
    const first = betterplace[0]!;
    expect(first).toMatchObject({ valueDate: '070904', entryDate: '0904', mark: 'C', amountMinor: 30000n, customerRef: 'TFNr 40005 MSGID', bankRef: '0724710345313905' });
    const centrapay = check('centrapay_test1.mt940');
    expect(centrapay.statements[1]!.entries[1]).toMatchObject({ amountMinor: 50000n, signedMinor: 50000n });
    expect(centrapay.warnings.join('\n')).toContain('amount 500 has no decimal comma');
    expect(check('mt940_tests_sberbank_171011_01234945.sta').warnings[0]).toContain('U+FFFD');
  });

  it('refuses bad input with a reason: garbage, a truncated file, a page never continued, an amount it would round', () => {
    expect(checkSwiftStatements('hello\nworld', 'mt940', 'x').problems.map((p) => p.code)).toEqual(['format']);
    const generic = read('mt940_tests_jejik_generic.sta');
    const truncated = generic.slice(0, generic.lastIndexOf(':62F:'));
    expect(checkSwiftStatements(truncated, 'mt940', 'x').problems.map((p) => p.code)).toContain('format');
    const paged = generic.replace(':62F:C110301EUR80,00', ':62M:C110301EUR80,00');
    expect(checkSwiftStatements(paged, 'mt940', 'x').problems.map((p) => p.code)).toEqual(['incomplete']);
    const inexact = generic.replace(':61:110101D10,00N', ':61:110101D10,005N');
    expect(checkSwiftStatements(inexact, 'mt940', 'x').problems[0]).toMatchObject({ code: 'amount' });
    const otherCurrency = generic.replace(':62F:C110201EUR90,00', ':62F:C110201USD90,00');
    expect(checkSwiftStatements(otherCurrency, 'mt940', 'x').problems.map((p) => p.code)).toContain('currency');
    const reportWithoutSums = read('centrapay_test1.mt942').replace(/:90[DC]:.*\r?\n/g, '');
    expect(checkSwiftStatements(reportWithoutSums, 'mt942', 'x').problems.map((p) => p.code)).toEqual(['format']);
    const underFloor = read('centrapay_test1.mt942').replace(':34F:NZD0,', ':34F:NZD6000,');
    expect(checkSwiftStatements(underFloor, 'mt942', 'x').problems.map((p) => p.code)).toEqual(['floor', 'floor']);
  });
});

describe('statement amounts', () => {
  it('are exact minor units, refusing any digit they would round', () => {
    expect(readStatementAmount('1234,56', 2, ',')).toEqual({ minor: 123456n, withoutMark: false });
    expect(readStatementAmount('500,', 2, ',')).toEqual({ minor: 50000n, withoutMark: false });
    expect(readStatementAmount('000000001000,00', 2, ',')).toEqual({ minor: 100000n, withoutMark: false });
    expect(readStatementAmount('200.0000', 2, '.')).toEqual({ minor: 20000n, withoutMark: false });
    expect(readStatementAmount('500', 2, ',')).toEqual({ minor: 50000n, withoutMark: true });
    expect(readStatementAmount('12', 0, ',')).toEqual({ minor: 12n, withoutMark: true });
    expect(readStatementAmount('18,150', 2, ',')).toEqual({ minor: 1815n, withoutMark: false }); // zeros past the scale are exact
    expect(readStatementAmount('18,155', 2, ',')).toHaveProperty('refused');
    expect(readStatementAmount('1,2,3', 2, ',')).toHaveProperty('refused');
    expect(readStatementAmount('-5,00', 2, ',')).toHaveProperty('refused');
    expect(readStatementAmount('99999999999999999999999,99', 2, ',')).toEqual({ minor: 9999999999999999999999999n, withoutMark: false });
    expect(formatStatementAmount(-255898n, 2, ',')).toBe('-2558,98');
    expect(formatStatementAmount(5n, 2)).toBe('0.05');
  });
});
