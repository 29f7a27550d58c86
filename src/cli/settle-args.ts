// The command line of `tally settle` (清结算, issue #18), parsed without touching a file or the network: what to do,
// with every flag checked as far as the wire's own patterns go (dates, merchant names, change ids, instants), so a
// typo is a usage error (exit 2) before anything connects. The help texts live here, next to the flags they describe.

import { parseArgs } from 'node:util';
import { parseBusinessDay } from '../core/business-day.js';
import {
  parseInstantNs,
  settleChangeIdPattern,
  settleChangeStatuses,
  settleChangesPageMax,
  settleMerchantsPageDefault,
  settleMerchantsPageMax,
  settleNamePattern,
  settleReasonCharsMax,
  settleStrategyKinds,
  type SettleChangeStatus,
  type SettleStrategyKind,
} from '../core/wire/settle-bodies.js';
import { clientFlags, clientFlagsUsage } from './client-options.js';
import { integerOption } from './option-values.js';
import { UsageError } from './serve-options.js';

const commonFlagsUsage = `  --json        the server's reply as JSON
${clientFlagsUsage}
  -h, --help    print this help`;

export const settlePreviewUsage = `usage: tally settle preview --date YYYY-MM-DD [--after MERCHANT] [--limit N] [--explain] [--json] [--url URL] [--key KEY] [--ca FILE]

What a settlement run on the date would do, posting nothing: each channel day it reads (cleared, or waiting and
why); per merchant and channel the cycle, days due, items paid, held back and released, gross, fees, net, reserve
held and released, amounts carried in and out and the amount settled (minor units); the balance check per channel
(总账平衡); and the number of transfers the run would post.
  --date D      the run date, YYYY-MM-DD
  --after M     the merchants after M (the "next page" line of the previous preview names it)
  --limit N     merchant–channel units shown, 1..${settleMerchantsPageMax} (default ${settleMerchantsPageDefault}; whole merchants)
  --explain     each merchant's explanation lines: how its figures came about
${commonFlagsUsage}

Exit status 0, 1 when the balance check fails, 2 usage error.`;

export const settleRunUsage = `usage: tally settle run --date YYYY-MM-DD [--json] [--url URL] [--key KEY] [--ca FILE]

Runs settlement for the date: posts payouts, fees, reserves and carries as ledger transfers whose ids derive from
merchant, channel, cycle, date, batch and role, so a failed run run again posts nothing twice. A status line on
stderr shows the time elapsed while the server works (it answers once; the client waits at least 10 minutes), then
the run id, status, transfers ok / exists / failed, each failure and the amount settled per channel.
  --date D      the run date, YYYY-MM-DD
${commonFlagsUsage}

Exit status 0 posted or nothing due, 1 failed (fix the cause, run again: the same transfers answer exists),
2 usage error.`;

export const settleReportUsage = `usage: tally settle report --merchant M --date YYYY-MM-DD [--csv FILE] [--json] [--url URL] [--key KEY] [--ca FILE]

The merchant's settlement statement of the run date: per run (channel, cycle, batch) its figures, then every item
(order, kind, product, trade day, amount, fee, the strategy version that charged it, its reconciliation and state).
  --merchant M  the merchant id
  --date D      the run date, YYYY-MM-DD
  --csv FILE    write the statement to FILE as CSV instead: a row per item, a blank line, a summary row per run;
                amounts in minor units exactly as the server has them, formula-safe cells, LF line ends
${commonFlagsUsage}

Exit status 0, 1 when the merchant has no statement that date, 2 usage error.`;

