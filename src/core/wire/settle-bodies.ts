// The bodies and replies of the settlement operations (56–62, issue #18; docs/PROTOCOL.md): JSON objects, as for
// reconciliation. Pure: the gateway checks shapes with these readers before the settle service runs, the service
// reads them again, the client builds bodies with the encoders. Amounts in replies are decimal strings of minor
// units (exact, whatever their size); dates are 'YYYY-MM-DD'; instants are ISO 8601 UTC ('2026-12-01T00:00:00Z').

import { isBusinessDay, parseBusinessDay, type BusinessDay } from '../business-day.js';
import { errors } from '../errors.js';
import { integerField, onlyFields, parseAdminJson, stringField, type JsonObject } from './admin-bodies.js';

/** The settle operations by name (their numbers: WireOperation). */
export type SettleOperationName =
  | 'submit_settle_strategy'
  | 'approve_settle_strategy'
  | 'reject_settle_strategy'
  | 'get_settle_strategies'
  | 'settle_preview'
  | 'settle_run'
  | 'get_settle_statement';

/** A strategy change's id: `ssc_` and 20 hex digits (ms and randomness, increasing within a server). */
export const settleChangeIdPattern = /^ssc_[0-9a-f]{20}$/;
/** A settlement run's id: `srn_` and 20 hex digits. */
export const settleRunIdPattern = /^srn_[0-9a-f]{20}$/;
/** Merchant ids and products as the settlement configuration names them. */
export const settleNamePattern = /^[A-Za-z0-9._:-]{1,64}$/;
export const settleChangeStatuses = ['pending', 'approved', 'rejected'] as const;
export type SettleChangeStatus = (typeof settleChangeStatuses)[number];
/** Strategy changes in one get_settle_strategies page. */
export const settleChangesPageMax = 1000;
/** Characters of a change's reason (submit) or rejection reason. */
export const settleReasonCharsMax = 1000;
/** Bytes of a strategy document's JSON text in a submission. */
export const settleStrategyBytesMax = 64 * 1024;
/**
 * Merchant–channel units in one settle_preview or settle_run reply (each with its explanation, ~1.5 KB): a page, so
 * that a run of 10,000 merchants never makes a reply bigger than a client takes (replyFrameBytesMax).
 */
export const settleMerchantsPageMax = 400;
export const settleMerchantsPageDefault = 100;
/** Channel days and refused transfers listed in one reply; the rest are counted. */
export const settleReplyDaysMax = 400;
export const settleReplyFailuresMax = 1000;
/** Statement lines in one get_settle_statement page (~300 B each). */
export const settleStatementLinesPageMax = 2000;

const instantPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;

// ---- bodies --------------------------------------------------------------------------------------------------------

/**
 * What a strategy decides: a fee per item (by product); or per merchant and run (run-strategies.ts) its reserve, or
 * its settlement amount (how much of the payable is paid now).
 */
export const settleStrategyKinds = ['fee', 'reserve', 'settlement'] as const;
export type SettleStrategyKind = (typeof settleStrategyKinds)[number];

export interface SettleStrategySubmission {
  kind: SettleStrategyKind;
  merchant: string;
  /** null: the strategy of every product the merchant has no strategy of its own for. */
  product: string | null;
  /** Accounting time from which the version applies, ns since the epoch. */
  effectiveFromNs: bigint;
  /** The strategy document (core/settle/rules.ts's JSON shape); checked by the service. */
  strategy: JsonObject;
  reason: string;
}

