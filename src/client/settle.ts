// Encoding of the settlement operations for the client (清结算, issue #18), and a merchant's statement as CSV. Bodies
// are JSON objects built with core/wire/admin-bodies.ts; inputs are checked here with TypeErrors that name the
// argument, and everything else (name patterns, dates, instants, limits) is the server's to refuse (body_invalid),
// as the gateway reads the same bodies with core/wire/settle-bodies.ts.

import { stringify } from 'csv-stringify/sync';
import { isFormulaLike } from '../core/recon/formula-cell.js';
import { encodeAdminJson } from '../core/wire/admin-bodies.js';
import { errors } from '../core/errors.js';
import type { SettleChangeStatus, SettleStatement, SettleStatementPage, SettleStatementRun, SettleStrategyKind } from '../core/wire/settle-bodies.js';
import { encodeFields } from './admin.js';

/**
 * The least time settlePreview and settleRun wait for their reply. A run reads every item of the days falling due (a
 * million of them on a busy date) and posts its transfers before the server answers, once; the client's usual
 * per-call timeout (30 s by default) would give up on a run that is going well, and a run given up on by the client
 * still finishes on the server. A client connected with a longer timeoutMs keeps its own.
 */
export const settleRunTimeoutMsMin = 10 * 60 * 1000;

/** A version of a merchant's fee strategy to submit for approval (maker–checker). */
export interface SettleStrategyInput {
  /** fee (the default): a fee per item of a product; reserve: the merchant's rolling reserve per run (no product). */
  kind?: SettleStrategyKind;
  merchant: string;
  /** Omitted (or null, as a SettleStrategyChange has it): the strategy of every product the merchant has none of its own for. */
  product?: string | null;
  /** ISO 8601 instant in UTC, 'YYYY-MM-DDTHH:MM:SSZ' (a fraction allowed): accounting time from which it applies. */
  effectiveFrom: string;
  /** The strategy document (core/settle/rules.ts's JSON shape); the server checks it. */
  strategy: object;
  /** Why (required, at most 1,000 characters): it goes into the change and the audit log. */
  reason: string;
}

/** A page of strategy changes, newest first: of one merchant or status, older than `before` (the last id of the previous page). */
export interface SettleStrategiesFilter {
  merchant?: string;
  status?: SettleChangeStatus;
  before?: string;
  limit?: number;
}

/** submit_settle_strategy (56). */
export function encodeSettleStrategySubmission(input: SettleStrategyInput): Uint8Array {
  const what = 'submitSettleStrategy';
  if (typeof input !== 'object' || input === null) throw new TypeError(`${what}: pass { merchant, product?, effectiveFrom, strategy, reason }`);
  if (typeof input.merchant !== 'string') throw new TypeError(`${what}: merchant must be a string`);
  if (input.product != null && typeof input.product !== 'string') throw new TypeError(`${what}: product must be a string, null or left out`);
  if (typeof input.effectiveFrom !== 'string') throw new TypeError(`${what}: effectiveFrom must be an ISO instant string 'YYYY-MM-DDTHH:MM:SSZ'`);
  if (typeof input.strategy !== 'object' || input.strategy === null || Array.isArray(input.strategy)) throw new TypeError(`${what}: strategy must be a strategy document (an object)`);
  if (typeof input.reason !== 'string' || input.reason.trim() === '') throw new TypeError(`${what}: reason must be a non-empty string`);
  const { kind, merchant, product, effectiveFrom, strategy, reason } = input;
  // The wire has no null product: every product is the field left out.
  return encodeAdminJson({ kind, merchant, product: product ?? undefined, effectiveFrom, strategy, reason });
}

/** approve_settle_strategy (57). */
export function encodeSettleApproval(id: string): Uint8Array {
  return encodeAdminJson({ id: changeId(id, 'approveSettleStrategy') });
}

