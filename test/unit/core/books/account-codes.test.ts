// AccountCodes keeps small ids in a direct array and every other id in an id table: wherever an id went,
// it keeps the first code learnt for it, and codeIfOnShardAt answers exactly as shardOfIdAt + codeAt do.
// (Shard counts 1 and 3: the direct array keeps each id's shard for the count the map was made for.)

import { describe, expect, test } from 'vitest';
import { AccountCodes } from '../../../../src/core/books/account-codes.js';
import { eventOffset, journalEntryBytes, resultsOffset, writeJournalHeader } from '../../../../src/core/posting/journal-entry.js';
import { AccountLayout as A, resultBytes } from '../../../../src/core/layout.js';
import { batchEventsMax } from '../../../../src/core/limits.js';
import { Operation } from '../../../../src/core/operations.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { SystemAccountKind, systemAccountId } from '../../../../src/core/accounts/system-accounts.js';
import { writeU128 } from '../../../../src/core/u128.js';

/** A create_accounts entry opening `accounts` ([id, code, result]; result 0 when left out). */
function accountsEntry(accounts: readonly (readonly [bigint, number, number?])[]): Uint8Array {
  const count = accounts.length;
  const bytes = new Uint8Array(journalEntryBytes(Operation.create_accounts, count));
  const view = new DataView(bytes.buffer);
  writeJournalHeader(view, { operation: Operation.create_accounts, count, timestampBase: 1n, seq: 1, businessDay: 0 });
  accounts.forEach(([id, code, result = 0], i) => {
    writeU128(view, eventOffset(i) + A.id, id);
    view.setUint16(eventOffset(i) + A.code, code, true);
    view.setUint32(resultsOffset(count) + i * resultBytes, result, true);
  });
  return bytes;
}

function learnAll(codes: AccountCodes, accounts: readonly (readonly [bigint, number, number?])[]): void {
  for (let first = 0; first < accounts.length; first += batchEventsMax) codes.learn(accountsEntry(accounts.slice(first, first + batchEventsMax)));
}

function idView(id: bigint): DataView {
  const view = new DataView(new ArrayBuffer(16));
  writeU128(view, 0, id);
  return view;
}

const codeOf = (codes: AccountCodes, id: bigint): number => codes.codeAt(idView(id), 0);

describe('account codes', () => {
  const ids: { name: string; id: bigint }[] = [
    { name: 'a small id (direct array)', id: 5n },
    { name: 'an id past the direct bound', id: 10_000_000n },
    { name: 'an id of 2^32', id: 2n ** 32n },
    { name: 'an id with high words', id: 2n ** 100n + 7n },
  ];

  test.each(ids)('keep the first code learnt for $name', ({ id }) => {
    const codes = new AccountCodes(1);
    expect(codeOf(codes, id)).toBe(0);
    learnAll(codes, [[id, 11]]);
    learnAll(codes, [[id, 12]]);
    expect(codeOf(codes, id)).toBe(11);
  });

  test('learn only accounts whose result code is ok (a detail in the high 16 bits is still ok)', () => {
    const codes = new AccountCodes(1);
    learnAll(codes, [
      [1n, 3, 0x0002_0000],
      [2n, 4, 21],
      [3n, 5, 0x0002_0015],
    ]);
    expect([1n, 2n, 3n].map((id) => codeOf(codes, id))).toEqual([3, 0, 0]);
  });

  test('find an id learnt before the direct array grew past it, and keep its first code', () => {
    const codes = new AccountCodes(1);
    learnAll(codes, [[100_000n, 9]]);
    learnAll(codes, Array.from({ length: 30_000 }, (_, i) => [BigInt(i + 1), 1 + (i % 50)] as const));
    // 100,001 makes the direct array reach past 100,000, which stays in the table.
    learnAll(codes, [
      [100_001n, 12],
      [100_000n, 10],
    ]);
    expect(codeOf(codes, 100_000n)).toBe(9);
    expect(codeOf(codes, 100_001n)).toBe(12);
    expect(codeOf(codes, 29_999n)).toBe(1 + (29_998 % 50));
    expect(codeOf(codes, 30_001n)).toBe(0);
  });

  test('answer codeIfOnShardAt as shardOfIdAt and codeAt do, for learnt, unknown and system ids', () => {
    const shardCount = 3;
    const codes = new AccountCodes(shardCount);
    const learnt = [...Array.from({ length: 40 }, (_, i) => BigInt(i + 1)), 2n ** 32n + 1n, 2n ** 90n + 3n, 70_000n];
    learnAll(codes, learnt.map((id, i) => [id, 100 + i] as const));
    const unknown = [41n, 2n ** 64n, 99_999_999n];
    const system = [systemAccountId(SystemAccountKind.suspense, 1, 2, 0, shardCount), systemAccountId(SystemAccountKind.transitIn, 1, 0, 1, shardCount)];
    for (const id of [...learnt, ...unknown, ...system]) {
      for (let shard = 0; shard < shardCount; shard++) {
        const expected = shardOfId(id, shardCount) === shard ? codeOf(codes, id) : -1;
        expect(codes.codeIfOnShardAt(idView(id), 0, shard, -1)).toBe(expected);
      }
    }
    expect(system.map((id) => codeOf(codes, id))).toEqual([9200, 9100]);
  });
});

describe('AccountCodes kept and restored', () => {
  test('a map restored from takeLearnt answers as the one that learnt them, direct and table ids alike', () => {
    const shardCount = 3;
    const codes = new AccountCodes(shardCount, { keepLearnt: true });
    const accounts = [...Array.from({ length: 50 }, (_, i) => [BigInt(i + 1), 100 + i] as const), [2n ** 32n + 1n, 7] as const, [2n ** 90n + 3n, 8] as const, [5_000_000n, 9] as const];
    learnAll(codes, accounts.slice(0, 20));
    const first = codes.takeLearnt();
    learnAll(codes, [...accounts.slice(20), [3n, 999]]); // 3 again: keeps its first code, not learnt twice
    const learnt = [...first, ...codes.takeLearnt()];
    expect(learnt).toHaveLength(accounts.length);
    expect(codes.takeLearnt()).toEqual([]);

    const restored = new AccountCodes(shardCount);
    restored.restore(learnt.map(({ id, word }) => ({ id: id.slice(), word })).reverse());
    expect(restored.size).toBe(codes.size);
    for (const id of [...accounts.map(([id]) => id), 51n, 2n ** 64n]) {
      expect(codeOf(restored, id)).toBe(codeOf(codes, id));
      for (let shard = 0; shard < shardCount; shard++) expect(restored.codeIfOnShardAt(idView(id), 0, shard, -1)).toBe(codes.codeIfOnShardAt(idView(id), 0, shard, -1));
    }
  });

  test('restore refuses an account named twice, or a word for another shard count', () => {
    const codes = new AccountCodes(2, { keepLearnt: true });
    learnAll(codes, [[1n, 5]]);
    const [one] = codes.takeLearnt();
    expect(() => new AccountCodes(2).restore([one!, one!])).toThrow(/named once/);
    expect(() => new AccountCodes(1).restore([{ id: one!.id, word: (1 << 17) | 6 }])).toThrow(/this shard count/);
  });
});
