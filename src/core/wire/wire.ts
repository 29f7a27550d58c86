// The frame format between client and gateway: frame shapes, their checks, and the msgpack options
// both sides pack them with. Pure: the msgpackr instances live in gateway/ and client/ frame codecs.
// A check here throws only TallyError, whatever value a peer managed to send.

import { checkAdminBody } from './admin-bodies.js';
import { isBusinessDay } from '../business-day.js';
import { ErrorCode, TallyError, errorFromWire, errors, type ErrorCodeName } from '../errors.js';
import { BalanceAtDayLayout, HistoryFilterLayout, QueryFilterLayout, StatementLayout, idBytes } from '../layout.js';
import { batchEventsMax, eventBytes, lookupIdsMax, requestIdMax } from '../limits.js';
import { WireOperation, isWireOperation, type WireOperationNumber } from '../operations.js';
import { checkReconBody } from './recon-bodies.js';
import { checkSettleBody, settleOperationName } from './settle-bodies.js';
import { countRecords } from './records.js';

/** Status slot of a successful reply frame (an error frame carries the error code string there). */
export const replyStatusOk = 0;

/**
 * msgpackr options shared by both codecs, all explicit because defaults change between versions.
 * Kept as plain data so core stays free of msgpackr; each side passes a copy to Packr/Unpackr.
 */
export const wireMsgpackOptions = {
  /** Plain msgpack: a record extension would let one message define structures, and other msgpack libraries cannot read them. */
  useRecords: false,
  /** Frames are arrays; a map only comes from a broken or hostile peer, and a Map keeps its keys off any prototype. */
  mapsAsObjects: false,
  /**
   * A uint64 or int64 (0xcf, 0xd3) decodes as bigint whatever its value, so one beyond 2^53 is refused, not
   * rounded; smaller encodings decode as numbers. Checks read integer fields through integerIn, which takes both.
   */
  int64AsType: 'bigint',
  /** Bodies own their bytes: uWS neuters a message's ArrayBuffer when its handler returns, and shards may transfer bodies. */
  copyBuffers: true,
  /** Frames carry integers, strings and binary only: no references, sets, typed-array or other extension types. */
  structuredClone: false,
  moreTypes: false,
  /** Strings travel plainly; bundling is a msgpackr-only layout. */
  bundleStrings: false,
  /** Numbers are never narrowed to float32 (all our numbers are integers; this keeps it so). */
  useFloat32: 0,
  encodeUndefinedAsNil: false,
  /** One frame per WebSocket message: no sequential stream state shared between frames. */
  sequential: false,
} as const;

export interface RequestFrame {
  requestId: number;
  operation: WireOperationNumber;
  body: Uint8Array;
}

/** A decoded reply: a body, or the error the gateway answered with. */
export type ReplyFrame = { requestId: number; body: Uint8Array; error?: undefined } | { requestId: number; error: TallyError };

const safeIntegerMinBig = BigInt(Number.MIN_SAFE_INTEGER);
const safeIntegerMaxBig = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The value of a decoded integer field, whichever msgpack encoding the peer chose: fixints and (u)int8..32
 * arrive as numbers, (u)int64 as bigints (see int64AsType), and a float whose value is a whole number as that
 * number (msgpackr does not tell float from integer encodings apart below 64 bits; the value is exact either
 * way). undefined for anything else and for values beyond ±(2^53−1): the caller refuses them, never rounds.
 */
export function integerIn(value: unknown): number | undefined {
  if (typeof value === 'bigint') return value >= safeIntegerMinBig && value <= safeIntegerMaxBig ? Number(value) : undefined;
  // `+ 0` turns a float's −0 into 0, so no caller meets a negative zero.
  return typeof value === 'number' && Number.isSafeInteger(value) ? value + 0 : undefined;
}

