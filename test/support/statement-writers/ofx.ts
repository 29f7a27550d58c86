// OFX statements written from movements (src/recon/ofx-reader.ts and core/recon/ofx.ts read and check them):
// OFX 1.0.2 SGML (a `KEY:VALUE` header, leaves with or without their end tags) or OFX 2.1.1 XML (every element
// closed), in Windows-1252 or UTF-8 as the header declares; a bank statement (STMTRS) or a card's (CCSTMTRS). One
// STMTTRN per movement: TRNTYPE CREDIT or DEBIT, DTPOSTED on the day (with its time and zone, or the date alone),
// DTAVAIL where the value date differs, TRNAMT signed (negative = money out), FITID the bank's id (unique per
// account: OFX allows no repeat, so a duplicate serial is no valid OFX), REFNUM our reference; the ledger balance
// after the day. Optionally another account's statement comes first in the file. OFX states no fee and no status:
// the writer refuses a fee, a pending or a failed movement.

import { bookedNet, dateNumberOf, decimalText, requireThat, scaleOf, type Movement, type ReadsAs, type StatementSpec, type WrittenFile } from './movement.js';

export interface OfxOptions {
  version: 'sgml-102' | 'xml-211';
  /** TRNAMT and BALAMT with a decimal comma (the specification allows it) instead of a point. */
  decimalComma: boolean;
  /** A credit's TRNAMT with its `+`. */
  plusSign: boolean;
  /** DTPOSTED as a date alone (no time, no zone). */
  dateOnly: boolean;
  /** The bytes' encoding, as the header declares it (CHARSET:1252 or ENCODING:UTF-8; XML's encoding="…"). */
  encoding: 'windows-1252' | 'utf-8';
  /** SGML leaves closed by their end tags too (`<CODE>0</CODE>`), which OFX 1.x allows. */
  closeLeaves: boolean;
  kind: 'bank' | 'creditcard';
  /** Another account's statement before ours (a download of every account of a login). */
  otherStatement: boolean;
}

/** A payee with characters outside ASCII and one SGML/XML must escape. */
const payee = 'Café Lumière & Söhne';
const otherAccount = '9876500001';
const dateOf = (spec: StatementSpec): string => spec.date.replace(/-/g, '');

function amountText(minor: bigint, spec: StatementSpec, options: OfxOptions): string {
  const text = decimalText(minor, scaleOf(spec.currency), options.decimalComma ? ',' : '.');
  return options.plusSign && minor > 0n ? `+${text}` : text;
}

/** Elements as [name, text] leaves or [name, children] aggregates. */
type Element = [string, string | Element[]];

function transaction(m: Movement, spec: StatementSpec, options: OfxOptions): Element {
  requireThat(m.feeMinor === 0n && m.status === 'success', 'OFX states no fee and no status');
  return ['STMTTRN', [
    ['TRNTYPE', m.direction === 'credit' ? 'CREDIT' : 'DEBIT'],
    ['DTPOSTED', options.dateOnly ? dateOf(spec) : `${dateOf(spec)}${m.time.replace(/:/g, '')}.000[+1:CET]`],
    // DTAVAIL: when the money is available, where it is not the day it posted (the row's value date).
    ...(m.valueDate === spec.date ? [] : [['DTAVAIL', m.valueDate.replace(/-/g, '')] as Element]),
    ['TRNAMT', amountText(m.direction === 'credit' ? m.amountMinor : -m.amountMinor, spec, options)],
    ['FITID', m.serial],
    ['REFNUM', m.reference],
    ['NAME', payee],
    ['MEMO', `Order ${m.reference}`],
  ]];
}

const status: Element = ['STATUS', [['CODE', '0'], ['SEVERITY', 'INFO']]];

/** One statement's response (STMTTRNRS or CCSTMTTRNRS) of an account. */
function response(movements: readonly Movement[], spec: StatementSpec, options: OfxOptions, uid: string): Element {
  const bank = options.kind === 'bank';
  const account: Element = bank ? ['BANKACCTFROM', [['BANKID', '50010517'], ['ACCTID', spec.account], ['ACCTTYPE', 'CHECKING']]] : ['CCACCTFROM', [['ACCTID', spec.account]]];
  return [bank ? 'STMTTRNRS' : 'CCSTMTTRNRS', [['TRNUID', uid], status, [bank ? 'STMTRS' : 'CCSTMTRS', [
    ['CURDEF', spec.currency],
    account,
    ['BANKTRANLIST', [['DTSTART', dateOf(spec)], ['DTEND', `${dateOf(spec)}235959[+1:CET]`], ...movements.map((m) => transaction(m, spec, options))]],
    ['LEDGERBAL', [['BALAMT', amountText(spec.openingMinor + bookedNet(movements), spec, options)], ['DTASOF', `${dateOf(spec)}235959[+1:CET]`]]],
  ]]]];
}

