// The shard set's mark on a caller's transfer naming an account the ledger opens itself (issue #14, item 31):
// slices and suspense accounts exist only with more than one shard, so every shard refuses a caller naming one
// with account_id_invalid — the code transit accounts get — and an approved adjustment may still name suspense.

import { describe, expect, it } from 'vitest';
import { SystemAccountKind, systemAccountId } from '../../../../src/core/accounts/system-accounts.js';
import { sliceAccountId } from '../../../../src/core/hot/hot-outbound.js';
import { TransferLayout } from '../../../../src/core/layout.js';
import { eventBytes } from '../../../../src/core/limits.js';
import { markLedgerAccountsNamed } from '../../../../src/core/posting/ledger-accounts-named.js';
import { validateTransfer } from '../../../../src/core/posting/validate.js';
import { ResultCode } from '../../../../src/core/result-codes.js';
import { transferCallerMarkInvalid, transferNamesLedgerAccount } from '../../../../src/core/types.js';
import { encodeTransfers, type TransferInput } from '../../../../src/core/wire/records.js';

const ledger = 7;
const suspense = systemAccountId(SystemAccountKind.suspense, ledger, 1, 1, 4);
const transit = systemAccountId(SystemAccountKind.transitOut, ledger, 0, 1, 4);
const slice = sliceAccountId(42n, 2, 4);
const transfer = (id: bigint, debitAccountId: bigint, creditAccountId: bigint, flags = 0): TransferInput => ({ id, debitAccountId, creditAccountId, amount: 5n, ledger, code: 1, flags });

function flagsOf(body: Uint8Array, index: number): number {
  return new DataView(body.buffer, body.byteOffset, body.byteLength).getUint16(index * eventBytes + TransferLayout.flags, true);
}

function codesOf(body: Uint8Array): number[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return Array.from({ length: body.byteLength / eventBytes }, (_, i) => validateTransfer(view, i * eventBytes, true));
}

describe('markLedgerAccountsNamed', () => {
  it('marks a caller naming a slice or a suspense account, debit or credit side, and leaves the rest alone', () => {
    const body = encodeTransfers([transfer(1n, 10n, 11n), transfer(2n, slice, 11n), transfer(3n, 10n, suspense), transfer(4n, suspense, 11n), transfer(5n, 10n, slice, 1)]);
    const marked = markLedgerAccountsNamed(body, 'none');
    expect(marked).not.toBe(body);
    expect([0, 1, 2, 3, 4].map((i) => flagsOf(marked, i) & transferNamesLedgerAccount)).toEqual([0, transferNamesLedgerAccount, transferNamesLedgerAccount, transferNamesLedgerAccount, transferNamesLedgerAccount]);
    expect(flagsOf(marked, 4) & 1).toBe(1); // a linked event stays linked
    expect(codesOf(marked)).toEqual([ResultCode.ok, ResultCode.account_id_invalid, ResultCode.account_id_invalid, ResultCode.account_id_invalid, ResultCode.account_id_invalid]);
    // The caller's bytes are never written.
    expect(codesOf(body)).toEqual([ResultCode.ok, ResultCode.ok, ResultCode.ok, ResultCode.ok, ResultCode.ok]);
  });

  it('an adjustment may name a suspense account, never a slice', () => {
    const body = encodeTransfers([transfer(1n, suspense, 11n), transfer(2n, 10n, suspense), transfer(3n, slice, 11n)]);
    const marked = markLedgerAccountsNamed(body, 'suspense');
    expect(codesOf(marked)).toEqual([ResultCode.ok, ResultCode.ok, ResultCode.account_id_invalid]);
  });

  it('returns the body itself when nothing is named, and transit accounts stay refused by the field checks', () => {
    const plain = encodeTransfers([transfer(1n, 10n, 11n)]);
    expect(markLedgerAccountsNamed(plain, 'none')).toBe(plain);
    expect(codesOf(markLedgerAccountsNamed(encodeTransfers([transfer(2n, transit, 11n)]), 'suspense'))).toEqual([ResultCode.account_id_invalid]);
  });

  it("a caller's own copy of the mark is flags_invalid, with or without a ledger account named", () => {
    const body = encodeTransfers([transfer(1n, 10n, 11n, transferNamesLedgerAccount), transfer(2n, slice, 11n, transferNamesLedgerAccount)]);
    const marked = markLedgerAccountsNamed(body, 'none');
    expect([0, 1].map((i) => flagsOf(marked, i) & transferCallerMarkInvalid)).toEqual([transferCallerMarkInvalid, transferCallerMarkInvalid]);
    expect(codesOf(marked)).toEqual([ResultCode.flags_invalid, ResultCode.flags_invalid]);
    expect(codesOf(markLedgerAccountsNamed(body, 'suspense'))).toEqual([ResultCode.flags_invalid, ResultCode.flags_invalid]);
  });
});
