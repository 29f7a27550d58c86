// Issue #17: OFX/QFX bank and credit-card statements, 1.x SGML (unclosed leaves, a CHARSET:1252 header) and 2.x XML,
// read into one model and checked before any matching. The samples in test/fixtures/statements/ofx are written by
// hand from the OFX 1.0.2 and 2.1.1 specifications (SOURCES.md); each gets the verdict its contents give, with where
// it breaks. What is no OFX is refused whole (OfxReadError), never half read.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOfxStatements, parseOfxDate, readOfxAmount, type OfxStatement } from '../../../../src/core/recon/ofx.js';
import { OfxReadError, readOfx, readOfxHeader } from '../../../../src/recon/ofx-reader.js';

const dir = join(import.meta.dirname, '../../../fixtures/statements/ofx');
/** The file decoded as its header says (the header itself is ASCII, so latin1 reads it). */
function text(name: string): string {
  const bytes = readFileSync(join(dir, name));
  const header = readOfxHeader(new TextDecoder('latin1').decode(bytes.subarray(0, 1024)));
  return new TextDecoder(header.encoding, { fatal: true }).decode(bytes);
}
const check = (name: string) => checkOfxStatements(readOfx(text(name)), name);

/** Per sample: the problem codes it is refused with (none: accepted), warnings, statements and transactions read. */
const verdicts: Record<string, { problems: string[]; warnings: number; statements: number; entries: number }> = {
  'bank-sgml-102.ofx': { problems: [], warnings: 0, statements: 1, entries: 5 },
  'bank-xml-211.ofx': { problems: [], warnings: 1, statements: 1, entries: 4 },
  'creditcard-sgml-102.qfx': { problems: [], warnings: 0, statements: 1, entries: 4 },
  'duplicate-fitid.ofx': { problems: ['format'], warnings: 0, statements: 1, entries: 3 },
  'usd-three-decimals.ofx': { problems: ['amount'], warnings: 1, statements: 1, entries: 2 },
};

/** The SGML form of an OFX 2.x file, line for line: a one-line 1.x header, leaves left unclosed. */
function asSgml(xml: string): string {
  const body = xml.split('\n').slice(2).map((line) => line.replace(/^(\s*<([A-Z0-9.]+)>[^<]+)<\/\2>$/, '$1'));
  return ['OFXHEADER:100 DATA:OFXSGML VERSION:102 SECURITY:NONE ENCODING:USASCII CHARSET:1252', '', ...body].join('\n');
}

