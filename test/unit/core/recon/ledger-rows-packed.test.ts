// Issue #17: our side of a day built straight from the history pages' bytes into packed rows is the same as a plain
// reading of the decoded transfers (the model below, as the rows were first built): random histories of the clearing account and others (payments and
// refunds either way, holds posted, voided or left open, posts and voids of holds made before, every key field,
// asset and liability clearing accounts), read in pages of any size.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HistoryEntryLayout } from '../../../../src/core/layout.js';
import { ledgerKeyOf, ledgerRowsOf, PackedLedgerRowsBuilder, type LedgerSide } from '../../../../src/core/recon/ledger-rows.js';
import type { LedgerRow } from '../../../../src/core/recon/matcher.js';
import { unpackLedgerRows } from '../../../../src/core/recon/packed-ledger-rows.js';
import { TransferFlags, type Transfer } from '../../../../src/core/types.js';
import { decodeTransfer, encodeTransfers } from '../../../../src/core/wire/records.js';

const clearing = (1n << 100n) + 7n;
const other = (1n << 90n) + 3n;
const u128 = fc.bigInt({ min: 1n, max: 2n ** 128n - 1n });

const step = fc.record({
  id: u128,
  clearingSide: fc.constantFrom('debit', 'credit', 'none'),
  kind: fc.constantFrom('plain', 'pending', 'post', 'void', 'post_earlier', 'void_earlier'),
  amount: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  code: fc.constantFrom(1, 2, 3, 9),
  userData128: u128,
  userData64: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  userData32: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  timestamp: fc.bigInt({ min: 1n, max: 2n ** 63n }),
  pick: fc.nat(),
});

/** Transfers of a random history: posts and voids name an earlier hold of it, or one made before it. */
function historyOf(steps: (typeof step extends fc.Arbitrary<infer T> ? T : never)[]): Transfer[] {
  const holds: bigint[] = [];
  return steps.map((s) => {
    const earlier = s.kind === 'post_earlier' || s.kind === 'void_earlier';
    const pendingId = s.kind === 'post' || s.kind === 'void' ? (holds.length > 0 ? holds[s.pick % holds.length]! : (s.id >> 1n) + 2n) : earlier ? (s.id >> 1n) + 1n : 0n;
    const flags = s.kind === 'pending' ? TransferFlags.pending : s.kind.startsWith('post') ? TransferFlags.post_pending : s.kind.startsWith('void') ? TransferFlags.void_pending : 0;
    if (s.kind === 'pending') holds.push(s.id);
    const [debitAccountId, creditAccountId] = s.clearingSide === 'debit' ? [clearing, other] : s.clearingSide === 'credit' ? [other, clearing] : [other, other + 1n];
    return {
      id: s.id, debitAccountId, creditAccountId, amount: s.amount, pendingId, userData128: s.userData128, userData64: s.userData64, userData32: s.userData32,
      timeoutSeconds: 0, ledger: 1, code: s.code, flags, timestamp: s.timestamp,
    };
  });
}

/** The model: the clearing account's transfers as rows, a hold's post or void settling the hold it names. */
function referenceRowsOf(transfers: readonly Transfer[], side: LedgerSide, businessDayOf: (timestamp: bigint) => number): LedgerRow[] {
  const rows: LedgerRow[] = [];
  const holds = new Map<bigint, LedgerRow>();
  const codeClass = (code: number): LedgerRow['codeClass'] =>
    side.ledgerCodes.fee.includes(code) ? 'fee' : side.ledgerCodes.refund.includes(code) ? 'refund' : side.ledgerCodes.payment.includes(code) ? 'payment' : 'other';
  for (const transfer of transfers) {
    const debited = transfer.debitAccountId === side.clearing;
    if (!debited && transfer.creditAccountId !== side.clearing) continue;
    if ((transfer.flags & (TransferFlags.post_pending | TransferFlags.void_pending)) !== 0) {
      const hold = holds.get(transfer.pendingId);
      const voids = (transfer.flags & TransferFlags.void_pending) !== 0;
      if (hold !== undefined) {
        hold.status = voids ? 'voided' : 'posted';
        if (!voids && transfer.amount !== 0n) hold.amountMinor = transfer.amount;
        continue;
      }
      if (voids) continue;
    }
    const pending = (transfer.flags & TransferFlags.pending) !== 0;
    const row: LedgerRow = {
      transferId: transfer.id, key128: ledgerKeyOf(transfer, side.keyField), amountMinor: transfer.amount,
      direction: (side.direction === 'asset' ? debited : !debited) ? 'credit' : 'debit', codeClass: codeClass(transfer.code),
      timestampMs: Number(transfer.timestamp / 1_000_000n), businessDay: businessDayOf(transfer.timestamp), status: pending ? 'pending' : 'posted',
    };
    if (pending) holds.set(transfer.id, row);
    rows.push(row);
  }
  return rows;
}

/** The transfers as a history page's entries (160 B each: the record, then balances this reading ignores). */
function historyBytes(transfers: readonly Transfer[]): Uint8Array {
  const records = encodeTransfers(transfers);
  const page = new Uint8Array(transfers.length * HistoryEntryLayout.bytes);
  for (let i = 0; i < transfers.length; i++) page.set(records.subarray(i * 128, i * 128 + 128), i * HistoryEntryLayout.bytes);
  page.fill(0xee, transfers.length > 0 ? 128 : 0, transfers.length > 0 ? 160 : 0); // balances: not read
  return page;
}

describe('PackedLedgerRowsBuilder', () => {
  it('builds the rows the model builds, page by page, and ledgerRowsOf of the whole the same', () => {
    const side = fc.record({
      direction: fc.constantFrom('asset' as const, 'liability' as const),
      keyField: fc.constantFrom('user_data_128' as const, 'user_data_64' as const, 'user_data_32' as const, 'id' as const),
    });
    fc.assert(fc.property(fc.array(step, { maxLength: 60 }), side, fc.integer({ min: 1, max: 7 }), (steps, { direction, keyField }, pageSize) => {
      const transfers = historyOf(steps);
      // The records as the wire carries them (what the CLI's client decodes).
      const decoded = transfers.map((_, i) => decodeTransfer(new DataView(encodeTransfers(transfers).buffer), i * 128));
      const ledgerSide: LedgerSide = { clearing, direction, keyField, ledgerCodes: { payment: [1], refund: [2], fee: [3] } };
      const dayOf = (timestamp: bigint): number => (timestamp <= 2n ** 62n ? 20261207 : 20261208);
      const builder = new PackedLedgerRowsBuilder(ledgerSide, dayOf);
      for (let i = 0; i < decoded.length; i += pageSize) builder.add(historyBytes(decoded.slice(i, i + pageSize)), HistoryEntryLayout.bytes);
      const expected = referenceRowsOf(decoded, ledgerSide, dayOf);
      expect(unpackLedgerRows(builder.build())).toEqual(expected);
      expect(ledgerRowsOf(decoded, ledgerSide, dayOf)).toEqual(expected);
    }), { numRuns: 500 });
  });
});
