// A merchant's settlement statement as CSV (issue #18): a header row, one row per statement line with amounts in
// minor units exactly as the server sent them, a blank line, a summary block of one row per run. RFC 4180 quoting
// with LF line ends, read back here by csv-parse; every cell a spreadsheet would run as a formula (= + - @, a tab or
// a carriage return first) opens with a single quote, except plain numbers such as -100, which stay numbers.

import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  formulaSafeCell,
  settlementStatementCsv,
  settlementStatementCsvChunks,
  statementLineColumns,
  statementSummaryColumns,
} from '../../../src/client/settle.js';
import type { SettleStatement, SettleStatementLine, SettleStatementRun } from '../../../src/core/wire/settle-bodies.js';

const line = (orderId: string, changes: Partial<SettleStatementLine> = {}): SettleStatementLine => ({
  orderId, kind: 'payment', product: 'card', tradeDay: '2026-03-01', amountMinor: '10000', feeMinor: '60', strategy: 'fee/card v3', reconciliation: 'matched', state: 'paid', ...changes,
});

const run = (runId: string, channel: string, lines: SettleStatementLine[], changes: Partial<SettleStatementRun> = {}): SettleStatementRun => ({
  runId, merchant: 'm-001', channel, cycle: 'T+1', batch: 1, daysDue: ['2026-03-01'], paidItems: lines.length, heldBackItems: 0, releasedItems: 0,
  clearedMinor: '20000', heldBackMinor: '0', releasedFromHoldMinor: '0', grossMinor: '20000', feesMinor: '120', netMinor: '19880', shares: [], sharesMinor: '0',
  reserveHeldMinor: '1988', reserveReleaseOn: '2026-06-01', reserveReleasedMinor: '0', carriedInMinor: '0', carriedOutMinor: '0',
  payableMinor: '17892', settledMinor: '17892', explanation: [], lines, postings: [], ...changes,
});

const statement: SettleStatement = {
  merchant: 'm-001',
  date: '2026-03-02',
  runs: [
    run('srn_00000000000000000001', 'bank', [
      line('0123456789abcdef0123456789abcdef'),
      line('fedcba9876543210fedcba9876543210', { kind: 'refund', amountMinor: '-100', feeMinor: '-1', reconciliation: 'resolved', state: 'released' }),
    ]),
    run('srn_00000000000000000002', 'alipay', [line('00000000000000000000000000000001', { amountMinor: '123456789012345678901234567890', state: 'held_back', reconciliation: 'unresolved' })], {
      cycle: 'D+0', batch: 2, reserveReleaseOn: null, grossMinor: '123456789012345678901234567890', carriedInMinor: '-5', carriedOutMinor: '7',
    }),
  ],
};

const rowsOf = (text: string): string[][] => parse(text, { relax_column_count: true, skip_empty_lines: false }) as string[][];