export const settleStrategyUsage = `usage: tally settle strategy submit [--kind fee|reserve|settlement] --merchant M [--product P] --effective-from INSTANT --file STRATEGY.json --reason TEXT
       tally settle strategy approve ID
       tally settle strategy reject ID [--reason TEXT]
       tally settle strategy list [--merchant M] [--status pending|approved|rejected] [--limit N]
       (each also takes --json and --url URL --key KEY --ca FILE)

Fee strategies under maker–checker: a version is submitted by one key and applies once another key approves it.
submit    a version of the merchant's fee strategy (the JSON document in FILE) for --product P, or for every product
          without a strategy of its own, effective from INSTANT (UTC, YYYY-MM-DDTHH:MM:SSZ); --reason says why;
          --kind reserve: the merchant's reserve strategy instead (inputs kept, gross, fees; output reserve; no product);
          --kind settlement: how much of the payable it is paid each run (inputs payable too; output settle)
approve   a pending change (ssc_…), by a key other than its maker's
reject    a pending change, optionally saying why (its maker may withdraw it the same way)
list      changes newest first, of one merchant or status; --limit N of 1..${settleChangesPageMax}
${commonFlagsUsage}

Exit status 0, 1 when the server refuses, 2 usage error.`;

export const settleUsage = `usage: tally settle preview --date YYYY-MM-DD [--explain] [--json]
       tally settle run --date YYYY-MM-DD [--json]
       tally settle report --merchant M --date YYYY-MM-DD [--csv FILE] [--json]
       tally settle strategy submit | approve | reject | list …
       (each also takes --url URL --key KEY --ca FILE; tally settle SUBCOMMAND --help for more)

Clearing and settlement (清结算) on a running server, admin scope: preview what a run date would settle, run it,
read a merchant's statement, and manage merchants' fee strategies (maker–checker).

Exit status 0, 1 the command ran and failed (it says why), 2 usage error.`;

/** --url, --key, --ca as given (client-options.ts reads the environment for the rest). */
export interface ConnectionFlags {
  url?: string;
  key?: string;
  ca?: string;
}

/** What `tally settle …` is to do, every value checked. */
export type SettleCommandLine =
  | { kind: 'help'; usage: string }
  | { kind: 'preview'; date: string; after: string | null; limit: number | null; explain: boolean; json: boolean; connection: ConnectionFlags }
  | { kind: 'run'; date: string; json: boolean; connection: ConnectionFlags }
  | { kind: 'report'; merchant: string; date: string; csv: string | null; json: boolean; connection: ConnectionFlags }
  | { kind: 'strategy-submit'; strategyKind: SettleStrategyKind; merchant: string; product: string | null; effectiveFrom: string; file: string; reason: string; json: boolean; connection: ConnectionFlags }
  | { kind: 'strategy-approve'; id: string; json: boolean; connection: ConnectionFlags }
  | { kind: 'strategy-reject'; id: string; reason: string | null; json: boolean; connection: ConnectionFlags }
  | { kind: 'strategy-list'; merchant: string | null; status: SettleChangeStatus | null; limit: number | null; json: boolean; connection: ConnectionFlags };

const text = { type: 'string' } as const;
const flag = { type: 'boolean' } as const;
const baseFlags = { ...clientFlags, json: flag, help: { type: 'boolean', short: 'h' } } as const;

/** Parses the arguments after `tally settle`; throws a UsageError carrying the help of the subcommand at fault. */
export function parseSettleArgs(argv: readonly string[]): SettleCommandLine {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') return { kind: 'help', usage: settleUsage };
  if (sub === 'preview') return parsePreview(rest);
  if (sub === 'run') return parseRun(rest);
  if (sub === 'report') return parseReport(rest);
  if (sub === 'strategy') return parseStrategy(rest);
  throw new UsageError(sub === undefined ? 'tally settle takes a subcommand: preview, run, report or strategy' : `unknown subcommand ${JSON.stringify(sub)} (known: preview, run, report, strategy)`, settleUsage);
}

