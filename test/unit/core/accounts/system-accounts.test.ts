// System account ids (system-accounts.ts): generation 0 keeps the ids stores already hold (a u32 nonce search gave
// nonces far below 2^16), and every generation routes to its owner shard and reads back its number.

import { describe, expect, it } from 'vitest';
import { SystemAccountKind, generationOfSystemIdAt, isSystemIdAt, systemAccountId, systemGenerationsMax, writeSystemAccountId, type SystemAccountKindNumber } from '../../../../src/core/accounts/system-accounts.js';
import { shardOfIdAt } from '../../../../src/core/routing.js';
import { readU128 } from '../../../../src/core/u128.js';

/** The id as written before generations: nonce a u32 over bytes 0..3, byte 7 zero. */
function idBeforeGenerations(kind: SystemAccountKindNumber, ledger: number, from: number, to: number, shardCount: number): bigint {
  const view = new DataView(new ArrayBuffer(16));
  const owner = kind === SystemAccountKind.transitIn ? to : from;
  view.setUint8(4, from);
  view.setUint8(5, kind === SystemAccountKind.suspense ? 0 : to);
  view.setUint8(6, kind);
  view.setUint32(8, ledger, true);
  view.setUint32(12, 0xffffffff, true);
  for (let nonce = 0; ; nonce++) {
    view.setUint32(0, nonce, true);
    if (shardCount === 1 || shardOfIdAt(view, 0, shardCount) === owner) return readU128(view, 0);
  }
}

const kinds = [SystemAccountKind.transitOut, SystemAccountKind.transitIn, SystemAccountKind.suspense] as const;

describe('system account ids', () => {
  it('are unchanged for generation 0 at every shard count', () => {
    for (const shardCount of [1, 2, 3, 4, 7, 16, 63, 64]) {
      for (const kind of kinds) {
        for (const ledger of [1, 840, 0xffff_ffff]) {
          const from = shardCount - 1;
          const to = kind === SystemAccountKind.suspense ? 0 : Math.floor(shardCount / 2);
          expect(systemAccountId(kind, ledger, from, to, shardCount)).toBe(idBeforeGenerations(kind, ledger, from, to, shardCount));
        }
      }
    }
  });

  it('route every generation to its owner and read its number back', () => {
    const view = new DataView(new ArrayBuffer(16));
    const seen = new Set<bigint>();
    for (const generation of [0, 1, 2, 255, 256, 65_535, 65_536, systemGenerationsMax - 1]) {
      for (const kind of kinds) {
        writeSystemAccountId(view, 0, kind, 9, 5, 2, 8, generation);
        expect(isSystemIdAt(view, 0)).toBe(true);
        expect(generationOfSystemIdAt(view, 0)).toBe(generation);
        expect(shardOfIdAt(view, 0, 8)).toBe(kind === SystemAccountKind.transitIn ? 2 : 5);
        expect(view.getUint8(6)).toBe(kind);
        seen.add(readU128(view, 0));
      }
    }
    expect(seen.size).toBe(8 * kinds.length);
    expect(() => writeSystemAccountId(view, 0, SystemAccountKind.transitOut, 9, 5, 2, 8, systemGenerationsMax)).toThrow(/generation/);
  });
});
