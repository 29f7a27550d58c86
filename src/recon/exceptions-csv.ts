// A reconciliation run's exceptions as a CSV file for the people who work them (issue #17), written with
// csv-stringify: UTF-8 with a BOM (spreadsheets then read Chinese text right), every field quoted, and any cell
// that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) opened with a quote
// mark so it stays text. Amounts are unsigned decimals at the channel's scale with a direction column, so no number
// needs a sign.

import { stringify } from 'csv-stringify/sync';
import { formatStatementAmount } from '../core/recon/statement-amount.js';
import { isMatchedOutcome, ReconOutcome } from '../core/recon/outcomes.js';
import type { ReconRecord } from '../core/recon/matcher.js';
import type { StatementRow } from '../core/recon/statement-row.js';

const formulaStart = /^[=+\-@\t\r]/;

/** A cell as text a spreadsheet shows and never evaluates. */
export function safeCell(text: string): string {
  return formulaStart.test(text) ? `'${text}` : text;
}

const header = ['outcome', 'outcome_code', 'direction', 'theirs_amount', 'ours_amount', 'difference', 'fields', 'their_status', 'our_status', 'merchant_order_no', 'channel_serial_no', 'rows', 'locators', 'transfer_ids'];

export function exceptionsCsv(records: readonly ReconRecord[], rows: readonly StatementRow[], scale: number): string {
  const byNo = new Map(rows.map((row) => [row.rowNo, row]));
  const amount = (minor: bigint): string => formatStatementAmount(minor < 0n ? -minor : minor, scale);
  const lines = records
    .filter((record) => !isMatchedOutcome(record.outcome))
    .map((record) => {
      const first = byNo.get(record.rowNos[0] ?? -1);
      const difference = record.theirsMinor - record.oursMinor;
      return [
        record.outcome, String(ReconOutcome[record.outcome]), record.direction, amount(record.theirsMinor), amount(record.oursMinor),
        `${difference < 0n ? 'ours more by ' : difference > 0n ? 'theirs more by ' : ''}${amount(difference)}`,
        record.differences.map((d) => `${d.field}: ours ${d.ours}, theirs ${d.theirs}`).join('; '),
        record.theirs ?? '', record.ours, first?.merchantOrderNo ?? '', first?.channelSerialNo ?? '', record.rowNos.join(' '),
        record.rowNos.map((no) => byNo.get(no)?.locator ?? '').join(' '), record.transferIds.join(' '),
      ].map(safeCell);
    });
  return `\uFEFF${stringify([header, ...lines], { quoted: true, record_delimiter: '\r\n' })}`;
}
