// Issue #17: what matching says for the cases the random round trip does not draw — the amount-and-date fallback
// for rows without a key, rows that move nothing, rows in another currency, split settlement (several rows for one
// posting) — and what it says about each: which field differs and by how much.

import { describe, expect, it } from 'vitest';
import { matchStatement, type LedgerRow, type MatchInput } from '../../../../src/core/recon/matcher.js';
import type { StatementRow } from '../../../../src/core/recon/statement-row.js';

const day = 20261215;

function row(rowNo: number, fields: Partial<StatementRow>): StatementRow {
  return {
    rowNo, locator: `s.sta:${rowNo}`, statementKey: 's', channelSerialNo: '', merchantOrderNo: '', refundNo: '', transactionTimeMs: null,
    bookingDate: day, valueDate: day, payer: '', amountMinor: 100n, direction: 'credit', feeMinor: 0n, currency: 'EUR', type: 'payment',
    typeRaw: '', status: 'success', statusRaw: 'BOOK', reversal: false, groupKey: '', key128: 0n, ...fields,
  };
}

function posting(transferId: bigint, fields: Partial<LedgerRow>): LedgerRow {
  return { transferId, key128: 0n, amountMinor: 100n, direction: 'credit', codeClass: 'payment', timestampMs: 0, businessDay: day, status: 'posted', ...fields };
}

const base = (rows: StatementRow[], ledger: LedgerRow[], fields: Partial<MatchInput> = {}): MatchInput => ({
  rows, ledger, pool: [], later: [], businessDay: day, currency: 'EUR', tolerance: { amountMinor: 0n, feeMinor: 0n }, compareFees: false,
  pendingDaysMax: 3, fallback: 'amount+valueDate', ...fields,
});

describe('matchStatement', () => {
  it('pairs rows without a key by amount and date where each side has one, and leaves the rest to a person', () => {
    const rows = [row(1, { amountMinor: 500n }), row(2, { amountMinor: 700n }), row(3, { amountMinor: 700n }), row(4, { amountMinor: 900n })];
    const ledger = [posting(11n, { amountMinor: 500n }), posting(12n, { amountMinor: 700n }), posting(13n, { amountMinor: 700n }), posting(14n, { amountMinor: 300n })];
    const { records } = matchStatement(base(rows, ledger));
    const summary = records.map((record) => [record.outcome, record.rowNos, record.transferIds]);
    expect(summary).toEqual([
      ['matched', [1], [11n]],
      ['ambiguous', [2, 3], [12n, 13n]],
      ['missing_on_platform', [4], []],
      ['missing_at_channel', [], [14n]],
    ]);
    expect(matchStatement(base(rows, ledger, { fallback: null })).records.filter((record) => record.outcome === 'missing_on_platform')).toHaveLength(4);
  });

  it('reads rows that move nothing without matching them, and refuses a row in another currency', () => {
    const rows = [row(1, { status: 'info' }), row(2, { amountMinor: 0n }), row(3, { currency: 'CHF', key128: 5n }), row(4, { key128: 6n, status: 'failed' })];
    const output = matchStatement(base(rows, [posting(1n, { key128: 5n })], { fallback: null }));
    expect(output.ignored).toBe(2);
    expect(output.records.map((record) => [record.outcome, record.rowNos, record.differences])).toEqual([
      ['currency_mismatch', [3], [{ field: 'currency', ours: 'EUR', theirs: 'CHF' }]],
      ['matched', [4], []],
      ['missing_at_channel', [], [{ field: 'amount', ours: '100', theirs: '0', differenceMinor: -100n }]],
    ]);
  });

  it('compares the sum of several rows with one posting (split settlement), and says by how much it differs', () => {
    const rows = [row(1, { key128: 9n, amountMinor: 60n }), row(2, { key128: 9n, amountMinor: 30n })];
    const [record] = matchStatement(base(rows, [posting(1n, { key128: 9n })])).records;
    expect(record).toMatchObject({ outcome: 'amount_mismatch', rowNos: [1, 2], transferIds: [1n], theirsMinor: 90n, oursMinor: 100n });
    expect(record!.differences).toEqual([{ field: 'amount', ours: '100', theirs: '90', differenceMinor: -10n }]);
    expect(matchStatement(base(rows, [posting(1n, { key128: 9n, amountMinor: 90n })])).records[0]!.outcome).toBe('matched');
  });

  it('lists every differing field and takes the first in order for the outcome', () => {
    const rows = [row(1, { key128: 9n, amountMinor: 90n, status: 'pending', feeMinor: 2n })];
    const [record] = matchStatement(base(rows, [posting(1n, { key128: 9n })], { compareFees: true })).records;
    expect(record!.outcome).toBe('status_mismatch');
    expect(record!.differences.map((difference) => difference.field)).toEqual(['status', 'amount', 'fee']);
  });

  it('lets a void or an expiry nobody stated go: nothing moved on either side', () => {
    const { records } = matchStatement(base([], [posting(1n, { status: 'voided' }), posting(2n, { status: 'expired' })]));
    expect(records).toEqual([]);
  });
});
