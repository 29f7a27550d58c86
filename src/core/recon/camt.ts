// ISO 20022 camt.052 (account report), camt.053 (statement) and camt.054 (notification) as statements of exact
// entries, and the checks before any matching (issue #17): every amount in the account's currency; opening (OPBD,
// else PRCD, else OPAV; a report's first ITBD) + Σ booked entries (CRDT adds, DBIT takes away — also for a reversal:
// the indicator is the effective direction) = closing (CLBD, else CLAV; a report's last ITBD); the transactions
// summary's counts and sums equal the entries; statements of one account in one file chained. Pending and
// informative entries (PDNG, INFO) are rows, not in the balances. The XML is read by src/recon/camt-reader.ts.

import { currencyOfCode } from '../currencies.js';
import { readStatementAmount } from './statement-amount.js';
import type { StatementProblem, StatementReport } from './statement-report.js';

/** An amount as the XML states it: text and currency attribute, and where. */
export interface CamtAmount {
  text: string;
  currency: string;
  line: number;
}

export interface CamtBalance {
  code: string;
  amount: CamtAmount;
  creditDebit: string;
  date: string;
}

export interface CamtEntry {
  /** Line of the file where the Ntry begins. */
  line: number;
  amount: CamtAmount;
  creditDebit: string;
  reversal: boolean;
  status: string;
  bookingDate: string;
  valueDate: string;
  /** BookgDt/DtTm as written (with or without a zone), '' when the entry has a date only. */
  bookingTime: string;
  accountServicerRef: string;
  entryRef: string;
  /** BkTxCd: `PMNT/RCDT/ESCT` (domain/family/sub-family), else the proprietary code, else ''. */
  bankTransactionCode: string;
  /** The batch the entry books in one sum (Btch/PmtInfId, else Btch/MsgId), '' when none. */
  batchId: string;
  transactions: CamtTransaction[];
}

/** One TxDtls of an entry: a payment of a batch booked as one entry, or the details of a single one. */
export interface CamtTransaction {
  line: number;
  /** TxDtls/Amt (v4 and later), else AmtDtls/TxAmt/Amt; null when the details carry no amount. */
  amount: CamtAmount | null;
  /** Its own CdtDbtInd (v4 and later), '' when it has none (the entry's holds). */
  creditDebit: string;
  endToEndId: string;
  accountServicerRef: string;
  debtorName: string;
  creditorName: string;
  /** RltdDts/TxDtTm as written, ''. */
  time: string;
}

export interface CamtSummaryPart {
  count: number | null;
  sum: string | null;
}

export interface CamtStatement {
  line: number;
  id: string;
  account: string;
  currency: string;
  balances: CamtBalance[];
  entries: CamtEntry[];
  summary: { total: CamtSummaryPart; credits: CamtSummaryPart; debits: CamtSummaryPart } | null;
}

const openingCodes = ['OPBD', 'PRCD', 'OPAV'];
const closingCodes = ['CLBD', 'CLAV'];

/**
 * Which entries a bank's closing booked balance holds. `booking` (ISO's reading): every booked entry. `value`: only
 * those value-dated by the closing balance's date — some banks (PostFinance) leave an entry value-dated later out of
 * CLBD and show it in the forward available balance, which is then checked: CLBD + those entries = FWAV.
 */
export type BalanceBasis = 'booking' | 'value';

