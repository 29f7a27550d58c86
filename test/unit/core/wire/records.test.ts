// Records: every record type round-trips through its fixed layout for all in-range values (fast-check),
// optional fields default to zero, out-of-range input is refused naming the field, and decoding
// bytes from elsewhere refuses what no valid record holds.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TallyError } from '../../../../src/core/errors.js';
import { AccountLayout, TransferLayout } from '../../../../src/core/layout.js';
import { historyPageMax } from '../../../../src/core/limits.js';
import {
  decodeAccount,
  decodeAccountOperations,
  decodeAccountStates,
  decodeHistoryEntries,
  decodeHistoryFilter,
  decodeIds,
  decodeResults,
  decodeTransfer,
  decodeTransferStates,
  encodeAccountOperations,
  encodeAccountStates,
  encodeAccounts,
  encodeHistoryEntries,
  encodeHistoryFilter,
  encodeIds,
  encodeResults,
  encodeTransferStates,
  encodeTransfers,
  type ResultInput,
} from '../../../../src/core/wire/records.js';
import { CloseRefusedReason, ResultCode, type CloseRefusedReasonName, type ResultName } from '../../../../src/core/result-codes.js';
import {
  AccountOperationKind,
  AccountStatus,
  TransferStatus,
  type Account,
  type AccountOperation,
  type AccountOperationKindName,
  type AccountStatusName,
  type Transfer,
  type TransferStatusName,
} from '../../../../src/core/types.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const u128 = fc.bigInt({ min: 0n, max: 2n ** 128n - 1n });
const oneOf = <T extends string>(table: Record<T, number>) => fc.constantFrom(...(Object.keys(table) as T[]));

const account = fc.record<Account>({ id: u128, ledger: u32, code: u16, flags: u16, userData128: u128, userData64: u64, userData32: u32, timestamp: u64 });
const balances = { debitsPosted: u64, creditsPosted: u64, debitsPending: u64, creditsPending: u64 };
const accountState = fc
  .tuple(account, fc.record({
    ...balances, frozen: u64, status: oneOf<AccountStatusName>(AccountStatus),
    hotInbound: fc.boolean(), hotInboundAuto: fc.boolean(), creditsBuffered: u64, creditsBufferedCount: u32, sliceBalances: u64,
  }))
  .map(([a, b]) => ({ ...a, ...b }));
const transfer = fc.record<Transfer>({
  id: u128, debitAccountId: u128, creditAccountId: u128, amount: u64, pendingId: u128, userData128: u128,
  userData64: u64, userData32: u32, timeoutSeconds: u32, ledger: u32, code: u16, flags: u16, timestamp: u64,
});
const transferState = fc
  .tuple(transfer, fc.record({ status: oneOf<TransferStatusName>(TransferStatus), amountPosted: u64, amountReversed: u64 }))
  .map(([t, s]) => ({ ...t, ...s }));
const historyEntry = fc.record({ transfer, balanceAfter: fc.record(balances) });
const operation = fc.record<AccountOperation>({
  id: u128, accountId: u128, freezeId: u128, amount: u64, userData128: u128, userData64: u64, userData32: u32,
  kind: oneOf<AccountOperationKindName>(AccountOperationKind), flags: u16, timestamp: u64,
});
const result: fc.Arbitrary<ResultInput> = oneOf<ResultName>(ResultCode).chain<ResultInput>((name) =>
  name === 'close_refused'
    ? oneOf<CloseRefusedReasonName>(CloseRefusedReason).map((reason) => ({ result: name, reason }))
    : fc.constant({ result: name }),
);

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const list = <T>(item: fc.Arbitrary<T>) => fc.array(item, { maxLength: 8 });

