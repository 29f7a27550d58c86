// Issue #17: checked OFX/QFX statements as standard rows. One row per STMTTRN: FITID the channel's serial, REFNUM
// (else CHECKNUM) ours, |TRNAMT| the amount and its sign the direction, TRNTYPE the type (interest and fees by code,
// transfers by sign); DTPOSTED the booking date, DTAVAIL (else DTPOSTED) the value date; the time from DTUSER, else
// DTPOSTED, when it states one, in the zone it states (none: UTC, as OFX says), null for dates alone.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OfxStatement } from '../../../../src/core/recon/ofx.js';
import { rowsFromOfx } from '../../../../src/core/recon/rows-from-ofx.js';
import { readOfx, readOfxHeader } from '../../../../src/recon/ofx-reader.js';

const dir = join(import.meta.dirname, '../../../fixtures/statements/ofx');
function statements(name: string): OfxStatement[] {
  const bytes = readFileSync(join(dir, name));
  const { encoding } = readOfxHeader(new TextDecoder('latin1').decode(bytes.subarray(0, 1024)));
  return readOfx(new TextDecoder(encoding, { fatal: true }).decode(bytes));
}

describe('rows from OFX', () => {
  it('SGML bank statement: five rows, every field', () => {
    const { rows, problems } = rowsFromOfx(statements('bank-sgml-102.ofx'), 'b.ofx');
    expect(problems).toEqual([]);
    expect(rows).toHaveLength(5);
    expect(rows[0]).toEqual({
      rowNo: 0, locator: 'b.ofx:43 STMTTRN', statementKey: '1234567890/20251201-20251204235959[-5:EST]', channelSerialNo: '20251201-0001', merchantOrderNo: '1043',
      refundNo: '', transactionTimeMs: null, bookingDate: 20251201, valueDate: 20251201, payer: 'Check 1043', amountMinor: 20000n, direction: 'debit', feeMinor: 0n,
      currency: 'USD', type: 'transfer_out', typeRaw: 'CHECK', status: 'success', statusRaw: '', reversal: false, groupKey: '', key128: 0n,
    });
    expect(rows.map((r) => [r.locator, r.amountMinor, r.direction, r.type, r.typeRaw, r.merchantOrderNo, r.bookingDate, r.valueDate, r.transactionTimeMs])).toEqual([
      ['b.ofx:43 STMTTRN', 20000n, 'debit', 'transfer_out', 'CHECK', '1043', 20251201, 20251201, null],
      ['b.ofx:51 STMTTRN', 150000n, 'credit', 'transfer_in', 'DIRECTDEP', '', 20251202, 20251203, null],
      // DTUSER 18:45:12 EST is 23:45:12 UTC of the day before its posting.
      ['b.ofx:60 STMTTRN', 1250n, 'debit', 'transfer_out', 'POS', '', 20251203, 20251203, Date.UTC(2025, 11, 2, 23, 45, 12)],
      ['b.ofx:69 STMTTRN', 25075n, 'credit', 'transfer_in', 'XFER', 'ORD-2025-0042', 20251204, 20251204, Date.UTC(2025, 11, 4, 17)],
      ['b.ofx:77 STMTTRN', 300n, 'debit', 'fee', 'SRVCHG', '', 20251204, 20251204, null],
    ]);
    expect(rows[2]!.payer).toBe('Café Lumière');
  });

  it('XML bank statement: PAYEE/NAME as the payer, interest by code, a decimal comma, the amounts in CURDEF', () => {
    const { rows, problems } = rowsFromOfx(statements('bank-xml-211.ofx'), 'x.ofx');
    expect(problems).toEqual([]);
    expect(rows.map((r) => [r.channelSerialNo, r.merchantOrderNo, r.payer, r.amountMinor, r.direction, r.type, r.currency, r.transactionTimeMs])).toEqual([
      ['EU-7781-01', 'INV-88231', 'Nordwind GmbH', 98000n, 'credit', 'transfer_in', 'EUR', Date.UTC(2025, 11, 1, 8)],
      ['EU-7781-02', '', 'Zinsgutschrift', 127n, 'credit', 'interest', 'EUR', null],
      ['EU-7781-03', '', 'Hotel Bristol London', 4590n, 'debit', 'transfer_out', 'EUR', null],
      ['EU-7781-04', '', 'Foreign transaction fee', 50n, 'debit', 'fee', 'EUR', null],
    ]);
    expect(new Set(rows.map((r) => r.statementKey))).toEqual(new Set(['DE89370400440532013000/20251201000000[+1:CET]-20251205235959[+1:CET]']));
  });

  it('credit card: a purchase is a debit, a return and a payment to the card are credits', () => {
    const { rows } = rowsFromOfx(statements('creditcard-sgml-102.qfx'), 'c.qfx');
    expect(rows.map((r) => [r.amountMinor, r.direction, r.type, r.statementKey])).toEqual([
      [6499n, 'debit', 'transfer_out', '4111111111111111/20251101-20251130'],
      [825n, 'debit', 'transfer_out', '4111111111111111/20251101-20251130'],
      [1999n, 'credit', 'transfer_in', '4111111111111111/20251101-20251130'],
      [50000n, 'credit', 'transfer_in', '4111111111111111/20251101-20251130'],
    ]);
    // DTUSER is a date alone: no time, and DTPOSTED states none either.
    expect(rows[0]!.transactionTimeMs).toBeNull();
  });

  it('an amount past the currency scale is no row but a problem at its TRNAMT', () => {
    const { rows, problems } = rowsFromOfx(statements('usd-three-decimals.ofx'), 'u.ofx');
    expect(rows.map((r) => [r.channelSerialNo, r.amountMinor, r.direction])).toEqual([['X-2', 2050n, 'credit']]);
    expect(problems).toEqual([expect.objectContaining({ code: 'amount', locator: 'u.ofx:28 TRNAMT' })]);
  });

  const [template] = statements('duplicate-fitid.ofx');
  const types: [string, string, string][] = [
    ['CREDIT', '1.00', 'transfer_in'], ['DEP', '1.00', 'transfer_in'], ['DIRECTDEP', '1.00', 'transfer_in'], ['INT', '1.00', 'interest'],
    ['DIV', '1.00', 'other'], ['DEBIT', '-1.00', 'transfer_out'], ['PAYMENT', '-1.00', 'transfer_out'], ['CHECK', '-1.00', 'transfer_out'],
    ['ATM', '-1.00', 'transfer_out'], ['POS', '-1.00', 'transfer_out'], ['POS', '1.00', 'transfer_in'], ['DIRECTDEBIT', '-1.00', 'transfer_out'],
    ['XFER', '-1.00', 'transfer_out'], ['XFER', '1.00', 'transfer_in'], ['CASH', '-1.00', 'transfer_out'], ['REPEATPMT', '-1.00', 'transfer_out'],
    ['FEE', '-1.00', 'fee'], ['SRVCHG', '-1.00', 'fee'], ['FEE', '1.00', 'fee'], ['HOLD', '-1.00', 'other'], ['OTHER', '1.00', 'other'], ['NEWCODE', '1.00', 'other'],
  ];
  it.each(types)('TRNTYPE %s of %s is %s', (code, amount, type) => {
    const statement = structuredClone(template!);
    statement.transactions = [{ ...statement.transactions[0]!, type: code, amount }];
    expect(rowsFromOfx([statement], 'f').rows[0]).toMatchObject({ type, typeRaw: code, direction: amount.startsWith('-') ? 'debit' : 'credit', amountMinor: 100n });
  });

  it('times: DTUSER with a time wins; else DTPOSTED with one; a zone-less time is UTC', () => {
    const statement = structuredClone(template!);
    const base = statement.transactions[0]!;
    statement.transactions = [
      { ...base, posted: '20251201093000', user: '' },
      { ...base, posted: '20251201093000', user: '20251130' },
      { ...base, posted: '20251201', user: '20251130220000[-8:PST]' },
    ];
    expect(rowsFromOfx([statement], 'f').rows.map((r) => [r.transactionTimeMs, r.bookingDate])).toEqual([
      [Date.UTC(2025, 11, 1, 9, 30), 20251201],
      [Date.UTC(2025, 11, 1, 9, 30), 20251201],
      [Date.UTC(2025, 11, 1, 6), 20251201],
    ]);
  });

  it('a CURDEF this build does not know, or an unreadable DTPOSTED, is a problem, not a row', () => {
    const unknown = { ...structuredClone(template!), currency: 'XYZ' };
    expect(rowsFromOfx([unknown], 'f')).toEqual({ rows: [], problems: [expect.objectContaining({ code: 'currency', locator: 'f:29' })] });
    const badDate = structuredClone(template!);
    badDate.transactions = [{ ...badDate.transactions[0]!, posted: '2025-12-01' }];
    expect(rowsFromOfx([badDate], 'f')).toEqual({ rows: [], problems: [expect.objectContaining({ code: 'format', locator: 'f:39 STMTTRN' })] });
  });
});
