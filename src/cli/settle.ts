// `tally settle preview | run | report | strategy …` (清结算, issue #18): settlement on a running server, admin scope.
// Thin: the arguments are parsed by settle-args.ts, the calls are the client's, the text is settle-describe.ts's,
// the strategy actions are settle-strategies.ts's. A run is answered once, after it posted everything: while it waits
// the command shows a spinner and the time elapsed on stderr, since there is no fraction to show.

import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { connect, type Client } from '../client/client.js';
import { settlementStatementCsvChunks, type SettleMerchantsPage } from '../client/settle.js';
import type { SettleStatement } from '../core/wire/settle-bodies.js';
import { clientConnectOptions } from './client-options.js';
import { parseSettleArgs, settlePreviewUsage, settleReportUsage, settleRunUsage, settleStrategyUsage, type ConnectionFlags, type SettleCommandLine } from './settle-args.js';
import { describePreview, describeRun, describeStatement } from './settle-describe.js';
import { readStrategyDocument, settleStrategyCommand } from './settle-strategies.js';
import { StatusLine } from './status-line.js';
import { UsageError } from './serve-options.js';

/** A statement of at least this many lines gets a status line while its CSV is written; smaller ones are instant. */
const csvStatusLinesMin = 50_000;
/** The connect timeout, and the wait of the calls other than preview and run (those wait at least 10 minutes). */
const callTimeoutMs = 120_000;

/** Resolves with the exit status; throws a UsageError (exit 2) before connecting when the arguments are wrong. */
export async function settleCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const line = parseSettleArgs(argv);
  if (line.kind === 'help') {
    console.log(line.usage);
    return 0;
  }
  // Read before connecting: a file that is missing or no JSON object is a usage error, and reaches no server.
  const strategy = line.kind === 'strategy-submit' ? readStrategyDocument(line.file) : null;
  return withSettleClient(line.connection, env, usageOf(line), (client) => runLine(client, line, strategy));
}

function runLine(client: Client, line: Exclude<SettleCommandLine, { kind: 'help' }>, strategy: object | null): Promise<number> {
  if (line.kind === 'preview') return preview(client, line.date, { ...(line.after === null ? {} : { after: line.after }), ...(line.limit === null ? {} : { limit: line.limit }) }, line.explain, line.json);
  if (line.kind === 'run') return run(client, line.date, line.json);
  if (line.kind === 'report') return report(client, line.merchant, line.date, line.csv, line.json);
  return settleStrategyCommand(client, line, strategy);
}

async function preview(client: Client, date: string, page: SettleMerchantsPage, explain: boolean, json: boolean): Promise<number> {
  const reply = await waitFor(`previewing settlement of ${date}`, () => client.settlePreview(date, page), 'A preview posts nothing: try again, or at a quieter time.');
  if (reply === null) return 1;
  console.log(json ? JSON.stringify(reply, null, 1) : describePreview(reply, explain));
  return reply.check.balanced ? 0 : 1;
}

async function run(client: Client, date: string, json: boolean): Promise<number> {
  const afterTimeout = `The run may still be going on the server: read what it posted with tally settle report --merchant M --date ${date} before running the date again.`;
  const reply = await waitFor(`settling ${date}`, () => client.settleRun(date), afterTimeout);
  if (reply === null) return 1;
  console.log(json ? JSON.stringify(reply, null, 1) : describeRun(reply));
  return reply.status === 'failed' ? 1 : 0;
}

/**
 * Waits for a preview or run with a spinner and the time elapsed. A timeout is reported, not thrown: the server goes on
 * with a run the client stopped waiting for, and the operator needs to know that before running the date again.
 */
async function waitFor<T>(label: string, call: () => Promise<T>, afterTimeout: string): Promise<T | null> {
  const status = new StatusLine(label);
  status.tick('waiting for the server');
  try {
    const reply = await call();
    status.finish('answered');
    return reply;
  } catch (error) {
    status.finish('no answer');
    if ((error as { code?: unknown }).code !== 'timeout') throw error;
    console.error(`tally: ${(error as Error).message}. ${afterTimeout}`);
    return null;
  }
}

async function report(client: Client, merchant: string, date: string, csv: string | null, json: boolean): Promise<number> {
  const reading = new StatusLine(`reading the statement of ${merchant} for ${date}`);
  const statement = await client.getSettleStatement(merchant, date, (read, total) => reading.update(`${read} of ${total} lines`));
  if (statement !== null) reading.finish('read');
  if (statement === null) {
    console.error(`tally: no settlement statement of ${merchant} for ${date} (the merchant was in no posted run that date)`);
    return 1;
  }
  if (csv !== null) {
    const lines = writeStatementCsv(statement, csv);
    console.log(`wrote ${lines} statement line${lines === 1 ? '' : 's'} to ${csv}`);
    return 0;
  }
  console.log(json ? JSON.stringify(statement, null, 1) : describeStatement(statement));
  return 0;
}

/**
 * Writes the CSV in chunks, with a status line for a large statement. The file appears under its name only once
 * complete (written beside it, then renamed), so an interrupted write never leaves a statement that looks whole.
 */
function writeStatementCsv(statement: SettleStatement, file: string): number {
  const total = statement.runs.reduce((sum, run) => sum + run.lines.length, 0);
  const status = total >= csvStatusLinesMin ? new StatusLine(`writing ${file}`) : null;
  const partial = `${file}.partial`;
  const fd = openSync(partial, 'w');
  let written = 0;
  try {
    for (const chunk of settlementStatementCsvChunks(statement)) {
      writeSync(fd, chunk.text);
      written += chunk.lines;
      status?.update(`${written} of ${total} lines`);
    }
  } catch (error) {
    closeSync(fd);
    rmSync(partial, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(partial, file);
  status?.finish(`${total} lines`);
  return total;
}

/** The help a connection flag's mistake (an empty --key, an unreadable --ca) is shown with. */
function usageOf(line: Exclude<SettleCommandLine, { kind: 'help' }>): string {
  if (line.kind === 'preview') return settlePreviewUsage;
  if (line.kind === 'run') return settleRunUsage;
  if (line.kind === 'report') return settleReportUsage;
  return settleStrategyUsage;
}

/** Connects with the flags (then TALLY_URL, TALLY_API_KEY, TALLY_CA), runs `use`, and closes whatever happens. */
async function withSettleClient(flags: ConnectionFlags, env: NodeJS.ProcessEnv, usage: string, use: (client: Client) => Promise<number>): Promise<number> {
  const client = await connect(clientConnectOptions(flags, env, callTimeoutMs, (message) => new UsageError(message, usage)));
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}
