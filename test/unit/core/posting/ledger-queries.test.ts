// query_transfers and query_accounts on one shard's ledger (issue #16): filters by indexed fields and the rest,
// (timestamp, id) order both ways, cursor paging that neither skips nor repeats, and refusals of bad filters.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { TallyError } from '../../../../src/core/errors.js';
import { Operation } from '../../../../src/core/operations.js';
import { TransferFlags } from '../../../../src/core/types.js';
import { decodeAccountQueryPage, decodeTransferQueryPage, encodeQueryFilter, type QueryFilterInput } from '../../../../src/core/wire/records.js';
import { account, ids, pending, standardWorld, transfer, voidHold } from '../../../support/ledger-fixtures.js';
import { LedgerHarness } from '../../../support/ledger-harness.js';

const { alice, bob, merchant } = ids;

function queryTransfers(h: LedgerHarness, filter: QueryFilterInput) {
  return decodeTransferQueryPage(h.ledger.query(Operation.query_transfers, encodeQueryFilter(filter, 'transfers')));
}

function queryAccounts(h: LedgerHarness, filter: QueryFilterInput) {
  return decodeAccountQueryPage(h.ledger.query(Operation.query_accounts, encodeQueryFilter(filter, 'accounts')));
}

/** Every row of a query, page by page (pages of `limit`). */
function allPages(h: LedgerHarness, filter: QueryFilterInput, limit: number): bigint[] {
  const found: bigint[] = [];
  let after: QueryFilterInput['after'];
  for (let pages = 0; pages < 1000; pages++) {
    const page = queryTransfers(h, { ...filter, limit, after });
    found.push(...page.rows.map((row) => row.id));
    if (page.next === null) return found;
    after = page.next;
  }
  throw new Error('paging did not end');
}

/** 30 transfers Alice → Bob and Bob → merchant: user_data_32 = i % 3, user_data_128 = order 5000 + i, code 11 or 21. */
function orders(): LedgerHarness {
  const h = new LedgerHarness();
  standardWorld(h);
  for (let i = 0; i < 30; i++) {
    const [from, to] = i % 2 === 0 ? [alice, bob] : [bob, merchant];
    const results = h.createTransfers([transfer(2000n + BigInt(i), from, to, 1n, { userData32: i % 3, userData128: 5000n + BigInt(i), code: i < 15 ? 11 : 21 })]);
    expect(results).toEqual(['ok']);
    if (i % 7 === 6) h.advanceSeconds(1);
  }
  return h;
}

const orderIds = (keep: (i: number) => boolean): bigint[] => Array.from({ length: 30 }, (_, i) => i).filter(keep).map((i) => 2000n + BigInt(i));

