// The settlement configuration (`tally serve --settle-config FILE`, issue #18): which ledger accounts each role of
// settlement-postings.ts is, per channel and per merchant; which postings on a channel's 在途 account are the
// payments and refunds clearing reads, and of which product; each merchant's number (how a payment names its
// merchant), cycle, minimum payout and rolling reserve; the working calendar; the transfer codes of the run's
// postings. Read from JSON; u128 ids and amounts are decimal strings there, exact here. A file that breaks a rule
// is refused whole, naming the JSON path. Fee strategies are not here: they change only under maker–checker
// (submit_settle_strategy), so an edit of this file can never change a fee.
//
// How a posting becomes a cleared item (clearing from the ledger's own postings of the day, src/settle):
//   payment: a transfer crediting the channel's 在途 account with a code in `payments` (code → product);
//   refund:  a transfer debiting it with a code in `refunds` (code → product);
//   merchant: the transfer's user_data_32, the merchant's `number`;
//   channel cost: the transfer's user_data_64, minor units the channel charged (a refund: gave back) for the item;
//   order id: the transfer's id (32 hex digits) — unique, and what a statement line names.
// 分账: `receivers` names the accounts profit is shared to; a merchant's `split` gives each receiver's share (basis
// points `bps`, or a decimal `ratio`) of every payment after its fee.

import { isBusinessDay } from '../business-day.js';
import { amountMax, idMax } from '../limits.js';
import { postingRoles, type PostingRole, type SettlementAccountConfig } from './settlement-postings.js';
import type { ProfitReceiver } from './allocation.js';
import { buildMerchantTerms, type MerchantTerms } from './settlement-terms.js';
import { buildWorkingCalendar, type WorkingCalendar, type WorkingCalendarSpec } from './working-calendar.js';
import { SettleError } from './settle-errors.js';
import { nameCharsMax, runMerchantChannelsMax } from './settle-limits.js';

export interface SettleChannel {
  readonly name: string;
  readonly inTransitAccountId: bigint;
  readonly feeIncomeAccountId: bigint;
  readonly payoutAccountId: bigint;
  /** Transfer code → product, for payments (credits of 在途) and refunds (debits of 在途). */
  readonly payments: ReadonlyMap<number, string>;
  readonly refunds: ReadonlyMap<number, string>;
  /** The reconciliation channel whose batches say which items are unresolved; null: the channel is not reconciled. */
  readonly recon: string | null;
}

export interface SettleMerchant {
  readonly id: string;
  /** user_data_32 of its payments and refunds. */
  readonly number: number;
  readonly availableAccountId: bigint;
  readonly reserveAccountId: bigint;
  readonly terms: MerchantTerms;
}

export interface SettleConfig {
  readonly ledger: number;
  /** 分账 receivers' accounts by name. */
  readonly receivers: ReadonlyMap<string, bigint>;
  readonly calendar: WorkingCalendar;
  readonly channels: readonly SettleChannel[];
  readonly merchants: readonly SettleMerchant[];
  readonly merchantsByNumber: ReadonlyMap<number, SettleMerchant>;
  readonly terms: ReadonlyMap<string, MerchantTerms>;
  /** settlement-postings.ts's accounts by role, and the transfer code of each posting role. */
  readonly accounts: SettlementAccountConfig;
}

/** Channels in one file. */
export const settleChannelsMax = 256;
/** Merchants in one file: a run's merchant–channel pairs stay within runMerchantChannelsMax. */
export const settleMerchantsMax = Math.floor(runMerchantChannelsMax / settleChannelsMax) * 4;
/** 分账 receivers in one file. */
const settleReceiversMax = 10_000;
/** Transfer codes per channel and kind. */
const codesMax = 256;

type Json = Record<string, unknown>;

function refuse(path: string, reason: string): never {
  throw new SettleError('config_invalid', `${path}: ${reason}`);
}

function objectAt(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse(path, 'must be an object');
  return value as Json;
}

