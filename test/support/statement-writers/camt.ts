// ISO 20022 camt.052 (account report), camt.053 (statement) and camt.054 (notification) written from movements
// (src/recon/camt-reader.ts and core/recon/camt.ts read and check them). One Ntry per movement with one TxDtls
// carrying its EndToEndId (our key), the bank's AcctSvcrRef (its serial) and the transaction's own amount, or a
// batch of movements booked as one Ntry (Btch, a TxDtls each). camt.053:
// OPBD + booked entries = CLBD and a transactions summary; camt.052: the day's first and last interim balances
// (ITBD) and a summary; camt.054: entries only (a notification states no balances). Booked movements are BOOK,
// pending ones PDNG (outside the balances, as ISO has it). Version 2 writes `<Sts>BOOK</Sts>` and the transaction's
// amount under AmtDtls/TxAmt; version 8 `<Sts><Cd>BOOK</Cd></Sts>` and TxDtls/Amt with its CdtDbtInd.
// camt carries charges (Chrgs), but the reader keeps none, and it has no failed status: the writer refuses a fee
// and a failed movement.

import { bookedNet, dateNumberOf, requireThat, scaleOf, styledDecimal, sumOf, type DecimalStyle, type Movement, type ReadsAs, type StatementSpec, type WrittenFile } from './movement.js';

export type CamtFormat = 'camt.052' | 'camt.053' | 'camt.054';

export interface CamtOptions {
  version: 2 | 8;
  /** Indentation and newlines between elements (a bank's pretty-printing), or none at all. */
  pretty: boolean;
  /** How amounts write their decimals (`12.3`, `12.30`, `12.30000`). */
  decimals: DecimalStyle;
  /** Each Ntry with its NtryRef (the entry's serial is then AcctSvcrRef/NtryRef). */
  entryRef: boolean;
  /** The account as an IBAN (Acct/Id/IBAN) or as another identifier (Acct/Id/Othr/Id: accounts without an IBAN). */
  accountId: 'IBAN' | 'Othr';
  /** Booking dates as date-times (BookgDt/DtTm, the movement's local time) instead of dates. */
  bookingTime: boolean;
  /** The summary's net entry (TtlNetNtry: amount and direction of credits − debits), as version 4 and later write it. */
  netEntry: boolean;
  /** Another account's statement before ours in the same document (a channel's file covers all its accounts). */
  otherStatement: boolean;
  /**
   * Up to this many consecutive movements of one direction, status and value date booked as one Ntry (a batch:
   * Btch, one TxDtls each with its own amount). 1: an Ntry per movement. Only a channel reading camt per
   * transaction sees each movement of a batch as a row of its own.
   */
  batch: number;
  /** Elements in a prefixed namespace (`<ns2:Document xmlns:ns2=…>`, as JAXB writes them) instead of the default one. */
  prefixed: boolean;
}

/** The other account's statement: two movements of its own, nothing of ours. */
const otherAccount = 'CH9300762011623852957';
const otherMovements: readonly Movement[] = [
  { reference: 'OTHER-E2E-1', serial: 'OTHER-1', refundNo: '', amountMinor: 123_400n, direction: 'credit', feeMinor: 0n, status: 'success', type: 'payment', time: '09:00:00', valueDate: '' },
  { reference: 'OTHER-E2E-2', serial: 'OTHER-2', refundNo: '', amountMinor: 5_600n, direction: 'debit', feeMinor: 0n, status: 'success', type: 'refund', time: '10:00:00', valueDate: '' },
];

/** The NtryRef of a movement's entry: from its serial, so that a restated entry states the same one. */
const entryRefOf = (m: Movement): string => `N-${m.serial}`;

/** Per format: the document's message element, its statement element, and its namespace's message number. */
const layout: Readonly<Record<CamtFormat, { message: string; statement: string }>> = {
  'camt.052': { message: 'BkToCstmrAcctRpt', statement: 'Rpt' },
  'camt.053': { message: 'BkToCstmrStmt', statement: 'Stmt' },
  'camt.054': { message: 'BkToCstmrDbtCdtNtfctn', statement: 'Ntfctn' },
};

/** A tiny element tree: enough to write well-formed XML with escaped text. */
type Node = [name: string, children: Node[] | string, attributes?: Record<string, string>];

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function render(node: Node, pretty: boolean, prefix: string, depth = 0): string {
  const [local, children, attributes] = node;
  const name = `${prefix}${local}`;
  const pad = pretty ? '\n' + '  '.repeat(depth) : '';
  const attrs = Object.entries(attributes ?? {}).map(([key, value]) => ` ${key}="${escape(value)}"`).join('');
  if (typeof children === 'string') return `${pad}<${name}${attrs}>${escape(children)}</${name}>`;
  return `${pad}<${name}${attrs}>${children.map((child) => render(child, pretty, prefix, depth + 1)).join('')}${pad}</${name}>`;
}

