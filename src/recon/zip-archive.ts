// A statement archive (an Alipay bill's zip) read from bytes into its files with yauzl, safely (issue #17): at most
// archiveEntriesMax entries, no archive inside it, no encryption, no name that climbs out of it, and every entry's
// inflated bytes counted as they stream (never a header's word) against its own bound, its ratio and the archive's
// total, its CRC-32 compared at its end. Nothing is written to disk: the files come back as buffers.

import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { assert } from '../core/assert.js';
import { archiveBytesMax, archiveEntriesMax, archiveEntryBytesMax, archiveEntryRatioMax } from '../core/limits.js';

/** Why an archive is refused; callers match on these, never on the message. */
export const archiveErrorCodes = [
  /** No zip, or one yauzl cannot read (bad directory, bad deflate data, sizes that lie). */
  'archive_unreadable',
  'archive_entries',
  /** A name that is absolute, climbs with `..`, holds a backslash or a control character, or comes twice. */
  'archive_name',
  /** An archive inside the archive. */
  'archive_nested',
  'archive_encrypted',
  /** A compression method other than stored (0) or deflate (8). */
  'archive_method',
  'archive_entry_bytes',
  'archive_ratio',
  'archive_bytes',
  'archive_crc',
] as const;
export type ArchiveErrorCode = (typeof archiveErrorCodes)[number];

export class ArchiveError extends Error {
  constructor(
    readonly code: ArchiveErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ArchiveError';
  }
}

export interface ArchiveFile {
  /** The entry's path in the archive, `/`-separated. */
  name: string;
  bytes: Buffer;
}

/** The bounds an archive is read within (core/limits.ts); tests pass smaller ones to reach them with little data. */
export interface ArchiveLimits {
  entriesMax: number;
  entryBytesMax: number;
  entryRatioMax: number;
  bytesMax: number;
}

export const archiveLimits: Readonly<ArchiveLimits> = {
  entriesMax: archiveEntriesMax,
  entryBytesMax: archiveEntryBytesMax,
  entryRatioMax: archiveEntryRatioMax,
  bytesMax: archiveBytesMax,
};

/** Archives and compressed files by name: a bill's zip holds CSVs, never another container to unpack. */
const nestedName = /\.(zip|jar|gz|tgz|tar|bz2|xz|zst|7z|rar)$/i;
/** A zip's local file header signature at the start of an entry's bytes: an archive whatever its name. */
const zipMagic = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** General purpose flag bits: 0 traditional encryption, 6 strong encryption, 11 the name is UTF-8. */
const flagEncrypted = 0x0001;
const flagStrongEncryption = 0x0040;
const flagUtf8 = 0x0800;
/** Info-ZIP Unicode Path extra field: a UTF-8 name beside the raw one. */
const unicodePathField = 0x7075;
const gb18030 = new TextDecoder('gb18030', { fatal: true });

/** The files of the zip `bytes` (directories left out), in the archive's order; throws ArchiveError for what is refused. */
export async function readZipEntries(bytes: Uint8Array, limits: Readonly<ArchiveLimits> = archiveLimits): Promise<ArchiveFile[]> {
  const zip = await openZip(bytes);
  const next = entryReader(zip);
  try {
    if (zip.entryCount > limits.entriesMax) throw new ArchiveError('archive_entries', `the archive holds ${zip.entryCount} entries; at most ${limits.entriesMax} are read`);
    const files: ArchiveFile[] = [];
    const names = new Set<string>();
    let bytesTotal = 0;
    for (let entry = await next(); entry !== null; entry = await next()) {
      assert(names.size < limits.entriesMax, 'entries counted against the directory before any is read');
      const name = entryName(entry);
      checkEntry(entry, name, names, limits);
      names.add(name);
      if (name.endsWith('/')) continue;
      const file = await inflated(zip, entry, name, limits, limits.bytesMax - bytesTotal);
      bytesTotal += file.length;
      files.push({ name, bytes: file });
    }
    assert(bytesTotal <= limits.bytesMax, 'inflated bytes bounded while they streamed');
    return files;
  } finally {
    zip.close();
  }
}

async function openZip(bytes: Uint8Array): Promise<ZipFile> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    // Names are decoded here (decodeStrings: false): Alipay writes them in GBK without the UTF-8 flag, which yauzl would read as CP437.
    return await yauzl.fromBufferPromise(buffer, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: true });
  } catch (error) {
    throw new ArchiveError('archive_unreadable', `no zip archive: ${(error as Error).message}`);
  }
}