function onlyKeys(object: Json, keys: readonly string[], path: string): void {
  for (const key of Object.keys(object)) if (!keys.includes(key)) refuse(`${path}.${key}`, `is no field here (fields: ${keys.join(', ')})`);
}

function arrayAt(value: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(value)) refuse(path, 'must be an array');
  if (value.length > max) refuse(path, `holds ${value.length} entries, at most ${max}`);
  return value;
}

function nameAt(value: unknown, path: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9._:-]+$/.test(value) || value.length > nameCharsMax) refuse(path, `must be 1 to ${nameCharsMax} of A-Z a-z 0-9 . _ : -`);
  return value;
}

function integerAt(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) refuse(path, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return value;
}

/** A u128 account id written as a decimal string (JSON numbers lose digits above 2^53). */
function idAt(value: unknown, path: string): bigint {
  if (typeof value !== 'string' || !/^[1-9][0-9]{0,38}$/.test(value)) refuse(path, 'must be an account id as a decimal string, not 0');
  const id = BigInt(value);
  if (id > idMax) refuse(path, `is over the largest id ${idMax}`);
  return id;
}

function minorAt(value: unknown, path: string): bigint {
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]{0,38})$/.test(value)) refuse(path, 'must be minor units as a decimal string ("10000")');
  const amount = BigInt(value);
  if (amount > amountMax) refuse(path, `is over the largest amount ${amountMax}`);
  return amount;
}

function codesAt(value: unknown, path: string): Map<number, string> {
  const object = objectAt(value, path);
  const codes = new Map<number, string>();
  const entries = Object.entries(object);
  if (entries.length > codesMax) refuse(path, `holds ${entries.length} codes, at most ${codesMax}`);
  for (const [code, product] of entries) {
    if (!/^[1-9][0-9]{0,4}$/.test(code) || Number(code) > 0xffff) refuse(`${path}.${code}`, 'a transfer code is a whole number from 1 to 65535');
    codes.set(Number(code), nameAt(product, `${path}.${code}`));
  }
  return codes;
}

function channelAt(value: unknown, path: string): SettleChannel {
  const c = objectAt(value, path);
  onlyKeys(c, ['name', 'inTransitAccount', 'feeIncomeAccount', 'payoutAccount', 'payments', 'refunds', 'recon'], path);
  const payments = codesAt(c.payments, `${path}.payments`);
  const refunds = c.refunds === undefined ? new Map<number, string>() : codesAt(c.refunds, `${path}.refunds`);
  if (payments.size === 0) refuse(`${path}.payments`, 'names no code: clearing would find no payment');
  for (const code of refunds.keys()) if (payments.has(code)) refuse(`${path}.refunds.${code}`, 'is a payment code too: a posting is one or the other');
  return {
    name: nameAt(c.name, `${path}.name`),
    inTransitAccountId: idAt(c.inTransitAccount, `${path}.inTransitAccount`),
    feeIncomeAccountId: idAt(c.feeIncomeAccount, `${path}.feeIncomeAccount`),
    payoutAccountId: idAt(c.payoutAccount, `${path}.payoutAccount`),
    payments,
    refunds,
    recon: c.recon === undefined || c.recon === null ? null : nameAt(c.recon, `${path}.recon`),
  };
}

function splitAt(value: unknown, path: string, receivers: ReadonlyMap<string, bigint>): ProfitReceiver[] {
  return arrayAt(value, path, 32).map((entry, i) => {
    const at = `${path}[${i}]`;
    const r = objectAt(entry, at);
    onlyKeys(r, ['receiver', 'bps', 'ratio'], at);
    const receiver = nameAt(r.receiver, `${at}.receiver`);
    if (!receivers.has(receiver)) refuse(`${at}.receiver`, `${receiver} is not in $.receivers`);
    if ((r.bps === undefined) === (r.ratio === undefined)) refuse(at, 'gives its share as bps or as ratio, one of them');
    if (r.bps !== undefined) return { receiver, share: { bps: integerAt(r.bps, `${at}.bps`, 1, 10_000) } };
    if (typeof r.ratio !== 'string') refuse(`${at}.ratio`, 'must be a decimal string ("0.015")');
    return { receiver, share: { ratio: r.ratio } };
  });
}

