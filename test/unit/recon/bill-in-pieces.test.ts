// Issue #17: a big WeChat Pay bill read as pieces of text and held as a table. Pieces (csv-records.ts textPieces)
// give exactly the records, line numbers and rows the whole text gives, whatever the line breaks and wherever a
// piece ends; the table (core/recon/statement-row-table.ts) answers every compared field as the row had it and makes
// each row whole again from the file's bytes as it was first read; a row the packing cannot hold is kept whole.

import { describe, expect, it } from 'vitest';
import { wechatTradeBillMapping } from '../../../src/core/recon/channel-config-parse.js';
import type { ChannelConfig } from '../../../src/core/recon/channel-config.js';
import { StatementRowTable } from '../../../src/core/recon/statement-row-table.js';
import { statementRecordBytesMax } from '../../../src/core/limits.js';
import type { StatementRow } from '../../../src/core/recon/statement-row.js';
import { csvRecords, forEachCsvRecordOfPieces, lineStarts, textPieces } from '../../../src/recon/csv-records.js';
import { readStatementFiles } from '../../../src/recon/statement-files.js';
import { readBillHalf, splitBillRows, statementRows, type BillSplit } from '../../../src/recon/statement-rows.js';
import { startBillHalf } from '../../../src/recon/bill-half-host.js';
import { tradeBill, type BillRow } from '../../support/wechat-bill.js';

const options = { delimiter: ',', quote: '"', linesBefore: 0 };
const encoder = new TextEncoder();

function recordsOfPieces(text: string, size: number): { line: number; cells: string[] }[] {
  const records: { line: number; cells: string[] }[] = [];
  forEachCsvRecordOfPieces(textPieces(encoder.encode(text), 'utf-8', size), options, (line, cells) => {
    records.push({ line, cells });
  });
  return records;
}

describe('textPieces and forEachCsvRecordOfPieces', () => {
  const lines = ['a,b,c', '', '甲,乙,丙', 'x,y,z', '1,2,3', '', ''];
  for (const [name, lineBreak] of [['LF', '\n'], ['CRLF', '\r\n'], ['CR', '\r']] as const) {
    it(`${name}: the records and lines of the whole text, at every piece size, ending with a break or not`, () => {
      for (const text of [lines.join(lineBreak), lines.slice(0, 5).join(lineBreak)]) {
        const whole = csvRecords(text, options);
        for (let size = 1; size <= text.length + 2; size++) expect(recordsOfPieces(text, size)).toEqual(whole);
      }
    });
  }

  it('pieces end where lines end: no piece holds the break between it and the next', () => {
    const pieces = [...textPieces(encoder.encode('ab\r\ncd\r\nef'), 'utf-8', 1)];
    expect(pieces).toEqual(['ab', 'cd', 'ef']);
    expect([...textPieces(encoder.encode('ab\ncd\n'), 'utf-8', 2)]).toEqual(['ab', 'cd', '']);
    expect([...textPieces(encoder.encode('ab\ncd\n'), 'utf-8', 3)]).toEqual(['ab\ncd', '']);
  });
});

const channel = (): ChannelConfig => ({
  name: 'wx', format: 'wechatpay-tradebill', currency: 'CNY', encoding: 'utf-8', statementAccount: '1601959334', ledger: 1, timeZone: 'Asia/Shanghai',
  accounts: { clearing: 1n, unidentified: null, fees: null }, direction: 'asset', businessDay: 'transactionTime', granularity: 'entry', mapping: wechatTradeBillMapping, csv: null,
  keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }], fallback: null, ledgerCodes: { payment: [1], refund: [2], fee: [] },
  tolerance: { amountMinor: 0n, feeMinor: 0n, dateWindowSeconds: 86_400 }, pendingDaysMax: 3,
  strategies: [{ type: '*', ours: '*', theirs: '*', action: 'hold', amountMaxMinor: null }], checks: { balanceBasis: 'booking' },
});