const amountNode = (name: string, minor: bigint, spec: StatementSpec, options: CamtOptions): Node => [name, styledDecimal(minor, scaleOf(spec.currency), options.decimals), { Ccy: spec.currency }];
const side = (direction: Movement['direction']): string => (direction === 'credit' ? 'CRDT' : 'DBIT');

function balanceNode(code: string, minor: bigint, spec: StatementSpec, time: string, options: CamtOptions): Node {
  return ['Bal', [
    ['Tp', [['CdOrPrtry', [['Cd', code]]]]],
    amountNode('Amt', minor < 0n ? -minor : minor, spec, options),
    ['CdtDbtInd', minor < 0n ? 'DBIT' : 'CRDT'],
    ['Dt', time === '' ? [['Dt', spec.date]] : [['DtTm', `${spec.date}T${time}`]]],
  ]];
}

/** An entry (Ntry): one movement, or a batch of them booked as one sum. */
type Entry = readonly Movement[];

const entryMinor = (entry: Entry): bigint => sumOf(entry, (m) => m.amountMinor);

/** Movements in entries: consecutive ones of one direction, status and value date together, up to `batch` each. */
function entriesOf(movements: readonly Movement[], batch: number): Entry[] {
  const entries: Movement[][] = [];
  for (const m of movements) {
    const last = entries[entries.length - 1];
    const first = last?.[0];
    const joins = first !== undefined && last!.length < batch && first.direction === m.direction && first.status === m.status && first.valueDate === m.valueDate;
    if (joins) last!.push(m);
    else entries.push([m]);
  }
  return entries;
}

function summaryNode(entries: readonly Entry[], spec: StatementSpec, options: CamtOptions): Node {
  const text = (minor: bigint): string => styledDecimal(minor, scaleOf(spec.currency), options.decimals);
  const part = (name: string, list: readonly Entry[], extra: Node[] = []): Node => [name, [['NbOfNtries', String(list.length)], ['Sum', text(list.reduce((sum, entry) => sum + entryMinor(entry), 0n))], ...extra]];
  const net = entries.reduce((sum, entry) => sum + (entry[0]!.direction === 'credit' ? entryMinor(entry) : -entryMinor(entry)), 0n);
  const netEntry: Node[] = options.netEntry ? [['TtlNetNtry', [['Amt', text(net < 0n ? -net : net)], ['CdtDbtInd', net < 0n ? 'DBIT' : 'CRDT']]]] : [];
  return ['TxsSummry', [
    part('TtlNtries', entries, netEntry),
    part('TtlCdtNtries', entries.filter((entry) => entry[0]!.direction === 'credit')),
    part('TtlDbtNtries', entries.filter((entry) => entry[0]!.direction === 'debit')),
  ]];
}

function transactionNode(m: Movement, spec: StatementSpec, options: CamtOptions): Node {
  const amounts: Node[] = options.version === 8
    ? [amountNode('Amt', m.amountMinor, spec, options), ['CdtDbtInd', side(m.direction)]]
    : [['AmtDtls', [['TxAmt', [amountNode('Amt', m.amountMinor, spec, options)]]]]];
  const party: Node = m.direction === 'credit' ? ['Dbtr', [['Nm', 'ACME Trading & Co']]] : ['Cdtr', [['Nm', 'ACME Trading & Co']]];
  return ['TxDtls', [
    ['Refs', [['AcctSvcrRef', m.serial], ['EndToEndId', m.reference]]],
    ...amounts,
    ['RltdPties', [party]],
    ['RltdDts', [['TxDtTm', `${spec.date}T${m.time}`]]],
  ]];
}

