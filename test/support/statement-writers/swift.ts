// SWIFT MT940 (customer statement) and MT942 (interim report) written from movements (core/recon/mt940.ts reads
// them). MT940: one statement of the day, split into pages of `pageSize` entries — a page closed with :62M: is
// continued by the next page's :60M: of the same amount — opening + entries = closing, and optionally ING's summary
// line (:86: after :62F:: counts and sums of debits and credits). MT942: :34F: floor, :13D: time, the entries, and
// :90D:/:90C: counts and sums. Each :61: is `value date YYMMDD, entry date MMDD, C|D [funds code] amount NTRF
// customerRef//bankRef`, its :86: after it; the customer reference is our key, or NONREF with the key in :86:'s
// /EREF/ (how SEPA banks pass the end-to-end id on). Options vary what banks vary: pages, the SWIFT envelope,
// supplementary details, :86: wrapped at 65 characters, another account's statement in the same file.
// The formats carry no fee and no status: every entry is booked, so the writer refuses a fee, a pending or a failed
// movement.

import { bookedNet, dateNumberOf, decimalText, requireThat, scaleOf, sumOf, yymmdd, type Movement, type ReadsAs, type StatementSpec, type WrittenFile } from './movement.js';

export interface SwiftOptions {
  /** Entries per page (MT940): more entries than this continue on :60M:/:62M: pages. */
  pageSize: number;
  /** Our reference in :86:/EREF/ behind a NONREF customer reference, instead of in the :61: itself. */
  referenceInInfo: boolean;
  /** ING's summary after :62F: (MT940). */
  summary: boolean;
  /** The SWIFT envelope ({1:…}{2:…}{4: … -}) around each message. */
  envelope: boolean;
  lineEnd: '\n' | '\r\n';
  /** The funds code after C/D (the currency's third letter, `CR` for EUR's R). */
  fundsCode: boolean;
  /** :61:'s supplementary details on a second line. */
  supplementary: boolean;
  /** :86: as a long structured text wrapped at SWIFT's 65 characters a line (the reference may be cut by a line end). */
  wrapInfo: boolean;
  /** Another account's statement before ours in the same file (MT940; MT942 reports of it likewise). */
  otherStatement: boolean;
}

const otherAccount = 'DE44500105175407324931';
const otherMovement = (date: string): Movement => ({
  reference: 'OTHERREF1', serial: 'OTHERBANK1', refundNo: '', amountMinor: 98_700n, direction: 'credit', feeMinor: 0n, status: 'success', type: 'payment', time: '12:00:00', valueDate: date,
});

/** SWIFT lines hold 65 characters: longer text continues on the next. */
function wrapped(text: string): string[] {
  const lines: string[] = [];
  for (let at = 0; at < text.length; at += 65) lines.push(text.slice(at, at + 65));
  return lines;
}

/** MMDD of the statement's date: the entry (booking) date; the :61: opens with the movement's own value date. */
const entryDateOf = (spec: StatementSpec): string => yymmdd(spec.date).slice(2);

const balance = (mark: 'F' | 'M', tag: '60' | '62', date: string, spec: StatementSpec, minor: bigint): string => {
  const amount = decimalText(minor < 0n ? -minor : minor, scaleOf(spec.currency), ',', { markWhenWhole: true });
  return `:${tag}${mark}:${minor < 0n ? 'D' : 'C'}${yymmdd(date)}${spec.currency}${amount}`;
};

function entryLines(m: Movement, spec: StatementSpec, options: SwiftOptions): string[] {
  requireThat(m.feeMinor === 0n && m.status === 'success', 'MT940/MT942 state no fee and no status: every entry is booked');
  const amount = decimalText(m.amountMinor, scaleOf(spec.currency), ',', { markWhenWhole: true });
  const customer = options.referenceInInfo ? 'NONREF' : m.reference;
  const remittance = options.wrapInfo ? '/REMI/INVOICE 2024-0815 FOR SERVICES RENDERED IN THE PERIOD UNDER CONTRACT 77-A' : '';
  const info = `:86:/TRCD/00100${remittance}${options.referenceInInfo ? `/EREF/${m.reference}` : ''}/NAME/ACME TRADING`;
  const funds = options.fundsCode ? spec.currency.slice(2) : '';
  const entry = `:61:${yymmdd(m.valueDate)}${entryDateOf(spec)}${m.direction === 'credit' ? 'C' : 'D'}${funds}${amount}NTRF${customer}//${m.serial}`;
  return [entry, ...(options.supplementary ? ['PAYMENT VIA SEPA'] : []), ...(options.wrapInfo ? wrapped(info) : [info])];
}

