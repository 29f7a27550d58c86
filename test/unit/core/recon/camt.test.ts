// Issue #17: camt.052/053/054 statements read as a stream and checked before any matching. Every sample in
// test/fixtures/statements/camt (from open-source ISO 20022 parsers and banks' published examples: SOURCES.md)
// gets the verdict its arithmetic gives, with where it breaks and by how much; bad XML is refused, never half read.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCamtStatements } from '../../../../src/core/recon/camt.js';
import { CamtReadError, readCamt } from '../../../../src/recon/camt-reader.js';

const dir = join(import.meta.dirname, '../../../fixtures/statements/camt');
const check = (name: string) => checkCamtStatements(readCamt(readFileSync(join(dir, name), 'utf8')), 'camt', name);

/** Per sample: the problem codes it is refused with (none: accepted), statements and entries read. */
const verdicts: Record<string, { problems: string[]; statements: number; entries: number }> = {
  'camt052.v2.xml': { problems: [], statements: 1, entries: 1 },
  'camt052.v8.xml': { problems: [], statements: 1, entries: 1 },
  'camt053.v2.all-balance-types.xml': { problems: ['balance'], statements: 1, entries: 1 },
  'camt053.v2.five.decimals.xml': { problems: ['balance'], statements: 1, entries: 1 },
  'camt053.v2.minimal.xml': { problems: ['currency', 'currency', 'currency'], statements: 1, entries: 1 },
  'camt053.v2.multi.statement.xml': { problems: [], statements: 2, entries: 2 },
  'camt053.v4.xml': { problems: ['currency', 'currency', 'currency'], statements: 1, entries: 1 },
  'camt053.v8.xml': { problems: ['currency', 'currency', 'currency'], statements: 1, entries: 1 },
  'camt054.v2.xml': { problems: [], statements: 1, entries: 1 },
  'camt054.v8-with-UETR.xml': { problems: [], statements: 1, entries: 1 },
  'camt53.only-Dt-with-DtTm.xml': { problems: ['format'], statements: 1, entries: 0 },
  'fi_fkl_camt052.xml': { problems: [], statements: 2, entries: 2 },
  'fi_fkl_camt053_v02.xml': { problems: [], statements: 1, entries: 10 },
  'fi_fkl_camt054.xml': { problems: [], statements: 1, entries: 6 },
  'iso20022js_abn_amro_example_camt.xml': { problems: [], statements: 1, entries: 13 },
  'iso20022js_goldman_sachs_camt_053_uk_v2_1.xml': { problems: ['balance'], statements: 2, entries: 6 },
  'iso20022js_goldman_sachs_camt_053_us_v2_sample.xml': { problems: ['currency'], statements: 1, entries: 15 },
  'iso20022js_ing_example_camt.xml': { problems: [], statements: 1, entries: 9 },
  'iso20022js_nordea_example_camt.xml': { problems: [], statements: 1, entries: 6 },
  'lt_siauliu_camt053_v02.xml': { problems: [], statements: 1, entries: 4 },
  'postfinance_camt052.xml': { problems: ['balance'], statements: 1, entries: 2 },
  'postfinance_camt053_v04.xml': { problems: ['balance'], statements: 1, entries: 5 },
  'postfinance_camt054_credit.xml': { problems: [], statements: 1, entries: 1 },
  'postfinance_camt054_debit.xml': { problems: [], statements: 1, entries: 1 },
  'postfinance_camt054_returns.xml': { problems: [], statements: 1, entries: 1 },
};