describe('round trips', () => {
  it('accounts', () => {
    fc.assert(fc.property(list(account), (items) => {
      const bytes = encodeAccounts(items);
      expect(bytes.byteLength).toBe(items.length * 128);
      expect(items.map((_, i) => decodeAccount(view(bytes), i * 128))).toEqual(items);
      // Inputs leave the output half of the record zero.
      expect(bytes.every((b, at) => at % 128 < AccountLayout.outputStart || b === 0)).toBe(true);
    }));
  });

  it('account states', () => {
    fc.assert(fc.property(list(accountState), (items) => {
      expect(decodeAccountStates(encodeAccountStates(items))).toEqual(items);
    }));
  });

  it('transfers', () => {
    fc.assert(fc.property(list(transfer), (items) => {
      const bytes = encodeTransfers(items);
      expect(items.map((_, i) => decodeTransfer(view(bytes), i * 128))).toEqual(items);
    }));
  });

  it('transfer states', () => {
    fc.assert(fc.property(list(transferState), (items) => {
      expect(decodeTransferStates(encodeTransferStates(items))).toEqual(items);
    }));
  });

  it('history entries', () => {
    fc.assert(fc.property(list(historyEntry), (items) => {
      expect(decodeHistoryEntries(encodeHistoryEntries(items))).toEqual(items);
    }));
  });

  it('account operations', () => {
    fc.assert(fc.property(list(operation), (items) => {
      expect(decodeAccountOperations(encodeAccountOperations(items))).toEqual(items);
    }));
  });

  it('ids', () => {
    fc.assert(fc.property(fc.array(u128, { maxLength: 20 }), (ids) => {
      expect(decodeIds(encodeIds(ids))).toEqual(ids);
    }));
  });

  it('history filters', () => {
    const filter = fc.record({ accountId: u128, timestampMin: u64, timestampMax: u64, limit: fc.integer({ min: 1, max: historyPageMax }), reversed: fc.boolean() });
    fc.assert(fc.property(filter, (f) => {
      expect(decodeHistoryFilter(encodeHistoryFilter(f))).toEqual(f);
    }));
  });

  it('results, with indexes and the close_refused reason', () => {
    fc.assert(fc.property(list(result), (items) => {
      const decoded = decodeResults(encodeResults(items));
      expect(decoded).toEqual(items.map((r, index) => ({ index, result: r.result, code: ResultCode[r.result], ...(r.reason ? { reason: r.reason } : {}) })));
    }));
  });
});

describe('defaults', () => {
  it('fill optional account fields with zero', () => {
    const bytes = encodeAccounts([{ id: 5n, ledger: 7, code: 9 }]);
    expect(decodeAccount(view(bytes), 0)).toEqual({ id: 5n, ledger: 7, code: 9, flags: 0, userData128: 0n, userData64: 0n, userData32: 0, timestamp: 0n });
  });

  it('fill optional transfer fields with zero, and leave amountEffective zero', () => {
    const bytes = encodeTransfers([{ id: 1n, debitAccountId: 2n, creditAccountId: 3n, amount: 4n, ledger: 5, code: 6 }]);
    expect(decodeTransfer(view(bytes), 0)).toMatchObject({ pendingId: 0n, timeoutSeconds: 0, flags: 0, timestamp: 0n });
    expect(view(bytes).getBigUint64(TransferLayout.amountEffective, true)).toBe(0n);
  });

  it('give a history filter the largest page, ascending, unbounded', () => {
    expect(decodeHistoryFilter(encodeHistoryFilter({ accountId: 1n }))).toEqual({ accountId: 1n, timestampMin: 0n, timestampMax: 0n, limit: historyPageMax, reversed: false });
  });
});

