// Hot inbound accounts (缓冲入账, DOMAIN.md §5): credits to a marked account are answered and journaled
// one by one but wait in the account's buffer, with a sequence number, until a summary posting
// (apply_hot_inbound) moves them onto the balance; automatic marking by credit rate; the day cut.

import { describe, expect, test } from 'vitest';
import { AccountFlags, AccountOperationFlags } from '../../../../src/core/types.js';
import { HotRecordKind, HotRecordLayout, type HotInboundPolicy } from '../../../../src/core/hot/hot-inbound.js';
import { eventOffset, readJournalHeader } from '../../../../src/core/posting/journal-entry.js';
import { Operation } from '../../../../src/core/operations.js';
import { account, close, ids, ledgerMain, linked, markHot, standardWorld, transfer, unmarkHot } from '../../../support/ledger-fixtures.js';
import { LedgerHarness } from '../../../support/ledger-harness.js';
import { ClusterHarness } from '../../../support/cluster-harness.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { SystemAccountKind, systemAccountId } from '../../../../src/core/accounts/system-accounts.js';

const { bank, alice, merchant } = ids;
const autoOff: HotInboundPolicy = { autoMarkCreditsPerSecond: 0, unmarkQuietSeconds: 60 };

/** The first id from `from` on that routes to `shard` of `shardCount`. */
function onShard(shard: number, from: bigint, shardCount = 2): bigint {
  let id = from;
  while (shardOfId(id, shardCount) !== shard) id++;
  return id;
}

function hotMerchant(): LedgerHarness {
  const h = new LedgerHarness();
  standardWorld(h);
  expect(h.accountOperations([markHot(5000n, merchant)])).toEqual(['ok']);
  return h;
}