const billRows: BillRow[] = Array.from({ length: 40 }, (_, i) => ({
  serial: `42000012345678901234567${String(i).padStart(5, '0')}`, order: `ORDER-${i}`, status: i % 7 === 3 ? 'REFUND' : 'SUCCESS', settled: 100 + i, ...(i % 7 === 3 ? { refund: 50 } : {}), time: `12:00:${String(i % 60).padStart(2, '0')}`,
}));

describe('a bill held as a table', () => {
  for (const lineBreak of ['\n', '\r\n']) it(`from bytes in pieces (${JSON.stringify(lineBreak)}): the same rows, reports and fields as from the whole text, each row made again whole`, async () => {
    const text = tradeBill('2026-12-01', billRows).replace(/\n/g, lineBreak);
    const fromText = statementRows([{ name: 'bill.csv', text }], channel());
    const fromBytes = await readStatementFiles([{ name: 'bill.csv', bytes: encoder.encode(`\uFEFF${text}`) }], channel());
    expect(fromBytes.reports).toEqual(fromText.reports);
    expect(fromText.reports.flatMap((report) => report.problems)).toEqual([]);
    expect(fromBytes.rows).toEqual(fromText.rows);
    expect(fromBytes.rows).toHaveLength(billRows.length);
    const source = fromBytes.source;
    for (let i = 0; i < source.length; i++) {
      const row = fromText.rows[i]!;
      expect([source.key128(i), source.direction(i), source.amountMinor(i), source.feeMinor(i), source.status(i), source.currency(i)]).toEqual([row.key128, row.direction, row.amountMinor, row.feeMinor, row.status, row.currency]);
      expect([source.channelSerialNo(i), source.refundNo(i), source.transactionTimeMs(i), source.bookingDate(i), source.valueDate(i), source.statementKey(i)]).toEqual([row.channelSerialNo, row.refundNo, row.transactionTimeMs, row.bookingDate, row.valueDate, row.statementKey]);
      expect(row.rowNo).toBe(i + 1);
      expect(row.statementKey).toBe('1601959334/20261201');
    }
  });
});

describe('StatementRowTable', () => {
  const row = (overrides: Partial<StatementRow> = {}): StatementRow => ({
    rowNo: 0, locator: 'f:1', statementKey: '', channelSerialNo: 'S1', merchantOrderNo: 'O1', refundNo: '', transactionTimeMs: null, bookingDate: 20261201, valueDate: 20261202,
    payer: '', amountMinor: 100n, direction: 'credit', feeMinor: 1n, currency: 'CNY', type: 'payment', typeRaw: '', status: 'success', statusRaw: '', reversal: false, groupKey: '', key128: 7n, ...overrides,
  });

  it('keeps whole a row the packing cannot hold (an amount of 2^63 or more), its statement key following its file', () => {
    const huge = row({ amountMinor: 2n ** 63n, channelSerialNo: 'S2' });
    const lines = new Map([[1, row()], [2, huge]]);
    const table = new StatementRowTable();
    const file = table.addFile((line) => ({ ...lines.get(line)! }));
    table.addPacked(file, 1, row(), 'S1', '');
    table.addPacked(file, 2, huge, 'S2', '');
    table.addKept(row({ channelSerialNo: 'S3', statementKey: 'other' }));
    table.setStatementKey(file, 'bill');
    expect([0, 1, 2].map((i) => [table.amountMinor(i), table.channelSerialNo(i), table.statementKey(i), table.row(i).rowNo])).toEqual([
      [100n, 'S1', 'bill', 1],
      [2n ** 63n, 'S2', 'bill', 2],
      [100n, 'S3', 'other', 3],
    ]);
    expect(table.row(1)).toBe(huge);
    expect(table.transactionTimeMs(0)).toBeNull();
    expect(table.length).toBe(3);
    expect(() => table.row(3)).toThrow();
  });

  it('refuses a row made again that does not read as it did the first time', () => {
    const table = new StatementRowTable();
    const file = table.addFile(() => row({ amountMinor: 101n }));
    table.addPacked(file, 1, row(), 'S1', '');
    expect(() => table.row(0)).toThrow(/reads as it did/);
  });
});

