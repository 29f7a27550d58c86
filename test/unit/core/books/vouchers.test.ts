// Spec of vouchers (记账凭证) read from real journals of a four-shard cluster: which postings move
// posted money and on which accounts (a cross-shard credit goes through the transit halves, a return
// comes back through them, a diverted return lands in suspense), lines summed per account and side,
// and every voucher balanced per ledger. Holds, voids, expiries and account operations move nothing.

import { describe, expect, test } from 'vitest';
import { writeJournalHeader } from '../../../../src/core/posting/journal-entry.js';
import { Operation } from '../../../../src/core/operations.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { SystemAccountKind, systemAccountId } from '../../../../src/core/accounts/system-accounts.js';
import { AccountFlags, AccountOperationFlags, TransferFlags } from '../../../../src/core/types.js';
import { accountCodeOfSystemId, homeShardOfSystemId, voucherOf, type Voucher, type VoucherLine } from '../../../../src/core/books/vouchers.js';
import { ClusterHarness } from '../../../support/cluster-harness.js';
import { account, freeze, ledgerMain, ledgerOther, pending, post, reversal, transfer, unfreezeAndPay, voidHold } from '../../../support/ledger-fixtures.js';

const shardCount = 4;

function idOnShard(shard: number, from: bigint): bigint {
  let id = from;
  while (shardOfId(id, shardCount) !== shard) id++;
  return id;
}

const bank = [0, 1, 2, 3].map((s) => idOnShard(s, 1n));
const alice = idOnShard(0, bank[0]! + 1n);
const carol = idOnShard(0, alice + 1n);
const bob = idOnShard(1, bank[1]! + 1n);
const dave = idOnShard(2, bank[2]! + 1n);
const other = [idOnShard(0, 1000n), idOnShard(3, 1000n)];

const transitOut = (from: number, to: number, ledger = ledgerMain) => systemAccountId(SystemAccountKind.transitOut, ledger, from, to, shardCount);
const transitIn = (from: number, to: number, ledger = ledgerMain) => systemAccountId(SystemAccountKind.transitIn, ledger, from, to, shardCount);
const suspense = (shard: number, ledger = ledgerMain) => systemAccountId(SystemAccountKind.suspense, ledger, shard, 0, shardCount);

/** Banks on every shard; Alice and Carol (shard 0, funded 100 each), Bob (1), Dave (2); two accounts on ledger 2. */
function world(): ClusterHarness {
  const c = new ClusterHarness(shardCount, { verifyEachWrite: true });
  const opened = c.createAccounts([
    ...bank.map((id) => account(id)),
    account(alice, { flags: AccountFlags.debits_must_not_exceed_credits }),
    account(carol),
    account(bob),
    account(dave),
    ...other.map((id) => account(id, { ledger: ledgerOther })),
  ]);
  expect(opened.every((r) => r === 'ok')).toBe(true);
  expect(c.createTransfers([transfer(1n, bank[0]!, alice, 100n), transfer(2n, bank[0]!, carol, 100n)])).toEqual(['ok', 'ok']);
  return c;
}

/** Every voucher of the shard's journal, in seq order. */
function vouchersOf(c: ClusterHarness, shard: number): Voucher[] {
  const journal = c.shards[shard]!.journal;
  return [...journal.keys()].sort((a, b) => a - b).map((seq) => voucherOf(journal.get(seq)!, shard, shardCount));
}

/** The voucher of the shard's newest entry. */
function lastVoucher(c: ClusterHarness, shard: number): Voucher {
  const vouchers = vouchersOf(c, shard);
  return vouchers[vouchers.length - 1]!;
}

function line(accountId: bigint, side: 'debit' | 'credit', amount: bigint, ledger = ledgerMain): VoucherLine {
  return { accountId, ledger, side, amount };
}

/** Per ledger, Σ debit lines − Σ credit lines (computed here, not by the code under test). */
function netPerLedger(v: Voucher): Map<number, bigint> {
  const net = new Map<number, bigint>();
  for (const l of v.lines) net.set(l.ledger, (net.get(l.ledger) ?? 0n) + (l.side === 'debit' ? l.amount : -l.amount));
  return net;
}

