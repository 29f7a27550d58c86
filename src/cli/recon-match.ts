// `tally recon match` (issue #17): one channel's statement files for a closed business day reconciled against the
// ledger, read-only — the files are read and checked (a file that does not add up is refused and nothing of it is
// matched), our postings on the channel's clearing account for that day are read from the running server in pages
// of history, and the two are matched both ways. Prints what matched and every exception (which field differs and by
// how much), and writes the exceptions as CSV with --exceptions. Batches stored on the server, the pending pool
// carried across days and automatic actions come with `tally recon import` (docs/design/issue-17-reconciliation.md).

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connect } from '../client/client.js';
import { formatBusinessDay, parseBusinessDay } from '../core/business-day.js';
import { currencyOfCode } from '../core/currencies.js';
import type { ChannelConfig } from '../core/recon/channel-config.js';
import { ChannelConfigError, parseChannels } from '../core/recon/channel-config-parse.js';
import { statementDays } from '../core/recon/statement-day.js';
import { matchStatement, type MatchOutput } from '../core/recon/matcher.js';
import { isMatchedOutcome } from '../core/recon/outcomes.js';
import type { ReconException, ReconOutcomeTotal } from '../core/recon/batches.js';
import { reconExceptionOf, reconTotalsOf } from '../recon/exception-records.js';
import type { StatementRowSource } from '../core/recon/statement-row-table.js';
import { exceptionsCsv } from '../recon/exceptions-csv.js';
import { LedgerDayError, readLedgerDay } from '../recon/ledger-day.js';
import { readStatementFiles } from '../recon/statement-files.js';
import { clientConnectOptions, clientFlags, clientFlagsUsage } from './client-options.js';
import { ProgressLine } from './progress.js';
import { UsageError } from './serve-options.js';

export const reconMatchUsage = `usage: tally recon match --channels FILE --channel NAME [--day YYYY-MM-DD] STATEMENT… [--exceptions OUT.csv]
                        [--json] [--url ws://HOST:PORT] [--key KEY]

Reconciles one channel's statement files for a closed business day against the ledger (read-only): the files are
checked first (opening + entries = closing, summaries; a file that does not add up is refused and nothing is
matched), then matched both ways with the channel's postings on its clearing account: matched, amount / fee /
status / direction mismatches, duplicates, missing on the platform (漏单), missing at the channel (pending).
  --channels FILE   the channels file (config/recon-channels.example.json shows one of each format)
  --channel NAME    the channel the files are from
  --day D           the business day (default: the one day the statement's rows carry)
  --exceptions OUT  write every exception as CSV (UTF-8 with BOM, formula-safe cells)
  --json            the statistics and every exception as one JSON document
${clientFlagsUsage}

Exit status 0 when everything matched, 1 when there are exceptions or a file is refused, 2 usage error.`;

/** A statement of a day is megabytes; a bill of a million rows ~250 MB. */
const fileBytesMax = 1024 * 1024 * 1024;

