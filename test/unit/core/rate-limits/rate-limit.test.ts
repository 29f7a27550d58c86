// The token bucket behind the per-key rate limit: a second's worth of burst, refilled at the rate, a request
// taken whole or not at all, and an honest wait for the caller. Time is passed in; nothing sleeps.

import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../../src/core/rate-limits/rate-limit.js';

describe('TokenBucket', () => {
  it('starts full: a second of events goes at once, then nothing', () => {
    const bucket = new TokenBucket(100, 0);
    expect(bucket.take(60, 0)).toBe(0);
    expect(bucket.take(40, 0)).toBe(0);
    expect(bucket.available(0)).toBe(0);
    expect(bucket.take(1, 0)).toBe(10); // 100 events/s = one per 10 ms
  });

  it('refuses a request whole and says how long until it fits', () => {
    const bucket = new TokenBucket(10, 1_000);
    expect(bucket.take(10, 1_000)).toBe(0);
    expect(bucket.take(5, 1_000)).toBe(500);
    expect(bucket.take(5, 1_250)).toBe(250); // the refusal took nothing: 2.5 events are there, 5 needed
    expect(bucket.take(5, 1_500)).toBe(0);
    expect(bucket.available(1_500)).toBe(0);
  });

  it('refills fractions of an event exactly (tokens are kept in milli-events)', () => {
    const bucket = new TokenBucket(3, 0);
    expect(bucket.take(3, 0)).toBe(0);
    for (let ms = 1; ms <= 333; ms++) bucket.available(ms); // 333 tiny refills of 3 milli-events each
    expect(bucket.take(1, 333)).toBe(1); // 999 milli-events: one more ms
    expect(bucket.take(1, 334)).toBe(0);
  });

  it('holds at most one second of events, however long it was idle', () => {
    const bucket = new TokenBucket(50, 0);
    expect(bucket.take(50, 0)).toBe(0);
    expect(bucket.available(10 * 24 * 3_600_000)).toBe(50);
    expect(bucket.take(51, 10 * 24 * 3_600_000)).toBe(Number.POSITIVE_INFINITY);
  });

  it('answers Infinity for a request bigger than a second of events: it can never be taken', () => {
    const bucket = new TokenBucket(100, 0);
    expect(bucket.take(101, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(bucket.available(0)).toBe(100);
  });

  it('refills nothing while the clock stands still or steps back', () => {
    const bucket = new TokenBucket(1000, 5_000);
    expect(bucket.take(1000, 5_000)).toBe(0);
    expect(bucket.available(4_000)).toBe(0);
    expect(bucket.available(5_000)).toBe(0);
    expect(bucket.available(5_001)).toBe(1);
  });

  it.each([
    ['a rate of 0', () => new TokenBucket(0, 0)],
    ['a fractional rate', () => new TokenBucket(1.5, 0)],
    ['a rate past eventsPerSecondMax', () => new TokenBucket(2e9, 0)],
    ['fractional time', () => new TokenBucket(1, 0.5)],
    ['a request of 0 events', () => new TokenBucket(1, 0).take(0, 0)],
  ])('asserts on %s', (_name, act) => {
    expect(act).toThrow(/assertion failed/);
  });
});
