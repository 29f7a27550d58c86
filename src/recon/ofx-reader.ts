// OFX/QFX files to statements (core/recon/ofx.ts checks them). OFX 1.x is SGML after a `KEY:VALUE` header: its
// aggregates are closed, its leaves usually are not (`<TRNAMT>-12.50` ends at the next tag); a small tokenizer reads
// it. OFX 2.x is XML after `<?OFX OFXHEADER="200" …?>`, read as a stream with saxes (a DOCTYPE refuses the file: no
// entity is ever expanded). Both feed one state machine, so the two versions give the same statements. Nesting and
// text are bounded; anything that is no OFX throws OfxReadError, never a half-read.

import { SaxesParser } from 'saxes';
import { assert } from '../core/assert.js';
import type { OfxBalance, OfxStatement, OfxTransaction } from '../core/recon/ofx.js';

/** Element nesting deeper than this is no statement (OFX nests about 8 deep). */
const ofxDepthMax = 64;
/** Characters of one element's text: a memo or name is short; more is no statement (issue #17 §2: 64 KiB). */
const ofxTextCharsMax = 64 * 1024;

export class OfxReadError extends Error {}

/** The header of an OFX file: its version (102, 211…), its fields, and the encoding its bytes are declared in. */
export interface OfxHeader {
  version: number;
  fields: Readonly<Record<string, string>>;
  /** A TextDecoder label: `windows-1252` for CHARSET:1252, `utf-8` for OFX 2.x or ENCODING:UTF-8… */
  encoding: string;
}

/** The statements of an OFX/QFX file (1.x SGML or 2.x XML); throws OfxReadError for what is no OFX. */
export function readOfx(text: string): OfxStatement[] {
  const body = text.replace(/^\uFEFF/, '');
  const header = readOfxHeader(body);
  const builder = new StatementBuilder();
  if (header.version < 200) readSgml(body, builder);
  else readXml(body, builder);
  return builder.statements;
}

/**
 * The header of an OFX file; throws OfxReadError when there is none. Works on the first bytes decoded as latin1
 * (the header is ASCII), so a caller may learn the encoding before decoding the file.
 */
export function readOfxHeader(text: string): OfxHeader {
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (start.startsWith('OFXHEADER:')) return sgmlHeader(start);
  if (start.startsWith('<?xml') || start.startsWith('<?OFX')) return xmlHeader(start);
  throw new OfxReadError('no OFX header (OFXHEADER:100 or <?OFX OFXHEADER="200" …?>)');
}

function sgmlHeader(text: string): OfxHeader {
  const end = text.indexOf('<');
  // Fields one per line, or (some banks) separated by spaces on one line: values hold no whitespace.
  const fields: Record<string, string> = {};
  for (const field of (end < 0 ? text : text.slice(0, end)).split(/\s+/).filter((f) => f !== '')) {
    const colon = field.indexOf(':');
    if (colon <= 0) throw new OfxReadError(`header field ${JSON.stringify(field)} is no KEY:VALUE`);
    fields[field.slice(0, colon)] = field.slice(colon + 1);
  }
  if (fields['OFXHEADER'] !== '100') throw new OfxReadError(`OFXHEADER:${fields['OFXHEADER']}: only 100 is SGML OFX`);
  if (fields['DATA'] !== 'OFXSGML') throw new OfxReadError(`DATA:${fields['DATA'] ?? ''}: OFX 1.x data is OFXSGML`);
  const version = Number(fields['VERSION']);
  if (!/^1[0-9]{2}$/.test(fields['VERSION'] ?? '')) throw new OfxReadError(`VERSION:${fields['VERSION'] ?? ''} is no OFX 1.x version`);
  return { version, fields, encoding: sgmlEncoding(fields['ENCODING'] ?? '', fields['CHARSET'] ?? '') };
}