describe('OFX samples', () => {
  it('covers every sample in the fixtures', () => {
    expect(readdirSync(dir).sort()).toEqual(Object.keys(verdicts).sort());
  });

  it.each(Object.entries(verdicts))('%s', (name, verdict) => {
    const report = check(name);
    expect(report.problems.map((p) => p.code)).toEqual(verdict.problems);
    expect({ warnings: report.warnings.length, statements: readOfx(text(name)).length, entries: report.entries }).toEqual({ warnings: verdict.warnings, statements: verdict.statements, entries: verdict.entries });
  });

  it('reads the headers: version, fields, and the encoding to decode with', () => {
    expect(readOfxHeader(text('bank-sgml-102.ofx'))).toMatchObject({ version: 102, encoding: 'windows-1252', fields: { CHARSET: '1252', DATA: 'OFXSGML' } });
    expect(readOfxHeader(text('bank-xml-211.ofx'))).toMatchObject({ version: 211, encoding: 'utf-8', fields: { OFXHEADER: '200' } });
    expect(readOfxHeader('OFXHEADER:100\nDATA:OFXSGML\nVERSION:160\nENCODING:UTF-8\nCHARSET:NONE\n\n<OFX></OFX>').encoding).toBe('utf-8');
  });

  it('SGML 1.0.2 (CRLF, windows-1252): unclosed leaves end at the next tag, closed ones at their end tag, entities decoded', () => {
    const [statement] = readOfx(text('bank-sgml-102.ofx'));
    expect(statement).toMatchObject({ line: 33, kind: 'bank', currency: 'USD', bankId: '021000021', accountId: '1234567890', accountType: 'CHECKING', start: '20251201', end: '20251204235959[-5:EST]' });
    expect(statement!.transactions.map((t) => [t.line, t.type, t.amount, t.amountLine, t.fitId])).toEqual([
      [43, 'CHECK', '-200.00', 46, '20251201-0001'],
      [51, 'DIRECTDEP', '1500.00', 55, '20251202-0002'],
      [60, 'POS', '-12.5', 64, '20251203-0003'],
      [69, 'XFER', '+250.75', 72, '20251204-0004'],
      [77, 'SRVCHG', '-3.00', 80, '20251204-0005'],
    ]);
    // 0xE9 and 0xE8 in the file are é and è in windows-1252; `&amp;` is decoded, a bare `&` (B&O) stays.
    expect(statement!.transactions[2]).toMatchObject({ name: 'Café Lumière', memo: 'Card 4417 & tip', user: '20251202184512.000[-5:EST]' });
    expect(statement!.transactions[3]).toMatchObject({ name: 'B&O Supplies refund', referenceNumber: 'ORD-2025-0042' });
    expect(statement!.transactions[0]).toMatchObject({ checkNumber: '1043' });
    expect(statement!.ledgerBalance).toEqual({ amount: '4321.85', line: 85, asOf: '20251204235959[-5:EST]' });
    expect(statement!.availableBalance).toEqual({ amount: '4071.10', line: 89, asOf: '20251204235959[-5:EST]' });
  });

  it('XML 2.1.1: PAYEE/NAME, ORIGCURRENCY, a decimal comma; the same file as SGML reads the same', () => {
    const xml = text('bank-xml-211.ofx');
    const [statement] = readOfx(xml);
    expect(statement).toMatchObject({ line: 21, currency: 'EUR', accountId: 'DE89370400440532013000', accountType: 'SAVINGS' });
    expect(statement!.transactions[0]).toMatchObject({ payeeName: 'Nordwind GmbH', name: '', memo: 'Invoice 88231 & 88232', referenceNumber: 'INV-88231' });
    expect(statement!.transactions[2]).toMatchObject({ amount: '-45,90', originalCurrency: 'GBP', currency: '' });
    expect(statement!.ledgerBalance).toEqual({ amount: '12034.87', line: 73, asOf: '20251205235959[+1:CET]' });
    expect(statement!.availableBalance).toBeNull();
    const sgml = asSgml(xml);
    expect(sgml).toContain('<TRNAMT>-45,90\n');
    expect(readOfx(sgml)).toEqual(readOfx(xml));
  });

  it('a credit-card statement (QFX, CCSTMTRS/CCACCTFROM, INTU.BID)', () => {
    const [statement] = readOfx(text('creditcard-sgml-102.qfx'));
    expect(statement).toMatchObject({ line: 34, kind: 'creditcard', currency: 'USD', bankId: '', accountId: '4111111111111111', accountType: '', start: '20251101', end: '20251130' });
    expect(statement!.transactions.map((t) => t.amount)).toEqual(['-64.99', '-8.25', '19.99', '500.00']);
    expect(statement!.ledgerBalance).toMatchObject({ amount: '-1203.41', line: 72 });
  });

  it('refuses a duplicate FITID at its second STMTTRN, naming the first', () => {
    expect(check('duplicate-fitid.ofx').problems).toEqual([{ code: 'format', locator: 'duplicate-fitid.ofx:53 STMTTRN', message: 'FITID "A101" again (first at line 46): it must be unique per account' }]);
  });

  it('refuses a USD amount with a third decimal at its TRNAMT; trailing zeros are exact; no LEDGERBAL is a warning', () => {
    const report = check('usd-three-decimals.ofx');
    expect(report.problems).toEqual([expect.objectContaining({ code: 'amount', locator: 'usd-three-decimals.ofx:28 TRNAMT' })]);
    expect(report.problems[0]!.message).toContain('"10.125"');
    expect(report.warnings).toEqual([expect.stringMatching(/^usd-three-decimals\.ofx:15 STMTRS: no LEDGERBAL/)]);
  });

  it('warns of a transaction posted outside DTSTART..DTEND (dates compared as written, both inclusive)', () => {
    expect(check('bank-xml-211.ofx').warnings).toEqual(["bank-xml-211.ofx:65 STMTTRN: DTPOSTED 20251206 is outside the statement's period 20251201..20251205"]);
  });
});