function document(movements: readonly Movement[], spec: StatementSpec, options: OfxOptions): Element {
  const other: Movement = { reference: 'OTHER-1', serial: 'OTHER-FIT-1', refundNo: '', amountMinor: 4_200n, direction: 'credit', feeMinor: 0n, status: 'success', type: 'payment', time: '08:00:00', valueDate: spec.date };
  const others = options.otherStatement ? [response([other], { ...spec, account: otherAccount, openingMinor: 0n }, options, '1')] : [];
  return ['OFX', [
    ['SIGNONMSGSRSV1', [['SONRS', [status, ['DTSERVER', `${dateOf(spec)}235959.000[+1:CET]`], ['LANGUAGE', 'ENG']]]]],
    [options.kind === 'bank' ? 'BANKMSGSRSV1' : 'CREDITCARDMSGSRSV1', [...others, response(movements, spec, options, '2')]],
  ]];
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** SGML: leaves with or without their end tag, aggregates closed, one element a line. */
function sgml([name, content]: Element, closeLeaves: boolean): string[] {
  if (typeof content === 'string') return [`<${name}>${escape(content)}${closeLeaves ? `</${name}>` : ''}`];
  return [`<${name}>`, ...content.flatMap((child) => sgml(child, closeLeaves)), `</${name}>`];
}

function xml([name, content]: Element, depth = 0): string[] {
  const pad = '  '.repeat(depth);
  if (typeof content === 'string') return [`${pad}<${name}>${escape(content)}</${name}>`];
  return [`${pad}<${name}>`, ...content.flatMap((child) => xml(child, depth + 1)), `${pad}</${name}>`];
}

/** Text as bytes of the declared encoding (the payee's é, è and ö are one byte each in Windows-1252, as in latin1). */
const bytesOf = (text: string, encoding: OfxOptions['encoding']): Buffer => Buffer.from(text, encoding === 'utf-8' ? 'utf8' : 'latin1');

export function writeOfx(movements: readonly Movement[], spec: StatementSpec, options: OfxOptions): WrittenFile[] {
  const tree = document(movements, spec, options);
  const name = `${spec.account}-${spec.date}.ofx`;
  if (options.version === 'xml-211') {
    const header = [`<?xml version="1.0" encoding="${options.encoding === 'utf-8' ? 'UTF-8' : 'windows-1252'}" standalone="no"?>`, '<?OFX OFXHEADER="200" VERSION="211" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>'];
    return [{ name, bytes: bytesOf([...header, ...xml(tree), ''].join('\n'), options.encoding) }];
  }
  const charset = options.encoding === 'utf-8' ? ['ENCODING:UTF-8', 'CHARSET:NONE'] : ['ENCODING:USASCII', 'CHARSET:1252'];
  const header = ['OFXHEADER:100', 'DATA:OFXSGML', 'VERSION:102', 'SECURITY:NONE', ...charset, 'COMPRESSION:NONE', 'OLDFILEUID:NONE', 'NEWFILEUID:NONE', ''];
  return [{ name, bytes: bytesOf([...header, ...sgml(tree, options.closeLeaves), ''].join('\r\n'), options.encoding) }];
}

/** What rows-from-ofx makes of a STMTTRN: FITID as serial, REFNUM as ours, CREDIT/DEBIT a transfer in or out. */
export function ofxReadsAs(m: Movement, spec: StatementSpec): ReadsAs {
  return {
    bookingDate: dateNumberOf(spec.date), valueDate: dateNumberOf(m.valueDate),
    merchantOrderNo: m.reference, channelSerialNo: m.serial, refundNo: '', amountMinor: m.amountMinor, direction: m.direction, feeMinor: 0n,
    status: 'success', type: m.direction === 'credit' ? 'transfer_in' : 'transfer_out',
  };
}
