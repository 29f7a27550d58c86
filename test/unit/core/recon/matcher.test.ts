// Issue #17: what matching says for the cases the random round trip does not draw — the amount-and-date fallback
// for rows without a key, rows that move nothing, rows in another currency, split settlement (several rows for one
// posting) — and what it says about each: which field differs and by how much.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceOf } from '../../../../src/client/references.js';
import { rowsFromCamt } from '../../../../src/core/recon/rows-from-camt.js';
import { readCamt } from '../../../../src/recon/camt-reader.js';
import { rowKeyer } from '../../../../src/recon/row-keys.js';
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
  it('matches a camt batch booked as one entry, keyed by its group key, against the payments of the batch', () => {
    // FI 053 per entry: entry 3 is a batch of three payments (200002 + 100001 + 123002) booked as one debit of
    // 423005, its PmtInfId the group key; entry 9 a single SCT keyed by its EndToEndId. Keys in priority order.
    const keyer = rowKeyer([
      { statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' },
      { statement: 'groupKey', ledger: 'user_data_128', encode: 'sha256-128' },
    ]);
    const xml = readFileSync(join(import.meta.dirname, '../../../fixtures/statements/camt/fi_fkl_camt053_v02.xml'), 'utf8');
    const entries = rowsFromCamt(readCamt(xml), { file: 'f.xml', granularity: 'entry', timeZone: 'Europe/Helsinki' }).rows;
    const batch = { ...entries[2]!, rowNo: 1, key128: keyer(entries[2]!), bookingDate: day, valueDate: day };
    const single = { ...entries[8]!, rowNo: 2, key128: keyer(entries[8]!), bookingDate: day, valueDate: day };
    const batchKey = referenceOf('CustRefForPmtBatch9', 'sha256-128');
    expect(batch.key128).toBe(batchKey);
    const ledger = [
      posting(1n, { key128: batchKey, amountMinor: 200002n, direction: 'debit' }),
      posting(2n, { key128: batchKey, amountMinor: 100001n, direction: 'debit' }),
      posting(3n, { key128: batchKey, amountMinor: 123002n, direction: 'debit' }),
      posting(4n, { key128: referenceOf('EndToEndIdSCT01', 'sha256-128'), amountMinor: 1000000n }),
    ];
    const records = matchStatement(base([batch, single], ledger, { fallback: null })).records;
    expect(records.map((record) => [record.outcome, record.rowNos, record.transferIds])).toEqual([
      ['matched', [1], [1n, 2n, 3n]],
      ['matched', [2], [4n]],
    ]);
    // One payment of the batch missing on our side: the lump differs by its amount, said as such.
    const short = matchStatement(base([batch], ledger.slice(1, 3), { fallback: null })).records;
    expect(short.map((record) => [record.outcome, record.transferIds, record.differences])).toEqual([
      ['amount_mismatch', [2n, 3n], [{ field: 'amount', ours: '223003', theirs: '423005', differenceMinor: 200002n }]],
    ]);
  });

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
