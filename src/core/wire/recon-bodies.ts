// The bodies of the reconciliation operations (51–55, docs/PROTOCOL.md): recon_upload's u32 length, JSON header and
// the chunk's bytes; a JSON object for 52–55. Pure: the gateway checks shapes with it, core/recon/batches.ts reads them
// for the recon service (adding what needs the recon tables: an outcome's name), the client builds bodies with it.

import { assert } from '../assert.js';
import { isBusinessDay } from '../business-day.js';
import { errors } from '../errors.js';
import {
  envelopeBytesMax,
  frameBytesMax,
  reconBatchesPageMax,
  reconChunkBytesMax,
  reconExceptionsPageMax,
  reconFileBytesMax,
  reconFilesPerImportMax,
  reconUploadHeaderBytesMax,
} from '../limits.js';
import {
  encodeHeaderedBody,
  headerLengthPrefixBytes,
  integerField,
  onlyFields,
  parseAdminJson,
  splitHeaderedBody,
  stringField,
  type JsonObject,
} from './admin-bodies.js';

/** The recon operations by name (their numbers: WireOperation). */
export type ReconOperationName = 'recon_upload' | 'recon_import' | 'get_recon_batches' | 'get_recon_batch' | 'get_recon_exceptions';

/** Characters of a file name recorded with a batch. */
export const reconFileNameCharsMax = 255;

/** Characters of an outcome's name in get_recon_exceptions (the longest, matched_within_tolerance, has 24). */
const reconOutcomeNameCharsMax = 32;

export const reconBatchIdPattern = /^rcb_[0-9a-f]{20}$/;
const sha256Pattern = /^[0-9a-f]{64}$/;
const dayPattern = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const channelNamePattern = /^[A-Za-z0-9._-]{1,64}$/;
/** Outcome names are snake_case; which ones exist is core/recon/outcomes.ts's to say (batches.ts checks it). */
const outcomeNamePattern = /^[a-z_]+$/;

// A client sends a chunk of the largest size with the largest header in one frame.
assert(headerLengthPrefixBytes + reconUploadHeaderBytesMax + reconChunkBytesMax + envelopeBytesMax <= frameBytesMax, 'a recon_upload fits one frame');

/** Checks the body of a recon operation as far as the wire can (the gateway runs it before the service). */
export function checkReconBody(operation: ReconOperationName, body: Uint8Array): void {
  if (operation === 'recon_upload') readReconUpload(body);
  else if (operation === 'recon_import') readReconImport(body);
  else if (operation === 'get_recon_batches') readReconBatchesQuery(body);
  else if (operation === 'get_recon_batch') readReconBatchId(body);
  else readReconExceptionsBody(body);
}

export interface ReconUpload {
  sha256: string;
  offset: number;
  total: number;
  chunk: Uint8Array;
}

/** recon_upload (51): u32 header length, a JSON header {sha256, offset, total}, then the chunk's bytes. */
export function readReconUpload(body: Uint8Array): ReconUpload {
  const { header, rest: chunk } = splitHeaderedBody(body, reconUploadHeaderBytesMax, 'recon_upload');
  onlyFields(header, ['sha256', 'offset', 'total'], 'recon_upload');
  const sha256 = sha256Of(header, 'sha256', 'recon_upload');
  if (header.total === undefined || header.offset === undefined) throw errors.bodyInvalid('recon_upload: the header names offset and total');
  const total = integerField(header, 'total', 1, reconFileBytesMax, 0, 'recon_upload');
  const offset = integerField(header, 'offset', 0, total - 1, 0, 'recon_upload');
  if (chunk.byteLength === 0 || chunk.byteLength > reconChunkBytesMax) throw errors.bodyInvalid(`recon_upload: a chunk is 1..${reconChunkBytesMax} bytes, got ${chunk.byteLength}`);
  if (offset + chunk.byteLength > total) throw errors.bodyInvalid(`recon_upload: bytes ${offset}..${offset + chunk.byteLength} run past the file's ${total}`);
  return { sha256, offset, total, chunk };
}

/** recon_upload's body: the header as JSON, then the chunk's bytes. */
export function encodeReconUpload(header: { sha256: string; offset: number; total: number }, chunk: Uint8Array): Uint8Array {
  return encodeHeaderedBody({ sha256: header.sha256, offset: header.offset, total: header.total }, chunk);
}

export interface ReconImportRequest {
  channel: string;
  files: { name: string; sha256: string }[];
  /** 'YYYY-MM-DD', or null: the one day the rows carry. */
  day: string | null;
}