/** submit_settle_strategy (56): {kind?, merchant, product?, effectiveFrom, strategy, reason}; kind fee by default. */
export function readSettleStrategySubmission(body: Uint8Array): SettleStrategySubmission {
  const what = 'submit_settle_strategy';
  const fields = parseAdminJson(body, what);
  onlyFields(fields, ['kind', 'merchant', 'product', 'effectiveFrom', 'strategy', 'reason'], what);
  const kind = fields.kind ?? 'fee';
  if (!settleStrategyKinds.includes(kind as SettleStrategyKind)) throw errors.bodyInvalid(`${what}: field kind must be one of ${settleStrategyKinds.join(', ')}, got ${JSON.stringify(kind)}`);
  const merchant = nameField(fields, 'merchant', true, what)!;
  const product = nameField(fields, 'product', false, what);
  if (kind !== 'fee' && product !== null) throw errors.bodyInvalid(`${what}: a ${String(kind)} strategy is the merchant's, for every product: leave product out`);
  const effectiveFrom = stringField(fields, 'effectiveFrom', 40, true, what)!;
  const strategy = fields.strategy;
  if (typeof strategy !== 'object' || strategy === null || Array.isArray(strategy)) throw errors.bodyInvalid(`${what}: field strategy must be a strategy document (a JSON object)`);
  if (JSON.stringify(strategy).length > settleStrategyBytesMax) throw errors.bodyInvalid(`${what}: the strategy document is over ${settleStrategyBytesMax} bytes`);
  const reason = stringField(fields, 'reason', settleReasonCharsMax, true, what)!;
  if (reason.trim() === '') throw errors.bodyInvalid(`${what}: field reason must say why (not blank)`);
  return { kind: kind as SettleStrategyKind, merchant, product, effectiveFromNs: parseInstantNs(effectiveFrom, `${what}: field effectiveFrom`), strategy: strategy as JsonObject, reason };
}

/** approve_settle_strategy (57): {id}. */
export function readSettleChangeId(body: Uint8Array, what: 'approve_settle_strategy'): { id: string };
/** reject_settle_strategy (58): {id, reason?}. */
export function readSettleChangeId(body: Uint8Array, what: 'reject_settle_strategy'): { id: string; reason: string | null };
export function readSettleChangeId(body: Uint8Array, what: 'approve_settle_strategy' | 'reject_settle_strategy'): { id: string; reason?: string | null } {
  const fields = parseAdminJson(body, what);
  onlyFields(fields, what === 'approve_settle_strategy' ? ['id'] : ['id', 'reason'], what);
  const id = changeIdField(fields, 'id', what);
  if (what === 'approve_settle_strategy') return { id };
  return { id, reason: stringField(fields, 'reason', settleReasonCharsMax, false, what) ?? null };
}

export interface SettleStrategiesQuery {
  merchant: string | null;
  status: SettleChangeStatus | null;
  /** Changes with an id below this one (the last of the previous page); null: from the newest. */
  before: string | null;
  limit: number;
}

/** get_settle_strategies (59): {merchant?, status?, before?, limit?}; newest first. */
export function readSettleStrategiesQuery(body: Uint8Array): SettleStrategiesQuery {
  const what = 'get_settle_strategies';
  const fields = parseAdminJson(body, what);
  onlyFields(fields, ['merchant', 'status', 'before', 'limit'], what);
  const status = fields.status;
  if (status !== undefined && !settleChangeStatuses.includes(status as SettleChangeStatus)) {
    throw errors.bodyInvalid(`${what}: field status must be one of ${settleChangeStatuses.join(', ')}, got ${JSON.stringify(status)}`);
  }
  return {
    merchant: nameField(fields, 'merchant', false, what),
    status: (status as SettleChangeStatus | undefined) ?? null,
    before: fields.before === undefined ? null : changeIdField(fields, 'before', what),
    limit: integerField(fields, 'limit', 1, settleChangesPageMax, settleChangesPageMax, what),
  };
}

export interface SettleRunQuery {
  date: BusinessDay;
  /** The merchants page: units of merchants after this id (the previous page's `next`); null: from the first. */
  after: string | null;
  limit: number;
}

/** settle_preview (60) and settle_run (61): {date, after?, limit?}: the run date, and which merchants to show. */
export function readSettleRunQuery(body: Uint8Array, what: 'settle_preview' | 'settle_run'): SettleRunQuery {
  const fields = parseAdminJson(body, what);
  onlyFields(fields, ['date', 'after', 'limit'], what);
  return {
    date: dateField(fields, 'date', what),
    after: nameField(fields, 'after', false, what),
    limit: integerField(fields, 'limit', 1, settleMerchantsPageMax, settleMerchantsPageDefault, what),
  };
}

