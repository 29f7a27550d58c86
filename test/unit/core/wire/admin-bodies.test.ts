// Integer fields of admin JSON bodies are read by value: every JSON spelling of a whole number in range is
// that number; fractions, numbers beyond the range (or past 2^53, where JSON numbers stop being exact),
// strings, booleans and null are body_invalid — never rounded, clamped or wrapped.

import { describe, expect, it } from 'vitest';
import { integerField, parseAdminJson } from '../../../../src/core/wire/admin-bodies.js';
import { TallyError } from '../../../../src/core/errors.js';

const utf8 = new TextEncoder();
const read = (text: string, min: number, max: number): number => integerField(parseAdminJson(utf8.encode(`{"limit":${text}}`), 'test'), 'limit', min, max, -1, 'test');

describe('integer fields of admin bodies', () => {
  it.each([
    ['1', 1],
    ['1.0', 1],
    ['1e0', 1],
    ['10E-1', 1],
    ['0.1e1', 1],
    ['100', 100],
    ['1e2', 100],
    ['-0', 0],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('read %s as %d', (text, value) => {
    const got = read(text, 0, Number.MAX_SAFE_INTEGER);
    expect(got).toBe(value);
    expect(Object.is(got, -0)).toBe(false);
  });

  it.each(['1.5', '-1', '101', '1e400', '9007199254740992', '9007199254740993', '"1"', 'true', 'null', '[1]', '{}'])('refuse %s as body_invalid', (text) => {
    expect(() => read(text, 0, 100)).toThrow(TallyError);
    expect(() => read(text, 0, 100)).toThrow(/body_invalid: test: field limit must be an integer in 0\.\.100/);
  });

  it.each(['9007199254740992', '9007199254740993', '1e16'])('refuse %s, past the exact integers, whatever the range', (text) => {
    expect(() => read(text, 0, Number.MAX_SAFE_INTEGER)).toThrow(/body_invalid/);
  });

  it('answer the fallback when the field is absent', () => {
    expect(integerField({}, 'limit', 1, 10, 7, 'test')).toBe(7);
  });
});
