// newId: 128-bit ids, the creation millisecond in the top 48 bits, strictly increasing within a process.

import { describe, expect, it, vi, afterEach } from 'vitest';
import { newId } from '../../../src/client/ids.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('newId', () => {
  it('puts the creation time in ms in the top 48 bits', () => {
    const before = BigInt(Date.now());
    const id = newId();
    const after = BigInt(Date.now());
    expect(id >> 80n).toBeGreaterThanOrEqual(before);
    expect(id >> 80n).toBeLessThanOrEqual(after);
    expect(id).toBeLessThan(2n ** 128n);
    expect(id).toBeGreaterThan(0n);
  });

  it('strictly increases, even for many ids in the same millisecond', () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    const ids = Array.from({ length: 10_000 }, () => newId());
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe(ids[i - 1] + 1n);
  });

  it('keeps increasing when the clock steps back', () => {
    const now = vi.spyOn(Date, 'now').mockReturnValue(1_800_000_000_000);
    const first = newId();
    now.mockReturnValue(1_799_999_999_000);
    const second = newId();
    expect(second).toBeGreaterThan(first);
    expect(second >> 80n).toBe(1_800_000_000_000n);
  });

  it('draws fresh random bits in each new millisecond', () => {
    const now = vi.spyOn(Date, 'now').mockReturnValue(1_900_000_000_000);
    const a = newId();
    now.mockReturnValue(1_900_000_000_001);
    const b = newId();
    const mask80 = (1n << 80n) - 1n;
    expect(b >> 80n).toBe((a >> 80n) + 1n);
    expect(b & mask80).not.toBe((a & mask80) + 1n);
  });
});