describe('OFX checks on edited statements', () => {
  const base = (): OfxStatement => structuredClone(readOfx(text('duplicate-fitid.ofx'))[0]!);
  /** One table row per rule: an edit of the clean first two transactions, the codes and locators it is refused with. */
  const cases: [string, (s: OfxStatement) => void, [string, string][]][] = [
    ['CURDEF unknown', (s) => (s.currency = 'XYZ'), [['currency', 'f:29 STMTRS']]],
    ['CURRENCY other than CURDEF', (s) => (s.transactions[0]!.currency = 'EUR'), [['currency', 'f:39 STMTTRN']]],
    ['ORIGCURRENCY is informative', (s) => (s.transactions[0]!.originalCurrency = 'EUR'), []],
    ['no FITID', (s) => (s.transactions[0]!.fitId = ''), [['format', 'f:39 STMTTRN']]],
    ['no TRNTYPE', (s) => (s.transactions[1]!.type = ''), [['format', 'f:46 STMTTRN']]],
    ['no TRNAMT', (s) => (s.transactions[1]!.amount = ''), [['format', 'f:46 STMTTRN']]],
    ['TRNAMT no number', (s) => (s.transactions[1]!.amount = '12.5O'), [['amount', 'f:49 TRNAMT']]],
    ['DTPOSTED no date', (s) => (s.transactions[0]!.posted = '2025-12-01'), [['format', 'f:39 STMTTRN']]],
    ['DTUSER no date', (s) => (s.transactions[0]!.user = '20251301'), [['format', 'f:39 STMTTRN']]],
    ['DTSTART after DTEND', (s) => (s.start = '20251205'), [['format', 'f:29 STMTRS']]],
    ['DTEND missing', (s) => (s.end = ''), [['format', 'f:29 STMTRS']]],
    ['no ACCTID', (s) => (s.accountId = ''), [['format', 'f:29 STMTRS']]],
    ['BALAMT inexact', (s) => (s.ledgerBalance!.amount = '995.001'), [['amount', 'f:61 LEDGERBAL']]],
    ['DTASOF no date', (s) => (s.ledgerBalance!.asOf = 'today'), [['format', 'f:61 LEDGERBAL']]],
  ];

  it.each(cases)('%s', (_, edit, expected) => {
    const statement = base();
    statement.transactions.pop(); // the duplicate
    edit(statement);
    expect(checkOfxStatements([statement], 'f').problems.map((p) => [p.code, p.locator])).toEqual(expected);
  });

  it('FITID is unique per account across the statements of a file, not across accounts', () => {
    const first = base();
    first.transactions.pop();
    const sameAccount = structuredClone(first);
    sameAccount.line = 100;
    expect(checkOfxStatements([first, sameAccount], 'f').problems.map((p) => p.code)).toEqual(['format', 'format']);
    const otherAccount = { ...structuredClone(first), accountId: '555000222' };
    expect(checkOfxStatements([first, otherAccount], 'f').problems).toEqual([]);
  });

  it('a file without statements is refused; a correction (CORRECTFITID) is a warning', () => {
    expect(checkOfxStatements([], 'f').problems.map((p) => p.code)).toEqual(['format']);
    const statement = base();
    statement.transactions.pop();
    statement.transactions[1]!.correctFitId = 'A100';
    statement.transactions[1]!.correctAction = 'REPLACE';
    expect(checkOfxStatements([statement], 'f').warnings).toEqual(['f:46 STMTTRN: corrects FITID "A100" (REPLACE): read as a transaction of its own']);
  });
});

describe('OFX dates and amounts', () => {
  const dates: [string, { ms: number; date: number; hasTime: boolean } | null][] = [
    ['20251204', { ms: Date.UTC(2025, 11, 4), date: 20251204, hasTime: false }],
    ['20251204120000', { ms: Date.UTC(2025, 11, 4, 12), date: 20251204, hasTime: true }],
    ['202512041205', { ms: Date.UTC(2025, 11, 4, 12, 5), date: 20251204, hasTime: true }],
    ['20251204120000.000[-5:EST]', { ms: Date.UTC(2025, 11, 4, 17), date: 20251204, hasTime: true }],
    ['20251204233000.5[-5:EST]', { ms: Date.UTC(2025, 11, 5, 4, 30, 0, 500), date: 20251204, hasTime: true }],
    ['20251204120000[+1:CET]', { ms: Date.UTC(2025, 11, 4, 11), date: 20251204, hasTime: true }],
    ['20251204120000[0:GMT]', { ms: Date.UTC(2025, 11, 4, 12), date: 20251204, hasTime: true }],
    ['20251204120000[-3]', { ms: Date.UTC(2025, 11, 4, 15), date: 20251204, hasTime: true }],
    ['20251204120000[5.30:IST]', { ms: Date.UTC(2025, 11, 4, 6, 30), date: 20251204, hasTime: true }],
    ['20251204[-5:EST]', { ms: Date.UTC(2025, 11, 4, 5), date: 20251204, hasTime: false }],
    ['20240229', { ms: Date.UTC(2024, 1, 29), date: 20240229, hasTime: false }],
    ['20250229', null],
    ['20251204250000', null],
    ['2025120412', null],
    ['20251204120000[+15:X]', null],
    ['20251204120000[5.75:X]', null],
    ['2025-12-04', null],
    ['', null],
  ];
  it.each(dates)('%j', (input, expected) => {
    expect(parseOfxDate(input)).toEqual(expected);
  });

  it.each([
    ['-12.50', 2, -1250n], ['+250.75', 2, 25075n], ['1500', 2, 150000n], ['-12.5', 2, -1250n], ['20.500', 2, 2050n],
    ['-45,90', 2, -4590n], ['7', 0, 7n], ['1.234', 3, 1234n],
  ] as const)('amount %s at scale %i', (input, scale, minor) => {
    expect(readOfxAmount(input, scale)).toEqual({ minor });
  });

  it.each(['-10.125', '1,234.50', '12.5O', '--1', '', '1 000.00'])('refuses amount %j', (input) => {
    expect(readOfxAmount(input, 2)).toHaveProperty('refused');
  });
});

