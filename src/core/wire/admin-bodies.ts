// The bodies of the admin operations (40–46, docs/PROTOCOL.md): submit_adjustment's u32 length, JSON
// header and transfer records; a JSON object for 41–45; nothing for 46. Pure: the gateway checks shapes
// with it, the admin service reads fields with it, the client builds bodies with it. Only TallyError escapes.
// The JSON readers here serve recon-bodies.ts too.

import { errors } from '../errors.js';
import { adjustmentTransfersMax, adminJsonBytesMax, eventBytes } from '../limits.js';
import { WireOperation, type WireOperationNumber } from '../operations.js';
import { countRecords } from './records.js';

/** Bytes of the length prefix of a body that opens with a JSON header (u32 LE: bytes of the JSON after it). */
export const headerLengthPrefixBytes = 4;

/** A JSON object as parsed from a request body: plain fields, no prototype tricks. */
export type JsonObject = Record<string, unknown>;

/** submit_adjustment split into its header (a JSON object) and its transfer records (1..adjustmentTransfersMax). */
export interface AdjustmentSubmissionBody {
  header: JsonObject;
  records: Uint8Array;
  count: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const utf8Encoder = new TextEncoder();

/** Checks the body of an admin operation as far as its shape goes (the gateway runs it before the service). */
export function checkAdminBody(operation: WireOperationNumber, body: Uint8Array): void {
  if (operation === WireOperation.submit_adjustment) return void splitSubmissionBody(body);
  if (operation === WireOperation.get_snapshot_status) {
    if (body.byteLength !== 0) throw errors.bodyInvalid(`get_snapshot_status takes an empty body, got ${body.byteLength} bytes`);
    return;
  }
  parseAdminJson(body, operationLabel(operation));
}

/** The JSON object of an admin request: UTF-8, at most adminJsonBytesMax bytes, an object (not an array or null). */
export function parseAdminJson(body: Uint8Array, what: string): JsonObject {
  if (body.byteLength === 0) throw errors.bodyInvalid(`${what} takes a JSON object, got an empty body`);
  if (body.byteLength > adminJsonBytesMax) throw errors.bodyInvalid(`${what}: a JSON body is at most ${adminJsonBytesMax} bytes, got ${body.byteLength}`);
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(body));
  } catch (error) {
    throw errors.bodyInvalid(`${what}: the body is not UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw errors.bodyInvalid(`${what}: the body must be a JSON object`);
  return value as JsonObject;
}

/** Splits submit_adjustment's body; throws body_invalid, batch_empty or batch_too_large. */
export function splitSubmissionBody(body: Uint8Array): AdjustmentSubmissionBody {
  const { header, rest: records } = splitHeaderedBody(body, adminJsonBytesMax, 'submit_adjustment');
  const count = countRecords(records, eventBytes, adjustmentTransfersMax, 'transfer');
  return { header, records, count };
}

/** submit_adjustment's body: the header as JSON, then the records (as create_transfers takes them). */
export function encodeSubmissionBody(header: JsonObject, records: Uint8Array): Uint8Array {
  return encodeHeaderedBody(header, records);
}

/**
 * Splits a body that opens with a JSON header (submit_adjustment, recon_upload): a u32 LE length, that many bytes
 * (at most `headerBytesMax`) of a JSON object, then the operation's own bytes. Throws body_invalid naming `what`.
 */
export function splitHeaderedBody(body: Uint8Array, headerBytesMax: number, what: string): { header: JsonObject; rest: Uint8Array } {
  if (body.byteLength < headerLengthPrefixBytes) throw errors.bodyInvalid(`${what} begins with a u32 header length`);
  const headerBytes = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0, true);
  if (headerBytes > headerBytesMax) throw errors.bodyInvalid(`${what}: the header is at most ${headerBytesMax} bytes, got a length of ${headerBytes}`);
  const restAt = headerLengthPrefixBytes + headerBytes;
  if (restAt > body.byteLength) throw errors.bodyInvalid(`${what}: a header of ${headerBytes} bytes does not fit a body of ${body.byteLength}`);
  return { header: parseAdminJson(body.subarray(headerLengthPrefixBytes, restAt), `${what} header`), rest: body.subarray(restAt) };
}

/** A body that opens with `header` as JSON (splitHeaderedBody reads it back), then `rest`. */
export function encodeHeaderedBody(header: JsonObject, rest: Uint8Array): Uint8Array {
  const json = utf8Encoder.encode(JSON.stringify(header));
  const body = new Uint8Array(headerLengthPrefixBytes + json.byteLength + rest.byteLength);
  new DataView(body.buffer).setUint32(0, json.byteLength, true);
  body.set(json, headerLengthPrefixBytes);
  body.set(rest, headerLengthPrefixBytes + json.byteLength);
  return body;
}

/** A JSON request body (fields left undefined are omitted). */
export function encodeAdminJson(fields: JsonObject): Uint8Array {
  return utf8Encoder.encode(JSON.stringify(fields));
}

/** Refuses fields other than `allowed`: a misspelt filter must not silently widen a query or an approval. */
export function onlyFields(object: JsonObject, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) throw errors.bodyInvalid(`${what}: unknown field ${JSON.stringify(key)} (fields: ${allowed.join(', ')})`);
  }
}

/** A string field of at most `charsMax` code points; non-empty (after trimming) when `required`. */
export function stringField(object: JsonObject, name: string, charsMax: number, required: true, what: string): string;
export function stringField(object: JsonObject, name: string, charsMax: number, required: false, what: string): string | undefined;
export function stringField(object: JsonObject, name: string, charsMax: number, required: boolean, what: string): string | undefined {
  const value = object[name];
  if (value === undefined) {
    if (required) throw errors.bodyInvalid(`${what}: field ${name} is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw errors.bodyInvalid(`${what}: field ${name} must be a string`);
  if (required && value.trim() === '') throw errors.bodyInvalid(`${what}: field ${name} must not be empty`);
  const chars = [...value].length;
  if (chars > charsMax) throw errors.bodyInvalid(`${what}: field ${name} is at most ${charsMax} characters, got ${chars}`);
  return value;
}

/** An optional integer field in min..max, or `fallback` when absent. */
export function integerField(object: JsonObject, name: string, min: number, max: number, fallback: number, what: string): number {
  const value = object[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw errors.bodyInvalid(`${what}: field ${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  // JSON has one number type: `1`, `1.0` and `1e0` are the same integer. `+ 0` turns `-0` into 0.
  return value + 0;
}

function operationLabel(operation: number): string {
  for (const [name, number] of Object.entries(WireOperation)) if (number === operation) return name;
  return `operation ${operation}`;
}
