// indexesAmong (issue #16): a query naming two indexed fields keeps, of each run of the first, the events the
// second field's run of the same entry holds — read in place from the stored run, never copied.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { indexesAmong } from '../../../../src/core/posting/transfer-index.js';

const ascending = (values: number[]): Uint16Array => Uint16Array.from([...new Set(values)].sort((a, b) => a - b));

describe('indexesAmong', () => {
  test('keeps exactly the indexes both ascending lists hold, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 80 }), (a, b) => {
        const among = ascending(a);
        const run = ascending(b);
        const both = [...among].filter((index) => run.includes(index));
        const kept = indexesAmong(among, run.length, (k) => run[k]!);
        expect([...kept]).toEqual(both);
        // All of them kept: the same list back, nothing made.
        if (both.length === among.length) expect(kept).toBe(among);
      }),
      { numRuns: 500 },
    );
  });

  test('an empty run keeps none; an empty list stays empty', () => {
    expect([...indexesAmong(Uint16Array.of(1, 2), 0, () => 0)]).toEqual([]);
    expect(indexesAmong(new Uint16Array(0), 3, (k) => k).length).toBe(0);
    expect([...indexesAmong(Uint16Array.of(0, 8190), 2, (k) => [0, 8190][k]!)]).toEqual([0, 8190]);
  });
});