/** OFX 1.x: ENCODING USASCII with a CHARSET (1252, ISO-8859-1, NONE), or UTF-8. */
function sgmlEncoding(encoding: string, charset: string): string {
  if (encoding.toUpperCase() === 'UTF-8') return 'utf-8';
  if (charset === '1252') return 'windows-1252';
  if (/^ISO-8859-1$/i.test(charset) || charset === '8859-1') return 'iso-8859-1';
  return 'windows-1252'; // USASCII with CHARSET:NONE: ASCII, which windows-1252 decodes the same
}

function xmlHeader(text: string): OfxHeader {
  const pi = /<\?OFX\s([^?]*)\?>/.exec(text.slice(0, 4096));
  if (pi === null) throw new OfxReadError('an XML file without the <?OFX OFXHEADER="200" …?> header');
  const fields: Record<string, string> = {};
  for (const [, key, value] of pi[1]!.matchAll(/([A-Z]+)\s*=\s*"([^"]*)"/g)) fields[key!] = value!;
  if (fields['OFXHEADER'] !== '200') throw new OfxReadError(`OFXHEADER="${fields['OFXHEADER'] ?? ''}": OFX 2.x is 200`);
  if (!/^2[0-9]{2}$/.test(fields['VERSION'] ?? '')) throw new OfxReadError(`VERSION="${fields['VERSION'] ?? ''}" is no OFX 2.x version`);
  const declared = /^<\?xml[^?]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(text)?.[1];
  return { version: Number(fields['VERSION']), fields, encoding: (declared ?? 'utf-8').toLowerCase() };
}

/** OFX 2.x: well-formed XML with saxes; the OFX processing instruction is read by readOfxHeader. */
function readXml(xml: string, builder: StatementBuilder): void {
  const parser = new SaxesParser({ xmlns: false, position: true });
  parser.on('doctype', () => {
    throw new OfxReadError('a DOCTYPE is not allowed in a statement (no entities are expanded)');
  });
  parser.on('opentag', (tag) => builder.open(tag.name, parser.line));
  parser.on('text', (value) => builder.text(value));
  parser.on('cdata', (value) => builder.text(value));
  parser.on('closetag', (tag) => builder.close(tag.name));
  try {
    parser.write(xml).close();
  } catch (error) {
    if (error instanceof OfxReadError) throw error;
    throw new OfxReadError((error as Error).message);
  }
}

const sgmlEntities: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: '\u00a0' };

/** SGML text with its entities decoded; a `&` that starts none stays as written (`AT&T`, common in bank files). */
function decodeSgml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|nbsp);/g, (_, name: string) => sgmlEntities[name]!);
}

/** An element open in SGML: a leaf (text followed its tag) may end without its end tag. */
interface SgmlOpen {
  name: string;
  line: number;
  leaf: boolean;
}

/**
 * OFX 1.x SGML. An element followed by text is a leaf: it ends at its own end tag, or else at the next tag. An
 * element followed by a tag is an aggregate and must be closed by its end tag (the specification requires it).
 */
function readSgml(text: string, builder: StatementBuilder): void {
  const stack: SgmlOpen[] = [];
  let at = text.indexOf('<');
  if (at < 0) throw new OfxReadError('an OFX header without a body (no <OFX>)');
  let line = lineAt(text, 0, at, 1);
  while (at >= 0) {
    const close = text.indexOf('>', at);
    if (close < 0) throw new OfxReadError(`line ${line}: a tag without its ">"`);
    const tag = text.slice(at + 1, close);
    if (tag.includes('<')) throw new OfxReadError(`line ${line}: a tag without its ">"`);
    const next = text.indexOf('<', close + 1);
    const content = text.slice(close + 1, next < 0 ? text.length : next);
    if (tag.startsWith('!') || tag.startsWith('?')) throw new OfxReadError(`line ${line}: <${tag.slice(0, 20)}> is not allowed in OFX SGML (no declarations, no entities)`);
    if (tag.startsWith('/')) sgmlClose(tag.slice(1).trim(), content, stack, line, builder);
    else sgmlOpen(tag.trim(), content, stack, line, builder);
    line = lineAt(text, at, next < 0 ? text.length : next, line);
    at = next;
  }
  const top = stack[stack.length - 1];
  if (top?.leaf === true) builder.close(stack.pop()!.name);
  assert(stack.every((element) => !element.leaf), 'only aggregates are left open at the end');
  if (stack.length > 0) throw new OfxReadError(`<${stack[stack.length - 1]!.name}> (line ${stack[stack.length - 1]!.line}) is never closed: the file is cut short`);
}

