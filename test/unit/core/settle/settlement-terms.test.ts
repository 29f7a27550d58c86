// A merchant's settlement terms: the cycle written canonically, and every field refused with its name.

import { describe, expect, it } from 'vitest';
import { SettleError } from '../../../../src/core/settle/settle-errors.js';
import { buildMerchantTerms, buildTermsTable } from '../../../../src/core/settle/settlement-terms.js';
import { refusal } from './refusal.js';
import { termsSpec } from './settle-fixtures.js';

const refused = (run: () => unknown): SettleError => refusal(SettleError, run);

describe('buildMerchantTerms', () => {
  it.each([
    ['T1', 'T+1'],
    ['T+1', 'T+1'],
    ['D0', 'D0'],
    ['D7', 'D7'],
  ])('writes the cycle %s as %s', (cycle, text) => expect(buildMerchantTerms(termsSpec('m-1', { cycle })).cycleText).toBe(text));

  it.each([
    ['an empty merchant id', { merchantId: '' }, 'merchantId must be 1 to 64 characters'],
    ['a negative minimum', { minimumPayoutMinor: -1n }, 'minimumPayoutMinor -1 must be a bigint'],
    ['a minimum as number', { minimumPayoutMinor: 100 as unknown as bigint }, 'minimumPayoutMinor 100 must be a bigint'],
    ['a reserve over 100%', { reserveBps: 10_001 }, 'reserveBps 10001 must be a whole number from 0 to 10000'],
    ['a fractional reserve', { reserveBps: 1.5 }, 'reserveBps 1.5 must be a whole number'],
    ['a reserve held too long', { reserveBps: 100, reserveDays: 367 }, 'reserveDays 367 must be a whole number from 0 to 366'],
    ['a reserve held no day', { reserveBps: 100, reserveDays: 0 }, 'reserveDays must be at least 1 when a reserve is held'],
  ])('refuses %s', (_what, change, words) => {
    const error = refused(() => buildMerchantTerms(termsSpec('m-1', change)));
    expect(error.code).toBe('terms_invalid');
    expect(error.message).toContain(words);
  });

  it('refuses a cycle the calendar module does not know, and a merchant given twice', () => {
    expect(refused(() => buildMerchantTerms(termsSpec('m-1', { cycle: 'W1' }))).code).toBe('cycle_invalid');
    expect(refused(() => buildTermsTable([termsSpec('m-1'), termsSpec('m-1')])).message).toContain('merchant m-1 is given twice');
  });
});