/** A request id (1..requestIdMax) in any integer encoding, or undefined. */
export function requestIdIn(value: unknown): number | undefined {
  const requestId = integerIn(value);
  return requestId !== undefined && requestId >= 1 && requestId <= requestIdMax ? requestId : undefined;
}

function isBinary(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** The request id of a frame that failed its checks, for the error reply; 0 when it cannot be read. */
export function requestIdOf(value: unknown): number {
  return (Array.isArray(value) ? requestIdIn(value[0]) : undefined) ?? 0;
}

/** Checks a decoded request `[requestId, operation, body]` and returns it typed. */
export function parseRequestFrame(value: unknown): RequestFrame {
  if (!Array.isArray(value) || value.length !== 3) throw errors.frameInvalid('a request frame is an array [requestId, operation, body]');
  const [requestIdField, operationField, body] = value as unknown[];
  const requestId = requestIdIn(requestIdField);
  if (requestId === undefined) throw errors.frameInvalid(`request id must be an integer in 1..${requestIdMax}`);
  const operation = integerIn(operationField);
  if (operation === undefined || !isWireOperation(operation)) throw errors.operationUnknown(describe(operationField));
  if (!isBinary(body)) throw errors.bodyInvalid('request body must be binary');
  checkRequestBody(operation, body);
  return { requestId, operation, body };
}

/**
 * Checks a body's size against its operation: batches of 1..batchEventsMax records, 1..lookupIdsMax
 * ids, one history filter, or an admin body's shape (admin-bodies.ts: a JSON object of bounded size;
 * recon-bodies.ts: reconciliation's uploads and JSON fields).
 * Cheap, so the gateway runs it before a body reaches a shard.
 */
export function checkRequestBody(operation: WireOperationNumber, body: Uint8Array): void {
  switch (operation) {
    case WireOperation.create_accounts:
    case WireOperation.create_transfers:
    case WireOperation.account_operations:
      countRecords(body, eventBytes, batchEventsMax, 'event');
      return;
    case WireOperation.lookup_accounts:
    case WireOperation.lookup_transfers:
    case WireOperation.lookup_ledger_accounts:
      countRecords(body, idBytes, lookupIdsMax, 'id');
      return;
    case WireOperation.get_account_transfers:
      if (body.byteLength !== HistoryFilterLayout.bytes) {
        throw errors.bodyInvalid(`a history filter is ${HistoryFilterLayout.bytes} bytes, got ${body.byteLength}`);
      }
      return;
    case WireOperation.query_transfers:
    case WireOperation.query_accounts:
      if (body.byteLength !== QueryFilterLayout.bytes) throw errors.bodyInvalid(`a query filter is ${QueryFilterLayout.bytes} bytes, got ${body.byteLength}`);
      return;
    case WireOperation.close_day:
      expectBytes(body, [0, 4], 'close_day takes an empty body or a u32 day');
      if (body.byteLength === 4) checkDay(body, 0, 'close_day: the day to begin (0: the next one)');
      return;
    case WireOperation.get_day_report:
      expectBytes(body, [4], 'get_day_report takes a u32 day');
      return void checkDay(body, 0, 'get_day_report: day');
    case WireOperation.get_balance_at_day:
      expectBytes(body, [BalanceAtDayLayout.bytes], 'a day query takes a 32-byte body (account id, days)');
      return void checkDay(body, BalanceAtDayLayout.day, 'get_balance_at_day: day');
    case WireOperation.get_account_statement: {
      expectBytes(body, [StatementLayout.bytes], 'a day query takes a 32-byte body (account id, days)');
      const fromDay = checkDay(body, StatementLayout.fromDay, 'get_account_statement: from day');
      const toDay = checkDay(body, StatementLayout.toDay, 'get_account_statement: to day');
      if (fromDay > toDay) throw errors.bodyInvalid(`get_account_statement: from day ${fromDay} is after to day ${toDay}`);
      return;
    }
    case WireOperation.get_subject_balances:
    case WireOperation.get_trial_balance:
      expectBytes(body, [8], 'a books query takes u32 ledger, u32 day');
      return void checkDay(body, 4, 'a books query: day (0: everything booked)');
    case WireOperation.get_bookkeeping_status:
      return expectBytes(body, [0], 'get_bookkeeping_status takes an empty body');
    case WireOperation.submit_adjustment:
    case WireOperation.approve_adjustment:
    case WireOperation.reject_adjustment:
    case WireOperation.get_adjustments:
    case WireOperation.get_audit_log:
    case WireOperation.start_snapshot:
    case WireOperation.get_snapshot_status:
      return checkAdminBody(operation, body);
    case WireOperation.recon_upload:
      return checkReconBody('recon_upload', body);
    case WireOperation.recon_import:
      return checkReconBody('recon_import', body);
    case WireOperation.get_recon_batches:
      return checkReconBody('get_recon_batches', body);
    case WireOperation.get_recon_batch:
      return checkReconBody('get_recon_batch', body);
    case WireOperation.get_recon_exceptions:
      return checkReconBody('get_recon_exceptions', body);
    case WireOperation.submit_settle_strategy:
    case WireOperation.approve_settle_strategy:
    case WireOperation.reject_settle_strategy:
    case WireOperation.get_settle_strategies:
    case WireOperation.settle_preview:
    case WireOperation.settle_run:
    case WireOperation.get_settle_statement:
      return checkSettleBody(settleOperationName(operation), body);
    default:
      throw errors.operationUnknown(operation);
  }
}

/**
 * The u32 day at `offset`: 0 (each operation says what it means there) or a real date written yyyymmdd in
 * years 1900–9999. Anything else (month 13, February 30) would be taken as a day by no calendar.
 */
function checkDay(body: Uint8Array, offset: number, what: string): number {
  const day = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(offset, true);
  if (day !== 0 && !isBusinessDay(day)) throw errors.bodyInvalid(`${what} ${day} is not a real date written yyyymmdd (years 1900–9999)`);
  return day;
}

function expectBytes(body: Uint8Array, sizes: readonly number[], what: string): void {
  if (!sizes.includes(body.byteLength)) throw errors.bodyInvalid(`${what}, got ${body.byteLength} bytes`);
}

/** Checks a decoded reply `[requestId, 0, body]` or error `[requestId, code, message]`. */
export function parseReplyFrame(value: unknown): ReplyFrame {
  if (!Array.isArray(value) || value.length !== 3) throw errors.frameInvalid('a reply frame is an array of 3');
  const [requestIdField, status, payload] = value as unknown[];
  const requestId = integerIn(requestIdField) === 0 ? 0 : requestIdIn(requestIdField);
  if (requestId === undefined) throw errors.frameInvalid(`reply request id must be an integer in 0..${requestIdMax}`);
  if (integerIn(status) === replyStatusOk && isBinary(payload)) return { requestId, body: payload };
  if (typeof status === 'string' && typeof payload === 'string') {
    // An error code this side does not know becomes frame_invalid, with the unknown code kept in the message.
    const known = Object.hasOwn(ErrorCode, status);
    return { requestId, error: errorFromWire(status, known ? payload : `unknown error code ${status}: ${payload}`) };
  }
  throw errors.frameInvalid('a reply is [requestId, 0, body] or [requestId, code, message]');
}

/** The message of a TallyError without its `code: ` prefix, which the receiving side adds back. */
export function errorReason(error: TallyError): string {
  const prefix = `${error.code}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

export function requestFrame(requestId: number, operation: number, body: Uint8Array): [number, number, Uint8Array] {
  return [requestId, operation, body];
}

export function replyFrame(requestId: number, body: Uint8Array): [number, number, Uint8Array] {
  return [requestId, replyStatusOk, body];
}

export function errorFrame(requestId: number, code: ErrorCodeName, message: string): [number, string, string] {
  return [requestId, code, message];
}

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return value === null ? 'null' : typeof value;
}