/** Checks statements read from one camt file. */
export function checkCamtStatements(statements: readonly CamtStatement[], format: string, file: string, basis: BalanceBasis = 'booking'): StatementReport {
  const problems: StatementProblem[] = [];
  if (statements.length === 0) problems.push({ code: 'format', locator: file, message: 'no statement, report or notification found (Stmt, Rpt, Ntfctn)' });
  let previous: { statement: CamtStatement; closing: bigint } | null = null;
  for (const statement of statements) {
    const where = `${file}:${statement.line} ${statement.id === '' ? 'statement' : statement.id}`;
    const currency = statement.currency !== '' ? statement.currency : (statement.balances[0]?.amount.currency ?? statement.entries[0]?.amount.currency ?? '');
    const known = currencyOfCode(currency);
    if (known === undefined) {
      problems.push({ code: 'currency', locator: where, message: `currency ${JSON.stringify(currency)} is not one this build knows (ISO 4217)` });
      continue;
    }
    const amount = (value: CamtAmount, sign: string): bigint | null => {
      if (value.currency !== currency) {
        problems.push({ code: 'currency', locator: `${file}:${value.line}`, message: `an amount in ${value.currency} in a statement of ${currency}` });
        return null;
      }
      const read = readStatementAmount(value.text.trim(), known.scale, '.');
      if ('refused' in read) {
        problems.push({ code: 'amount', locator: `${file}:${value.line}`, message: read.refused });
        return null;
      }
      return sign === 'DBIT' ? -read.minor : read.minor;
    };
    const problemsBefore = problems.length;
    const entries = statement.entries.map((entry) => ({ entry, signed: amount(entry.amount, entry.creditDebit) }));
    const balances = statement.balances.map((balance) => ({ balance, signed: amount(balance.amount, balance.creditDebit) }));
    if (problems.length > problemsBefore) continue; // an amount in another currency or unreadable: no sums of it
    const [opening, closing] = openingAndClosing(balances.map(({ balance, signed }) => ({ code: balance.code, signed: signed! })));
    const closingDate = balances.find(({ balance }) => balance.code === closing?.code)?.balance.date ?? '';
    // Value-dated after the closing balance's date: outside a value-basis bank's CLBD.
    const later = ({ entry }: { entry: CamtEntry }): boolean => basis === 'value' && closingDate !== '' && entry.valueDate > closingDate;
    const bookedEntries = entries.filter(({ entry }) => entry.status === 'BOOK');
    const booked = bookedEntries.filter((e) => !later(e)).reduce((sum, { signed }) => sum + signed!, 0n);
    const deferred = bookedEntries.filter(later).reduce((sum, { signed }) => sum + signed!, 0n);
    const forward = balances.find(({ balance }) => balance.code === 'FWAV');
    if (basis === 'value' && closing !== undefined && forward !== undefined && closing.signed + deferred !== forward.signed!) {
      const expected = closing.signed + deferred;
      problems.push({ code: 'balance', locator: where, message: 'closing (CLBD) + the entries value-dated after it ≠ forward available (FWAV)', expected, found: forward.signed!, difference: forward.signed! - expected, currency });
    }
    if (opening === undefined && closing !== undefined) problems.push({ code: 'format', locator: where, message: `a closing balance (${closing.code}) without an opening one` });
    if (opening !== undefined && closing === undefined) problems.push({ code: 'format', locator: where, message: `an opening balance (${opening.code}) without a closing one` });
    if (opening !== undefined && closing !== undefined && opening.signed + booked !== closing.signed) {
      const expected = opening.signed + booked;
      problems.push({ code: 'balance', locator: where, message: `opening (${opening.code}) + booked entries ≠ closing (${closing.code})`, expected, found: closing.signed, difference: closing.signed - expected, currency });
    }
    checkSummary(statement, entries.map(({ signed }) => signed!), where, currency, problems);
    if (opening !== undefined && previous !== null && previous.statement.account === statement.account && previous.closing !== opening.signed) {
      problems.push({ code: 'chain', locator: where, message: `opens with a balance other than the one the statement before it (line ${previous.statement.line}) closed with`, expected: previous.closing, found: opening.signed, difference: opening.signed - previous.closing, currency });
    }
    if (closing !== undefined) previous = { statement, closing: closing.signed };
  }
  return { format, file, entries: statements.reduce((n, s) => n + s.entries.length, 0), problems, warnings: [] };
}

/** The balances a statement opens and closes with: the first code present of each list; a report's ITBDs else. */
function openingAndClosing(balances: readonly { code: string; signed: bigint }[]): [{ code: string; signed: bigint } | undefined, { code: string; signed: bigint } | undefined] {
  const first = (codes: readonly string[]) => codes.map((code) => balances.find((b) => b.code === code)).find((b) => b !== undefined);
  const interim = balances.filter((b) => b.code === 'ITBD');
  const opening = first(openingCodes) ?? (interim.length >= 2 ? interim[0] : undefined);
  const closing = first(closingCodes) ?? (opening !== undefined && interim.length >= 1 && interim[interim.length - 1] !== opening ? interim[interim.length - 1] : undefined);
  return [opening, closing];
}

function checkSummary(statement: CamtStatement, signed: readonly bigint[], where: string, currency: string, problems: StatementProblem[]): void {
  const summary = statement.summary;
  if (summary === null) return;
  const scale = currencyOfCode(currency)!.scale;
  const credits = signed.filter((s) => s >= 0n);
  const debits = signed.filter((s) => s < 0n);
  const parts: [string, CamtSummaryPart, readonly bigint[]][] = [
    ['entries', summary.total, signed],
    ['credit entries', summary.credits, credits],
    ['debit entries', summary.debits, debits],
  ];
  for (const [name, stated, found] of parts) {
    const gross = found.reduce((sum, s) => sum + (s < 0n ? -s : s), 0n);
    const sum = stated.sum === null ? null : readStatementAmount(stated.sum.trim(), scale, '.');
    const sumMinor = sum === null || 'refused' in sum ? null : sum.minor;
    if ((stated.count !== null && stated.count !== found.length) || (sumMinor !== null && sumMinor !== gross)) {
      problems.push({ code: 'summary', locator: where, message: `the transactions summary states ${stated.count ?? '?'} ${name} of ${stated.sum ?? '?'}; the statement holds ${found.length} of ${gross} (minor units)` });
    }
  }
}