/** reject_settle_strategy (58): the reason is optional (a maker withdrawing a change may give none). */
export function encodeSettleRejection(id: string, reason?: string): Uint8Array {
  if (reason !== undefined && typeof reason !== 'string') throw new TypeError('rejectSettleStrategy: reason must be a string or left out');
  return encodeAdminJson({ id: changeId(id, 'rejectSettleStrategy'), reason });
}

/** get_settle_strategies (59). */
export function encodeSettleStrategiesFilter(filter?: SettleStrategiesFilter): Uint8Array {
  if (filter !== undefined && (typeof filter !== 'object' || filter === null)) throw new TypeError('getSettleStrategies: filter must be an object { merchant?, status?, before?, limit? }');
  // Fields are passed through as given: a misspelt one reaches the server, which names it (body_invalid).
  return encodeFields(filter);
}

/** Which merchants a preview or run reply shows: those after `after` (a page's `next`), `limit` units at most. */
export interface SettleMerchantsPage {
  after?: string;
  limit?: number;
}

/** settle_preview (60) and settle_run (61): the run date, and the merchants page. */
export function encodeSettleRunDate(date: string, what: 'settlePreview' | 'settleRun', page: SettleMerchantsPage = {}): Uint8Array {
  if (typeof date !== 'string') throw new TypeError(`${what}: date must be a string 'YYYY-MM-DD', got ${typeof date}`);
  if (typeof page !== 'object' || page === null) throw new TypeError(`${what}: page must be an object { after?, limit? }`);
  return encodeAdminJson({ date, after: page.after, limit: page.limit });
}

/** get_settle_statement (62): one page of lines from `after` (0: the first). */
export function encodeSettleStatementQuery(merchant: string, date: string, after = 0, limit?: number): Uint8Array {
  if (typeof merchant !== 'string') throw new TypeError(`getSettleStatement: merchant must be a string, got ${typeof merchant}`);
  if (typeof date !== 'string') throw new TypeError(`getSettleStatement: date must be a string 'YYYY-MM-DD', got ${typeof date}`);
  return encodeAdminJson({ merchant, date, after: after === 0 ? undefined : after, limit });
}

/**
 * A whole statement from its pages (`page(after)` reads one): the runs' summaries of the first page, each run with
 * its lines gathered in order. `onProgress` hears the lines read so far and the total.
 */
export async function gatherStatement(page: (after: number) => Promise<SettleStatementPage | null>, onProgress?: (read: number, total: number) => void): Promise<SettleStatement | null> {
  const first = await page(0);
  if (first === null) return null;
  const runs = first.runs.map(({ lineCount: _lineCount, ...summary }): SettleStatementRun => ({ ...summary, lines: [] }));
  const runOf = new Map(runs.map((run) => [JSON.stringify([run.runId, run.channel]), run]));
  const total = first.runs.reduce((sum, run) => sum + run.lineCount, 0);
  let read = 0;
  for (let current: SettleStatementPage | null = first; current !== null; ) {
    for (const { runId, channel, ...line } of current.lines) {
      const run = runOf.get(JSON.stringify([runId, channel]));
      if (run === undefined) throw errors.frameInvalid(`get_settle_statement: a line names run ${runId} on ${channel}, which the statement does not have`);
      run.lines.push(line);
    }
    read += current.lines.length;
    onProgress?.(read, total);
    if (current.next === null) break;
    if (current.next <= 0 || current.lines.length === 0) throw errors.frameInvalid(`get_settle_statement: a page goes on at ${current.next} without lines`);
    current = await page(current.next);
    if (current === null) throw errors.frameInvalid('get_settle_statement: the statement went away between pages');
  }
  return { merchant: first.merchant, date: first.date, runs };
}

function changeId(id: string, what: string): string {
  if (typeof id !== 'string' || id === '') throw new TypeError(`${what}: id must be a strategy change id (ssc_…), got ${String(id)}`);
  return id;
}

// ---- the statement as CSV -------------------------------------------------------------------------------------------

