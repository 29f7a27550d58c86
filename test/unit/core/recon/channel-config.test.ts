// Spec of the channels file (issue #17 §3): config/recon-channels.example.json parses to exact values (u128 ids and
// amounts as bigints, every omitted field at its default, WeChat's mapping merged over the bill's own columns field
// by field); each broken rule is refused with a ChannelConfigError whose message starts with the JSON path of the
// offending value; config/recon-channels.schema.json accepts the example, refuses what a schema can see, and lists
// the same vocabularies and bounds as the parser.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it, test } from 'vitest';
import { channelFormats, keyEncodings, keyLedgerFields, keyStatementFields, mappedFields, ourStatuses, strategyActions } from '../../../../src/core/recon/channel-config.js';
import {
  balanceBases,
  businessDayFields,
  ChannelConfigError,
  channelKeysMax,
  channelsMax,
  channelStrategiesMax,
  columnMapEntriesMax,
  configTextCharsMax,
  csvHeaderRowMax,
  csvMarkersMax,
  csvValuePrefixCharsMax,
  dateWindowSecondsMax,
  ledgerCodesPerKindMax,
  pendingWaitDaysMax,
  channelDirections,
  channelEncodings,
  channelGranularities,
  csvAmountModes,
  csvDecimalMarks,
  parseChannels,
  wechatTradeBillMapping,
} from '../../../../src/core/recon/channel-config-parse.js';
import { rowStatuses, rowTypes } from '../../../../src/core/recon/statement-row.js';
import { amountMax, idMax } from '../../../../src/core/limits.js';

const configDir = join(import.meta.dirname, '../../../../config');
const exampleText = readFileSync(join(configDir, 'recon-channels.example.json'), 'utf8');
const schema = JSON.parse(readFileSync(join(configDir, 'recon-channels.schema.json'), 'utf8'));
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

// Loosely typed so that cases can break the file's shape on purpose.
type Json = any;
const example = (): Json => JSON.parse(exampleText);

/** The smallest channel the parser accepts: every other field takes its default. */
const minimalMt940 = (): Json => ({
  name: 'bank-a',
  format: 'mt940',
  currency: 'EUR',
  ledger: 978,
  timeZone: 'Europe/Amsterdam',
  accounts: { clearing: '42' },
  keys: [{ statement: 'channelSerialNo', ledger: 'id', encode: 'decimal' }],
});

function refusal(json: unknown): ChannelConfigError {
  try {
    parseChannels(json);
  } catch (error) {
    if (error instanceof ChannelConfigError) return error;
    throw error;
  }
  throw new Error('parseChannels accepted the file');
}

