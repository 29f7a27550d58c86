// A channel's statement files from their bytes (issue #17): decoded with the channel's encoding — strictly, a byte
// that is no character of it refuses the file; OFX by the encoding its header names; an Alipay bill unzipped and
// decoded as GB18030 — and read as rows by the channel's format (statement-rows.ts). Used
// by both `tally recon match` (files on disk) and the server's recon_import (files uploaded).

import { isUtf8 } from 'node:buffer';
import type { ChannelConfig } from '../core/recon/channel-config.js';
import { lineBreakOfBytes, lineStartFrom, recordsAreLines, textPieces } from './csv-records.js';
import type { StatementReport } from '../core/recon/statement-report.js';
import { readOfxHeader } from './ofx-reader.js';
import type { AlipayBill } from '../core/recon/alipay-bill.js';
import { AlipayBillReadError, readAlipayBill } from './alipay-bill-reader.js';
import { splitBillRows, statementRows, type BillSplit, type StatementFile, type StatementRows } from './statement-rows.js';
import type { StatementRow } from '../core/recon/statement-row.js';
import { ArchiveError, readZipEntries } from './zip-archive.js';

export interface StatementBytes {
  name: string;
  bytes: Uint8Array;
}

/** The TextDecoder label of a channel encoding (latin1 files are Windows-1252 in practice, as WHATWG decodes them). */
function decoderLabel(encoding: ChannelConfig['encoding']): string {
  return encoding === 'latin1' ? 'windows-1252' : encoding;
}

/** OFX names its encoding in its header (CHARSET:1252, ENCODING:UTF-8, or XML's): that, else the channel's. */
function ofxEncodingOf(bytes: Uint8Array, fallback: ChannelConfig['encoding']): string {
  try {
    return readOfxHeader(new TextDecoder('latin1').decode(bytes.subarray(0, 4096))).encoding;
  } catch {
    return decoderLabel(fallback);
  }
}

/** An Alipay bill: the zip Alipay sends (details and summary CSVs in GB18030), or its details CSV alone. */
async function alipayBillOf(file: StatementBytes): Promise<AlipayBill | { unreadable: string }> {
  try {
    const zipped = file.bytes[0] === 0x50 && file.bytes[1] === 0x4b;
    const entries = zipped ? await readZipEntries(file.bytes) : [{ name: file.name, bytes: Buffer.from(file.bytes) }];
    return readAlipayBill(entries);
  } catch (error) {
    if (error instanceof ArchiveError || error instanceof AlipayBillReadError) return { unreadable: error.message };
    throw error;
  }
}

/**
 * Whether a file is a WeChat Pay bill read in pieces: UTF-8 that decodes (checked in place) and holds no quote
 * character (the quote-free path of csv-records.ts, where a record is a line). Anything else is decoded whole.
 */
function billInPieces(bytes: Uint8Array, channel: ChannelConfig): boolean {
  return channel.format === 'wechatpay-tradebill' && channel.encoding === 'utf-8' && recordsAreLines(bytes, '"') && isUtf8(bytes);
}

/**
 * A bill this big or more is read in two halves side by side (statement-rows.ts splitBillRows) when its bytes can be
 * shared with another thread: a million-row bill (~220 MB) took ~9 s to read on one thread, the other core idle.
 */
export const splitBillBytesMin = 32 * 1024 * 1024;

/**
 * `onFirstRow`: see statementRows. `startHalf`: how a big bill's later half is read elsewhere (bill-half-host.ts);
 * without it, or for bytes not in a SharedArrayBuffer, every file is read on this thread.
 */
export async function readStatementFiles(
  files: readonly StatementBytes[],
  channel: ChannelConfig,
  onFirstRow?: (row: StatementRow) => void,
  startHalf?: BillSplit['start'],
  splitBytesMin = splitBillBytesMin,
): Promise<StatementRows> {
  const only = files.length === 1 ? files[0]! : null;
  if (only !== null && startHalf !== undefined && only.bytes.buffer instanceof SharedArrayBuffer && only.bytes.byteLength >= splitBytesMin && billInPieces(only.bytes, channel)) {
    const at = lineStartFrom(only.bytes, Math.floor(only.bytes.byteLength / 2), lineBreakOfBytes(only.bytes));
    if (at > 0) return splitBillRows({ name: only.name, text: '', bytes: { data: only.bytes, encoding: 'utf-8' } }, { at, start: startHalf }, channel, onFirstRow);
  }
  const texts: StatementFile[] = [];
  const undecodable: StatementReport[] = [];
  if (channel.format === 'alipay-tradebill') {
    for (const file of files) texts.push({ name: file.name, text: '', alipay: await alipayBillOf(file) });
    return statementRows(texts, channel, onFirstRow);
  }
  for (const file of files) {
    if (billInPieces(file.bytes, channel)) {
      // Checked whole (no copy), read a few megabytes of text at a time: a million-row bill is never one string.
      texts.push({ name: file.name, text: '', bytes: { data: file.bytes, encoding: 'utf-8' }, pieces: () => textPieces(file.bytes, 'utf-8') });
      continue;
    }
    try {
      const label = channel.format === 'ofx' ? ofxEncodingOf(file.bytes, channel.encoding) : decoderLabel(channel.encoding);
      texts.push({ name: file.name, text: new TextDecoder(label, { fatal: true }).decode(file.bytes), bytes: { data: file.bytes, encoding: label } });
    } catch {
      undecodable.push({ format: channel.format, file: file.name, entries: 0, problems: [{ code: 'format', locator: file.name, message: `not valid ${channel.encoding} (the channel's encoding)` }], warnings: [] });
    }
  }
  const read = statementRows(texts, channel, onFirstRow);
  read.reports.push(...undecodable);
  return read;
}