describe('vouchers of create_transfers', () => {
  test('a same-shard batch sums its lines per account and side', () => {
    const c = world();
    expect(c.createTransfers([transfer(10n, alice, carol, 7n), transfer(11n, alice, carol, 5n), transfer(12n, carol, bank[0]!, 3n)])).toEqual(['ok', 'ok', 'ok']);
    const v = lastVoucher(c, 0);
    expect(v.operation).toBe(Operation.create_transfers);
    expect(v.lines).toEqual([line(alice, 'debit', 12n), line(carol, 'debit', 3n), line(carol, 'credit', 12n), line(bank[0]!, 'credit', 3n)]);
  });

  test('a refused transfer and a failed linked chain move nothing', () => {
    const c = world();
    const chain = [transfer(10n, carol, bank[0]!, 5n, { flags: TransferFlags.linked }), transfer(11n, alice, carol, 1000n)];
    expect(c.createTransfers([...chain, transfer(12n, carol, alice, 2n)])).toEqual(['linked_event_failed', 'insufficient_funds', 'ok']);
    expect(lastVoucher(c, 0).lines).toEqual([line(carol, 'debit', 2n), line(alice, 'credit', 2n)]);
  });

  test('a cross-shard payment credits the payer shard transit-out; the payee shard debits its transit-in', () => {
    const c = world();
    expect(c.createTransfers([transfer(10n, alice, bob, 30n), transfer(11n, alice, dave, 4n)])).toEqual(['ok', 'ok']);
    expect(lastVoucher(c, 0).lines).toEqual([line(alice, 'debit', 34n), line(transitOut(0, 1), 'credit', 30n), line(transitOut(0, 2), 'credit', 4n)]);
    c.settle();
    const atBob = lastVoucher(c, 1);
    expect(atBob.operation).toBe(Operation.apply_inbound);
    expect(atBob.lines).toEqual([line(transitIn(0, 1), 'debit', 30n), line(bob, 'credit', 30n)]);
    expect(lastVoucher(c, 2).lines).toEqual([line(transitIn(0, 2), 'debit', 4n), line(dave, 'credit', 4n)]);
  });

  test('holds and voids move no posted money; a post moves what it posts', () => {
    const c = world();
    const sameShard = pending(10n, alice, carol, 40n);
    const crossShard = pending(11n, alice, bob, 20n);
    expect(c.createTransfers([sameShard, crossShard])).toEqual(['ok', 'ok']);
    expect(lastVoucher(c, 0).lines).toEqual([]);
    expect(c.createTransfers([post(12n, sameShard, 15n), post(13n, crossShard)])).toEqual(['ok', 'ok']);
    expect(lastVoucher(c, 0).lines).toEqual([line(alice, 'debit', 35n), line(carol, 'credit', 15n), line(transitOut(0, 1), 'credit', 20n)]);
    const again = pending(14n, alice, bob, 5n);
    expect(c.createTransfers([again])).toEqual(['ok']);
    expect(c.createTransfers([voidHold(15n, again)])).toEqual(['ok']);
    expect(lastVoucher(c, 0).lines).toEqual([]);
  });

  test('paying from a freeze moves posted money; the freeze itself does not', () => {
    const c = world();
    expect(c.accountOperations([freeze(500n, carol, 30n)])).toEqual(['ok']);
    expect(lastVoucher(c, 0)).toMatchObject({ operation: Operation.account_operations, lines: [], accountsCreated: [] });
    expect(c.createTransfers([unfreezeAndPay(10n, 500n, carol, bob)])).toEqual(['ok']);
    expect(lastVoucher(c, 0).lines).toEqual([line(carol, 'debit', 30n), line(transitOut(0, 1), 'credit', 30n)]);
  });

  test('a reversal across shards posts on the original payee shard and comes back through transit', () => {
    const c = world();
    const original = transfer(10n, alice, bob, 30n);
    expect(c.createTransfers([original])).toEqual(['ok']);
    c.settle();
    expect(c.createTransfers([reversal(11n, original, 12n)])).toEqual(['ok']);
    expect(lastVoucher(c, 1).lines).toEqual([line(bob, 'debit', 12n), line(transitOut(1, 0), 'credit', 12n)]);
    c.settle();
    expect(lastVoucher(c, 0).lines).toEqual([line(transitIn(1, 0), 'debit', 12n), line(alice, 'credit', 12n)]);
  });
});