function parsePreview(argv: readonly string[]): SettleCommandLine {
  const { values } = parse(argv, { ...baseFlags, date: text, after: text, limit: text, explain: flag }, settlePreviewUsage, 0);
  if (values.help === true) return { kind: 'help', usage: settlePreviewUsage };
  const limit = values.limit === undefined ? null : integerOption('--limit', values.limit, 1, settleMerchantsPageMax, (message) => new UsageError(message, settlePreviewUsage));
  const after = nameFlag('--after', values.after, false, settlePreviewUsage);
  return { kind: 'preview', date: dateFlag(values.date, settlePreviewUsage), after, limit, explain: values.explain === true, json: values.json === true, connection: connectionOf(values) };
}

function parseRun(argv: readonly string[]): SettleCommandLine {
  const { values } = parse(argv, { ...baseFlags, date: text }, settleRunUsage, 0);
  if (values.help === true) return { kind: 'help', usage: settleRunUsage };
  return { kind: 'run', date: dateFlag(values.date, settleRunUsage), json: values.json === true, connection: connectionOf(values) };
}

function parseReport(argv: readonly string[]): SettleCommandLine {
  const { values } = parse(argv, { ...baseFlags, merchant: text, date: text, csv: text }, settleReportUsage, 0);
  if (values.help === true) return { kind: 'help', usage: settleReportUsage };
  const merchant = nameFlag('--merchant', values.merchant, true, settleReportUsage)!;
  const date = dateFlag(values.date, settleReportUsage);
  if (values.csv !== undefined && values.csv.trim() === '') throw new UsageError('--csv names the file to write', settleReportUsage);
  if (values.csv !== undefined && values.json === true) throw new UsageError('--csv and --json: choose one', settleReportUsage);
  return { kind: 'report', merchant, date, csv: values.csv ?? null, json: values.json === true, connection: connectionOf(values) };
}

function parseStrategy(argv: readonly string[]): SettleCommandLine {
  const [action, ...rest] = argv;
  const usage = settleStrategyUsage;
  if (action === '--help' || action === '-h' || action === 'help') return { kind: 'help', usage };
  const options = { ...baseFlags, kind: text, merchant: text, product: text, 'effective-from': text, file: text, reason: text, status: text, limit: text } as const;
  if (action !== 'submit' && action !== 'approve' && action !== 'reject' && action !== 'list') {
    throw new UsageError(action === undefined ? 'tally settle strategy takes an action: submit, approve, reject or list' : `unknown action ${JSON.stringify(action)} (known: submit, approve, reject, list)`, usage);
  }
  const { values, positionals } = parse(rest, options, usage, action === 'approve' || action === 'reject' ? 1 : 0);
  if (values.help === true) return { kind: 'help', usage };
  const allowed: Record<typeof action, readonly string[]> = {
    submit: ['kind', 'merchant', 'product', 'effective-from', 'file', 'reason'],
    approve: [],
    reject: ['reason'],
    list: ['merchant', 'status', 'limit'],
  };
  const stray = ['kind', 'merchant', 'product', 'effective-from', 'file', 'reason', 'status', 'limit'].find((name) => values[name as keyof typeof values] !== undefined && !allowed[action].includes(name));
  if (stray !== undefined) throw new UsageError(`strategy ${action} takes no --${stray}`, usage);
  const common = { json: values.json === true, connection: connectionOf(values) };
  if (action === 'approve') return { kind: 'strategy-approve', id: changeIdArg(positionals[0]!), ...common };
  if (action === 'reject') return { kind: 'strategy-reject', id: changeIdArg(positionals[0]!), reason: reasonFlag(values.reason, false), ...common };
  if (action === 'list') {
    const status = values.status;
    if (status !== undefined && !settleChangeStatuses.includes(status as SettleChangeStatus)) throw new UsageError(`--status is ${settleChangeStatuses.join(', ')}, got ${JSON.stringify(status)}`, usage);
    const limit = values.limit === undefined ? null : integerOption('--limit', values.limit, 1, settleChangesPageMax, (message) => new UsageError(message, usage));
    return { kind: 'strategy-list', merchant: nameFlag('--merchant', values.merchant, false, usage), status: (status as SettleChangeStatus | undefined) ?? null, limit, ...common };
  }
  const merchant = nameFlag('--merchant', values.merchant, true, usage)!;
  const product = nameFlag('--product', values.product, false, usage);
  const effectiveFrom = instantFlag(values['effective-from']);
  if (values.file === undefined || values.file.trim() === '') throw new UsageError('strategy submit: --file STRATEGY.json is required (the strategy document)', usage);
  const strategyKind = values.kind ?? 'fee';
  if (!settleStrategyKinds.includes(strategyKind as SettleStrategyKind)) throw new UsageError(`--kind must be one of ${settleStrategyKinds.join(', ')}, got ${JSON.stringify(strategyKind)}`, usage);
  return { kind: 'strategy-submit', strategyKind: strategyKind as SettleStrategyKind, merchant, product, effectiveFrom, file: values.file, reason: reasonFlag(values.reason, true)!, ...common };
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** node:util parseArgs, strict, with exactly `positionalsWanted` positionals; its complaints become usage errors. */
function parse<const O extends NonNullable<Options>>(argv: readonly string[], options: O, usage: string, positionalsWanted: number) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], strict: true, allowPositionals: true, options });
  } catch (error) {
    throw new UsageError((error as Error).message, usage);
  }
  const help = (parsed.values as { help?: boolean }).help === true;
  if (!help && parsed.positionals.length !== positionalsWanted) {
    throw new UsageError(positionalsWanted === 0 ? `unexpected argument ${JSON.stringify(parsed.positionals[0])}` : `name one strategy change id (ssc_…), got ${parsed.positionals.length} arguments`, usage);
  }
  return parsed;
}

