// Issue #17: our side of a day crosses to the import worker packed in typed arrays; unpacked, every row is the one
// packed, for ids, keys and amounts of any size up to u128 and every direction, code class and status.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LedgerRow } from '../../../../src/core/recon/matcher.js';
import { packLedgerRows, unpackLedgerRows } from '../../../../src/core/recon/packed-ledger-rows.js';

const u128 = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }));
const ledgerRow: fc.Arbitrary<LedgerRow> = fc.record({
  transferId: u128,
  key128: u128,
  amountMinor: u128,
  direction: fc.constantFrom('credit' as const, 'debit' as const),
  codeClass: fc.constantFrom('payment' as const, 'refund' as const, 'fee' as const, 'other' as const),
  timestampMs: fc.integer({ min: 0, max: 2 ** 48 }),
  businessDay: fc.integer({ min: 19000101, max: 99991231 }),
  status: fc.constantFrom('posted' as const, 'pending' as const, 'voided' as const, 'expired' as const, 'reversed' as const),
});

describe('packed ledger rows', () => {
  it('unpack(pack(rows)) is rows', () => {
    fc.assert(fc.property(fc.array(ledgerRow, { maxLength: 50 }), (rows) => {
      expect(unpackLedgerRows(packLedgerRows(rows))).toEqual(rows);
    }), { numRuns: 300 });
  });

  it('refuses what is no u128', () => {
    const row: LedgerRow = { transferId: 1n, key128: -1n, amountMinor: 1n, direction: 'credit', codeClass: 'payment', timestampMs: 0, businessDay: 20261207, status: 'posted' };
    expect(() => packLedgerRows([row])).toThrow(/u128/);
  });
});
