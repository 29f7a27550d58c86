// Issue #17: OFX's one balance check, the chain across imports. A statement adjacent to its account's previous one
// (starting the day that one ended, or the next) closes at that LEDGERBAL plus its own transactions, or is refused
// with the difference; one with no previous, not adjacent, or in another currency is not chained.

import { describe, expect, it } from 'vitest';
import { isAdjacent, ofxChainLinks, ofxChainProblem, type OfxChainEnd } from '../../../../src/core/recon/ofx-chain.js';
import { readOfx } from '../../../../src/recon/ofx-reader.js';
import { writeOfx, type OfxOptions } from '../../../support/statement-writers/ofx.js';
import type { Movement, StatementSpec } from '../../../support/statement-writers/movement.js';

const options: OfxOptions = { version: 'xml-211', decimalComma: false, plusSign: false, dateOnly: false, encoding: 'utf-8', closeLeaves: false, kind: 'bank', otherStatement: true };
const movement = (serial: string, amountMinor: bigint, direction: 'credit' | 'debit'): Movement => ({
  reference: `ORD-${serial}`, serial, refundNo: '', amountMinor, direction, feeMinor: 0n, status: 'success', type: 'payment', time: '10:00:00', valueDate: '2026-12-01',
});
const spec: StatementSpec = { date: '2026-12-01', account: '4471001', currency: 'EUR', openingMinor: 10_000n };

function links(movements: Movement[], at: StatementSpec) {
  const [file] = writeOfx(movements, at, options);
  return ofxChainLinks(readOfx(new TextDecoder().decode(file!.bytes)), file!.name);
}

describe('OFX balance chain', () => {
  it('a statement gives its period, the sum of its transactions and its LEDGERBAL', () => {
    const read = links([movement('F1', 2_500n, 'credit'), movement('F2', 700n, 'debit')], spec);
    const ours = read.find((link) => link.account.endsWith('/4471001'))!;
    expect(ours).toMatchObject({ currency: 'EUR', startDate: 20261201, endDate: 20261201, entriesMinor: 1_800n, closingMinor: 11_800n });
    expect(ours.locator).toMatch(/^4471001-2026-12-01\.ofx:\d+ LEDGERBAL$/);
    expect(read).toHaveLength(2); // the other account's statement too: each account chains on its own
  });

  it('chains to the previous end when adjacent: the sum must add up, else refused with the difference', () => {
    const [next] = links([movement('F3', 1_000n, 'credit')], { ...spec, date: '2026-12-02', openingMinor: 11_800n }).filter((link) => link.account.endsWith('/4471001'));
    const previous: OfxChainEnd = { closingMinor: 11_800n, endDate: 20261201, currency: 'EUR', batch: 'rcb_1' };
    expect(ofxChainProblem(next!, previous)).toBeNull();
    expect(ofxChainProblem(next!, { ...previous, endDate: 20261202 })).toBeNull(); // starts the day the previous ended
    const broken = ofxChainProblem(next!, { ...previous, closingMinor: 11_700n });
    expect(broken).toMatchObject({ code: 'balance', expected: 12_700n, found: 12_800n, difference: 100n, currency: 'EUR' });
    expect(broken!.message).toContain('LEDGERBAL 128.00 ≠ 127.00');
    expect(broken!.message).toContain('batch rcb_1');
  });

  it('is not chained without a previous end, across a gap, or in another currency', () => {
    const [next] = links([movement('F3', 1_000n, 'credit')], { ...spec, date: '2026-12-05', openingMinor: 1n }).filter((link) => link.account.endsWith('/4471001'));
    expect(ofxChainProblem(next!, undefined)).toBeNull();
    expect(ofxChainProblem(next!, { closingMinor: 0n, endDate: 20261201, currency: 'EUR', batch: 'rcb_1' })).toBeNull();
    expect(ofxChainProblem(next!, { closingMinor: 0n, endDate: 20261204, currency: 'USD', batch: 'rcb_1' })).toBeNull();
    expect(ofxChainProblem(next!, { closingMinor: 0n, endDate: 20261204, currency: 'EUR', batch: 'rcb_1' })).not.toBeNull();
  });

  it('adjacent: the same day or the next, across month and year ends', () => {
    expect([isAdjacent(20261231, 20270101), isAdjacent(20260228, 20260301), isAdjacent(20240228, 20240229), isAdjacent(20261201, 20261201)]).toEqual([true, true, true, true]);
    expect([isAdjacent(20261201, 20261203), isAdjacent(20261202, 20261201), isAdjacent(20240228, 20240301)]).toEqual([false, false, false]);
  });
});