function entryNode(entry: Entry, spec: StatementSpec, options: CamtOptions): Node {
  for (const m of entry) requireThat(m.feeMinor === 0n && m.status !== 'failed', 'camt rows carry no fee (Chrgs is not read) and no failed status');
  const m = entry[0]!;
  const batched = entry.length > 1;
  const status = m.status === 'success' ? 'BOOK' : 'PDNG';
  const batch: Node[] = batched ? [['Btch', [['PmtInfId', `PI-${m.serial}`], ['NbOfTxs', String(entry.length)]]]] : [];
  return ['Ntry', [
    ...(options.entryRef ? [['NtryRef', entryRefOf(m)] as Node] : []),
    amountNode('Amt', entryMinor(entry), spec, options),
    ['CdtDbtInd', side(m.direction)],
    ['RvslInd', 'false'],
    ['Sts', options.version === 8 ? [['Cd', status]] : status],
    ['BookgDt', [options.bookingTime ? ['DtTm', `${spec.date}T${m.time}`] : ['Dt', spec.date]]],
    ['ValDt', [['Dt', m.valueDate || spec.date]]],
    ['AcctSvcrRef', batched ? `B-${m.serial}` : m.serial],
    ['BkTxCd', [['Domn', [['Cd', 'PMNT'], ['Fmly', [['Cd', m.direction === 'credit' ? 'RCDT' : 'ICDT'], ['SubFmlyCd', 'ESCT']]]]]]],
    ['NtryDtls', [...batch, ...entry.map((each) => transactionNode(each, spec, options))]],
  ]];
}

function balancesOf(format: CamtFormat, movements: readonly Movement[], spec: StatementSpec, options: CamtOptions): Node[] {
  const closing = spec.openingMinor + bookedNet(movements);
  if (format === 'camt.053') return [balanceNode('OPBD', spec.openingMinor, spec, '', options), balanceNode('CLBD', closing, spec, '', options)];
  if (format === 'camt.052') return [balanceNode('ITBD', spec.openingMinor, spec, '00:00:00', options), balanceNode('ITBD', closing, spec, '23:59:59', options)];
  return [];
}

function statementNode(format: CamtFormat, movements: readonly Movement[], spec: StatementSpec, options: CamtOptions): Node {
  const entries = entriesOf(movements, options.batch);
  const id = `${format.slice(5)}-${spec.account}-${spec.date}`;
  const accountId: Node = options.accountId === 'IBAN' ? ['IBAN', spec.account] : ['Othr', [['Id', spec.account]]];
  return [layout[format].statement, [
    ['Id', id],
    ['ElctrncSeqNb', spec.date.replace(/-/g, '')],
    ['CreDtTm', `${spec.date}T23:59:59`],
    ['Acct', [['Id', [accountId]], ['Ccy', spec.currency]]],
    ...balancesOf(format, movements, spec, options),
    ...(format === 'camt.054' ? [] : [summaryNode(entries, spec, options)]),
    ...entries.map((entry) => entryNode(entry, spec, options)),
  ]];
}

export function writeCamt(format: CamtFormat, movements: readonly Movement[], spec: StatementSpec, options: CamtOptions): WrittenFile[] {
  const { message } = layout[format];
  const number = format.slice(5);
  const id = `${number}-${spec.account}-${spec.date}`;
  const other = options.otherStatement ? [statementNode(format, otherMovements, { ...spec, account: otherAccount, openingMinor: 0n }, options)] : [];
  const statements = [...other, statementNode(format, movements, spec, options)];
  const namespace = `urn:iso:std:iso:20022:tech:xsd:camt.${number}.001.0${options.version}`;
  const document: Node = ['Document', [[message, [['GrpHdr', [['MsgId', `MSG-${id}`], ['CreDtTm', `${spec.date}T23:59:59`]]], ...statements]]], {
    [options.prefixed ? 'xmlns:ns2' : 'xmlns']: namespace,
  }];
  const xml = `<?xml version="1.0" encoding="UTF-8"?>${options.pretty ? '\n' : ''}${render(document, options.pretty, options.prefixed ? 'ns2:' : '').trimStart()}\n`;
  return [{ name: `${id}.xml`, bytes: Buffer.from(xml, 'utf8') }];
}

/** What rows-from-camt makes of an entry: per Ntry its AcctSvcrRef/NtryRef as serial, per TxDtls the detail's own AcctSvcrRef. */
export function camtReadsAs(m: Movement, spec: StatementSpec, options: CamtOptions, granularity: 'entry' | 'transaction'): ReadsAs {
  return {
    bookingDate: dateNumberOf(spec.date), valueDate: dateNumberOf(m.valueDate),
    merchantOrderNo: m.reference, channelSerialNo: granularity === 'entry' ? `${m.serial}/${options.entryRef ? entryRefOf(m) : ''}` : m.serial, refundNo: '', amountMinor: m.amountMinor,
    direction: m.direction, feeMinor: 0n, status: m.status, type: m.direction === 'credit' ? 'transfer_in' : 'transfer_out',
  };
}
