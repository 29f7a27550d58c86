// BAI2 (Cash Management Balance Reporting, version 2) written from movements (core/recon/bai2.ts reads and checks
// it): 01 file header, 02 group of the day's as-of date, 03 account with opening (010) and closing (015) ledger,
// total credits (100) and debits (400) with item counts, a 16 per movement (301 commercial deposit in, 495 outgoing
// money transfer out; funds type 0, or V with the value date), then the trailers 49/98/99 with their control totals
// (Σ every amount of the 03 and 16 records below them) and record counts (88 continuations included). Amounts are
// minor units with the decimals implied. Optionally the 03's summaries continue on an 88 record, as banks write
// them. BAI2 states no fee and no status: the writer refuses a fee, a pending or a failed movement.

import { dateNumberOf, requireThat, sumOf, yymmdd, type Movement, type ReadsAs, type StatementSpec, type WrittenFile } from './movement.js';

export interface Bai2Options {
  /** Funds type V (value dated) instead of 0 (immediate) on the 16 records. */
  valueDated: boolean;
  /** The 03's balances on the 03 itself and its totals on an 88 continuation. */
  continuation: boolean;
  lineEnd: '\n' | '\r\n';
  /** The 03 names its currency, else leaves it to the group's (02). */
  accountCurrency: boolean;
  /** Another account of the group before ours (a bank reports every account of the customer). */
  otherAccount: boolean;
  /** Each 16 ended after its funds type and continued on an 88 with its references and text (as the specification's own example). */
  detailContinuation: boolean;
}

const signed = (minor: bigint): string => (minor < 0n ? `-${-minor}` : `+${minor}`);

function detail(m: Movement, spec: StatementSpec, options: Bai2Options): string[] {
  requireThat(m.feeMinor === 0n && m.status === 'success', 'BAI2 states no fee and no status');
  const code = m.direction === 'credit' ? '301' : '495';
  const funds = options.valueDated ? `V,${yymmdd(m.valueDate)},${m.time.slice(0, 2)}${m.time.slice(3, 5)}` : '0';
  // The text is the last field: commas and slashes in it are text (one trailing slash ends the record).
  const references = `${m.serial},${m.reference},PAYMENT ${m.reference} FROM ACME, INC. INV/77/`;
  return options.detailContinuation ? [`16,${code},${m.amountMinor},${funds}/`, `88,${references}`] : [`16,${code},${m.amountMinor},${funds},${references}`];
}

/** An account's records (03, its 88, 16s, 49) and its control total. */
function accountRecords(movements: readonly Movement[], spec: StatementSpec, options: Bai2Options): { lines: string[]; control: bigint } {
  const credits = movements.filter((m) => m.direction === 'credit');
  const debits = movements.filter((m) => m.direction === 'debit');
  const creditMinor = sumOf(credits, (m) => m.amountMinor);
  const debitMinor = sumOf(debits, (m) => m.amountMinor);
  const closing = spec.openingMinor + creditMinor - debitMinor;
  const balances = `010,${signed(spec.openingMinor)},,,015,${signed(closing)},,`;
  const totals = `100,${creditMinor},${credits.length},,400,${debitMinor},${debits.length},`;
  const currency = options.accountCurrency ? spec.currency : '';
  const account = options.continuation ? [`03,${spec.account},${currency},${balances}/`, `88,${totals}/`] : [`03,${spec.account},${currency},${balances},${totals}/`];
  const details = movements.flatMap((m) => detail(m, spec, options));
  // The account's control total: every amount of its 03 (and 88) and 16 records, signed as written.
  const accountControl = spec.openingMinor + closing + creditMinor + debitMinor + sumOf(movements, (m) => m.amountMinor);
  const records = account.length + details.length + 1;
  return { lines: [...account, ...details, `49,${signed(accountControl)},${records}/`], control: accountControl };
}

export function writeBai2(movements: readonly Movement[], spec: StatementSpec, options: Bai2Options): WrittenFile[] {
  const other: Movement = { reference: 'OTHERREF1', serial: 'OTHERBANK1', refundNo: '', amountMinor: 31_400n, direction: 'debit', feeMinor: 0n, status: 'success', type: 'refund', time: '11:00:00', valueDate: spec.date };
  const accounts = [
    ...(options.otherAccount ? [accountRecords([other], { ...spec, account: '9988776655', openingMinor: 1_000_000n }, options)] : []),
    accountRecords(movements, spec, options),
  ];
  const groupControl = accounts.reduce((sum, account) => sum + account.control, 0n);
  const groupRecords = accounts.reduce((n, account) => n + account.lines.length, 0) + 2;
  const date = yymmdd(spec.date);
  const lines = [
    `01,TALLYBANK,TALLYCORP,${date},2359,${date}01,,,2/`,
    `02,TALLYCORP,TALLYBANK,1,${date},2359,${spec.currency},2/`,
    ...accounts.flatMap((account) => account.lines),
    `98,${signed(groupControl)},${accounts.length},${groupRecords}/`,
    `99,${signed(groupControl)},1,${groupRecords + 2}/`,
  ];
  return [{ name: `${spec.account}-${spec.date}.bai`, bytes: Buffer.from(lines.join(options.lineEnd) + options.lineEnd, 'utf8') }];
}

/** What rows-from-bai2 makes of a 16: bank reference as serial, customer reference as ours, type by the code; booked on the as-of date. */
export function bai2ReadsAs(m: Movement, spec: StatementSpec, options: Bai2Options): ReadsAs {
  return {
    bookingDate: dateNumberOf(spec.date), valueDate: options.valueDated ? dateNumberOf(m.valueDate) : 0,
    merchantOrderNo: m.reference, channelSerialNo: m.serial, refundNo: '', amountMinor: m.amountMinor, direction: m.direction, feeMinor: 0n,
    status: 'success', type: m.direction === 'credit' ? 'payment' : 'transfer_out',
  };
}
