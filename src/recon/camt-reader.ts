// camt.052/053/054 XML to statements (core/recon/camt.ts checks them), read as a stream with saxes: strict
// well-formedness, namespaces of any camt.05x version, never a DOM and never an entity expanded (a DOCTYPE refuses
// the file: no external or recursive entities). Only what the checks and matching need is kept: per statement its
// id, account, currency, balances, entries (with their transaction details' references, amounts and parties) and
// transactions summary.

import { SaxesParser } from 'saxes';
import type { CamtBalance, CamtEntry, CamtStatement, CamtSummaryPart, CamtTransaction } from '../core/recon/camt.js';

/** Element nesting deeper than this is no statement (and a parser's stack is bounded). */
const depthMax = 64;
const statementElements = new Set(['Stmt', 'Rpt', 'Ntfctn']);

export class CamtReadError extends Error {}

/** The statements of a camt document; throws CamtReadError for XML that is not well-formed or not allowed. */
export function readCamt(xml: string): CamtStatement[] {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const statements: CamtStatement[] = [];
  const path: string[] = [];
  let text = '';
  let statement: CamtStatement | null = null;
  let balance: (Partial<CamtBalance> & { amount?: CamtBalance['amount'] }) | null = null;
  let entry: Partial<CamtEntry> | null = null;
  let codes: EntryCodes = emptyCodes();
  let summary: CamtStatement['summary'] = null;
  let amountCurrency = '';
  parser.on('doctype', () => {
    throw new CamtReadError('a DOCTYPE is not allowed in a statement (no entities are expanded)');
  });
  parser.on('opentag', (tag) => {
    path.push(tag.local);
    if (path.length > depthMax) throw new CamtReadError(`elements nested deeper than ${depthMax}`);
    text = '';
    if (statementElements.has(tag.local) && path.length === 3) {
      statement = { line: parser.line, id: '', account: '', currency: '', balances: [], entries: [], summary: null };
      summary = null;
    }
    if (statement === null) return;
    if (tag.local === 'Bal' && parent(path, 1) !== 'Bal') balance = {};
    if (tag.local === 'Ntry' && path.length === 4) {
      entry = { line: parser.line, reversal: false, status: '', bookingDate: '', valueDate: '', bookingTime: '', accountServicerRef: '', entryRef: '', creditDebit: '', transactions: [] };
      codes = emptyCodes();
    }
    if (entry !== null && tag.local === 'TxDtls' && path.length === 6 && parent(path, 1) === 'NtryDtls') entry.transactions!.push(emptyTransaction(parser.line));
    if (tag.local === 'TxsSummry') summary = { total: emptyPart(), credits: emptyPart(), debits: emptyPart() };
    if (tag.local === 'Amt') amountCurrency = String(tag.attributes['Ccy']?.value ?? '');
  });
  parser.on('text', (value) => {
    text += value;
  });
  parser.on('cdata', (value) => {
    text += value;
  });
  parser.on('closetag', (tag) => {
    const name = tag.local;
    const up = parent(path, 1);
    const value = text.trim();
    if (statement !== null) {
      if (path.length === 4 && name === 'Id') statement.id = value;
      if (up === 'Id' && parent(path, 2) === 'Acct' && path.length <= 6) statement.account ||= value;
      // An account without an IBAN (US and many non-SEPA banks): Acct/Id/Othr/Id.
      if (name === 'Id' && up === 'Othr' && parent(path, 2) === 'Id' && parent(path, 3) === 'Acct' && path.length === 7) statement.account ||= value;
      if (name === 'Ccy' && up === 'Acct') statement.currency = value;
      if (balance !== null && path.includes('Bal')) readBalanceField(balance, name, up, value, amountCurrency, parser.line);
      if (name === 'Bal' && balance !== null && up !== 'Bal') {
        if (balance.code !== undefined && balance.amount !== undefined) statement.balances.push({ code: balance.code, amount: balance.amount, creditDebit: balance.creditDebit ?? '', date: balance.date ?? '' });
        balance = null;
      }
      if (entry !== null && path.length === 5) readEntryField(entry, name, value, amountCurrency, parser.line);
      if (entry !== null && path.length > 5) readEntryDetail(entry, codes, path.slice(4).join('/'), value, amountCurrency, parser.line);
      if (entry !== null && name === 'Ntry' && path.length === 4) {
        entry.bankTransactionCode = codes.domain !== '' ? [codes.domain, codes.family, codes.subFamily].join('/') : codes.proprietary;
        entry.batchId = codes.paymentInfoId || codes.messageId;
        if (entry.amount !== undefined) statement.entries.push(entry as CamtEntry);
        entry = null;
      }
      if (entry !== null && path.length > 5 && (name === 'Cd' && up === 'Sts')) entry.status = value;
      if (entry !== null && path.length === 6 && (up === 'BookgDt' || up === 'ValDt')) entry[up === 'BookgDt' ? 'bookingDate' : 'valueDate'] = value.slice(0, 10);
      if (summary !== null && path.includes('TxsSummry')) readSummaryField(summary, name, up, value);
      if (statementElements.has(name) && path.length === 3) {
        statement.summary = summary;
        statements.push(statement);
        statement = null;
      }
    }
    path.pop();
    text = '';
  });
  try {
    parser.write(xml).close();
  } catch (error) {
    if (error instanceof CamtReadError) throw error;
    throw new CamtReadError((error as Error).message);
  }
  return statements;
}