function receiversAt(value: unknown, path: string): Map<string, bigint> {
  const receivers = new Map<string, bigint>();
  if (value === undefined) return receivers;
  arrayAt(value, path, settleReceiversMax).forEach((entry, i) => {
    const at = `${path}[${i}]`;
    const r = objectAt(entry, at);
    onlyKeys(r, ['name', 'account'], at);
    const name = nameAt(r.name, `${at}.name`);
    if (receivers.has(name)) refuse(`${at}.name`, `receiver ${name} is given twice`);
    receivers.set(name, idAt(r.account, `${at}.account`));
  });
  return receivers;
}

function merchantAt(value: unknown, path: string, calendar: WorkingCalendar, receivers: ReadonlyMap<string, bigint>): SettleMerchant {
  const m = objectAt(value, path);
  onlyKeys(m, ['id', 'number', 'availableAccount', 'reserveAccount', 'cycle', 'minimumPayoutMinor', 'reserveBps', 'reserveDays', 'split'], path);
  const id = nameAt(m.id, `${path}.id`);
  let terms: MerchantTerms;
  try {
    terms = buildMerchantTerms({
      merchantId: id,
      cycle: typeof m.cycle === 'string' ? m.cycle : refuse(`${path}.cycle`, 'must be a cycle: D0, D1, Dn, T+n'),
      calendar,
      minimumPayoutMinor: m.minimumPayoutMinor === undefined ? 0n : minorAt(m.minimumPayoutMinor, `${path}.minimumPayoutMinor`),
      reserveBps: m.reserveBps === undefined ? 0 : integerAt(m.reserveBps, `${path}.reserveBps`, 0, 10_000),
      reserveDays: m.reserveDays === undefined ? 0 : integerAt(m.reserveDays, `${path}.reserveDays`, 0, 366),
      ...(m.split === undefined ? {} : { split: splitAt(m.split, `${path}.split`, receivers) }),
    });
  } catch (error) {
    if (error instanceof SettleError && error.code !== 'config_invalid') refuse(path, error.message);
    throw error;
  }
  return {
    id,
    number: integerAt(m.number, `${path}.number`, 1, 0xffff_ffff),
    availableAccountId: idAt(m.availableAccount, `${path}.availableAccount`),
    reserveAccountId: idAt(m.reserveAccount, `${path}.reserveAccount`),
    terms,
  };
}

function transferCodesAt(value: unknown, path: string): Record<PostingRole, number> {
  const object = objectAt(value, path);
  onlyKeys(object, postingRoles, path);
  const codes = {} as Record<PostingRole, number>;
  for (const role of postingRoles) codes[role] = integerAt(object[role], `${path}.${role}`, 1, 0xffff);
  return codes;
}

function calendarAt(value: unknown, path: string): WorkingCalendar {
  const spec = objectAt(value, path);
  onlyKeys(spec, ['name', 'firstDay', 'lastDay', 'weekendDays', 'holidays', 'workingWeekendDays'], path);
  try {
    return buildWorkingCalendar({
      name: spec.name,
      firstDay: spec.firstDay,
      lastDay: spec.lastDay,
      weekendDays: spec.weekendDays ?? [6, 7],
      holidays: spec.holidays ?? [],
      workingWeekendDays: spec.workingWeekendDays ?? [],
    } as WorkingCalendarSpec);
  } catch (error) {
    if (error instanceof SettleError) refuse(path, error.message);
    throw error;
  }
}

