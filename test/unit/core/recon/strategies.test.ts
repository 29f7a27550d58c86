// Issue #17: the strategy table — the most specific rule wins, ties by file order, an amount bound turns an action
// into hold, an action only where it fits what matching found — and the transfers actions become, on both sides of
// an asset and a liability clearing account.

import { describe, expect, it } from 'vitest';
import { parseChannels } from '../../../../src/core/recon/channel-config-parse.js';
import type { ChannelConfig, StrategyRule } from '../../../../src/core/recon/channel-config.js';
import type { ReconRecord } from '../../../../src/core/recon/matcher.js';
import { actionTransfer, decide, ruleFor } from '../../../../src/core/recon/strategies.js';
import { TransferFlags } from '../../../../src/core/types.js';

const rule = (type: StrategyRule['type'], ours: StrategyRule['ours'], theirs: StrategyRule['theirs'], action: StrategyRule['action'], amountMaxMinor: bigint | null = null): StrategyRule => ({ type, ours, theirs, action, amountMaxMinor });

const record = (fields: Partial<ReconRecord>): ReconRecord => ({
  outcome: 'missing_on_platform', key128: 77n, direction: 'credit', type: 'payment', rowNos: [1], transferIds: [], feeTransfers: 0, theirsMinor: 500n, oursMinor: 0n,
  theirs: 'success', ours: 'none', differences: [], ...fields,
});

function channel(direction: 'asset' | 'liability'): ChannelConfig {
  return parseChannels({
    version: 1,
    channels: [{
      name: 'c', format: 'mt940', currency: 'EUR', ledger: 978, timeZone: 'UTC', direction,
      accounts: { clearing: '10', unidentified: '20', fees: '30' }, keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }],
      ledgerCodes: { payment: [1001], refund: [], fee: [6001] },
    }],
  }).channels[0]!;
}

describe('the strategy table', () => {
  it('takes the most specific rule, then the first in the file', () => {
    const rules = [rule('*', '*', '*', 'hold'), rule('payment', '*', 'success', 'post_missing_credit'), rule('payment', 'none', 'success', 'hold'), rule('payment', 'none', '*', 'post_pending')];
    expect(ruleFor(rules, 'payment', 'none', 'success')).toBe(rules[2]);
    expect(ruleFor(rules, 'payment', 'posted', 'success')).toBe(rules[1]);
    expect(ruleFor(rules, 'refund', 'posted', 'refund')).toBe(rules[0]);
    expect(ruleFor([rule('payment', '*', '*', 'hold'), rule('*', 'none', '*', 'post_missing_credit')], 'payment', 'none', 'failed')?.action).toBe('hold');
    expect(ruleFor([], 'payment', 'none', 'success')).toBeNull();
  });

  it('acts only where the action fits what matching found, and holds above the amount bound', () => {
    const missing = [rule('payment', 'none', 'success', 'post_missing_credit', 1000n)];
    expect(decide(missing, record({}))).toEqual({ action: 'post_missing_credit' });
    expect(decide(missing, record({ theirsMinor: 1001n }))).toMatchObject({ action: 'hold', reason: expect.stringContaining('amountMaxMinor') });
    expect(decide(missing, record({ direction: 'debit' }))).toMatchObject({ action: 'hold', reason: 'post_missing_credit does not fit a missing_on_platform' });
    expect(decide(missing, record({ rowNos: [], theirs: null }))).toMatchObject({ action: 'hold' });
    const settle = [rule('*', 'pending', 'success', 'post_pending'), rule('*', 'pending', 'failed', 'void_pending')];
    expect(decide(settle, record({ outcome: 'status_mismatch', ours: 'pending', transferIds: [5n] }))).toEqual({ action: 'post_pending' });
    expect(decide(settle, record({ outcome: 'status_mismatch', ours: 'pending', theirs: 'failed', transferIds: [5n] }))).toEqual({ action: 'void_pending' });
    expect(decide(settle, record({ outcome: 'status_mismatch', ours: 'pending', transferIds: [5n, 6n] }))).toMatchObject({ action: 'hold' });
    // A hold whose fee is booked: the fee posting is no second hold.
    expect(decide(settle, record({ outcome: 'status_mismatch', ours: 'pending', transferIds: [5n, 6n], feeTransfers: 1 }))).toEqual({ action: 'post_pending' });
    expect(decide([rule('*', '*', '*', 'post_refund')], record({}))).toMatchObject({ action: 'hold', reason: 'post_refund does not fit a missing_on_platform' });
    expect(decide([rule('refund', 'none', 'refund', 'post_refund')], record({ direction: 'debit', type: 'refund', theirs: 'refund' }))).toEqual({ action: 'post_refund' });
  });

  it('turns actions into transfers on the right sides of the clearing account', () => {
    expect(actionTransfer('post_missing_credit', record({}), channel('asset'), null)).toEqual({ debitAccountId: 10n, creditAccountId: 20n, amount: 500n, ledger: 978, code: 1001, flags: 0, pendingId: 0n, userData128: 77n });
    expect(actionTransfer('post_missing_credit', record({}), channel('liability'), null)).toMatchObject({ debitAccountId: 20n, creditAccountId: 10n });
    const feeTaken = record({ outcome: 'fee_mismatch', differences: [{ field: 'fee', ours: '3', theirs: '5', differenceMinor: 2n }] });
    expect(actionTransfer('post_fee_difference', feeTaken, channel('asset'), null)).toMatchObject({ debitAccountId: 30n, creditAccountId: 10n, amount: 2n, code: 6001 });
    const feeReturned = record({ outcome: 'fee_mismatch', differences: [{ field: 'fee', ours: '5', theirs: '3', differenceMinor: -2n }] });
    expect(actionTransfer('post_fee_difference', feeReturned, channel('asset'), null)).toMatchObject({ debitAccountId: 10n, creditAccountId: 30n, amount: 2n });
    const hold = { id: 5n, debitAccountId: 10n, creditAccountId: 40n, ledger: 978, code: 1001 };
    expect(actionTransfer('void_pending', record({ outcome: 'status_mismatch' }), channel('asset'), hold)).toMatchObject({ flags: TransferFlags.void_pending, pendingId: 5n, amount: 0n, creditAccountId: 40n });
    expect(actionTransfer('post_pending', record({ outcome: 'status_mismatch' }), channel('asset'), null)).toEqual({ reason: 'our hold was not found' });
    // A refund reverses its payment: the mirror of the original's accounts, the refund code, the refunded amount.
    const payment = { id: 9n, debitAccountId: 10n, creditAccountId: 40n, ledger: 978, code: 1001 };
    expect(actionTransfer('post_refund', record({ direction: 'debit', theirsMinor: 120n }), channel('asset'), payment)).toEqual({
      debitAccountId: 40n, creditAccountId: 10n, amount: 120n, ledger: 978, code: 1001, flags: TransferFlags.reversal, pendingId: 9n, userData128: 77n,
    });
    expect(actionTransfer('post_refund', record({ direction: 'debit' }), channel('asset'), null)).toEqual({ reason: 'no single posted payment of this key to reverse' });
  });
});
