// Issue #17: the id of a transfer recon posts by itself is derived from the statement row, so re-running a batch
// posts nothing twice: the same for the same channel, action and row, another for any of them changed; tagged.

import { describe, expect, it } from 'vitest';
import type { StatementRow } from '../../../src/core/recon/statement-row.js';
import { actionTransferId, reconActionIdTag } from '../../../src/recon/recon-actions.js';

const row = (fields: Partial<StatementRow>): StatementRow => ({
  rowNo: 1, locator: 'bill.csv:2', statementKey: 'bill', channelSerialNo: '4200001', merchantOrderNo: 'o1', refundNo: '', transactionTimeMs: null,
  bookingDate: 0, valueDate: 0, payer: '', amountMinor: 1n, direction: 'credit', feeMinor: 0n, currency: 'CNY', type: 'payment', typeRaw: '',
  status: 'success', statusRaw: '', reversal: false, groupKey: '', key128: 0n, ...fields,
});

describe('actionTransferId', () => {
  it('is the same for the same row, and another when the channel, the action or the row differs', () => {
    const id = actionTransferId('wechat', 'post_missing_credit', row({}));
    expect(id >> 96n).toBe(reconActionIdTag);
    expect(actionTransferId('wechat', 'post_missing_credit', row({ rowNo: 9, locator: 'other.csv:7' }))).toBe(id); // the serial number is the row's identity
    expect(actionTransferId('alipay', 'post_missing_credit', row({}))).not.toBe(id);
    expect(actionTransferId('wechat', 'post_fee_difference', row({}))).not.toBe(id);
    expect(actionTransferId('wechat', 'post_missing_credit', row({ channelSerialNo: '4200002' }))).not.toBe(id);
    expect(actionTransferId('wechat', 'post_missing_credit', row({ refundNo: 'r1' }))).not.toBe(id);
    const unnamed = actionTransferId('bank', 'post_missing_credit', row({ channelSerialNo: '' }));
    expect(actionTransferId('bank', 'post_missing_credit', row({ channelSerialNo: '', locator: 'bill.csv:3' }))).not.toBe(unnamed);
  });
});
