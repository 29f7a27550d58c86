// The whole-state checks tally verify runs after replaying a shard (core/verify/state-audit.ts), and how it names a
// replayed entry that differs from the journal (core/verify/entry-diff.ts). Invariants: on any state the ledger
// reaches (holds posted, voided and expired, hot-inbound buffers, cross-shard debits and credits) every
// account's posted balances equal the sums of its transfer records, its history index lists exactly those
// records, and every ledger conserves; a balance changed behind the ledger's back is named, with its ledger.

import { describe, expect, it } from 'vitest';
import { describeEntryDifference } from '../../../../src/core/verify/entry-diff.js';
import { balancesAfterOffset, eventOffset, JournalHeader, resultsOffset } from '../../../../src/core/posting/journal-entry.js';
import { TransferLayout } from '../../../../src/core/layout.js';
import { Ledger } from '../../../../src/core/posting/ledger.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { PostedRecount, conservationProblems, ledgerSums } from '../../../../src/core/verify/state-audit.js';
import { writeU128 } from '../../../../src/core/u128.js';
import { LedgerHarness } from '../../../support/ledger-harness.js';
import { account, ledgerMain, markHot, pending, post, transfer, voidHold } from '../../../support/ledger-fixtures.js';

const shardCount = 2;
const on = (shard: number, count: number, from: bigint): bigint[] => {
  const found: bigint[] = [];
  for (let id = from; found.length < count; id++) if (shardOfId(id, shardCount) === shard) found.push(id);
  return found;
};
const [bank, alice, merchant] = on(0, 3, 1n) as [bigint, bigint, bigint];
const [remote, remotePayer] = on(1, 2, 1n) as [bigint, bigint];

/** Shard 0 of two after a mix of everything that moves money, with credits from shard 1. */
function shardZero(): LedgerHarness {
  const h = new LedgerHarness({ shardIndex: 0, shardCount });
  const other = new LedgerHarness({ shardIndex: 1, shardCount });
  expect(h.createAccounts([account(bank), account(alice), account(merchant)])).toEqual(['ok', 'ok', 'ok']);
  expect(other.createAccounts([account(remotePayer)])).toEqual(['ok']);
  const hold = pending(2001n, bank, alice, 70n);
  const dropped = pending(2002n, bank, alice, 30n);
  const expiring = pending(2003n, bank, merchant, 9n, 1);
  expect(h.createTransfers([transfer(2000n, bank, alice, 500n), hold, dropped, expiring, transfer(2004n, alice, remote, 40n)])).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  expect(h.createTransfers([post(2010n, hold, 50n), voidHold(2011n, dropped)])).toEqual(['ok', 'ok']);
  expect(h.accountOperations([markHot(3000n, merchant)])).toEqual(['ok']);
  expect(h.createTransfers([transfer(2020n, alice, merchant, 8n), transfer(2021n, bank, merchant, 5n)])).toEqual(['ok', 'ok']);
  expect(other.createTransfers([transfer(2030n, remotePayer, merchant, 12n)])).toEqual(['ok']);
  for (const instructions of other.outbound) h.applyInbound(instructions);
  h.applyHotInbound();
  expect(h.createTransfers([transfer(2040n, bank, merchant, 3n)])).toEqual(['ok']); // stays in the buffer
  h.advanceSeconds(5);
  expect(h.expireDue()).toBe(true);
  return h;
}

/** A fresh ledger replaying the harness's journal, recounting as tally verify does. */
function replayed(h: LedgerHarness): { ledger: Ledger; recount: PostedRecount } {
  const ledger = new Ledger({ shardIndex: 0, shardCount, journal: { entry: (seq) => h.journal.get(seq) } });
  const recount = new PostedRecount();
  for (const seq of [...h.journal.keys()].sort((a, b) => a - b)) {
    const stored = h.journal.get(seq)!;
    const replaying = stored.slice();
    ledger.replay(seq, replaying);
    expect(describeEntryDifference(stored, replaying)).toBeNull(); // replay rewrites exactly what the journal holds
    recount.add(ledger.state, stored);
  }
  return { ledger, recount };
}

describe('state audit', () => {
  it('finds nothing wrong on a state the ledger reached, and recounts every posting', () => {
    const { ledger, recount } = replayed(shardZero());
    const s = ledger.state;
    expect(conservationProblems(s, ledgerSums(s))).toEqual([]);
    expect(recount.balanceProblems(s)).toEqual([]);
    expect(recount.historyProblems(s)).toEqual({ problems: [], accountsChecked: s.accounts.count, sampled: false });
    expect(recount.transfers).toBe(10); // 2000..2004, 2010, 2011, 2020, 2021, 2040
    expect(recount.inbound).toBe(1);
    expect(s.buffered(s.accounts.slotAt(new DataView(idBytes(merchant).buffer), 0))).toBe(3n);
  });

  it('names an account whose balance changed behind the ledger, and its ledger', () => {
    const { ledger, recount } = replayed(shardZero());
    const s = ledger.state;
    const slot = s.accounts.slotAt(new DataView(idBytes(alice).buffer), 0);
    s.accounts.setBalance('creditsPosted', slot, s.accounts.balance('creditsPosted', slot) + 7n);
    expect(recount.balanceProblems(s)).toEqual([`shard 0 account 0x${alice.toString(16)} ledger ${ledgerMain}: creditsPosted (with its hot-inbound buffer) is 557 but its transfer records sum to 550`]);
    const posted = s.totals.get(ledgerMain)!.debitsPosted;
    expect(conservationProblems(s, ledgerSums(s))).toEqual([
      `shard 0 ledger ${ledgerMain}: posted debits ${posted} != posted credits ${posted + 7n} over its ${s.accounts.count} accounts (credits − debits: 7)`,
      `shard 0 ledger ${ledgerMain}: the running total of creditsPosted is ${posted} but the accounts sum to ${posted + 7n}`,
    ]);
  });
});

describe('entry differences', () => {
  const h = new LedgerHarness();
  h.createAccounts([account(1n), account(2n)]);
  h.createTransfers([transfer(10n, 1n, 2n, 5n), transfer(11n, 2n, 1n, 3n)]);
  const entry = h.journal.get(2)!;
  const count = 2;

  it.each([
    ['a balance after', balancesAfterOffset(count, 1) + 32 + 8, 'event 1 balances after, credit account creditsPosted is 4 in the journal but 3 on replay'],
    ['an amount', eventOffset(0) + TransferLayout.amountEffective, 'event 0 amountEffective is 6 in the journal but 5 on replay'],
    ['a result', resultsOffset(count) + 4, 'result of event 1 is 1 in the journal but 0 on replay'],
    ['the header', JournalHeader.businessDay, 'header businessDay is 1 in the journal but 0 on replay'],
  ])('names %s', (_what, offset, expected) => {
    const stored = entry.slice();
    stored[offset]! += 1;
    expect(describeEntryDifference(stored, entry)).toBe(expected);
  });

  it('counts the other fields that differ, and says nothing of equal bytes', () => {
    const stored = entry.slice();
    stored[eventOffset(1) + TransferLayout.ledger] = 9;
    stored[balancesAfterOffset(count, 0)] = 1;
    expect(describeEntryDifference(stored, entry)).toBe('event 1 ledger is 9 in the journal but 1 on replay (and 1 more fields)');
    expect(describeEntryDifference(entry.slice(), entry)).toBeNull();
  });
});

function idBytes(id: bigint): Uint8Array {
  const bytes = new Uint8Array(16);
  writeU128(new DataView(bytes.buffer), 0, id);
  return bytes;
}
