// The client's encoders of day-taking requests refuse a day that is no real date (a TypeError, before
// anything is sent), as the server would (body_invalid); 0 only where the operation gives it a meaning.

import { describe, expect, it } from 'vitest';
import { encodeBalanceAtDay, encodeDay, encodeLedgerDay, encodeStatement } from '../../../src/client/books.js';

describe('client day arguments', () => {
  it.each([20261301, 20260230, 20250229, 18991231, 202612])('refuses %i', (day) => {
    expect(() => encodeDay(day)).toThrow(TypeError);
    expect(() => encodeBalanceAtDay(1n, day)).toThrow(TypeError);
    expect(() => encodeStatement(1n, day, day, 10)).toThrow(TypeError);
    expect(() => encodeLedgerDay(1, day)).toThrow(TypeError);
  });

  it('takes real dates, and 0 where it means the next day or everything booked', () => {
    expect(new DataView(encodeDay(20240229).buffer).getUint32(0, true)).toBe(20240229);
    expect(new DataView(encodeDay(0).buffer).getUint32(0, true)).toBe(0);
    expect(new DataView(encodeLedgerDay(156, 0).buffer).getUint32(4, true)).toBe(0);
    expect(() => encodeBalanceAtDay(1n, 0)).toThrow(TypeError);
  });
});
