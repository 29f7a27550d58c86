// Encoding of the reconciliation operations for the client (issue #17), and the resumable upload of a statement file
// in chunks. Bodies are built with core/wire/recon-bodies.ts; inputs are checked here with TypeErrors that name the
// argument, and everything else is the server's to refuse (body_invalid), as the gateway reads the same bodies.

import { createHash } from 'node:crypto';
import { errors } from '../core/errors.js';
import { reconChunkBytesMax, reconFileBytesMax } from '../core/limits.js';
import { encodeAdminJson } from '../core/wire/admin-bodies.js';
import { encodeReconUpload } from '../core/wire/recon-bodies.js';

/** What the server holds of a file after a recon_upload: `received` bytes from offset 0, `complete` once all. */
export interface ReconUploadReply {
  sha256: string;
  received: number;
  complete: boolean;
}

/** Files uploaded before (by their SHA-256) to import as one batch of a channel, for `day` or the one day their rows carry. */
export interface ReconImportInput {
  channel: string;
  files: readonly { name: string; sha256: string }[];
  /** 'YYYY-MM-DD'. */
  day?: string;
}

/** A page of batches, newest first: of one channel, older than `before` (the last id of the previous page). */
export interface ReconBatchesFilter {
  channel?: string;
  before?: string;
  limit?: number;
}

/** A page of a batch's exceptions, in the order matching found them: numbered after `after` (default 0), of one outcome. */
export interface ReconExceptionsFilter {
  batch: string;
  outcome?: string;
  after?: number;
  limit?: number;
}

/** One recon_upload: `chunk` holds the file's bytes from `offset` on. */
export function encodeReconUploadChunk(sha256: string, offset: number, total: number, chunk: Uint8Array): Uint8Array {
  if (typeof sha256 !== 'string') throw new TypeError('reconUpload: sha256 must be a string of 64 hex digits');
  if (!Number.isSafeInteger(offset) || offset < 0) throw new TypeError(`reconUpload: offset must be a non-negative integer, got ${String(offset)}`);
  if (!Number.isSafeInteger(total) || total < 1) throw new TypeError(`reconUpload: total must be a positive integer, got ${String(total)}`);
  if (!(chunk instanceof Uint8Array)) throw new TypeError('reconUpload: chunk must be a Uint8Array');
  return encodeReconUpload({ sha256, offset, total }, chunk);
}

/** The file's SHA-256 as recon_upload and recon_import name it: 64 lowercase hex digits. */
export function reconFileSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Sends a whole file in chunks of reconChunkBytesMax, in order, each from where the server's last reply says its bytes
 * end: the first chunk goes at offset 0, and a server that already holds more of the file (an upload cut off earlier)
 * answers so, and the rest goes on from there. Resolves once the server holds the file complete.
 */
export async function uploadInChunks(
  bytes: Uint8Array,
  sha256: string,
  send: (offset: number, chunk: Uint8Array) => Promise<ReconUploadReply>,
  onProgress?: (sent: number, total: number) => void,
): Promise<void> {
  const total = bytes.byteLength;
  let offset = 0;
  for (;;) {
    const chunk = bytes.subarray(offset, Math.min(total, offset + reconChunkBytesMax));
    const reply = await send(offset, chunk);
    if (reply.complete) return onProgress?.(total, total);
    // The server stores only a chunk that continues what it holds, so each reply must move past the chunk's offset;
    // one that does not would have the loop send the same bytes for ever.
    if (!Number.isSafeInteger(reply.received) || reply.received <= offset || reply.received >= total) {
      throw errors.frameInvalid(`recon_upload of ${sha256}: the server holds ${String(reply.received)} of ${total} bytes after a chunk at ${offset}, not complete`);
    }
    offset = reply.received;
    onProgress?.(offset, total);
  }
}

/** Checks a file for reconUploadFile: 1..reconFileBytesMax bytes. */
export function checkReconFile(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('reconUploadFile: bytes must be a Uint8Array');
  if (bytes.byteLength === 0 || bytes.byteLength > reconFileBytesMax) throw new TypeError(`reconUploadFile: a file is 1..${reconFileBytesMax} bytes, got ${bytes.byteLength}`);
}

export function encodeReconImport(input: ReconImportInput): Uint8Array {
  if (typeof input !== 'object' || input === null) throw new TypeError('reconImport: pass { channel, files, day? }');
  if (!Array.isArray(input.files)) throw new TypeError('reconImport: files must be an array of { name, sha256 }');
  return encodeAdminJson({ channel: input.channel, files: input.files, day: input.day });
}

export function encodeReconBatchId(id: string): Uint8Array {
  if (typeof id !== 'string' || id === '') throw new TypeError(`recon batch id must be a non-empty string, got ${String(id)}`);
  return encodeAdminJson({ id });
}
