// Issue #17: a random ledger day and the channel's statement of it, with differences of every kind injected on
// keys of their own: matching finds each one with its outcome and nothing else, and matches every other row.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchStatement, type LedgerRow, type LedgerRowSource, type MatchInput } from '../../src/core/recon/matcher.js';
import { packedLedgerSource, packLedgerRows } from '../../src/core/recon/packed-ledger-rows.js';
import { StatementRowTable } from '../../src/core/recon/statement-row-table.js';
import { isMatchedOutcome, type ReconOutcomeName } from '../../src/core/recon/outcomes.js';
import type { StatementRow } from '../../src/core/recon/statement-row.js';

const day = 20261215;
const injections = [
  'none', 'amount', 'within_tolerance', 'fee', 'status', 'missing_at_channel', 'missing_on_platform', 'duplicate_at_channel',
  'duplicate_on_platform', 'direction', 'late_from_pool', 'expired', 'late_next_day',
] as const;
type Injection = (typeof injections)[number];

const expected: Record<Injection, ReconOutcomeName[]> = {
  none: ['matched'],
  amount: ['amount_mismatch'],
  within_tolerance: ['matched_within_tolerance'],
  fee: ['fee_mismatch'],
  status: ['status_mismatch'],
  missing_at_channel: ['missing_at_channel'],
  missing_on_platform: ['missing_on_platform'],
  duplicate_at_channel: ['duplicate_at_channel', 'matched'],
  duplicate_on_platform: ['duplicate_on_platform'],
  direction: ['direction_mismatch'],
  late_from_pool: ['matched_late'],
  expired: ['pending_expired'],
  late_next_day: ['matched_late'],
};

function row(rowNo: number, key: bigint, amount: bigint, fee: bigint, credit: boolean): StatementRow {
  return {
    rowNo, locator: `bill.csv:${rowNo + 1}`, statementKey: 'bill', channelSerialNo: `4200${key}`, merchantOrderNo: `order-${key}`,
    refundNo: credit ? '' : `r${key}`, transactionTimeMs: 0, bookingDate: day, valueDate: day, payer: '', amountMinor: amount,
    direction: credit ? 'credit' : 'debit', feeMinor: fee, currency: 'CNY', type: credit ? 'payment' : 'refund', typeRaw: '',
    status: credit ? 'success' : 'refund', statusRaw: '', reversal: false, groupKey: '', key128: key,
  };
}

function posting(id: bigint, key: bigint, amount: bigint, credit: boolean, codeClass: LedgerRow['codeClass'], businessDay = day): LedgerRow {
  return { transferId: id, key128: key, amountMinor: amount, direction: credit ? 'credit' : 'debit', codeClass, timestampMs: 0, businessDay, status: 'posted' };
}

describe('matching a statement with the ledger day', () => {
  it('finds every injected difference with its outcome, and nothing else', () => {
    const order = fc.record({
      amount: fc.bigInt({ min: 1n, max: 10_000_000n }),
      fee: fc.bigInt({ min: 0n, max: 600n }),
      credit: fc.boolean(),
      injection: fc.constantFrom(...injections),
    });
    fc.assert(
      fc.property(fc.array(order, { minLength: 1, maxLength: 80 }), (orders) => {
        const rows: StatementRow[] = [];
        const ledger: LedgerRow[] = [];
        const pool: LedgerRow[] = [];
        const later: LedgerRow[] = [];
        let id = 1n;
        const push = (key: bigint, amount: bigint, fee: bigint, credit: boolean): void => {
          rows.push(row(rows.length + 1, key, amount, fee, credit));
        };
        orders.forEach(({ amount, fee, credit, injection }, i) => {
          const key = BigInt(i + 1) * 1_000_003n;
          const into = injection === 'late_from_pool' || injection === 'expired' ? pool : injection === 'late_next_day' ? later : ledger;
          const postedDay = injection === 'late_from_pool' ? day - 1 : injection === 'expired' ? day - 5 : injection === 'late_next_day' ? day + 1 : day;
          if (injection !== 'missing_on_platform') {
            into.push(posting(id++, key, amount, credit, 'payment', postedDay));
            if (fee > 0n) into.push(posting(id++, key, fee, false, 'fee', postedDay));
          }
          if (injection === 'duplicate_on_platform') ledger.push(posting(id++, key, amount, credit, 'payment'));
          if (injection === 'missing_at_channel' || injection === 'expired') return;
          const theirAmount = injection === 'amount' ? amount + 3n : injection === 'within_tolerance' ? amount + 2n : amount;
          const theirFee = injection === 'fee' ? fee + 1n : fee;
          push(key, theirAmount, theirFee, injection === 'direction' ? !credit : credit);
          if (injection === 'status') rows[rows.length - 1]!.status = 'pending';
          if (injection === 'duplicate_at_channel') push(key, theirAmount, theirFee, credit);
        });
        const input: MatchInput = {
          rows, ledger, pool, later, businessDay: day, currency: 'CNY', tolerance: { amountMinor: 2n, feeMinor: 0n },
          compareFees: true, pendingDaysMax: 3, fallback: null,
        };
        const output = matchStatement(input);
        const found = new Map<bigint, ReconOutcomeName[]>();
        for (const record of output.records) found.set(record.key128, [...(found.get(record.key128) ?? []), record.outcome]);
        orders.forEach(({ injection }, i) => {
          const key = BigInt(i + 1) * 1_000_003n;
          expect({ key, injection, outcomes: (found.get(key) ?? []).sort() }).toEqual({ key, injection, outcomes: [...expected[injection]].sort() });
        });
        expect(output.carried.map((carried) => carried.key128).sort()).toEqual(
          orders.flatMap(({ injection, fee }, i) => (injection === 'missing_at_channel' ? [BigInt(i + 1) * 1_000_003n, ...(fee > 0n ? [BigInt(i + 1) * 1_000_003n] : [])] : [])).sort(),
        );
        const counted = Object.values(output.totals).reduce((total, { count }) => total + count, 0);
        expect(counted).toBe(output.records.length);
        // Matches left out (as an import asks): the same exceptions, carried postings and totals.
        const exceptionsOnly = matchStatement({ ...input, keepMatched: false });
        expect(exceptionsOnly.records).toEqual(output.records.filter((record) => !isMatchedOutcome(record.outcome)));
        expect({ totals: exceptionsOnly.totals, carried: exceptionsOnly.carried, ignored: exceptionsOnly.ignored }).toEqual({ totals: output.totals, carried: output.carried, ignored: output.ignored });
        // The same rows and postings packed (as an import holds a bill and our side): the same output, both ways.
        const packed = { ...input, rows: tableOf(rows), ledger: sourceOf(ledger), pool: sourceOf(pool), later: sourceOf(later) };
        expect(matchStatement(packed)).toEqual(output);
        expect(matchStatement({ ...packed, keepMatched: false })).toEqual(exceptionsOnly);
      }),
      { numRuns: 200 },
    );
  });
});

/** The rows in a table, each packed (made whole again from a copy kept aside, as a bill's line would be read again). */
function tableOf(rows: readonly StatementRow[]): StatementRowTable {
  const table = new StatementRowTable();
  const file = table.addFile((line) => ({ ...rows[line - 1]!, rowNo: 0, key128: 0n, statementKey: '' }));
  rows.forEach((row, i) => table.addPacked(file, i + 1, { ...row }, row.channelSerialNo, row.refundNo));
  return table;
}

/** The postings packed, as they cross to an import worker. */
function sourceOf(postings: readonly LedgerRow[]): LedgerRowSource {
  return packedLedgerSource(packLedgerRows(postings));
}