function sgmlOpen(name: string, content: string, stack: SgmlOpen[], line: number, builder: StatementBuilder): void {
  if (!/^[A-Za-z][A-Za-z0-9._]*$/.test(name)) throw new OfxReadError(`line ${line}: <${name.slice(0, 40)}> is no OFX tag`);
  if (stack[stack.length - 1]?.leaf === true) builder.close(stack.pop()!.name);
  const value = content.trim();
  if (stack.length === 0 && name !== 'OFX') throw new OfxReadError(`line ${line}: <${name}> outside <OFX>`);
  stack.push({ name, line, leaf: value !== '' });
  builder.open(name, line);
  if (value !== '') builder.text(decodeSgml(value));
}

function sgmlClose(name: string, after: string, stack: SgmlOpen[], line: number, builder: StatementBuilder): void {
  if (after.trim() !== '') throw new OfxReadError(`line ${line}: text after </${name}> (OFX has no mixed content)`);
  // A leaf left open before an end tag that is not its own ends there.
  if (stack[stack.length - 1]?.leaf === true && stack[stack.length - 1]!.name !== name) builder.close(stack.pop()!.name);
  const top = stack.pop();
  if (top === undefined) throw new OfxReadError(`line ${line}: </${name}> closes nothing`);
  if (top.name !== name) throw new OfxReadError(`line ${line}: </${name}> where <${top.name}> (line ${top.line}) is open`);
  builder.close(name);
}