describe('settlementStatementCsv', () => {
  const text = settlementStatementCsv(statement);
  const rows = rowsOf(text);

  it('opens with the header row and has one row per statement line, in order, amounts exactly as sent', () => {
    expect(rows[0]).toEqual([...statementLineColumns]);
    expect(rows[0]).toEqual(['run_id', 'channel', 'cycle', 'batch', 'trade_day', 'order_id', 'kind', 'product', 'amount', 'fee', 'strategy', 'reconciliation', 'state']);
    expect(rows.slice(1, 4)).toEqual([
      ['srn_00000000000000000001', 'bank', 'T+1', '1', '2026-03-01', '0123456789abcdef0123456789abcdef', 'payment', 'card', '10000', '60', 'fee/card v3', 'matched', 'paid'],
      ['srn_00000000000000000001', 'bank', 'T+1', '1', '2026-03-01', 'fedcba9876543210fedcba9876543210', 'refund', 'card', '-100', '-1', 'fee/card v3', 'resolved', 'released'],
      ['srn_00000000000000000002', 'alipay', 'D+0', '2', '2026-03-01', '00000000000000000000000000000001', 'payment', 'card', '123456789012345678901234567890', '60', 'fee/card v3', 'unresolved', 'held_back'],
    ]);
  });

  it('writes negative amounts as plain numbers, never quoted as text', () => {
    expect(text).toContain(',-100,-1,');
    expect(text).not.toContain("'-100");
  });

  it('follows the lines with a blank line and a summary block: its header, then one row per run', () => {
    const lines = text.split('\n');
    expect(lines[4]).toBe('');
    expect(rows[5]).toEqual([...statementSummaryColumns]);
    expect(rows[5]).toEqual(['merchant', 'date', 'run_id', 'channel', 'cycle', 'batch', 'gross', 'fees', 'net', 'shares', 'reserve_held', 'reserve_release_on', 'reserve_released', 'carried_in', 'carried_out', 'payable', 'settled']);
    expect(rows.slice(6)).toEqual([
      ['m-001', '2026-03-02', 'srn_00000000000000000001', 'bank', 'T+1', '1', '20000', '120', '19880', '0', '1988', '2026-06-01', '0', '0', '0', '17892', '17892'],
      ['m-001', '2026-03-02', 'srn_00000000000000000002', 'alipay', 'D+0', '2', '123456789012345678901234567890', '120', '19880', '0', '1988', '', '0', '-5', '7', '17892', '17892'],
    ]);
  });

  it('ends every record with LF alone, the last one too', () => {
    expect(text).not.toContain('\r');
    expect(text.endsWith('17892\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(rows.length + 1);
  });

  it('has only a header, a blank line and a summary header for a statement without runs', () => {
    expect(settlementStatementCsv({ merchant: 'm-001', date: '2026-03-02', runs: [] })).toBe(`${statementLineColumns.join(',')}\n\n${statementSummaryColumns.join(',')}\n`);
  });
});

describe('quoting (RFC 4180)', () => {
  const tricky = run('srn_00000000000000000003', 'bank', [
    line('a1', { product: 'card,debit', strategy: 'fee "card" v3' }),
    line('a2', { strategy: 'two\nlines', product: 'cr\rhere' }),
  ]);
  const text = settlementStatementCsv({ merchant: 'm-001', date: '2026-03-02', runs: [tricky] });

  it('quotes a cell with a comma, a quote (doubled), a line feed or a carriage return, and reads back the same', () => {
    expect(text).toContain(',"card,debit",10000,60,"fee ""card"" v3",');
    expect(text).toContain('"cr\rhere"');
    expect(text).toContain('"two\nlines"');
    const rows = rowsOf(text);
    expect(rows[1]!.slice(7, 11)).toEqual(['card,debit', '10000', '60', 'fee "card" v3']);
    expect(rows[2]![7]).toBe('cr\rhere');
    expect(rows[2]![10]).toBe('two\nlines');
  });

  it('leaves plain cells unquoted', () => {
    expect(text.split('\n')[1]).toMatch(/^srn_00000000000000000003,bank,T\+1,1,2026-03-01,a1,payment,/);
  });
});

describe('formula injection', () => {
  it.each([
    ['=HYPERLINK("http://x","y")', `'=HYPERLINK("http://x","y")`],
    ['+1+2', "'+1+2"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1:A2)', "'@SUM(A1:A2)"],
    [' =1+1', "' =1+1"],
    ['\t=1', "'\t=1"],
    ['\rx', "'\rx"],
    ['-cmd|calc', "'-cmd|calc"],
  ])('neutralises %j', (cell, safe) => {
    expect(formulaSafeCell(cell)).toBe(safe);
  });

  it.each(['-100', '0', '123456789012345678901234567890', '+5', '-', '', 'fee/card v3', 'T+1', '2026-03-01'])('leaves %j as it is', (cell) => {
    expect(formulaSafeCell(cell)).toBe(cell);
  });

  it('applies to every cell of the file, the lines and the summary', () => {
    const evil = run('srn_00000000000000000004', 'bank', [line('=1+1', { product: '@cmd', strategy: '+SUM(A1)' })], { cycle: '=D+1' });
    const rows = rowsOf(settlementStatementCsv({ merchant: 'm-001', date: '2026-03-02', runs: [evil] }));
    expect(rows[1]!.slice(2, 11)).toEqual(["'=D+1", '1', '2026-03-01', "'=1+1", 'payment', "'@cmd", '10000', '60', "'+SUM(A1)"]);
    expect(rows[4]![4]).toBe("'=D+1");
  });
});

describe('settlementStatementCsvChunks', () => {
  const many = run('srn_00000000000000000005', 'bank', Array.from({ length: 25 }, (_, i) => line(`o${i}`)));
  const big: SettleStatement = { merchant: 'm-001', date: '2026-03-02', runs: [many, run('srn_00000000000000000006', 'alipay', [line('p1')])] };

  it('joined, are the whole file; each holds at most linesMax statement lines and says how many', () => {
    const chunks = [...settlementStatementCsvChunks(big, 10)];
    expect(chunks.map((chunk) => chunk.text).join('')).toBe(settlementStatementCsv(big));
    expect(chunks.map((chunk) => chunk.lines)).toEqual([0, 10, 10, 5, 1, 0]);
  });

  it('refuses a chunk size that is no positive integer', () => {
    expect(() => [...settlementStatementCsvChunks(big, 0)]).toThrow(RangeError);
    expect(() => [...settlementStatementCsvChunks(big, 1.5)]).toThrow(RangeError);
  });
});
