// The sustained bench's old transfers: a uniform reservoir of the transfers offered while open, nothing
// after it closes; and distinct random picks out of it for the lookups.
import { describe, expect, it } from 'vitest';
import { OldIdReservoir, pickDistinct } from '../../../bench/load/old-ids.js';
import { TransferSource } from '../../../bench/load/transfer-source.js';
import { decodeTransfer } from '../../../src/core/wire/records.js';

/** A seeded below(n) for the reservoir. */
function seeded(seed: number): (bound: number) => number {
  let x = seed;
  return (bound) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return Math.floor(((x >>> 0) / 2 ** 32) * bound);
  };
}

describe('OldIdReservoir', () => {
  it('keeps the id and the debit account of one transfer of each body, the first `capacity` whole', () => {
    const source = new TransferSource(100, 2, 7);
    const reservoir = new OldIdReservoir(10, seeded(3));
    source.idReservoirs = [reservoir];
    const sent = new Map<bigint, bigint>();
    for (let body = 0; body < 10; body++) {
      const bytes = source.nextBody(50);
      for (let i = 0; i < 50; i++) {
        const t = decodeTransfer(new DataView(bytes.buffer), i * 128);
        sent.set(t.id, t.debitAccountId);
      }
    }
    expect(reservoir.ids.length).toBe(10);
    reservoir.ids.forEach((id, i) => expect(sent.get(id)).toBe(reservoir.debitAccountIds[i]));
  });

  it('stops taking offers once closed', () => {
    const source = new TransferSource(100, 2, 7);
    const reservoir = new OldIdReservoir(100, seeded(3));
    source.idReservoirs = [reservoir];
    source.nextBody(10);
    reservoir.close();
    source.nextBody(10);
    expect(reservoir.open).toBe(false);
    expect(reservoir.ids.length).toBe(1);
  });

  it('made waiting, takes offers only from start() until closed (the warm-up ids after the old ones)', () => {
    const source = new TransferSource(100, 2, 7);
    const old = new OldIdReservoir(100, seeded(3));
    const warmup = new OldIdReservoir(100, seeded(4), false);
    source.idReservoirs = [old, warmup];
    source.nextBody(10);
    old.close();
    warmup.start();
    source.nextBody(10);
    source.nextBody(10);
    warmup.close();
    warmup.start(); // closed stays closed
    source.nextBody(10);
    expect([old.ids.length, warmup.ids.length]).toEqual([1, 2]);
    expect(warmup.ids).not.toContain(old.ids[0]);
  });

  it('gives every offer the same chance to be kept', () => {
    const capacity = 10;
    const offers = 100;
    const keptCount = new Array<number>(offers).fill(0);
    const below = seeded(11);
    for (let trial = 0; trial < 2000; trial++) {
      const reservoir = new OldIdReservoir(capacity, below);
      const words = new Uint32Array(32);
      for (let n = 0; n < offers; n++) {
        words[0] = n;
        reservoir.offer(words, 0);
      }
      for (const id of reservoir.ids) keptCount[Number(id)]++;
    }
    // Each offer is kept with probability 0.1: 200 of 2000 trials expected; a biased reservoir misses by far more.
    for (const count of keptCount) {
      expect(count).toBeGreaterThan(140);
      expect(count).toBeLessThan(260);
    }
  });

  it('refuses a capacity below 1', () => {
    expect(() => new OldIdReservoir(0, seeded(1))).toThrow(RangeError);
  });
});

describe('pickDistinct', () => {
  it('picks `count` distinct items of the pool', () => {
    const pool = Array.from({ length: 50 }, (_, i) => BigInt(i));
    const picked = pickDistinct(pool, 20, seeded(5));
    expect(picked.length).toBe(20);
    expect(new Set(picked).size).toBe(20);
    for (const p of picked) expect(pool).toContain(p);
    expect(pool).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i)));
  });

  it('returns the whole pool, shuffled, when it is smaller than `count`', () => {
    expect(pickDistinct([1, 2, 3], 100, seeded(5)).sort()).toEqual([1, 2, 3]);
    expect(pickDistinct([], 100, seeded(5))).toEqual([]);
  });
});

describe('a request refused whole (overloaded)', () => {
  it('comes out of every sum of the source, its samples marked refused, its old id forgotten', () => {
    const source = new TransferSource(100, 2, 7);
    source.workload = 'hot-credit';
    const reservoir = new OldIdReservoir(1000, seeded(5));
    source.idReservoirs = [reservoir];
    const sums = () => ({
      amount: source.amountIssuedTotal,
      cross: source.crossShardTransfersIssued,
      pairs: [...source.crossAmountByPair],
      debits: [...source.expectedDebits!],
      credits: [...source.expectedCredits!],
      kept: [...reservoir.ids],
    });
    source.nextBody(40);
    const before = sums();
    const refused = source.nextBody(40);
    expect(source.amountIssuedTotal).toBeGreaterThan(before.amount);
    source.takeBackRequest(refused);
    expect(sums()).toEqual(before);
    expect(source.transfersRefusedWhole).toBe(40);
    const refusedIds = new Set(Array.from({ length: 40 }, (_, i) => decodeTransfer(new DataView(refused.buffer), i * 128).id));
    for (const sample of source.samples) expect(sample.refused).toBe(refusedIds.has(sample.id));
  });
});
