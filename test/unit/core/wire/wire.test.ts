// Spec of the request checks the gateway runs before a body reaches a shard (core/wire/wire.ts), for the operations
// that take a business day: a day is 0 (where the operation gives 0 a meaning) or a real date yyyymmdd in
// years 1900–9999, and anything else is refused body_invalid — nothing behind the gateway ever sees it.

import { describe, expect, it } from 'vitest';
import { BalanceAtDayLayout, StatementLayout } from '../../../../src/core/layout.js';
import { Operation, type WireOperationNumber } from '../../../../src/core/operations.js';
import { checkRequestBody } from '../../../../src/core/wire/wire.js';

/** A body of `bytes` with u32 `days` at their offsets. */
function bodyWith(bytes: number, days: Record<number, number>): Uint8Array {
  const body = new Uint8Array(bytes);
  const view = new DataView(body.buffer);
  for (const [offset, day] of Object.entries(days)) view.setUint32(Number(offset), day, true);
  return body;
}

/** Every operation that takes a day, with a body naming `day` where its day goes. */
const dayBodies: [name: string, operation: WireOperationNumber, body: (day: number) => Uint8Array][] = [
  ['close_day', Operation.close_day, (day) => bodyWith(4, { 0: day })],
  ['get_day_report', Operation.get_day_report, (day) => bodyWith(4, { 0: day })],
  ['get_balance_at_day', Operation.get_balance_at_day, (day) => bodyWith(BalanceAtDayLayout.bytes, { [BalanceAtDayLayout.day]: day })],
  ['get_account_statement (from day)', Operation.get_account_statement, (day) => bodyWith(StatementLayout.bytes, { [StatementLayout.fromDay]: day, [StatementLayout.toDay]: 99991231 })],
  ['get_account_statement (to day)', Operation.get_account_statement, (day) => bodyWith(StatementLayout.bytes, { [StatementLayout.fromDay]: 0, [StatementLayout.toDay]: day })],
  ['get_subject_balances', Operation.get_subject_balances, (day) => bodyWith(8, { 0: 156, 4: day })],
  ['get_trial_balance', Operation.get_trial_balance, (day) => bodyWith(8, { 0: 156, 4: day })],
];

const notDays: [what: string, day: number][] = [
  ['month 13', 20261301],
  ['month 0', 20260015],
  ['February 30', 20260230],
  ['February 29 of a common year', 20250229],
  ['February 29 of 1900 (not a leap year)', 19000229],
  ['April 31', 20260431],
  ['day 0', 20261200],
  ['year 1899', 18991231],
  ['nine digits', 100_000_101],
  ['u32 max', 0xffff_ffff],
  ['six digits', 202612],
];

describe('checkRequestBody: days', () => {
  describe.each(dayBodies)('%s', (_name, operation, body) => {
    it.each(notDays)('refuses %s (body_invalid)', (_what, day) => {
      expect(() => checkRequestBody(operation, body(day))).toThrow(expect.objectContaining({ code: 'body_invalid', message: expect.stringContaining(String(day)) }));
    });

    it.each([
      ['a day', 20261204],
      ['a leap day', 20240229],
      ['February 29 of 2000 (a leap year)', 20000229],
      ['the first day of 1900', 19000101],
      ['the last day of 9999', 99991231],
      ['0', 0],
    ])('takes %s', (_what, day) => {
      expect(() => checkRequestBody(operation, body(day))).not.toThrow();
    });
  });

  it('takes close_day with an empty body (the next day)', () => {
    expect(() => checkRequestBody(Operation.close_day, new Uint8Array(0))).not.toThrow();
  });

  it('refuses a statement whose from day is after its to day', () => {
    const body = bodyWith(StatementLayout.bytes, { [StatementLayout.fromDay]: 20261205, [StatementLayout.toDay]: 20261204 });
    expect(() => checkRequestBody(Operation.get_account_statement, body)).toThrow(expect.objectContaining({ code: 'body_invalid' }));
  });
});