describe('query_transfers', () => {
  test('finds transfers by user_data_128, _32, code and ledger, oldest first', () => {
    const h = orders();
    expect(queryTransfers(h, { userData128: 5007n }).rows.map((r) => r.id)).toEqual([2007n]);
    expect(queryTransfers(h, { userData32: 2 }).rows.map((r) => r.id)).toEqual(orderIds((i) => i % 3 === 2));
    expect(queryTransfers(h, { code: 21, ledger: 1 }).rows.map((r) => r.id)).toEqual(orderIds((i) => i >= 15));
    expect(queryTransfers(h, { userData32: 1, code: 11 }).rows.map((r) => r.id)).toEqual(orderIds((i) => i % 3 === 1 && i < 15));
    expect(queryTransfers(h, { userData128: 5007n, code: 21 }).rows).toEqual([]);
  });

  test('by account: its debits, its credits or both, newest first when reversed', () => {
    const h = orders();
    const bobIn = orderIds((i) => i % 2 === 0);
    const bobOut = orderIds((i) => i % 2 === 1);
    const bobAll = queryTransfers(h, { accountId: bob, code: 11 }).rows.map((r) => r.id);
    expect(bobAll).toEqual(orderIds((i) => i < 15));
    expect(queryTransfers(h, { accountId: bob, direction: 'credits', ledger: 1, code: 21 }).rows.map((r) => r.id)).toEqual(bobIn.filter((id) => id >= 2015n));
    expect(queryTransfers(h, { accountId: bob, direction: 'debits', reversed: true, userData32: 2 }).rows.map((r) => r.id)).toEqual(
      bobOut.filter((id) => (id - 2000n) % 3n === 2n).reverse(),
    );
  });

  test('pages by cursor cover every row once, both ways, at any page size', () => {
    const h = orders();
    for (const limit of [1, 2, 7, 30, 100]) {
      expect(allPages(h, { ledger: 1, code: 11 }, limit)).toEqual(orderIds((i) => i < 15));
      expect(allPages(h, { userData32: 1, reversed: true }, limit)).toEqual(orderIds((i) => i % 3 === 1).reverse());
      expect(allPages(h, { accountId: alice, code: 21 }, limit)).toEqual(orderIds((i) => i >= 15 && i % 2 === 0));
    }
  });

  test('timestamp bounds and status filters', () => {
    const h = new LedgerHarness();
    standardWorld(h);
    const hold = pending(300n, alice, bob, 5n);
    const other = pending(301n, alice, bob, 5n);
    h.createTransfers([{ ...hold, code: 77 }, { ...other, code: 77 }]);
    h.createTransfers([{ ...voidHold(302n, hold), code: 77 }]);
    expect(queryTransfers(h, { code: 77, status: 'pending' }).rows.map((r) => r.id)).toEqual([301n]);
    expect(queryTransfers(h, { code: 77, status: 'pending_voided' }).rows.map((r) => r.id)).toEqual([300n]);
    expect(queryTransfers(h, { code: 77, flags: TransferFlags.void_pending }).rows.map((r) => r.id)).toEqual([302n]);
    const [first, second] = queryTransfers(h, { code: 77 }).rows;
    expect(queryTransfers(h, { code: 77, timestampMin: second!.timestamp }).rows.map((r) => r.id)).toEqual([301n, 302n]);
    expect(queryTransfers(h, { code: 77, timestampMax: first!.timestamp }).rows.map((r) => r.id)).toEqual([300n]);
  });

  test('refuses a filter with nothing indexed, bad limits and unknown bits', () => {
    const h = orders();
    const refused = (body: Uint8Array) => {
      try {
        h.ledger.query(Operation.query_transfers, body);
      } catch (error) {
        return (error as TallyError).code;
      }
      return 'answered';
    };
    expect(refused(encodeQueryFilter({ status: 'posted' }, 'transfers'))).toBe('body_invalid');
    const body = encodeQueryFilter({ code: 10 }, 'transfers');
    body[120] = 1;
    expect(refused(body)).toBe('body_invalid');
    expect(refused(new Uint8Array(64))).toBe('body_invalid');
    expect(() => encodeQueryFilter({ code: 10, limit: 0 }, 'transfers')).toThrow(/limit/);
    expect(() => encodeQueryFilter({ code: 10, direction: 'debits' }, 'transfers')).not.toThrow();
    expect(refused(encodeQueryFilter({ code: 10, direction: 'debits' }, 'transfers'))).toBe('body_invalid');
  });

  test('a random mix of transfers: every filter and page size answers what a scan of them would', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ payer: fc.integer({ min: 0, max: 2 }), code: fc.integer({ min: 1, max: 3 }), tag: fc.integer({ min: 0, max: 3 }), pause: fc.boolean() }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        (events, limit, reversed) => {
          const h = new LedgerHarness();
          standardWorld(h);
          const accounts = [alice, bob, merchant];
          const posted: { id: bigint; code: number; tag: number; payer: bigint; payee: bigint }[] = [];
          events.forEach((event, i) => {
            const payer = accounts[event.payer]!;
            const payee = accounts[(event.payer + 1) % 3]!;
            const id = 9000n + BigInt(i);
            const [result] = h.createTransfers([transfer(id, payer, payee, 1n, { code: event.code, userData32: event.tag })]);
            if (result === 'ok') posted.push({ id, code: event.code, tag: event.tag, payer, payee });
            if (event.pause) h.advanceSeconds(1);
          });
          const order = (list: bigint[]) => (reversed ? list.reverse() : list);
          for (const code of [1, 2, 3]) expect(allPages(h, { code, reversed }, limit)).toEqual(order(posted.filter((t) => t.code === code).map((t) => t.id)));
          for (const tag of [1, 2, 3]) expect(allPages(h, { userData32: tag, code: 2, reversed }, limit)).toEqual(order(posted.filter((t) => t.tag === tag && t.code === 2).map((t) => t.id)));
          expect(allPages(h, { accountId: bob, direction: 'credits', ledger: 1, reversed }, limit)).toEqual(order(posted.filter((t) => t.payee === bob).map((t) => t.id)));
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('query_accounts', () => {
  test('filters accounts by fields, flags and status, pages by cursor, never shows the ledger\'s own', () => {
    const h = new LedgerHarness();
    standardWorld(h);
    const created = Array.from({ length: 12 }, (_, i) => account(7000n + BigInt(i), { code: 500 + (i % 2), userData64: BigInt(i % 4) }));
    expect(h.createAccounts(created).every((r) => r === 'ok')).toBe(true);
    const page = queryAccounts(h, { code: 500 });
    expect(page.rows.map((a) => a.id)).toEqual(created.filter((_, i) => i % 2 === 0).map((a) => a.id));
    expect(page.next).toBeNull();
    expect(queryAccounts(h, { code: 501, userData64: 3n, reversed: true }).rows.map((a) => a.id)).toEqual([7011n, 7007n, 7003n]);
    const first = queryAccounts(h, { code: 501, limit: 4 });
    expect(first.rows.map((a) => a.id)).toEqual([7001n, 7003n, 7005n, 7007n]);
    expect(queryAccounts(h, { code: 501, limit: 4, after: first.next! }).rows.map((a) => a.id)).toEqual([7009n, 7011n]);
    expect(queryAccounts(h, { code: 500, status: 'closed' }).rows).toEqual([]);
  });
});
