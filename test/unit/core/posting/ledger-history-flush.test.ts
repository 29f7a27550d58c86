// History pages across flush_history entries (core/posting/history-flush.ts, queries.ts). Invariants: a ledger
// that flushes answers every history page — any timestamp window, limit, either order — byte for byte as a
// twin that keeps all of its history in memory (never flushes); a flush empties the buffer; a restart (full
// replay, the stored run blocks kept) answers the same pages; no flush runs between a vote and its decision.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Operation } from '../../../../src/core/operations.js';
import { encodeHistoryFilter, encodeTransfers, type HistoryFilterInput } from '../../../../src/core/wire/records.js';
import { account, transfer } from '../../../support/ledger-fixtures.js';
import { LedgerHarness, clockStartNs, nsPerSecond } from '../../../support/ledger-harness.js';

const accountIds = [1n, 2n, 3n, 4n, 5n, 6n];

/** Two harnesses fed the same writes; only `flushing` writes flush_history entries. */
function twins(): { flushing: LedgerHarness; inMemory: LedgerHarness } {
  const open = (h: LedgerHarness) => {
    expect(h.createAccounts(accountIds.map((id) => account(id)))).toEqual(accountIds.map(() => 'ok'));
  };
  const flushing = new LedgerHarness({ verifyEachWrite: false });
  const inMemory = new LedgerHarness({ verifyEachWrite: false });
  open(flushing);
  open(inMemory);
  return { flushing, inMemory };
}

const page = (h: LedgerHarness, filter: HistoryFilterInput) => h.ledger.query(Operation.get_account_transfers, encodeHistoryFilter(filter));

const pair = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 5 })).map(([d, k]) => [accountIds[d]!, accountIds[(d + k) % 6]!] as const);
const batch = fc.array(pair, { minLength: 1, maxLength: 30 });
const step = fc.oneof({ weight: 4, arbitrary: batch }, { weight: 1, arbitrary: fc.constant('flush' as const) });
const query = fc.record({
  account: fc.constantFrom(...accountIds),
  from: fc.integer({ min: 0, max: 40 }),
  span: fc.integer({ min: 0, max: 40 }),
  limit: fc.integer({ min: 1, max: 40 }),
  reversed: fc.boolean(),
});

describe('history pages across flushes', () => {
  test('equal a twin that never flushes, for any window, limit and order, and again after a restart', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), fc.array(query, { minLength: 1, maxLength: 20 }), (steps, queries) => {
        const { flushing, inMemory } = twins();
        let nextId = 100n;
        for (const s of steps) {
          // A second per write: both stamp their batches with the clock itself, the flush entries between notwithstanding.
          flushing.advanceSeconds(1);
          inMemory.advanceSeconds(1);
          if (s === 'flush') {
            expect(flushing.flushHistory()).toBe(true);
            expect(flushing.ledger.historyBufferedNodes).toBe(0);
            continue;
          }
          const transfers = s.map(([debit, credit]) => transfer(nextId++, debit, credit, 1n));
          expect(flushing.createTransfers(transfers)).toEqual(inMemory.createTransfers(transfers));
        }
        const check = () => {
          for (const q of queries) {
            const timestampMin = clockStartNs + BigInt(q.from) * nsPerSecond;
            const filter = { accountId: q.account, timestampMin, timestampMax: timestampMin + BigInt(q.span) * nsPerSecond, limit: q.limit, reversed: q.reversed };
            expect(page(flushing, filter)).toEqual(page(inMemory, filter));
            expect(page(flushing, { accountId: q.account, limit: q.limit, reversed: q.reversed })).toEqual(page(inMemory, { accountId: q.account, limit: q.limit, reversed: q.reversed }));
          }
        };
        check();
        flushing.restart(); // compares every account's full history before and after, byte for byte
        check();
      }),
      { numRuns: 30 },
    );
  });

  test('an account whose history spans many flushes pages through all of it once, both ways', () => {
    const { flushing, inMemory } = twins();
    let id = 100n;
    for (let round = 0; round < 50; round++) {
      for (const h of [flushing, inMemory]) h.advanceSeconds(1);
      const transfers = [transfer(id++, 1n, 2n, 1n), transfer(id++, 3n, 1n, 1n)];
      flushing.createTransfers(transfers);
      inMemory.createTransfers(transfers);
      if (round % 3 !== 2) flushing.flushHistory();
    }
    const walk = (h: LedgerHarness, reversed: boolean) => {
      const ids: bigint[] = [];
      let bound: bigint | undefined;
      for (;;) {
        const filter: HistoryFilterInput = reversed ? { accountId: 1n, limit: 7, reversed, timestampMax: bound } : { accountId: 1n, limit: 7, timestampMin: bound };
        const entries = h.history(filter);
        ids.push(...entries.map((e) => e.transfer.id));
        if (entries.length < 7) return ids;
        bound = reversed ? entries.at(-1)!.transfer.timestamp - 1n : entries.at(-1)!.transfer.timestamp + 1n;
      }
    };
    expect(walk(flushing, false)).toHaveLength(100);
    expect(walk(flushing, false)).toEqual(walk(inMemory, false));
    expect(walk(flushing, true)).toEqual([...walk(flushing, false)].reverse());
    expect(flushing.runBlocks.size).toBeGreaterThan(30);
  });

  test('no flush between a vote on cross-shard chains and its decision', () => {
    const h = new LedgerHarness();
    h.createAccounts([account(1n), account(2n)]);
    h.prepareChains(Operation.create_transfers, encodeTransfers([transfer(10n, 1n, 2n, 5n)]), Uint8Array.of(1), 7n);
    expect(h.flushHistory()).toBe(false);
    h.commitPrepared();
    expect(h.flushHistory()).toBe(true);
    expect(h.history({ accountId: 1n }).map((e) => e.transfer.id)).toEqual([10n]);
    h.restart();
  });
});
