// `tally close-day`: the operator's day cut (日切) on a running server. Prints the day report's summary
// (and every failure) and exits 1 when a check failed, so a scheduler or an on-call runbook notices.

import { connect } from '../client/client.js';
import { formatDayReport } from '../core/day-report.js';
import { parseFlags } from './option-values.js';
import { UsageError } from './serve-options.js';

export const closeDayUsage = `usage: tally close-day [--url ws://HOST:PORT] [--day YYYYMMDD] [--json]

  --url URL     the server                       (env TALLY_URL, default ws://127.0.0.1:3000)
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
  const url = values.url ?? env.TALLY_URL ?? 'ws://127.0.0.1:3000';
  const day = values.day === undefined ? 0 : Number(values.day);
  if (values.day !== undefined && (!Number.isInteger(day) || day < 19000101 || day > 99991231)) {
    throw new UsageError(`--day must be a day as YYYYMMDD, got ${values.day}`, closeDayUsage);
  }
  const client = await connect({ url, timeoutMs: 120_000 });
  try {
    const report = await client.closeDay(day);
    console.log(values.json ? JSON.stringify(report, null, 2) : formatDayReport(report));
    return report.passed ? 0 : 1;
  } finally {
    await client.close();
  }
}

function parse(argv: readonly string[]) {
  const options = { url: { type: 'string' }, day: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
  return parseFlags(argv, options, (message) => new UsageError(message, closeDayUsage));
}