function wrap(lines: string[], options: SwiftOptions, type: '940' | '942'): string[] {
  if (!options.envelope) return [...lines, '-'];
  return [`{1:F01TALYDEFFA1000000000000}{2:O${type}1200251204TALYDEFFA10000000000002512041200N}{4:`, ...lines, '-}'];
}

/** ING's summary line: D<count>C<count>D<sum>C<sum>, sums with their decimal comma. */
function summaryLine(movements: readonly Movement[], scale: number): string {
  const debits = movements.filter((m) => m.direction === 'debit');
  const credits = movements.filter((m) => m.direction === 'credit');
  const sum = (list: readonly Movement[]) => decimalText(sumOf(list, (m) => m.amountMinor), scale, ',', { markWhenWhole: true });
  return `:86:D${String(debits.length).padStart(6, '0')}C${String(credits.length).padStart(6, '0')}D${sum(debits)}C${sum(credits)}`;
}

export function writeMt940(movements: readonly Movement[], spec: StatementSpec, options: SwiftOptions): WrittenFile[] {
  const other = options.otherStatement ? mt940Lines([otherMovement(spec.date)], { ...spec, account: otherAccount, openingMinor: 0n }, options) : [];
  const lines = [...other, ...mt940Lines(movements, spec, options)];
  return [{ name: `${spec.account}-${spec.date}.sta`, bytes: Buffer.from(lines.join(options.lineEnd) + options.lineEnd, 'utf8') }];
}

/** One account's statement: its pages, each a message. */
function mt940Lines(movements: readonly Movement[], spec: StatementSpec, options: SwiftOptions): string[] {
  const pages: Movement[][] = [];
  for (let at = 0; at < movements.length || pages.length === 0; at += options.pageSize) pages.push(movements.slice(at, at + options.pageSize));
  const lines: string[] = [];
  let balanceMinor = spec.openingMinor;
  pages.forEach((page, i) => {
    const first = i === 0;
    const last = i === pages.length - 1;
    const message = [`:20:STMT${yymmdd(spec.date)}`, `:25:${spec.account}`, `:28C:${Number(spec.date.slice(5, 7)) * 100 + Number(spec.date.slice(8, 10))}/${i + 1}`];
    message.push(balance(first ? 'F' : 'M', '60', spec.date, spec, balanceMinor));
    for (const m of page) message.push(...entryLines(m, spec, options));
    balanceMinor += bookedNet(page);
    message.push(balance(last ? 'F' : 'M', '62', spec.date, spec, balanceMinor));
    // ING states its summary of the message's own entries (the reader checks it per message).
    if (last && options.summary) message.push(summaryLine(page, scaleOf(spec.currency)));
    lines.push(...wrap(message, options, '940'));
  });
  return lines;
}

export function writeMt942(movements: readonly Movement[], spec: StatementSpec, options: SwiftOptions): WrittenFile[] {
  const other = options.otherStatement ? mt942Lines([otherMovement(spec.date)], { ...spec, account: otherAccount }, options) : [];
  const lines = [...other, ...mt942Lines(movements, spec, options)];
  return [{ name: `${spec.account}-${spec.date}.942`, bytes: Buffer.from(lines.join(options.lineEnd) + options.lineEnd, 'utf8') }];
}

function mt942Lines(movements: readonly Movement[], spec: StatementSpec, options: SwiftOptions): string[] {
  const scale = scaleOf(spec.currency);
  const side = (direction: Movement['direction']) => {
    const list = movements.filter((m) => m.direction === direction);
    return `${list.length}${spec.currency}${decimalText(sumOf(list, (m) => m.amountMinor), scale, ',', { markWhenWhole: true })}`;
  };
  const message = [`:20:RPT${yymmdd(spec.date)}`, `:25:${spec.account}`, `:28C:1/1`, `:34F:${spec.currency}0,`, `:13D:${yymmdd(spec.date)}2359+0100`];
  for (const m of movements) message.push(...entryLines(m, spec, options));
  message.push(`:90D:${side('debit')}`, `:90C:${side('credit')}`);
  return wrap(message, options, '942');
}

/** What rows-from-swift makes of an entry: bank reference as serial, NTRF a transfer in or out, always booked. */
export function swiftReadsAs(m: Movement, spec: StatementSpec): ReadsAs {
  return {
    bookingDate: dateNumberOf(spec.date), valueDate: dateNumberOf(m.valueDate),
    merchantOrderNo: m.reference, channelSerialNo: m.serial, refundNo: '', amountMinor: m.amountMinor, direction: m.direction, feeMinor: 0n,
    status: 'success', type: m.direction === 'credit' ? 'transfer_in' : 'transfer_out',
  };
}
