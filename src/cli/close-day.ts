// `tally close-day`: the operator's day cut (日切) on a running server. Prints the day report's summary
// (and every failure) and exits 1 when a check failed, so a scheduler or an on-call runbook notices.

import { connect } from '../client/client.js';
import { formatDayReport } from '../core/day-report.js';
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
  const day = values.day === undefined ? 0 : Number(values.day);
  if (values.day !== undefined && (!Number.isInteger(day) || day < 19000101 || day > 99991231)) {
    throw new UsageError(`--day must be a day as YYYYMMDD, got ${values.day}`, closeDayUsage);
  }
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

function parse(argv: readonly string[]) {
  const options = { ...clientFlags, day: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
  return parseFlags(argv, options, (message) => new UsageError(message, closeDayUsage));
}
