// The account table's one 64-byte record per slot (core/accounts/account-table.ts). Invariants: every field of a
// record reads back what was written, without touching another field or another slot; growing keeps
// every record; closing balances come out balanceStride per slot in Balance order; a slot given again
// after a create-undo starts with a clear status, hot bits and history head.

import { describe, expect, test } from 'vitest';
import { AccountTable, Balance, accountRecordBytes, balanceStride, type BalanceField } from '../../../../src/core/accounts/account-table.js';

function idRecord(id: number): DataView {
  const view = new DataView(new ArrayBuffer(128));
  view.setUint32(0, id, true);
  return view;
}

const fields = Object.keys(Balance) as BalanceField[];

/** Fills every field of `slot` with values derived from `seed`. */
function fill(table: AccountTable, slot: number, seed: number): void {
  fields.forEach((field, f) => table.setBalance(field, slot, 2n ** 64n - 1n - BigInt(seed * 10 + f)));
  table.setStatus(slot, seed & 0xff);
  table.setHot(slot, (seed >> 1) & 0xff);
  table.setHistoryHead(slot, 2 ** 40 + seed);
  table.setCreditsInWindow(slot, 0xffff_ffff - seed);
}

function expectFilled(table: AccountTable, slot: number, seed: number, ledger: number, flags: number): void {
  fields.forEach((field, f) => expect(table.balance(field, slot)).toBe(2n ** 64n - 1n - BigInt(seed * 10 + f)));
  expect([table.ledgerOf(slot), table.flagsOf(slot), table.statusOf(slot), table.hotOf(slot)]).toEqual([ledger, flags, seed & 0xff, (seed >> 1) & 0xff]);
  expect(table.historyHead(slot)).toBe(2 ** 40 + seed);
  expect(table.creditsInWindow(slot)).toBe(0xffff_ffff - seed);
}

describe('account records', () => {
  test('a record is one cache line', () => {
    expect(accountRecordBytes).toBe(64);
  });

  test('every field keeps its own value, in its own slot, across growth', () => {
    const table = new AccountTable();
    const count = 3000; // past the initial capacity, twice
    for (let i = 0; i < count; i++) {
      const slot = table.add(idRecord(i + 1), 0, 0xffff_fff0 + (i % 7), i % 0x10000);
      expect(slot).toBe(i);
      expect(table.historyHead(slot)).toBe(-1);
      fill(table, slot, i);
    }
    for (let i = 0; i < count; i++) expectFilled(table, i, i, 0xffff_fff0 + (i % 7), i % 0x10000);
  });

  test('closing balances are balanceStride per slot, in Balance order', () => {
    const table = new AccountTable();
    for (let i = 0; i < 3; i++) fill(table, table.add(idRecord(i + 1), 0, 1, 0), i);
    const closing = table.balancesBySlot();
    expect(closing.length).toBe(3 * balanceStride);
    for (let slot = 0; slot < 3; slot++) {
      for (const field of fields) expect(closing[slot * balanceStride + Balance[field]]).toBe(table.balance(field, slot));
    }
  });

  test('a slot given again after a create-undo starts over, but keeps its credits in the rate window', () => {
    const table = new AccountTable();
    const first = table.add(idRecord(1), 0, 1, 2);
    table.setStatus(first, 4);
    table.setHot(first, 3);
    table.setCreditsInWindow(first, 5);
    table.removeLast(idRecord(1), 0);
    const again = table.add(idRecord(2), 0, 7, 8);
    expect(again).toBe(first);
    expect([table.ledgerOf(again), table.flagsOf(again), table.statusOf(again), table.hotOf(again), table.historyHead(again)]).toEqual([7, 8, 0, 0, -1]);
    expect(table.creditsInWindow(again)).toBe(5);
  });
});