/** The line number at `to`, counting the newlines after `from` (which is on `line`). */
function lineAt(text: string, from: number, to: number, line: number): number {
  let n = line;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

type Parts = { statement: OfxStatement | null; transaction: OfxTransaction | null; balance: OfxBalance | null };

/** Elements (open, text, close) from either reader to statements; what the checks and matching need, nothing more. */
class StatementBuilder {
  readonly statements: OfxStatement[] = [];
  private readonly path: string[] = [];
  private content = '';
  private readonly parts: Parts = { statement: null, transaction: null, balance: null };

  open(name: string, line: number): void {
    this.path.push(name);
    if (this.path.length > ofxDepthMax) throw new OfxReadError(`elements nested deeper than ${ofxDepthMax}`);
    this.content = '';
    if (name === 'STMTRS' || name === 'CCSTMTRS') {
      if (this.parts.statement !== null) throw new OfxReadError(`line ${line}: <${name}> inside another statement`);
      this.parts.statement = emptyStatement(name === 'STMTRS' ? 'bank' : 'creditcard', line);
    }
    if (this.parts.statement === null) return;
    if (name === 'STMTTRN' && this.parent(1) === 'BANKTRANLIST') this.parts.transaction = emptyTransaction(line);
    if ((name === 'LEDGERBAL' || name === 'AVAILBAL') && this.path.length >= 2 && this.isStatement(this.parent(1))) this.parts.balance = { amount: '', line, asOf: '' };
    if (name === 'TRNAMT' && this.parts.transaction !== null) this.parts.transaction.amountLine = line;
  }

  text(value: string): void {
    this.content += value;
    if (this.content.length > ofxTextCharsMax) throw new OfxReadError(`<${this.path[this.path.length - 1]}> holds more than ${ofxTextCharsMax} characters`);
  }

  close(name: string): void {
    // Both readers close exactly what is open (saxes by well-formedness, readSgml by its stack).
    assert(this.path[this.path.length - 1] === name, 'an element closes the one open last');
    const value = this.content.trim();
    const { statement, transaction, balance } = this.parts;
    if (transaction !== null && name !== 'STMTTRN') readTransactionField(transaction, this.path.slice(this.path.lastIndexOf('STMTTRN') + 1).join('/'), value);
    else if (balance !== null && name !== 'LEDGERBAL' && name !== 'AVAILBAL') readBalanceField(balance, name, value);
    else if (statement !== null) this.closeInStatement(statement, name, value);
    this.path.pop();
    this.content = '';
  }

  private closeInStatement(statement: OfxStatement, name: string, value: string): void {
    const up = this.parent(1);
    const { transaction, balance } = this.parts;
    if (name === 'STMTTRN' && transaction !== null) {
      statement.transactions.push(transaction);
      this.parts.transaction = null;
    } else if ((name === 'LEDGERBAL' || name === 'AVAILBAL') && balance !== null) {
      statement[name === 'LEDGERBAL' ? 'ledgerBalance' : 'availableBalance'] = balance;
      this.parts.balance = null;
    } else if (this.isStatement(name)) {
      this.statements.push(statement);
      this.parts.statement = null;
    } else if (name === 'CURDEF' && this.isStatement(up)) statement.currency = value;
    else if (up === 'BANKACCTFROM' || up === 'CCACCTFROM') readAccountField(statement, name, value);
    else if (up === 'BANKTRANLIST' && name === 'DTSTART') statement.start = value;
    else if (up === 'BANKTRANLIST' && name === 'DTEND') statement.end = value;
  }

  private parent(up: number): string | undefined {
    return this.path[this.path.length - 1 - up];
  }

  private isStatement(name: string | undefined): boolean {
    return (name === 'STMTRS' || name === 'CCSTMTRS') && this.parts.statement !== null;
  }
}

function emptyStatement(kind: OfxStatement['kind'], line: number): OfxStatement {
  return { line, kind, currency: '', bankId: '', accountId: '', accountType: '', start: '', end: '', transactions: [], ledgerBalance: null, availableBalance: null };
}

function emptyTransaction(line: number): OfxTransaction {
  return { line, type: '', posted: '', user: '', available: '', amount: '', amountLine: line, fitId: '', checkNumber: '', referenceNumber: '', name: '', payeeName: '', memo: '', currency: '', originalCurrency: '', correctFitId: '', correctAction: '' };
}

/** Fields of a STMTTRN by their path below it (`TRNAMT`, `PAYEE/NAME`, `CURRENCY/CURSYM`). */
const transactionFields: Readonly<Record<string, keyof OfxTransaction>> = {
  TRNTYPE: 'type', DTPOSTED: 'posted', DTUSER: 'user', DTAVAIL: 'available', TRNAMT: 'amount', FITID: 'fitId', CHECKNUM: 'checkNumber',
  REFNUM: 'referenceNumber', NAME: 'name', 'PAYEE/NAME': 'payeeName', MEMO: 'memo', 'CURRENCY/CURSYM': 'currency', 'ORIGCURRENCY/CURSYM': 'originalCurrency',
  CORRECTFITID: 'correctFitId', CORRECTACTION: 'correctAction',
};

function readTransactionField(transaction: OfxTransaction, below: string, value: string): void {
  const field = transactionFields[below];
  if (field !== undefined && field !== 'line' && field !== 'amountLine') transaction[field] = value;
}

function readBalanceField(balance: OfxBalance, name: string, value: string): void {
  if (name === 'BALAMT') balance.amount = value;
  if (name === 'DTASOF') balance.asOf = value;
}

function readAccountField(statement: OfxStatement, name: string, value: string): void {
  if (name === 'BANKID') statement.bankId = value;
  if (name === 'ACCTID') statement.accountId = value;
  if (name === 'ACCTTYPE') statement.accountType = value;
}
