// The bodies of the admin operations (40–46, docs/PROTOCOL.md): submit_adjustment's u32 length, JSON
// header and transfer records; a JSON object for 41–45; nothing for 46. Pure: the gateway checks shapes
// with it, the admin service reads fields with it, the client builds bodies with it. Only TallyError escapes.

import { errors } from '../errors.js';
import { adjustmentTransfersMax, adminJsonBytesMax, eventBytes } from '../limits.js';
import { WireOperation, type WireOperationNumber } from '../operations.js';
import { countRecords } from './records.js';

/** Bytes of submit_adjustment's length prefix (u32 LE: bytes of the JSON header after it). */
export const adjustmentHeaderPrefixBytes = 4;

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
  if (body.byteLength < adjustmentHeaderPrefixBytes) throw errors.bodyInvalid('submit_adjustment begins with a u32 header length');
  const headerBytes = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0, true);
  if (headerBytes > adminJsonBytesMax) throw errors.bodyInvalid(`submit_adjustment: the header is at most ${adminJsonBytesMax} bytes, got a length of ${headerBytes}`);
  const recordsAt = adjustmentHeaderPrefixBytes + headerBytes;
  if (recordsAt > body.byteLength) throw errors.bodyInvalid(`submit_adjustment: a header of ${headerBytes} bytes does not fit a body of ${body.byteLength}`);
  const header = parseAdminJson(body.subarray(adjustmentHeaderPrefixBytes, recordsAt), 'submit_adjustment header');
  const records = body.subarray(recordsAt);
  const count = countRecords(records, eventBytes, adjustmentTransfersMax, 'transfer');
  return { header, records, count };
}

/** submit_adjustment's body: the header as JSON, then the records (as create_transfers takes them). */
export function encodeSubmissionBody(header: JsonObject, records: Uint8Array): Uint8Array {
  const json = utf8Encoder.encode(JSON.stringify(header));
  const body = new Uint8Array(adjustmentHeaderPrefixBytes + json.byteLength + records.byteLength);
  new DataView(body.buffer).setUint32(0, json.byteLength, true);
  body.set(json, adjustmentHeaderPrefixBytes);
  body.set(records, adjustmentHeaderPrefixBytes + json.byteLength);
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
