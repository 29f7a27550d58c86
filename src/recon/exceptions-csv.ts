// A reconciliation's exceptions as a CSV file for the people who work them (issue #17), written with
// csv-stringify: UTF-8 with a BOM (spreadsheets then read Chinese text right), every field quoted, and any cell
// that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) opened with a quote
// mark so it stays text. Amounts are unsigned decimals with a direction column, so no number needs a sign.

import { stringify } from 'csv-stringify/sync';
import type { ReconException } from '../core/recon/batches.js';

const formulaStart = /^[=+\-@\t\r]/;

/** A cell as text a spreadsheet shows and never evaluates. */
export function safeCell(text: string): string {
  return formulaStart.test(text) ? `'${text}` : text;
}

const header = ['n', 'outcome', 'outcome_code', 'direction', 'theirs_amount', 'ours_amount', 'difference', 'fields', 'their_status', 'our_status', 'merchant_order_no', 'channel_serial_no', 'rows', 'locators', 'transfer_ids', 'action', 'action_state', 'action_transfer_id', 'action_detail', 'resolution_transfer_id', 'resolution_status'];

const unsigned = (amount: string): string => amount.replace(/^-/, '');

export function exceptionsCsv(exceptions: readonly ReconException[]): string {
  const lines = exceptions.map((exception) => {
    const first = exception.rows[0];
    const amountDifference = exception.differences.find((d) => d.field === 'amount')?.difference;
    const difference = amountDifference === undefined ? '' : `${amountDifference.startsWith('-') ? 'ours more by ' : 'theirs more by '}${unsigned(amountDifference)}`;
    return [
      String(exception.n), exception.outcome, String(exception.code), exception.direction, unsigned(exception.theirs), unsigned(exception.ours), difference,
      exception.differences.map((d) => `${d.field}: ours ${d.ours}, theirs ${d.theirs}`).join('; '),
      exception.theirStatus ?? '', exception.ourStatus, first?.merchantOrderNo ?? '', first?.channelSerialNo ?? '',
      exception.rows.map((row) => String(row.row)).join(' '), exception.rows.map((row) => row.locator).join(' '), exception.transferIds.join(' '),
      exception.action?.action ?? '', exception.action?.state ?? '', exception.action?.transferId ?? '', exception.action?.detail ?? '',
      exception.resolution?.transferId ?? '', exception.resolution?.status ?? '',
    ].map(safeCell);
  });
  return `\uFEFF${stringify([header, ...lines], { quoted: true, record_delimiter: '\r\n' })}`;
}
