// One reconciliation import off the gateway's thread (issue #17; host: import-worker-host.ts). Reading a day's
// statement (a million-row bill is seconds of parsing and a gigabyte of heap) and matching it run here, under the
// worker's own heap limit: an import too big for it ends this thread, never the server, and the gateway keeps
// answering payments meanwhile. Steps: read the files into rows — telling the host the first row's day as soon as
// it is read — and report what checking them found and the days they carry; then, given our side of the day,
// match, number the exceptions, decide what the strategy table would do about each, and report.

import { parentPort, workerData } from 'node:worker_threads';
import { assert } from '../core/assert.js';
import { currencyOfCode } from '../core/currencies.js';
import { matchStatement } from '../core/recon/matcher.js';
import { isMatchedOutcome } from '../core/recon/outcomes.js';
import { packedLedgerSource } from '../core/recon/packed-ledger-rows.js';
import { rowBusinessDay, statementDays } from '../core/recon/statement-day.js';
import type { StatementRows } from './statement-rows.js';
import { decide } from '../core/recon/strategies.js';
import { reconExceptionOf, reconTotalsOf } from './exception-records.js';
import type { ActionCandidate, ImportCommand, ImportEvent, ImportWorkerData } from './import-messages.js';
import { readStatementFiles } from './statement-files.js';
import { BillHalfTooBig, startBillHalf } from './bill-half-host.js';

const port = parentPort;
assert(port !== null, 'import.worker.ts runs as a worker thread');
const { channel, files } = workerData as ImportWorkerData;
const send = (event: ImportEvent): void => port.postMessage(event);

let read: StatementRows | null = null;

async function readFiles(): Promise<void> {
  read = await readStatementFiles(files, channel, (row) => {
    const day = rowBusinessDay(row, channel);
    if (day !== 0) send({ type: 'first_day', day });
  }, startBillHalf);
  files.length = 0; // the table keeps what it needs of them (a bill's bytes, to make an exception's row whole again)
  const problems = read.reports.flatMap((report) => report.problems.map((problem) => `${report.file}: ${problem.code}: ${problem.locator}: ${problem.message}`));
  const source = read.source;
  const statements = new Set<string>();
  // A CSV template's statement key is its file name: no identity (its bytes and its day still are).
  if (channel.format !== 'csv') for (let i = 0; i < source.length; i++) if (source.statementKey(i) !== '') statements.add(source.statementKey(i));
  send({ type: 'read', problems, days: statementDays(source, channel), statementRows: source.length, skipped: read.skipped, statements: [...statements], ofxLinks: read.ofxLinks });
}

function match(command: ImportCommand): void {
  assert(read !== null, 'rows are read before they are matched');
  // The rows as the table holds them: a row is made whole only for an exception or an action (read.rows would make them all).
  const rows = read.source;
  const output = matchStatement({
    rows, ledger: packedLedgerSource(command.ledger), pool: packedLedgerSource(command.pool), later: packedLedgerSource(command.later), businessDay: command.day, currency: channel.currency,
    tolerance: channel.tolerance, compareFees: channel.ledgerCodes.fee.length > 0, pendingDaysMax: channel.pendingDaysMax, fallback: channel.fallback, keepMatched: false,
  });
  const scale = currencyOfCode(channel.currency)!.scale;
  // Rows are numbered 1.. in order: row n is rows[n - 1], no map of a million entries needed.
  const rowsByNo = { get: (no: number) => rows.row(no - 1) };
  const exceptions = [];
  const candidates: ActionCandidate[] = [];
  for (const record of output.records) {
    if (isMatchedOutcome(record.outcome)) continue;
    const n = exceptions.length + 1;
    const exception = reconExceptionOf(record, n, rowsByNo, scale);
    const decision = decide(channel.strategies, record);
    if (decision.action === 'hold') exception.action = { action: 'hold', state: 'held', detail: decision.reason };
    else candidates.push({ n, record, row: rows.row(record.rowNos[0]! - 1) });
    exceptions.push(exception);
  }
  send({ type: 'matched', ignored: output.ignored, totals: reconTotalsOf(output.totals, scale), exceptions, candidates, carried: output.carried });
}

// The worker never ends itself after answering: the host terminates it once it has the answer (a message posted
// just before a worker exits could be lost).
port.on('message', (command: ImportCommand) => {
  try {
    match(command);
  } catch (error) {
    send({ type: 'failed', message: (error as Error).stack ?? String(error) });
  }
});

readFiles().catch((error: unknown) => {
  send({ type: 'failed', message: (error as Error).stack ?? String(error), outOfMemory: error instanceof BillHalfTooBig });
});