/** The next entry of the directory, null at its end. One listener set for the archive's life: yauzl may emit an error between reads. */
function entryReader(zip: ZipFile): () => Promise<Entry | null> {
  let waiting: { resolve: (entry: Entry | null) => void; reject: (error: Error) => void } | null = null;
  let failed: Error | null = null;
  const settle = (entry: Entry | null, error: Error | null): void => {
    const pending = waiting;
    waiting = null;
    if (error !== null && pending === null) failed = error;
    else if (error !== null) pending!.reject(error);
    else pending?.resolve(entry);
  };
  zip.on('entry', (entry: Entry) => settle(entry, null));
  zip.on('end', () => settle(null, null));
  zip.on('error', (error: Error) => settle(null, new ArchiveError('archive_unreadable', `the archive's directory is unreadable: ${error.message}`)));
  return () =>
    new Promise((resolve, reject) => {
      if (failed !== null) return reject(failed);
      waiting = { resolve, reject };
      zip.readEntry();
    });
}

/** The entry's name: UTF-8 when the archive says so, else GB18030 (what Alipay writes; ASCII reads the same). */
function entryName(entry: Entry): string {
  const flags = entry.generalPurposeBitFlag;
  if ((flags & flagUtf8) !== 0 || entry.extraFields.some((field) => field.id === unicodePathField)) {
    return yauzl.getFileNameLowLevel(flags, entry.fileNameRaw, entry.extraFields, true);
  }
  try {
    return gb18030.decode(entry.fileNameRaw);
  } catch {
    throw new ArchiveError('archive_name', `an entry's name (bytes ${entry.fileNameRaw.toString('hex')}) is neither UTF-8 nor GB18030`);
  }
}

/** What the directory says about an entry, checked before a byte of it is inflated (a size it states can refuse, never admit). */
function checkEntry(entry: Entry, name: string, seen: ReadonlySet<string>, limits: Readonly<ArchiveLimits>): void {
  const nameProblem = name === '' ? 'is empty' : /[\u0000-\u001f\u007f]/.test(name) ? 'holds a control character' : seen.has(name) ? 'comes twice' : yauzl.validateFileName(name);
  if (nameProblem !== null) throw new ArchiveError('archive_name', `the entry ${JSON.stringify(name)} is refused: its name ${nameProblem.replace(/^invalid /, 'is an invalid ')}`);
  if (nestedName.test(name)) throw new ArchiveError('archive_nested', `${name}: an archive inside the archive is not read`);
  if ((entry.generalPurposeBitFlag & (flagEncrypted | flagStrongEncryption)) !== 0) throw new ArchiveError('archive_encrypted', `${name} is encrypted`);
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) throw new ArchiveError('archive_method', `${name}: compression method ${entry.compressionMethod} (only stored and deflate are read)`);
  if (entry.uncompressedSize > limits.entryBytesMax) throw new ArchiveError('archive_entry_bytes', `${name} states ${entry.uncompressedSize} bytes, more than ${limits.entryBytesMax}`);
}

/** The entry's bytes, inflated and counted chunk by chunk; the stream is destroyed as soon as a bound is passed. */
async function inflated(zip: ZipFile, entry: Entry, name: string, limits: Readonly<ArchiveLimits>, bytesLeft: number): Promise<Buffer> {
  // The compressed bytes are the directory's compressedSize exactly (yauzl reads that range), so the ratio's base holds.
  const ratioBytesMax = limits.entryRatioMax * Math.max(entry.compressedSize, 1);
  const chunks: Buffer[] = [];
  let count = 0;
  let crc = 0;
  let stream: Readable | null = null;
  try {
    stream = await zip.openReadStreamPromise(entry);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      count += chunk.length;
      if (count > limits.entryBytesMax) throw new ArchiveError('archive_entry_bytes', `${name} inflates past ${limits.entryBytesMax} bytes`);
      if (count > ratioBytesMax) throw new ArchiveError('archive_ratio', `${name} inflates more than ${limits.entryRatioMax} times its ${entry.compressedSize} compressed bytes (a zip bomb?)`);
      if (count > bytesLeft) throw new ArchiveError('archive_bytes', `the archive inflates past ${limits.bytesMax} bytes in all (at ${name})`);
      crc = crc32(chunk, crc);
      chunks.push(chunk);
    }
  } catch (error) {
    stream?.destroy();
    if (error instanceof ArchiveError) throw error;
    throw new ArchiveError('archive_unreadable', `${name} is unreadable: ${(error as Error).message}`);
  }
  if (crc >>> 0 !== entry.crc32 >>> 0) throw new ArchiveError('archive_crc', `${name}: CRC-32 ${hex(crc)} of its bytes ≠ ${hex(entry.crc32)} in the directory (the archive is damaged)`);
  const file = Buffer.concat(chunks, count);
  if (file.subarray(0, zipMagic.length).equals(zipMagic)) throw new ArchiveError('archive_nested', `${name} is itself a zip archive: an archive inside the archive is not read`);
  return file;
}

const hex = (value: number): string => (value >>> 0).toString(16).padStart(8, '0');