/** get_settle_statement (62): {merchant, date, after?, limit?}: the merchant's settlement of that run date, lines paged. */
export function readSettleStatementQuery(body: Uint8Array): { merchant: string; date: BusinessDay; after: number; limit: number } {
  const what = 'get_settle_statement';
  const fields = parseAdminJson(body, what);
  onlyFields(fields, ['merchant', 'date', 'after', 'limit'], what);
  return {
    merchant: nameField(fields, 'merchant', true, what)!,
    date: dateField(fields, 'date', what),
    after: integerField(fields, 'after', 0, Number.MAX_SAFE_INTEGER, 0, what),
    limit: integerField(fields, 'limit', 1, settleStatementLinesPageMax, settleStatementLinesPageMax, what),
  };
}

const settleOperationNames: readonly SettleOperationName[] = [
  'submit_settle_strategy', 'approve_settle_strategy', 'reject_settle_strategy', 'get_settle_strategies', 'settle_preview', 'settle_run', 'get_settle_statement',
];

/** The name of settle operation 56..62 (WireOperation numbers them in this order). */
export function settleOperationName(operation: number): SettleOperationName {
  const name = settleOperationNames[operation - 56];
  if (name === undefined) throw new RangeError(`operation ${operation} is no settle operation`);
  return name;
}

/** Checks the body of a settle operation as far as the wire can (the gateway runs it before the service). */
export function checkSettleBody(operation: SettleOperationName, body: Uint8Array): void {
  if (operation === 'submit_settle_strategy') readSettleStrategySubmission(body);
  else if (operation === 'approve_settle_strategy') readSettleChangeId(body, operation);
  else if (operation === 'reject_settle_strategy') readSettleChangeId(body, operation);
  else if (operation === 'get_settle_strategies') readSettleStrategiesQuery(body);
  else if (operation === 'settle_preview' || operation === 'settle_run') readSettleRunQuery(body, operation);
  else readSettleStatementQuery(body);
}

function nameField(fields: JsonObject, name: string, required: boolean, what: string): string | null {
  const value = required ? stringField(fields, name, 64, true, what) : stringField(fields, name, 64, false, what);
  if (value === undefined) return null;
  if (!settleNamePattern.test(value)) throw errors.bodyInvalid(`${what}: field ${name} must be 1 to 64 of A-Z a-z 0-9 . _ : -, got ${JSON.stringify(value)}`);
  return value;
}

function changeIdField(fields: JsonObject, name: string, what: string): string {
  const id = stringField(fields, name, 64, true, what)!;
  if (!settleChangeIdPattern.test(id)) throw errors.bodyInvalid(`${what}: field ${name} must be a strategy change id (ssc_ and 20 hex digits), got ${JSON.stringify(id)}`);
  return id;
}

function dateField(fields: JsonObject, name: string, what: string): BusinessDay {
  const text = stringField(fields, name, 10, true, what)!;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) throw errors.bodyInvalid(`${what}: field ${name} must be a date YYYY-MM-DD, got ${JSON.stringify(text)}`);
  let day: BusinessDay;
  try {
    day = parseBusinessDay(text);
  } catch {
    throw errors.bodyInvalid(`${what}: field ${name} ${JSON.stringify(text)} is no calendar date`);
  }
  if (!isBusinessDay(day)) throw errors.bodyInvalid(`${what}: field ${name} ${JSON.stringify(text)} is no calendar date`);
  return day;
}

/** 'YYYY-MM-DDTHH:MM:SS[.fraction]Z' → ns since the epoch; anything else (an offset, no zone, 24:00) refused. */
export function parseInstantNs(text: string, what: string): bigint {
  const match = instantPattern.exec(text);
  if (match === null) throw errors.bodyInvalid(`${what} must be an instant in UTC, YYYY-MM-DDTHH:MM:SS[.fraction]Z, got ${JSON.stringify(text)}`);
  const [, year, month, day, hour, minute, second, fraction] = match;
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  const back = new Date(ms);
  if (
    Number.isNaN(ms) || ms < 0 || back.getUTCFullYear() !== Number(year) || back.getUTCMonth() + 1 !== Number(month) || back.getUTCDate() !== Number(day) ||
    back.getUTCHours() !== Number(hour) || back.getUTCMinutes() !== Number(minute) || back.getUTCSeconds() !== Number(second)
  ) {
    throw errors.bodyInvalid(`${what} ${JSON.stringify(text)} is no instant (a field out of range, or before 1970)`);
  }
  const nanos = fraction === undefined ? 0n : BigInt(fraction.slice(1).padEnd(9, '0'));
  return BigInt(ms) * 1_000_000n + nanos;
}