describe('credits to a hot-inbound account', () => {
  test('are answered ok and journaled, but wait in the buffer; the summary posting applies them all at once', () => {
    const h = hotMerchant();
    const before = h.account(merchant);
    expect(before.hotInbound).toBe(true);
    expect(h.createTransfers([transfer(6000n, bank, merchant, 30n), transfer(6001n, alice, merchant, 12n)])).toEqual(['ok', 'ok']);
    const waiting = h.account(merchant);
    expect(waiting.creditsPosted).toBe(before.creditsPosted);
    expect(waiting.creditsBuffered).toBe(42n);
    expect(waiting.creditsBufferedCount).toBe(2);
    // Each transfer is in the account's history, as any other.
    expect(h.history({ accountId: merchant }).map((e) => e.transfer.id)).toContain(6001n);
    // The payer side is not buffered.
    expect(h.account(alice).debitsPosted).toBe(12n);

    expect(h.applyHotInbound(autoOff)).toBe(true);
    const applied = h.account(merchant);
    expect(applied.creditsPosted).toBe(before.creditsPosted + 42n);
    expect(applied.creditsBuffered).toBe(0n);
    expect(applied.creditsBufferedCount).toBe(0);
    expect(h.applyHotInbound(autoOff)).toBe(false); // nothing due: no entry
  });

  test('one summary record per account, naming the buffer sequence it applies through', () => {
    const h = hotMerchant();
    for (let i = 0n; i < 5n; i++) h.createTransfers([transfer(6000n + i, bank, merchant, 1n)]);
    const written = h.ledger.applyHotInbound(h.nowNs, autoOff)!;
    const header = readJournalHeader(written.entry);
    expect(header.operation).toBe(Operation.apply_hot_inbound);
    expect(header.count).toBe(1);
    const view = new DataView(written.entry.buffer);
    expect(view.getBigUint64(eventOffset(0) + HotRecordLayout.amount, true)).toBe(5n);
    expect(view.getBigUint64(eventOffset(0) + HotRecordLayout.seqThrough, true)).toBe(5n);
    expect(view.getUint16(eventOffset(0) + HotRecordLayout.kind, true)).toBe(HotRecordKind.apply);
  });

  test('survive a restart whether applied or still buffered (replay rebuilds the buffer exactly)', () => {
    const h = hotMerchant();
    h.createTransfers([transfer(6000n, bank, merchant, 7n)]);
    h.applyHotInbound(autoOff);
    h.createTransfers([transfer(6001n, bank, merchant, 5n)]);
    h.restart(); // asserts every lookup and history page answers byte for byte as before
    expect(h.account(merchant).creditsBuffered).toBe(5n);
    expect(h.applyHotInbound(autoOff)).toBe(true);
    expect(h.account(merchant).creditsBuffered).toBe(0n);
    h.restart();
  });

  test('are not spendable until applied: a no-overdraft hot account refuses a debit its buffer would cover', () => {
    const h = new LedgerHarness();
    standardWorld(h);
    h.accountOperations([markHot(5000n, ids.bob)]);
    expect(h.createTransfers([transfer(6000n, bank, ids.bob, 50n)])).toEqual(['ok']);
    expect(h.createTransfers([transfer(6001n, ids.bob, merchant, 20n)])).toEqual(['insufficient_funds']);
    h.applyHotInbound(autoOff);
    expect(h.createTransfers([transfer(6002n, ids.bob, merchant, 20n)])).toEqual(['ok']);
  });

  test('count against credits_must_not_exceed_debits and closing while still buffered', () => {
    const h = new LedgerHarness();
    h.createAccounts([account(1n), account(2n, { flags: AccountFlags.credits_must_not_exceed_debits }), account(3n)]);
    h.accountOperations([markHot(5000n, 2n)]);
    h.createTransfers([transfer(6000n, 2n, 1n, 10n)]); // 2 owes 10: its credits may reach 10
    expect(h.createTransfers([transfer(6001n, 1n, 2n, 10n)])).toEqual(['ok']);
    expect(h.createTransfers([transfer(6002n, 3n, 2n, 1n)])).toEqual(['credits_exceed_debits']); // the buffer counts
    expect(h.accountOperations([close(5001n, 2n)])).toEqual(['ok']); // debits 10 = credits 10 (all buffered)
    expect(h.account(2n).creditsBuffered).toBe(10n);
  });

  test('a linked chain that fails takes its buffered credit back', () => {
    const h = hotMerchant();
    const results = h.createTransfers([linked(transfer(6000n, bank, merchant, 9n)), transfer(6001n, alice, merchant, 1_000n)]);
    expect(results).toEqual(['linked_event_failed', 'insufficient_funds']);
    expect(h.account(merchant).creditsBuffered).toBe(0n);
    expect(h.applyHotInbound(autoOff)).toBe(false);
  });

  test('un-marking applies the buffer at once', () => {
    const h = hotMerchant();
    const posted = h.account(merchant).creditsPosted;
    h.createTransfers([transfer(6000n, bank, merchant, 8n)]);
    expect(h.accountOperations([unmarkHot(5001n, merchant)])).toEqual(['ok']);
    const after = h.account(merchant);
    expect([after.hotInbound, after.creditsPosted, after.creditsBuffered]).toEqual([false, posted + 8n, 0n]);
    h.createTransfers([transfer(6001n, bank, merchant, 1n)]);
    expect(h.account(merchant).creditsPosted).toBe(posted + 9n); // credited directly again
  });

  test('the count of hot-inbound accounts follows marks, un-marks and a failed chain that took a mark back', () => {
    const h = hotMerchant();
    expect(h.ledger.hotInboundStatus().accounts).toBe(1);
    // A mark linked to an operation that fails is undone with its chain (the harness verifies the count after every write).
    expect(h.accountOperations([{ ...markHot(5001n, alice), flags: AccountOperationFlags.credits | AccountOperationFlags.linked }, close(5002n, 99n)])).toEqual([
      'linked_event_failed',
      'account_not_found',
    ]);
    expect(h.ledger.hotInboundStatus().accounts).toBe(1);
    h.accountOperations([markHot(5003n, alice), markHot(5004n, merchant)]); // marking twice counts once
    expect(h.ledger.hotInboundStatus().accounts).toBe(2);
    h.accountOperations([unmarkHot(5005n, merchant)]);
    expect(h.ledger.hotInboundStatus().accounts).toBe(1);
    h.restart();
    expect(h.ledger.hotInboundStatus().accounts).toBe(1);
  });

  test('a hot mark names the credit side: debits or both are refused with flags_invalid', () => {
    const h = hotMerchant();
    const both = AccountOperationFlags.debits | AccountOperationFlags.credits;
    expect(h.accountOperations([{ id: 5001n, accountId: merchant, kind: 'mark_hot', flags: AccountOperationFlags.debits }])).toEqual(['flags_invalid']);
    expect(h.accountOperations([{ id: 5002n, accountId: merchant, kind: 'mark_hot', flags: both }])).toEqual(['flags_invalid']);
    expect(h.accountOperations([{ id: 5003n, accountId: merchant, kind: 'mark_hot' }])).toEqual(['flags_invalid']);
  });

  test('the day cut applies every buffer first: closing balances hold every credit of the day', () => {
    const h = hotMerchant();
    const posted = h.account(merchant).creditsPosted;
    h.createTransfers([transfer(6000n, bank, merchant, 11n)]);
    h.ledger.cutDay(20261124, h.nowNs + 1n);
    const [closed] = h.ledger.takeClosedDays();
    const merchantSlot = 3; // the standard world's fourth account
    expect(closed!.balances[merchantSlot * 5 + 1]).toBe(posted + 11n);
    expect(h.account(merchant).creditsBuffered).toBe(0n);
  });
});