export async function reconMatchCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const refuse = (message: string) => new UsageError(message, reconMatchUsage);
  const text = { type: 'string' } as const;
  const options = { ...clientFlags, channels: text, channel: text, day: text, exceptions: text, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], strict: true, allowPositionals: true, options });
  } catch (error) {
    throw refuse((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    console.log(reconMatchUsage);
    return 0;
  }
  if (values.channels === undefined) throw refuse('--channels FILE is required');
  if (values.channel === undefined) throw refuse('--channel NAME is required');
  if (positionals.length === 0) throw refuse('name at least one statement file');
  const channel = loadChannel(values.channels, values.channel, refuse);
  let day: number | undefined;
  if (values.day !== undefined) {
    try {
      day = parseBusinessDay(values.day);
    } catch (error) {
      throw refuse(`--day: ${(error as Error).message}`);
    }
  }

  const files = positionals.map((file) => ({ name: file, bytes: readStatement(file, refuse) }));
  const read = await readStatementFiles(files, channel);
  const refusedReports = read.reports.filter((report) => report.problems.length > 0);
  if (refusedReports.length > 0) {
    for (const report of refusedReports) {
      for (const problem of report.problems) console.error(`${report.file}: refused: ${problem.code}: ${problem.locator}: ${problem.message}`);
    }
    console.error(`refused: ${refusedReports.length} of ${files.length} file(s) do not pass their checks; nothing was matched`);
    return 1;
  }
  day ??= dayOfRows(read.source, channel, refuse);

  const client = await connect(clientConnectOptions(values, env, 60_000, refuse));
  let output: MatchOutput;
  let transfersRead: number;
  try {
    const progress = new ProgressLine(`reading ${channel.name}'s clearing account`);
    const ledgerDay = await readLedgerDay(client, channel, day, (count) => progress.update(count, 0, `${count} transfers read`));
    progress.finish(ledgerDay.transfersRead, ledgerDay.transfersRead, `${ledgerDay.transfersRead} transfers read`);
    transfersRead = ledgerDay.transfersRead;
    output = matchStatement({
      rows: read.source, ledger: ledgerDay.ledger, pool: [], later: ledgerDay.later, businessDay: day, currency: channel.currency,
      tolerance: channel.tolerance, compareFees: channel.ledgerCodes.fee.length > 0, pendingDaysMax: channel.pendingDaysMax, fallback: channel.fallback, keepMatched: false,
    });
  } catch (error) {
    if (error instanceof LedgerDayError) {
      console.error(`tally recon match: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await client.close();
  }

  const scale = currencyOfCode(channel.currency)!.scale;
  const rowsByNo = { get: (no: number) => read.source.row(no - 1) };
  const exceptions: ReconException[] = [];
  for (const record of output.records) if (!isMatchedOutcome(record.outcome)) exceptions.push(reconExceptionOf(record, exceptions.length + 1, rowsByNo, scale));
  if (values.exceptions !== undefined) writeFileSync(values.exceptions, exceptionsCsv(exceptions));
  const summary = { channel: channel.name, day: formatBusinessDay(day), statementRows: read.source.length, ignoredRows: output.ignored, skippedRows: read.skipped, transfersRead };
  const totals = reconTotalsOf(output.totals, scale);
  if (values.json === true) console.log(JSON.stringify({ ...summary, currency: channel.currency, totals, exceptions }, null, 1));
  else console.log(describeRun(summary, totals, exceptions, channel.currency, values.exceptions));
  return exceptions.length === 0 ? 0 : 1;
}

function loadChannel(path: string, name: string, refuse: (message: string) => UsageError): ChannelConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw refuse(`--channels: cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const channel = parseChannels(json).channels.find((candidate) => candidate.name === name);
    if (channel === undefined) throw refuse(`--channel: ${path} has no channel ${JSON.stringify(name)}`);
    return channel;
  } catch (error) {
    if (error instanceof ChannelConfigError) throw refuse(`--channels ${path}: ${error.message}`);
    throw error;
  }
}

function readStatement(file: string, refuse: (message: string) => UsageError): Buffer {
  try {
    if (statSync(file).size > fileBytesMax) throw refuse(`${file}: larger than ${fileBytesMax} bytes`);
    return readFileSync(file);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw refuse(`cannot read ${file}: ${(error as Error).message}`);
  }
}

function dayOfRows(rows: StatementRowSource, channel: ChannelConfig, refuse: (message: string) => UsageError): number {
  const days = statementDays(rows, channel);
  if (days.length !== 1) throw refuse(`the statement's rows carry ${days.length === 0 ? 'no date' : `${days.length} days`}: name the business day with --day`);
  return days[0]!;
}

/** What a run found, for people: totals per outcome, the first exceptions, where the rest went. */
export function describeRun(
  summary: { channel: string; day: string; statementRows: number; ignoredRows: number; transfersRead: number },
  totals: Partial<Record<string, ReconOutcomeTotal>>, exceptions: readonly ReconException[], currency: string, csv: string | undefined,
): string {
  const lines = [
    `channel ${summary.channel}, day ${summary.day}: ${summary.statementRows} statement rows (${summary.ignoredRows} informative), ${summary.transfersRead} ledger transfers read`,
  ];
  for (const [name, total] of Object.entries(totals)) lines.push(`  ${name.padEnd(26)}${String(total!.count).padStart(10)}${total!.amount.padStart(20)} ${currency}`);
  const shown = exceptions.slice(0, 20);
  for (const exception of shown) lines.push(`  ${describeException(exception)}`);
  if (exceptions.length > shown.length) lines.push(`  … ${exceptions.length - shown.length} more exceptions${csv === undefined ? ' (--exceptions FILE writes them all)' : ''}`);
  lines.push(`${exceptions.length === 0 ? 'everything matched' : `${exceptions.length} exception(s)`}${csv === undefined ? '' : `; exceptions written to ${csv}`}`);
  return lines.join('\n');
}

export function describeException(exception: ReconException): string {
  const row = exception.rows[0];
  const where = row === undefined ? `transfers ${exception.transferIds.join(', ')}` : `${row.locator} (order ${row.merchantOrderNo || '-'}, serial ${row.channelSerialNo || '-'})`;
  const action = exception.action === undefined ? '' : ` → ${exception.action.action}: ${exception.action.state} (${exception.action.detail})`;
  const resolution = exception.resolution === undefined ? '' : ` → resolved: transfer ${exception.resolution.transferId} ${exception.resolution.status}`;
  return `${exception.n}. ${exception.outcome}: ${where}: ${exception.differences.map((d) => `${d.field} ours ${d.ours}, theirs ${d.theirs}`).join('; ')}${action}${resolution}`;
}
