// Assertions in the money path (issue #21): a state no checked input can lead to — as corrupt memory would
// leave it — stops the next posting that touches it with an AssertionError, before it posts on from there.
// Each case corrupts the state directly, then sends an ordinary event that validation accepts.

import { describe, expect, test } from 'vitest';
import { idKey } from '../../../src/core/u128.js';
import { ids, ledgerMain, markHot, pending, post, standardWorld, transfer } from '../../support/ledger-fixtures.js';
import { LedgerHarness } from '../../support/ledger-harness.js';

const { bank, alice, merchant } = ids;

function newWorld(): LedgerHarness {
  const h = new LedgerHarness();
  standardWorld(h);
  return h;
}

/** The account slot of `id` (little-endian u128, as the table keys it). */
function slotOf(h: LedgerHarness, id: bigint): number {
  const view = new DataView(new ArrayBuffer(16));
  view.setBigUint64(0, id & 0xffff_ffff_ffff_ffffn, true);
  view.setBigUint64(8, id >> 64n, true);
  return h.ledger.state.accounts.slotAt(view, 0);
}

describe('a corrupt state stops the next posting that touches it', () => {
  test('the ledger totals drifted: the entry of the next posting finds them unbalanced', () => {
    const h = newWorld();
    h.ledger.state.totalsOf(ledgerMain).debitsPending += 1n;
    expect(() => h.createTransfers([pending(100n, bank, merchant, 5n)])).toThrow(/ledger 1: pending debits \d+ != credits \d+/);
  });

  test('a hold without a deadline gone from the open holds, never resolved: posting it is refused by an assertion', () => {
    const h = newWorld();
    const hold = pending(100n, bank, merchant, 5n);
    expect(h.createTransfers([hold])).toEqual(['ok']);
    h.ledger.state.pendings.delete(idKey(100n));
    expect(() => h.createTransfers([post(101n, hold)])).toThrow('a closed hold without a resolution expired, so it had a timeout');
  });

  test('a no-overdraft account found over its rule: a credit to it stops', () => {
    const h = newWorld();
    h.ledger.state.accounts.setBalance('debitsPosted', slotOf(h, alice), 1_000n); // credits posted: 100
    expect(() => h.createTransfers([pending(100n, bank, alice, 5n)])).toThrow('a balance raise keeps the account within its overdraft rule');
  });

  test('a hot-inbound buffer out of step with its credits: the next buffered credit stops', () => {
    const h = newWorld();
    expect(h.accountOperations([markHot(200n, merchant)])).toEqual(['ok']);
    expect(h.createTransfers([transfer(100n, bank, merchant, 5n)])).toEqual(['ok']);
    h.ledger.state.buffers.get(slotOf(h, merchant))!.creditTimes.push(0);
    expect(() => h.createTransfers([transfer(101n, bank, merchant, 5n)])).toThrow('a hot-inbound buffer keeps one time per credit waiting');
  });

  test('the same events on an uncorrupted ledger pass every assertion', () => {
    const h = newWorld();
    const hold = pending(100n, bank, alice, 5n);
    expect(h.accountOperations([markHot(200n, merchant)])).toEqual(['ok']);
    expect(h.createTransfers([hold, post(101n, hold), transfer(102n, bank, merchant, 5n), transfer(103n, bank, merchant, 5n)])).toEqual(['ok', 'ok', 'ok', 'ok']);
    h.ledger.verify();
  });
});