function connectionOf(values: ConnectionFlags): ConnectionFlags {
  return { ...(values.url === undefined ? {} : { url: values.url }), ...(values.key === undefined ? {} : { key: values.key }), ...(values.ca === undefined ? {} : { ca: values.ca }) };
}

/** --date as the wire takes it ('YYYY-MM-DD') and a real calendar date. */
function dateFlag(value: string | undefined, usage: string): string {
  if (value === undefined) throw new UsageError('--date YYYY-MM-DD is required (the run date)', usage);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new UsageError(`--date must be written YYYY-MM-DD, got ${JSON.stringify(value)}`, usage);
  try {
    parseBusinessDay(value);
  } catch (error) {
    throw new UsageError(`--date must be a real date: ${(error as Error).message}`, usage);
  }
  return value;
}

function nameFlag(name: string, value: string | undefined, required: boolean, usage: string): string | null {
  if (value === undefined) {
    if (required) throw new UsageError(`${name} is required`, usage);
    return null;
  }
  if (!settleNamePattern.test(value)) throw new UsageError(`${name} must be 1 to 64 of A-Z a-z 0-9 . _ : -, got ${JSON.stringify(value)}`, usage);
  return value;
}

function changeIdArg(id: string): string {
  if (!settleChangeIdPattern.test(id)) throw new UsageError(`a strategy change id is ssc_ and 20 hex digits, got ${JSON.stringify(id)}`, settleStrategyUsage);
  return id;
}

function instantFlag(value: string | undefined): string {
  if (value === undefined) throw new UsageError('strategy submit: --effective-from INSTANT is required (UTC, YYYY-MM-DDTHH:MM:SSZ)', settleStrategyUsage);
  try {
    parseInstantNs(value, '--effective-from');
  } catch (error) {
    throw new UsageError((error as Error).message, settleStrategyUsage);
  }
  return value;
}

function reasonFlag(value: string | undefined, required: boolean): string | null {
  if (value === undefined) {
    if (required) throw new UsageError('strategy submit: --reason TEXT is required (it goes into the change and the audit log)', settleStrategyUsage);
    return null;
  }
  if (value.trim() === '') throw new UsageError('--reason must say why (not blank)', settleStrategyUsage);
  if ([...value].length > settleReasonCharsMax) throw new UsageError(`--reason is at most ${settleReasonCharsMax} characters`, settleStrategyUsage);
  return value;
}
