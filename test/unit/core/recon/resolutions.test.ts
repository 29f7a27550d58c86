// Issue #17: a manual resolution books an exception's difference (theirs − ours) between the clearing account and
// the account a person names — raising the clearing account where the channel holds more than our books, lowering it
// where it holds less — on an asset and a liability clearing account; amounts read exactly; nothing when they agree.

import { describe, expect, it } from 'vitest';
import type { ReconException } from '../../../../src/core/recon/batches.js';
import { parseChannels } from '../../../../src/core/recon/channel-config-parse.js';
import { minorOfAmount, resolutionTransfer } from '../../../../src/core/recon/resolutions.js';

const channel = (direction: 'asset' | 'liability') => parseChannels({
  version: 1,
  channels: [{ name: 'c', format: 'mt940', currency: 'EUR', ledger: 978, timeZone: 'UTC', direction, accounts: { clearing: '10' }, keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }] }],
}).channels[0]!;

const exception = (direction: 'credit' | 'debit', theirs: string, ours: string): ReconException => ({
  n: 1, outcome: 'amount_mismatch', code: 9, direction, theirs, ours, theirStatus: 'success', ourStatus: 'posted', differences: [], rows: [], transferIds: [],
});

describe('resolutionTransfer', () => {
  it('raises the clearing account where the channel holds more, lowers it where it holds less', () => {
    const asset = channel('asset');
    expect(resolutionTransfer(exception('credit', '12.50', '12.00'), asset, 99n, 7, 2)).toEqual({ debitAccountId: 10n, creditAccountId: 99n, amount: 50n, ledger: 978, code: 7 });
    expect(resolutionTransfer(exception('credit', '0.00', '20.44'), asset, 99n, 7, 2)).toMatchObject({ debitAccountId: 99n, creditAccountId: 10n, amount: 2044n });
    // Money out at the channel: paid out more than we booked → the channel holds less.
    expect(resolutionTransfer(exception('debit', '5.00', '0.00'), asset, 99n, 7, 2)).toMatchObject({ debitAccountId: 99n, creditAccountId: 10n, amount: 500n });
    expect(resolutionTransfer(exception('credit', '12.50', '12.00'), channel('liability'), 99n, 7, 2)).toMatchObject({ debitAccountId: 99n, creditAccountId: 10n });
    expect(resolutionTransfer(exception('credit', '3.00', '3.00'), asset, 99n, 7, 2)).toBeNull();
  });

  it('reads amounts exactly and refuses what is no amount at the scale', () => {
    expect(minorOfAmount('-12.5', 2)).toBe(-1250n);
    expect(minorOfAmount('7', 2)).toBe(700n);
    expect(minorOfAmount('92233720368547758.07', 2)).toBe(9223372036854775807n);
    expect(() => minorOfAmount('1.005', 2)).toThrow(RangeError);
    expect(() => minorOfAmount('1e3', 2)).toThrow(RangeError);
  });
});