function parent(path: readonly string[], up: number): string | undefined {
  return path[path.length - 1 - up];
}

function emptyPart(): CamtSummaryPart {
  return { count: null, sum: null };
}

function readBalanceField(balance: Partial<CamtBalance>, name: string, up: string | undefined, value: string, currency: string, line: number): void {
  if ((name === 'Cd' || name === 'Prtry') && up === 'CdOrPrtry') balance.code ??= value;
  // The balance's own amount: its direct child (a credit line's amount, CdtLine/Amt, comes first in some files).
  if (name === 'Amt' && up === 'Bal') balance.amount = { text: value, currency, line };
  if (name === 'CdtDbtInd' && up === 'Bal') balance.creditDebit = value;
  if ((name === 'Dt' || name === 'DtTm') && up === 'Dt') balance.date = value.slice(0, 10);
}

function readEntryField(entry: Partial<CamtEntry>, name: string, value: string, currency: string, line: number): void {
  if (name === 'Amt') entry.amount = { text: value, currency, line };
  if (name === 'CdtDbtInd') entry.creditDebit = value;
  if (name === 'RvslInd') entry.reversal = value === 'true';
  if (name === 'Sts' && value !== '') entry.status = value;
  if (name === 'AcctSvcrRef') entry.accountServicerRef = value;
  if (name === 'NtryRef') entry.entryRef = value;
}

/** Parts of an entry kept until it closes: its bank transaction code's pieces and its batch ids. */
interface EntryCodes {
  domain: string;
  family: string;
  subFamily: string;
  proprietary: string;
  messageId: string;
  paymentInfoId: string;
}

function emptyCodes(): EntryCodes {
  return { domain: '', family: '', subFamily: '', proprietary: '', messageId: '', paymentInfoId: '' };
}

function emptyTransaction(line: number): CamtTransaction {
  return { line, amount: null, creditDebit: '', endToEndId: '', accountServicerRef: '', debtorName: '', creditorName: '', time: '' };
}

/** An element deeper in an Ntry, by its path below the Ntry (`BkTxCd/Domn/Cd`, `NtryDtls/TxDtls/Refs/EndToEndId`). */
function readEntryDetail(entry: Partial<CamtEntry>, codes: EntryCodes, below: string, value: string, currency: string, line: number): void {
  if (below === 'BookgDt/DtTm') entry.bookingTime = value;
  else if (below === 'BkTxCd/Domn/Cd') codes.domain = value;
  else if (below === 'BkTxCd/Domn/Fmly/Cd') codes.family = value;
  else if (below === 'BkTxCd/Domn/Fmly/SubFmlyCd') codes.subFamily = value;
  else if (below === 'BkTxCd/Prtry/Cd') codes.proprietary = value;
  else if (below === 'NtryDtls/Btch/MsgId') codes.messageId = value;
  else if (below === 'NtryDtls/Btch/PmtInfId') codes.paymentInfoId = value;
  else if (below.startsWith('NtryDtls/TxDtls/')) {
    const transaction = entry.transactions![entry.transactions!.length - 1];
    if (transaction !== undefined) readTransactionField(transaction, below.slice('NtryDtls/TxDtls/'.length), value, currency, line);
  }
}

function readTransactionField(transaction: CamtTransaction, below: string, value: string, currency: string, line: number): void {
  if (below === 'Amt' || (below === 'AmtDtls/TxAmt/Amt' && transaction.amount === null)) transaction.amount = { text: value, currency, line };
  else if (below === 'CdtDbtInd') transaction.creditDebit = value;
  else if (below === 'Refs/EndToEndId') transaction.endToEndId = value;
  else if (below === 'Refs/AcctSvcrRef') transaction.accountServicerRef = value;
  else if (below === 'RltdPties/Dbtr/Nm' || below === 'RltdPties/Dbtr/Pty/Nm') transaction.debtorName = value;
  else if (below === 'RltdPties/Cdtr/Nm' || below === 'RltdPties/Cdtr/Pty/Nm') transaction.creditorName = value;
  else if (below === 'RltdDts/TxDtTm') transaction.time = value;
}

function readSummaryField(summary: NonNullable<CamtStatement['summary']>, name: string, up: string | undefined, value: string): void {
  const part = up === 'TtlNtries' ? summary.total : up === 'TtlCdtNtries' ? summary.credits : up === 'TtlDbtNtries' ? summary.debits : null;
  if (part === null) return;
  if (name === 'NbOfNtries') part.count = Number(value);
  if (name === 'Sum') part.sum = value;
}
