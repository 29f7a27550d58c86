// Checked BAI2 accounts (bai2.ts) as standard rows (statement-row.ts), one per 16 record (issue #17). The type code
// gives the direction (100–399 and 920–959 credit, else debit) and, for the well-known codes, the row type; the
// booking date is the group's as-of date, the value date a V funds type's. Keys are not derived here (row-keys).

import { assert } from '../assert.js';
import { bai2DateNumber, type Bai2Account, type Bai2Detail } from './bai2.js';
import type { StatementProblem } from './statement-report.js';
import type { RowType, StatementRow } from './statement-row.js';

export interface Bai2Rows {
  rows: StatementRow[];
  problems: StatementProblem[];
}

/** Detail type codes whose meaning is plain (BAI2 type code table); every other code is 'other'. */
const typeOfCode: Readonly<Record<string, RowType>> = {
  '115': 'payment', // lockbox deposit
  '142': 'transfer_in', // ACH credit received
  '165': 'transfer_in', // preauthorized ACH credit
  '169': 'transfer_in', // miscellaneous ACH credit
  '175': 'payment', // check deposit package
  '191': 'transfer_in', // individual incoming internal money transfer
  '195': 'transfer_in', // incoming money transfer
  '201': 'transfer_in', // individual automatic transfer credit
  '206': 'transfer_in', // book transfer credit
  '208': 'transfer_in', // individual international money transfer credit
  '257': 'return', // individual ACH return item
  '266': 'return', // return item
  '275': 'transfer_in', // ZBA credit
  '301': 'payment', // commercial deposit
  '354': 'interest', // interest credit
  '451': 'transfer_out', // ACH debit received
  '455': 'transfer_out', // preauthorized ACH debit
  '469': 'transfer_out', // miscellaneous ACH debit
  '491': 'transfer_out', // individual outgoing internal money transfer
  '495': 'transfer_out', // outgoing money transfer
  '501': 'transfer_out', // individual automatic transfer debit
  '506': 'transfer_out', // book transfer debit
  '508': 'transfer_out', // individual international money transfer debit
  '555': 'return', // deposited item returned
  '557': 'return', // individual ACH return item
  '564': 'fee', // overdraft fee
  '567': 'fee', // return item fee
  '575': 'transfer_out', // ZBA debit
  '654': 'interest', // interest debit
  '661': 'fee', // account analysis fee
  '698': 'fee', // miscellaneous fees
};

export function rowsFromBai2(accounts: readonly Bai2Account[], file: string): Bai2Rows {
  const out: Bai2Rows = { rows: [], problems: [] };
  for (const account of accounts) {
    const asOfDate = bai2DateNumber(account.asOfDate);
    if (asOfDate === 0) {
      out.problems.push({ code: 'format', locator: `${file}:${account.groupLine} 02`, message: `as-of date ${JSON.stringify(account.asOfDate)} is no YYMMDD day` });
      continue;
    }
    for (const detail of account.details) {
      const row = rowOf(detail, account, asOfDate, file, out.problems);
      if (row !== null) out.rows.push(row);
    }
  }
  return out;
}

function rowOf(detail: Bai2Detail, account: Bai2Account, asOfDate: number, file: string, problems: StatementProblem[]): StatementRow | null {
  const locator = `${file}:${detail.line} 16`;
  const valueDate = detail.funds.type === 'V' ? bai2DateNumber(detail.funds.valueDate) : 0;
  if (detail.funds.type === 'V' && valueDate === 0) {
    problems.push({ code: 'format', locator, message: `value date ${JSON.stringify(detail.funds.valueDate)} is no YYMMDD day` });
    return null;
  }
  assert(detail.amountMinor >= 0n && account.currency !== '', 'a checked detail has an amount ≥ 0 and its account a currency');
  return {
    rowNo: 0,
    locator,
    statementKey: `${account.account}/${asOfDate}`,
    channelSerialNo: detail.bankRef,
    merchantOrderNo: detail.customerRef,
    refundNo: '',
    transactionTimeMs: null,
    bookingDate: asOfDate,
    valueDate,
    payer: '',
    amountMinor: detail.amountMinor,
    direction: detail.direction,
    feeMinor: 0n,
    currency: account.currency,
    type: typeOfCode[detail.typeCode] ?? 'other',
    typeRaw: detail.typeCode,
    status: 'success',
    statusRaw: '',
    reversal: false,
    groupKey: '',
    key128: 0n,
  };
}
