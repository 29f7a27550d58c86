// Issue #17: a channel's CSV export read by its template — lines before the header skipped unparsed, quoted cells
// with separators and doubled quotes, a footer ending the details, the value prefix taken off once, line numbers of
// the file; a formula-like cell, a ragged row or a file shorter than its header row refuse the file.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CsvTemplate } from '../../../src/core/recon/channel-config.js';
import { CsvTemplateReadError, isFormulaLike, readCsvTemplate } from '../../../src/recon/csv-template-reader.js';
import { giro, giroTemplate } from '../../support/statement-samples.js';

describe('readCsvTemplate', () => {
  it('reads header, details and footer by the template, with the file\'s line numbers', () => {
    expect(readCsvTemplate(`\uFEFF${giro}`, giroTemplate)).toEqual({
      header: ['Buchungstag', 'Valuta', 'Verwendungszweck', 'Empfänger/Zahlungspflichtiger', 'Soll', 'Haben', 'Währung'],
      headerLine: 3,
      rows: [
        { line: 4, cells: ['01.02.2024', '02.02.2024', 'ORDER-1001', 'Müller; Hans', '', '1.234,56', 'EUR'] },
        { line: 5, cells: ['05.02.2024', '05.02.2024', 'Miete Februar', 'Hausverwaltung GmbH', '-12.000,00', '', 'EUR'] },
        { line: 6, cells: ['29.02.2024', '01.03.2024', 'ORDER-1002', 'ACME "Shop"', '', '0,50', 'EUR'] },
      ],
      footer: [{ line: 8, cells: ['Kontostand', '29.02.2024', '', '', '', '-10.764,94', 'EUR'] }],
    });
  });

  it('takes the value prefix off once per cell', () => {
    const template: CsvTemplate = { ...giroTemplate, separator: ',', headerRow: 1, footerStartsWith: [], valuePrefix: '`' };
    expect(readCsvTemplate('a,b\n`x,``y\n', template).rows).toEqual([{ line: 2, cells: ['x', '`y'] }]);
  });

  it('refuses a formula-like cell, naming its line', () => {
    const formula = giro.replace('ORDER-1001', '"=HYPERLINK(""http://x"")"');
    expect(() => readCsvTemplate(formula, giroTemplate)).toThrow(CsvTemplateReadError);
    expect(() => readCsvTemplate(formula, giroTemplate)).toThrow(/line 4, cell 3: a cell a spreadsheet would run as a formula: "=HYPERLINK/);
    const refusal = (() => {
      try {
        readCsvTemplate(giro.replace('Miete Februar', '@SUM(A1)'), giroTemplate);
      } catch (error) {
        return error as CsvTemplateReadError;
      }
      return null;
    })();
    expect(refusal).toMatchObject({ line: 5 });
    // A stray quote is no CSV: refused with the file's line, not the parser's.
    expect(() => readCsvTemplate(giro.replace('ORDER-1001', '=HYPERLINK("x")'), giroTemplate)).toThrow(/at line 4/);
  });

  it.each([
    ['=1+1', true], ['  =A1', true], ['@SUM(A1)', true], ['+cmd|x', true], ['-2+3', true], ['-cmd', true],
    ['-12.000,00', false], ['+0,5', false], ['+49 30 1234567', false], ['-', false], ['ORDER-1', false], ['a=b', false],
  ])('%s is formula-like: %s', (cell, formula) => {
    expect(isFormulaLike(cell)).toBe(formula);
  });

  it('isFormulaLike answers as its regular expressions alone would (the first-character shortcut changes nothing)', () => {
    const byExpressions = (cell: string): boolean => /^\s*=/.test(cell) || (/^[+\-@]/.test(cell) && cell !== '-' && !/^[+-]?[0-9][0-9.,' \u00a0]*$/.test(cell));
    const blanks = [' ', '\t', '\u00a0', '\u1680', '\u2003', '\u3000', '\ufeff', '\u2028'];
    const cell = fc.array(fc.constantFrom(...blanks, '=', '+', '-', '@', '1', '.', ',', 'a', '支'), { maxLength: 6 }).map((chars) => chars.join(''));
    fc.assert(fc.property(cell, (text) => {
      expect(isFormulaLike(text)).toBe(byExpressions(text));
    }), { numRuns: 2000 });
  });

  it('refuses a ragged row, a file shorter than its header row, and what is no CSV', () => {
    expect(() => readCsvTemplate(giro.replace(';;0,50;EUR', ';0,50;EUR'), giroTemplate)).toThrow(/line 6: 6 cells under a header of 7 columns/);
    expect(() => readCsvTemplate('one line\n', giroTemplate)).toThrow(/fewer than 3 lines/);
    expect(() => readCsvTemplate(giro.replace('"Müller; Hans"', '"Müller; Hans'), giroTemplate)).toThrow(CsvTemplateReadError);
  });
});