describe('a bill with quoted cells', () => {
  it('keeps its rows whole: they read through csv-parse, and a line split at its commas is not that record', async () => {
    const text = tradeBill('2026-12-01', billRows.slice(0, 3)).replace(/`ofyak5qR_user/g, '"`ofyak,5qR_user"');
    expect(text).toContain('"`ofyak,5qR_user"');
    const read = statementRows([{ name: 'bill.csv', text }], channel());
    expect(read.reports.flatMap((report) => report.problems)).toEqual([]);
    expect(read.rows.map((row) => [row.rowNo, row.merchantOrderNo, row.amountMinor, row.payer])).toEqual([[1, 'ORDER-0', 100n, 'ofyak,5qR_user'], [2, 'ORDER-1', 101n, 'ofyak,5qR_user'], [3, 'ORDER-2', 102n, 'ofyak,5qR_user']]);
    const fromBytes = await readStatementFiles([{ name: 'bill.csv', bytes: encoder.encode(text) }], channel());
    expect(fromBytes.rows).toEqual(read.rows);
    expect(read.rows.every((row) => row.statementKey === '1601959334/20261201')).toBe(true);
  });
});

/** `text` with its lines edited in place (line n of the file is lines[n - 1]). */
function withLines(text: string, edit: (lines: string[]) => void): string {
  const lines = text.split('\n');
  edit(lines);
  return lines.join('\n');
}

describe('a big bill read in two parts (splitBillRows)', () => {
  // The later part read in this thread, through a structured clone both ways as between threads.
  const inProcess: BillSplit['start'] = (input) => ({ result: Promise.resolve(structuredClone(readBillHalf(structuredClone(input)))), stop: () => {} });
  const whole = async (bytes: Uint8Array, config: ChannelConfig) => readStatementFiles([{ name: 'bill.csv', bytes }], config);
  const fields = (read: Awaited<ReturnType<typeof whole>>) => {
    const source = read.source;
    return Array.from({ length: source.length }, (_, i) => [source.key128(i), source.direction(i), source.amountMinor(i), source.feeMinor(i), source.status(i), source.currency(i), source.channelSerialNo(i), source.refundNo(i), source.transactionTimeMs(i), source.statementKey(i)]);
  };

  const bills: [string, string][] = [
    ['a clean bill', tradeBill('2026-12-01', billRows)],
    ['a clean bill, CRLF', tradeBill('2026-12-01', billRows).replace(/\n/g, '\r\n')],
    // Problems in both halves: a bad amount, a row of another merchant, a row in another currency, sums that differ.
    ['a bill with problems', withLines(tradeBill('2026-12-01', billRows), (lines) => {
      lines[5 + 1] = lines[5 + 1]!.replace('`1601959334', '`1601959335'); // ORDER-5 and 35: another merchant
      lines[35 + 1] = lines[35 + 1]!.replace('`1601959334', '`1601959336');
      lines[31 + 1] = lines[31 + 1]!.replace('`CNY', '`USD'); // ORDER-31: another currency
      lines[20 + 1] = lines[20 + 1]!.replace('`1.20', '`1.2x'); // ORDER-20: an amount that is no amount
    })],
    ['a bill without its summary', tradeBill('2026-12-01', billRows).split('\n').slice(0, billRows.length + 1).join('\n')],
  ];
  for (const [name, text] of bills) it(`${name}: the rows, reports and fields the whole bill gives, wherever it splits`, async () => {
    const bytes = encoder.encode(`\uFEFF${text}`);
    const expected = await whole(bytes, channel());
    const lineBreak = text.includes('\r\n') ? '\r\n' : '\n';
    const starts = lineStarts(bytes, lineBreak);
    // Every detail row but the first as the later part's first line (lines 3 .. rows + 1).
    for (let line = 3; line <= billRows.length + 1; line++) {
      const at = starts[line - 1]!;
      const read = await splitBillRows({ name: 'bill.csv', text: '', bytes: { data: bytes, encoding: 'utf-8' } }, { at, start: inProcess }, channel());
      expect(read.reports).toEqual(expected.reports);
      expect(read.rows).toEqual(expected.rows);
      expect(fields(read)).toEqual(fields(expected));
    }
    // The fixture's problems lie on both sides of most splits: other merchants on lines 7 and 37, the amount's 22, the currency's 33.
    if (name === 'a bill with problems') expect(new Set(expected.reports[0]!.problems.map((problem) => problem.code))).toEqual(new Set(['amount', 'currency', 'format', 'summary']));
  });

  // Layouts a hostile or broken bill may have, where two halves read naively would say otherwise than one read:
  // every split point, every line.
  const odd: [string, string][] = [
    // A whole read stops at the summary: rows after it are not the bill's.
    ['a summary before the middle, rows after it', `${tradeBill('2026-12-01', billRows.slice(0, 10))}${tradeBill('2026-12-01', billRows.slice(10, 30)).split('\n').slice(1).join('\n')}`],
    // The header is the first line that is not empty: it may lie past the middle.
    ['empty lines before the header', `${'\n'.repeat(25)}${tradeBill('2026-12-01', billRows.slice(0, 10))}`],
    ['a header without the columns the match needs', tradeBill('2026-12-01', billRows.slice(0, 12)).replace('商户订单号', '订单')],
    ['rows without a currency first', withLines(tradeBill('2026-12-01', billRows.slice(0, 12)), (lines) => {
      for (let n = 1; n <= 6; n++) lines[n] = lines[n]!.replace('`CNY', '`');
    })],
  ];
  for (const [name, text] of odd) it(`${name}: what one read of the whole says, wherever it splits`, async () => {
    const bytes = encoder.encode(text);
    const expected = await whole(bytes, channel());
    const starts = lineStarts(bytes, '\n');
    for (let line = 2; line < starts.length; line++) {
      const read = await splitBillRows({ name: 'bill.csv', text: '', bytes: { data: bytes, encoding: 'utf-8' } }, { at: starts[line - 1]!, start: inProcess }, channel());
      expect(read.reports).toEqual(expected.reports);
      expect(read.rows).toEqual(expected.rows);
      expect(fields(read)).toEqual(fields(expected));
    }
    expect(expected.reports[0]!.problems.length + expected.rows.length).toBeGreaterThan(0);
  });

  it('a later part the reader refuses (a record past the bound) refuses the bill as a whole read would', async () => {
    const text = withLines(tradeBill('2026-12-01', billRows), (lines) => {
      lines[30 + 1] = lines[30 + 1]!.replace('`goods', `\`${'x'.repeat(statementRecordBytesMax)}`);
    });
    const bytes = encoder.encode(text);
    const expected = await whole(bytes, channel());
    expect(expected.reports[0]!.problems).toEqual([expect.objectContaining({ code: 'format', message: expect.stringMatching(/^line 32 holds/) })]);
    for (const line of [3, 20, 32]) {
      const at = lineStarts(bytes, '\n')[line - 1]!;
      const read = await splitBillRows({ name: 'bill.csv', text: '', bytes: { data: bytes, encoding: 'utf-8' } }, { at, start: inProcess }, channel());
      expect(read.reports).toEqual(expected.reports);
    }
  });

  it('through a real worker: a bill in shared memory splits at its middle and reads as the whole', async () => {
    const text = withLines(tradeBill('2026-12-01', billRows), (lines) => {
      lines[35 + 1] = lines[35 + 1]!.replace('`1601959334', '`1601959336'); // a problem in the later half
    });
    const bytes = encoder.encode(`\uFEFF${text}`);
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
    shared.set(bytes);
    const expected = await whole(bytes, channel());
    let started = 0;
    const counted: BillSplit['start'] = (input) => {
      started++;
      expect(input.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
      return startBillHalf(input);
    };
    const read = await readStatementFiles([{ name: 'bill.csv', bytes: shared }], channel(), undefined, counted, 0);
    expect(started).toBe(1);
    expect(read.reports).toEqual(expected.reports);
    expect(read.rows).toEqual(expected.rows);
    expect(fields(read)).toEqual(fields(expected));
    // Not shared, or below the bound: read on this thread.
    await readStatementFiles([{ name: 'bill.csv', bytes }], channel(), undefined, counted, 0);
    await readStatementFiles([{ name: 'bill.csv', bytes: shared }], channel(), undefined, counted);
    expect(started).toBe(1);
  });
});
