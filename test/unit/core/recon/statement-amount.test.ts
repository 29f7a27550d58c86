// Issue #17: statement amounts are read in one pass over their characters (a bill reads millions). The rules stay
// those written as regular expressions: digits, at most one decimal mark with digits before it, digits past the
// scale only zeros. Checked against that plain reading on random text, and at the edges of exact JS numbers.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readStatementAmount, type AmountReading } from '../../../../src/core/recon/statement-amount.js';

function byExpressions(text: string, scale: number, mark: ',' | '.'): AmountReading {
  const at = text.indexOf(mark);
  const whole = at < 0 ? text : text.slice(0, at);
  const fraction = at < 0 ? '' : text.slice(at + 1);
  if (!/^[0-9]+$/.test(whole) || !/^[0-9]*$/.test(fraction)) return { refused: `${JSON.stringify(text)} is no amount (digits and one "${mark}")` };
  if (fraction.length > scale && /[1-9]/.test(fraction.slice(scale))) return { refused: `${JSON.stringify(text)} has more decimals than the currency's ${scale}: refusing to round money` };
  return { minor: BigInt(whole + fraction.slice(0, scale).padEnd(scale, '0')), withoutMark: at < 0 };
}

describe('readStatementAmount', () => {
  it('reads as the regular expressions do, on random text', () => {
    const text = fc.array(fc.constantFrom('0', '0', '1', '5', '9', '.', ',', '-', ' ', 'a'), { maxLength: 24 }).map((chars) => chars.join(''));
    fc.assert(fc.property(text, fc.integer({ min: 0, max: 4 }), fc.constantFrom(',' as const, '.' as const), (amount, scale, mark) => {
      expect(readStatementAmount(amount, scale, mark)).toEqual(byExpressions(amount, scale, mark));
    }), { numRuns: 5000 });
  });

  it('is exact past the digits a JS number holds', () => {
    for (const text of ['999999999999999.99', '9007199254740993', '12345678901234567890.5', '0000000000000000001.00', '99999999999999.9']) {
      expect(readStatementAmount(text, 2, '.')).toEqual(byExpressions(text, 2, '.'));
    }
  });
});