describe('vouchers of apply_inbound', () => {
  test('a refused credit moves nothing on the payee shard and comes back through transit-out', () => {
    const c = world();
    expect(c.accountOperations([{ id: 500n, accountId: bob, kind: 'block', flags: AccountOperationFlags.credits }])).toEqual(['ok']);
    expect(c.createTransfers([transfer(10n, alice, bob, 30n)])).toEqual(['ok']);
    c.settle();
    const refusal = vouchersOf(c, 1).find((v) => v.operation === Operation.apply_inbound)!;
    expect(refusal.lines).toEqual([]);
    expect(lastVoucher(c, 0).lines).toEqual([line(transitOut(0, 1), 'debit', 30n), line(alice, 'credit', 30n)]);
  });

  test('a return the payer can no longer take is credited to the suspense account', () => {
    const c = world();
    expect(c.accountOperations([{ id: 500n, accountId: bob, kind: 'close' }])).toEqual(['ok']);
    expect(c.createTransfers([transfer(10n, carol, bob, 100n)])).toEqual(['ok']);
    expect(c.accountOperations([{ id: 501n, accountId: carol, kind: 'close' }])).toEqual(['ok']);
    c.settle();
    expect(lastVoucher(c, 0).lines).toEqual([line(transitOut(0, 1), 'debit', 100n), line(suspense(0), 'credit', 100n)]);
  });
});

describe('vouchers of other entries', () => {
  test('create_accounts lists the accounts it opened, and not those that already existed', () => {
    const c = world();
    const fresh = idOnShard(0, carol + 1n);
    expect(c.createAccounts([account(alice), account(fresh, { code: 7 })])).toEqual(['exists_with_different_fields', 'ok']);
    expect(lastVoucher(c, 0)).toMatchObject({ operation: Operation.create_accounts, lines: [], accountsCreated: [{ id: fresh, ledger: ledgerMain, code: 7 }] });
    const first = vouchersOf(c, 3)[0]!;
    expect(first.accountsCreated).toEqual([
      { id: bank[3], ledger: ledgerMain, code: 10 },
      { id: other[1], ledger: ledgerOther, code: 10 },
    ]);
  });

  test('an expiry moves no posted money', () => {
    const c = world();
    expect(c.createTransfers([pending(10n, alice, carol, 40n, 1)])).toEqual(['ok']);
    c.shards[0]!.advanceSeconds(2);
    expect(c.shards[0]!.expireDue()).toBe(true);
    expect(lastVoucher(c, 0)).toMatchObject({ operation: Operation.expire_pending, lines: [] });
  });

  test('a day cut names the business day it begins', () => {
    const entry = new Uint8Array(32);
    writeJournalHeader(new DataView(entry.buffer), { operation: Operation.day_cut, count: 0, timestampBase: 1n, seq: 7, businessDay: 20260102 });
    expect(voucherOf(entry, 2, shardCount)).toEqual({ seq: 7, operation: Operation.day_cut, businessDay: 20260102, businessDayBegins: 20260102, accountsCreated: [], lines: [] });
    new DataView(entry.buffer).setUint32(24, 20261301, true);
    expect(() => voucherOf(entry, 2, shardCount)).toThrow(/names a business day/);
  });

  test('every voucher of a busy cluster balances per ledger', () => {
    const c = world();
    expect(c.createTransfers([transfer(20n, other[0]!, other[1]!, 9n, { ledger: ledgerOther }), transfer(21n, alice, bob, 10n)])).toEqual(['ok', 'ok']);
    expect(c.createTransfers([transfer(22n, bob, dave, 3n), transfer(23n, bank[1]!, alice, 8n), transfer(24n, carol, bank[3]!, 6n)])).toEqual(['ok', 'ok', 'ok']);
    c.settle();
    let lines = 0;
    for (let shard = 0; shard < shardCount; shard++) {
      for (const v of vouchersOf(c, shard)) {
        for (const net of netPerLedger(v).values()) expect(net).toBe(0n);
        lines += v.lines.length;
      }
    }
    expect(lines).toBeGreaterThan(10);
  });
});

describe('system account ids', () => {
  test.each([
    { name: 'transit-out', id: transitOut(2, 3, 5), code: 9100, home: 2 },
    { name: 'transit-in', id: transitIn(2, 3, 5), code: 9100, home: 3 },
    { name: 'suspense', id: suspense(1), code: 9200, home: 1 },
    { name: 'a customer account', id: alice, code: undefined, home: undefined },
    { name: 'a reserved id of no known kind', id: (0xffffffffn << 96n) | (9n << 48n), code: undefined, home: undefined },
  ])('$name has code $code and lives on shard $home', ({ id, code, home }) => {
    expect(accountCodeOfSystemId(id)).toBe(code);
    expect(homeShardOfSystemId(id)).toBe(home);
    if (home !== undefined) expect(shardOfId(id, shardCount)).toBe(home);
  });
});