describe('parseChannels on the example file', () => {
  const file = parseChannels(example());

  it('reads the WeChat channel: ids and amounts exact, the mapping merged over the bill default field by field', () => {
    const [wechat] = file.channels;
    expect(wechat).toEqual({
      name: 'wechat-main',
      format: 'wechatpay-tradebill',
      encoding: 'utf-8',
      statementAccount: '1601959334',
      currency: 'CNY',
      ledger: 156,
      timeZone: 'Asia/Shanghai',
      accounts: { clearing: 5000001n, unidentified: 5000099n, fees: 6000001n },
      direction: 'asset',
      businessDay: 'transactionTime',
      granularity: 'entry',
      mapping: {
        ...wechatTradeBillMapping,
        fee: { column: '手续费' },
        // The given status rule replaces the default's whole rule, so its `*` entry is gone.
        status: { column: '交易状态', map: { SUCCESS: 'success', REFUND: 'refund', REVOKED: 'failed' } },
      },
      csv: null,
      keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }],
      fallback: null,
      ledgerCodes: { payment: [1001], refund: [1002], fee: [6001] },
      tolerance: { amountMinor: 0n, feeMinor: 0n, dateWindowSeconds: 86_400 },
      pendingDaysMax: 3,
      strategies: [
        { type: 'payment', ours: 'none', theirs: 'success', action: 'post_missing_credit', amountMaxMinor: 500_000n },
        { type: 'payment', ours: 'pending', theirs: 'success', action: 'post_pending', amountMaxMinor: null },
        { type: 'refund', ours: 'none', theirs: 'refund', action: 'post_refund', amountMaxMinor: null },
        { type: '*', ours: '*', theirs: '*', action: 'hold', amountMaxMinor: null },
      ],
      checks: { balanceBasis: 'booking' },
    });
    expect(wechat!.mapping!.currency).toEqual({ column: '货币种类' }); // not in the file: from the default
  });

  it('reads the camt.053 and MT940 channels with their defaults, the fallback key apart from the exact keys', () => {
    const [, camt, mt940] = file.channels;
    expect(camt).toMatchObject({
      accounts: { clearing: 5000201n, unidentified: null, fees: null },
      encoding: 'utf-8',
      mapping: null,
      csv: null,
      keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }],
      fallback: 'amount+valueDate',
      ledgerCodes: { payment: [], refund: [], fee: [] },
      checks: { balanceBasis: 'value' },
      pendingDaysMax: 3,
    });
    expect(mt940).toMatchObject({ format: 'mt940', statementAccount: '0111111111', businessDay: 'bookingDate', fallback: null, checks: { balanceBasis: 'booking' } });
  });

  it('reads the CSV channel: its template with defaults, an indicator column, amounts from the mapping', () => {
    const csv = file.channels[3]!;
    expect(csv.csv).toEqual({
      separator: ';',
      quote: '"',
      decimalMark: ',',
      thousandsSeparator: '.',
      headerRow: 5,
      footerStartsWith: ['Kontostand'],
      valuePrefix: '',
      amount: { mode: 'indicator', column: 'Soll/Haben', credit: ['H'], debit: ['S'] },
    });
    expect(csv.mapping).toEqual({
      bookingDate: { column: 'Buchungstag', format: 'dd.MM.yyyy' },
      valueDate: { column: 'Valuta', format: 'dd.MM.yyyy' },
      merchantOrderNo: { column: 'Verwendungszweck' },
      payer: { column: 'Empfänger/Zahlungspflichtiger' },
      amount: { column: 'Umsatz' },
      currency: { column: 'Währung' },
    });
    expect(csv).toMatchObject({
      encoding: 'latin1',
      accounts: { clearing: 5000401n, unidentified: 5000499n, fees: null },
      ledgerCodes: { payment: [2001], refund: [2002], fee: [] },
      tolerance: { amountMinor: 0n, feeMinor: 0n, dateWindowSeconds: 172_800 },
      fallback: 'amount+valueDate',
    });
  });

  it('is accepted by the JSON Schema', () => {
    expect(validate(example()), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe('parseChannels defaults', () => {
  it('fills every omitted field of a minimal MT940 channel', () => {
    expect(parseChannels({ version: 1, channels: [minimalMt940()] }).channels[0]).toEqual({
      ...minimalMt940(),
      encoding: 'utf-8',
      statementAccount: null,
      accounts: { clearing: 42n, unidentified: null, fees: null },
      direction: 'asset',
      businessDay: 'bookingDate',
      granularity: 'entry',
      mapping: null,
      csv: null,
      fallback: null,
      ledgerCodes: { payment: [], refund: [], fee: [] },
      tolerance: { amountMinor: 0n, feeMinor: 0n, dateWindowSeconds: 86_400 },
      pendingDaysMax: 3,
      strategies: [],
      checks: { balanceBasis: 'booking' },
    });
  });

  it('gives a WeChat channel the bill mapping and transactionTime days, as a copy of its own', () => {
    const channel = parseChannels({ version: 1, channels: [{ ...minimalMt940(), format: 'wechatpay-tradebill', currency: 'CNY' }] }).channels[0]!;
    expect(channel.mapping).toEqual(wechatTradeBillMapping);
    expect(channel.businessDay).toBe('transactionTime');
    channel.mapping!.status!.map = {};
    expect(wechatTradeBillMapping.status!.map).toHaveProperty('*', 'info');
  });

  it('fills a CSV template, reads null as omitted, and takes the largest id and amount exactly', () => {
    const json = {
      ...minimalMt940(),
      format: 'csv',
      statementAccount: null,
      accounts: { clearing: idMax.toString(), fees: null },
      csv: { amount: { mode: 'debitCredit', debitColumn: 'Debit', creditColumn: 'Credit' } },
      mapping: { transactionTime: 'Date' },
      tolerance: { amountMinor: amountMax.toString() },
    };
    const channel = parseChannels({ version: 1, channels: [json] }).channels[0]!;
    expect(channel.csv).toEqual({
      separator: ',', quote: '"', decimalMark: '.', thousandsSeparator: '', headerRow: 1, footerStartsWith: [], valuePrefix: '',
      amount: { mode: 'debitCredit', debitColumn: 'Debit', creditColumn: 'Credit' },
    });
    expect(channel).toMatchObject({ statementAccount: null, businessDay: 'transactionTime', accounts: { clearing: idMax, fees: null }, tolerance: { amountMinor: amountMax } });
  });
});

type Case = [what: string, breakIt: (json: Json) => void, path: string, reason: string, schemaRefuses: boolean];

// Each case breaks one rule of the example; the parser names the path, the schema refuses where it can see the rule.
const badConfigs: Case[] = [
  ['a version other than 1', (j) => (j.version = 2), '$.version', 'must be 1, not 2', true],
  ['an unknown top-level field', (j) => (j.comment = 'x'), '$.comment', 'unknown field (expected version, channels)', true],
  ['no channels', (j) => (j.channels = []), '$.channels', 'must be an array of 1 to 256 elements', true],
  ['an unknown channel field', (j) => (j.channels[0].archive = 'gzip-optional'), '$.channels[0].archive', 'unknown field', true],
  ['an unknown field in a column rule', (j) => (j.channels[0].mapping.fee = { column: '手续费', rounding: 'refuse' }), '$.channels[0].mapping.fee.rounding', 'unknown field (expected column)', true],
  ['a date format on an amount column', (j) => (j.channels[3].mapping.amount = { column: 'Umsatz', format: 'x' }), '$.channels[3].mapping.amount.format', 'unknown field (expected column)', true],
  ['an unknown mapped field, named by its text', (j) => (j.channels[0].mapping['交易'] = 'x'), '$.channels[0].mapping["交易"]', 'unknown field', true],
  ['a channel name with a space', (j) => (j.channels[0].name = 'wechat main'), '$.channels[0].name', 'must be 1 to 64 characters of A-Z a-z 0-9 . _ -', true],
  ['an unknown format', (j) => (j.channels[2].format = 'mt941'), '$.channels[2].format', `must be one of ${channelFormats.join(', ')}`, true],
  ['a currency this build does not know', (j) => (j.channels[1].currency = 'XYZ'), '$.channels[1].currency', 'must be an ISO 4217 alphabetic code', false],
  ['ledger 0', (j) => (j.channels[1].ledger = 0), '$.channels[1].ledger', 'must be an integer 1..4294967295', true],
  ['a ledger past u32', (j) => (j.channels[1].ledger = 2 ** 32), '$.channels[1].ledger', 'must be an integer 1..4294967295', true],
  ['an unknown time zone', (j) => (j.channels[2].timeZone = 'Mars/Olympus'), '$.channels[2].timeZone', '"Mars/Olympus" is no IANA time zone this runtime knows', false],
  ['a missing clearing account', (j) => delete j.channels[1].accounts.clearing, '$.channels[1].accounts.clearing', 'required', true],
  ['an id with a letter', (j) => (j.channels[0].accounts.clearing = '5000001x'), '$.channels[0].accounts.clearing', 'must be a string of decimal digits without leading zeros, like "500000"', true],
  ['an id as a JSON number', (j) => (j.channels[0].accounts.clearing = 5000001), '$.channels[0].accounts.clearing', '(quote the number)', true],
  ['an id with a leading zero', (j) => (j.channels[0].accounts.fees = '06000001'), '$.channels[0].accounts.fees', 'without leading zeros', true],
  ['id 0', (j) => (j.channels[0].accounts.unidentified = '0'), '$.channels[0].accounts.unidentified', 'must be an account id 1..2^128 − 1', true],
  ['an id of 2^128', (j) => (j.channels[0].accounts.clearing = (1n << 128n).toString()), '$.channels[0].accounts.clearing', 'must be an account id 1..2^128 − 1', false],
  ['fees in the clearing account', (j) => (j.channels[0].accounts.fees = '5000001'), '$.channels[0].accounts.fees', 'must differ from clearing', false],
  ['an amount of 2^63', (j) => (j.channels[0].strategies[0].amountMaxMinor = (1n << 63n).toString()), '$.channels[0].strategies[0].amountMaxMinor', 'must be an amount 0..2^63 − 1 in minor units', false],
  ['a negative tolerance', (j) => (j.channels[0].tolerance.feeMinor = '-1'), '$.channels[0].tolerance.feeMinor', 'must be a string of decimal digits', true],
  ['a fractional date window', (j) => (j.channels[0].tolerance.dateWindowSeconds = 1.5), '$.channels[0].tolerance.dateWindowSeconds', 'must be an integer 0..2678400', true],
  ['a key on an unknown ledger field', (j) => (j.channels[1].keys[0].ledger = 'user_data_256'), '$.channels[1].keys[0].ledger', 'must be one of user_data_128, user_data_64, user_data_32, id', true],
  ['a missing keys field', (j) => delete j.channels[2].keys, '$.channels[2].keys', 'required', true],
  ['only a fallback key', (j) => j.channels[1].keys.shift(), '$.channels[1].keys', 'needs at least one exact key {statement, ledger, encode}', true],
  ['a second fallback', (j) => j.channels[1].keys.push({ match: 'amount+valueDate', unique: true }), '$.channels[1].keys[2]', 'a second fallback; a channel has at most one', false],
  ['an exact key after the fallback', (j) => j.channels[1].keys.reverse(), '$.channels[1].keys[1]', 'an exact key after the fallback; the fallback comes last', false],
  ['a fallback not unique', (j) => (j.channels[1].keys[1].unique = false), '$.channels[1].keys[1].unique', 'must be true', true],
  ['keys comparing two ledger fields', (j) => j.channels[0].keys.push({ statement: 'channelSerialNo', ledger: 'id', encode: 'decimal' }), '$.channels[0].keys[1].ledger', 'is id, but $.channels[0].keys[0] compares user_data_128: every exact key of a channel compares the same ledger field', false],
  ['a digest compared with a 64-bit field', (j) => (j.channels[2].keys[0].ledger = 'user_data_64'), '$.channels[2].keys[0].encode', 'sha256-128 yields 128 bits', false],
  ['a status mapped to no row status', (j) => (j.channels[0].mapping.status.map.SUCCESS = 'ok'), '$.channels[0].mapping.status.map.SUCCESS', `must be one of ${rowStatuses.join(', ')}`, true],
  ['a type mapped to no row type', (j) => (j.channels[0].mapping.type.map['*'] = 'sale'), '$.channels[0].mapping.type.map["*"]', `must be one of ${rowTypes.join(', ')}`, true],
  ['a mapping on a camt channel', (j) => (j.channels[1].mapping = { amount: 'x' }), '$.channels[1].mapping', 'camt.053 fields are fixed by the format', true],
  ['a CSV template on an MT940 channel', (j) => (j.channels[2].csv = j.channels[3].csv), '$.channels[2].csv', 'only a csv channel takes a template; this one is mt940', true],
  ['a CSV channel without a template', (j) => delete j.channels[3].csv, '$.channels[3].csv', 'required for format csv', true],
  ['a CSV mapping without an amount', (j) => delete j.channels[3].mapping.amount, '$.channels[3].mapping', 'names no amount column (amount mode indicator)', false],
  ['a CSV mapping without dates', (j) => (delete j.channels[3].mapping.bookingDate, delete j.channels[3].mapping.valueDate), '$.channels[3].mapping', 'names no date column (one of transactionTime, bookingDate, valueDate)', false],
  ['business days by a date not mapped', (j) => delete j.channels[3].mapping.bookingDate, '$.channels[3].businessDay', 'bookingDate is no mapped column', false],
  ['a two-character separator', (j) => (j.channels[3].csv.separator = ';;'), '$.channels[3].csv.separator', 'must be 1 character', true],
  ['an unknown amount mode', (j) => (j.channels[3].csv.amount = { mode: 'net' }), '$.channels[3].csv.amount.mode', 'must be one of signed, debitCredit, indicator', true],
  ['one indicator both credit and debit', (j) => (j.channels[3].csv.amount.debit = ['S', 'H']), '$.channels[3].csv.amount.debit[1]', '"H" is a credit indicator too', false],
  ['transactions of an MT940 statement', (j) => (j.channels[2].granularity = 'transaction'), '$.channels[2].granularity', 'applies to camt formats only', false],
  ['MT940 days by transaction time', (j) => (j.channels[2].businessDay = 'transactionTime'), '$.channels[2].businessDay', 'mt940 rows have no transaction time', false],
  ['a transfer code in two kinds', (j) => (j.channels[0].ledgerCodes.fee = [6001, 1001]), '$.channels[0].ledgerCodes.fee[1]', 'code 1001 is listed under payment already', false],
  ['an unknown strategy action', (j) => (j.channels[2].strategies[0].action = 'post'), '$.channels[2].strategies[0].action', `must be one of ${strategyActions.join(', ')}`, true],
  ['an action needing an account the channel lacks', (j) => j.channels[1].strategies.unshift({ type: 'fee', ours: 'posted', theirs: 'success', action: 'post_fee_difference' }), '$.channels[1].strategies[0].action', 'post_fee_difference posts to accounts.fees, which this channel lacks', false],
  ['two rules for one case', (j) => j.channels[0].strategies.push({ type: '*', ours: '*', theirs: '*', action: 'post_pending' }), '$.channels[0].strategies[4]', 'is the case of $.channels[0].strategies[3] already', false],
  ['two channels of one name', (j) => (j.channels[2].name = 'wechat-main'), '$.channels[2].name', '"wechat-main" is the name of $.channels[0] already', false],
  ['two channels reading one account in one format', (j) => j.channels.push({ ...j.channels[2], name: 'ing-copy' }), '$.channels[4].statementAccount', '$.channels[2] reads mt940 statements of "0111111111" already', false],
  ['a __proto__ field', (j) => Object.defineProperty(j, '__proto__', { value: {}, enumerable: true }), '$.__proto__', 'unknown field', true],
];

describe('parseChannels refusals', () => {
  test.each(badConfigs)('refuses %s, naming the path', (_what, breakIt, path, reason) => {
    const json = example();
    breakIt(json);
    const error = refusal(json);
    expect(error.path).toBe(path);
    expect(error.message.startsWith(`${path}: `), error.message).toBe(true);
    expect(error.message).toContain(reason);
  });

  test.each(badConfigs.filter((c) => c[4]))('the schema refuses %s too', (_what, breakIt) => {
    const json = example();
    breakIt(json);
    expect(validate(json)).toBe(false);
  });

  it('refuses what is no object at all', () => {
    expect(refusal([]).message).toBe('$: must be a JSON object');
    expect(refusal({ version: 1, channels: [null] }).message).toBe('$.channels[0]: must be a JSON object');
  });
});

describe('the JSON Schema stays the twin of the parser', () => {
  const defs = schema.$defs;
  const enumOf = (node: Json): unknown[] => node.enum;

  it('lists the same vocabularies', () => {
    const channel = defs.channel.properties;
    expect(enumOf(channel.format)).toEqual([...channelFormats]);
    expect(enumOf(channel.encoding)).toEqual([...channelEncodings]);
    expect(enumOf(channel.direction)).toEqual([...channelDirections]);
    expect(enumOf(channel.businessDay)).toEqual([...businessDayFields]);
    expect(enumOf(channel.granularity)).toEqual([...channelGranularities]);
    expect(enumOf(channel.checks.properties.balanceBasis)).toEqual([...balanceBases]);
    expect(enumOf(defs.exactKey.properties.statement)).toEqual([...keyStatementFields]);
    expect(enumOf(defs.exactKey.properties.ledger)).toEqual([...keyLedgerFields]);
    expect(enumOf(defs.exactKey.properties.encode)).toEqual([...keyEncodings]);
    expect(Object.keys(defs.mapping.properties)).toEqual([...mappedFields]);
    expect(enumOf(defs.typeRule.anyOf[1].properties.map.additionalProperties)).toEqual([...rowTypes]);
    expect(enumOf(defs.statusRule.anyOf[1].properties.map.additionalProperties)).toEqual([...rowStatuses]);
    expect(enumOf(defs.strategy.properties.type)).toEqual(['*', ...rowTypes]);
    expect(enumOf(defs.strategy.properties.ours)).toEqual(['*', ...ourStatuses]);
    expect(enumOf(defs.strategy.properties.theirs)).toEqual(['*', ...rowStatuses]);
    expect(enumOf(defs.strategy.properties.action)).toEqual([...strategyActions]);
    expect(defs.csvAmount.oneOf.map((mode: Json) => mode.properties.mode.const)).toEqual([...csvAmountModes]);
    expect(enumOf(defs.csv.properties.decimalMark)).toEqual([...csvDecimalMarks]);
  });

  it('states the same bounds', () => {
    const channel = defs.channel.properties;
    expect(schema.properties.channels.maxItems).toBe(channelsMax);
    expect(defs.keys.maxItems).toBe(channelKeysMax + 1);
    expect(channel.strategies.maxItems).toBe(channelStrategiesMax);
    expect(channel.pendingDaysMax.maximum).toBe(pendingWaitDaysMax);
    expect(defs.transferCodes.maxItems).toBe(ledgerCodesPerKindMax);
    expect(defs.tolerance.properties.dateWindowSeconds.maximum).toBe(dateWindowSecondsMax);
    expect(defs.text.maxLength).toBe(configTextCharsMax);
    expect(defs.texts.maxItems).toBe(csvMarkersMax);
    expect(defs.csv.properties.headerRow.maximum).toBe(csvHeaderRowMax);
    expect(defs.csv.properties.valuePrefix.maxLength).toBe(csvValuePrefixCharsMax);
    expect(defs.typeRule.anyOf[1].properties.map.maxProperties).toBe(columnMapEntriesMax);
  });
});