/** recon_import (52): {channel, files: [{name, sha256}], day?}. */
export function readReconImport(body: Uint8Array): ReconImportRequest {
  const fields = parseAdminJson(body, 'recon_import');
  onlyFields(fields, ['channel', 'files', 'day'], 'recon_import');
  const channel = channelOf(fields, 'recon_import');
  const files = fields.files;
  if (!Array.isArray(files) || files.length === 0 || files.length > reconFilesPerImportMax) throw errors.bodyInvalid(`recon_import: files is an array of 1..${reconFilesPerImportMax} {name, sha256}`);
  const parsed = files.map((file: unknown, i) => importedFileOf(file, `recon_import files[${i}]`));
  if (new Set(parsed.map((file) => file.sha256)).size !== parsed.length) throw errors.bodyInvalid('recon_import: the same file (sha256) twice');
  const day = stringField(fields, 'day', 10, false, 'recon_import') ?? null;
  if (day !== null && !isDashedDay(day)) throw errors.bodyInvalid(`recon_import: day is a real date written YYYY-MM-DD (years 1900–9999), got ${JSON.stringify(day)}`);
  return { channel, files: parsed, day };
}

function importedFileOf(file: unknown, what: string): { name: string; sha256: string } {
  if (typeof file !== 'object' || file === null || Array.isArray(file)) throw errors.bodyInvalid(`${what} is an object {name, sha256}`);
  const entry = file as JsonObject;
  onlyFields(entry, ['name', 'sha256'], what);
  return { name: stringField(entry, 'name', reconFileNameCharsMax, true, what), sha256: sha256Of(entry, 'sha256', what) };
}

/** 'YYYY-MM-DD' naming a real date, as every day in a request must (2026-02-30 is no day). */
function isDashedDay(text: string): boolean {
  const match = dayPattern.exec(text);
  return match !== null && isBusinessDay(Number(match[1]) * 10_000 + Number(match[2]) * 100 + Number(match[3]));
}

export interface ReconBatchesQuery {
  channel: string | null;
  /** Only batches with a smaller (older) id: the last id of the previous page. */
  before: string | null;
  limit: number;
}

/** get_recon_batches (53): {channel?, before?, limit?}, newest first. */
export function readReconBatchesQuery(body: Uint8Array): ReconBatchesQuery {
  const fields = parseAdminJson(body, 'get_recon_batches');
  onlyFields(fields, ['channel', 'before', 'limit'], 'get_recon_batches');
  const channel = fields.channel === undefined ? null : channelOf(fields, 'get_recon_batches');
  const before = fields.before === undefined ? null : batchIdOf(fields, 'before', 'get_recon_batches');
  return { channel, before, limit: integerField(fields, 'limit', 1, reconBatchesPageMax, reconBatchesPageMax, 'get_recon_batches') };
}

/** get_recon_batch (54): {id}. */
export function readReconBatchId(body: Uint8Array): string {
  const fields = parseAdminJson(body, 'get_recon_batch');
  onlyFields(fields, ['id'], 'get_recon_batch');
  return batchIdOf(fields, 'id', 'get_recon_batch');
}

/** get_recon_exceptions' fields as the wire reads them: `outcome` is a name's shape, not yet a known outcome. */
export interface ReconExceptionsBody {
  batch: string;
  outcome: string | null;
  after: number;
  limit: number;
}

/** get_recon_exceptions (55): {batch, outcome?, after?, limit?}. */
export function readReconExceptionsBody(body: Uint8Array): ReconExceptionsBody {
  const fields = parseAdminJson(body, 'get_recon_exceptions');
  onlyFields(fields, ['batch', 'outcome', 'after', 'limit'], 'get_recon_exceptions');
  const batch = batchIdOf(fields, 'batch', 'get_recon_exceptions');
  const outcome = stringField(fields, 'outcome', reconOutcomeNameCharsMax, false, 'get_recon_exceptions') ?? null;
  if (outcome !== null && !outcomeNamePattern.test(outcome)) throw errors.bodyInvalid(`get_recon_exceptions: outcome is an outcome's name (snake_case), got ${JSON.stringify(outcome)}`);
  return {
    batch,
    outcome,
    after: integerField(fields, 'after', 0, Number.MAX_SAFE_INTEGER, 0, 'get_recon_exceptions'),
    limit: integerField(fields, 'limit', 1, reconExceptionsPageMax, reconExceptionsPageMax, 'get_recon_exceptions'),
  };
}

function sha256Of(fields: JsonObject, name: string, what: string): string {
  const value = stringField(fields, name, 64, true, what);
  if (!sha256Pattern.test(value)) throw errors.bodyInvalid(`${what}: ${name} is 64 lowercase hex digits (SHA-256)`);
  return value;
}

function channelOf(fields: JsonObject, what: string): string {
  const value = stringField(fields, 'channel', 64, true, what);
  if (!channelNamePattern.test(value)) throw errors.bodyInvalid(`${what}: channel is 1–64 of A-Z a-z 0-9 . _ -`);
  return value;
}

function batchIdOf(fields: JsonObject, name: string, what: string): string {
  const value = stringField(fields, name, 24, true, what);
  if (!reconBatchIdPattern.test(value)) throw errors.bodyInvalid(`${what}: ${name} is a batch id rcb_ + 20 hex digits`);
  return value;
}