/** ns since the epoch → 'YYYY-MM-DDTHH:MM:SS[.fraction]Z' (the fraction only when not zero, without trailing zeros). */
export function formatInstantNs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const nanos = ns % 1_000_000_000n;
  const text = new Date(Number(ms)).toISOString().slice(0, 19);
  return nanos === 0n ? `${text}Z` : `${text}.${nanos.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

// ---- replies -------------------------------------------------------------------------------------------------------

/** One strategy change under maker–checker: a version of a merchant's fee strategy for a product. */
export interface SettleStrategyChange {
  id: string;
  /** Absent in changes stored before reserve strategies: fee. */
  kind?: SettleStrategyKind;
  merchant: string;
  /** null: every product without a strategy of its own. */
  product: string | null;
  /** The document's own id and version. */
  strategyId: string;
  version: number;
  /** 'YYYY-MM-DDTHH:MM:SS[.f]Z': accounting time from which the version applies. */
  effectiveFrom: string;
  strategy: JsonObject;
  reason: string;
  maker: string;
  createdAt: string;
  status: SettleChangeStatus;
  checker?: string;
  decidedAt?: string;
  rejectReason?: string;
}

/** A channel day a preview or run read: cleared, or why not (not closed on the ledger, not reconciled yet). */
export interface SettleChannelDay {
  channel: string;
  day: string;
  /** cleared: its items are in the run; waiting: not yet (why says what for). */
  state: 'cleared' | 'waiting';
  why?: string;
  /** Items cleared, and transfers on the 在途 account that are no item (other codes, unknown merchants), counted. */
  items: number;
  ignored: number;
  /**
   * A cleared day's totals (清算): payments − refunds of every item (cleared), merchant fees, what the channel
   * charged (channel cost) and the company's margin (fees − cost), and what unresolved items hold; null when waiting.
   */
  totals: {
    clearedMinor: string;
    paymentsMinor: string;
    refundsMinor: string;
    merchantFeesMinor: string;
    channelCostMinor: string;
    marginMinor: string;
    heldMinor: string;
  } | null;
}

/** One merchant on one channel in a run: the figures (minor units, decimal strings) and how they came about. */
export interface SettleMerchantSummary {
  merchant: string;
  channel: string;
  cycle: string;
  batch: number;
  daysDue: string[];
  /** Items paid, held back (unresolved reconciliation) and released (resolved since an earlier run held them). */
  paidItems: number;
  heldBackItems: number;
  releasedItems: number;
  clearedMinor: string;
  heldBackMinor: string;
  releasedFromHoldMinor: string;
  grossMinor: string;
  feesMinor: string;
  netMinor: string;
  /** 分账: what each receiver's shares of the payments came to, and their sum (taken before the reserve). */
  shares: { receiver: string; amountMinor: string }[];
  sharesMinor: string;
  reserveHeldMinor: string;
  /** 'YYYY-MM-DD', or null when nothing is held. */
  reserveReleaseOn: string | null;
  reserveReleasedMinor: string;
  carriedInMinor: string;
  carriedOutMinor: string;
  payableMinor: string;
  settledMinor: string;
  explanation: string[];
}

/** The day-end identity per channel (总账平衡), core/settle/settlement-balance.ts's BalanceCheck with decimal strings. */
export interface SettleBalanceCheck {
  balanced: boolean;
  /**
   * Per channel: cleared = settled + fees + shares + reservesHeld − reservesReleased + heldBackChange + carriedForwardChange,
   * differenceMinor being cleared − that sum, and payoutDifferenceMinor payouts − settled; both 0 when balanced.
   */
  channels: {
    channel: string;
    clearedMinor: string;
    settledMinor: string;
    feesMinor: string;
    sharesMinor: string;
    reservesHeldMinor: string;
    reservesReleasedMinor: string;
    heldBackChangeMinor: string;
    carriedForwardChangeMinor: string;
    payoutsMinor: string;
    differenceMinor: string;
    payoutDifferenceMinor: string;
  }[];
}

/** settle_preview's reply: what a run on that date would do; nothing is posted or stored. */
export interface SettlePreviewReply {
  date: string;
  /** The channel days read, at most settleReplyDaysMax (the oldest); daysOmitted counts the rest. */
  days: SettleChannelDay[];
  daysOmitted: number;
  /** Merchant–channel units in the run, and one page of them (by merchant id, then channel; whole merchants). */
  merchantCount: number;
  merchants: SettleMerchantSummary[];
  /** The `after` of the next page (the page's last merchant id), or null at the end. */
  next: string | null;
  /** Transfers the run would post. */
  postings: number;
  check: SettleBalanceCheck;
}

/** A transfer of a run that the ledger did not answer ok or exists (same fields). */
export interface SettleRunFailure {
  transferId: string;
  merchant: string;
  channel: string;
  role: string;
  result: string;
}

/**
 * settle_run's reply. posted: every transfer answered ok or exists, the state moved on (a second run that date
 * takes the next batch); nothing_due: no transfer to post, the state moved on all the same (days settled at zero,
 * carries); failed: some transfer refused — the state did not move, so the same run again posts the same ids
 * (those posted answer exists) once the cause is fixed.
 */
export interface SettleRunReply extends SettlePreviewReply {
  id: string;
  status: 'posted' | 'nothing_due' | 'failed';
  transfers: { ok: number; exists: number; failed: number };
  /** At most settleReplyFailuresMax; transfers.failed counts them all. */
  failures: SettleRunFailure[];
  ms: number;
}

/** One item of a merchant's statement. */
export interface SettleStatementLine {
  /** The payment or refund transfer's id (32 hex digits). */
  orderId: string;
  kind: 'payment' | 'refund';
  product: string;
  tradeDay: string;
  amountMinor: string;
  feeMinor: string;
  /** The fee strategy version that charged it: 'fee/card v3'. */
  strategy: string;
  reconciliation: 'matched' | 'unresolved' | 'resolved';
  /** paid in this run, held back by it, or released by it (held by an earlier run). */
  state: 'paid' | 'held_back' | 'released';
}

export interface SettleStatementPosting {
  transferId: string;
  role: string;
  /** A share posting's receiver (分账). */
  receiver?: string;
  amountMinor: string;
  debitAccountId: string;
  creditAccountId: string;
}

/** One channel's settlement of the merchant in one run: the figures and the postings; its lines are paged apart. */
export interface SettleStatementRunSummary extends SettleMerchantSummary {
  runId: string;
  /** Lines of this run and channel (the page's lines name their run and channel). */
  lineCount: number;
  postings: SettleStatementPosting[];
}

/** A statement line as a page carries it: with its run and channel. */
export interface SettleStatementPageLine extends SettleStatementLine {
  runId: string;
  channel: string;
}

/**
 * get_settle_statement's reply (null when the merchant was in no posted run that date): every run's summary, and one
 * page of the lines in run order; `next` is the `after` of the next page, null at the end.
 */
export interface SettleStatementPage {
  merchant: string;
  date: string;
  runs: SettleStatementRunSummary[];
  lines: SettleStatementPageLine[];
  next: number | null;
}

/** One channel's settlement of the merchant in one run, with all its lines (the client gathers the pages). */
export interface SettleStatementRun extends SettleMerchantSummary {
  runId: string;
  lines: SettleStatementLine[];
  postings: SettleStatementPosting[];
}

/** A whole statement: what the client's getSettleStatement gathers from the pages. */
export interface SettleStatement {
  merchant: string;
  date: string;
  runs: SettleStatementRun[];
}
