// Issue #17: checked camt statements as standard rows. Per entry (a batch stays one row, its batch id the group
// key) or per transaction detail (each with its own amount, which must add up to the entry); BOOK/PDNG/INFO as
// success/pending/info; CdtDbtInd the effective direction also for a reversal; date-times with a zone as stated,
// zone-less ones in the channel's zone. Exact values from the Finnish, ING and genkgo samples.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rowsFromCamt } from '../../../../src/core/recon/rows-from-camt.js';
import { readCamt } from '../../../../src/recon/camt-reader.js';

const dir = join(import.meta.dirname, '../../../fixtures/statements/camt');
const text = (name: string) => readFileSync(join(dir, name), 'utf8');
const rows = (xml: string, granularity: 'entry' | 'transaction', timeZone = 'Europe/Helsinki') => rowsFromCamt(readCamt(xml), { file: 'f.xml', granularity, timeZone });

describe('rows from camt', () => {
  it('FI 053 per entry: ten rows, the batch of three one row of its sum, grouped by its PmtInfId', () => {
    const { rows: entries, problems } = rows(text('fi_fkl_camt053_v02.xml'), 'entry');
    expect(problems).toEqual([]);
    expect(entries).toHaveLength(10);
    expect(entries[2]).toEqual({
      rowNo: 0, locator: 'f.xml:293 Ntry 3', statementKey: 'FI7433010001222090/BANKSTMTID0972009', channelSerialNo: '091029ACCTSTMTARCH03/', merchantOrderNo: '', refundNo: '',
      transactionTimeMs: null, bookingDate: 20091029, valueDate: 20091029, payer: '', amountMinor: 423005n, direction: 'debit', feeMinor: 0n, currency: 'EUR',
      type: 'transfer_out', typeRaw: 'PMNT/ICDT/DMCT', status: 'success', statusRaw: 'BOOK', reversal: false, groupKey: 'CustRefForPmtBatch9', key128: 0n,
    });
    // A single SCT: its EndToEndId is our reference, its debtor the payer; value-dated the next day.
    expect(entries[8]).toMatchObject({ merchantOrderNo: 'EndToEndIdSCT01', payer: 'DEBTOR', amountMinor: 1000000n, direction: 'credit', type: 'transfer_in' });
    expect(entries[6]).toMatchObject({ bookingDate: 20091029, valueDate: 20091030, payer: 'DEBTOR NAME', amountMinor: 212000n });
    expect(entries[9]).toMatchObject({ type: 'fee', typeRaw: 'PMNT/RCDT/CHRG', amountMinor: 20000n, direction: 'debit' });
  });

  it('FI 053 per transaction: the batch splits into its three payments, which add up to the entry', () => {
    const { rows: details, problems } = rows(text('fi_fkl_camt053_v02.xml'), 'transaction');
    expect(problems).toEqual([]);
    expect(details).toHaveLength(13);
    expect(details.slice(2, 5).map((r) => [r.locator, r.channelSerialNo, r.amountMinor, r.direction, r.payer, r.groupKey])).toEqual([
      ['f.xml:328 Ntry 3 TxDtls 1', '091029ARCH03001', 200002n, 'debit', 'Creditor Company', '091029ACCTSTMTARCH03/'],
      ['f.xml:377 Ntry 3 TxDtls 2', '091029ARCH03002', 100001n, 'debit', 'Creditor Company', '091029ACCTSTMTARCH03/'],
      ['f.xml:417 Ntry 3 TxDtls 3', '091029ARCH03003', 123002n, 'debit', 'Creditor Company', '091029ACCTSTMTARCH03/'],
    ]);
    // Details without amounts (the salary batch) and an entry without details stay one row each.
    expect(details.slice(0, 2).map((r) => [r.locator, r.amountMinor])).toEqual([['f.xml:208 Ntry 1', 100012n], ['f.xml:254 Ntry 2', 400000n]]);
    // One detail is the entry: its batch id stays the group.
    expect(details[5]).toMatchObject({ locator: 'f.xml:506 Ntry 4 TxDtls 1', channelSerialNo: '091029ACCTSTMTARCH04/', groupKey: 'BANKFILEID998765', amountMinor: 200000n });
  });

  it('refuses details that do not add up to their entry, saying by how much', () => {
    const edited = text('fi_fkl_camt053_v02.xml').replace('<Amt Ccy="EUR">1000.01</Amt>', '<Amt Ccy="EUR">1000.02</Amt>');
    expect(rows(edited, 'transaction').problems).toEqual([expect.objectContaining({ code: 'summary', locator: 'f.xml:293 Ntry 3', expected: -423005n, found: -423006n, difference: -1n, currency: 'EUR' })]);
    expect(rows(edited, 'entry').problems).toEqual([]);
  });

  it('ING: a reversal keeps CdtDbtInd as its direction; zone-less TxDtTm is read in the channel zone', () => {
    const { rows: entries } = rows(text('iso20022js_ing_example_camt.xml'), 'entry', 'Europe/Amsterdam');
    expect(entries).toHaveLength(9);
    expect(entries[8]).toMatchObject({
      locator: 'f.xml:566 Ntry 9', channelSerialNo: '3101963431841/021514017743280167000000001', merchantOrderNo: '5000300060007000', payer: 'INGTestrekening',
      amountMinor: 3000n, direction: 'debit', reversal: true, type: 'return', typeRaw: 'PMNT/IDDT/UPDD', bookingDate: 20140103, valueDate: 20131220,
      transactionTimeMs: Date.UTC(2014, 0, 3, 15, 38, 22),
    });
    expect(entries[3]).toMatchObject({ groupKey: 'SCTBtchId20140103A2PSTN', merchantOrderNo: '', transactionTimeMs: null });
  });

  it('reads BookgDt/DtTm with its zone, and PDNG and INFO entries as pending and info rows', () => {
    expect(rows(text('camt053.v8.xml'), 'entry').rows[0]).toMatchObject({ transactionTimeMs: Date.UTC(2014, 11, 31, 12, 15), bookingDate: 20141231, valueDate: 20150102, merchantOrderNo: 'MUELL/FINP/RA12345' });
    expect(rows(text('fi_fkl_camt052.xml'), 'entry').rows.map((r) => [r.status, r.statusRaw])).toContainEqual(['pending', 'PDNG']);
    expect(rows(text('fi_fkl_camt054.xml'), 'entry').rows.map((r) => [r.status, r.reversal])).toContainEqual(['info', true]);
  });
});
