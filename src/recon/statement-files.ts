// A channel's statement files from their bytes (issue #17): decoded with the channel's encoding — strictly, a byte
// that is no character of it refuses the file — and read as rows by the channel's format (statement-rows.ts). Used
// by both `tally recon match` (files on disk) and the server's recon_import (files uploaded).

import type { ChannelConfig } from '../core/recon/channel-config.js';
import type { StatementReport } from '../core/recon/statement-report.js';
import { statementRows, type StatementRows } from './statement-rows.js';

export interface StatementBytes {
  name: string;
  bytes: Uint8Array;
}

/** The TextDecoder label of a channel encoding (latin1 files are Windows-1252 in practice, as WHATWG decodes them). */
function decoderLabel(encoding: ChannelConfig['encoding']): string {
  return encoding === 'latin1' ? 'windows-1252' : encoding;
}

export async function readStatementFiles(files: readonly StatementBytes[], channel: ChannelConfig): Promise<StatementRows> {
  const texts: { name: string; text: string }[] = [];
  const undecodable: StatementReport[] = [];
  for (const file of files) {
    try {
      texts.push({ name: file.name, text: new TextDecoder(decoderLabel(channel.encoding), { fatal: true }).decode(file.bytes) });
    } catch {
      undecodable.push({ format: channel.format, file: file.name, entries: 0, problems: [{ code: 'format', locator: file.name, message: `not valid ${channel.encoding} (the channel's encoding)` }], warnings: [] });
    }
  }
  const read = statementRows(texts, channel);
  read.reports.push(...undecodable);
  return read;
}
