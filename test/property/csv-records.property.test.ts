// Issue #17: reconciliation reads quote-free CSV (every WeChat Pay and Alipay bill) with papaparse's fast mode and
// anything holding a quote with csv-parse (src/recon/csv-records.ts). On quote-free text both must give the same
// records on the same lines: random cells, delimiters, line breaks of each kind, empty lines and ragged rows, read by
// csvRecords and by csv-parse itself.

import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvRecords, forEachCsvRecord } from '../../src/recon/csv-records.js';
import { statementRecordBytesMax } from '../../src/core/limits.js';

/** Characters a quote-free cell may hold for `delimiter`: no quote, no delimiter, no line break. */
const cellOf = (delimiter: string) => fc.array(fc.constantFrom('a', 'Z', '0', '9', ' ', '.', '-', '`', '支', '付', '=', '\t', ';', ',').filter((c) => c !== delimiter), { maxLength: 8 }).map((chars) => chars.join(''));

const fileOf = (delimiter: string) =>
  fc.record({
    lines: fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant<string[]>([]) }, { weight: 6, arbitrary: fc.array(cellOf(delimiter), { minLength: 1, maxLength: 6 }) }), { maxLength: 30 }),
    lineBreak: fc.constantFrom('\n', '\r\n', '\r'),
    finalBreak: fc.boolean(),
  });

describe('csvRecords on quote-free text', () => {
  for (const delimiter of [',', ';', '\t']) {
    it(`reads what csv-parse reads, on the same lines (delimiter ${JSON.stringify(delimiter)})`, () => {
      fc.assert(
        fc.property(fileOf(delimiter), fc.nat(5), ({ lines, lineBreak, finalBreak }, linesBefore) => {
          const text = lines.map((cells) => cells.join(delimiter)).join(lineBreak) + (finalBreak && lines.length > 0 ? lineBreak : '');
          const expected = (parse(text, { delimiter, quote: '"', cast: false, info: true, relax_column_count: true, skip_empty_lines: true }) as unknown as { record: string[]; info: { lines: number } }[])
            .map(({ record, info }) => ({ line: info.lines + linesBefore, cells: record }));
          expect(csvRecords(text, { delimiter, quote: '"', linesBefore })).toEqual(expected);
        }),
        { numRuns: 400 },
      );
    });
  }

  it('stops where the visitor says, and refuses a record past the bound with its line', () => {
    const seen: number[] = [];
    forEachCsvRecord('a,b\nc,d\nFOOTER\ne,f\n', { delimiter: ',', quote: '"', linesBefore: 2 }, (line, cells) => {
      seen.push(line);
      return cells[0] !== 'FOOTER';
    });
    expect(seen).toEqual([3, 4, 5]);
    const long = `a,b\n${'x'.repeat(statementRecordBytesMax + 1)}\n`;
    expect(() => csvRecords(long, { delimiter: ',', quote: '"', linesBefore: 0 })).toThrow(/line 2 holds/);
  });

  it('text with a quote goes to the strict parser: a quote inside an unquoted cell is refused with its line', () => {
    expect(csvRecords('a,"b,c"\n"d""e",f\n', { delimiter: ',', quote: '"', linesBefore: 0 })).toEqual([
      { line: 1, cells: ['a', 'b,c'] },
      { line: 2, cells: ['d"e', 'f'] },
    ]);
    expect(() => csvRecords('a,b\nc,d"e\n', { delimiter: ',', quote: '"', linesBefore: 10 })).toThrow(/line 12/);
  });
});