/** The columns of a statement line, in order. */
export const statementLineColumns = ['run_id', 'channel', 'cycle', 'batch', 'trade_day', 'order_id', 'kind', 'product', 'amount', 'fee', 'strategy', 'reconciliation', 'state'] as const;

/** The columns of the summary block (one row per run), in order. */
export const statementSummaryColumns = [
  'merchant', 'date', 'run_id', 'channel', 'cycle', 'batch', 'gross', 'fees', 'net', 'shares', 'reserve_held', 'reserve_release_on', 'reserve_released',
  'carried_in', 'carried_out', 'payable', 'settled',
] as const;

/** Statement lines per chunk of settlementStatementCsvChunks: a writer reports progress between chunks. */
export const statementCsvChunkLinesMax = 10_000;

// RFC 4180 quoting (a cell with a comma, a quote or a line break is quoted, quotes doubled), with LF ending every
// record: what Unix tools and spreadsheets both read. csv-stringify quotes a bare CR only when asked, so it is asked.
// No byte-order mark: every cell is ASCII (merchant, product, channel and strategy ids are ASCII by their patterns).
const csvOptions = { record_delimiter: '\n', quoted_match: /\r/, eof: true } as const;

/** A leading tab or carriage return also starts a formula in some spreadsheets (OWASP's CSV injection list). */
const controlStart = /^[\t\r]/;

/**
 * A cell a spreadsheet shows as text and never runs: one that starts with = + - @ (or a tab or carriage return) gets a
 * leading single quote, unless it is a plain number (-100 stays a number). core/recon/formula-cell.ts decides.
 */
export function formulaSafeCell(text: string): string {
  return isFormulaLike(text) || controlStart.test(text) ? `'${text}` : text;
}

/**
 * A merchant's statement as CSV: a header row, one row per statement line (amounts in minor units, exactly as the
 * reply has them), then a blank line and the summary block (its own header, one row per run). LF line ends.
 */
export function settlementStatementCsv(statement: SettleStatement): string {
  let text = '';
  for (const chunk of settlementStatementCsvChunks(statement)) text += chunk.text;
  return text;
}

/**
 * settlementStatementCsv in pieces of at most `linesMax` statement lines (`lines` says how many each holds), for
 * a writer that shows progress on a statement of a million lines; the pieces joined are settlementStatementCsv.
 */
export function* settlementStatementCsvChunks(statement: SettleStatement, linesMax = statementCsvChunkLinesMax): Generator<{ text: string; lines: number }> {
  if (!Number.isSafeInteger(linesMax) || linesMax < 1) throw new RangeError(`settlementStatementCsvChunks: linesMax must be a positive integer, got ${linesMax}`);
  yield { text: csvRows([[...statementLineColumns]]), lines: 0 };
  for (const run of statement.runs) {
    for (let at = 0; at < run.lines.length; at += linesMax) {
      const part = run.lines.slice(at, at + linesMax);
      yield { text: csvRows(part.map((line) => [run.runId, run.channel, run.cycle, String(run.batch), line.tradeDay, line.orderId, line.kind, line.product, line.amountMinor, line.feeMinor, line.strategy, line.reconciliation, line.state])), lines: part.length };
    }
  }
  // An empty record is the blank line that separates the summary block from the lines.
  yield { text: csvRows([[], [...statementSummaryColumns], ...statement.runs.map((run) => summaryRow(statement, run))]), lines: 0 };
}

function summaryRow(statement: SettleStatement, run: SettleStatementRun): string[] {
  return [
    statement.merchant, statement.date, run.runId, run.channel, run.cycle, String(run.batch), run.grossMinor, run.feesMinor, run.netMinor, run.sharesMinor,
    run.reserveHeldMinor, run.reserveReleaseOn ?? '', run.reserveReleasedMinor, run.carriedInMinor, run.carriedOutMinor, run.payableMinor, run.settledMinor,
  ];
}

function csvRows(rows: readonly (readonly string[])[]): string {
  return stringify(rows.map((row) => row.map(formulaSafeCell)), csvOptions);
}
