// Reads a channels file (`--recon-channels FILE`, issue #17 §3) into a ChannelsFile: every field checked by hand,
// defaults filled in, u128 ids and minor-unit amounts turned from decimal strings into exact bigints. A file that
// breaks a rule is refused whole by a ChannelConfigError naming the JSON path; nothing is guessed or truncated.
// Pure: the caller reads the file. config/recon-channels.schema.json is the editors' twin, kept in sync by a test.

import { currencyOfCode } from '../currencies.js';
import { amountMax, idMax } from '../limits.js';
import { assert } from '../assert.js';
import {
  channelFormats,
  keyEncodings,
  keyLedgerFields,
  keyStatementFields,
  mappedFields,
  ourStatuses,
  strategyActions,
  type ChannelConfig,
  type ChannelFormat,
  type ChannelsFile,
  type ColumnMapping,
  type ColumnRule,
  type CsvAmountMode,
  type CsvTemplate,
  type MappedField,
  type MatchKey,
  type StrategyAction,
  type StrategyRule,
} from './channel-config.js';
import { rowStatuses, rowTypes } from './statement-row.js';

/** A channels file that breaks a rule. The message starts with the JSON path of the offending value. */
export class ChannelConfigError extends Error {
  override name = 'ChannelConfigError';
  constructor(
    /** `$.channels[1].keys[0].ledger` */
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** Every member of a string union, checked both ways by the compiler: a missing or an extra member fails the build. */
function membersOf<T extends string>(members: Record<T, true>): readonly T[] {
  return Object.keys(members) as T[];
}

export const channelEncodings = membersOf<ChannelConfig['encoding']>({ 'utf-8': true, latin1: true, gb18030: true });
export const channelDirections = membersOf<ChannelConfig['direction']>({ asset: true, liability: true });
export const businessDayFields = membersOf<ChannelConfig['businessDay']>({ transactionTime: true, bookingDate: true, valueDate: true });
export const channelGranularities = membersOf<ChannelConfig['granularity']>({ entry: true, transaction: true });
export const balanceBases = membersOf<ChannelConfig['checks']['balanceBasis']>({ booking: true, value: true });
export const csvAmountModes = membersOf<CsvAmountMode['mode']>({ signed: true, debitCredit: true, indicator: true });
export const csvDecimalMarks = membersOf<CsvTemplate['decimalMark']>({ '.': true, ',': true });
export const fallbackMatches = membersOf<NonNullable<ChannelConfig['fallback']>>({ 'amount+valueDate': true });

/** Channels in one file: a deployment has tens; the bound keeps loading and the cross-channel checks small. */
export const channelsMax = 256;
/** Exact keys of one channel: the matcher tries each per row, and three statement fields rarely need more. */
export const channelKeysMax = 8;
/** Strategy rules of one channel: room for one rule per (type, ours, theirs) including `*`; duplicates are refused. */
export const channelStrategiesMax = (rowTypes.length + 1) * (ourStatuses.length + 1) * (rowStatuses.length + 1);
/** Transfer codes per kind (payment, refund, fee): a channel's postings use a handful. */
export const ledgerCodesPerKindMax = 64;
/** Entries of one column's value map (raw → ours): a channel's type and status vocabularies are small. */
export const columnMapEntriesMax = 256;
/** Characters of any name-like text (column, map key, footer marker, indicator value, statement account). */
export const configTextCharsMax = 256;
/** Lines before a CSV template's header row: bank exports put at most a page of preamble there. */
export const csvHeaderRowMax = 1000;
/** Footer markers and indicator values of one CSV template. */
export const csvMarkersMax = 16;
/** Characters a channel puts before every value (WeChat: one back-tick). */
export const csvValuePrefixCharsMax = 8;
/** How far apart a row's and a posting's dates may be: beyond a month the pending pool, not the window, holds them. */
export const dateWindowSecondsMax = 31 * 86_400;
/** Bound on a channel's pendingDaysMax: a year, past which a missing row is an error, never a wait. */
export const pendingWaitDaysMax = 366;

/** Ledger numbers are u32 on the wire; 0 is no ledger. */
const ledgerMax = 0xffff_ffff;
/** Transfer codes are u16; 0 is no code. */
const transferCodeMax = 0xffff;
const channelNamePattern = /^[A-Za-z0-9._-]{1,64}$/;
/** Digits without leading zeros, so each number has one spelling; 39 digits hold 2^128 − 1. */
const decimalPattern = /^(0|[1-9][0-9]{0,38})$/;
const dateFields: readonly MappedField[] = ['transactionTime', 'bookingDate', 'valueDate'];
/** Formats whose rows come from named columns, so a mapping says which column is which field. */
const columnFormats: readonly ChannelFormat[] = ['csv', 'wechatpay-tradebill'];

/** The account an action posts to besides clearing; a strategy naming the action needs the channel to have it. */
export const strategyActionAccounts: Readonly<Partial<Record<StrategyAction, 'unidentified' | 'fees'>>> = {
  post_missing_credit: 'unidentified',
  post_fee_difference: 'fees',
};

/** A WeChat Pay trade bill's columns under the bill's own header names; a channel's mapping replaces them field by field. */
export const wechatTradeBillMapping: Readonly<ColumnMapping> = {
  transactionTime: { column: '交易时间', format: 'yyyy-MM-dd HH:mm:ss' },
  channelSerialNo: { column: '微信订单号' },
  merchantOrderNo: { column: '商户订单号' },
  refundNo: { column: '微信退款单号' },
  payer: { column: '用户标识' },
  amount: { column: '应结订单金额' },
  refundAmount: { column: '退款金额' },
  fee: { column: '手续费' },
  currency: { column: '货币种类' },
  type: { column: '交易类型', map: { '*': 'payment' } },
  status: { column: '交易状态', map: { SUCCESS: 'success', REFUND: 'refund', REVOKED: 'failed', '*': 'info' } },
};

type Json = Record<string, unknown>;
type Read<T> = (value: unknown, path: string) => T;

const fileFields = ['version', 'channels'];
const channelFields = [
  'name', 'format', 'encoding', 'statementAccount', 'currency', 'ledger', 'timeZone', 'accounts', 'direction', 'businessDay',
  'granularity', 'mapping', 'csv', 'keys', 'ledgerCodes', 'tolerance', 'pendingDaysMax', 'strategies', 'checks',
];
const accountsFields = ['clearing', 'unidentified', 'fees'];
const exactKeyFields = ['statement', 'ledger', 'encode'];
const fallbackKeyFields = ['match', 'unique'];
const csvFields = ['separator', 'quote', 'decimalMark', 'thousandsSeparator', 'headerRow', 'footerStartsWith', 'valuePrefix', 'amount'];
const ledgerCodesFields = ['payment', 'refund', 'fee'] as const;
const toleranceFields = ['amountMinor', 'feeMinor', 'dateWindowSeconds'];
const strategyFields = ['type', 'ours', 'theirs', 'action', 'amountMaxMinor'];
const checksFields = ['balanceBasis'];

/** Checks a channels file (already read and JSON-parsed) and fills in its defaults; throws ChannelConfigError. */
export function parseChannels(json: unknown): ChannelsFile {
  const file = readObject(json, '$', fileFields);
  if (field(file, 'version') !== 1) refuse('$.version', `must be 1, not ${JSON.stringify(field(file, 'version'))}`);
  const nodes = readArray(required(file, 'channels', '$'), '$.channels', 1, channelsMax);
  const channels = nodes.map((node, i) => parseChannel(node, `$.channels[${i}]`));
  checkAcrossChannels(channels);
  assert(channels.length === nodes.length, 'one channel per element');
  return { version: 1, channels };
}

/** Names are unique, and two channels of one format never claim the same statement account (a file would match twice). */
function checkAcrossChannels(channels: readonly ChannelConfig[]): void {
  const byName = new Map<string, number>();
  const byAccount = new Map<string, number>();
  channels.forEach((channel, i) => {
    const sameName = byName.get(channel.name);
    if (sameName !== undefined) refuse(`$.channels[${i}].name`, `"${channel.name}" is the name of $.channels[${sameName}] already`);
    byName.set(channel.name, i);
    if (channel.statementAccount === null) return;
    const account = `${channel.format} ${channel.statementAccount}`;
    const sameAccount = byAccount.get(account);
    if (sameAccount !== undefined) {
      refuse(`$.channels[${i}].statementAccount`, `$.channels[${sameAccount}] reads ${channel.format} statements of "${channel.statementAccount}" already`);
    }
    byAccount.set(account, i);
  });
}

function parseChannel(value: unknown, path: string): ChannelConfig {
  const node = readObject(value, path, channelFields);
  const name = readName(required(node, 'name', path), at(path, 'name'));
  const format = readOneOf(required(node, 'format', path), at(path, 'format'), channelFormats);
  const channel: ChannelConfig = {
    name,
    format,
    encoding: withDefault(node, path, 'encoding', 'utf-8', (v, p) => readOneOf(v, p, channelEncodings)),
    statementAccount: withDefault(node, path, 'statementAccount', null, orNull(readStatementAccount)),
    currency: readCurrency(required(node, 'currency', path), at(path, 'currency')),
    ledger: readInteger(required(node, 'ledger', path), at(path, 'ledger'), 1, ledgerMax),
    timeZone: readTimeZone(required(node, 'timeZone', path), at(path, 'timeZone')),
    accounts: parseAccounts(required(node, 'accounts', path), at(path, 'accounts')),
    direction: withDefault(node, path, 'direction', 'asset', (v, p) => readOneOf(v, p, channelDirections)),
    businessDay: withDefault(node, path, 'businessDay', columnFormats.includes(format) || format === 'alipay-tradebill' ? 'transactionTime' : 'bookingDate', (v, p) =>
      readOneOf(v, p, businessDayFields),
    ),
    granularity: withDefault(node, path, 'granularity', 'entry', (v, p) => readOneOf(v, p, channelGranularities)),
    ...parseColumns(node, path, format),
    ...parseKeys(required(node, 'keys', path), at(path, 'keys')),
    ledgerCodes: withDefault(node, path, 'ledgerCodes', { payment: [], refund: [], fee: [] }, parseLedgerCodes),
    tolerance: withDefault(node, path, 'tolerance', { amountMinor: 0n, feeMinor: 0n, dateWindowSeconds: 86_400 }, parseTolerance),
    pendingDaysMax: withDefault(node, path, 'pendingDaysMax', 3, (v, p) => readInteger(v, p, 0, pendingWaitDaysMax)),
    strategies: withDefault(node, path, 'strategies', [], parseStrategies),
    checks: withDefault(node, path, 'checks', { balanceBasis: 'booking' }, (v, p) => ({
      balanceBasis: withDefault(readObject(v, p, checksFields), p, 'balanceBasis', 'booking', (b, bp) => readOneOf(b, bp, balanceBases)),
    })),
  };
  checkChannel(channel, path);
  return channel;
}

/** Rules between fields of one channel, checked once each field is valid on its own. */
function checkChannel(channel: ChannelConfig, path: string): void {
  assert(channel.keys.length >= 1, 'a channel has an exact key');
  assert((channel.format === 'csv') === (channel.csv !== null), 'a csv template exactly on csv channels');
  if (channel.granularity === 'transaction' && !channel.format.startsWith('camt.')) {
    refuse(at(path, 'granularity'), 'transaction (one row per TxDtls) applies to camt formats only');
  }
  if (channel.mapping !== null && channel.mapping[channel.businessDay] === undefined) {
    refuse(at(path, 'businessDay'), `${channel.businessDay} is no mapped column; map it or name a mapped date`);
  }
  if ((channel.format === 'mt940' || channel.format === 'mt942' || channel.format === 'bai2') && channel.businessDay === 'transactionTime') {
    refuse(at(path, 'businessDay'), `${channel.format} rows have no transaction time; use bookingDate or valueDate`);
  }
  channel.strategies.forEach((rule, i) => {
    const account = strategyActionAccounts[rule.action];
    if (account !== undefined && channel.accounts[account] === null) {
      refuse(`${path}.strategies[${i}].action`, `${rule.action} posts to accounts.${account}, which this channel lacks`);
    }
  });
}

function parseAccounts(value: unknown, path: string): ChannelConfig['accounts'] {
  const node = readObject(value, path, accountsFields);
  const accounts = {
    clearing: readId(required(node, 'clearing', path), at(path, 'clearing')),
    unidentified: withDefault(node, path, 'unidentified', null, orNull(readId)),
    fees: withDefault(node, path, 'fees', null, orNull(readId)),
  };
  // One account in two roles would net a suspense or fee posting against the channel's own balance.
  if (accounts.unidentified === accounts.clearing) refuse(at(path, 'unidentified'), 'must differ from clearing');
  if (accounts.fees === accounts.clearing) refuse(at(path, 'fees'), 'must differ from clearing');
  if (accounts.fees !== null && accounts.fees === accounts.unidentified) refuse(at(path, 'fees'), 'must differ from unidentified');
  return accounts;
}

/** JSON `keys`: exact keys in priority order, then at most one `{ "match": "amount+valueDate", "unique": true }`. */
function parseKeys(value: unknown, path: string): { keys: MatchKey[]; fallback: ChannelConfig['fallback'] } {
  const nodes = readArray(value, path, 1, channelKeysMax + 1);
  const keys: MatchKey[] = [];
  let fallback: ChannelConfig['fallback'] = null;
  nodes.forEach((node, i) => {
    const keyPath = `${path}[${i}]`;
    if (isRecord(node) && Object.hasOwn(node, 'match')) {
      if (fallback !== null) refuse(keyPath, 'a second fallback; a channel has at most one');
      fallback = parseFallbackKey(node, keyPath);
      return;
    }
    // Priority order: a fallback before an exact key would claim rows the key matches exactly.
    if (fallback !== null) refuse(keyPath, 'an exact key after the fallback; the fallback comes last');
    const key = parseExactKey(node, keyPath);
    if (keys.some((k) => k.statement === key.statement && k.ledger === key.ledger && k.encode === key.encode)) refuse(keyPath, 'the same key twice');
    // Our postings of a day are keyed by one ledger field per channel (core/recon/ledger-rows.ts): a key on another
    // field would be read from statements and compared with nothing — refused, never left silently unused.
    const first = keys[0];
    if (first !== undefined && key.ledger !== first.ledger) {
      refuse(at(keyPath, 'ledger'), `is ${key.ledger}, but ${path}[0] compares ${first.ledger}: every exact key of a channel compares the same ledger field`);
    }
    keys.push(key);
  });
  if (keys.length === 0) refuse(path, 'needs at least one exact key {statement, ledger, encode}');
  if (keys.length > channelKeysMax) refuse(path, `more than ${channelKeysMax} exact keys`);
  return { keys, fallback };
}

function parseExactKey(value: unknown, path: string): MatchKey {
  const node = readObject(value, path, exactKeyFields);
  const key: MatchKey = {
    statement: readOneOf(required(node, 'statement', path), at(path, 'statement'), keyStatementFields),
    ledger: readOneOf(required(node, 'ledger', path), at(path, 'ledger'), keyLedgerFields),
    encode: readOneOf(required(node, 'encode', path), at(path, 'encode'), keyEncodings),
  };
  // A 128-bit digest can never equal a 64- or 32-bit field: such a key would match nothing, silently.
  if (key.encode === 'sha256-128' && (key.ledger === 'user_data_64' || key.ledger === 'user_data_32')) {
    refuse(at(path, 'encode'), `sha256-128 yields 128 bits; ${key.ledger} holds fewer (use user_data_128, or decimal/hex ids)`);
  }
  return key;
}

function parseFallbackKey(node: Json, path: string): NonNullable<ChannelConfig['fallback']> {
  readObject(node, path, fallbackKeyFields);
  const match = readOneOf(field(node, 'match'), at(path, 'match'), fallbackMatches);
  if (field(node, 'unique') !== true) refuse(at(path, 'unique'), 'must be true: the fallback matches only where unique both ways');
  return match;
}

/** The mapping and CSV template, which only column-based formats take; WeChat's mapping starts from the bill's own. */
function parseColumns(node: Json, path: string, format: ChannelFormat): { mapping: ColumnMapping | null; csv: CsvTemplate | null } {
  const mappingPath = at(path, 'mapping');
  const csvPath = at(path, 'csv');
  const mappingGiven = field(node, 'mapping') ?? null;
  const csvGiven = field(node, 'csv') ?? null;
  if (csvGiven !== null && format !== 'csv') refuse(csvPath, `only a csv channel takes a template; this one is ${format}`);
  if (mappingGiven !== null && !columnFormats.includes(format)) refuse(mappingPath, `${format} fields are fixed by the format; only ${columnFormats.join(' and ')} take a mapping`);
  const mapping = mappingGiven === null ? null : parseMapping(mappingGiven, mappingPath);
  if (format === 'wechatpay-tradebill') return { mapping: { ...copyMapping(wechatTradeBillMapping), ...mapping }, csv: null };
  if (format !== 'csv') return { mapping: null, csv: null };
  if (csvGiven === null) refuse(csvPath, 'required for format csv');
  const csv = parseCsvTemplate(csvGiven, csvPath);
  if (mapping === null) refuse(mappingPath, 'required for format csv');
  checkCsvMapping(mapping, csv, mappingPath);
  return { mapping, csv };
}

function checkCsvMapping(mapping: ColumnMapping, csv: CsvTemplate, path: string): void {
  if (csv.amount.mode === 'debitCredit' && mapping.amount !== undefined) {
    refuse(at(path, 'amount'), 'the template reads amounts from debitColumn and creditColumn; drop this or use mode signed/indicator');
  }
  if (csv.amount.mode !== 'debitCredit' && mapping.amount === undefined) refuse(path, `names no amount column (amount mode ${csv.amount.mode})`);
  if (!dateFields.some((f) => mapping[f] !== undefined)) refuse(path, `names no date column (one of ${dateFields.join(', ')})`);
}

function copyMapping(mapping: Readonly<ColumnMapping>): ColumnMapping {
  const copy: ColumnMapping = {};
  for (const [name, rule] of Object.entries(mapping) as [MappedField, ColumnRule][]) copy[name] = { ...rule, ...(rule.map && { map: { ...rule.map } }) };
  return copy;
}

function parseMapping(value: unknown, path: string): ColumnMapping {
  const node = readObject(value, path, mappedFields);
  const mapping: ColumnMapping = {};
  for (const name of Object.keys(node) as MappedField[]) mapping[name] = parseColumnRule(name, node[name], at(path, name));
  return mapping;
}

/** A column rule: the column's name alone, or {column, format} for dates, {column, map} for type and status. */
function parseColumnRule(name: MappedField, value: unknown, path: string): ColumnRule {
  if (typeof value === 'string') return { column: readText(value, path) };
  if (!isRecord(value)) refuse(path, 'must be a column name or an object {column, …}');
  const mapValues: readonly string[] | null = name === 'type' ? rowTypes : name === 'status' ? rowStatuses : null;
  const fields = ['column', ...(dateFields.includes(name) ? ['format'] : []), ...(mapValues !== null ? ['map'] : [])];
  const node = readObject(value, path, fields);
  const rule: ColumnRule = { column: readText(required(node, 'column', path), at(path, 'column')) };
  if (Object.hasOwn(node, 'format')) rule.format = readText(node.format, at(path, 'format'), 64);
  if (Object.hasOwn(node, 'map')) rule.map = parseValueMap(node.map, at(path, 'map'), mapValues!);
  return rule;
}

function parseValueMap(value: unknown, path: string, values: readonly string[]): Record<string, string> {
  if (!isRecord(value)) refuse(path, 'must be an object of raw value → ours');
  const entries = Object.entries(value);
  if (entries.length === 0 || entries.length > columnMapEntriesMax) refuse(path, `must hold 1 to ${columnMapEntriesMax} entries`);
  const map: Record<string, string> = {};
  for (const [raw, ours] of entries) {
    if (raw.length > configTextCharsMax) refuse(at(path, raw), `a raw value longer than ${configTextCharsMax} characters`);
    map[raw] = readOneOf(ours, at(path, raw), values);
  }
  return map;
}

function parseCsvTemplate(value: unknown, path: string): CsvTemplate {
  const node = readObject(value, path, csvFields);
  const template: CsvTemplate = {
    separator: withDefault(node, path, 'separator', ',', (v, p) => readChars(v, p, 1, 1)),
    quote: withDefault(node, path, 'quote', '"', (v, p) => readChars(v, p, 0, 1)),
    decimalMark: withDefault(node, path, 'decimalMark', '.', (v, p) => readOneOf(v, p, csvDecimalMarks)),
    thousandsSeparator: withDefault(node, path, 'thousandsSeparator', '', (v, p) => readChars(v, p, 0, 1)),
    headerRow: withDefault(node, path, 'headerRow', 1, (v, p) => readInteger(v, p, 1, csvHeaderRowMax)),
    footerStartsWith: withDefault(node, path, 'footerStartsWith', [], (v, p) => readTexts(v, p, 0)),
    valuePrefix: withDefault(node, path, 'valuePrefix', '', (v, p) => readChars(v, p, 0, csvValuePrefixCharsMax)),
    amount: parseCsvAmount(required(node, 'amount', path), at(path, 'amount')),
  };
  if (template.quote === template.separator) refuse(at(path, 'quote'), 'must differ from the separator');
  if (template.thousandsSeparator === template.decimalMark) refuse(at(path, 'thousandsSeparator'), 'must differ from the decimal mark');
  if (/[0-9]/.test(template.thousandsSeparator)) refuse(at(path, 'thousandsSeparator'), 'must not be a digit');
  return template;
}

function parseCsvAmount(value: unknown, path: string): CsvAmountMode {
  if (!isRecord(value)) refuse(path, 'must be a JSON object {mode, …}');
  const mode = readOneOf(required(value, 'mode', path), at(path, 'mode'), csvAmountModes);
  if (mode === 'signed') {
    readObject(value, path, ['mode']);
    return { mode };
  }
  if (mode === 'debitCredit') {
    const node = readObject(value, path, ['mode', 'debitColumn', 'creditColumn']);
    const debitColumn = readText(required(node, 'debitColumn', path), at(path, 'debitColumn'));
    const creditColumn = readText(required(node, 'creditColumn', path), at(path, 'creditColumn'));
    if (creditColumn === debitColumn) refuse(at(path, 'creditColumn'), 'must differ from debitColumn');
    return { mode, debitColumn, creditColumn };
  }
  const node = readObject(value, path, ['mode', 'column', 'credit', 'debit']);
  const column = readText(required(node, 'column', path), at(path, 'column'));
  const credit = readTexts(required(node, 'credit', path), at(path, 'credit'), 1);
  const debit = readTexts(required(node, 'debit', path), at(path, 'debit'), 1);
  const both = debit.findIndex((text) => credit.includes(text));
  if (both >= 0) refuse(`${path}.debit[${both}]`, `"${debit[both]}" is a credit indicator too`);
  return { mode, column, credit, debit };
}

function parseLedgerCodes(value: unknown, path: string): ChannelConfig['ledgerCodes'] {
  const node = readObject(value, path, ledgerCodesFields);
  const seen = new Map<number, string>();
  const read = (kind: (typeof ledgerCodesFields)[number]): number[] =>
    withDefault(node, path, kind, [], (v, p) =>
      readArray(v, p, 0, ledgerCodesPerKindMax).map((code, i) => {
        const codePath = `${p}[${i}]`;
        const checked = readInteger(code, codePath, 1, transferCodeMax);
        // The matcher classes each of our postings by its code: one code in two kinds would make that a guess.
        if (seen.has(checked)) refuse(codePath, `code ${checked} is listed under ${seen.get(checked)} already`);
        seen.set(checked, kind);
        return checked;
      }),
    );
  return { payment: read('payment'), refund: read('refund'), fee: read('fee') };
}

function parseTolerance(value: unknown, path: string): ChannelConfig['tolerance'] {
  const node = readObject(value, path, toleranceFields);
  return {
    amountMinor: withDefault(node, path, 'amountMinor', 0n, readAmount),
    feeMinor: withDefault(node, path, 'feeMinor', 0n, readAmount),
    dateWindowSeconds: withDefault(node, path, 'dateWindowSeconds', 86_400, (v, p) => readInteger(v, p, 0, dateWindowSecondsMax)),
  };
}

function parseStrategies(value: unknown, path: string): StrategyRule[] {
  const rules = readArray(value, path, 0, channelStrategiesMax).map((node, i) => parseStrategy(node, `${path}[${i}]`));
  const seen = new Map<string, number>();
  rules.forEach((rule, i) => {
    // Two rules for one case either repeat each other or contradict; either way the second never decides.
    const when = `${rule.type}/${rule.ours}/${rule.theirs}`;
    if (seen.has(when)) refuse(`${path}[${i}]`, `type ${rule.type}, ours ${rule.ours}, theirs ${rule.theirs} is the case of ${path}[${seen.get(when)}] already`);
    seen.set(when, i);
  });
  return rules;
}

function parseStrategy(value: unknown, path: string): StrategyRule {
  const node = readObject(value, path, strategyFields);
  return {
    type: readOneOf(required(node, 'type', path), at(path, 'type'), ['*', ...rowTypes] as const),
    ours: readOneOf(required(node, 'ours', path), at(path, 'ours'), ['*', ...ourStatuses] as const),
    theirs: readOneOf(required(node, 'theirs', path), at(path, 'theirs'), ['*', ...rowStatuses] as const),
    action: readOneOf(required(node, 'action', path), at(path, 'action'), strategyActions),
    amountMaxMinor: withDefault(node, path, 'amountMaxMinor', null, orNull(readAmount)),
  };
}

// Readers of one JSON value each: they return it checked and typed, or refuse naming its path.

function refuse(path: string, reason: string): never {
  throw new ChannelConfigError(path, reason);
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The path of a field: `$.a.b`, or `$.a["交易状态"]` when the name is no identifier. */
function at(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** An own field only: a name like `constructor` must not reach Object.prototype. */
function field(node: Json, key: string): unknown {
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

function required(node: Json, key: string, path: string): unknown {
  if (!Object.hasOwn(node, key)) refuse(at(path, key), 'required');
  return node[key];
}

function withDefault<T>(node: Json, path: string, key: string, fallback: T, read: Read<T>): T {
  return Object.hasOwn(node, key) ? read(node[key], at(path, key)) : fallback;
}

/** For fields whose type allows null: JSON null means the same as leaving the field out. */
function orNull<T>(read: Read<T>): Read<T | null> {
  return (value, path) => (value === null ? null : read(value, path));
}

function readObject(value: unknown, path: string, fields: readonly string[]): Json {
  if (!isRecord(value)) refuse(path, 'must be a JSON object');
  const unknown = Object.keys(value).find((key) => !fields.includes(key));
  if (unknown !== undefined) refuse(at(path, unknown), `unknown field (expected ${fields.join(', ')})`);
  return value;
}

function readArray(value: unknown, path: string, lengthMin: number, lengthMax: number): unknown[] {
  if (!Array.isArray(value) || value.length < lengthMin || value.length > lengthMax) refuse(path, `must be an array of ${lengthMin} to ${lengthMax} elements`);
  return value;
}

function readOneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T {
  if (typeof value !== 'string' || !options.includes(value as T)) refuse(path, `must be one of ${options.join(', ')}`);
  return value as T;
}

function readInteger(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) refuse(path, `must be an integer ${min}..${max}`);
  return value;
}

/** A string of charsMin..charsMax characters (code points, so a tab or 交 is one). */
function readChars(value: unknown, path: string, charsMin: number, charsMax: number): string {
  const chars = typeof value === 'string' ? [...value].length : -1;
  if (chars < charsMin || chars > charsMax) refuse(path, charsMin === charsMax ? `must be ${charsMin} character` : `must be a string of ${charsMin} to ${charsMax} characters`);
  return value as string;
}

/** Name-like text: a column, a map key, a marker. Non-empty and bounded. */
function readText(value: unknown, path: string, charsMax = configTextCharsMax): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > charsMax) refuse(path, `must be a non-empty string of at most ${charsMax} characters`);
  return value;
}

function readTexts(value: unknown, path: string, lengthMin: number): string[] {
  return readArray(value, path, lengthMin, csvMarkersMax).map((text, i) => readText(text, `${path}[${i}]`));
}

function readName(value: unknown, path: string): string {
  if (typeof value !== 'string' || !channelNamePattern.test(value)) refuse(path, 'must be 1 to 64 characters of A-Z a-z 0-9 . _ -');
  return value;
}

function readStatementAccount(value: unknown, path: string): string {
  const text = readText(value, path, 64);
  if (text.trim() !== text) refuse(path, 'must not start or end with white space');
  return text;
}

function readCurrency(value: unknown, path: string): string {
  if (typeof value !== 'string' || currencyOfCode(value) === undefined) refuse(path, 'must be an ISO 4217 alphabetic code this build knows (src/core/currencies.ts), like "EUR"');
  return value;
}

function readTimeZone(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) refuse(path, 'must be an IANA time zone like "Asia/Shanghai"');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
  } catch {
    refuse(path, `"${value}" is no IANA time zone this runtime knows`);
  }
  return value;
}

/** A non-negative integer written as a decimal string (JSON numbers lose digits past 2^53). */
function readDecimal(value: unknown, path: string, min: bigint, max: bigint, range: string): bigint {
  if (typeof value !== 'string' || !decimalPattern.test(value)) {
    refuse(path, `must be a string of decimal digits without leading zeros, like "500000"${typeof value === 'number' ? ' (quote the number)' : ''}`);
  }
  const number = BigInt(value);
  if (number < min || number > max) refuse(path, `must be ${range}`);
  return number;
}

/** A u128 account id: 1..2^128 − 1 (0 is no account). */
function readId(value: unknown, path: string): bigint {
  return readDecimal(value, path, 1n, idMax, 'an account id 1..2^128 − 1');
}

/** Minor units: 0..2^63 − 1, the ledger's own amount bound. */
function readAmount(value: unknown, path: string): bigint {
  return readDecimal(value, path, 0n, amountMax, 'an amount 0..2^63 − 1 in minor units');
}
