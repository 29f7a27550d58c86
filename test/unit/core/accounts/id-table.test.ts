// IdTable against a Map: random sets, overwrites, deletes (backward shift) and growth must agree.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdTable } from '../../../../src/core/accounts/id-table.js';
import { idKey, writeU128 } from '../../../../src/core/u128.js';

const view = new DataView(new ArrayBuffer(16));
function at(id: bigint): DataView {
  writeU128(view, 0, id);
  return view;
}

/** Two parts of 256 buckets: a few hundred ids make long probe chains (the real 256 parts would need ~30,000). */
const fewParts = 2;

describe('IdTable', () => {
  it('agrees with a Map under random set/delete/get, through growth', () => {
    // A small id space makes overwrites, deletes of present ids and probe-chain collisions common.
    const id = fc.oneof(fc.bigInt({ min: 1n, max: 3000n }), fc.bigInt({ min: 1n, max: (1n << 128n) - 1n }));
    const command = fc.tuple(fc.constantFrom('set', 'delete', 'get'), id, fc.integer({ min: 0, max: 2 ** 53 - 1 }));
    fc.assert(
      fc.property(fc.array(command, { minLength: 1000, maxLength: 4000 }), (commands) => {
        const table = new IdTable(0, fewParts);
        const model = new Map<string, number>();
        for (const [kind, key, value] of commands) {
          if (kind === 'set') {
            table.setAt(at(key), 0, value);
            model.set(idKey(key), value);
          } else if (kind === 'delete') {
            table.deleteAt(at(key), 0);
            model.delete(idKey(key));
          }
          expect(table.getAt(at(key), 0)).toBe(model.get(idKey(key)) ?? -1);
        }
        expect(table.size).toBe(model.size);
        for (const [key, value] of model) {
          const bytes = new DataView(new ArrayBuffer(16));
          for (let i = 0; i < 8; i++) bytes.setUint16(i * 2, key.charCodeAt(i), true);
          expect(table.getAt(bytes, 0)).toBe(value);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('inserts an id where its missed lookup ended only while that is still right (sets, deletes, growth in between)', () => {
    // Posting looks an id up and inserts it a moment later; the insert reuses the lookup's probe. Whatever runs in
    // between (other inserts, deletes that shorten probe chains, growth) must not put the id in the wrong bucket.
    const id = fc.bigInt({ min: 1n, max: 600n });
    const between = fc.array(fc.tuple(fc.boolean(), id), { maxLength: 4 });
    fc.assert(
      fc.property(fc.array(fc.tuple(id, between), { minLength: 1000, maxLength: 1500 }), (steps) => {
        const table = new IdTable(0, fewParts);
        const model = new Map<string, number>();
        let value = 0;
        for (const [key, others] of steps) {
          expect(table.getAt(at(key), 0)).toBe(model.get(idKey(key)) ?? -1);
          for (const [isDelete, other] of others) {
            if (isDelete) {
              table.deleteAt(at(other), 0);
              model.delete(idKey(other));
            } else {
              table.setAt(at(other), 0, ++value);
              model.set(idKey(other), value);
            }
          }
          table.setAt(at(key), 0, ++value);
          model.set(idKey(key), value);
        }
        expect(table.size).toBe(model.size);
        for (let key = 1n; key <= 600n; key++) expect(table.getAt(at(key), 0)).toBe(model.get(idKey(key)) ?? -1);
      }),
      { numRuns: 30 },
    );
  });

  it('keeps every id through many growths and deletes', () => {
    const table = new IdTable();
    const count = 300_000; // far past the initial 256 × 256 buckets: every part grows several times
    for (let i = 1; i <= count; i++) table.setAt(at(BigInt(i) * 0x9e3779b97f4a7c15n), 0, i);
    for (let i = 1; i <= count; i += 2) table.deleteAt(at(BigInt(i) * 0x9e3779b97f4a7c15n), 0);
    expect(table.size).toBe(count / 2);
    for (let i = 1; i <= count; i++) {
      expect(table.getAt(at(BigInt(i) * 0x9e3779b97f4a7c15n), 0)).toBe(i % 2 === 0 ? i : -1);
    }
  });

  it('refuses id zero, which marks empty buckets', () => {
    expect(() => new IdTable().setAt(at(0n), 0, 1)).toThrow(/id zero/);
  });
});