describe('strict encoding: a value out of range is refused, naming the field', () => {
  const transferBase = { id: 1n, debitAccountId: 2n, creditAccountId: 3n, amount: 4n, ledger: 5, code: 6 };
  const cases: [string, () => unknown, RegExp][] = [
    ['negative amount', () => encodeTransfers([{ ...transferBase, amount: -1n }]), /transfers\[0\]\.amount must be a bigint in 0\.\.2\^64-1, got -1n/],
    ['amount past u64', () => encodeTransfers([{ ...transferBase, amount: 2n ** 64n }]), /transfers\[0\]\.amount/],
    ['amount as a number', () => encodeTransfers([{ ...transferBase, amount: 4 as unknown as bigint }]), /transfers\[0\]\.amount .* got 4$/],
    ['id past u128', () => encodeTransfers([transferBase, { ...transferBase, id: 2n ** 128n }]), /transfers\[1\]\.id/],
    ['missing debit account', () => encodeTransfers([{ ...transferBase, debitAccountId: undefined as unknown as bigint }]), /debitAccountId .* got undefined/],
    ['ledger past u32', () => encodeTransfers([{ ...transferBase, ledger: 2 ** 32 }]), /transfers\[0\]\.ledger must be an integer in 0\.\.2\^32-1/],
    ['fractional code', () => encodeTransfers([{ ...transferBase, code: 1.5 }]), /transfers\[0\]\.code must be an integer in 0\.\.65535, got 1\.5/],
    ['code past u16', () => encodeTransfers([{ ...transferBase, code: 65536 }]), /transfers\[0\]\.code/],
    ['negative flags', () => encodeTransfers([{ ...transferBase, flags: -1 }]), /transfers\[0\]\.flags/],
    ['NaN timeout', () => encodeTransfers([{ ...transferBase, timeoutSeconds: NaN }]), /transfers\[0\]\.timeoutSeconds/],
    ['null user data', () => encodeTransfers([{ ...transferBase, userData64: null as unknown as bigint }]), /transfers\[0\]\.userData64 .* got null/],
    ['account ledger as bigint', () => encodeAccounts([{ id: 1n, ledger: 1n as unknown as number, code: 1 }]), /accounts\[0\]\.ledger/],
    ['account userData32 past u32', () => encodeAccounts([{ id: 1n, ledger: 1, code: 1, userData32: 2 ** 32 }]), /accounts\[0\]\.userData32/],
    ['unknown operation kind', () => encodeAccountOperations([{ id: 1n, accountId: 2n, kind: 'melt' as AccountOperationKindName }]), /operations\[0\]\.kind must be one of freeze, unfreeze, block, unblock, close, mark_hot, unmark_hot, got "melt"/],
    ['operation kind from the prototype', () => encodeAccountOperations([{ id: 1n, accountId: 2n, kind: 'toString' as AccountOperationKindName }]), /operations\[0\]\.kind/],
    ['negative id to look up', () => encodeIds([1n, -2n]), /ids\[1\]\.id/],
    ['history limit 0', () => encodeHistoryFilter({ accountId: 1n, limit: 0 }), /filter\[0\]\.limit must be an integer in 1\.\.8190/],
    ['history limit past the page', () => encodeHistoryFilter({ accountId: 1n, limit: historyPageMax + 1 }), /filter\[0\]\.limit/],
    ['history reversed as a string', () => encodeHistoryFilter({ accountId: 1n, reversed: 'yes' as unknown as boolean }), /filter\[0\]\.reversed must be a boolean/],
    ['a reason on a result other than close_refused', () => encodeResults([{ result: 'ok', reason: 'pending_balance' }]), /results\[0\]\.reason/],
  ];
  it.each(cases)('%s', (_name, encode, message) => {
    expect(encode).toThrow(TypeError);
    expect(encode).toThrow(message);
  });
});

describe('decoding bytes from elsewhere', () => {
  const bodyInvalid = (decode: () => unknown) => {
    try {
      decode();
    } catch (error) {
      return error instanceof TallyError && error.code === 'body_invalid';
    }
    return false;
  };

  it('refuses bodies that are not whole records', () => {
    expect(bodyInvalid(() => decodeAccountStates(new Uint8Array(129)))).toBe(true);
    expect(bodyInvalid(() => decodeTransferStates(new Uint8Array(128)))).toBe(true);
    expect(bodyInvalid(() => decodeHistoryEntries(new Uint8Array(161)))).toBe(true);
    expect(bodyInvalid(() => decodeResults(new Uint8Array(6)))).toBe(true);
    expect(bodyInvalid(() => decodeIds(new Uint8Array(17)))).toBe(true);
    expect(bodyInvalid(() => decodeHistoryFilter(new Uint8Array(63)))).toBe(true);
  });

  it('refuses statuses, kinds and result codes no valid record holds', () => {
    expect(bodyInvalid(() => decodeAccountStates(new Uint8Array(128)))).toBe(true); // status 0
    expect(bodyInvalid(() => decodeTransferStates(new Uint8Array(160)))).toBe(true);
    expect(bodyInvalid(() => decodeAccountOperations(new Uint8Array(128)))).toBe(true); // kind 0
    expect(bodyInvalid(() => decodeResults(Uint8Array.of(200, 0, 0, 0)))).toBe(true);
    expect(bodyInvalid(() => decodeResults(Uint8Array.of(ResultCode.close_refused, 0, 9, 0)))).toBe(true);
  });

  it('reads records at any byte offset of a larger buffer', () => {
    const inner = encodeAccountStates([{ ...decodeAccount(view(encodeAccounts([{ id: 9n, ledger: 1, code: 2 }])), 0), debitsPosted: 1n, creditsPosted: 2n, debitsPending: 3n, creditsPending: 4n, frozen: 5n, status: 'closed' }]);
    const outer = new Uint8Array(inner.byteLength + 3);
    outer.set(inner, 3);
    expect(decodeAccountStates(outer.subarray(3))[0]).toMatchObject({ id: 9n, frozen: 5n, status: 'closed' });
  });
});