describe('what is no OFX is refused', () => {
  const sgml = text('duplicate-fitid.ofx');
  const xml = text('usd-three-decimals.ofx');
  const refusals: [string, string, RegExp][] = [
    ['no header', '<OFX><BANKMSGSRSV1></BANKMSGSRSV1></OFX>', /no OFX header/],
    ['not OFX at all', 'Date,Amount\n2025-12-01,1.00\n', /no OFX header/],
    ['a header of another kind', sgml.replace('DATA:OFXSGML', 'DATA:OFXXML'), /DATA:OFXXML/],
    ['a 2.x version in an SGML header', sgml.replace('VERSION:102', 'VERSION:211'), /VERSION:211/],
    ['XML without the OFX instruction', xml.replace(/<\?OFX[^?]*\?>/, ''), /<\?OFX/],
    ['an XML DOCTYPE', xml.replace('<OFX>', '<!DOCTYPE OFX [<!ENTITY a "aaaa">]>\n<OFX>'), /DOCTYPE/],
    ['SGML declarations', sgml.replace('<OFX>', '<!ENTITY a "aaaa">\n<OFX>'), /line 11: .*not allowed/],
    ['XML not well-formed', xml.replace('</STMTRS>', ''), /./],
    ['SGML cut short', sgml.slice(0, sgml.indexOf('</BANKTRANLIST>')), /<BANKTRANLIST> \(line 36\) is never closed/],
    ['SGML end tag of another aggregate', sgml.replace('</BANKTRANLIST>', '</STMTRS>'), /line 60: <\/STMTRS> where <BANKTRANLIST> \(line 36\) is open/],
    ['SGML empty leaf left open (taken as an aggregate)', sgml.replace('<NAME>Counter deposit', '<NAME>'), /<\/STMTTRN> where <NAME> \(line 44\) is open/],
    ['SGML text after an end tag', sgml.replace('</STMTTRN>', '</STMTTRN>junk'), /line 45: text after <\/STMTTRN>/],
    ['a statement inside a statement', sgml.replace('<CURDEF>USD', '<CURDEF>USD\n<STMTRS>\n</STMTRS>'), /line 31: <STMTRS> inside another statement/],
    ['SGML header alone', sgml.slice(0, sgml.indexOf('<OFX>')), /without a body/],
    ['SGML tag outside OFX', `${sgml}<OFX2>\n`, /outside <OFX>/],
    ['SGML a tag without its >', sgml.replace('<STMTRS>', '<STMTRS'), /without its ">"/],
    ['nesting past the bound', sgml.replace('<BANKMSGSRSV1>', `<BANKMSGSRSV1>${'<A>'.repeat(70)}${'</A>'.repeat(70)}`), /deeper than 64/],
    ['a text past the bound', sgml.replace('<NAME>Counter deposit', `<NAME>${'x'.repeat(70_000)}`), /more than 65536 characters/],
    ['XML nesting past the bound', xml.replace('<BANKMSGSRSV1>', `<BANKMSGSRSV1>${'<A>'.repeat(70)}${'</A>'.repeat(70)}`), /deeper than 64/],
  ];
  it.each(refusals)('%s', (_, input, message) => {
    expect(() => readOfx(input)).toThrow(OfxReadError);
    expect(() => readOfx(input)).toThrow(message);
  });

  it('truncated anywhere: refused, never half read', () => {
    for (const whole of [sgml, xml, text('bank-sgml-102.ofx'), text('creditcard-sgml-102.qfx')]) {
      for (let tenth = 1; tenth < 10; tenth++) expect(() => readOfx(whole.slice(0, Math.floor((whole.length * tenth) / 10)))).toThrow(OfxReadError);
    }
  });

  it('a status-only response (no STMTRS) reads as no statement, which the checks refuse', () => {
    const noStatement = sgml.slice(0, sgml.indexOf('<STMTRS>')) + '</STMTTRNRS>\n</BANKMSGSRSV1>\n</OFX>\n';
    expect(readOfx(noStatement)).toEqual([]);
    expect(checkOfxStatements(readOfx(noStatement), 'f').problems.map((p) => p.code)).toEqual(['format']);
  });
});