describe('credits from another shard', () => {
  test('land in the hot-inbound payee\'s buffer like local ones, and apply with its summary', () => {
    const shardCount = 2;
    const payer = onShard(0, 1n);
    const payee = onShard(1, 1n);
    const c = new ClusterHarness(shardCount, { verifyEachWrite: true });
    expect(c.createAccounts([account(payer), account(payee)])).toEqual(['ok', 'ok']);
    expect(c.accountOperations([markHot(5000n, payee)])).toEqual(['ok']);
    expect(c.createTransfers([transfer(6000n, payer, payee, 4n), transfer(6001n, payer, payee, 6n)])).toEqual(['ok', 'ok']);
    c.settle();
    expect(c.account(payee)).toMatchObject({ creditsPosted: 0n, creditsBuffered: 10n, creditsBufferedCount: 2 });
    expect(c.shards[1]!.applyHotInbound(autoOff)).toBe(true);
    expect(c.account(payee)).toMatchObject({ creditsPosted: 10n, creditsBuffered: 0n });
  });
});

describe('automatic marking by credit rate', () => {
  const policy: HotInboundPolicy = { autoMarkCreditsPerSecond: 10, unmarkQuietSeconds: 3 };

  test('marks an account over the threshold at the end of a rate window, and un-marks it after quiet windows', () => {
    const h = new LedgerHarness();
    standardWorld(h);
    h.applyHotInbound(policy); // opens the first rate window
    for (let i = 0n; i < 12n; i++) h.createTransfers([transfer(7000n + i, bank, merchant, 1n)]);
    h.createTransfers([transfer(7100n, bank, alice, 1n)]); // one credit: far below the threshold
    h.advanceSeconds(1);
    expect(h.applyHotInbound(policy)).toBe(true);
    expect(h.account(merchant)).toMatchObject({ hotInbound: true, hotInboundAuto: true });
    expect(h.account(alice).hotInbound).toBe(false);

    h.createTransfers([transfer(7200n, bank, merchant, 2n)]);
    expect(h.account(merchant).creditsBuffered).toBe(2n);
    h.restart(); // the mark was journaled: replay marks it again, whatever the policy
    expect(h.account(merchant)).toMatchObject({ hotInbound: true, creditsBuffered: 2n });

    // The restarted ledger opens a fresh rate window with its first tick (the replayed credits are no
    // rate); three quiet windows after it end the mark.
    for (let tick = 0; tick < 3; tick++) {
      h.advanceSeconds(1);
      h.applyHotInbound(policy);
    }
    expect(h.account(merchant).hotInbound).toBe(true);
    h.advanceSeconds(1);
    h.applyHotInbound(policy);
    const after = h.account(merchant);
    expect([after.hotInbound, after.hotInboundAuto, after.creditsBuffered]).toEqual([false, false, 0n]);
    h.restart();
  });

  test('never marks a transit account, however many cross-shard payments credit it', () => {
    const shardCount = 2;
    const payer = onShard(0, 1n);
    const payee = onShard(1, 1n);
    const c = new ClusterHarness(shardCount, { verifyEachWrite: false });
    c.createAccounts([account(payer), account(payee)]);
    c.shards[0]!.applyHotInbound(policy);
    c.shards[1]!.applyHotInbound(policy);
    for (let i = 0n; i < 20n; i++) c.createTransfers([transfer(8000n + i, payer, payee, 1n)]);
    c.settle();
    for (const shard of c.shards) {
      shard.advanceSeconds(1);
      shard.applyHotInbound(policy);
    }
    const transitOut = systemAccountId(SystemAccountKind.transitOut, ledgerMain, 0, 1, shardCount);
    expect(c.shards[0]!.lookupLedgerAccounts([transitOut])[0]!.hotInbound).toBe(false);
    expect(c.account(payee)).toMatchObject({ hotInbound: true, hotInboundAuto: true }); // the payee is a real hot account
  });

  test('never un-marks an account marked by hand', () => {
    const h = hotMerchant();
    h.applyHotInbound(policy);
    for (let second = 0; second < 5; second++) {
      h.advanceSeconds(1);
      h.applyHotInbound(policy);
    }
    expect(h.account(merchant)).toMatchObject({ hotInbound: true, hotInboundAuto: false });
  });
});
