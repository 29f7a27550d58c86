// `tally close-day`: the operator's day cut (日切) on a running server. Prints the day report's summary
// (and every failure) and exits 1 when a check failed, so a scheduler or an on-call runbook notices.

import { connect } from '../client/client.js';
import { parseBusinessDay } from '../core/business-day.js';
import { formatDayReport } from '../core/books/day-report.js';
import { clientConnectOptions, clientFlags, clientFlagsUsage } from './client-options.js';
import { parseFlags } from './option-values.js';
import { UsageError } from './serve-options.js';

export const closeDayUsage = `usage: tally close-day [--url ws://HOST:PORT] [--key KEY] [--ca FILE] [--day YYYYMMDD] [--json]

${clientFlagsUsage}
  --day D       the business day to begin (default: the day after the current one);
                a day already begun answers its stored report
  --json        print the whole report as JSON
  -h, --help    print this help

exit status: 0 every check passed, 1 a check failed (the report names the accounts), 2 usage error`;

/** Resolves with the exit status. */
export async function closeDayCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parse(argv);
  if (values.help) {
    console.log(closeDayUsage);
    return 0;
  }
  const day = values.day === undefined ? 0 : dayOption(values.day);
  // A key needs the admin scope to cut the day.
  const client = await connect(clientConnectOptions(values, env, 120_000, (message) => new UsageError(message, closeDayUsage)));
  try {
    const report = await client.closeDay(day);
    console.log(values.json ? JSON.stringify(report, null, 2) : formatDayReport(report));
    return report.passed ? 0 : 1;
  } finally {
    await client.close();
  }
}

/** --day as a real date (YYYYMMDD or YYYY-MM-DD), so that a typo is a usage error rather than a server's refusal. */
function dayOption(text: string): number {
  try {
    return parseBusinessDay(text);
  } catch (error) {
    throw new UsageError(`--day must be a real date as YYYYMMDD: ${(error as Error).message}`, closeDayUsage);
  }
}

function parse(argv: readonly string[]) {
  const options = { ...clientFlags, day: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
  return parseFlags(argv, options, (message) => new UsageError(message, closeDayUsage));
}