describe('camt samples', () => {
  it('covers every sample in the fixtures', () => {
    expect(readdirSync(dir).filter((name) => name.endsWith('.xml')).sort()).toEqual(Object.keys(verdicts).sort());
  });

  it.each(Object.entries(verdicts))('%s', (name, verdict) => {
    const report = check(name);
    expect(report.problems.map((p) => p.code)).toEqual(verdict.problems);
    expect({ statements: readCamt(readFileSync(join(dir, name), 'utf8')).length, entries: report.entries }).toEqual({ statements: verdict.statements, entries: verdict.entries });
  });

  it('says where a statement breaks and by how much, in minor units of its currency', () => {
    // 18.150 + 8.850 = 27.00, the closing says 27.050: off by 0.05.
    expect(check('camt053.v2.five.decimals.xml').problems[0]).toMatchObject({ code: 'balance', expected: 2700n, found: 2705n, difference: 5n, currency: 'EUR' });
    // PostFinance books the entry value-dated the next day outside CLBD: off by exactly its 1,537.00.
    expect(check('postfinance_camt053_v04.xml').problems[0]).toMatchObject({ difference: -153700n, currency: 'CHF' });
    expect(check('iso20022js_goldman_sachs_camt_053_uk_v2_1.xml').problems[0]).toMatchObject({ difference: 10835n, currency: 'GBP' });
  });

  it('on a value basis, a bank that books next-day-value entries outside CLBD adds up, and FWAV is checked', () => {
    const postfinance = readCamt(readFileSync(join(dir, 'postfinance_camt053_v04.xml'), 'utf8'));
    expect(checkCamtStatements(postfinance, 'camt', 'pf', 'value').problems).toEqual([]);
    // The Finnish bank books its value-dated entry inside CLBD: on a value basis it no longer adds up.
    const fi = readCamt(readFileSync(join(dir, 'fi_fkl_camt053_v02.xml'), 'utf8'));
    expect(checkCamtStatements(fi, 'camt', 'fi', 'value').problems.map((p) => p.code)).toContain('balance');
    const wrongForward = readFileSync(join(dir, 'postfinance_camt053_v04.xml'), 'utf8');
    const at = wrongForward.indexOf('<Cd>FWAV</Cd>');
    const edited = wrongForward.slice(0, at) + wrongForward.slice(at).replace(/<Amt Ccy="CHF">([0-9.]+)<\/Amt>/, '<Amt Ccy="CHF">1.00</Amt>');
    expect(checkCamtStatements(readCamt(edited), 'camt', 'pf', 'value').problems[0]!.message).toContain('FWAV');
  });

  it('reads entries with their direction, status and references; a credit line is no balance', () => {
    const [statement] = readCamt(readFileSync(join(dir, 'fi_fkl_camt053_v02.xml'), 'utf8'));
    expect(statement!.balances.map((b) => b.code)).toContain('CLBD');
    expect(statement!.entries.every((e) => e.status === 'BOOK' && (e.creditDebit === 'CRDT' || e.creditDebit === 'DBIT'))).toBe(true);
    const [ing] = readCamt(readFileSync(join(dir, 'iso20022js_ing_example_camt.xml'), 'utf8'));
    expect(ing!.entries.some((e) => e.reversal)).toBe(true);
  });

  it('refuses XML that is not well-formed, a DOCTYPE, and a statement that does not add up once edited', () => {
    expect(() => readCamt('<Document><BkToCstmrStmt><Stmt></BkToCstmrStmt></Document>')).toThrow(CamtReadError);
    expect(() => readCamt('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Document/>')).toThrow(/DOCTYPE/);
    expect(checkCamtStatements(readCamt('<Document><Other/></Document>'), 'camt', 'x').problems.map((p) => p.code)).toEqual(['format']);
    const good = readFileSync(join(dir, 'camt053.v2.multi.statement.xml'), 'utf8');
    const edited = good.replace('<Amt Ccy="EUR">18.15</Amt>', '<Amt Ccy="EUR">18.16</Amt>');
    expect(checkCamtStatements(readCamt(edited), 'camt', 'x').problems.map((p) => p.code)).toEqual(['balance']);
    const inexact = good.replace('<Amt Ccy="EUR">18.15</Amt>', '<Amt Ccy="EUR">18.155</Amt>');
    expect(checkCamtStatements(readCamt(inexact), 'camt', 'x').problems.map((p) => p.code)).toEqual(['amount']);
  });
});