/** Reads a parsed settle config JSON document; throws SettleError config_invalid naming the path of the first fault. */
export function readSettleConfig(document: unknown): SettleConfig {
  const root = objectAt(document, '$');
  onlyKeys(root, ['version', 'ledger', 'transferCodes', 'calendar', 'channels', 'receivers', 'merchants'], '$');
  if (root.version !== 1) refuse('$.version', `must be 1, got ${JSON.stringify(root.version)}`);
  const ledger = integerAt(root.ledger, '$.ledger', 1, 0xffff_ffff);
  const transferCodes = transferCodesAt(root.transferCodes, '$.transferCodes');
  const calendar = calendarAt(root.calendar, '$.calendar');
  const channels = arrayAt(root.channels, '$.channels', settleChannelsMax).map((value, i) => channelAt(value, `$.channels[${i}]`));
  const receivers = receiversAt(root.receivers, '$.receivers');
  const merchants = arrayAt(root.merchants, '$.merchants', settleMerchantsMax).map((value, i) => merchantAt(value, `$.merchants[${i}]`, calendar, receivers));
  if (channels.length === 0) refuse('$.channels', 'names no channel');
  const seen = new Map<string, string>();
  const unique = (key: string, path: string, what: string): void => {
    const earlier = seen.get(key);
    if (earlier !== undefined) refuse(path, `${what} is given at ${earlier} too`);
    seen.set(key, path);
  };
  channels.forEach((c, i) => unique(`channel:${c.name}`, `$.channels[${i}].name`, `channel ${c.name}`));
  merchants.forEach((m, i) => {
    unique(`merchant:${m.id}`, `$.merchants[${i}].id`, `merchant ${m.id}`);
    unique(`number:${m.number}`, `$.merchants[${i}].number`, `merchant number ${m.number}`);
  });
  // One account, one role: a 在途 account that is also a merchant's available account would settle into itself.
  const accountPaths = [
    ...channels.flatMap((c, i) => [[c.inTransitAccountId, `$.channels[${i}].inTransitAccount`], [c.feeIncomeAccountId, `$.channels[${i}].feeIncomeAccount`], [c.payoutAccountId, `$.channels[${i}].payoutAccount`]] as const),
    ...merchants.flatMap((m, i) => [[m.availableAccountId, `$.merchants[${i}].availableAccount`], [m.reserveAccountId, `$.merchants[${i}].reserveAccount`]] as const),
    ...[...receivers].map(([, id], i) => [id, `$.receivers[${i}].account`] as const),
  ];
  for (const [id, path] of accountPaths) unique(`account:${id}`, path, `account ${id}`);
  const accounts: SettlementAccountConfig = {
    ledger,
    transferCodes,
    channels: new Map(channels.map((c) => [c.name, { inTransitAccountId: c.inTransitAccountId, feeIncomeAccountId: c.feeIncomeAccountId, payoutAccountId: c.payoutAccountId }])),
    merchants: new Map(merchants.map((m) => [m.id, { availableAccountId: m.availableAccountId, reserveAccountId: m.reserveAccountId }])),
    receivers,
  };
  // The run's own postings touch the 在途 account: their codes must not read as payments or refunds.
  for (const [i, c] of channels.entries()) {
    for (const role of postingRoles) {
      if (c.payments.has(transferCodes[role]) || c.refunds.has(transferCodes[role])) refuse(`$.channels[${i}]`, `code ${transferCodes[role]} is settlement's ${role} code: it cannot be a payment or refund code`);
    }
  }
  return {
    ledger,
    receivers,
    calendar,
    channels,
    merchants,
    merchantsByNumber: new Map(merchants.map((m) => [m.number, m])),
    terms: new Map(merchants.map((m) => [m.id, m.terms])),
    accounts,
  };
}

/** Whether `day` is a yyyymmdd the calendar covers (a run date outside it cannot place any T cycle). */
export function calendarCovers(config: SettleConfig, day: number): boolean {
  return isBusinessDay(day) && day >= config.calendar.firstDay && day <= config.calendar.lastDay;
}
